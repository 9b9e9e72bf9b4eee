package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/sqlite"
	"github.com/centrapos/centrapos/webhook"
)

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// rig is a deliverer on a SQLite journal and a fake clock.
type rig struct {
	t        *testing.T
	ctx      context.Context
	fake     *clock.Fake
	j        *sqlite.Journal
	d        *webhook.Deliverer
	attempts chan pos.Attempt
}

func newRig(t *testing.T, edit func(*webhook.Config)) *rig {
	t.Helper()
	r := &rig{t: t, ctx: context.Background(), fake: clock.NewFake(t0), attempts: make(chan pos.Attempt, 100)}
	var err error
	r.j, err = sqlite.Open(r.ctx, filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.j.Close() })
	cfg := webhook.Config{Outbox: r.j, Clock: r.fake, OnAttempt: func(a pos.Attempt) { r.attempts <- a }}
	if edit != nil {
		edit(&cfg)
	}
	if r.d, err = webhook.New(cfg); err != nil {
		t.Fatal(err)
	}
	return r
}

// endpoint adds an endpoint for url receiving types (none: all).
func (r *rig) endpoint(url string, types ...pos.EventType) *pos.Endpoint {
	r.t.Helper()
	e, err := pos.AddEndpoint(r.ctx, r.j, url, types)
	if err != nil {
		r.t.Fatal(err)
	}
	return e
}

// paid journals sale id, started and paid now.
func (r *rig) paid(id string) *pos.Sale {
	r.t.Helper()
	s := &pos.Sale{ID: id, TerminalID: "till-1", ExternalRef: "ref-" + id, Value: 1000, Currency: "NZD", Status: pos.StatusPending,
		CreatedAt: r.fake.Now(), UpdatedAt: r.fake.Now()}
	r.save(&pos.Change{Sale: s, NewSale: true, Note: "sale started"})
	s.Status = pos.StatusPaid
	r.save(&pos.Change{Sale: s, Note: "paid"})
	return s
}

// refund journals refund id of s, pending then succeeded.
func (r *rig) refund(s *pos.Sale, id string) {
	r.t.Helper()
	op := &pos.Op{ID: id, SaleID: s.ID, Kind: pos.OpRefund, Amount: 100, Currency: "NZD", State: pos.OpPending, CreatedAt: r.fake.Now(), UpdatedAt: r.fake.Now()}
	r.save(&pos.Change{Ops: []*pos.Op{op}})
	op.State = pos.OpSucceeded
	s.Refunded += 100
	r.save(&pos.Change{Sale: s, Note: "refunded", Ops: []*pos.Op{op}})
}

func (r *rig) save(c *pos.Change) {
	r.t.Helper()
	if c.Sale != nil {
		c.Sale.UpdatedAt = r.fake.Now()
		if !c.NewSale {
			c.Sale.Version++ // as the engine does: the journal takes no stale update
		}
	}
	for _, op := range c.Ops {
		op.UpdatedAt = r.fake.Now()
	}
	if err := r.j.Save(r.ctx, c); err != nil {
		r.t.Fatal(err)
	}
}

// attempt waits for the next recorded try.
func (r *rig) attempt() pos.Attempt {
	r.t.Helper()
	select {
	case a := <-r.attempts:
		return a
	case <-time.After(10 * time.Second):
		r.t.Fatal("no attempt recorded in 10 s")
		return pos.Attempt{}
	}
}

// received is one request a receiver got.
type received struct {
	id, typ, stream string
	sequence        int64
	status          int
	body            []byte
	header          http.Header
}

// receiver is an httptest endpoint answering with answer(n) to its n-th
// request (0-based), recording every request.
type receiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

