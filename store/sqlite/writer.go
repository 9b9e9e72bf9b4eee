package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/internal/query"
)

// maxBatch is the most changes one transaction commits: a bound on the
// time a batch holds the writer, and on what one failed commit fails.
const maxBatch = 64

// errClosed is the answer to a Save on a closed journal.
var errClosed = errors.New("sqlite: save: the journal is closed")

// committer is the journal's group commit. Every Save queues its change;
// one goroutine takes all the changes queued (up to maxBatch), writes
// each in the one transaction under a savepoint of its own — a change
// that fails is rolled back to it and gets its own error, the others
// stay — commits once, so once a sync of the WAL, and only then answers
// each caller: a change is answered nil only once it is durable, and a
// commit that fails fails every change in it. While a batch commits the
// next one queues, so the more tills write at once, the more changes
// share a commit; a lone change waits for nobody.
//
// The committer writes through the journal's writer pool like every
// other write (terminals, deliveries, answers, purges): the pool's one
// connection is the lock they all take, a transaction at a time.
type committer struct {
	db    *sql.DB
	stmts *statements

	mu     sync.Mutex
	queue  []*request // waiting to be taken, in the order they came
	closed bool

	wake chan struct{} // a change was queued (buffered: a wake is never lost)
	quit chan struct{} // closed by close: drain the queue and end
	done chan struct{} // closed when the goroutine has ended
	once sync.Once

	// taking is held from taking a batch until it is answered; tests
	// hold it to let a queue build.
	taking sync.Mutex
	// commits counts the transactions committed, for tests.
	commits atomic.Int64
	// queued, if set (by tests), is told the queue's length after each
	// change is queued.
	queued func(n int)
	// beforeCommit, if set (by tests), runs in each batch's transaction
	// before its commit.
	beforeCommit func(context.Context, *sql.Tx) error
}

// request is one write waiting to be committed: a Save's change, or a
// till's answer kept (SaveAnswer), which shares the commit of the changes
// it comes with rather than paying an fsync of its own.
type request struct {
	ctx   context.Context
	write func(context.Context, *txWriter) error
	taken bool       // by the committer: it is written or not as a whole (guarded by committer.mu)
	done  chan error // its answer, once
}

func newCommitter(db *sql.DB, stmts *statements) *committer {
	w := &committer{db: db, stmts: stmts, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// save queues c and waits for its answer. A change not yet taken when
// ctx ends is dropped (ctx.Err(), nothing written); one taken is answered
// as its batch is, whatever ctx does meanwhile.
func (w *committer) save(ctx context.Context, c *pos.Change) error {
	return w.submit(ctx, func(ctx context.Context, txw *txWriter) error { return query.Save(ctx, txw, c) })
}

// submit queues write and waits for its answer, as save does.
func (w *committer) submit(ctx context.Context, write func(context.Context, *txWriter) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, write: write, done: make(chan error, 1)}
	n, err := w.enqueue(r)
	if err != nil {
		return err
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	if w.queued != nil {
		w.queued(n)
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if w.drop(r) {
			return ctx.Err()
		}
		return <-r.done
	}
}

func (w *committer) enqueue(r *request) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, errClosed
	}
	w.queue = append(w.queue, r)
	return len(w.queue), nil
}

// drop takes r out of the queue if the committer has not taken it.
func (w *committer) drop(r *request) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.taken {
		return false
	}
	w.queue = slices.DeleteFunc(w.queue, func(q *request) bool { return q == r })
	return true
}

// take removes up to maxBatch changes from the head of the queue.
func (w *committer) take(batch []*request) []*request {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(len(w.queue), maxBatch)
	batch = append(batch[:0], w.queue[:n]...)
	for _, r := range batch {
		r.taken = true
	}
	rest := copy(w.queue, w.queue[n:])
	clear(w.queue[rest:])
	w.queue = w.queue[:rest]
	return batch
}

// run commits batches until close, then what was queued before it.
func (w *committer) run() {
	defer close(w.done)
	var batch []*request
	for {
		select {
		case <-w.wake:
		case <-w.quit:
			for w.commitNext(&batch) {
			}
			return
		}
		for w.commitNext(&batch) {
		}
	}
}

// commitNext takes a batch and commits it; false when the queue was
// empty.
func (w *committer) commitNext(batch *[]*request) bool {
	w.taking.Lock()
	defer w.taking.Unlock()
	*batch = w.take(*batch)
	if len(*batch) == 0 {
		return false
	}
	errs := w.commit(*batch)
	for i, r := range *batch {
		r.done <- errs[i]
	}
	clear(*batch) // the changes are the callers' again
	return true
}

// commit writes batch in one transaction and returns each change's
// error.
func (w *committer) commit(batch []*request) []error {
	errs := make([]error, len(batch))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	// a taken change is written whatever its caller's context does: an
	// interrupt of one statement would roll back the whole transaction
	ctx := context.Background()
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(fmt.Errorf("sqlite: save: begin: %w", err))
	}
	defer tx.Rollback()
	txw := newTxWriter(tx, w.stmts)
	if len(batch) == 1 { // alone: its transaction is its savepoint
		if err := batch[0].write(context.WithoutCancel(batch[0].ctx), txw); err != nil {
			return fail(err)
		}
	} else {
		for i, r := range batch {
			err := w.saveIn(txw, r)
			if errors.Is(err, errBatchLost) {
				return fail(err)
			}
			errs[i] = err
		}
	}
	if w.beforeCommit != nil {
		if err := w.beforeCommit(ctx, tx); err != nil {
			return fail(err)
		}
	}
	// a COMMIT that fails and leaves its transaction open (a deferred
	// constraint, SQLITE_BUSY) is rolled back by the driver: the writer
	// is not left inside it
	if err := tx.Commit(); err != nil {
		return fail(fmt.Errorf("sqlite: save: commit: %w", err))
	}
	w.commits.Add(1)
	return errs
}

// errBatchLost is a savepoint that could not be rolled back to or
// released: the transaction is in no known state, and is given up.
var errBatchLost = errors.New("sqlite: save: batch lost")

// saveIn writes r's change under a savepoint: on an error it is rolled
// back to it, and the batch goes on without it.
func (w *committer) saveIn(txw *txWriter, r *request) error {
	ctx := context.WithoutCancel(r.ctx)
	if _, err := txw.stmt(ctx, w.stmts.savepoint).ExecContext(ctx); err != nil {
		return fmt.Errorf("%w: savepoint: %w", errBatchLost, err)
	}
	saveErr := r.write(ctx, txw)
	if saveErr != nil {
		if _, err := txw.stmt(ctx, w.stmts.rollbackTo).ExecContext(ctx); err != nil {
			// SQLite rolled the whole transaction back (an I/O error, a
			// full disk): no change of the batch is written
			return fmt.Errorf("%w: rollback to savepoint: %w (after %w)", errBatchLost, err, saveErr)
		}
	}
	if _, err := txw.stmt(ctx, w.stmts.release).ExecContext(ctx); err != nil {
		return fmt.Errorf("%w: release savepoint: %w", errBatchLost, err)
	}
	return saveErr
}

// close ends the goroutine once what was queued is answered; a Save
// after it fails.
func (w *committer) close() {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.quit)
	})
	<-w.done
}
