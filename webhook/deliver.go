package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/pos"
)

// The retry schedule: a failed delivery is tried again after FirstRetry,
// then twice as long each time, at most MaxRetry apart (each wait up to
// a fifth longer at random, so that endpoints coming back are not all
// called at once), until pos.DeliveryWindow (3 days) after its event;
// then it is given up, and may be redelivered by hand.
const (
	FirstRetry = 5 * time.Second
	MaxRetry   = time.Hour
)

// Backoff is the wait before the next try of a delivery that has failed
// attempts times (jitter aside): 5 s, 10 s, 20 s … 1 h, 1 h …
func Backoff(attempts int) time.Duration {
	d := FirstRetry << min(max(attempts, 1)-1, 20)
	return min(d, MaxRetry)
}

// Config configures a Deliverer; Outbox is required.
type Config struct {
	Outbox pos.Outbox
	// Client sends the POSTs; the default follows no redirect (a 3xx is
	// a failed try).
	Client       *http.Client
	Clock        clock.Clock
	Logger       *slog.Logger
	Timeout      time.Duration // for each POST, answer included; default 10 s
	PerEndpoint  int           // POSTs in flight to one endpoint; default 4
	PollInterval time.Duration // how often the outbox is read when nothing wakes it; default 1 s
	UserAgent    string        // default "centrapos-webhook"
	// OnAttempt, if set, is called after each try is recorded (tests,
	// metrics).
	OnAttempt func(pos.Attempt)
}

// Deliverer sends the outbox's events to their endpoints, at least once,
// in order per sale per endpoint. It is separate from the engine: the
// engine only writes the outbox (in its own transactions) and never waits
// for a delivery, so a slow or dead endpoint never slows a sale.
// Each endpoint has at most PerEndpoint POSTs in flight, each bounded by
// Timeout, so a hanging endpoint holds only its own slots.
type Deliverer struct {
	cfg Config
	o   pos.Outbox
	clk clock.Clock
	log *slog.Logger

	mu       sync.Mutex
	inflight map[string]int  // endpoint id → POSTs in flight
	busy     map[string]bool // "event endpoint" and "endpoint stream" in flight
	wg       sync.WaitGroup
	wake     chan struct{}
}

// New returns a Deliverer configured by cfg.
func New(cfg Config) (*Deliverer, error) {
	if cfg.Outbox == nil {
		return nil, errors.New("webhook: an Outbox is required")
	}
	if cfg.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		cfg.Client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.PerEndpoint <= 0 {
		cfg.PerEndpoint = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "centrapos-webhook"
	}
	return &Deliverer{cfg: cfg, o: cfg.Outbox, clk: cfg.Clock, log: cfg.Logger,
		inflight: map[string]int{}, busy: map[string]bool{}, wake: make(chan struct{}, 1)}, nil
}

// Wake makes Run read the outbox now rather than at its next poll (the
// server calls it after each journaled change).
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then waits for the POSTs in flight
// (which ctx cancels: a POST cut short is not recorded, and is sent again
// after the restart).
func (d *Deliverer) Run(ctx context.Context) error {
	defer d.wg.Wait()
	for {
		d.Dispatch(ctx)
		timer := d.clk.NewTimer(d.cfg.PollInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-d.wake:
		case <-timer.C():
		}
		timer.Stop()
	}
}

// Step dispatches what is due and waits until every POST in flight is
// done; it returns how many it started. Tests drive a Deliverer with a
// fake clock and Step.
func (d *Deliverer) Step(ctx context.Context) int {
	n := d.Dispatch(ctx)
	d.wg.Wait()
	return n
}

// Dispatch starts a POST for each delivery due now, as far as each
// endpoint's free slots allow, and returns how many it started; it does
// not wait for them.
func (d *Deliverer) Dispatch(ctx context.Context) int {
	eps, err := d.o.Endpoints(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("webhook: read the endpoints", "err", err)
		}
		return 0
	}
	now := d.clk.Now()
	started := 0
	for _, ep := range eps {
		if !ep.Enabled {
			continue
		}
		d.mu.Lock()
		busy := d.inflight[ep.ID]
		d.mu.Unlock()
		free := d.cfg.PerEndpoint - busy
		if free <= 0 {
			continue
		}
		// the deliveries in flight are still pending, so due: ask for
		// enough to find free others
		due, err := d.o.Due(ctx, ep.ID, now, free+busy)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("webhook: read the deliveries due", "endpoint", ep.ID, "err", err)
			}
			continue
		}
		for _, dl := range due {
			if free == 0 {
				break
			}
			if !d.take(dl) {
				continue
			}
			free--
			started++
			d.wg.Go(func() {
				defer d.release(dl)
				d.attempt(ctx, ep, dl)
			})
		}
	}
	return started
}

