package centrapay

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centrapos/centrapos/clock"
)

// Priority orders calls waiting for the rate budget: what a cashier waits
// for first, then polls of live sales, then background work (recovery,
// reconciliation) with what is left.
type Priority int

// Priorities, highest first.
const (
	// PriorityOperator is a call a person at the till waits for: create,
	// cancel, refund, condition answer, confirm, release.
	PriorityOperator Priority = iota
	// PriorityLive is a poll (or void) of a live sale; calls without a
	// priority are live.
	PriorityLive
	// PriorityBackground is recovery and reconciliation.
	PriorityBackground
	priorities // how many there are
)

// String names p for logs and metrics.
func (p Priority) String() string {
	switch p {
	case PriorityOperator:
		return "operator"
	case PriorityLive:
		return "live"
	case PriorityBackground:
		return "background"
	}
	return "unknown"
}

type priorityKey struct{}

// WithPriority returns a context whose calls wait for the budget at priority
// p. Calls without one are live.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityOf returns the priority ctx's calls wait at.
func PriorityOf(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok && p >= 0 && p < priorities {
		return p
	}
	return PriorityLive
}

type takenKey struct{}

// WithTokenTaken returns a context whose next call does not wait for the
// budget: its caller took the token already (Budget.WaitWithin), before
// journaling the intent the call carries out. Only one call skips the wait;
// its retries, and any later call, wait as usual.
func WithTokenTaken(ctx context.Context) context.Context {
	taken := new(atomic.Bool)
	taken.Store(true)
	return context.WithValue(ctx, takenKey{}, taken)
}

// tokenTaken reports, once, whether ctx carries a token already taken.
func tokenTaken(ctx context.Context) bool {
	t, ok := ctx.Value(takenKey{}).(*atomic.Bool)
	return ok && t.CompareAndSwap(true, false)
}

// DefaultRateLimit is Centrapay's default limit per account, in requests per
// minute.
const DefaultRateLimit = 200

// ErrBudgetBusy is returned by WaitWithin when no token came in time: the
// call was not made.
var ErrBudgetBusy = errors.New("centrapay: the rate budget had no call free in time")

// Budget is a token bucket shared by every call made with one API key, so a
// busy POS stays under Centrapay's per-account rate limit: its burst plus
// what it earns in a minute is the limit, so no sixty seconds ever see more
// calls than that. Waiting calls are served by priority, and within a
// priority in the order they came: polls of the sales due first go first,
// so when live sales need more calls than the budget gives, every one of
// them is polled in turn, less often, never starved. Half the burst is kept
// for operator calls — polls never take the last of it — so tills that
// create sales at the same moment are served at once, even while polls
// use everything else. A 429's Retry-After pauses the whole budget.
//
// Only the waiter at the head of the line sleeps on the clock; the others
// wait to be told it is their turn, so ten thousand waiting polls cost one
// timer, not ten thousand.
type Budget struct {
	clk       clock.Clock
	perMinute int
	interval  time.Duration // one token per interval
	burst     int
	reserve   int // tokens only operator calls may take

	// shared, when set, holds the tokens instead of this budget: see
	// Share. sharedRetry is how long it said to wait for the next.
	shared      SharedBudget
	sharedRetry time.Duration
	sharedLog   func(err error) // told when shared fails, and the local tokens are used

	mu          sync.Mutex
	tokens      int
	last        time.Time // time of the last refill step
	pausedUntil time.Time
	queues      [priorities]list.List // of *waiter, oldest first
}

// waiter is a call waiting for a token.
type waiter struct {
	turn chan struct{} // buffered 1: told when it may be the head, or things changed
}

// NewBudget returns a budget of perMinute requests per minute, timed by c:
// a burst of a tenth of that (at least one), half of it kept for operator
// calls, and the rest of the minute's calls earned evenly (one every
// minute ÷ (perMinute − burst)).
func NewBudget(perMinute int, c clock.Clock) *Budget {
	if perMinute <= 0 {
		perMinute = DefaultRateLimit
	}
	if c == nil {
		c = clock.Real{}
	}
	burst := max(perMinute/10, 1)
	earned := max(perMinute-burst, 1)
	return &Budget{
		clk:       c,
		perMinute: perMinute,
		interval:  max(time.Minute/time.Duration(earned), time.Nanosecond),
		burst:     burst,
		reserve:   burst / 2,
		tokens:    burst,
		last:      c.Now(),
	}
}

// SharedBudget holds the tokens of a rate budget for every server that
// calls Centrapay with one API key: Centrapay's limit is per account, not
// per server. Its tokens follow the same rule as a Budget's — a burst and
// the rest of the minute's calls earned evenly — on a clock of its own
// (the database's). Implementation: store/postgres.
type SharedBudget interface {
	// TakeToken takes a token when more than floor are left and the
	// budget is not paused, for a budget of burst tokens earning one
	// every interval; otherwise it says how long until one may be.
	TakeToken(ctx context.Context, floor, burst int, interval time.Duration) (ok bool, retryIn time.Duration, err error)
	// PauseBudget hands out no token until until (a 429's Retry-After).
	PauseBudget(ctx context.Context, until time.Time) error
}

// sharedTimeout bounds a call to the shared budget: past it, the local
// tokens serve.
const sharedTimeout = 2 * time.Second

