package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/sqlite"
)

var at = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// openJournal opens a journal in the test's own directory; queued, when
// not nil, is told the queue's length at each Save.
func openJournal(t *testing.T, queued chan<- int) *sqlite.Journal {
	t.Helper()
	j, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	if queued != nil {
		sqlite.OnQueued(j, func(n int) { queued <- n })
	}
	return j
}

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

// queue starts a Save of each change in turn, each queued before the
// next starts (so a batch holds them in this order), and returns their
// answers, in order, once all are in.
func queue(t *testing.T, j *sqlite.Journal, queued <-chan int, changes ...*pos.Change) func() []error {
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

// TestGroupCommit queues n Saves while the committer is held, and finds
// them committed in ceil(n/MaxBatch) transactions, every one answered nil
// and readable.
func TestGroupCommit(t *testing.T) {
	for _, n := range []int{1, 2, 16, sqlite.MaxBatch, sqlite.MaxBatch + 1, 2*sqlite.MaxBatch + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			queued := make(chan int, n)
			j := openJournal(t, queued)
			before := sqlite.Commits(j)
			resume := sqlite.PauseSaves(j)
			changes := make([]*pos.Change, n)
			for i := range changes {
				changes[i] = started(fmt.Sprintf("s%d", i))
			}
			answers := queue(t, j, queued, changes...)
			resume()
			for i, err := range answers() {
				if err != nil {
					t.Errorf("save %d: %v", i, err)
				}
			}
			want := int64((n + sqlite.MaxBatch - 1) / sqlite.MaxBatch)
			if got := sqlite.Commits(j) - before; got != want {
				t.Errorf("%d saves took %d commits, want %d", n, got, want)
			}
			for _, c := range changes {
				if _, err := j.Sale(context.Background(), c.Sale.ID); err != nil {
					t.Errorf("sale %s: %v", c.Sale.ID, err)
				}
			}
		})
	}
}

// TestFailingChangeFailsAlone puts a failing change between two good ones
// in one batch: it gets its own error and nothing of it is written (its
// till key included), while the others commit, in the one transaction.
func TestFailingChangeFailsAlone(t *testing.T) {
	withKey := func(c *pos.Change, key string) *pos.Change {
		c.Key.Key = key
		return c
	}
	tests := []struct {
		name string
		bad  *pos.Change
		want error
	}{
		{"key used", withKey(started("bad"), "key-s0"), pos.ErrKeyUsed},
		{"open externalRef", func() *pos.Change { c := started("bad"); c.Sale.ExternalRef = "ref-s0"; return c }(), pos.ErrOpenExternalRef},
		{"duplicate sale", func() *pos.Change {
			c := started("s0")
			c.Sale.ExternalRef, c.Key.Key, c.Ops[0].ID = "ref-bad", "key-bad", "op-bad"
			return c
		}(), pos.ErrDuplicate},
		{"unknown sale", func() *pos.Change { c := started("bad"); c.NewSale = false; return c }(), pos.ErrNotFound},
		{"no sale", &pos.Change{NewSale: true, Key: started("bad").Key}, nil}, // an error of no particular kind
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			queued := make(chan int, 3)
			j := openJournal(t, queued)
			if err := j.Save(ctx, started("s0")); err != nil {
				t.Fatal(err)
			}
			<-queued
			before := sqlite.Commits(j)
			resume := sqlite.PauseSaves(j)
			answers := queue(t, j, queued, started("s1"), tc.bad, started("s2"))
			resume()
			errs := answers()
			if errs[0] != nil || errs[2] != nil {
				t.Errorf("batch-mates of the failing change: %v, %v", errs[0], errs[2])
			}
			if errs[1] == nil || tc.want != nil && !errors.Is(errs[1], tc.want) {
				t.Errorf("failing change: %v, want %v", errs[1], tc.want)
			}
			if got := sqlite.Commits(j) - before; got != 1 {
				t.Errorf("%d commits, want 1", got)
			}
			for _, id := range []string{"s1", "s2"} {
				if _, err := j.Sale(ctx, id); err != nil {
					t.Errorf("sale %s: %v", id, err)
				}
			}
			if _, err := j.Keyed(ctx, "till-1", tc.bad.Key.Key); tc.bad.Key.Key != "key-s0" && !errors.Is(err, pos.ErrNotFound) {
				t.Errorf("the failing change's key is recorded: %v", err)
			}
			if _, err := j.Op(ctx, "op-bad"); !errors.Is(err, pos.ErrNotFound) {
				t.Errorf("the failing change's op is written: %v", err)
			}
			if s, err := j.Sale(ctx, "s0"); err != nil || s.ExternalRef != "ref-s0" {
				t.Errorf("sale s0 after the failing change: %+v %v", s, err)
			}
		})
	}
}

