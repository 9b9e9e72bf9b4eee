package server_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

// TestKeyRetryWhileRunning: a retry that arrives while the first attempt
// waits on Centrapay is told to come back (409, Retry-After); once the
// first is done, the retry gets its answer; one Payment Request in all.
func TestKeyRetryWhileRunning(t *testing.T) {
	e := setup(t)
	if err := e.sb.AddFault(sandbox.Fault{Method: "POST", Path: "/api/payment-requests", Kind: sandbox.FaultLatency, DelayMs: 2000, Count: 1}); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"value": 1200, "externalRef": "R-SLOW"}
	first := make(chan response, 1)
	go func() { first <- e.do("POST", "/api/v1/sales", "till-1", body, "Idempotency-Key", "k-slow") }()
	e.fake.BlockUntil(1, nil) // the create waits on the sandbox's clock: the key and the sale are journaled
	again := e.do("POST", "/api/v1/sales", "till-1", body, "Idempotency-Key", "k-slow")
	if again.status != http.StatusConflict || again.header.Get("Retry-After") == "" || !strings.Contains(string(again.body), "in_progress") {
		t.Errorf("retry while running: %d %v %s", again.status, again.header, again.body)
	}
	e.fake.Advance(2 * time.Second)
	r1 := <-first
	if r1.status != http.StatusCreated {
		t.Fatalf("first: %d %s", r1.status, r1.body)
	}
	r3 := e.do("POST", "/api/v1/sales", "till-1", body, "Idempotency-Key", "k-slow")
	if r3.status != http.StatusCreated || r3.header.Get("Idempotent-Replayed") != "true" || saleID(t, r3) != saleID(t, r1) {
		t.Errorf("retry after: %d %s", r3.status, r3.body)
	}
	if n := len(e.sb.Ledger().Requests); n != 1 {
		t.Errorf("%d payment requests, want 1", n)
	}
}

// TestKeyAnswerLost: the server died after journaling the sale (or the
// refund) with the till's key and before keeping its answer; the retry is
// answered from the sale (or refund) itself, and nothing starts twice.
func TestKeyAnswerLost(t *testing.T) {
	e := setup(t)
	till := e.terminal("till-1")
	body := `{"value":1500,"externalRef":"R-LOST"}`
	// the first attempt, as far as it got: intent and key journaled, the
	// request created, the answer never kept
	first, err := e.eng.StartSale(e.ctx, pos.SaleInput{TerminalID: till.ID, DeviceID: till.DeviceID, ConfigID: till.ConfigID,
		Value: 1500, ExternalRef: "R-LOST", Key: &pos.KeyedRequest{TerminalID: till.ID, Key: "k-lost", RequestHash: requestHash("POST", "/api/v1/sales", body)}})
	if err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/api/v1/sales", "till-1", body, "Idempotency-Key", "k-lost")
	if r.status != http.StatusCreated || r.header.Get("Idempotent-Replayed") != "true" || saleID(t, r) != first.ID {
		t.Fatalf("retry: %d %s", r.status, r.body)
	}
	if n := len(e.sb.Ledger().Requests); n != 1 {
		t.Errorf("%d payment requests, want 1", n)
	}
	e.sb.PatronPay(first.PaymentRequest.ID, "", 0)
	e.tick()

	refundBody := `{"saleId":"` + first.ID + `","value":400}`
	op, err := e.eng.Refund(e.ctx, pos.RefundInput{SaleID: first.ID, Amount: 400, Terminal: till,
		Key: &pos.KeyedRequest{TerminalID: till.ID, Key: "k-refund", RequestHash: requestHash("POST", "/api/v1/refunds", refundBody)}})
	if err != nil {
		t.Fatal(err)
	}
	rr := e.do("POST", "/api/v1/refunds", "till-1", refundBody, "Idempotency-Key", "k-refund")
	var got pos.Op
	rr.json(t, &got)
	if rr.status != http.StatusCreated || got.ID != op.ID || rr.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("refund retry: %d %s", rr.status, rr.body)
	}
	if l := e.sb.Ledger().Requests[0]; l.Refunded != 400 {
		t.Errorf("refunded %d at Centrapay, want 400 once", l.Refunded)
	}
}