func newReceiver(t *testing.T, answer func(n int, ev received) int) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			Sequence int64  `json:"sequence"`
			Data     struct {
				ID     string `json:"id"`
				SaleID string `json:"saleId"`
			} `json:"data"`
		}
		json.Unmarshal(body, &ev)
		stream := ev.Data.ID
		if strings.HasPrefix(ev.Type, "refund.") {
			stream = ev.Data.SaleID
		}
		rv := received{id: ev.ID, typ: ev.Type, stream: stream, sequence: ev.Sequence, body: body, header: r.Header.Clone()}
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, rv)
		rc.mu.Unlock()
		rv.status = answer(n, rv)
		rc.mu.Lock()
		rc.got[n].status = rv.status
		rc.mu.Unlock()
		w.WriteHeader(rv.status)
		fmt.Fprintf(w, "answer %d\n", rv.status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func always(status int) func(int, received) int { return func(int, received) int { return status } }

// A receiver answering 500 five times, then 200, gets the event on the
// sixth try, each try after the backoff (no sooner), signed, with the same
// id and body every time.
func TestRetryUntilSuccess(t *testing.T) {
	r := newRig(t, nil)
	rc := newReceiver(t, func(n int, _ received) int {
		if n < 5 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	ep := r.endpoint(rc.URL)
	r.paid("s1")
	for i := 1; i <= 6; i++ {
		if n := r.d.Step(r.ctx); n != 1 {
			t.Fatalf("try %d: %d started", i, n)
		}
		a := r.attempt()
		if i < 6 {
			wait := a.NextAt.Sub(a.At)
			if base := webhook.Backoff(i); a.State != pos.DeliveryPending || a.Status != 500 || !strings.HasPrefix(a.Error, "HTTP 500: answer 500") ||
				wait < base || wait > base+base/5 {
				t.Fatalf("try %d: %+v (waits %v, backoff %v)", i, a, wait, base)
			}
			r.fake.Set(a.NextAt.Add(-time.Millisecond))
			if n := r.d.Step(r.ctx); n != 0 {
				t.Fatalf("try %d: sent again before its backoff", i)
			}
			r.fake.Set(a.NextAt)
			continue
		}
		if a.State != pos.DeliverySucceeded || a.Status != 200 || a.Error != "" {
			t.Fatalf("try 6: %+v", a)
		}
	}
	got := rc.requests()
	if len(got) != 6 {
		t.Fatalf("%d requests, want 6", len(got))
	}
	for i, g := range got {
		if g.id != got[0].id || string(g.body) != string(got[0].body) || g.header.Get(webhook.EventIDHeader) != g.id ||
			g.header.Get(webhook.EventTypeHeader) != "sale.paid" || g.header.Get("Content-Type") != "application/json" {
			t.Errorf("request %d: %s %s %v", i, g.id, g.body, g.header)
		}
		// signed at the time of the try
		if err := webhook.Verify(ep.Secret, g.header.Get(webhook.SignatureHeader), g.body, r.fake.Now(), 24*time.Hour); err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	l, _ := r.j.Deliveries(r.ctx, pos.DeliveryFilter{})
	if len(l) != 1 || l[0].State != pos.DeliverySucceeded || l[0].Attempts != 6 || l[0].LastStatus != 200 {
		t.Errorf("log: %+v", l)
	}
	if n := r.d.Step(r.ctx); n != 0 {
		t.Errorf("%d sent after the success", n)
	}
}

// The body is the event: {id, type, createdAt, sequence, data}.
func TestBody(t *testing.T) {
	r := newRig(t, nil)
	rc := newReceiver(t, always(http.StatusNoContent))
	r.endpoint(rc.URL)
	r.paid("s1")
	r.d.Step(r.ctx)
	got := rc.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests", len(got))
	}
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(got[0].body, &ev); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range ev {
		keys = append(keys, k)
	}
	if len(ev) != 5 || string(ev["type"]) != `"sale.paid"` || string(ev["sequence"]) != "1" || string(ev["createdAt"]) != `"2026-11-25T09:00:00Z"` ||
		!strings.Contains(string(ev["data"]), `"status":"paid"`) {
		t.Errorf("body %s (keys %v)", got[0].body, keys)
	}
	if a := r.attempt(); a.State != pos.DeliverySucceeded || a.Status != 204 {
		t.Errorf("a 204 is a success: %+v", a)
	}
}

// Event n+1 of a sale never reaches an endpoint before n succeeded there,
// however often n is retried; other sales are not held back.
func TestOrderPerSaleUnderRetries(t *testing.T) {
	r := newRig(t, nil)
	fails := map[string]int{}
	var mu sync.Mutex
	rc := newReceiver(t, func(_ int, ev received) int {
		mu.Lock()
		defer mu.Unlock()
		// the first event of s1 fails 3 times, its second twice
		limit := map[int64]int{1: 3, 2: 2}[ev.sequence]
		if ev.stream == "s1" && fails[ev.id] < limit {
			fails[ev.id]++
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	r.endpoint(rc.URL)
	s1 := r.paid("s1")
	r.refund(s1, "rf1") // s1: sale.paid, refund.pending, refund.succeeded
	r.paid("s2")
	for range 50 {
		for r.d.Step(r.ctx) > 0 { // each success lets the next of its sale go
		}
		next, ok := nextTry(t, r)
		if !ok {
			break
		}
		r.fake.Set(next)
	}
	got := rc.requests()
	var order []string
	done := map[string]int64{} // stream → last sequence accepted
	for _, g := range got {
		if g.sequence != done[g.stream]+1 && g.sequence != done[g.stream] {
			t.Errorf("%s %d (%s) sent while %d was the last accepted", g.stream, g.sequence, g.typ, done[g.stream])
		}
		if g.status == http.StatusOK {
			done[g.stream] = g.sequence
			order = append(order, fmt.Sprintf("%s/%d", g.stream, g.sequence))
		}
	}
	if strings.Join(order, " ") != "s2/1 s1/1 s1/2 s1/3" {
		t.Errorf("accepted in the order %v", order)
	}
	if len(got) != 4+3+2 {
		t.Errorf("%d requests, want 9", len(got))
	}
}

// nextTry is the soonest time a pending delivery waits for; false when
// none is pending.
func nextTry(t *testing.T, r *rig) (time.Time, bool) {
	l, err := r.j.Deliveries(r.ctx, pos.DeliveryFilter{State: pos.DeliveryPending})
	if err != nil {
		t.Fatal(err)
	}
	var next time.Time
	for _, d := range l {
		if d.NextAt.After(r.fake.Now()) && (next.IsZero() || d.NextAt.Before(next)) {
			next = d.NextAt
		}
	}
	if next.IsZero() && len(l) > 0 {
		t.Fatalf("%d pending deliveries, none waiting for a time", len(l))
	}
	return next, len(l) > 0
}

// A dead endpoint that never answers holds at most PerEndpoint POSTs and
// delays neither another endpoint's deliveries nor the journaling of a
// sale.
func TestDeadEndpointDelaysNobody(t *testing.T) {
	r := newRig(t, func(c *webhook.Config) { c.PerEndpoint = 2 })
	release := make(chan struct{})
	var mu sync.Mutex
	hanging, most := 0, 0
	dead := newReceiver(t, func(int, received) int {
		mu.Lock()
		hanging++
		most = max(most, hanging)
		mu.Unlock()
		<-release
		return http.StatusOK
	})
	live := newReceiver(t, always(http.StatusOK))
	defer close(release) // before the receivers close (cleanups run after defers)
	r.endpoint(dead.URL)
	r.endpoint(live.URL)
	for i := range 3 {
		r.paid(fmt.Sprintf("s%d", i))
	}
	// the dead endpoint takes its two slots and hangs; the live one gets
	// two at once, then the third, then a sale journaled meanwhile
	if n := r.d.Dispatch(r.ctx); n != 4 {
		t.Fatalf("%d started, want 2 + 2", n)
	}
	for range 2 {
		if a := r.attempt(); a.State != pos.DeliverySucceeded {
			t.Fatalf("live endpoint: %+v", a)
		}
	}
	if n := r.d.Dispatch(r.ctx); n != 1 {
		t.Fatalf("%d started, want the live endpoint's third", n)
	}
	r.attempt()
	r.paid("s3") // the engine's write: the outbox only, no waiting on anyone
	if n := r.d.Dispatch(r.ctx); n != 1 {
		t.Fatalf("%d started, want the new sale's event to the live endpoint", n)
	}
	r.attempt()
	got := live.requests()
	if len(got) != 4 {
		t.Errorf("the live endpoint got %d events, want 4", len(got))
	}
	mu.Lock()
	if most != 2 {
		t.Errorf("%d POSTs in flight to the dead endpoint, want at most 2", most)
	}
	mu.Unlock()
	if l, _ := r.j.Deliveries(r.ctx, pos.DeliveryFilter{State: pos.DeliveryPending}); len(l) != 4 {
		t.Errorf("%d pending, want the dead endpoint's 4", len(l))
	}
}

// A POST without an answer within Timeout is a failed try.
func TestTimeout(t *testing.T) {
	r := newRig(t, func(c *webhook.Config) { c.Timeout = 50 * time.Millisecond })
	release := make(chan struct{})
	rc := newReceiver(t, func(int, received) int { <-release; return http.StatusOK })
	defer close(release)
	r.endpoint(rc.URL)
	r.paid("s1")
	r.d.Step(r.ctx)
	a := r.attempt()
	if a.State != pos.DeliveryPending || a.Status != 0 || a.Error != "no answer within 50ms" {
		t.Errorf("%+v", a)
	}
}

// What is not a 2xx is a failed try: a redirect (not followed), a 4xx, a
// refused connection; a Retry-After is obeyed.
func TestFailures(t *testing.T) {
	redirect := httptest.NewServer(http.RedirectHandler("http://example.invalid/", http.StatusFound))
	defer redirect.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "600")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	cases := []struct {
		url, why string
		status   int
		wait     time.Duration
	}{
		{redirect.URL, "HTTP 302", 302, webhook.Backoff(1)},
		{notFound.URL, "HTTP 404: 404 page not found", 404, webhook.Backoff(1)},
		{gone.URL, "connect: connection refused", 0, webhook.Backoff(1)},
		{busy.URL, "HTTP 503", 503, 10 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.why, func(t *testing.T) {
			r := newRig(t, nil)
			r.endpoint(tc.url)
			r.paid("s1")
			r.d.Step(r.ctx)
			a := r.attempt()
			if a.State != pos.DeliveryPending || a.Status != tc.status || !strings.Contains(a.Error, tc.why) {
				t.Errorf("%+v", a)
			}
			if w := a.NextAt.Sub(a.At); w < tc.wait || w > tc.wait+tc.wait/5 {
				t.Errorf("waits %v, want %v", w, tc.wait)
			}
		})
	}
}

// A delivery that fails for three days is given up; redelivered by hand,
// it goes again with the same id and body.
func TestGiveUpAndRedeliver(t *testing.T) {
	r := newRig(t, nil)
	var mu sync.Mutex
	up := false
	rc := newReceiver(t, func(int, received) int {
		mu.Lock()
		defer mu.Unlock()
		if up {
			return http.StatusOK
		}
		return http.StatusInternalServerError
	})
	r.endpoint(rc.URL)
	r.paid("s1")
	var last pos.Attempt
	tries := 0
	for last.State != pos.DeliveryFailed {
		if tries++; tries > 200 {
			t.Fatal("never given up")
		}
		r.d.Step(r.ctx)
		last = r.attempt()
		r.fake.Set(last.NextAt)
	}
	if elapsed := last.At.Sub(t0); elapsed > pos.DeliveryWindow || elapsed < pos.DeliveryWindow-2*webhook.MaxRetry {
		t.Errorf("given up %v after the event, want about %v", elapsed, pos.DeliveryWindow)
	}
	t.Logf("given up after %d tries over %v", tries, last.At.Sub(t0))
	if tries < 70 || tries > 85 {
		t.Errorf("%d tries in three days", tries)
	}
	r.fake.Advance(time.Hour)
	if n := r.d.Step(r.ctx); n != 0 {
		t.Errorf("%d sent after it was given up", n)
	}
	evs, _ := r.j.Events(r.ctx, pos.EventFilter{})
	mu.Lock()
	up = true
	mu.Unlock()
	if n, err := r.j.Redeliver(r.ctx, evs[0].ID, "", r.fake.Now()); err != nil || n != 1 {
		t.Fatalf("redeliver: %d %v", n, err)
	}
	r.d.Step(r.ctx)
	if a := r.attempt(); a.State != pos.DeliverySucceeded {
		t.Errorf("redelivered: %+v", a)
	}
	got := rc.requests()
	first, lastReq := got[0], got[len(got)-1]
	if lastReq.id != first.id || string(lastReq.body) != string(first.body) {
		t.Errorf("the redelivery is not the same event: %s / %s", first.body, lastReq.body)
	}
}

// A delivered event redelivered by hand reaches the receiver again with
// the same id: receivers dedupe on it.
func TestDedupeIDStable(t *testing.T) {
	r := newRig(t, nil)
	rc := newReceiver(t, always(http.StatusOK))
	other := newReceiver(t, always(http.StatusOK))
	r.endpoint(rc.URL)
	late := r.endpoint(other.URL, pos.EventRefundSucceeded) // does not want sale.paid
	r.paid("s1")
	r.d.Step(r.ctx)
	r.attempt()
	evs, _ := r.j.Events(r.ctx, pos.EventFilter{})
	if n, err := r.j.Redeliver(r.ctx, evs[0].ID, "", r.fake.Now()); err != nil || n != 1 {
		t.Fatalf("redeliver: %d %v", n, err)
	}
	if n, err := r.j.Redeliver(r.ctx, evs[0].ID, late.ID, r.fake.Now()); err != nil || n != 1 {
		t.Fatalf("redeliver to another endpoint: %d %v", n, err)
	}
	r.d.Step(r.ctx)
	got := append(rc.requests(), other.requests()...)
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	for _, g := range got {
		if g.id != evs[0].ID || g.header.Get(webhook.EventIDHeader) != evs[0].ID || string(g.body) != string(got[0].body) {
			t.Errorf("request %s %s, want event %s", g.id, g.body, evs[0].ID)
		}
	}
}

// Run delivers at once when woken, and stops with its context.
func TestRun(t *testing.T) {
	r := newRig(t, nil)
	rc := newReceiver(t, always(http.StatusOK))
	r.endpoint(rc.URL)
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan error, 1)
	go func() { done <- r.d.Run(ctx) }()
	r.paid("s1")
	r.d.Wake()
	if a := r.attempt(); a.State != pos.DeliverySucceeded {
		t.Errorf("%+v", a)
	}
	s := r.paid("s2")
	r.refund(s, "rf1")
	r.d.Wake()
	for range 3 { // the refund's events follow one another without a poll
		r.attempt()
	}
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if n := len(rc.requests()); n != 4 {
		t.Errorf("%d delivered, want 4", n)
	}
}

// A disabled endpoint gets nothing; its pending deliveries wait for it.
func TestDisabledEndpointWaits(t *testing.T) {
	r := newRig(t, nil)
	rc := newReceiver(t, always(http.StatusOK))
	ep := r.endpoint(rc.URL)
	r.paid("s1")
	if err := r.j.SetEndpointEnabled(r.ctx, ep.ID, false); err != nil {
		t.Fatal(err)
	}
	r.paid("s2") // not fanned out to a disabled endpoint
	if n := r.d.Step(r.ctx); n != 0 {
		t.Errorf("%d sent to a disabled endpoint", n)
	}
	if err := r.j.SetEndpointEnabled(r.ctx, ep.ID, true); err != nil {
		t.Fatal(err)
	}
	if n := r.d.Step(r.ctx); n != 1 {
		t.Errorf("%d sent once enabled, want s1's event", n)
	}
}
