package server_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"image"
	_ "image/png"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/centrapos/centrapos/internal/server"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

func TestSaleLifecycle(t *testing.T) {
	e := setup(t)
	r := e.do("POST", "/api/v1/sales", "till-1", map[string]any{"value": 1250, "externalRef": "R-1", "operatorId": "op-7"})
	if r.status != http.StatusCreated || !strings.HasPrefix(r.header.Get("Location"), "/api/v1/sales/s_") {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var s pos.Sale
	r.json(t, &s)
	if s.Status != pos.StatusPending || s.PaymentRequest == nil || s.PaymentRequest.URL == "" || s.TerminalID != "till-1" || s.Value != 1250 {
		t.Fatalf("created %+v", s)
	}
	e.settle()
	if got := e.do("GET", "/api/v1/sales/"+s.ID, "till-2", nil); got.status != http.StatusNotFound {
		t.Errorf("another terminal sees the sale: %d", got.status)
	}
	if got := e.do("GET", "/api/v1/sales/"+s.ID, "manager", nil); got.status != http.StatusOK {
		t.Errorf("manager: %d", got.status)
	}
	e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	e.tick()
	got := e.get("till-1", s.ID)
	if got.Status != pos.StatusPaid || len(got.PaidBy) != 1 || got.PaidBy[0].Description != "Centrapay NZD wallet" {
		t.Fatalf("after paying: %+v", got)
	}
	list := e.do("GET", "/api/v1/sales?status=paid", "till-1", nil)
	var page struct{ Items []pos.Sale }
	list.json(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != s.ID {
		t.Errorf("list paid: %s", list.body)
	}
	if r := e.do("GET", "/api/v1/sales", "till-2", nil); !strings.Contains(string(r.body), `"items":[]`) {
		t.Errorf("till-2 lists another's sales: %s", r.body)
	}
	if r := e.do("GET", "/api/v1/sales?terminal=till-1", "till-2", nil); r.status != http.StatusForbidden {
		t.Errorf("till-2 asks for till-1's sales: %d", r.status)
	}

	// refund by short code, then by receipt number; a third is too much
	ref := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"shortCode": strings.ToLower(got.PaymentRequest.ShortCode), "value": 250, "reason": "damaged"})
	if ref.status != http.StatusCreated {
		t.Fatalf("refund: %d %s", ref.status, ref.body)
	}
	var op pos.Op
	ref.json(t, &op)
	if g := e.do("GET", "/api/v1/refunds/"+op.ID, "till-1", nil); g.status != 200 || !strings.Contains(string(g.body), `"state":"succeeded"`) {
		t.Errorf("get refund: %d %s", g.status, g.body)
	}
	if g := e.do("GET", "/api/v1/refunds/"+op.ID, "till-2", nil); g.status != http.StatusNotFound {
		t.Errorf("another terminal reads the refund: %d", g.status)
	}
	if r := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"externalRef": "R-1", "value": 1000}); r.status != http.StatusCreated {
		t.Errorf("refund by receipt number: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": s.ID, "value": 1}); r.status != http.StatusConflict {
		t.Errorf("refund beyond paid: %d %s", r.status, r.body)
	}
	var view struct {
		Refunded int64
		Refunds  []struct {
			ID     string
			Amount int64
			State  string
		}
	}
	e.do("GET", "/api/v1/sales/"+s.ID, "till-1", nil).json(t, &view)
	if view.Refunded != 1250 || len(view.Refunds) != 2 || view.Refunds[0].ID != op.ID || view.Refunds[0].Amount != 250 || view.Refunds[1].State != "succeeded" {
		t.Errorf("sale's refunds: %+v", view)
	}
}

