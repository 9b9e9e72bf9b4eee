package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
)

// TestManagerReconcilePage: a manager runs the reconciliation of a day
// from the page and sees what matched and each discrepancy; nobody else
// can, and no other site can make a manager's browser run it.
func TestManagerReconcilePage(t *testing.T) {
	e := setup(t) // 25 Nov 2026 09:00 UTC: 22:00 on the 25th in the store's zone, Pacific/Auckland
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	call := func(method, term string, form url.Values, header ...string) (int, string, http.Header) {
		t.Helper()
		return e.form(client, method, e.baseURL+"/manager/reconcile", term, form, header...)
	}
	if st, body, _ := call("GET", "", nil); st != 401 || !strings.Contains(body, "manager terminal") {
		t.Errorf("signed out: %d %s", st, body)
	}
	if st, _, _ := call("GET", "till-1", nil); st != 403 {
		t.Errorf("a till: %d", st)
	}
	st, body, h := call("GET", "manager", nil)
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, `id="none"`) ||
		!strings.Contains(body, `name="day" type="date" value="2026-11-24"`) {
		t.Fatalf("manager, before any run: %d %s", st, body)
	}

	// a sale of 10.00 paid, and a payment of 7.25 at Centrapay no sale made
	s, err := e.eng.StartSale(e.ctx, pos.SaleInput{TerminalID: "till-1", DeviceID: "till-1", ConfigID: e.seed.ConfigID, Value: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sb.Approve(s.PaymentRequest.ID); err != nil {
		t.Fatal(err)
	}
	e.tick()
	pr, _, err := e.cp.Create(e.ctx, &centrapay.CreateRequest{ConfigID: e.seed.ConfigID, Value: centrapay.Cents(725, "NZD")})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sb.Approve(pr.ID); err != nil {
		t.Fatal(err)
	}

	day := url.Values{"day": {"2026-11-25"}}
	if st, _, _ := call("POST", "till-1", day); st != 403 {
		t.Errorf("a till runs it: %d", st)
	}
	if st, _, _ := call("POST", "manager", day, "Sec-Fetch-Site", "cross-site"); st != 403 {
		t.Errorf("a cross-site form runs it: %d", st)
	}
	if e.eng.LastReconciliation() != nil {
		t.Fatal("a refused request ran a reconciliation")
	}
	if st, body, _ := call("POST", "manager", url.Values{"day": {"25/11/2026"}}); st != 400 || !strings.Contains(body, "Choose the business day") {
		t.Errorf("a bad day: %d %s", st, body)
	}
	st, _, h = call("POST", "manager", day)
	if st != http.StatusSeeOther || h.Get("Location") != "/manager/reconcile" {
		t.Fatalf("run: %d %s", st, h.Get("Location"))
	}
	_, body, _ = call("GET", "manager", nil)
	for _, want := range []string{"Last reconciliation: 2026-11-25", `id="discrepancy-count"`, "1 discrepancy: 1 at Centrapay, not in the journal.", `class="discrepancy not-in-journal"`,
		pr.ID, "7.25 NZD", "10.00 NZD", "centrapay.nzd.test", e.seed.MerchantID} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if res := e.eng.LastReconciliation(); res == nil || res.Sales != 1 || res.Count(pos.DiscrepancyNotInJournal) != 1 {
		t.Errorf("the engine keeps: %+v", res)
	}
}
