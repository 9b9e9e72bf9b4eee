package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// newHTTPClient returns a client that keeps enough idle connections for
// the bench's concurrency, so it measures requests, not TCP handshakes.
func newHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// saleView is what the bench reads of a sale in the terminal API.
type saleView struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	PaymentRequest *struct {
		ID string `json:"id"`
	} `json:"paymentRequest"`
}

// httpError is an answer with an unexpected status.
type httpError struct {
	Op     string
	Status int
	Body   string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.Op, e.Status, strings.TrimSpace(e.Body))
}

// till drives the terminal API with one terminal's token.
type till struct {
	c     *http.Client
	base  string
	token string
}

// saleValueCents is the value of every sale the bench creates: money is
// integer cents in the API.
const saleValueCents int64 = 1000

// createSale POSTs one sale with a new Idempotency-Key and returns it.
func (t till) createSale(ctx context.Context) (saleView, error) {
	body := fmt.Appendf(nil, `{"value": %d}`, saleValueCents)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/api/v1/sales", bytes.NewReader(body))
	if err != nil {
		return saleView{}, fmt.Errorf("create sale: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+t.token)
	req.Header.Set("Idempotency-Key", newKey())
	req.Header.Set("Content-Type", "application/json")
	var s saleView
	if err := doJSON(t.c, req, http.StatusCreated, &s); err != nil {
		return saleView{}, fmt.Errorf("create sale: %w", err)
	}
	return s, nil
}

// getSale GETs a sale.
func (t till) getSale(ctx context.Context, id string) (saleView, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+"/api/v1/sales/"+id, nil)
	if err != nil {
		return saleView{}, fmt.Errorf("get sale: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+t.token)
	var s saleView
	if err := doJSON(t.c, req, http.StatusOK, &s); err != nil {
		return saleView{}, fmt.Errorf("get sale: %w", err)
	}
	return s, nil
}

// pendingSale creates a sale and waits (up to 30 s) until its Payment
// Request exists and waits for the patron.
func (t till) pendingSale(ctx context.Context) (saleView, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := t.createSale(ctx)
	for err == nil && (s.PaymentRequest == nil || s.Status != "pending") {
		if s.Status != "pending" && s.Status != "resolving" {
			return s, fmt.Errorf("sale %s is %s, not pending", s.ID, s.Status)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return s, fmt.Errorf("sale %s: no payment request: %w", s.ID, err)
		}
		s, err = t.getSale(ctx, s.ID)
	}
	return s, err
}

// doJSON sends req and decodes a want-status answer into v.
func doJSON(c *http.Client, req *http.Request, want int, v any) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return &httpError{Op: req.Method + " " + req.URL.Path, Status: resp.StatusCode, Body: string(b)}
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(b, v)
}

// newKey is a fresh Idempotency-Key: one per intent, as a till makes.
func newKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// scrape GETs a /metrics page and parses it.
func scrape(ctx context.Context, c *http.Client, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %d", url, resp.StatusCode)
	}
	return ParseMetrics(string(b))
}

// watchPaid opens the sale's event stream, calls pay once the first
// snapshot has arrived and delay has passed, and returns the time from
// the call to pay to the stream's first event saying paid.
func (t till) watchPaid(ctx context.Context, saleID string, delay time.Duration, pay func(context.Context) error) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+"/api/v1/sales/"+saleID+"/events", nil)
	if err != nil {
		return 0, fmt.Errorf("watch sale: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+t.token)
	stream := &http.Client{Transport: t.c.Transport} // no client timeout: ctx bounds it
	resp, err := stream.Do(req)
	if err != nil {
		return 0, fmt.Errorf("watch sale: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("watch sale: %d", resp.StatusCode)
	}
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	if !lines.Scan() { // the first snapshot: the stream is open
		return 0, fmt.Errorf("watch sale: stream ended at once: %v", lines.Err())
	}
	select { // the patron pays at a moment of their own, not in step with the polls
	case <-time.After(delay):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	start := time.Now()
	if err := pay(ctx); err != nil {
		return 0, err
	}
	for lines.Scan() {
		l := lines.Text()
		if strings.HasPrefix(l, "data: ") && strings.Contains(l, `"status":"paid"`) {
			return time.Since(start), nil
		}
	}
	return 0, fmt.Errorf("watch sale: stream ended before paid: %v", lines.Err())
}

// payRequest has the sandbox's patron pay a Payment Request in full.
func payRequest(ctx context.Context, c *http.Client, sandboxURL, requestID string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sandboxURL+"/sandbox/payment-requests/"+requestID+"/pay", nil)
	if err != nil {
		return fmt.Errorf("pay: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("pay: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("pay %s: %d", requestID, resp.StatusCode)
	}
	return nil
}