func TestBadRequests(t *testing.T) {
	e := setup(t)
	paid := e.sale("till-1", map[string]any{"value": 500})
	e.sb.PatronPay(paid.PaymentRequest.ID, "", 0)
	e.tick()
	cases := []struct {
		name, method, path, term string
		body                     any
		status                   int
		field                    string
	}{
		{"no token", "POST", "/api/v1/sales", "", map[string]any{"value": 1}, 401, ""},
		{"malformed JSON", "POST", "/api/v1/sales", "till-1", `{"value": `, 400, ""},
		{"amount as a string", "POST", "/api/v1/sales", "till-1", `{"value": "12.50"}`, 400, "value"},
		{"amount with cents fraction", "POST", "/api/v1/sales", "till-1", `{"value": 12.5}`, 400, "value"},
		{"zero amount", "POST", "/api/v1/sales", "till-1", map[string]any{"value": 0}, 400, "value"},
		{"unknown field", "POST", "/api/v1/sales", "till-1", map[string]any{"value": 1, "amount": 1}, 400, "amount"},
		{"bad barcode", "POST", "/api/v1/sales", "till-1", map[string]any{"value": 1, "flow": "barcode", "barcode": "1219210000000010"}, 400, "barcode"},
		{"short barcode", "POST", "/api/v1/sales", "till-1", map[string]any{"value": 1, "flow": "barcode", "barcode": "123"}, 400, "barcode"},
		{"lines do not sum", "POST", "/api/v1/sales", "till-1", map[string]any{"value": 100, "lineItems": []map[string]any{{"name": "a", "qty": "1", "price": "90"}}}, 400, "lineItems"},
		{"invalid patron code", "POST", "/api/v1/sales", "till-1", map[string]any{"value": 100, "flow": "barcode", "barcode": e.sb.Scenarios()["invalid"].Barcode}, 422, ""},
		{"unknown sale", "GET", "/api/v1/sales/s_nope", "till-1", nil, 404, ""},
		{"wrong terminal", "POST", "/api/v1/sales/" + paid.ID + "/cancel", "till-2", map[string]any{}, 404, ""},
		{"cancel a paid sale", "POST", "/api/v1/sales/" + paid.ID + "/cancel", "manager", map[string]any{}, 409, ""},
		{"bad status filter", "GET", "/api/v1/sales?status=done", "till-1", nil, 400, "status"},
		{"bad period", "GET", "/api/v1/reports/transactions?from=yesterday", "till-1", nil, 400, "from"},
		{"refund naming two payments", "POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": paid.ID, "shortCode": "CP-000-1Y", "value": 1}, 400, "saleId"},
		{"refund of a bad short code", "POST", "/api/v1/refunds", "till-1", map[string]any{"shortCode": "CP-AAA-AA", "value": 1}, 400, "shortCode"},
		{"unknown route", "GET", "/api/v1/nothing", "till-1", nil, 404, ""},
	}
	before := len(e.sb.Ledger().Requests)
	for _, tc := range cases {
		r := e.do(tc.method, tc.path, tc.term, tc.body)
		var p struct {
			Field, Detail, Code string
		}
		r.json(t, &p)
		if r.status != tc.status || p.Field != tc.field || p.Detail == "" || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d naming %q", tc.name, r.status, r.body, tc.status, tc.field)
		}
	}
	// a refused create is journaled as a failed sale; nothing else was made
	if n := len(e.sb.Ledger().Requests); n != before {
		t.Errorf("bad requests created %d payment requests", n-before)
	}
	sales, _ := e.j.Sales(e.ctx, pos.SaleFilter{})
	if len(sales) != 2 {
		t.Errorf("%d sales journaled, want the paid one and the refused one", len(sales))
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := setup(t)
	body := map[string]any{"value": 700, "externalRef": "R-IDEM"}
	first := e.do("POST", "/api/v1/sales", "till-1", body, "Idempotency-Key", "k-1")
	again := e.do("POST", "/api/v1/sales", "till-1", body, "Idempotency-Key", "k-1")
	if first.status != 201 || again.status != 201 || !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.status, first.body, again.status, again.body)
	}
	if n := len(e.sb.Ledger().Requests); n != 1 {
		t.Errorf("%d payment requests for one keyed sale", n)
	}
	other := e.do("POST", "/api/v1/sales", "till-1", map[string]any{"value": 701}, "Idempotency-Key", "k-1")
	if other.status != http.StatusConflict || !strings.Contains(string(other.body), "Idempotency-Key") {
		t.Errorf("reused key, other body: %d %s", other.status, other.body)
	}
	// keys are per terminal
	if r := e.do("POST", "/api/v1/sales", "till-2", map[string]any{"value": 702}, "Idempotency-Key", "k-1"); r.status != 201 {
		t.Errorf("same key on another terminal: %d %s", r.status, r.body)
	}
	// a refused answer is replayed too
	bad := map[string]any{"value": 0}
	r1 := e.do("POST", "/api/v1/sales", "till-1", bad, "Idempotency-Key", "k-2")
	r2 := e.do("POST", "/api/v1/sales", "till-1", bad, "Idempotency-Key", "k-2")
	if r1.status != 400 || r2.status != 400 || r2.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replayed problem: %d / %d %v", r1.status, r2.status, r2.header)
	}
}

