package server_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

// zDay makes, on 25 November 2026 in Auckland (the test server's store),
// payments of two asset types on two tills, a refund, a pre-auth partly
// confirmed, a refund left pending and a sale left open.
func zDay(t *testing.T) *env {
	e := setup(t) // 22:00 on the 25th in Auckland
	wallet := e.sale("till-1", map[string]any{"value": 1500, "externalRef": "Z-1", "flow": "barcode", "barcode": e.sb.Scenarios()["quick-pay"].Barcode})
	farm := e.sale("till-2", map[string]any{"value": 2500, "externalRef": "Z-2", "flow": "barcode", "barcode": e.sb.Scenarios()["farmlands-card"].Barcode})
	hold := e.sale("till-1", map[string]any{"value": 1000, "externalRef": "Z-3", "flow": "barcode", "barcode": e.sb.Scenarios()["pre-auth"].Barcode, "preAuth": true,
		"lineItems": []map[string]any{{"name": "Fuel", "qty": "1", "price": "1000"}}})
	for _, s := range []*pos.Sale{wallet, farm, hold} {
		if got := e.get("manager", s.ID); got.Status != pos.StatusPaid {
			t.Fatalf("sale %s is %s", s.ExternalRef, got.Status)
		}
	}
	if r := e.do("POST", "/api/v1/sales/"+hold.ID+"/confirmations", "till-1", map[string]any{"invoiceRef": "INV-3",
		"lineItems": []map[string]any{{"name": "Deposit", "qty": "1", "price": "600"}}}); r.status >= 300 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": wallet.ID, "value": 500, "operatorId": "op-1"}); r.status != http.StatusCreated {
		t.Fatalf("refund: %d %s", r.status, r.body)
	}
	e.fake.Advance(3 * time.Second) // the engine checks the refund's activities: complete
	e.settle()
	e.sb.AddFault(sandbox.Fault{Method: "POST", Path: "/api/payment-requests/*/refund", Kind: sandbox.FaultDropAfterCommit, Count: 2})
	if r := e.do("POST", "/api/v1/refunds", "manager", map[string]any{"saleId": farm.ID, "value": 300}); r.status != http.StatusAccepted {
		t.Fatalf("pending refund: %d %s", r.status, r.body)
	}
	e.sale("till-2", map[string]any{"value": 800, "externalRef": "Z-4"}) // by QR, the patron has not paid
	return e
}

// TestZReportFigures checks every figure of the store's close, each
// terminal's, and that a till sees only its own.
func TestZReportFigures(t *testing.T) {
	e := zDay(t)
	var z pos.ZReport
	e.do("GET", "/api/v1/reports/z?day=today", "manager", nil).json(t, &z)
	nz, _ := time.LoadLocation("Pacific/Auckland")
	if z.Day != "2026-11-25" || !z.From.Equal(time.Date(2026, 11, 25, 0, 0, 0, 0, nz)) || z.TimeZone != "Pacific/Auckland" || z.Reconciled != nil {
		t.Errorf("day %s [%v, %v) %s reconciled %v", z.Day, z.From, z.To, z.TimeZone, z.Reconciled)
	}
	if z.Store == nil {
		t.Fatal("a manager's close has no store section")
	}
	st := z.Store
	totals := map[string]pos.AssetTypeTotal{}
	for _, tt := range st.Totals {
		totals[tt.AssetType] = tt
	}
	if w := totals["centrapay.nzd.test"]; w.Payments != 2 || w.Paid != 2100 || w.Refunds != 1 || w.Refunded != 500 || w.Net != 1600 || w.Authorised != 400 || w.Currency != "NZD" {
		t.Errorf("wallet totals %+v: want 2 payments 21.00 (15.00 and a confirmation of 6.00), 1 refund 5.00, net 16.00, 4.00 held", w)
	}
	if f := totals["farmlands.nzd.test"]; f.Payments != 1 || f.Paid != 2500 || f.Refunds != 0 || f.Net != 2500 {
		t.Errorf("farmlands totals %+v", f)
	}
	if st.Payments != 3 || st.Paid != 4600 || st.Refunds != 1 || st.Refunded != 500 || st.Net != 4100 ||
		len(st.PreAuthsOutstanding) != 1 || st.Outstanding != 400 || len(st.RefundsPending) != 1 || st.PendingRefunds != 300 ||
		len(st.OpenSales) != 1 || st.OpenValue != 800 {
		t.Errorf("store: %+v", st)
	}
	byID := map[string]pos.ZSection{}
	for _, s := range z.Terminals {
		byID[s.TerminalID] = s
	}
	if len(z.Terminals) != 3 {
		t.Errorf("terminals %v, want manager, till-1, till-2", z.Terminals)
	}
	if s := byID["till-1"]; s.Paid != 2100 || s.Refunded != 500 || s.Net != 1600 || s.Outstanding != 400 || len(s.OpenSales) != 0 {
		t.Errorf("till-1: %+v", s)
	}
	if s := byID["till-2"]; s.Paid != 2500 || s.Net != 2500 || len(s.OpenSales) != 1 || len(s.RefundsPending) != 0 {
		t.Errorf("till-2: %+v", s)
	}
	if s := byID["manager"]; s.Paid != 0 || s.PendingRefunds != 300 || len(s.RefundsPending) != 1 || s.RefundsPending[0].AssetType != "farmlands.nzd.test" {
		t.Errorf("manager: %+v", s)
	}

	// a till sees its own close, no store, and not another till's
	var own pos.ZReport
	e.do("GET", "/api/v1/reports/z", "till-2", nil).json(t, &own)
	if own.Store != nil || len(own.Terminals) != 1 || own.Terminals[0].TerminalID != "till-2" || own.Terminals[0].Paid != 2500 {
		t.Errorf("till-2's own close: %+v", own)
	}
	if r := e.do("GET", "/api/v1/reports/z?terminal=till-1", "till-2", nil); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "terminal") {
		t.Errorf("till-2 asks for till-1's close: %d %s", r.status, r.body)
	}
	var one pos.ZReport
	e.do("GET", "/api/v1/reports/z?terminal=till-1", "manager", nil).json(t, &one)
	if one.Store != nil || len(one.Terminals) != 1 || one.Terminals[0].Net != 1600 {
		t.Errorf("a manager asks for till-1's close: %+v", one)
	}
}

