package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/internal/bench"
	"github.com/centrapos/centrapos/store/postgres"
)

var at = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// started is a sale started with its create intent and its till's key,
// as the engine journals it.
func started(id string) *pos.Change {
	s := &pos.Sale{ID: id, TerminalID: "till-1", ExternalRef: "ref-" + id, Value: 1000, Currency: "NZD",
		Status: pos.StatusPending, CreatedAt: at, UpdatedAt: at}
	op := &pos.Op{ID: "op-" + id, SaleID: id, Kind: pos.OpCreate, Key: s.ExternalRef, Amount: s.Value,
		State: pos.OpPending, TerminalID: s.TerminalID, CreatedAt: at}
	key := &pos.KeyedRequest{TerminalID: "till-1", Key: "key-" + id, RequestHash: "h", SaleID: id, CreatedAt: at}
	return &pos.Change{Sale: s, NewSale: true, Note: "sale started", Ops: []*pos.Op{op}, Key: key}
}

// batches counts the batches (round trips) the journal's Saves send.
type batches struct {
	mu sync.Mutex
	n  int
}

func countBatches(j *postgres.Journal) *batches {
	b := &batches{}
	postgres.OnBatch(j, func(int) { b.mu.Lock(); b.n++; b.mu.Unlock() })
	return b
}

// take returns the count since the last take.
func (b *batches) take() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.n
	b.n = 0
	return n
}

// queueSaves starts a Save of each change in turn, each queued before
// the next starts (so that a batch holds them in this order), and
// returns their answers, in order, once all are in.
func queueSaves(t *testing.T, j *postgres.Journal, queued <-chan int, changes ...*pos.Change) func() []error {
	t.Helper()
	answers := make([]chan error, len(changes))
	for i, c := range changes {
		answers[i] = make(chan error, 1)
		go func() { answers[i] <- j.Save(context.Background(), c) }()
		<-queued
	}
	return func() []error {
		errs := make([]error, len(answers))
		for i, a := range answers {
			errs[i] = <-a
		}
		return errs
	}
}

// queuedJournal is a journal whose Saves tell the returned channel the
// queue's length.
func queuedJournal(t *testing.T) (*postgres.Journal, chan int) {
	j := open(t)
	queued := make(chan int, 1000)
	postgres.OnQueued(j, func(n int) { queued <- n })
	return j, queued
}

// TestSaveRoundTrips counts the round trips of a lone Save of each step
// of a sale: started (the key, the sale, its history, its op: no read)
// in one, from BEGIN to COMMIT; the request created and the sale paid
// (its status read, with the subscribers, then the writes, the event and
// its delivery, and the COMMIT) in two.
func TestSaveRoundTrips(t *testing.T) {
	j := open(t)
	ctx := context.Background()
	ep := pos.Endpoint{ID: "ep1", URL: "https://merchant.example/hook", Secret: "s", Enabled: true, CreatedAt: at}
	if err := j.AddEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	b := countBatches(j)
	w := bench.NewWorkload("rt")
	var saleID string
	for i, want := range []int{1, 2, 2} {
		c := w.Next()
		saleID = c.Sale.ID
		if err := j.Save(ctx, c); err != nil {
			t.Fatal(err)
		}
		if got := b.take(); got != want {
			t.Errorf("step %d (%s): %d round trips, want %d", i, c.Note, got, want)
		}
	}
	events, err := j.Events(ctx, pos.EventFilter{Stream: saleID})
	if err != nil || len(events) != 1 || events[0].Type != pos.EventSalePaid || events[0].Sequence != 1 {
		t.Fatalf("events %+v %v", events, err)
	}
	d, err := j.Deliveries(ctx, pos.DeliveryFilter{EventID: events[0].ID})
	if err != nil || len(d) != 1 || d[0].EndpointID != "ep1" || d[0].State != pos.DeliveryPending || d[0].Sequence != 1 {
		t.Errorf("deliveries %+v %v", d, err)
	}
}

