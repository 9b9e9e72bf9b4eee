package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centrapos/centrapos/webhook"
)

// eventReceiver is a merchant's back office receiving centrapos's events:
// it checks each signature, dedupes on the event id, and keeps the first
// arrival of each event in order. Its mode says how it answers: "down"
// (500), "hold" (no answer until the connection drops), "up" (200).
type eventReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	mode     string
	tries    map[string]int // event id → requests (answered or not)
	accepted map[string]int // event id → 200s answered
	first    []arrival      // first accepted arrival of each event, in order
	bad      []string       // requests whose signature did not verify
	held     chan struct{}  // a request is held ("hold" mode)
}

type arrival struct {
	id, typ, sale string
	sequence      int64
}

func newEventReceiver(t *testing.T) *eventReceiver {
	rc := &eventReceiver{mode: "down", tries: map[string]int{}, accepted: map[string]int{}, held: make(chan struct{}, 16)}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *eventReceiver) serve(w http.ResponseWriter, r *http.Request) {
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
	rc.mu.Lock()
	mode, secret := rc.mode, rc.secret
	rc.tries[ev.ID]++
	if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil || r.Header.Get(webhook.EventIDHeader) != ev.ID {
		rc.bad = append(rc.bad, fmt.Sprintf("%s: %v", ev.ID, err))
		rc.mu.Unlock()
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	rc.mu.Unlock()
	switch mode {
	case "down":
		http.Error(w, "back office down", http.StatusInternalServerError)
		return
	case "hold":
		rc.held <- struct{}{}
		<-r.Context().Done() // serve dies with the request in flight
		return
	}
	sale := ev.Data.ID
	if strings.HasPrefix(ev.Type, "refund.") {
		sale = ev.Data.SaleID
	}
	rc.mu.Lock()
	if rc.accepted[ev.ID]++; rc.accepted[ev.ID] == 1 {
		rc.first = append(rc.first, arrival{ev.ID, ev.Type, sale, ev.Sequence})
	}
	rc.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (rc *eventReceiver) setMode(m string) {
	rc.mu.Lock()
	rc.mode = m
	rc.mu.Unlock()
}

// tried is how many distinct events were tried.
func (rc *eventReceiver) tried() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.tries)
}

// firsts is, per sale, the types of the first arrivals in arrival order,
// checked to be numbered 1, 2, 3 …
func (rc *eventReceiver) firsts(t *testing.T) map[string][]string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string][]string{}
	for _, a := range rc.first {
		if a.sequence != int64(len(out[a.sale])+1) {
			t.Errorf("sale %s: event %s (%s) arrived first as number %d, after %v", a.sale, a.id, a.typ, a.sequence, out[a.sale])
		}
		out[a.sale] = append(out[a.sale], a.typ)
	}
	return out
}

// addWebhook runs `centrapos webhook add` and returns the endpoint id and
// its secret.
func addWebhook(t *testing.T, db, url string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binPath, "webhook", "add", url, "--db", db, "--events", "*")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("webhook add: %v\n%s", err, stderr.String())
	}
	id := regexp.MustCompile(`we_\w+`).FindString(string(out))
	secret := regexp.MustCompile(`(?m)^whsec_\w+$`).FindString(string(out))
	if id == "" || secret == "" {
		t.Fatalf("webhook add printed %q", out)
	}
	return id, secret
}

