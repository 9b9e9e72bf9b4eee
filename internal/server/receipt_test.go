package server_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/centrapos/centrapos/internal/escpos"
	"github.com/centrapos/centrapos/internal/server"
	"github.com/centrapos/centrapos/pos"
)

// receiptEnv is setup's env served by a server whose receipts carry the
// merchant's address and GST number.
func receiptEnv(t *testing.T) *env {
	t.Helper()
	e := setup(t)
	nz, _ := time.LoadLocation("Pacific/Auckland")
	srv, err := server.New(server.Config{Engine: e.eng, Terminals: e.j, MerchantName: "Centrapay Café", Clock: e.fake, Location: nz,
		MerchantAddress: "12 Queen Street\nAuckland 1010", GSTNumber: "123456789"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e.srv, e.baseURL = srv, ts.URL
	return e
}

// paidReceiptSale is a paid sale of two lines with 5.00 of it refunded.
func paidReceiptSale(e *env) (*pos.Sale, *pos.Op) {
	e.t.Helper()
	s := e.sale("till-1", map[string]any{"value": 1500, "externalRef": "RCPT-42", "flow": "barcode", "barcode": e.sb.Scenarios()["quick-pay"].Barcode,
		"lineItems": []map[string]any{{"name": "Flat white", "qty": "2", "price": "1000", "tax": "15"}, {"name": "Muffin", "qty": "1", "price": "500"}}})
	if r := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": s.ID, "value": 500}); r.status != http.StatusCreated && r.status != http.StatusOK && r.status != http.StatusAccepted {
		e.t.Fatalf("refund: %d %s", r.status, r.body)
	}
	e.settle()
	ops, err := e.j.Ops(e.ctx, pos.OpFilter{SaleID: s.ID, Kind: pos.OpRefund})
	if err != nil || len(ops) != 1 {
		e.t.Fatalf("refund ops %v %v", ops, err)
	}
	return e.get("till-1", s.ID), ops[0]
}

// TestReceiptEscposRoute prints a sale's receipt as ESC/POS and decodes
// it back: the merchant, address and GST number, the lines, the total,
// what paid, the refund in words, the short code and receipt number as
// text, and the short code in the QR code and the barcode.
func TestReceiptEscposRoute(t *testing.T) {
	e := receiptEnv(t)
	s, refund := paidReceiptSale(e)
	for _, paper := range []string{"", "80", "58"} {
		path := "/api/v1/sales/" + s.ID + "/receipt.escpos"
		width := 48
		if paper != "" {
			path += "?paper=" + paper
		}
		if paper == "58" {
			width = 32
		}
		r := e.do("GET", path, "till-1", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("%s: %d %s %s", path, r.status, r.header.Get("Content-Type"), r.body)
		}
		cmds, err := escpos.Decode(r.body)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		lines := escpos.Lines(cmds)
		has := func(prefix, suffix string) bool {
			return slices.ContainsFunc(lines, func(l string) bool {
				l = strings.TrimSpace(l)
				return strings.HasPrefix(l, prefix) && strings.HasSuffix(l, suffix)
			})
		}
		for _, want := range [][2]string{{"Centrapay Café", ""}, {"12 Queen Street", ""}, {"Auckland 1010", ""}, {"GST No. 123-456-789", ""},
			{"2026-11-25 22:00 NZDT", ""}, {"Receipt RCPT-42", ""}, {"Flat white x2", " 10.00"}, {"incl. tax 15%", ""}, {"Muffin x1", " 5.00"},
			{"TOTAL NZD", " 15.00"}, {"Status: Paid", ""}, {"Paid by Centrapay NZD", " 15.00"}, {"centrapay.nzd.test", ""},
			{refund.RefundStatus().Words(), " -5.00"}, {"Left to refund", " 10.00"}, {"Centrapay code " + s.PaymentRequest.ShortCode, ""}} {
			if !has(want[0], want[1]) {
				t.Errorf("%s: no line %q…%q:\n%s", path, want[0], want[1], strings.Join(lines, "\n"))
			}
		}
		for _, l := range lines {
			if utf8.RuneCountInString(l) > width {
				t.Errorf("%s: %q is wider than %d", path, l, width)
			}
		}
		var codes []string
		for _, c := range cmds {
			if c.Name == "QR store" || c.Name == "Code 128" {
				codes = append(codes, c.Name+" "+c.Text)
			}
		}
		if want := []string{"QR store " + s.PaymentRequest.ShortCode, "Code 128 " + s.PaymentRequest.ShortCode}; !slices.Equal(codes, want) {
			t.Errorf("%s: codes %q, want %q", path, codes, want)
		}
		if cmds[len(cmds)-1].Name != "GS V" {
			t.Errorf("%s: no cut at the end", path)
		}
	}
	if r := e.do("GET", "/api/v1/sales/"+s.ID+"/receipt.escpos?paper=76", "till-1", nil); r.status != 400 {
		t.Errorf("paper=76: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/sales/"+s.ID+"/receipt.escpos", "till-2", nil); r.status != 404 {
		t.Errorf("another till's receipt: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/sales/"+s.ID+"/receipt.escpos", "", nil); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}
}

// TestReceiptFormats: HTML for 80 and 58 mm paper, plain text by format
// or Accept, each with the merchant's details, codes and refunds.
func TestReceiptFormats(t *testing.T) {
	e := receiptEnv(t)
	s, refund := paidReceiptSale(e)
	base := "/api/v1/sales/" + s.ID + "/receipt"
	for _, c := range []struct{ query, accept, ctype, want string }{
		{"", "", "text/html; charset=utf-8", `<body class="paper paper-80">`},
		{"?paper=58", "", "text/html; charset=utf-8", `<body class="paper paper-58">`},
		{"?format=text", "", "text/plain; charset=utf-8", "------------------------------------------------\n"},
		{"?format=text&paper=58", "", "text/plain; charset=utf-8", "--------------------------------\n"},
		{"", "text/plain", "text/plain; charset=utf-8", "Status: Paid\n"},
	} {
		r := e.do("GET", base+c.query, "till-1", nil, "Accept", c.accept)
		body := string(r.body)
		if r.status != 200 || r.header.Get("Content-Type") != c.ctype || !strings.Contains(body, c.want) {
			t.Errorf("%s (Accept %s): %d %s lacks %q:\n%s", c.query, c.accept, r.status, r.header.Get("Content-Type"), c.want, body)
		}
		for _, want := range []string{"Centrapay Café", "12 Queen Street", "GST No.", "123-456-789", "RCPT-42", s.PaymentRequest.ShortCode,
			"Flat white", "15.00", "Centrapay NZD", refund.RefundStatus().Words(), "-5.00", "Left to refund"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: lacks %q", c.query, want)
			}
		}
		if strings.HasPrefix(c.ctype, "text/html") && (strings.Count(body, "<svg") != 2 || r.header.Get("Content-Security-Policy") == "") {
			t.Errorf("%s: %d codes, CSP %q", c.query, strings.Count(body, "<svg"), r.header.Get("Content-Security-Policy"))
		}
	}
	if r := e.do("GET", base+"?format=pdf", "till-1", nil); r.status != 400 {
		t.Errorf("format=pdf: %d", r.status)
	}
}

// TestServerRefusesABadGSTNumber: a server is not made with a GST number
// that is not one.
func TestServerRefusesABadGSTNumber(t *testing.T) {
	e := setup(t)
	if _, err := server.New(server.Config{Engine: e.eng, Terminals: e.j, GSTNumber: "1234"}); err == nil || !strings.Contains(err.Error(), "GST") {
		t.Errorf("GST number 1234: %v", err)
	}
}