// TestGroupCommit queues n Saves while the committers are held: they are
// committed in ceil(n/MaxBatch) transactions, each in one round trip
// when its changes read nothing (sales started), in two when they read
// their sales (the sales of the whole batch read at once).
func TestGroupCommit(t *testing.T) {
	for _, n := range []int{1, 2, 16, postgres.MaxBatch, postgres.MaxBatch + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			j, queued := queuedJournal(t)
			ctx := context.Background()
			b := countBatches(j)
			transactions := (n + postgres.MaxBatch - 1) / postgres.MaxBatch
			changes := make([]*pos.Change, n)
			for i := range changes {
				changes[i] = started(fmt.Sprintf("s%d", i))
			}
			for step, trips := range []int{1, 2} {
				before := postgres.Commits(j)
				resume := postgres.PauseSaves(j)
				answers := queueSaves(t, j, queued, changes...)
				resume()
				for i, err := range answers() {
					if err != nil {
						t.Fatalf("step %d, change %d: %v", step, i, err)
					}
				}
				if got := postgres.Commits(j) - before; got != int64(transactions) {
					t.Errorf("step %d: %d transactions, want %d", step, got, transactions)
				}
				if got := b.take(); got != trips*transactions {
					t.Errorf("step %d: %d round trips, want %d", step, got, trips*transactions)
				}
				for i, c := range changes { // the next step: paid
					s := *c.Sale
					s.Status, s.Version, s.UpdatedAt = pos.StatusPaid, s.Version+1, at.Add(time.Second)
					changes[i] = &pos.Change{Sale: &s, Note: "paid"}
				}
			}
			for i := range n {
				s, err := j.Sale(ctx, fmt.Sprintf("s%d", i))
				if err != nil || s.Status != pos.StatusPaid {
					t.Fatalf("sale %d: %+v %v", i, s, err)
				}
				if ev, _ := j.Events(ctx, pos.EventFilter{Stream: s.ID}); len(ev) != 1 {
					t.Errorf("sale %d: events %+v", i, ev)
				}
			}
		})
	}
}

// TestGroupFailure queues, in one batch, changes that fail for each cause
// among changes that do not: each is answered its own error, as if it
// had come alone, and what fails writes nothing — not its key, its sale
// or its op — while the others are written.
func TestGroupFailure(t *testing.T) {
	j, queued := queuedJournal(t)
	ctx := context.Background()
	for _, c := range []*pos.Change{started("used"), started("dup")} {
		if err := j.Save(ctx, c); err != nil {
			t.Fatal(err)
		}
		<-queued
	}
	keyUsed := started("b")
	keyUsed.Key.Key = "key-used"
	dup := started("dup")
	dup.Key.Key = "key-dup-2"
	openRef := started("e")
	openRef.Sale.ExternalRef = "ref-a" // a's, started earlier in the batch
	ghost := started("ghost")
	ghost.NewSale = false // an update of a sale not there
	resume := postgres.PauseSaves(j)
	answers := queueSaves(t, j, queued, started("a"), keyUsed, dup, started("d"), openRef, ghost, started("f"))
	resume()
	want := []error{nil, pos.ErrKeyUsed, pos.ErrDuplicate, nil, pos.ErrOpenExternalRef, pos.ErrNotFound, nil}
	for i, err := range answers() {
		if !errors.Is(err, want[i]) || (err == nil) != (want[i] == nil) {
			t.Errorf("change %d: %v, want %v", i, err, want[i])
		}
	}
	for _, id := range []string{"a", "d", "f"} {
		if _, err := j.Sale(ctx, id); err != nil {
			t.Errorf("sale %s: %v", id, err)
		}
		if _, err := j.Keyed(ctx, "till-1", "key-"+id); err != nil {
			t.Errorf("key of %s: %v", id, err)
		}
	}
	for _, id := range []string{"b", "e", "ghost"} {
		if s, err := j.Sale(ctx, id); !errors.Is(err, pos.ErrNotFound) {
			t.Errorf("sale %s written: %+v %v", id, s, err)
		}
		if op, err := j.Op(ctx, "op-"+id); !errors.Is(err, pos.ErrNotFound) {
			t.Errorf("op of %s written: %+v %v", id, op, err)
		}
	}
	for _, key := range []string{"key-dup-2", "key-e", "key-ghost"} {
		if k, err := j.Keyed(ctx, "till-1", key); !errors.Is(err, pos.ErrNotFound) {
			t.Errorf("key %s recorded: %+v %v", key, k, err)
		}
	}
	if h, _ := j.History(ctx, "dup"); len(h) != 1 {
		t.Errorf("history of dup: %+v", h)
	}

	// a batch that reads nothing fails in its one round trip, with its
	// COMMIT: the server refused a statement, so it skipped the COMMIT,
	// and the batch is written again too
	keyUsed = started("h")
	keyUsed.Key.Key = "key-used"
	resume = postgres.PauseSaves(j)
	answers = queueSaves(t, j, queued, started("g"), keyUsed, started("i"))
	resume()
	want = []error{nil, pos.ErrKeyUsed, nil}
	for i, err := range answers() {
		if !errors.Is(err, want[i]) || (err == nil) != (want[i] == nil) {
			t.Errorf("change %d: %v, want %v", i, err, want[i])
		}
	}
	for id, written := range map[string]bool{"g": true, "h": false, "i": true} {
		if _, err := j.Sale(ctx, id); (err == nil) != written {
			t.Errorf("sale %s: %v", id, err)
		}
	}
}

