package certify

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
	"net/url"
	"strings"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// session is what the items of one run share: HTTP clients, the browser,
// the sales left open, and values one item leaves for another.
type session struct {
	env        *Env
	out        string
	hc         *http.Client
	stream     *http.Client      // event streams: no overall timeout
	open       map[string]string // sale id → terminal token, of sales not known final
	browser    *browser
	browserErr error // Chromium would not start: not tried again
	refSeq     int
	runID      string
}

func newSession(env *Env, out string) *session {
	var b [3]byte
	rand.Read(b[:])
	return &session{env: env, out: out, hc: &http.Client{Timeout: 70 * time.Second}, stream: &http.Client{},
		open: map[string]string{}, runID: strings.ToUpper(hex.EncodeToString(b[:]))}
}

func (s *session) close() {
	if s.browser != nil {
		s.browser.close()
	}
}

// cleanup cancels the sales an item left open (so that no Payment Request
// stays payable) and clears the sandbox's faults.
func (s *session) cleanup(ctx context.Context, c *Check) {
	if s.env.SandboxURL != "" {
		c.sandbox(ctx, http.MethodDelete, "/sandbox/faults", nil, nil)
	}
	// and any other sale still open (one a page started, say)
	var page struct {
		Items []Sale `json:"items"`
	}
	if _, err := c.api(ctx, http.MethodGet, "/api/v1/sales?open=true&limit=200", nil, &page); err == nil {
		for _, sl := range page.Items {
			if _, ok := s.open[sl.ID]; !ok {
				s.open[sl.ID] = c.till().Token
			}
		}
	}
	for id, token := range s.open {
		var sl Sale
		if _, err := c.apiAs(ctx, token, http.MethodGet, "/api/v1/sales/"+id, nil, &sl); err == nil && sl.Status.Final() {
			delete(s.open, id)
			continue
		}
		c.apiAs(ctx, token, http.MethodPost, "/api/v1/sales/"+id+"/cancel", nil, &sl)
		c.Step("cleanup: cancelled sale %s, left open, so that its Payment Request cannot be paid", id)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c.waitSale(wctx, id, func(s *Sale) bool { return s.Status.Final() })
		cancel()
		delete(s.open, id)
	}
}

// ref returns a new externalRef (receipt number) for this run.
func (s *session) ref(prefix string) string {
	s.refSeq++
	return fmt.Sprintf("CERT-%s-%s-%d", s.runID, prefix, s.refSeq)
}

// Sale is a sale as the terminal API shows it.
type Sale struct {
	pos.Sale
	Refunds []struct {
		ID     string `json:"id"`
		Amount int64  `json:"amount"`
		State  string `json:"state"`
		Status string `json:"status"`
	} `json:"refunds"`
}

// prID is the sale's Payment Request id, "" if none yet.
func (s *Sale) prID() string {
	if s.PaymentRequest == nil {
		return ""
	}
	return s.PaymentRequest.ID
}

// apiError is a problem+json answer of the terminal API.
type apiError struct {
	Status        int    `json:"status"`
	Code          string `json:"code"`
	Detail        string `json:"detail"`
	Field         string `json:"field"`
	CentrapayCode string `json:"centrapayCode"`
	RequestID     string `json:"requestId"`
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Detail)
	if e.CentrapayCode != "" {
		s += " (Centrapay " + e.CentrapayCode + ")"
	}
	return s
}

// till is the first terminal, the manager till every item uses.
func (c *Check) till() Terminal { return c.env.Terminals[0] }

// api calls the terminal API as the first terminal.
func (c *Check) api(ctx context.Context, method, path string, body, out any) (int, error) {
	return c.apiAs(ctx, c.till().Token, method, path, body, out)
}

