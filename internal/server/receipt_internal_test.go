package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
)

// TestReceiptShowsWhatEachAssetPaidFor: the line items Centrapay says an
// asset paid for are on the receipt, HTML and text, under that asset.
func TestReceiptShowsWhatEachAssetPaidFor(t *testing.T) {
	s := &Server{}
	if err := s.parseTemplates(); err != nil {
		t.Fatal(err)
	}
	sale := &pos.Sale{ID: "s_1", ExternalRef: "R-1", Value: 1000, Currency: "NZD", Status: pos.StatusPaid,
		LineItems: []centrapay.LineItem{{Name: "Coffee Grounds", Qty: "1", Price: "450"}, {Name: "Mug", Qty: "1", Price: "550"}},
		PaidBy: []pos.Payment{
			{AssetType: "centrapay.token.test", Description: "Centrapay Token", Amount: 450,
				LineItems: []centrapay.LineItem{{Name: "Coffee Grounds", Qty: "1", Price: "450"}}},
			{AssetType: "centrapay.nzd.test", Description: "Centrapay NZD wallet", Amount: 550}}}
	d := receiptData{Merchant: "Centrapay Café", Sale: sale, At: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	var text, html bytes.Buffer
	if err := receiptText.Execute(&text, d); err != nil {
		t.Fatal(err)
	}
	if err := s.tmpl.ExecuteTemplate(&html, "receipt.html", d); err != nil {
		t.Fatal(err)
	}
	if want := "Paid by Centrapay Token (centrapay.token.test) 4.50\n  for Coffee Grounds x1  4.50\nPaid by Centrapay NZD wallet"; !strings.Contains(text.String(), want) {
		t.Errorf("text receipt lacks %q:\n%s", want, text.String())
	}
	if got := strings.Count(html.String(), `class="r-paid-for"`); got != 1 || !strings.Contains(html.String(), "for Coffee Grounds ×1") {
		t.Errorf("HTML receipt: %d paid-for tables:\n%s", got, html.String())
	}
}
