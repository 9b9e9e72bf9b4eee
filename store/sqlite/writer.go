package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/internal/group"
	"github.com/centrapos/centrapos/store/internal/query"
)

// maxBatch is the most changes one transaction commits: a bound on the
// time a batch holds the writer, and on what one failed commit fails.
const maxBatch = 64

// committer is the journal's group commit (store/internal/group). Every
// Save queues its change; one committer takes all the changes queued (up
// to maxBatch), writes each in the one transaction under a savepoint of
// its own — a change that fails is rolled back to it and gets its own
// error, the others stay — commits once, so once a sync of the WAL, and
// only then answers each caller: a change is answered nil only once it is
// durable, and a commit that fails fails every change in it.
//
// The committer writes through the journal's writer pool like every
// other write (terminals, deliveries, purges): the pool's one connection
// is the lock they all take, a transaction at a time.
type committer struct {
	db    *sql.DB
	stmts *statements
	q     *group.Queue[write]

	// commits counts the transactions committed, for tests.
	commits atomic.Int64
	// beforeCommit, if set (by tests), runs in each batch's transaction
	// before its commit.
	beforeCommit func(context.Context, *sql.Tx) error
}

// write is one item of the group commit: a Save's change, or a till's
// answer kept (SaveAnswer), which shares the commit of the changes it
// comes with rather than paying an fsync of its own.
type write func(context.Context, *txWriter) error

func newCommitter(db *sql.DB, stmts *statements) *committer {
	w := &committer{db: db, stmts: stmts}
	w.q = group.New(1, maxBatch, w.commit)
	return w
}

// save queues c and waits for its answer (group.Queue.Submit).
func (w *committer) save(ctx context.Context, c *pos.Change) error {
	return w.submit(ctx, func(ctx context.Context, txw *txWriter) error { return query.Save(ctx, txw, c) })
}

// submit queues fn and waits for its answer.
func (w *committer) submit(ctx context.Context, fn write) error {
	err := w.q.Submit(ctx, fn)
	if errors.Is(err, group.ErrClosed) {
		return fmt.Errorf("sqlite: save: %w", err)
	}
	return err
}

// close ends the committer once what was queued is answered.
func (w *committer) close() { w.q.Close() }

// commit writes batch in one transaction and returns each change's
// error.
func (w *committer) commit(batch []*group.Request[write]) []error {
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
		if err := batch[0].Item(context.WithoutCancel(batch[0].Ctx), txw); err != nil {
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
func (w *committer) saveIn(txw *txWriter, r *group.Request[write]) error {
	ctx := context.WithoutCancel(r.Ctx)
	if _, err := txw.stmt(ctx, w.stmts.savepoint).ExecContext(ctx); err != nil {
		return fmt.Errorf("%w: savepoint: %w", errBatchLost, err)
	}
	saveErr := r.Item(ctx, txw)
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
