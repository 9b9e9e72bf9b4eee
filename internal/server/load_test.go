package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestBudgetShortTold: when the live sales need more calls than the rate
// budget gives, /healthz warns (and stays 200: payments are still taken)
// and a manager's page says what to do; a cashier's page does not.
func TestBudgetShortTold(t *testing.T) {
	e := setup(t, func(o *setupOptions) { o.rateLimit = 60 }) // burst 6: two creates, then 1 a second
	if r := e.admin("/healthz"); r.status != 200 || strings.Contains(string(r.body), "warnings") {
		t.Fatalf("healthz with no sales: %d %s", r.status, r.body)
	}
	e.sale("till-1", map[string]any{"value": 100})
	e.sale("till-2", map[string]any{"value": 200})
	r := e.do("GET", "/healthz", "", nil)
	var h struct {
		Status   string
		Warnings []string
		Load     struct {
			LiveSales            int
			CallsPerMinuteNeeded int
			BudgetPerMinute      int
		}
	}
	r.json(t, &h)
	if r.status != http.StatusOK || h.Status != "ok" || h.Load.LiveSales != 2 || h.Load.CallsPerMinuteNeeded != 120 ||
		h.Load.BudgetPerMinute != 60 || len(h.Warnings) != 1 || !strings.Contains(h.Warnings[0], "Ask Centrapay") {
		b, _ := json.Marshal(h)
		t.Fatalf("healthz: %d %s", r.status, b)
	}
	page := func(term string) string {
		return string(e.do("GET", "/", "", nil, "Cookie", e.cookie(term)).body)
	}
	if p := page("manager"); !strings.Contains(p, `class="alert"`) || !strings.Contains(p, "2 live sales need 120 calls a minute") {
		t.Errorf("the manager's page does not say the budget is short:\n%s", p)
	}
	if p := page("till-1"); strings.Contains(p, `class="alert"`) {
		t.Errorf("a cashier's page shows the manager's alert")
	}
}
