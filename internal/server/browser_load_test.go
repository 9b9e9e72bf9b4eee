package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserBudgetShort: a manager's page, in Chromium, says at its top
// that the rate budget is short of what the live sales need, in full and
// in words to act on; a cashier's page does not (manager-budget-short.png).
func TestBrowserBudgetShort(t *testing.T) {
	e := setup(t, func(o *setupOptions) { o.rateLimit = 60 })
	root := browser(t)
	e.sale("till-1", map[string]any{"value": 1250})
	e.sale("till-2", map[string]any{"value": 3400})
	manager := tab{t, root}
	manager.do(chromedp.Navigate(e.baseURL + e.srv.LoginLink("manager")))
	manager.until(`document.querySelector('.alert').innerText.includes('Ask Centrapay')`)
	alert := manager.text(".alert")
	for _, want := range []string{"2 live sales need 120 calls a minute", "60 a minute", "integrations@centrapay.com"} {
		if !strings.Contains(alert, want) {
			t.Errorf("alert lacks %q: %s", want, alert)
		}
	}
	// the alert is on screen, whole: not cut off by the page's width
	fits, err := chromedp.Run(manager.ctx, chromedp.Evaluate[bool](`(() => { const a = document.querySelector('.alert');
		return a.scrollWidth <= a.clientWidth && a.getBoundingClientRect().right <= window.innerWidth; })()`))
	if err != nil || !fits {
		t.Errorf("the alert does not fit the page: %v", err)
	}
	manager.shot("manager-budget-short")
	cashier := newTab(t, root)
	cashier.do(chromedp.Navigate(e.baseURL + e.srv.LoginLink("till-1")))
	cashier.until(`document.getElementById('sale-form') !== null`)
	alerts, err := chromedp.Run(cashier.ctx, chromedp.Evaluate[int](`document.querySelectorAll('.alert').length`))
	if err != nil || alerts != 0 {
		t.Errorf("a cashier's page shows %d alerts (%v)", alerts, err)
	}
}
