package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/internal/group"
	"github.com/centrapos/centrapos/store/internal/query"
)

// maxBatch is the most changes one transaction commits: a bound on how
// long a batch holds its rows locked, and on what one failure makes
// write again.
const maxBatch = 32

// committers is how many batches are written at once, each in a
// transaction on a connection of its own: while one waits for a round
// trip or for its COMMIT to be flushed, the other runs on the server.
// More only split the queue into smaller batches (on a 2-CPU machine, 1
// to 8 committers wrote alike; 2 keeps a batch that waits for a lock
// from holding up every other).
const committers = 2

// committer is the journal's group commit (store/internal/group). Every
// Save queues its change; a committer goroutine takes all the changes queued (up to maxBatch),
// writes them one after the other, each as query.Save does, in one
// transaction (pipelined: see pipeTx), commits once, and only then
// answers each caller: a change is answered nil only once it is durable.
// While a batch is written the next ones queue, so the more tills write
// at once, the more changes share a commit; a lone change waits for
// nobody.
//
// A change that fails fails its whole transaction (there are no
// savepoints: a subtransaction per change would cost more than it
// saves): the batch is rolled back and each of its changes written
// again, alone and in order, so that each is answered as if it had come
// alone, its error its own. Failures are the exception (a key used
// twice, a sale started twice), so they pay for that, not every batch.
// A batch that may have been committed (its connection failed once its
// COMMIT was sent) is not written again: every change in it is answered
// the error, as a lone Save would be.
type committer struct {
	pool    *pgxpool.Pool
	q       *group.Queue[*pos.Change]
	channel string // of the news of sales (see salesChannel)

	// commits counts the transactions committed, for tests
	commits atomic.Int64
	// sent, if set (by tests, before any Save), is told the number of
	// statements of each batch sent to the server
	sent func(statements int)
}

func newCommitter(pool *pgxpool.Pool, channel string) *committer {
	w := &committer{pool: pool, channel: channel}
	w.q = group.New(committers, maxBatch, w.commit)
	return w
}

// save queues c and waits for its answer (group.Queue.Submit).
func (w *committer) save(ctx context.Context, c *pos.Change) error {
	err := w.q.Submit(ctx, c)
	if errors.Is(err, group.ErrClosed) {
		return fmt.Errorf("postgres: save: %w", err)
	}
	return err
}

// close ends the committers once what was queued is answered.
func (w *committer) close() { w.q.Close() }

// commit writes batch in one transaction and returns each change's
// error. A taken change is written whatever its caller's context does:
// its statements run without its cancellation.
func (w *committer) commit(batch []*group.Request[*pos.Change]) []error {
	errs := make([]error, len(batch))
	ctx := context.Background()
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		err = fmt.Errorf("postgres: save: %w", err)
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	// a connection released inside a transaction is closed, not reused
	defer conn.Release()
	uncommitted, err := w.write(conn.Conn(), batch)
	switch {
	case err == nil:
	case uncommitted && len(batch) > 1:
		for i := range batch {
			_, errs[i] = w.write(conn.Conn(), batch[i:i+1])
		}
	default:
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

// write writes batch's changes in one transaction on conn and commits
// it. On an error, uncommitted reports that the transaction is known not
// to be committed (see pipeTx.uncommitted).
func (w *committer) write(conn *pgx.Conn, batch []*group.Request[*pos.Change]) (uncommitted bool, err error) {
	var ahead []string
	for _, r := range batch {
		if r.Item.Sale != nil && !slices.Contains(ahead, r.Item.Sale.ID) {
			ahead = append(ahead, r.Item.Sale.ID)
		}
	}
	tx := newPipeTx(conn, ahead, w.sent)
	tx.channel = w.channel
	for _, r := range batch {
		if err = query.Save(context.WithoutCancel(r.Ctx), tx, r.Item); err != nil {
			break
		}
	}
	if err == nil {
		err = tx.commit(context.Background())
	}
	if err != nil {
		tx.rollback(context.Background())
		return tx.uncommitted(), err
	}
	w.commits.Add(1)
	return false, nil
}