// apiAs calls the terminal API with token: a POST carries a new
// Idempotency-Key; the request id is recorded; a problem answer is an
// *apiError.
func (c *Check) apiAs(ctx context.Context, token, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.env.POSURL, "/")+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == http.MethodPost {
		req.Header.Set("Idempotency-Key", newKey())
	}
	resp, err := c.session.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	c.requestID(resp.Header.Get("X-Request-Id"))
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		e := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Detail = strings.TrimSpace(string(data))
		}
		return resp.StatusCode, e
	}
	if out != nil {
		if b, ok := out.(*[]byte); ok {
			*b = data
		} else if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// startSale starts a sale on the first till and records it.
func (c *Check) startSale(ctx context.Context, in map[string]any) (*Sale, error) {
	return c.startSaleAs(ctx, c.till(), in)
}

func (c *Check) startSaleAs(ctx context.Context, t Terminal, in map[string]any) (*Sale, error) {
	if _, ok := in["externalRef"]; !ok {
		in["externalRef"] = c.session.ref(strings.ReplaceAll(c.res.ID, ".", ""))
	}
	var s Sale
	if _, err := c.apiAs(ctx, t.Token, http.MethodPost, "/api/v1/sales", in, &s); err != nil {
		return nil, fmt.Errorf("start sale: %w", err)
	}
	c.session.open[s.ID] = t.Token
	c.PaymentRequest(s.prID())
	c.Step("POST /api/v1/sales %s → sale %s (%s), Payment Request %s", compact(in), s.ID, s.Status, orNone(s.prID()))
	return &s, nil
}

// sale reads a sale.
func (c *Check) sale(ctx context.Context, id string) (*Sale, error) {
	var s Sale
	if _, err := c.api(ctx, http.MethodGet, "/api/v1/sales/"+id, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// waitSale follows the sale's event stream (Server-Sent Events) until ok
// holds for a snapshot, and returns it. A stream that ends (the sale is
// final) without ok holding is an error naming where the sale stands.
func (c *Check) waitSale(ctx context.Context, id string, ok func(*Sale) bool) (*Sale, error) {
	token := c.till().Token
	if t, found := c.session.open[id]; found {
		token = t
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.env.POSURL, "/")+"/api/v1/sales/"+id+"/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.session.stream.Do(req)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("events of %s: HTTP %d", id, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	var last *Sale
	for sc.Scan() {
		data, found := strings.CutPrefix(sc.Text(), "data: ")
		if !found {
			continue
		}
		var s Sale
		if err := json.Unmarshal([]byte(data), &s); err != nil {
			return nil, fmt.Errorf("events of %s: %w", id, err)
		}
		last = &s
		c.PaymentRequest(s.prID())
		if ok(&s) {
			if s.Status.Final() {
				delete(c.session.open, id)
			}
			return &s, nil
		}
	}
	if ctx.Err() != nil {
		return last, fmt.Errorf("sale %s: waited in vain (%s)", id, where(last))
	}
	if last != nil && last.Status.Final() {
		delete(c.session.open, id)
	}
	return last, fmt.Errorf("sale %s ended %s, not as expected", id, where(last))
}

// waitStatus waits for the sale to reach status.
func (c *Check) waitStatus(ctx context.Context, id string, status pos.Status) (*Sale, error) {
	s, err := c.waitSale(ctx, id, func(s *Sale) bool { return s.Status == status })
	if err != nil {
		return s, err
	}
	c.Step("sale %s is %s (Payment Request %s %s)", id, s.Status, s.prID(), prStatus(s))
	return s, nil
}

func where(s *Sale) string {
	if s == nil {
		return "no snapshot"
	}
	w := string(s.Status)
	if s.Reason != "" {
		w += ": " + s.Reason
	}
	return w
}

func prStatus(s *Sale) string {
	if s.PaymentRequest == nil {
		return ""
	}
	st := s.PaymentRequest.Status
	if s.PaymentRequest.CancellationReason != "" {
		st += " " + s.PaymentRequest.CancellationReason
	}
	return st
}

// sandbox calls the sandbox's control API.
func (c *Check) sandbox(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.env.SandboxURL, "/")+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.session.hc.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sandbox %s %s: HTTP %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// patron acts as the patron on a request: pay, approve or decline.
func (c *Check) patron(ctx context.Context, prID, action string, body any) error {
	if err := c.sandbox(ctx, http.MethodPost, "/sandbox/payment-requests/"+url.PathEscape(prID)+"/"+action, body, nil); err != nil {
		return err
	}
	c.Step("sandbox control API: patron action %q on Payment Request %s", action, prID)
	return nil
}

// scenario returns the barcode of a sandbox test scenario.
func (c *Check) scenario(ctx context.Context, name string) (string, error) {
	var sc map[string]struct {
		Barcode     string `json:"barcode"`
		Description string `json:"description"`
	}
	if err := c.sandbox(ctx, http.MethodGet, "/sandbox/scenarios", nil, &sc); err != nil {
		return "", err
	}
	s, ok := sc[name]
	if !ok {
		return "", fmt.Errorf("the sandbox has no scenario %q", name)
	}
	c.Step("sandbox scenario %s: barcode %s (%s)", name, s.Barcode, s.Description)
	return s.Barcode, nil
}

// fault is a sandbox fault (sandbox/faults.go).
type fault struct {
	Method  string `json:"method,omitempty"`
	Path    string `json:"path"`
	Kind    string `json:"kind"`
	Count   int    `json:"count,omitempty"`
	Status  int    `json:"status,omitempty"`
	Code    string `json:"code,omitempty"`
	DelayMs int    `json:"delayMs,omitempty"`
}

func (c *Check) addFault(ctx context.Context, f fault) error {
	if err := c.sandbox(ctx, http.MethodPost, "/sandbox/faults", f, nil); err != nil {
		return err
	}
	c.Step("sandbox fault: %s %s answers %q %d time(s)", orAny(f.Method), f.Path, f.Kind, f.Count)
	return nil
}

// ledgerEntry is one request in the sandbox's ledger.
type ledgerEntry struct {
	ID                 string   `json:"id"`
	ShortCode          string   `json:"shortCode"`
	ExternalRef        string   `json:"externalRef"`
	Status             string   `json:"status"`
	CancellationReason string   `json:"cancellationReason"`
	Value              int64    `json:"value"`
	Paid               int64    `json:"paid"`
	Refunded           int64    `json:"refunded"`
	Activities         []string `json:"activities"`
}

func (c *Check) ledger(ctx context.Context) ([]ledgerEntry, error) {
	var l struct {
		Requests []ledgerEntry `json:"requests"`
	}
	err := c.sandbox(ctx, http.MethodGet, "/sandbox/ledger", nil, &l)
	return l.Requests, err
}

// clockNow is the sandbox's business time.
func (c *Check) clockNow(ctx context.Context) (time.Time, bool, error) {
	var st struct {
		Now    time.Time `json:"now"`
		Manual bool      `json:"manual"`
	}
	err := c.sandbox(ctx, http.MethodGet, "/sandbox/clock", nil, &st)
	return st.Now, st.Manual, err
}

// advance moves the sandbox's manual clock on by whole seconds.
func (c *Check) advance(ctx context.Context, seconds int64) error {
	if err := c.sandbox(ctx, http.MethodPost, "/sandbox/clock/advance", map[string]int64{"seconds": seconds}, nil); err != nil {
		return err
	}
	c.Step("sandbox clock advanced %d s", seconds)
	return nil
}

func newKey() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// compact is a request body in one line, for the steps.
func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func orNone(s string) string {
	if s == "" {
		return "(none yet)"
	}
	return s
}

func orAny(s string) string {
	if s == "" {
		return "any method"
	}
	return s
}

// ts formats a time as Centrapay does.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