// TestZReportFormats: the CSV has one figure a row and says the day is not
// reconciled; the printable page is for 80 mm paper and says the same.
func TestZReportFormats(t *testing.T) {
	e := zDay(t)
	r := e.do("GET", "/api/v1/reports/z?day=2026-11-25&format=csv", "manager", nil)
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) < 2 || r.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("csv: %v %s", err, r.body)
	}
	head := map[string]int{}
	for i, h := range rows[0] {
		head[h] = i
	}
	figure := func(scope, terminal, name, assetType string) []string {
		for _, row := range rows[1:] {
			if row[head["scope"]] == scope && row[head["terminal"]] == terminal && row[head["figure"]] == name && row[head["asset_type"]] == assetType {
				return row
			}
		}
		t.Errorf("no %s %s %s %s row in\n%s", scope, terminal, name, assetType, r.body)
		return make([]string, len(rows[0]))
	}
	for _, tc := range []struct {
		scope, terminal, figure, assetType, count, amount string
	}{
		{"store", "", "payments", "centrapay.nzd.test", "2", "21.00"},
		{"store", "", "refunds", "centrapay.nzd.test", "1", "5.00"},
		{"store", "", "net", "farmlands.nzd.test", "", "25.00"},
		{"store", "", "net", "", "", "41.00"},
		{"store", "", "pre_auths_outstanding", "", "1", "4.00"},
		{"store", "", "refunds_pending", "", "1", "3.00"},
		{"store", "", "open_sales", "", "1", "8.00"},
		{"terminal", "till-2", "open_sales", "", "1", "8.00"},
	} {
		row := figure(tc.scope, tc.terminal, tc.figure, tc.assetType)
		if row[head["count"]] != tc.count || row[head["amount"]] != tc.amount || (row[head["amount"]] != "" && row[head["currency"]] != "NZD") {
			t.Errorf("%s %s %s %s: count %q amount %q %q, want %q %q NZD", tc.scope, tc.terminal, tc.figure, tc.assetType,
				row[head["count"]], row[head["amount"]], row[head["currency"]], tc.count, tc.amount)
		}
	}
	if row := figure("store", "", "reconciled", ""); row[head["note"]] != "not reconciled" {
		t.Errorf("reconciled note %q", row[head["note"]])
	}

	page := e.do("GET", "/api/v1/reports/z?format=html", "manager", nil)
	for _, want := range []string{"Centrapay Café", "Z-report", "2026-11-25", "Pacific/Auckland", "/static/receipt.css", "Store", "Terminal till-1",
		"Centrapay NZD wallet", "NZD 41.00", "Pre-auths outstanding ×1", "Refunds pending ×1", "Sales still open ×1", "Reconciled: <span id=\"z-reconciled\">not yet</span>"} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("the printable Z-report lacks %q:\n%s", want, page.body)
		}
	}
}