// TestFailedStatementMidBatch has a lone Save's statement fail in the
// middle of its one batch (the sale's insert, after the key's, before
// its history's, its op's and the COMMIT): the Save fails with the
// statement's error and nothing of it is written.
func TestFailedStatementMidBatch(t *testing.T) {
	j := open(t)
	ctx := context.Background()
	if err := j.Save(ctx, started("x")); err != nil {
		t.Fatal(err)
	}
	b := countBatches(j)
	c := started("y")
	c.Sale.ExternalRef = "ref-x"
	if err := j.Save(ctx, c); !errors.Is(err, pos.ErrOpenExternalRef) {
		t.Fatalf("save: %v, want %v", err, pos.ErrOpenExternalRef)
	}
	if got := b.take(); got != 1 {
		t.Errorf("%d round trips, want 1", got)
	}
	if k, err := j.Keyed(ctx, "till-1", "key-y"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("key recorded: %+v %v", k, err)
	}
	if op, err := j.Op(ctx, "op-y"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("op written: %+v %v", op, err)
	}
	if err := j.Save(ctx, started("z")); err != nil { // the connection is usable again
		t.Fatal(err)
	}
}

// TestSaveCanceledWhileQueued ends a Save's context while its change
// waits in the queue: it is answered the context's error and not
// written.
func TestSaveCanceledWhileQueued(t *testing.T) {
	j, queued := queuedJournal(t)
	resume := postgres.PauseSaves(j)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Save(ctx, started("c")) }()
	<-queued
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("save: %v", err)
	}
	resume()
	if _, err := j.Sale(context.Background(), "c"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("sale: %v", err)
	}
}

// TestCloseAnswersQueued closes the journal with Saves queued: they are
// written and answered first; a Save after Close fails.
func TestCloseAnswersQueued(t *testing.T) {
	j, queued := queuedJournal(t)
	resume := postgres.PauseSaves(j)
	answers := queueSaves(t, j, queued, started("a"), started("b"))
	closed := make(chan error, 1)
	go func() { closed <- j.Close() }()
	resume()
	for i, err := range answers() {
		if err != nil {
			t.Errorf("change %d: %v", i, err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := j.Save(context.Background(), started("c")); err == nil {
		t.Error("a Save after Close succeeded")
	}
}
