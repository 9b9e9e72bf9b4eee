package pos_test

import (
	"bytes"
	"context"
	"errors"
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
		if err := c.Budget().Wait(r.ctx, centrapay.PriorityLive); err != nil {
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
	slowBudget(r, 6) // one call every 10 s: none within the create's 3 s
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
	b := slowBudget(r, 30) // one call every 2 s
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
	r.fake.Advance(2 * time.Second)
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