// TestZReportDay: the day is the store's, by the server's clock; from and
// to, a day that is no date and an unknown format are refused naming the
// parameter.
func TestZReportDay(t *testing.T) {
	e := setup(t)
	e.fake.Advance(3 * time.Hour) // 01:00 on the 26th in Auckland, still the 25th in UTC
	var z pos.ZReport
	e.do("GET", "/api/v1/reports/z", "till-1", nil).json(t, &z)
	if z.Day != "2026-11-26" || z.To.Sub(z.From) != 24*time.Hour {
		t.Errorf("today is %s [%v, %v)", z.Day, z.From, z.To)
	}
	e.do("GET", "/api/v1/reports/z?day=2026-04-05", "till-1", nil).json(t, &z)
	if z.To.Sub(z.From) != 25*time.Hour {
		t.Errorf("the day daylight saving ends lasts %v", z.To.Sub(z.From))
	}
	for _, tc := range []struct{ query, field string }{
		{"day=yesterday", "day"}, {"from=2026-11-25", "day"}, {"format=pdf", "format"},
	} {
		if r := e.do("GET", "/api/v1/reports/z?"+tc.query, "till-1", nil); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), tc.field) {
			t.Errorf("%s: %d %s", tc.query, r.status, r.body)
		}
	}
}

// TestReportEmptyToday: a report asked with no period is the store's today,
// and an empty one says [] for every list.
func TestReportEmptyToday(t *testing.T) {
	e := setup(t)
	r := e.do("GET", "/api/v1/reports/transactions", "till-1", nil)
	for _, want := range []string{`"transactions":[]`, `"payments":[]`, `"refunds":[]`, `"authorisations":[]`, `"totals":[]`, `"paid":"0.00"`, `"currency":"NZD"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("no %s in %s", want, r.body)
		}
	}
	var rep pos.Report
	r.json(t, &rep)
	nz, _ := time.LoadLocation("Pacific/Auckland")
	if !rep.From.Equal(time.Date(2026, 11, 25, 0, 0, 0, 0, nz)) || !rep.To.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, nz)) {
		t.Errorf("default period [%v, %v), want the store's 25 November", rep.From, rep.To)
	}
	if r := e.do("GET", "/api/v1/reports/transactions?to=2026-11-20", "till-1", nil); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "from") {
		t.Errorf("to before today without from: %d %s", r.status, r.body)
	}
}

// TestReportCSVColumnsMeanOneThing: a refund row holds the sale id under
// sale_id, the request id under payment_request_id, its asset type, who
// asked; the payment row the same columns for the same things.
func TestReportCSVColumnsMeanOneThing(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 1500, "externalRef": "R-77", "flow": "barcode", "barcode": e.sb.Scenarios()["quick-pay"].Barcode, "operatorId": "ann"})
	got := e.get("till-1", s.ID)
	if r := e.do("POST", "/api/v1/refunds", "manager", map[string]any{"saleId": s.ID, "value": 250, "operatorId": "bob", "reason": "wrong size"}); r.status != http.StatusCreated {
		t.Fatalf("refund: %d %s", r.status, r.body)
	}
	// accepted, then complete once the engine finds it among the
	// request's activities (its first check is 2 s after)
	if r := e.do("GET", "/api/v1/reports/transactions?format=csv", "manager", nil); !strings.Contains(string(r.body), ",pending,") {
		t.Errorf("the refund just accepted is not pending:\n%s", r.body)
	}
	e.fake.Advance(2 * time.Second)
	e.settle()
	r := e.do("GET", "/api/v1/reports/transactions?format=csv", "manager", nil)
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv: %v\n%s", err, r.body)
	}
	cell := func(row []string, col string) string {
		for i, h := range rows[0] {
			if h == col {
				return row[i]
			}
		}
		t.Fatalf("no column %s in %v", col, rows[0])
		return ""
	}
	want := map[string][2]string{ // column: payment row, refund row
		"kind":               {"payment", "refund"},
		"sale_id":            {s.ID, s.ID},
		"payment_request_id": {got.PaymentRequest.ID, got.PaymentRequest.ID},
		"short_code":         {got.PaymentRequest.ShortCode, got.PaymentRequest.ShortCode},
		"external_ref":       {"R-77", "R-77"},
		"status":             {"paid", "refunded"},
		"asset_type":         {"centrapay.nzd.test", "centrapay.nzd.test"},
		"amount":             {"15.00", "2.50"},
		"currency":           {"NZD", "NZD"},
		"terminal":           {"till-1", "manager"},
		"operator":           {"ann", "bob"},
		"reason":             {"", "wrong size"},
	}
	for col, w := range want {
		if p, rf := cell(rows[1], col), cell(rows[2], col); p != w[0] || rf != w[1] {
			t.Errorf("%s: payment %q refund %q, want %q and %q", col, p, rf, w[0], w[1])
		}
	}
}