// TestOneOpenSalePerReference: 16 tills pressing at once with one
// externalRef make one sale; the journal's constraint decides.
func TestOneOpenSalePerReference(t *testing.T) {
	e := setup(t)
	var wg sync.WaitGroup
	results := make([]response, 16)
	for i := range results {
		wg.Go(func() {
			results[i] = e.do("POST", "/api/v1/sales", []string{"till-1", "till-2"}[i%2], map[string]any{"value": 500, "externalRef": "R-SAME"})
		})
	}
	wg.Wait()
	created := 0
	for _, r := range results {
		switch {
		case r.status == http.StatusCreated:
			created++
		case r.status != http.StatusConflict || !strings.Contains(string(r.body), `"field":"externalRef"`):
			t.Errorf("%d %s", r.status, r.body)
		}
	}
	if created != 1 || len(e.sb.Ledger().Requests) != 1 {
		t.Errorf("%d sales created, %d payment requests; want 1 and 1", created, len(e.sb.Ledger().Requests))
	}
}

// TestRefundPermissions: a till refunds the sales of its own location by
// any identifier; another location's only through a manager; a payment no
// sale of ours made only by a manager. Each refund records who asked.
func TestRefundPermissions(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 5000, "externalRef": "R-PERM"})
	e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	e.tick()
	foreign, _, err := e.cp.Create(e.ctx, &centrapay.CreateRequest{ConfigID: e.seed.ConfigID, Value: centrapay.Cents(900, "NZD"), ExternalRef: "OTHER-POS"})
	if err != nil {
		t.Fatal(err)
	}
	e.sb.PatronPay(foreign.ID, "", 0)
	ids := map[string]map[string]any{
		"saleId":           {"saleId": s.ID},
		"paymentRequestId": {"paymentRequestId": s.PaymentRequest.ID},
		"shortCode":        {"shortCode": s.PaymentRequest.ShortCode},
		"externalRef":      {"externalRef": s.ExternalRef},
	}
	for name, id := range ids {
		id["value"] = 100
		if r := e.do("POST", "/api/v1/refunds", "elsewhere", id); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "own location") {
			t.Errorf("another location's till by %s: %d %s", name, r.status, r.body)
		}
	}
	// a till of the same location, with its operator
	r := e.do("POST", "/api/v1/refunds", "till-2", map[string]any{"shortCode": s.PaymentRequest.ShortCode, "value": 100, "operatorId": "op-7"})
	var op pos.Op
	r.json(t, &op)
	if r.status != http.StatusCreated || op.TerminalID != "till-2" || op.OperatorID != "op-7" || op.SaleID != s.ID {
		t.Errorf("same location: %d %s", r.status, r.body)
	}
	// a payment this server did not take
	other := map[string]any{"paymentRequestId": foreign.ID, "value": 900}
	if r := e.do("POST", "/api/v1/refunds", "till-1", other); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "manager") {
		t.Errorf("foreign payment by a till: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/refunds", "manager", other); r.status != http.StatusCreated {
		t.Errorf("foreign payment by a manager: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/refunds", "manager", map[string]any{"saleId": s.ID, "value": 100}); r.status != http.StatusCreated {
		t.Errorf("manager: %d %s", r.status, r.body)
	}
	l := e.sb.Ledger().Requests
	if l[0].Refunded != 200 || l[1].Refunded != 900 {
		t.Errorf("refunded at Centrapay %d and %d, want 200 and 900", l[0].Refunded, l[1].Refunded)
	}
	// the report names who asked
	var rep pos.Report
	e.do("GET", "/api/v1/reports/transactions?day=today", "manager", nil).json(t, &rep)
	who := map[string]int{}
	for _, op := range rep.Refunds {
		who[op.TerminalID]++
	}
	if who["till-2"] != 1 || who["manager"] != 2 {
		t.Errorf("refunds by terminal %v", who)
	}
	csv := string(e.do("GET", "/api/v1/reports/transactions?day=today&format=csv", "manager", nil).body)
	if !strings.Contains(csv, ",till-2,") || !strings.Contains(csv, ",op-7\n") {
		t.Errorf("the CSV does not say who asked for the refund:\n%s", csv)
	}
}

// TestRevokeEndsStreams: revoking a terminal ends its open event streams.
func TestRevokeEndsStreams(t *testing.T) {
	e := setup(t)
	s := e.sale("till-2", map[string]any{"value": 300})
	req, _ := http.NewRequestWithContext(e.ctx, "GET", e.baseURL+"/api/v1/sales/"+s.ID+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["till-2"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "event: sale") {
		t.Fatalf("stream: %q", lines.Text())
	}
	if err := e.j.RevokeTerminal(e.ctx, "till-2", e.fake.Now()); err != nil {
		t.Fatal(err)
	}
	var last string
	for lines.Scan() { // ends when the server closes the stream
		if lines.Text() != "" {
			last = lines.Text()
		}
	}
	if last != "data: {}" {
		t.Errorf("last line %q, want the revoked event's", last)
	}
	if r := e.do("GET", "/api/v1/sales/"+s.ID, "till-2", nil); r.status != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", r.status)
	}
}

// TestCancelIsIdempotent: a second press of Cancel answers the cancelled
// sale; a paid sale cannot be cancelled.
func TestCancelIsIdempotent(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 300})
	for range 2 {
		r := e.do("POST", "/api/v1/sales/"+s.ID+"/cancel", "till-1", nil)
		var got pos.Sale
		r.json(t, &got)
		if r.status != http.StatusOK || got.Status != pos.StatusCancelled {
			t.Errorf("cancel: %d %s", r.status, r.body)
		}
	}
	paid := e.sale("till-1", map[string]any{"value": 400})
	e.sb.PatronPay(paid.PaymentRequest.ID, "", 0)
	e.tick()
	if r := e.do("POST", "/api/v1/sales/"+paid.ID+"/cancel", "till-1", nil); r.status != http.StatusConflict || !strings.Contains(string(r.body), "refund") {
		t.Errorf("cancel of a paid sale: %d %s", r.status, r.body)
	}
}