// Share makes the budget take its tokens from s, shared with the other
// servers of the API key, keeping its order of priorities and the
// operators' reserve; a call of s that fails is told to onErr and served
// by the budget's own tokens meanwhile (a server is not stopped by its
// database being slow, only less strict). Call it before any call.
func (b *Budget) Share(s SharedBudget, onErr func(error)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.shared, b.sharedLog = s, onErr
}

// PerMinute is the budget's rate: calls a minute.
func (b *Budget) PerMinute() int { return b.perMinute }

// Waiting returns how many calls of priority p wait for a token.
func (b *Budget) Waiting(p Priority) int {
	if p < 0 || p >= priorities {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.queues[p].Len()
}

// Pause stops handing out tokens until t, as a 429's Retry-After asks.
func (b *Budget) Pause(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		err := b.shared.PauseBudget(ctx, until)
		cancel()
		if err != nil && b.sharedLog != nil {
			b.sharedLog(err)
		}
	}
	if until.After(b.pausedUntil) {
		b.pausedUntil = until
		// nothing is left but the operators' reserve, and one token is
		// earned the moment the pause ends, so the caller the server
		// asked to wait (a poll, as often as not) goes first
		b.tokens = min(b.tokens, b.reserve)
		b.last = until.Add(-b.interval)
		b.tell()
	}
}

// head is the waiter served next; b.mu is held.
func (b *Budget) head() *list.Element {
	for p := range b.queues {
		if e := b.queues[p].Front(); e != nil {
			return e
		}
	}
	return nil
}

// queued counts the waiters of priority p or higher; b.mu is held.
func (b *Budget) queued(p Priority) int {
	n := 0
	for q := PriorityOperator; q <= p; q++ {
		n += b.queues[q].Len()
	}
	return n
}

// tell wakes the head waiter to look again; b.mu is held.
func (b *Budget) tell() {
	if e := b.head(); e != nil {
		select {
		case e.Value.(*waiter).turn <- struct{}{}:
		default:
		}
	}
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

// take hands out a token to a call of priority p if one is free for it
// now; b.mu is held.
func (b *Budget) take(p Priority) bool {
	now := b.clk.Now()
	b.refill(now)
	floor := 0
	if p != PriorityOperator {
		floor = b.reserve
	}
	if b.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		ok, retry, err := b.shared.TakeToken(ctx, floor, b.burst, b.interval)
		cancel()
		if err == nil {
			b.sharedRetry = retry
			return ok
		}
		if b.sharedLog != nil {
			b.sharedLog(err)
		}
	}
	if now.Before(b.pausedUntil) || b.tokens <= floor {
		return false
	}
	b.tokens--
	return true
}

// Wait blocks until a token is available for priority p or ctx is done.
func (b *Budget) Wait(ctx context.Context, p Priority) error {
	return b.wait(ctx, p, time.Time{})
}

// WaitWithin is Wait for at most d by the budget's clock: ErrBudgetBusy when
// no token came in time. A person waits on such calls; better to tell them
// at once than to hold them for minutes.
func (b *Budget) WaitWithin(ctx context.Context, p Priority, d time.Duration) error {
	return b.wait(ctx, p, b.clk.Now().Add(d))
}

func (b *Budget) wait(ctx context.Context, p Priority, deadline time.Time) error {
	if p < 0 || p >= priorities {
		p = PriorityLive
	}
	b.mu.Lock()
	if b.queued(p) == 0 && b.take(p) { // nobody waits ahead: the fast path
		b.mu.Unlock()
		return nil
	}
	w := &waiter{turn: make(chan struct{}, 1)}
	el := b.queues[p].PushBack(w)
	b.tell() // w may be the new head, ahead of one sleeping on the clock
	b.mu.Unlock()
	leave := func(err error) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		if err == ErrBudgetBusy && b.head() == el && b.take(p) {
			err = nil // the token came with the deadline
		}
		b.queues[p].Remove(el)
		b.tell()
		return err
	}
	var dl clock.Timer // the deadline, if any
	var dlc <-chan time.Time
	if !deadline.IsZero() {
		dl = b.clk.NewTimer(max(deadline.Sub(b.clk.Now()), 0))
		defer dl.Stop()
		dlc = dl.C()
	}
	for {
		select {
		case <-ctx.Done():
			return leave(ctx.Err())
		case <-dlc:
			return leave(ErrBudgetBusy)
		case <-w.turn:
		}
		// w may be the head: serve it, or sleep on the clock until the
		// next token (or the pause's end), unless told to look again
		for {
			b.mu.Lock()
			if b.head() != el {
				b.mu.Unlock()
				break // a call of a higher priority came first
			}
			if b.take(p) {
				b.queues[p].Remove(el)
				b.tell()
				b.mu.Unlock()
				return nil
			}
			now := b.clk.Now()
			d := b.last.Add(b.interval).Sub(now)
			if now.Before(b.pausedUntil) {
				d = b.pausedUntil.Sub(now)
			}
			if b.shared != nil && b.sharedRetry > 0 {
				d = b.sharedRetry
			}
			b.mu.Unlock()
			t := b.clk.NewTimer(max(d, time.Nanosecond))
			select {
			case <-ctx.Done():
				t.Stop()
				return leave(ctx.Err())
			case <-dlc:
				t.Stop()
				return leave(ErrBudgetBusy)
			case <-w.turn:
			case <-t.C():
			}
			t.Stop()
		}
	}
}
