package server_test

import (
	"testing"
	"time"
)

// TestSalesListRefunds: each sale of GET /sales carries its refunds with
// their status, as GET /sales/{id} does, so a till's list tells a refund
// Centrapay has not completed (pending) from one it has (refunded); the
// list filters by status and by the store's day.
func TestSalesListRefunds(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 1250})
	e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	e.tick()
	e.sale("till-1", map[string]any{"value": 300}) // still open
	if r := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": s.ID, "value": 500}); r.status >= 300 {
		t.Fatalf("refund: %d %s", r.status, r.body)
	}
	type page struct {
		Items []struct {
			ID      string `json:"id"`
			Status  string `json:"status"`
			Refunds []struct {
				Amount int64  `json:"amount"`
				Status string `json:"status"`
			} `json:"refunds"`
		} `json:"items"`
	}
	list := func(q string) page {
		t.Helper()
		r := e.do("GET", "/api/v1/sales"+q, "till-1", nil)
		if r.status != 200 {
			t.Fatalf("list %s: %d %s", q, r.status, r.body)
		}
		var p page
		r.json(t, &p)
		return p
	}
	refunds := func() string {
		p := list("?status=paid&day=today")
		if len(p.Items) != 1 || p.Items[0].ID != s.ID || len(p.Items[0].Refunds) != 1 || p.Items[0].Refunds[0].Amount != 500 {
			t.Fatalf("paid today: %+v", p.Items)
		}
		return p.Items[0].Refunds[0].Status
	}
	if got := refunds(); got != "pending" {
		t.Errorf("refund accepted by Centrapay, not yet complete: status %q, want pending", got)
	}
	e.fake.Advance(2 * time.Second) // the engine's first completion check
	e.settle()
	if got := refunds(); got != "refunded" {
		t.Errorf("refund complete: status %q, want refunded", got)
	}
	if p := list("?day=today"); len(p.Items) != 2 || p.Items[0].Status != "pending" || p.Items[0].Refunds == nil {
		t.Errorf("today: %+v (every sale has a refunds list, empty when none)", p.Items)
	}
	// the store's previous day (Auckland's 24th) has none
	if p := list("?day=2026-11-24"); len(p.Items) != 0 {
		t.Errorf("the 24th: %+v", p.Items)
	}
}
