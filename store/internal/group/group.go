// Package group is the group commit both journals use: writers queue
// their items and wait; committers take what is queued, a batch at a
// time, write it in one transaction (the journal's commit function, which
// gives each item its own answer) and only then answer each writer. While
// a batch commits the next one queues, so the more tills write at once,
// the more items share a commit; a lone item waits for nobody.
package group

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// ErrClosed answers an item submitted to a closed queue.
var ErrClosed = errors.New("the journal is closed")

// Request is one item waiting to be committed.
type Request[T any] struct {
	Ctx   context.Context // the writer's; a commit must not be cut off by it
	Item  T
	taken bool       // by a committer: it is written or not as a whole (guarded by Queue.mu)
	done  chan error // its answer, once
}

// Queue is a group commit of items of type T.
type Queue[T any] struct {
	max    int
	commit func(batch []*Request[T]) []error

	mu     sync.Mutex
	queue  []*Request[T] // waiting to be taken, in the order they came
	closed bool

	wake chan struct{} // an item was queued (buffered: a wake is never lost)
	quit chan struct{} // closed by Close: drain the queue and end
	done sync.WaitGroup
	once sync.Once

	// taking is held (read) by a committer from taking a batch until it
	// is answered; Pause holds it to let a queue build
	taking sync.RWMutex

	// Queued, if set (by tests, before any Submit), is told the queue's
	// length after each item is queued.
	Queued func(n int)
}

// New starts workers committers, each taking up to max items at a time
// and writing them with commit, which returns one error per item (nil:
// written, and durable once commit returns).
func New[T any](workers, max int, commit func(batch []*Request[T]) []error) *Queue[T] {
	q := &Queue[T]{max: max, commit: commit, wake: make(chan struct{}, 1), quit: make(chan struct{})}
	for range workers {
		q.done.Go(q.run)
	}
	return q
}

// Submit queues item and waits for its answer. An item not yet taken when
// ctx ends is dropped (ctx.Err(), nothing written); one taken is answered
// as its batch is, whatever ctx does meanwhile.
func (q *Queue[T]) Submit(ctx context.Context, item T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &Request[T]{Ctx: ctx, Item: item, done: make(chan error, 1)}
	n, err := q.enqueue(r)
	if err != nil {
		return err
	}
	q.signal()
	if q.Queued != nil {
		q.Queued(n)
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if q.drop(r) {
			return ctx.Err()
		}
		return <-r.done
	}
}

// signal wakes a committer, unless one is woken already.
func (q *Queue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *Queue[T]) enqueue(r *Request[T]) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, ErrClosed
	}
	q.queue = append(q.queue, r)
	return len(q.queue), nil
}

// drop takes r out of the queue if no committer has taken it.
func (q *Queue[T]) drop(r *Request[T]) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if r.taken {
		return false
	}
	q.queue = slices.DeleteFunc(q.queue, func(x *Request[T]) bool { return x == r })
	return true
}

// take removes up to max items from the head of the queue; more left
// wakes another committer for them.
func (q *Queue[T]) take(batch []*Request[T]) []*Request[T] {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(q.queue), q.max)
	batch = append(batch[:0], q.queue[:n]...)
	for _, r := range batch {
		r.taken = true
	}
	rest := copy(q.queue, q.queue[n:])
	clear(q.queue[rest:])
	q.queue = q.queue[:rest]
	if rest > 0 {
		q.signal()
	}
	return batch
}

// run commits batches until Close, then what was queued before it.
func (q *Queue[T]) run() {
	var batch []*Request[T]
	for {
		select {
		case <-q.wake:
		case <-q.quit:
			for q.commitNext(&batch) {
			}
			return
		}
		for q.commitNext(&batch) {
		}
	}
}

// commitNext takes a batch and commits it; false when the queue was
// empty.
func (q *Queue[T]) commitNext(batch *[]*Request[T]) bool {
	q.taking.RLock()
	defer q.taking.RUnlock()
	*batch = q.take(*batch)
	if len(*batch) == 0 {
		return false
	}
	errs := q.commit(*batch)
	for i, r := range *batch {
		r.done <- errs[i]
	}
	clear(*batch) // the items are the writers' again
	return true
}

// Pause stops the committers taking items until resume: Submits queue
// meanwhile. For tests.
func (q *Queue[T]) Pause() (resume func()) {
	q.taking.Lock()
	return q.taking.Unlock
}

// Close ends the committers once what was queued is answered; a Submit
// after it gets ErrClosed.
func (q *Queue[T]) Close() {
	q.once.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		close(q.quit)
	})
	q.done.Wait()
}
