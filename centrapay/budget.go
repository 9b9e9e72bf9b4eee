package centrapay

import (
	"context"
	"sync"
	"time"

	"github.com/centrapos/centrapos/clock"
)

// Priority orders calls waiting for the rate budget: live sales first,
// background work (recovery, reconciliation) with what is left.
type Priority int

// Priorities, highest first.
const (
	PriorityLive Priority = iota
	PriorityBackground
)

type priorityKey struct{}

// WithPriority returns a context whose calls wait for the budget at priority
// p. Calls without one are live.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

func priorityOf(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok {
		return p
	}
	return PriorityLive
}

// DefaultRateLimit is Centrapay's default limit per account, in requests per
// minute.
const DefaultRateLimit = 200

// Budget is a token bucket shared by every call made with one API key, so a
// busy POS stays under Centrapay's per-account rate limit. A background
// caller takes a token only when no live caller is waiting. A 429's
// Retry-After pauses the whole budget.
type Budget struct {
	clk      clock.Clock
	interval time.Duration // one token per interval
	burst    int

	mu          sync.Mutex
	tokens      int
	last        time.Time // time of the last refill step
	pausedUntil time.Time
	waiting     [2]int
	changed     chan struct{} // closed and replaced when waiters should look again
}

// NewBudget returns a budget of perMinute requests per minute, with a burst
// of a tenth of that (at least one), timed by c.
func NewBudget(perMinute int, c clock.Clock) *Budget {
	if perMinute <= 0 {
		perMinute = DefaultRateLimit
	}
	if c == nil {
		c = clock.Real{}
	}
	burst := max(perMinute/10, 1)
	return &Budget{
		clk:      c,
		interval: time.Minute / time.Duration(perMinute),
		burst:    burst,
		tokens:   burst,
		last:     c.Now(),
		changed:  make(chan struct{}),
	}
}

// Waiting returns how many live and background calls wait for a token.
func (b *Budget) Waiting() (live, background int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiting[PriorityLive], b.waiting[PriorityBackground]
}

// Pause stops handing out tokens until t, as a 429's Retry-After asks.
func (b *Budget) Pause(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.pausedUntil) {
		b.pausedUntil = until
		b.tokens = 0
		// one token is earned the moment the pause ends, so the
		// caller the server asked to wait goes first
		b.last = until.Add(-b.interval)
		b.wake()
	}
}

func (b *Budget) wake() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// refill adds the tokens earned since last; b.mu is held.
func (b *Budget) refill(now time.Time) {
	if now.Before(b.last) {
		return
	}
	n := int(now.Sub(b.last) / b.interval)
	if n <= 0 {
		return
	}
	b.last = b.last.Add(time.Duration(n) * b.interval)
	b.tokens = min(b.burst, b.tokens+n)
	if b.tokens == b.burst {
		b.last = now
	}
}

// Wait blocks until a token is available for priority p or ctx is done.
func (b *Budget) Wait(ctx context.Context, p Priority) error {
	if p != PriorityBackground {
		p = PriorityLive
	}
	b.mu.Lock()
	counted := false
	defer func() {
		if counted {
			b.mu.Lock()
			b.waiting[p]--
			b.mu.Unlock()
		}
	}()
	for {
		now := b.clk.Now()
		b.refill(now)
		paused := now.Before(b.pausedUntil)
		mayTake := p == PriorityLive || b.waiting[PriorityLive] == 0
		if !paused && b.tokens > 0 && mayTake {
			b.tokens--
			if counted {
				b.waiting[p]--
				counted = false
				// a background waiter may now proceed
				b.wake()
			}
			b.mu.Unlock()
			return nil
		}
		if !counted {
			b.waiting[p]++
			counted = true
		}
		var d time.Duration
		switch {
		case paused:
			d = b.pausedUntil.Sub(now)
		default:
			d = b.last.Add(b.interval).Sub(now)
		}
		changed := b.changed
		b.mu.Unlock()
		t := b.clk.NewTimer(max(d, time.Nanosecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-changed:
		case <-t.C():
		}
		t.Stop()
		b.mu.Lock()
	}
}
