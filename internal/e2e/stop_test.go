package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestStopCleanly: SIGTERM stops `serve` while polls of 200 live sales hang
// at Centrapay. Being stopped is not Centrapay's unknown answer: the server
// exits 0 within its grace, logs no error, voids nothing (every request is
// still new at the sandbox), and the next start carries the sales on.
func TestStopCleanly(t *testing.T) {
	needBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := testDir(t)
	sb := startSandbox(t, dir)
	db := filepath.Join(dir, "journal.db")
	token := addTerminal(t, db, "till-1", configA, false)
	srv := newServer(t, dir, db, sb)
	srv.extra = []string{"--expiry", "600"} // no sale expires during the test
	srv.start()
	c := newClient(t)
	const live = 200
	var mu sync.Mutex
	var sales []saleView
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				var s saleView
				a, err := do(ctx, c, "POST", srv.base()+"/api/v1/sales", token, fmt.Sprint("stop-", i), []byte(`{"value": 500}`))
				if err == nil && a.status != http.StatusCreated {
					err = fmt.Errorf("%d %s", a.status, a.body)
				}
				if err == nil {
					err = json.Unmarshal(a.body, &s)
				}
				if err != nil {
					t.Errorf("sale %d: %v", i, err)
					continue
				}
				mu.Lock()
				sales = append(sales, s)
				mu.Unlock()
			}
		})
	}
	for i := range live {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		return
	}
	// from now on every poll hangs at Centrapay for 30 s
	fault := `{"method": "GET", "path": "/api/payment-requests/*", "kind": "latency", "delayMs": 30000}`
	if a, err := do(ctx, c, "POST", sb.BaseURL+"/sandbox/faults", "", "", []byte(fault)); err != nil || a.status >= 300 {
		t.Fatalf("fault: %v %+v", err, a)
	}
	time.Sleep(2 * time.Second) // every sale's poll is in flight, hanging
	srv.mu.Lock()
	p := srv.cur
	srv.mu.Unlock()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30 s of SIGTERM")
	}
	took := time.Since(start)
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("serve exited %d after SIGTERM, want 0", code)
	}
	t.Logf("serve stopped %v after SIGTERM with %d polls hanging", took.Round(time.Millisecond), live)
	logs, err := os.ReadFile(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(logs), "level=ERROR"); n > 0 {
		t.Errorf("stopping logged %d errors:\n%s", n, strings.Join(grepLog(filepath.Join(dir, "serve.log"), "level=ERROR", 5), "\n"))
	}
	if !strings.Contains(string(logs), "cut off") {
		t.Errorf("serve did not say it cut off the polls still waiting:\n%s", tail(filepath.Join(dir, "serve.log"), 10))
	}
	if a, err := do(ctx, c, "DELETE", sb.BaseURL+"/sandbox/faults", "", "", nil); err != nil || a.status >= 300 {
		t.Fatalf("clear faults: %v", err)
	}
	l, err := ledger(ctx, c, sb)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != live {
		t.Fatalf("%d requests at the sandbox, want %d", len(l), live)
	}
	for _, e := range l {
		if e.Status != "new" {
			t.Fatalf("request %s is %s after the stop: stopping voided it (%v)", e.ID, e.Status, e.Activities)
		}
	}
	// the next start polls them again: a payment made meanwhile is seen
	paid := sales[0]
	if a, err := do(ctx, c, "POST", sb.BaseURL+"/sandbox/payment-requests/"+paid.PaymentRequest.ID+"/pay", "", "", nil); err != nil || a.status != 200 {
		t.Fatalf("pay: %v %+v", err, a)
	}
	srv.start()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var s saleView
		if err := getJSON(ctx, c, srv.base()+"/api/v1/sales/"+paid.ID, token, &s); err != nil {
			t.Fatal(err)
		}
		if s.Status == "paid" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart the paid sale is %s", s.Status)
		}
	}
}