func TestConditionsAndCancel(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 900, "flow": "barcode", "barcode": e.sb.Scenarios()["photo-id"].Barcode})
	got := e.get("till-1", s.ID)
	if len(got.Conditions) != 1 || got.Conditions[0].Status != "awaiting-merchant" {
		t.Fatalf("conditions %+v", got.Conditions)
	}
	if r := e.do("POST", "/api/v1/sales/"+s.ID+"/conditions/nope/accept", "till-1", map[string]any{}); r.status != 404 {
		t.Errorf("unknown condition: %d", r.status)
	}
	r := e.do("POST", "/api/v1/sales/"+s.ID+"/conditions/"+got.Conditions[0].ID+"/accept", "till-1", map[string]any{})
	var after pos.Sale
	r.json(t, &after)
	if r.status != 200 || after.Status != pos.StatusPaid {
		t.Errorf("accept: %d %s", r.status, r.body)
	}
	c := e.sale("till-1", map[string]any{"value": 300})
	r = e.do("POST", "/api/v1/sales/"+c.ID+"/cancel", "till-1", map[string]any{})
	r.json(t, &after)
	if r.status != 200 || after.Status != pos.StatusCancelled || after.Reason != "cancelled at the till" {
		t.Errorf("cancel: %d %s", r.status, r.body)
	}
	if l := e.sb.Ledger().Requests; l[len(l)-1].Status != "cancelled" {
		t.Errorf("sandbox: %+v", l[len(l)-1])
	}
}

func TestEvents(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 400})
	req, _ := http.NewRequest("GET", e.baseURL+"/api/v1/sales/"+s.ID+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["till-1"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %s", resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() string {
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				return d
			}
		}
		return ""
	}
	if first := next(); !strings.Contains(first, `"status":"pending"`) {
		t.Fatalf("first event %s", first)
	}
	e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	e.tick()
	var last string
	for d := next(); d != ""; d = next() {
		last = d
	}
	if !strings.Contains(last, `"status":"paid"`) {
		t.Errorf("last event %s; the stream must end after the paid one", last)
	}
}

func TestQRCodeDecodesToTheRequestURL(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 1000})
	r := e.do("GET", "/api/v1/sales/"+s.ID+"/qr.png", "till-1", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png: %d %s", r.status, r.header.Get("Content-Type"))
	}
	img, _, err := image.Decode(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("the QR code with its mark does not decode: %v", err)
	}
	if res.GetText() != s.PaymentRequest.URL {
		t.Errorf("decoded %q, want %q", res.GetText(), s.PaymentRequest.URL)
	}
	svg := e.do("GET", "/api/v1/sales/"+s.ID+"/qr.svg", "till-1", nil)
	if svg.status != 200 || svg.header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(svg.body, []byte("<svg")) {
		t.Errorf("qr.svg: %d %s", svg.status, svg.header.Get("Content-Type"))
	}
	if r := e.do("GET", "/api/v1/sales/"+s.ID+"/qr.png", "till-2", nil); r.status != 404 {
		t.Errorf("another terminal's QR: %d", r.status)
	}
}

func TestReceiptAndReport(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 1500, "externalRef": "RCPT-42", "flow": "barcode", "barcode": e.sb.Scenarios()["quick-pay"].Barcode,
		"lineItems": []map[string]any{{"name": "Flat white", "qty": "2", "price": "1000"}, {"name": "Muffin", "qty": "1", "price": "500"}}})
	got := e.get("till-1", s.ID)
	for _, format := range []string{"text", "html"} {
		r := e.do("GET", "/api/v1/sales/"+s.ID+"/receipt?format="+format, "till-1", nil)
		for _, want := range []string{"Centrapay Café", "RCPT-42", got.PaymentRequest.ShortCode, "Centrapay NZD wallet", "15.00", "Flat white", "2026-11-25 22:00 NZDT"} {
			if !strings.Contains(string(r.body), want) {
				t.Errorf("%s receipt lacks %q:\n%s", format, want, r.body)
			}
		}
	}
	e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": s.ID, "value": 500})
	r := e.do("GET", "/api/v1/reports/transactions?from=2026-11-25&format=csv", "till-1", nil)
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	// columns by their header: kind 0, asset_type 9, amount 11
	if err != nil || len(rows) != 3 || rows[1][0] != "payment" || rows[1][9] != "centrapay.nzd.test" || rows[2][0] != "refund" || rows[2][9] != "centrapay.nzd.test" || rows[2][11] != "5.00" {
		t.Errorf("csv: %v %q", err, rows)
	}
	j := e.do("GET", "/api/v1/reports/transactions?from=2026-11-25", "till-1", nil)
	var rep pos.Report
	j.json(t, &rep)
	if len(rep.Totals) != 1 || rep.Totals[0].Net != 1000 || rep.Totals[0].Description != "Centrapay NZD wallet" {
		t.Errorf("report totals %+v", rep.Totals)
	}
}

