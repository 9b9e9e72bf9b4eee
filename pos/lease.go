package pos

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Leases let several engines (servers) share one journal: each open sale,
// and each pending op that is not a sale's create or void, is driven by
// one engine at a time, the one holding its lease. A lease lasts a TTL
// and its holder renews it; an engine that dies stops renewing, and
// another claims what it held once the TTL has passed and carries on from
// the journal, as Recover does after a restart. Every change of a sale is
// conditional on its version (ErrStale), so an engine that lost a lease
// without knowing it yet cannot overwrite what the new holder wrote.
// Times are the journal's clock, not any one server's.
//
// A lease's key is the engine's work key: "s:" and a sale id, "o:" and an
// op id, "r:" and the id of a refund whose completion is checked. Implementation: store/postgres. A journal without them (SQLite,
// one server) leaves everything to its one engine.
type Leases interface {
	// ClaimLeases takes for owner, until ttl from now, at most limit of
	// the open sales and pending ops whose lease is free or has expired,
	// and returns their keys. Two owners never claim the same one.
	ClaimLeases(ctx context.Context, owner string, ttl time.Duration, limit int) ([]string, error)
	// RenewLeases lets go of owner's leases on sales now final and ops
	// now done, extends the rest until ttl from now, and returns their
	// keys with, for a sale, its version in the journal (0 for an op): a
	// key missing is a lease lost, a version that is not the holder's
	// a change made elsewhere (a cancel asked at another server).
	RenewLeases(ctx context.Context, owner string, ttl time.Duration) (map[string]int, error)
	// ReleaseLeases lets go of every lease of owner (a clean stop): the
	// other engines claim them at once.
	ReleaseLeases(ctx context.Context, owner string) error
}

// Lease asks a Change to take a lease in its own transaction: a new sale's
// and a new op's are its engine's from the moment they exist.
type Lease struct {
	Key   string
	Owner string
	TTL   time.Duration
}

// SaleNews carries word of sales between the engines of one journal: a
// journal that implements it tells the others of each sale a Change
// changes (in the change's transaction, so only once it is committed),
// and lets an engine nudge the holder of a sale to drive it now.
type SaleNews interface {
	// ListenSales calls fn with the id of each sale changed or nudged
	// by an engine other than origin, until ctx ends or the connection
	// fails (then it returns the error; call it again).
	ListenSales(ctx context.Context, origin string, fn func(saleID string, nudge bool)) error
	// NudgeSale asks the engine holding sale id to drive it now.
	NudgeSale(ctx context.Context, origin, id string) error
}

// leaseClaimBatch is how many leases one claim takes at most: an engine
// taking over a dead one's sales takes them a batch a round, so that
// the engines still alive share them.
const leaseClaimBatch = 200

// leasing reports whether the engine shares its journal by leases.
func (e *Engine) leasing() bool { return e.leases != nil }

