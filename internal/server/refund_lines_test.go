package server_test

import (
	"net/http"
	"testing"

	"github.com/centrapos/centrapos/pos"
)

// TestRefundWithLineItems: a till says what it refunds, line by line and
// with its credit note; lines that do not sum to the refund are refused,
// naming the field.
func TestRefundWithLineItems(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 1000, "lineItems": []map[string]any{
		{"name": "Flat white", "qty": "1", "price": "450"}, {"name": "Muffin", "qty": "1", "price": "550"}}})
	e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	e.tick()
	muffin := []map[string]any{{"name": "Muffin", "qty": "1", "price": "550"}}
	r := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": s.ID, "value": 450, "lineItems": muffin})
	var p struct{ Field, Detail string }
	r.json(t, &p)
	if r.status != http.StatusBadRequest || p.Field != "lineItems" {
		t.Fatalf("lines that do not sum: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": s.ID, "value": 550, "lineItems": muffin, "invoiceRef": "CN-77"})
	var op pos.Op
	r.json(t, &op)
	if r.status != http.StatusCreated || op.State != pos.OpSucceeded || op.InvoiceRef != "CN-77" || len(op.LineItems) != 1 || op.LineItems[0].Name != "Muffin" {
		t.Fatalf("refund with its line: %d %s", r.status, r.body)
	}
}