// TestBadText: control characters are refused, naming the field;
// barcodes typed with spaces or dashes are cleaned and sent clean.
func TestBadText(t *testing.T) {
	e := setup(t)
	for field, body := range map[string]map[string]any{
		"externalRef":       {"value": 100, "externalRef": "R-1\n=cmd"},
		"operatorId":        {"value": 100, "operatorId": "bob\x00"},
		"lineItems[0].name": {"value": 100, "lineItems": []map[string]any{{"name": "tea\ttime", "qty": "1", "price": "100"}}},
	} {
		r := e.do("POST", "/api/v1/sales", "till-1", body)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"field":"`+field+`"`) || !strings.Contains(string(r.body), "control characters") {
			t.Errorf("%s: %d %s", field, r.status, r.body)
		}
	}
	code := e.sb.Scenarios()["quick-pay"].Barcode
	spaced := code[:4] + " " + code[4:8] + "-" + code[8:12] + " " + code[12:]
	s := e.sale("till-1", map[string]any{"value": 650, "flow": "barcode", "barcode": spaced})
	e.tick()
	if got := e.get("till-1", s.ID); got.Status != pos.StatusPaid || got.Barcode != code {
		t.Errorf("spaced barcode: %s %q", got.Status, got.Barcode)
	}
	if n := len(e.sb.Ledger().Requests); n != 1 {
		t.Errorf("%d requests", n)
	}
	if r := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": s.ID, "value": 100000}); r.status != 400 || !strings.Contains(string(r.body), "$6.50") {
		t.Errorf("too large a refund says the amount in dollars: %d %s", r.status, r.body)
	}
}

// requestHash is how the server fingerprints a keyed request.
func requestHash(method, path, body string) string {
	sum := sha256.Sum256([]byte(method + " " + path + "\n" + body))
	return hex.EncodeToString(sum[:])
}

func saleID(t *testing.T, r response) string {
	t.Helper()
	var s struct{ ID string }
	if err := json.Unmarshal(r.body, &s); err != nil || s.ID == "" {
		t.Fatalf("no sale in %s", r.body)
	}
	return s.ID
}

func (e *env) terminal(id string) *pos.Terminal {
	e.t.Helper()
	t, err := e.j.Terminal(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

// TestHealthWhenKeyRefused: /healthz turns degraded (503) while Centrapay
// refuses the API key, and the sale says what to do.
func TestHealthWhenKeyRefused(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 800})
	for _, p := range []string{"/api/*", "/api/*/*", "/api/*/*/*", "/api/*/*/*/*"} {
		e.sb.AddFault(sandbox.Fault{Path: p, Kind: sandbox.FaultStatus, Status: 401, Code: string(centrapay.ErrUnauthorized)})
	}
	e.tick()
	r := e.do("GET", "/healthz", "", nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "degraded") || !strings.Contains(string(r.body), "API key") {
		t.Errorf("healthz while refused: %d %s", r.status, r.body)
	}
	if got := e.get("till-1", s.ID); got.Status != pos.StatusResolving || !strings.Contains(got.Reason, "call the manager") {
		t.Errorf("sale while refused: %s %q", got.Status, got.Reason)
	}
	e.sb.ClearFaults()
	e.fake.Advance(40 * time.Second)
	e.settle()
	if r := e.do("GET", "/healthz", "", nil); r.status != http.StatusOK {
		t.Errorf("healthz once the key works: %d %s", r.status, r.body)
	}
}