// holds reports whether the engine may do work key: it holds its lease,
// or it shares its journal with no other.
func (e *Engine) holds(key workKey) bool {
	if !e.leasing() {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.held[key]
}

// needsLease reports whether op, journaled pending, is work of its own
// (sent again by opWork): a create or a void is its sale's.
func needsLease(op *Op) bool {
	return op.State == OpPending && op.Kind != OpCreate && op.Kind != OpVoid
}

// leasesFor adds to c the leases its new sale and new pending ops need,
// and marks them held; it returns what to unmark if c is not saved.
func (e *Engine) leasesFor(c *Change) []workKey {
	if !e.leasing() {
		return nil
	}
	var keys []workKey
	if c.NewSale && c.Sale != nil {
		keys = append(keys, saleWork(c.Sale.ID))
	}
	for _, op := range c.Ops {
		if needsLease(op) {
			keys = append(keys, opWork(op.ID))
		}
		if op.RefundStatus() == RefundPending {
			keys = append(keys, refundWork(op.ID)) // its completion is checked
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var taken []workKey
	for _, k := range keys {
		if !e.held[k] {
			e.held[k] = true
			taken = append(taken, k)
			c.Leases = append(c.Leases, Lease{Key: string(k), Owner: e.cfg.Instance, TTL: e.cfg.LeaseTTL})
		}
	}
	return taken
}

// unhold forgets keys: leases not taken, or lost.
func (e *Engine) unhold(keys ...workKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range keys {
		delete(e.held, k)
	}
}

// claim renews the engine's leases, lets go of what it lost, and, when
// take, claims what is free (claimFree).
func (e *Engine) claim(ctx context.Context, take bool) error {
	kept, err := e.leases.RenewLeases(ctx, e.cfg.Instance, e.cfg.LeaseTTL)
	if err != nil {
		return fmt.Errorf("renew leases: %w", err)
	}
	e.mu.Lock()
	var lost []workKey
	for k := range e.held {
		if _, ok := kept[string(k)]; !ok {
			lost = append(lost, k)
		}
	}
	e.mu.Unlock()
	for _, k := range lost {
		e.unhold(k)
		if kind, id := k.split(); kind == workSale {
			e.live.drop(id)
		}
	}
	if len(lost) > 0 {
		e.log.Info("leases given up or lost", "count", len(lost))
	}
	now := e.clk.Now()
	adopted := 0
	for k, version := range kept {
		key := workKey(k)
		kind, id := key.split()
		e.mu.Lock()
		mine := e.held[key]
		e.held[key] = true
		e.mu.Unlock()
		switch {
		case !mine:
			// held under this engine's name by its previous process (a
			// restart within the TTL): its again, from the journal
			adopted++
			e.live.drop(id)
			e.schedule(key, now)
		case kind == workSale:
			// a sale changed elsewhere, whose news did not come: read
			// it again, and drive it at once
			if s := e.live.get(id); s != nil && s.Version != version {
				e.live.drop(id)
				e.schedule(key, now)
			}
		}
	}
	if adopted > 0 {
		e.log.Info("leases of this instance's previous run taken back", "count", adopted, "instance", e.cfg.Instance)
	}
	if !take {
		return nil
	}
	return e.claimFree(ctx)
}

// claimFree claims the leases that are free and drives what they hold at
// once (a claim takes a batch at most).
func (e *Engine) claimFree(ctx context.Context) error {
	claimed, err := e.leases.ClaimLeases(ctx, e.cfg.Instance, e.cfg.LeaseTTL, leaseClaimBatch)
	if err != nil {
		return fmt.Errorf("claim leases: %w", err)
	}
	now := e.clk.Now()
	for _, k := range claimed {
		key := workKey(k)
		e.mu.Lock()
		e.held[key] = true
		e.mu.Unlock()
		if kind, id := key.split(); kind == workSale {
			e.live.drop(id) // read again: another engine drove it
		}
		e.schedule(key, now)
	}
	if len(claimed) > 0 {
		e.log.Info("leases claimed", "count", len(claimed), "instance", e.cfg.Instance)
	}
	return nil
}

// claimEvery is how often an engine looks for leases to claim: a cheap
// query that finds nothing most of the time. A dead engine's sales are
// taken over within LeaseTTL and claimEvery.
const claimEvery = 500 * time.Millisecond

// leaseLoop renews leases every LeaseTTL/3 until work ends, and claims
// what is free every claimEvery while taking (a stopping engine takes no
// new work but keeps what it finishes).
func (e *Engine) leaseLoop(taking, work context.Context) {
	renewEvery := e.cfg.LeaseTTL / 3
	next := e.clk.Now()
	for {
		var err error
		if now := e.clk.Now(); !now.Before(next) {
			next = now.Add(renewEvery)
			err = e.claim(work, taking.Err() == nil)
		} else if taking.Err() == nil {
			err = e.claimFree(work)
		}
		if err != nil && work.Err() == nil {
			e.log.Error("leases", "err", err)
		}
		t := e.clk.NewTimer(min(claimEvery, renewEvery))
		select {
		case <-work.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// release lets go of every lease, at a clean stop.
func (e *Engine) release(ctx context.Context) {
	if !e.leasing() {
		return
	}
	if err := e.leases.ReleaseLeases(ctx, e.cfg.Instance); err != nil {
		e.log.Error("release leases", "err", err)
		return
	}
	e.mu.Lock()
	n := len(e.held)
	clear(e.held)
	e.mu.Unlock()
	e.log.Info("leases released", "count", n)
}

// listen applies news of sales from the other engines until ctx ends: a
// sale changed elsewhere is read again (a held one is driven at once: a
// cancel asked at another server), and its subscribers are told.
func (e *Engine) listen(ctx context.Context, news SaleNews) {
	for ctx.Err() == nil {
		err := news.ListenSales(ctx, e.cfg.Instance, func(id string, nudge bool) {
			if e.holds(saleWork(id)) {
				e.live.drop(id)
				e.schedule(saleWork(id), e.clk.Now())
			}
			if nudge {
				return
			}
			s, err := e.sale(ctx, id)
			if err != nil {
				return
			}
			e.publish(s)
		})
		if ctx.Err() != nil {
			return
		}
		e.log.Warn("listening for other servers' sales", "err", err)
		t := e.clk.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// nudge asks whoever holds sale id to drive it now; it reports whether
// that is another engine.
func (e *Engine) nudge(ctx context.Context, id string) bool {
	if e.holds(saleWork(id)) {
		return false
	}
	news, ok := e.j.(SaleNews)
	if !ok {
		return false
	}
	if err := news.NudgeSale(ctx, e.cfg.Instance, id); err != nil && !errors.Is(err, context.Canceled) {
		e.log.Warn("nudge the server holding a sale", "sale", id, "err", err)
	}
	return true
}