// TestReportDay: day=today is the store's day by the server's clock,
// whatever the zone or date of the machine running the test.
func TestReportDay(t *testing.T) {
	e := setup(t)                 // 09:00 UTC on 25 November 2026: 22:00 in Auckland, the store's zone
	e.fake.Advance(3 * time.Hour) // 01:00 on the 26th in Auckland, still the 25th in UTC
	nz, _ := time.LoadLocation("Pacific/Auckland")
	for _, tc := range []struct {
		query    string
		from, to time.Time
	}{
		{"day=today", time.Date(2026, 11, 26, 0, 0, 0, 0, nz), time.Date(2026, 11, 27, 0, 0, 0, 0, nz)},
		{"day=2026-11-25", time.Date(2026, 11, 25, 0, 0, 0, 0, nz), time.Date(2026, 11, 26, 0, 0, 0, 0, nz)},
		{"day=2026-04-05", time.Date(2026, 4, 5, 0, 0, 0, 0, nz), time.Date(2026, 4, 6, 0, 0, 0, 0, nz)}, // 25 hours: daylight saving ends
		{"from=2026-11-20&to=2026-11-21", time.Date(2026, 11, 20, 0, 0, 0, 0, nz), time.Date(2026, 11, 21, 0, 0, 0, 0, nz)},
	} {
		var rep pos.Report
		e.do("GET", "/api/v1/reports/transactions?"+tc.query, "till-1", nil).json(t, &rep)
		if !rep.From.Equal(tc.from) || !rep.To.Equal(tc.to) {
			t.Errorf("%s: [%v, %v), want [%v, %v)", tc.query, rep.From, rep.To, tc.from, tc.to)
		}
	}
	for _, q := range []string{"day=yesterday", "day=today&from=2026-11-25"} {
		if r := e.do("GET", "/api/v1/reports/transactions?"+q, "till-1", nil); r.status != 400 || !strings.Contains(string(r.body), "day") {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := setup(t)
	r := e.do("GET", "/api/v1/openapi.yaml", "", nil)
	if r.status != 200 {
		t.Fatalf("openapi: %d", r.status)
	}
	doc := map[string]bool{}
	path := ""
	for _, line := range strings.Split(string(r.body), "\n") {
		if m := regexp.MustCompile(`^  (/\S*):$`).FindStringSubmatch(line); m != nil {
			path = m[1]
		} else if m := regexp.MustCompile(`^    (get|post):`).FindStringSubmatch(line); m != nil && path != "" {
			doc[strings.ToUpper(m[1])+" /api/v1"+regexp.MustCompile(`\{conditionId\}`).ReplaceAllString(path, "{cid}")] = true
		} else if !strings.HasPrefix(line, " ") {
			path = ""
		}
	}
	var routes []string
	for _, rt := range server.Routes() {
		routes = append(routes, rt)
		if strings.Contains(rt, "{verb}") {
			for _, v := range []string{"accept", "decline"} {
				if !doc[strings.Replace(rt, "{verb}", v, 1)] {
					t.Errorf("route %s (%s) is not in openapi.yaml", rt, v)
				}
				delete(doc, strings.Replace(rt, "{verb}", v, 1))
			}
			continue
		}
		if !doc[rt] {
			t.Errorf("route %s is not in openapi.yaml", rt)
		}
		delete(doc, rt)
	}
	for p := range doc {
		t.Errorf("openapi.yaml documents %s, which is not a route", p)
	}
	sort.Strings(routes)
	if len(routes) < 15 {
		t.Errorf("only %d routes", len(routes))
	}
}

func TestSecurity(t *testing.T) {
	e := setup(t)
	// sign in through the form: the cookie is HttpOnly and SameSite=Strict
	form := "token=" + e.tokens["till-1"]
	req, _ := http.NewRequest("POST", e.baseURL+"/login", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(c) != 1 || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("login: %d %+v", resp.StatusCode, c)
	}
	cookie := c[0].Name + "=" + c[0].Value
	// same-origin use of the cookie works; a cross-site POST is refused
	if r := e.do("POST", "/api/v1/sales", "", map[string]any{"value": 100}, "Cookie", cookie, "Sec-Fetch-Site", "same-origin"); r.status != 201 {
		t.Errorf("same-origin POST with the session: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/sales", "", map[string]any{"value": 100}, "Cookie", cookie, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/sales", "", map[string]any{"value": 100}, "Cookie", cookie, "Origin", "https://evil.example"); r.status != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d", r.status)
	}
	bad, _ := http.NewRequest("POST", e.baseURL+"/login", strings.NewReader("token=cpt_wrong"))
	bad.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, _ := noRedirect.Do(bad); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("bad token login: %d", resp.StatusCode)
	}
	// a one-time link signs in once
	link := e.loginLink("till-1")
	if resp, _ := noRedirect.Get(e.baseURL + link); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login link: %d", resp.StatusCode)
	}
	if resp, _ := noRedirect.Get(e.baseURL + link); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("login link reused: %d", resp.StatusCode)
	}
	// the Centrapay key and the terminal tokens appear in no response and no log line
	e.sale("till-1", map[string]any{"value": 100})
	for _, path := range []string{"/", "/api/v1/sales", "/display/till-1", "/healthz"} {
		r := e.do("GET", path, "till-1", nil, "Cookie", cookie)
		if bytes.Contains(r.body, []byte(e.seed.APIKey)) {
			t.Errorf("%s shows the Centrapay API key", path)
		}
	}
	if r := e.admin("/metrics"); r.status != 200 || bytes.Contains(r.body, []byte(e.seed.APIKey)) {
		t.Errorf("metrics: %d, or they show the Centrapay API key", r.status)
	}
	if logs := e.logs.String(); strings.Contains(logs, e.seed.APIKey) || strings.Contains(logs, e.tokens["till-1"]) || !strings.Contains(logs, "msg=http") {
		t.Errorf("logs carry a secret or no request lines:\n%s", logs)
	}
	if e.seed.APIKey != sandbox.DemoAPIKey {
		t.Fatal("setup changed")
	}
}