// TestCancelledBeforeTaken: a Save whose context ends before the
// committer takes its change answers ctx.Err() and writes nothing.
func TestCancelledBeforeTaken(t *testing.T) {
	tests := []struct {
		name   string
		cancel func(context.CancelFunc, <-chan int) // ends the context, before or while the change is queued
	}{
		{"before Save", nil},
		{"while queued", func(cancel context.CancelFunc, queued <-chan int) { <-queued; cancel() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			queued := make(chan int, 2)
			j := openJournal(t, queued)
			before := sqlite.Commits(j)
			resume := sqlite.PauseSaves(j)
			ctx, cancel := context.WithCancel(context.Background())
			answer := make(chan error, 1)
			if tc.cancel == nil {
				cancel()
				answer <- j.Save(ctx, started("s1"))
			} else {
				go func() { answer <- j.Save(ctx, started("s1")) }()
				tc.cancel(cancel, queued)
			}
			if err := <-answer; !errors.Is(err, context.Canceled) {
				t.Errorf("Save = %v, want context.Canceled", err)
			}
			resume()
			// a Save after it commits alone: nothing else was committed
			if err := j.Save(context.Background(), started("s2")); err != nil {
				t.Fatal(err)
			}
			if got := sqlite.Commits(j) - before; got != 1 {
				t.Errorf("%d commits, want 1", got)
			}
			ctx = context.Background()
			if _, err := j.Sale(ctx, "s1"); !errors.Is(err, pos.ErrNotFound) {
				t.Errorf("the cancelled sale: %v", err)
			}
			if _, err := j.Keyed(ctx, "till-1", "key-s1"); !errors.Is(err, pos.ErrNotFound) {
				t.Errorf("the cancelled key: %v", err)
			}
		})
	}
}

// TestCloseAnswersQueuedSaves closes the journal while Saves are queued:
// each is committed and answered, a Save after Close fails, and the
// changes are there on reopening.
func TestCloseAnswersQueuedSaves(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	queued := make(chan int, 3)
	sqlite.OnQueued(j, func(n int) { queued <- n })
	resume := sqlite.PauseSaves(j)
	answers := queue(t, j, queued, started("s1"), started("s2"), started("s3"))
	closed := make(chan error, 1)
	go func() { closed <- j.Close() }()
	resume()
	for i, err := range answers() {
		if err != nil {
			t.Errorf("save %d: %v", i, err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := j.Save(ctx, started("s4")); err == nil {
		t.Error("a Save after Close succeeded")
	}
	j, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, id := range []string{"s1", "s2", "s3"} {
		if _, err := j.Sale(ctx, id); err != nil {
			t.Errorf("sale %s after reopening: %v", id, err)
		}
	}
}

// TestFailedCommitFailsEveryChange makes a batch's COMMIT fail (a
// deferred foreign key left broken, which SQLite refuses at COMMIT,
// leaving the transaction open for the driver to roll back): every change
// of the batch gets the error, none is written, and the writer is not
// left inside the failed transaction: the next Save and other writes
// commit.
func TestFailedCommitFailsEveryChange(t *testing.T) {
	ctx := context.Background()
	queued := make(chan int, 4)
	j := openJournal(t, queued)
	var broken atomic.Bool
	broken.Store(true)
	sqlite.BeforeCommit(j, func(ctx context.Context, tx *sql.Tx) error {
		if !broken.Load() {
			return nil
		}
		_, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON; INSERT INTO sale_events (sale_id, at, status, note) VALUES ('ghost', 0, 'pending', 'x')`)
		return err
	})
	before := sqlite.Commits(j)
	resume := sqlite.PauseSaves(j)
	answers := queue(t, j, queued, started("s1"), started("s2"), started("s3"))
	resume()
	for i, err := range answers() {
		if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
			t.Errorf("save %d: %v, want the commit's error", i, err)
		}
	}
	for _, id := range []string{"s1", "s2", "s3"} {
		if _, err := j.Sale(ctx, id); !errors.Is(err, pos.ErrNotFound) {
			t.Errorf("sale %s of the failed commit: %v", id, err)
		}
	}
	broken.Store(false)
	if err := j.Save(ctx, started("s4")); err != nil {
		t.Fatalf("a Save after the failed commit: %v", err)
	}
	if _, err := j.Sale(ctx, "s4"); err != nil {
		t.Error(err)
	}
	if err := j.AddTerminal(ctx, pos.Terminal{ID: "till-9", CreatedAt: at}, []byte("h")); err != nil {
		t.Errorf("a write beside Save after the failed commit: %v", err)
	}
	if got := sqlite.Commits(j) - before; got != 1 {
		t.Errorf("%d commits, want 1", got)
	}
}

// TestAnswersShareTheCommit: a till's answer kept (SaveAnswer) is written
// with the group commit of the changes queued beside it, not in a commit
// of its own, and the first answer still stands.
func TestAnswersShareTheCommit(t *testing.T) {
	queued := make(chan int, 4)
	j := openJournal(t, queued)
	ctx := context.Background()
	if err := j.Save(ctx, started("s0")); err != nil {
		t.Fatal(err)
	}
	<-queued // s0's own signal: what follows waits for its own items
	before := sqlite.Commits(j)
	resume := sqlite.PauseSaves(j)
	answered := make(chan error, 1)
	go func() {
		answered <- j.SaveAnswer(ctx, &pos.KeyedRequest{TerminalID: "till-1", Key: "key-s0", RequestHash: "h", Status: 201, Body: []byte(`{"id":"s0"}`), CreatedAt: at})
	}()
	<-queued
	answers := queue(t, j, queued, started("s1"))
	resume()
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	if errs := answers(); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if got := sqlite.Commits(j) - before; got != 1 {
		t.Errorf("an answer and a change took %d commits, want 1", got)
	}
	if err := j.SaveAnswer(ctx, &pos.KeyedRequest{TerminalID: "till-1", Key: "key-s0", RequestHash: "h", Status: 500, Body: []byte(`{}`), CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	k, err := j.Keyed(ctx, "till-1", "key-s0")
	if err != nil || k.Status != 201 || string(k.Body) != `{"id":"s0"}` || k.SaleID != "s0" {
		t.Fatalf("kept answer: %+v %v", k, err)
	}
}
