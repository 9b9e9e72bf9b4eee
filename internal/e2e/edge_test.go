package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOtherLocationCannotRefund: a till at another location cannot refund
// a sale by any of its identifiers; a till of the sale's location can.
func TestOtherLocationCannotRefund(t *testing.T) {
	needBinary(t)
	dir := testDir(t)
	sb := startSandbox(t, dir)
	db := filepath.Join(dir, "journal.db")
	tillA := addTerminal(t, db, "till-a", configA, false)
	tillA2 := addTerminal(t, db, "till-a2", configA, false)
	tillB := addTerminal(t, db, "till-b", configB, false)
	srv := newServer(t, dir, db, sb)
	srv.start()
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	a, err := do(ctx, c, "POST", srv.base()+"/api/v1/sales", tillA, newKey(),
		[]byte(`{"value": 2000, "externalRef": "E2E-LOC-1", "flow": "barcode", "barcode": "`+sb.Scenarios["quick-pay"].Barcode+`"}`))
	if err != nil || a.status != http.StatusCreated {
		t.Fatalf("sale: %v %d %s", err, a.status, a.body)
	}
	var s saleView
	json.Unmarshal(a.body, &s)
	for deadline := time.Now().Add(20 * time.Second); s.Status != "paid"; {
		if time.Now().After(deadline) {
			t.Fatalf("sale still %s", s.Status)
		}
		time.Sleep(50 * time.Millisecond)
		if err := getJSON(ctx, c, srv.base()+"/api/v1/sales/"+s.ID, tillA, &s); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{
		`"saleId": "` + s.ID + `"`,
		`"paymentRequestId": "` + s.PaymentRequest.ID + `"`,
		`"shortCode": "` + s.PaymentRequest.ShortCode + `"`,
		`"externalRef": "` + s.ExternalRef + `"`,
	} {
		r, err := do(ctx, c, "POST", srv.base()+"/api/v1/refunds", tillB, newKey(), []byte(`{`+id+`, "value": 100}`))
		if err != nil || r.status != http.StatusForbidden {
			t.Errorf("till-b refunds by {%s}: %v %d %s", id, err, r.status, r.body)
		}
	}
	r, err := do(ctx, c, "POST", srv.base()+"/api/v1/refunds", tillA2, newKey(), []byte(`{"shortCode": "`+s.PaymentRequest.ShortCode+`", "value": 100}`))
	if err != nil || r.status != http.StatusCreated {
		t.Errorf("till-a2 (same location): %v %d %s", err, r.status, r.body)
	}
	l, err := ledger(ctx, c, sb)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l {
		if e.ID == s.PaymentRequest.ID && e.Refunded != 100 {
			t.Errorf("refunded %d at Centrapay, want 100", e.Refunded)
		}
	}
}

// TestRedirectNeverLeaksKey: a Centrapay URL that answers with redirects
// to another host never gets the API key sent there; the sale that could
// not be created is not charged.
func TestRedirectNeverLeaksKey(t *testing.T) {
	needBinary(t)
	var mu sync.Mutex
	var leaked []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, fmt.Sprintf("%s %s X-Api-Key=%q", r.Method, r.URL.Path, r.Header.Get("X-Api-Key")))
		mu.Unlock()
		http.Error(w, "{}", http.StatusForbidden)
	}))
	defer elsewhere.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()

	dir := testDir(t)
	db := filepath.Join(dir, "journal.db")
	till := addTerminal(t, db, "till-1", configA, false)
	srv := newServer(t, dir, db, sandboxInfo{BaseURL: redirector.URL, APIKey: "sandbox-e2e-key", MerchantAccountID: "acct-e2e"})
	srv.start()
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := do(ctx, c, "POST", srv.base()+"/api/v1/sales", till, newKey(), []byte(`{"value": 900, "externalRef": "E2E-REDIRECT"}`))
	if err != nil || a.status >= 500 {
		t.Fatalf("sale: %v %d %s", err, a.status, a.body)
	}
	var s saleView
	json.Unmarshal(a.body, &s)
	t.Logf("sale %s (%s): %s", s.ID, s.Status, s.Reason)
	if s.Status == "paid" || s.Status == "pending" {
		t.Errorf("a sale whose create was redirected is %s", s.Status)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) > 0 {
		t.Errorf("the other host was called: %s", strings.Join(leaked, "; "))
	}
	if log := tail(filepath.Join(dir, "serve.log"), 200); strings.Contains(log, "sandbox-e2e-key") {
		t.Error("the API key is in serve's log")
	}
}