func TestMetricsAndHealth(t *testing.T) {
	e := setup(t)
	e.sale("till-1", map[string]any{"value": 100})
	if r := e.do("GET", "/healthz", "", nil); r.status != 200 {
		t.Errorf("healthz %d", r.status)
	}
	// metrics and pprof are on the admin listener, not the public one
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		if r := e.do("GET", path, "", nil); r.status != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", path, r.status)
		}
		if r := e.admin(path); r.status != 200 {
			t.Errorf("admin %s: %d", path, r.status)
		}
	}
	r := e.admin("/metrics")
	if !strings.Contains(string(r.body), "centrapos_sale_requests_total") {
		t.Errorf("metrics: %d %s", r.status, r.body)
	}
}

func TestPreAuthEndpoints(t *testing.T) {
	e := setup(t)
	fuel := []map[string]any{{"name": "Fuel", "qty": "1", "price": "2000"}}
	s := e.sale("till-1", map[string]any{"value": 2000, "preAuth": true, "lineItems": fuel, "flow": "barcode", "barcode": e.sb.Scenarios()["pre-auth"].Barcode})
	got := e.get("till-1", s.ID)
	if got.Status != pos.StatusPaid || got.PaymentRequest.PreAuthStatus != "authorized" {
		t.Fatalf("authorized sale: %+v", got)
	}
	confirm := map[string]any{"invoiceRef": "INV-7", "lineItems": []map[string]any{{"name": "Fuel", "qty": "1", "price": "1500"}}}
	r := e.do("POST", "/api/v1/sales/"+s.ID+"/confirmations", "till-1", confirm, "Idempotency-Key", "c-1")
	var op pos.Op
	r.json(t, &op)
	if r.status != http.StatusCreated || op.Kind != pos.OpConfirm || op.State != pos.OpSucceeded || op.Amount != 1500 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	if again := e.do("POST", "/api/v1/sales/"+s.ID+"/confirmations", "till-1", confirm, "Idempotency-Key", "c-1"); again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replayed confirm: %d", again.status)
	}
	over := map[string]any{"invoiceRef": "INV-8", "lineItems": []map[string]any{{"name": "Fuel", "qty": "1", "price": "501"}}}
	if r := e.do("POST", "/api/v1/sales/"+s.ID+"/confirmations", "till-1", over); r.status != 400 || !strings.Contains(string(r.body), `"field":"lineItems"`) {
		t.Errorf("confirm beyond the authorization: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/sales/"+s.ID+"/confirmations", "till-1", map[string]any{"lineItems": confirm["lineItems"]}); r.status != 400 || !strings.Contains(string(r.body), `"field":"invoiceRef"`) {
		t.Errorf("confirm without an invoice: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/sales/"+s.ID+"/release", "till-2", map[string]any{}); r.status != 404 {
		t.Errorf("release by another terminal: %d", r.status)
	}
	r = e.do("POST", "/api/v1/sales/"+s.ID+"/release", "till-1", map[string]any{})
	r.json(t, &op)
	if r.status != 200 || op.Kind != pos.OpRelease || op.State != pos.OpSucceeded {
		t.Errorf("release: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/sales/"+s.ID+"/confirmations", "till-1", confirm); r.status != http.StatusConflict {
		t.Errorf("confirm after release: %d %s", r.status, r.body)
	}
	plain := e.sale("till-1", map[string]any{"value": 100})
	if r := e.do("POST", "/api/v1/sales/"+plain.ID+"/release", "till-1", map[string]any{}); r.status != http.StatusConflict {
		t.Errorf("release of a plain sale: %d %s", r.status, r.body)
	}
}

func TestDeclineConditionAndFilters(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 900, "flow": "barcode", "barcode": e.sb.Scenarios()["photo-id"].Barcode})
	cid := e.get("till-1", s.ID).Conditions[0].ID
	r := e.do("POST", "/api/v1/sales/"+s.ID+"/conditions/"+cid+"/decline", "till-1", map[string]any{})
	var got pos.Sale
	r.json(t, &got)
	if r.status != 200 || got.Status != pos.StatusCancelled || got.Reason != "declined at the till" {
		t.Errorf("decline: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/sales/"+s.ID+"/conditions/"+cid+"/shrug", "till-1", map[string]any{}); r.status != 404 {
		t.Errorf("unknown verb: %d", r.status)
	}
	e.fake.Advance(2 * time.Hour)
	later := e.sale("till-1", map[string]any{"value": 100})
	list := func(q string) []string {
		var page struct{ Items []pos.Sale }
		r := e.do("GET", "/api/v1/sales"+q, "till-1", nil)
		r.json(t, &page)
		var ids []string
		for _, s := range page.Items {
			ids = append(ids, s.ID)
		}
		return ids
	}
	if ids := list("?from=2026-11-25T10:00:00Z"); len(ids) != 1 || ids[0] != later.ID {
		t.Errorf("from: %v", ids)
	}
	if ids := list("?to=2026-11-25T10:00:00Z"); len(ids) != 1 || ids[0] != s.ID {
		t.Errorf("to: %v", ids)
	}
	if ids := list("?status=cancelled"); len(ids) != 1 || ids[0] != s.ID {
		t.Errorf("status: %v", ids)
	}
	if ids := list("?limit=1"); len(ids) != 1 || ids[0] != later.ID {
		t.Errorf("limit: %v", ids)
	}
	if r := e.do("GET", "/api/v1/sales?limit=0", "till-1", nil); r.status != 400 {
		t.Errorf("limit 0: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/reports/transactions?format=xml", "till-1", nil); r.status != 400 {
		t.Errorf("format xml: %d", r.status)
	}
}

func TestRefundWhoseAnswerIsLost(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 1000})
	e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	e.tick()
	e.sb.AddFault(sandbox.Fault{Method: "POST", Path: "/api/payment-requests/*/refund", Kind: "drop-after-commit", Count: 2})
	r := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": s.ID, "value": 400})
	var op pos.Op
	r.json(t, &op)
	if r.status != http.StatusAccepted || op.State != pos.OpPending {
		t.Fatalf("refund with its answers lost: %d %s", r.status, r.body)
	}
	for range 5 {
		e.tick()
	}
	g := e.do("GET", "/api/v1/refunds/"+op.ID, "till-1", nil)
	g.json(t, &op)
	if op.State != pos.OpSucceeded {
		t.Errorf("refund after retries: %s", g.body)
	}
	if l := e.sb.Ledger().Requests[0]; l.Refunded != 400 {
		t.Errorf("sandbox refunded %d", l.Refunded)
	}
}
