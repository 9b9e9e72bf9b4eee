package postgres_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
	"github.com/centrapos/centrapos/store/postgres"
)

// openSale journals an open sale id, as its engine would.
func openSale(t *testing.T, j *postgres.Journal, id string, lease *pos.Lease) *pos.Sale {
	t.Helper()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s := &pos.Sale{ID: id, TerminalID: "till-1", ExternalRef: "R-" + id, Value: 1000, Currency: "NZD", Status: pos.StatusPending,
		CreatedAt: now, UpdatedAt: now, Version: 1}
	c := &pos.Change{Sale: s, NewSale: true, Note: "sale started", Origin: "test"}
	if lease != nil {
		c.Leases = []pos.Lease{*lease}
	}
	if err := j.Save(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLeases: open sales are claimed by one owner each, even by owners
// claiming at once; a lease held is not taken over until it expires; a
// final sale's lease is let go of at the next renewal; a released one is
// claimed at once.
func TestLeases(t *testing.T) {
	j := open(t)
	ctx := context.Background()
	for i := range 20 {
		openSale(t, j, "s"+string(rune('a'+i)), nil)
	}
	held := openSale(t, j, "held", &pos.Lease{Key: "s:held", Owner: "c", TTL: time.Minute})
	var mu sync.Mutex
	got := map[string][]string{}
	var wg sync.WaitGroup
	for _, owner := range []string{"a", "b"} {
		wg.Go(func() {
			for {
				keys, err := j.ClaimLeases(ctx, owner, time.Minute, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(keys) == 0 {
					return
				}
				mu.Lock()
				got[owner] = append(got[owner], keys...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	all := append(slices.Clone(got["a"]), got["b"]...)
	slices.Sort(all)
	if len(all) != 20 || len(slices.Compact(all)) != 20 || slices.Contains(all, "s:held") {
		t.Fatalf("claimed %v: want the 20 free sales, each once, not the one c holds", got)
	}
	// c's lease expires (a TTL of nothing): it is claimed
	if _, err := j.RenewLeases(ctx, "c", 0); err != nil {
		t.Fatal(err)
	}
	if keys, err := j.ClaimLeases(ctx, "a", time.Minute, 10); err != nil || !slices.Equal(keys, []string{"s:held"}) {
		t.Fatalf("expired lease: claimed %v %v", keys, err)
	}
	if keys, _ := j.RenewLeases(ctx, "c", time.Minute); len(keys) != 0 {
		t.Errorf("c renews %v: it lost its lease", keys)
	}
	// a's sale ends: its lease goes at the next renewal
	held.Status, held.Version = pos.StatusPaid, 2
	if err := j.Save(ctx, &pos.Change{Sale: held, Note: "paid"}); err != nil {
		t.Fatal(err)
	}
	keys, err := j.RenewLeases(ctx, "a", time.Minute)
	for _, k := range got["a"] {
		if keys[k] != 1 {
			t.Errorf("renewed %s at version %d, want the sale's 1", k, keys[k])
		}
	}
	if _, still := keys["s:held"]; err != nil || still || len(keys) != len(got["a"]) {
		t.Errorf("a renews %v %v: want its %d claims less the final sale", keys, err, len(got["a"]))
	}
	// b stops cleanly: a claims its sales at once
	if err := j.ReleaseLeases(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if keys, err := j.ClaimLeases(ctx, "a", time.Minute, 100); err != nil || len(keys) != len(got["b"]) {
		t.Errorf("after b's release a claims %v %v, want b's %d", keys, err, len(got["b"]))
	}
	// a refund accepted and not complete is claimed for its completion
	// checks, until it completes
	rf := &pos.Op{ID: "rf1", SaleID: "held", Kind: pos.OpRefund, State: pos.OpSucceeded, CreatedAt: time.Now()}
	if err := j.Save(ctx, &pos.Change{Ops: []*pos.Op{rf}}); err != nil {
		t.Fatal(err)
	}
	if keys, err := j.ClaimLeases(ctx, "b", time.Minute, 10); err != nil || !slices.Equal(keys, []string{"r:rf1"}) {
		t.Fatalf("a refund to check: claimed %v %v", keys, err)
	}
	rf.CompletedAt = time.Now()
	if err := j.Save(ctx, &pos.Change{Ops: []*pos.Op{rf}}); err != nil {
		t.Fatal(err)
	}
	if keys, _ := j.RenewLeases(ctx, "b", time.Minute); len(keys) != 0 {
		t.Errorf("b renews %v after the refund completed, want nothing", keys)
	}
	// a new sale's lease is taken with it; another owner's live lease is
	// not taken over by a change
	openSale(t, j, "new", &pos.Lease{Key: "s:new", Owner: "b", TTL: time.Minute})
	op := &pos.Op{ID: "op1", SaleID: "new", Kind: pos.OpRefund, State: pos.OpPending, CreatedAt: time.Now()}
	err = j.Save(ctx, &pos.Change{Ops: []*pos.Op{op}, Leases: []pos.Lease{{Key: "s:new", Owner: "a", TTL: time.Minute}}})
	if !errors.Is(err, pos.ErrStale) {
		t.Errorf("taking b's live lease: %v, want ErrStale", err)
	}
	if _, err := j.Op(ctx, "op1"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("the refused change's op was saved: %v", err)
	}
}

// TestSaleNews: a change of a sale by one origin is heard by the others'
// listeners, not by its own; a nudge says so.
func TestSaleNews(t *testing.T) {
	j := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type news struct {
		id    string
		nudge bool
	}
	heard := make(chan news, 8)
	ready := make(chan struct{})
	go j.ListenSales(ctx, "a", func(id string, nudge bool) { heard <- news{id, nudge} })
	// wait until the listener is listening: a nudge of our own origin
	// marks the start, and is not heard; poll with news until one is
	go func() {
		defer close(ready)
		for ctx.Err() == nil {
			if err := j.NudgeSale(ctx, "probe", "probe"); err != nil {
				return
			}
			select {
			case n := <-heard:
				if n.id == "probe" {
					return
				}
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	<-ready
	drain := func() {
		for {
			select {
			case <-heard:
			default:
				return
			}
		}
	}
	time.Sleep(0) // nothing to wait for; drained below
	drain()
	s := openSale(t, j, "s1", nil) // origin "test"
	own := &pos.Change{Sale: s, Note: "by a", Origin: "a"}
	s.Version = 2
	if err := j.Save(ctx, own); err != nil {
		t.Fatal(err)
	}
	if err := j.NudgeSale(ctx, "b", "s1"); err != nil {
		t.Fatal(err)
	}
	var got []news
	for len(got) < 2 {
		select {
		case n := <-heard:
			if n.id != "probe" {
				got = append(got, n)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("heard %v", got)
		}
	}
	if got[0] != (news{"s1", false}) || got[1] != (news{"s1", true}) {
		t.Errorf("heard %v: want test's change of s1, then b's nudge (a's own change unheard)", got)
	}
}

// TestTwoEnginesShareAJournal: two engines on one PostgreSQL journal, one
// sandbox. A sale is driven only by the engine that started it; a cancel
// asked at the other is journaled there (conditional on the version) and
// done by the holder, who finds its own copy stale; when the holder dies,
// the other claims its open sale and takes it to its end.
func TestTwoEnginesShareAJournal(t *testing.T) {
	j := open(t)
	fake := clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	sb, _ := sandbox.New(sandbox.Config{Clock: fake, RateLimit: -1})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	seed := sb.Seed()
	c, _ := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(seed.APIKey), centrapay.WithClock(fake),
		centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 2, NoSleep: true}), centrapay.WithRateLimit(1000000))
	ctx := context.Background()
	engine := func(name string, ttl time.Duration) *pos.Engine {
		e, err := pos.New(pos.Config{Centrapay: c, Journal: j, MerchantAccountID: seed.MerchantAccountID, Clock: fake,
			Leases: j, Instance: name, LeaseTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		return e
	}
	settle := func(e *pos.Engine) {
		for e.Step(ctx) > 0 {
		}
	}
	a, b := engine("a", time.Minute), engine("b", time.Minute)
	s, err := a.StartSale(ctx, pos.SaleInput{TerminalID: "till-1", DeviceID: "d", ConfigID: seed.ConfigID, Value: 1500, ExternalRef: "PG-1"})
	if err != nil {
		t.Fatal(err)
	}
	polls := func() int { return len(sb.Ledger().Requests) }
	_ = polls
	fake.Advance(time.Second)
	settle(b) // b holds nothing: it polls nothing
	if got, err := b.Sale(ctx, s.ID); err != nil || got.Status != pos.StatusPending {
		t.Fatalf("b reads %+v %v", got, err)
	}
	settle(a) // a polls (its copy of the sale is version 2)
	if _, err := b.Cancel(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	// a hears of it by the news (Run listens), or at its next lease
	// renewal, which finds the sale's version moved: a claim round
	if err := a.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Sale(ctx, s.ID); got.Status != pos.StatusPending || !got.CancelRequested {
		t.Fatalf("after the cancel at b: %s cancel requested %v; b must leave the void to a", got.Status, got.CancelRequested)
	}
	fake.Advance(time.Second)
	settle(a)
	settle(a)
	if got, _ := a.Sale(ctx, s.ID); got.Status != pos.StatusCancelled {
		t.Fatalf("a drove the sale to %s (%s), want cancelled: it voids what b asked", got.Status, got.Reason)
	}
	if l := sb.Ledger().Requests[0]; l.Status != centrapay.StatusCancelled {
		t.Errorf("sandbox: %s", l.Status)
	}
	// a starts a sale and dies (its lease lasts nothing, and it never
	// renews): b claims the sale and takes it to its end
	dying := engine("a2", time.Millisecond)
	s2, err := dying.StartSale(ctx, pos.SaleInput{TerminalID: "till-1", DeviceID: "d", ConfigID: seed.ConfigID, Value: 700, ExternalRef: "PG-2"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // the database's clock passes the lease's expiry
	if err := sb.PatronPay(s2.PaymentRequest.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Recover(ctx); err != nil { // a claim round
		t.Fatal(err)
	}
	fake.Advance(time.Second)
	settle(b)
	if got, _ := b.Sale(ctx, s2.ID); got.Status != pos.StatusPaid {
		t.Errorf("b took over the dead engine's sale: %s, want paid", got.Status)
	}
}
