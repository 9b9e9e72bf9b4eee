package pos_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
)

// slowBudget gives the rig's engine a client whose budget is perMinute
// calls a minute, its burst taken at once, so every call must wait.
func slowBudget(r *rig, perMinute int) *centrapay.Budget {
	r.t.Helper()
	c, err := centrapay.NewClient(centrapay.WithBaseURL(r.url), centrapay.WithAPIKey(r.seed.APIKey),
		centrapay.WithClock(r.fake), centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 2, NoSleep: true}),
		centrapay.WithRateLimit(perMinute))
	if err != nil {
		r.t.Fatal(err)
	}
	r.client, r.cp = c, c
	r.restart()
	for range max(perMinute/10, 1) {
		if err := c.Budget().Wait(r.ctx, centrapay.PriorityOperator); err != nil {
			r.t.Fatal(err)
		}
	}
	return c.Budget()
}

// TestCreateRefusedWhenBudgetBusy: a create that gets no call from the
// budget within OperatorWait is refused at once with words to try again,
// and nothing is journaled, so the till may repeat it.
func TestCreateRefusedWhenBudgetBusy(t *testing.T) {
	r := newRig(t)
	slowBudget(r, 6) // one call every 12 s: none within the create's 3 s
	errc := make(chan error, 1)
	go func() { _, err := r.eng.StartSale(r.ctx, r.input(nil)); errc <- err }()
	r.fake.BlockUntil(1, nil) // the create waits for its token
	r.fake.Advance(3 * time.Second)
	err := <-errc
	if pos.ErrorCode(err) != pos.EUnavailable || !strings.Contains(err.Error(), "nothing was sent; try again") {
		t.Fatalf("err = %v, want unavailable with words to try again", err)
	}
	if sales, _ := r.j.Sales(r.ctx, pos.SaleFilter{}); len(sales) != 0 {
		t.Fatalf("a refused create journaled %d sales", len(sales))
	}
}

// TestCreateAheadOfPolls: a cashier's create takes the next call of the
// budget before the polls waiting for it.
func TestCreateAheadOfPolls(t *testing.T) {
	r := newRig(t)
	b := slowBudget(r, 33) // burst 3 (1 kept for operators), then one call every 2 s
	polled := make(chan error, 1)
	go func() { polled <- b.Wait(r.ctx, centrapay.PriorityLive) }() // a poll, first in line
	r.fake.BlockUntil(1, nil)
	created := make(chan error, 1)
	go func() { _, err := r.eng.StartSale(r.ctx, r.input(nil)); created <- err }()
	// the create waits (its deadline, and its next token as head of the
	// line), and so does the poll's earlier timer
	r.fake.BlockUntil(3, nil)
	if n := b.Waiting(centrapay.PriorityOperator); n != 1 {
		t.Fatalf("operator calls waiting = %d", n)
	}
	r.fake.Advance(2 * time.Second) // the next token comes before the create's 3 s are up
	if err := <-created; err != nil {
		t.Fatalf("create: %v", err)
	}
	select {
	case <-polled:
		t.Fatal("the poll went before the create")
	default:
	}
	r.fake.Advance(4 * time.Second) // a poll takes a call only above the operators' reserve
	if err := <-polled; err != nil {
		t.Fatal(err)
	}
}

// hangingGets is Centrapay whose polls, once armed, hang until their
// context ends, as a call in flight when the server stops.
type hangingGets struct {
	pos.Centrapay
	armed   atomic.Bool
	entered chan struct{}
}

func (h *hangingGets) Get(ctx context.Context, id string) (*centrapay.PaymentRequest, *centrapay.Response, error) {
	if !h.armed.Load() {
		return h.Centrapay.Get(ctx, id)
	}
	h.entered <- struct{}{}
	<-ctx.Done()
	return nil, nil, &centrapay.UnknownOutcomeError{Op: "get", Err: ctx.Err()}
}

