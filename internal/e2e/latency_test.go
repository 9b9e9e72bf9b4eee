package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkPaidToTill measures what a cashier waits for: the time from
// the patron's payment at Centrapay (the sandbox) to the till's event
// stream showing the sale paid, with the real `centrapos sandbox` and
// `centrapos serve` processes, rate limits lifted, and other sales live
// meanwhile ($CENTRAPOS_BENCH_LIVE, default 1000), with Centrapay's
// webhooks on and off. One measured sale per iteration; run it with
//
//	go test -run '^$' -bench PaidToTill -benchtime 200x ./internal/e2e
//
// It reports p50, p99 and max in milliseconds.
func BenchmarkPaidToTill(b *testing.B) {
	if binPath == "" {
		b.Skip("no binary")
	}
	live := 1000
	if v, err := strconv.Atoi(os.Getenv("CENTRAPOS_BENCH_LIVE")); err == nil {
		live = v
	}
	for _, hooks := range []bool{false, true} {
		b.Run(fmt.Sprintf("webhooks=%v/live=%d", hooks, live), func(b *testing.B) { paidToTill(b, hooks, live) })
	}
}

func paidToTill(b *testing.B, hooks bool, live int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := b.TempDir()
	port := freePort(b)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	hookURL := base + "/webhooks/centrapay"
	sbArgs := []string{"sandbox", "--listen", "127.0.0.1:0", "--rate-limit", "-1"}
	if hooks {
		sbArgs = append(sbArgs, "--webhook", hookURL)
	}
	sbp, err := startProc(b, "sandbox", filepath.Join(dir, "sandbox.log"), nil, sbArgs...)
	if err != nil {
		b.Fatal(err)
	}
	l, err := sbp.line("{", 20*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	var sb sandboxInfo
	if err := json.Unmarshal([]byte(l), &sb); err != nil {
		b.Fatal(err)
	}
	db := filepath.Join(dir, "journal.db")
	token := addTerminal(b, db, "till-1", sb.ConfigID, false)
	args := []string{"serve", "--db", db, "--centrapay-url", sb.BaseURL, "--merchant-account-id", sb.MerchantAccountID,
		"--listen", "127.0.0.1:" + strconv.Itoa(port), "--rate-limit", "10000000", "--expiry", "3600"}
	if hooks {
		args = append(args, "--webhook-audience", hookURL, "--jwks-url", sb.BaseURL+"/.well-known/jwks.json")
	}
	sp, err := startProc(b, "serve", filepath.Join(dir, "serve.log"), []string{"CENTRAPAY_API_KEY=" + sb.APIKey}, args...)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sp.line("centrapos serving on ", 20*time.Second); err != nil {
		b.Fatal(err)
	}
	c := newClient(b)
	sale := func() (saleView, error) {
		a, err := do(ctx, c, "POST", base+"/api/v1/sales", token, newKey(), []byte(`{"value": 1000}`))
		var s saleView
		if err == nil && a.status != http.StatusCreated {
			err = fmt.Errorf("POST /sales: %d %s", a.status, a.body)
		}
		if err == nil {
			err = json.Unmarshal(a.body, &s)
		}
		return s, err
	}
	for i := range live { // the other sales, live while the measured ones are paid
		if _, err := sale(); err != nil {
			b.Fatalf("live sale %d: %v", i, err)
		}
	}
	waits := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		s, err := sale()
		if err != nil {
			b.Fatal(err)
		}
		for s.PaymentRequest == nil || s.Status != "pending" {
			if err := getJSON(ctx, c, base+"/api/v1/sales/"+s.ID, token, &s); err != nil {
				b.Fatal(err)
			}
		}
		d, err := payAndWatch(ctx, c, base, token, sb, s)
		if err != nil {
			b.Fatal(err)
		}
		waits = append(waits, d)
	}
	b.StopTimer()
	slices.Sort(waits)
	at := func(q float64) float64 {
		return float64(waits[int(q*float64(len(waits)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
}

// payAndWatch follows the sale's event stream, has the patron pay it, and
// returns how long the stream took to say paid.
func payAndWatch(ctx context.Context, c *http.Client, base, token string, sb sandboxInfo, s saleView) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/sales/"+s.ID+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	stream := &http.Client{Transport: c.Transport} // no client timeout: the context bounds it
	resp, err := stream.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	if !lines.Scan() { // the first snapshot: the stream is open
		return 0, fmt.Errorf("stream: %v", lines.Err())
	}
	// the patron pays at a moment of their own, not in step with the polls
	time.Sleep(time.Duration(mrand.IntN(1000)) * time.Millisecond)
	start := time.Now()
	if a, err := do(ctx, c, "POST", sb.BaseURL+"/sandbox/payment-requests/"+s.PaymentRequest.ID+"/pay", "", "", nil); err != nil || a.status >= 300 {
		return 0, fmt.Errorf("pay: %v %d", err, a.status)
	}
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "data: ") && strings.Contains(lines.Text(), `"status":"paid"`) {
			return time.Since(start), nil
		}
	}
	return 0, fmt.Errorf("stream ended before paid: %v", lines.Err())
}