// TestEventsOutSurviveKill: events reach the merchant's endpoint at least
// once, in order per sale, though serve is killed with SIGKILL after the
// sales changed and before their events were delivered: once while the
// endpoint answered 500 (its retries were journaled), once with a POST in
// flight (not journaled).
func TestEventsOutSurviveKill(t *testing.T) {
	needBinary(t)
	dir := testDir(t)
	sb := startSandbox(t, dir)
	db := filepath.Join(dir, "journal.db")
	till := addTerminal(t, db, "till-1", configA, false)
	rc := newEventReceiver(t)
	endpoint, secret := addWebhook(t, db, rc.URL)
	rc.mu.Lock()
	rc.secret = secret
	rc.mu.Unlock()
	srv := newServer(t, dir, db, sb)
	srv.start()
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	sale := func(ref, scenario, want string) saleView {
		t.Helper()
		a, err := do(ctx, c, "POST", srv.base()+"/api/v1/sales", till, newKey(),
			[]byte(`{"value": 1000, "externalRef": "`+ref+`", "flow": "barcode", "barcode": "`+sb.Scenarios[scenario].Barcode+`"}`))
		if err != nil || a.status != http.StatusCreated {
			t.Fatalf("sale %s: %v %d %s", ref, err, a.status, a.body)
		}
		var s saleView
		json.Unmarshal(a.body, &s)
		for deadline := time.Now().Add(15 * time.Second); s.Status != want; {
			if time.Now().After(deadline) {
				t.Fatalf("sale %s still %s, want %s", ref, s.Status, want)
			}
			time.Sleep(20 * time.Millisecond)
			if err := getJSON(ctx, c, srv.base()+"/api/v1/sales/"+s.ID, till, &s); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	waitFor := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(d); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v; serve's log:\n%s", what, d, tail(filepath.Join(dir, "serve.log"), 15))
			}
		}
	}

	// 1. the back office is down: a sale paid and refunded, a sale
	// declined; their first events are tried (500), then serve is killed
	paid := sale("E2E-EV-1", "quick-pay", "paid")
	r, err := do(ctx, c, "POST", srv.base()+"/api/v1/refunds", till, newKey(), []byte(`{"saleId": "`+paid.ID+`", "value": 300}`))
	if err != nil || r.status != http.StatusCreated {
		t.Fatalf("refund: %v %d %s", err, r.status, r.body)
	}
	declined := sale("E2E-EV-2", "insufficient-funds", "cancelled")
	waitFor("a try of each sale's first event", 10*time.Second, func() bool { return rc.tried() >= 2 })
	srv.kill()
	if n := rc.tried(); n != 2 {
		t.Errorf("%d events tried while the first of each sale failed, want 2 (the others wait their turn)", n)
	}

	// 2. it is back: the restarted serve retries on the journaled schedule
	rc.setMode("up")
	srv.start()
	waitFor("the events of the first two sales", 15*time.Second, func() bool {
		f := rc.firsts(t)
		return len(f[paid.ID]) == 4 && len(f[declined.ID]) == 1 // the refund completes 2 s after it is accepted
	})

	// 3. a sale is paid and serve dies with its event's POST in flight
	rc.setMode("hold")
	third := sale("E2E-EV-3", "quick-pay", "paid")
	select {
	case <-rc.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the third sale's event was not sent")
	}
	srv.kill()
	rc.setMode("up")
	srv.start()
	waitFor("the third sale's event", 10*time.Second, func() bool { return len(rc.firsts(t)[third.ID]) == 1 })

	f := rc.firsts(t)
	want := map[string]string{
		paid.ID:     "sale.paid refund.pending refund.succeeded refund.completed",
		declined.ID: "sale.cancelled",
		third.ID:    "sale.paid",
	}
	for id, w := range want {
		if got := strings.Join(f[id], " "); got != w {
			t.Errorf("sale %s: events %q, want %q", id, got, w)
		}
	}
	rc.mu.Lock()
	if len(rc.bad) > 0 {
		t.Errorf("signatures that did not verify: %v", rc.bad)
	}
	dups := 0
	for id, n := range rc.accepted {
		dups += n - 1
		if n < 1 {
			t.Errorf("event %s never accepted", id)
		}
	}
	t.Logf("%d events accepted, %d duplicates deduped by id; tries per event: %v", len(rc.accepted), dups, rc.tries)
	if len(rc.accepted) != 6 {
		t.Errorf("%d events accepted, want 6", len(rc.accepted))
	}
	rc.mu.Unlock()

	// the delivery log says the same
	var log string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, err := exec.Command(binPath, "webhook", "deliveries", "--db", db, "--endpoint", endpoint).CombinedOutput()
		log = string(out)
		if err == nil && strings.Count(log, " succeeded ") == 6 && !strings.Contains(log, " pending ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery log, 10 s later: %v\n%s", err, log)
		}
	}
	t.Logf("the delivery log:\n%s", log)
}