// TestStopIsNotAnUnknownOutcome: a poll cut off because the server stops
// is not Centrapay's unknown answer: nothing is voided, nothing is logged
// as an error, and the sale is polled again at the next start.
func TestStopIsNotAnUnknownOutcome(t *testing.T) {
	var logs bytes.Buffer
	var hang *hangingGets
	r := newRig(t, func(c *pos.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))
		if hang == nil {
			hang = &hangingGets{Centrapay: c.Centrapay, entered: make(chan struct{}, 1)}
		}
		c.Centrapay = hang
	})
	s := r.start(nil)
	hang.armed.Store(true)
	ctx, stop := context.WithCancel(r.ctx)
	var runErr error
	ran := make(chan struct{})
	go func() { runErr = r.eng.Run(ctx); close(ran) }()
	r.fake.BlockUntil(1, nil)
	r.fake.Advance(time.Second) // the poll falls due, and hangs
	<-hang.entered
	stop()
	// the clock moves on a second at a time until Run has given the poll
	// its grace (10 s) and cut it off
	for r.fake.BlockUntil(1, ran) {
		r.fake.Advance(time.Second)
	}
	if !errors.Is(runErr, context.Canceled) {
		t.Fatalf("run: %v", runErr)
	}
	got := r.sale(s.ID)
	if got.Status != pos.StatusPending || got.VoidReason != "" {
		t.Fatalf("sale after stopping: %s %q", got.Status, got.VoidReason)
	}
	if voids, _ := r.j.Ops(r.ctx, pos.OpFilter{SaleID: s.ID, Kind: pos.OpVoid}); len(voids) != 0 {
		t.Fatalf("stopping journaled %d voids", len(voids))
	}
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "cut off") {
		t.Fatalf("logs:\n%s", logs.String())
	}
	hang.armed.Store(false)
	r.restart()
	if err := r.sb.PatronPay(s.PaymentRequest.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	r.tick(1)
	if got := r.sale(s.ID); got.Status != pos.StatusPaid {
		t.Fatalf("after the restart: %s", got.Status)
	}
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// countingJournal counts the engine's reads of single sales.
type countingJournal struct {
	pos.Journal
	reads atomic.Int64
}

func (c *countingJournal) Sale(ctx context.Context, id string) (*pos.Sale, error) {
	c.reads.Add(1)
	return c.Journal.Sale(ctx, id)
}

// TestPollsReadMemory: the open sales are held in memory as journaled, so
// polls that change nothing read nothing from the journal, and what the
// till reads is what was journaled; a restarted engine reads them back.
func TestPollsReadMemory(t *testing.T) {
	var counting *countingJournal
	r := newRig(t, func(c *pos.Config) {
		counting = &countingJournal{Journal: c.Journal}
		c.Journal = counting
	})
	s := r.start(nil)
	counting.reads.Store(0)
	r.tick(30)
	if n := counting.reads.Load(); n != 0 {
		t.Fatalf("30 polls of an unchanged sale read the journal %d times", n)
	}
	if err := r.sb.PatronPay(s.PaymentRequest.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	r.tick(1)
	journaled, err := r.j.Sale(r.ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.sale(s.ID); got.Status != pos.StatusPaid || got.Version != journaled.Version || journaled.Status != pos.StatusPaid {
		t.Fatalf("engine says %s v%d, journal %s v%d", got.Status, got.Version, journaled.Status, journaled.Version)
	}
	// a second sale, left open, is read back from the journal by a new engine
	open := r.start(nil)
	r.restart()
	if l := r.eng.Load(); l.LiveSales != 1 {
		t.Fatalf("live sales after a restart: %d, want 1", l.LiveSales)
	}
	if got := r.sale(open.ID); got.Status != pos.StatusPending {
		t.Fatalf("open sale after a restart: %s", got.Status)
	}
}

// TestLoadAndPollInterval: the real interval between polls of a sale is
// measured, and a budget short of what the live sales need says so in
// words an operator can act on.
func TestLoadAndPollInterval(t *testing.T) {
	var mu sync.Mutex
	var intervals []time.Duration
	var ended []pos.Status
	r := newRig(t, func(c *pos.Config) {
		c.ObservePollInterval = func(d time.Duration) { mu.Lock(); intervals = append(intervals, d); mu.Unlock() }
		c.ObserveEnded = func(st pos.Status) { mu.Lock(); ended = append(ended, st); mu.Unlock() }
	})
	for range 3 {
		r.start(nil)
	}
	r.tick(3)
	mu.Lock()
	if len(intervals) < 3 || intervals[0] != time.Second {
		t.Errorf("poll intervals %v, want 1 s each", intervals)
	}
	mu.Unlock()
	l := r.eng.Load()
	// the rig's budget is 1,000,000 a minute: 3 sales need 180
	if l.LiveSales != 3 || l.CallsNeeded != 180 || l.Budget != 1000000 || l.Short || l.Message != "" {
		t.Errorf("load %+v", l)
	}
	// another engine on the same journal, with a budget of 120 a minute
	slow, err := centrapay.NewClient(centrapay.WithBaseURL(r.url), centrapay.WithAPIKey(r.seed.APIKey), centrapay.WithClock(r.fake),
		centrapay.WithRateLimit(120))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := pos.New(pos.Config{Centrapay: slow, Journal: r.j, MerchantAccountID: r.seed.MerchantAccountID, Clock: r.fake})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Recover(r.ctx); err != nil {
		t.Fatal(err)
	}
	l = eng.Load()
	if !l.Short || l.LiveSales != 3 || l.Budget != 120 || l.PollEverySeconds != 1.5 {
		t.Fatalf("load with a budget of 120 a minute: %+v", l)
	}
	for _, want := range []string{"3 live sales need 180 calls a minute", "is 120 a minute", "every 1.5 s", "Ask Centrapay", "--rate-limit"} {
		if !strings.Contains(l.Message, want) {
			t.Errorf("message lacks %q: %s", want, l.Message)
		}
	}
	// a sale that ends is counted once
	s := r.sale(r.start(nil).ID)
	r.eng.Cancel(r.ctx, s.ID)
	mu.Lock()
	defer mu.Unlock()
	if len(ended) != 1 || ended[0] != pos.StatusCancelled {
		t.Errorf("ended %v, want [cancelled]", ended)
	}
}

// countingGets counts the polls made.
type countingGets struct {
	pos.Centrapay
	n atomic.Int64
}

func (c *countingGets) Get(ctx context.Context, id string) (*centrapay.PaymentRequest, *centrapay.Response, error) {
	c.n.Add(1)
	return c.Centrapay.Get(ctx, id)
}

// TestRecoveredPollsSpread: after a restart the open sales' first polls
// are spread over one poll interval, not made in one burst that would
// repeat every second after.
func TestRecoveredPollsSpread(t *testing.T) {
	var gets *countingGets
	r := newRig(t, func(c *pos.Config) {
		gets = &countingGets{Centrapay: c.Centrapay}
		c.Centrapay = gets
	})
	for range 4 {
		r.start(nil)
	}
	r.restart() // settles the work due at once: one sale's poll of four
	polled := []int64{gets.n.Swap(0)}
	for range 3 {
		r.fake.Advance(250 * time.Millisecond)
		r.settle()
		polled = append(polled, gets.n.Swap(0))
	}
	if fmt.Sprint(polled) != "[1 1 1 1]" {
		t.Fatalf("polls per quarter second after a restart: %v, want [1 1 1 1]", polled)
	}
}
