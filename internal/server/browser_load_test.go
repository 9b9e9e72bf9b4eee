package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
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
	manager.do(chromedp.Navigate(e.baseURL + e.loginLink("manager")))
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
	cashier.do(chromedp.Navigate(e.baseURL + e.loginLink("till-1")))
	cashier.until(`document.getElementById('sale-form') !== null`)
	alerts, err := chromedp.Run(cashier.ctx, chromedp.Evaluate[int](`document.querySelectorAll('.alert').length`))
	if err != nil || alerts != 0 {
		t.Errorf("a cashier's page shows %d alerts (%v)", alerts, err)
	}
}

func nz(t *testing.T) *time.Location {
	t.Helper()
	l, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestBrowserReconcile: a manager reconciles a day with Centrapay from the
// page, in Chromium, after a payment at Centrapay that no sale of ours
// made; the page shows the discrepancy by kind (manager-reconcile.png).
func TestBrowserReconcile(t *testing.T) {
	e := setup(t)
	root := browser(t)
	s := e.sale("till-1", map[string]any{"value": 1250})
	e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	e.tick()
	other, _, err := e.cp.Create(e.ctx, &centrapay.CreateRequest{ConfigID: e.seed.ConfigID, Value: centrapay.Cents(990, "NZD")})
	if err != nil {
		t.Fatal(err)
	}
	e.sb.PatronPay(other.ID, "", 0)
	manager := tab{t, root}
	manager.do(chromedp.Navigate(e.baseURL + e.loginLink("manager")))
	manager.until(`document.getElementById('sale-form') !== null`)
	manager.do(chromedp.Navigate(e.baseURL + "/manager/reconcile"))
	manager.until(`document.getElementById('reconcile') !== null`)
	// the store's today (the form proposes yesterday, as the nightly run does)
	manager.do(chromedp.SetValue(chromedp.CSS(`#day`), e.fake.Now().In(nz(t)).Format("2006-01-02")))
	manager.do(chromedp.Click(chromedp.CSS(`#reconcile button[type=submit]`)))
	manager.until(`document.getElementById('discrepancy-count').innerText.includes('1 discrepancy: 1 at Centrapay, not in the journal')`)
	manager.until(`document.querySelector('#discrepancies tbody tr').innerText.includes('` + other.ID + `')`)
	manager.do(chromedp.ScrollIntoView(chromedp.CSS(`#result`)))
	manager.shot("manager-reconcile")
}