func deliveryKey(dl pos.Delivery) string { return dl.EventID + " " + dl.EndpointID }
func streamKey(dl pos.Delivery) string   { return dl.EndpointID + " " + dl.Stream }

// take marks dl in flight, unless it or another event of its stream to
// its endpoint is.
func (d *Deliverer) take(dl pos.Delivery) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy[deliveryKey(dl)] || d.busy[streamKey(dl)] {
		return false
	}
	d.busy[deliveryKey(dl)], d.busy[streamKey(dl)] = true, true
	d.inflight[dl.EndpointID]++
	return true
}

func (d *Deliverer) release(dl pos.Delivery) {
	d.mu.Lock()
	delete(d.busy, deliveryKey(dl))
	delete(d.busy, streamKey(dl))
	if d.inflight[dl.EndpointID]--; d.inflight[dl.EndpointID] <= 0 {
		delete(d.inflight, dl.EndpointID)
	}
	d.mu.Unlock()
	d.Wake() // the next event of the stream may go now
}

// attempt POSTs one delivery and records the outcome.
func (d *Deliverer) attempt(ctx context.Context, ep pos.Endpoint, dl pos.Delivery) {
	ev, err := d.o.Event(ctx, dl.EventID)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("webhook: read event", "event", dl.EventID, "err", err)
		}
		return
	}
	body, err := json.Marshal(ev)
	if err != nil {
		d.log.Error("webhook: marshal event", "event", dl.EventID, "err", err)
		return
	}
	at := d.clk.Now()
	status, retryAfter, why := d.post(ctx, ep, ev, body, at)
	if status == 0 && ctx.Err() != nil {
		return // shutting down: not a try; it is sent again after the restart
	}
	ctx = context.WithoutCancel(ctx) // an answer is recorded, even while shutting down
	end := d.clk.Now()
	a := pos.Attempt{EventID: dl.EventID, EndpointID: dl.EndpointID, At: at, Status: status, Error: why}
	switch {
	case why == "":
		a.State, a.NextAt = pos.DeliverySucceeded, end
	default:
		wait := max(jitter(Backoff(dl.Attempts+1)), min(retryAfter, MaxRetry))
		a.State, a.NextAt = pos.DeliveryPending, end.Add(wait)
		if a.NextAt.After(dl.ExpiresAt) {
			a.State, a.NextAt = pos.DeliveryFailed, end
		}
	}
	if err := d.o.RecordAttempt(ctx, a); err != nil {
		d.log.Error("webhook: record attempt", "event", dl.EventID, "endpoint", dl.EndpointID, "err", err)
		return
	}
	switch a.State {
	case pos.DeliveryPending:
		d.log.Warn("webhook: delivery failed; will retry", "event", dl.EventID, "type", ev.Type, "endpoint", ep.ID,
			"attempt", dl.Attempts+1, "status", status, "err", why, "next", a.NextAt)
	case pos.DeliveryFailed:
		d.log.Error("webhook: delivery given up (centrapos webhook redeliver sends it again)", "event", dl.EventID, "type", ev.Type,
			"endpoint", ep.ID, "attempts", dl.Attempts+1, "status", status, "err", why)
	}
	if d.cfg.OnAttempt != nil {
		d.cfg.OnAttempt(a)
	}
}

// post sends body to ep, signed at at; it returns the HTTP status (0
// when none came), how long the endpoint asked to be left alone
// (Retry-After), and why the try failed ("" when it succeeded: 2xx).
func (d *Deliverer) post(ctx context.Context, ep pos.Endpoint, ev *pos.OutboxEvent, body []byte, at time.Time) (int, time.Duration, string) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, strings.NewReader(string(body)))
	if err != nil {
		return 0, 0, "bad endpoint URL: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.cfg.UserAgent)
	req.Header.Set(SignatureHeader, Sign(ep.Secret, at, body))
	req.Header.Set(EventIDHeader, ev.ID)
	req.Header.Set(EventTypeHeader, string(ev.Type))
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, 0, fmt.Sprintf("no answer within %v", d.cfg.Timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, 0, err.Error()
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be kept
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, ""
	}
	var retryAfter time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	why := "HTTP " + strconv.Itoa(resp.StatusCode)
	if s := clean(string(snippet)); s != "" {
		why += ": " + s
	}
	return resp.StatusCode, retryAfter, why
}

// clean is s on one line, without control characters.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// jitter is d and up to a fifth more, at random.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(mrand.Int64N(int64(d)/5+1))
}
