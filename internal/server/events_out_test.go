package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/centrapos/centrapos/internal/server"
	"github.com/centrapos/centrapos/pos"
)

// TestManagerWebhooksPage: a manager sees the endpoints and the delivery
// log, and redelivers an event with a button; nobody else does.
func TestManagerWebhooksPage(t *testing.T) {
	e := setup(t)
	srv, err := server.New(server.Config{Engine: e.eng, Terminals: e.j, Outbox: e.j, MerchantName: "Centrapay Café", Clock: e.fake})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ep, err := pos.AddEndpoint(e.ctx, e.j, "https://erp.example/hooks?x=<b>", []pos.EventType{pos.EventSalePaid})
	if err != nil {
		t.Fatal(err)
	}
	now := e.fake.Now()
	s := &pos.Sale{ID: "s_1", TerminalID: "till-1", ExternalRef: "R-1", Value: 500, Status: pos.StatusPaid, CreatedAt: now, UpdatedAt: now}
	if err := e.j.Save(e.ctx, &pos.Change{Sale: s, NewSale: true, Note: "paid"}); err != nil {
		t.Fatal(err)
	}
	evs, _ := e.j.Events(e.ctx, pos.EventFilter{})
	if err := e.j.RecordAttempt(e.ctx, pos.Attempt{EventID: evs[0].ID, EndpointID: ep.ID, At: now, Status: 500, Error: "HTTP 500: down",
		State: pos.DeliveryFailed, NextAt: now}); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	call := func(method, path, term string, form url.Values, header ...string) (int, string, http.Header) {
		t.Helper()
		return e.form(client, method, ts.URL+path, term, form, header...)
	}
	if st, body, _ := call("GET", "/manager/webhooks", "", nil); st != 401 || !strings.Contains(body, "manager terminal") {
		t.Errorf("signed out: %d %s", st, body)
	}
	if st, _, _ := call("GET", "/manager/webhooks", "till-1", nil); st != 403 {
		t.Errorf("a till: %d", st)
	}
	st, body, h := call("GET", "/manager/webhooks", "manager", nil)
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("manager: %d %s", st, body)
	}
	for _, want := range []string{ep.ID, "https://erp.example/hooks?x=&lt;b&gt;", "sale.paid", evs[0].ID, "s_1", `class="status failed"`, "HTTP 500: down",
		`<input type="hidden" name="event" value="` + evs[0].ID + `">`, "Redeliver"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, ep.Secret) || strings.Contains(body, "x=<b>") {
		t.Error("the page shows the secret, or the URL unescaped")
	}
	if st, body, _ := call("GET", "/manager/webhooks?state=pending", "manager", nil); st != 200 || strings.Contains(body, evs[0].ID) {
		t.Errorf("pending only: %d, the failed delivery shown: %v", st, strings.Contains(body, evs[0].ID))
	}
	if st, _, _ := call("GET", "/manager/webhooks?state=lost", "manager", nil); st != 400 {
		t.Errorf("a bad state: %d", st)
	}

	form := url.Values{"event": {evs[0].ID}, "endpoint": {ep.ID}}
	if st, _, _ := call("POST", "/manager/webhooks/redeliver", "till-1", form); st != 403 {
		t.Errorf("a till redelivers: %d", st)
	}
	if st, _, _ := call("POST", "/manager/webhooks/redeliver", "manager", form, "Sec-Fetch-Site", "cross-site"); st != 403 {
		t.Errorf("a cross-site form redelivers: %d", st)
	}
	if st, _, _ := call("POST", "/manager/webhooks/redeliver", "manager", url.Values{"event": {"evt_nope"}}); st != 404 {
		t.Errorf("redeliver of no event: %d", st)
	}
	st, _, h = call("POST", "/manager/webhooks/redeliver", "manager", form)
	if st != http.StatusSeeOther || h.Get("Location") != "/manager/webhooks?redelivered="+evs[0].ID {
		t.Fatalf("redeliver: %d %s", st, h.Get("Location"))
	}
	l, _ := e.j.Deliveries(e.ctx, pos.DeliveryFilter{EventID: evs[0].ID})
	if len(l) != 1 || l[0].State != pos.DeliveryPending || !l[0].NextAt.Equal(now.Truncate(1e6)) {
		t.Errorf("after the redelivery: %+v", l)
	}
	if _, body, _ := call("GET", "/manager/webhooks?redelivered="+evs[0].ID, "manager", nil); !strings.Contains(body, "is pending again") ||
		!strings.Contains(body, `class="status pending"`) {
		t.Errorf("after the redelivery the page says: %s", body)
	}
	// a server without an outbox has no page
	req, _ := http.NewRequest("GET", e.baseURL+"/manager/webhooks", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["manager"])
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Errorf("a server without an outbox: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
}

// TestManagerAddsEndpoint: a manager adds an endpoint on the page and sees
// its secret once; disables, enables and removes it; a till cannot.
func TestManagerAddsEndpoint(t *testing.T) {
	e := setup(t)
	srv, err := server.New(server.Config{Engine: e.eng, Terminals: e.j, Outbox: e.j, MerchantName: "Centrapay Café", Clock: e.fake})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path, term string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+e.tokens[term])
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	form := url.Values{"url": {"https://erp.example/hooks"}, "event": {"sale.paid", "refund.succeeded"}}
	if st, _ := post("/manager/webhooks/endpoints", "till-1", form); st != 403 {
		t.Errorf("a till adds an endpoint: %d", st)
	}
	st, body := post("/manager/webhooks/endpoints", "manager", form)
	eps, _ := e.j.Endpoints(e.ctx)
	if st != 200 || len(eps) != 1 || !strings.Contains(body, `id="secret">whsec_`) || eps[0].URL != "https://erp.example/hooks" || len(eps[0].Events) != 2 {
		t.Fatalf("add: %d %+v\n%s", st, eps, body)
	}
	if st, body := post("/manager/webhooks/endpoints", "manager", url.Values{"url": {"ftp://x"}}); st != 400 || !strings.Contains(body, "http") {
		t.Errorf("a bad URL: %d %s", st, body)
	}
	id := eps[0].ID
	if st, _ := post("/manager/webhooks/endpoints/"+id+"/disable", "manager", url.Values{}); st != http.StatusSeeOther {
		t.Errorf("disable: %d", st)
	}
	if eps, _ := e.j.Endpoints(e.ctx); eps[0].Enabled {
		t.Error("still enabled")
	}
	if st, _ := post("/manager/webhooks/endpoints/"+id+"/remove", "manager", url.Values{}); st != http.StatusSeeOther {
		t.Errorf("remove: %d", st)
	}
	if st, _ := post("/manager/webhooks/endpoints/ep_nope/enable", "manager", url.Values{}); st != 404 {
		t.Errorf("enable of no endpoint: %d", st)
	}
}
