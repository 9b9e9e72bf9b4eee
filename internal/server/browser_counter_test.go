package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
)

// The counter's browser tests: the cashier page and the customer display
// as a merchant and a patron see them, on till tablets and phones.

// signedIn opens the cashier page in tab b as terminal term.
func signedIn(b tab, e *env, term string) {
	b.t.Helper()
	b.do(chromedp.Navigate(e.baseURL + e.loginLink(term)))
	b.until(`document.getElementById("sale-form") !== null && document.getElementById("today-date").textContent !== ""`)
}

// eval runs a script that answers true, or fails the test with what it
// answered instead.
func (b tab) eval(js string) {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js))
	if err != nil || got != true {
		b.t.Fatalf("browser: %s: %v %v", js, got, err)
	}
}

// str evaluates a script that answers a string.
func (b tab) str(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("browser: %s: %v", js, err)
	}
	return s
}

// overflow says what on the page is cut off or wider than the screen, ""
// if nothing: the page must not scroll sideways, no visible element may
// reach past the window's edges, and no scroll box may hide part of what
// it holds.
const overflow = `(() => {
	const w = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth > w) return "the page scrolls sideways: " + document.documentElement.scrollWidth + " > " + w;
	for (const el of document.querySelectorAll("body *")) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0) continue;
		const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : "");
		if (r.right > w + 1 || r.left < -1) return name + " reaches " + Math.round(r.left) + ".." + Math.round(r.right) + " of " + w;
		const ox = getComputedStyle(el).overflowX;
		if ((ox === "auto" || ox === "scroll" || ox === "hidden") && el.scrollWidth > el.clientWidth + 1 && el.tagName !== "INPUT" && el.tagName !== "SELECT") return name + " hides " + (el.scrollWidth - el.clientWidth) + "px of what it holds";
	}
	return "";
})()`

// TestBrowserLayout: the cashier page and the customer display use the
// screen of a till tablet (1024 and 1366 px wide) and of a phone (390 px):
// nothing cut off or wider than the screen; on a tablet the sale and the
// day's sales side by side, not one card on half an empty screen.
func TestBrowserLayout(t *testing.T) {
	e := setup(t)
	root := browser(t)
	// a day with sales in every state, a refund among them
	paid := e.sale("till-1", map[string]any{"value": 1250, "lineItems": []map[string]any{{"name": "Flat white", "qty": "1", "price": "550"}, {"name": "Banana bread with butter and honey", "qty": "1", "price": "700"}}})
	e.sb.PatronPay(paid.PaymentRequest.ID, "", 0)
	e.tick()
	if r := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": paid.ID, "value": 250, "reason": "cold coffee"}); r.status >= 300 {
		t.Fatalf("refund: %d %s", r.status, r.body)
	}
	declined := e.sale("till-1", map[string]any{"value": 3000, "flow": "barcode", "barcode": e.sb.Scenarios()["insufficient-funds"].Barcode})
	part := e.sale("till-1", map[string]any{"value": 2000, "flow": "barcode", "barcode": e.sb.Scenarios()["partial"].Barcode, "basketAmount": 2000})
	long := e.sale("till-1", map[string]any{"value": 99999, "externalRef": "A-LONG-RECEIPT-NUMBER-2026-11-25-0001"})
	if r := e.do("POST", "/api/v1/sales/"+long.ID+"/cancel", "till-1", map[string]any{}); r.status != 200 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	e.settle()
	if s := e.get("till-1", declined.ID); s.Status != pos.StatusCancelled {
		t.Fatalf("declined sale: %s", s.Status)
	}
	if s := e.get("till-1", part.ID); s.RemainingAmount != 1000 {
		t.Fatalf("part-paid sale: remaining %d", s.RemainingAmount)
	}

	for _, size := range []struct {
		name          string
		width, height int64
		sideBySide    bool
	}{
		{"cashier-1024", 1024, 768, true},
		{"cashier-1366", 1366, 1024, true},
		{"cashier-phone", 390, 844, false},
	} {
		t.Run(size.name, func(t *testing.T) {
			b := newTab(t, root)
			b.do(chromedp.EmulateViewport(size.width, size.height))
			signedIn(b, e, "till-1")
			b.until(`document.querySelectorAll("#transactions tr.sale-row").length === 4`)
			// the line items open, with a long name, as a cashier rings them up
			b.do(chromedp.Click(chromedp.CSS("#add-item")))
			b.do(chromedp.SendKeys(chromedp.CSS(".item-row .c-name"), "Banana bread with butter and honey"))
			b.do(chromedp.SendKeys(chromedp.CSS(".item-row .c-price"), "7.00"))
			if msg := b.str(overflow); msg != "" {
				t.Errorf("%d px: %s", size.width, msg)
			}
			side := b.str(`(() => { const a = document.getElementById("new-sale").getBoundingClientRect(), b = document.getElementById("today").getBoundingClientRect();
				return Math.abs(a.top - b.top) < 2 && b.left > a.right ? "side by side" : "stacked"; })()`)
			if want := map[bool]string{true: "side by side", false: "stacked"}[size.sideBySide]; side != want {
				t.Errorf("%d px: the sale and the list are %s, want %s", size.width, side, want)
			}
			// the two ways to pay side by side, each on one line
			b.eval(`(() => { const q = document.getElementById("pay-qr"), c = document.getElementById("pay-barcode");
				return Math.abs(q.getBoundingClientRect().top - c.getBoundingClientRect().top) < 2 && c.getBoundingClientRect().height < 70; })()`)
			if size.sideBySide {
				// the two columns fill the width: no empty half
				b.eval(`(document.getElementById("today").getBoundingClientRect().right - document.getElementById("new-sale").getBoundingClientRect().left) >= 0.9 * document.documentElement.clientWidth`)
			}
			b.do(chromedp.Click(chromedp.CSS(".item-row .c-x")))
			b.shot(size.name)
			if !size.sideBySide {
				b.do(chromedp.ScrollIntoView(chromedp.CSS("#today")))
				b.shot(size.name + "-list")
			}
		})
	}

	// the customer display on a landscape screen and on a phone, with a
	// basket and a QR code
	e.sale("till-2", map[string]any{"value": 1250, "lineItems": []map[string]any{{"name": "Flat white", "qty": "1", "price": "550"}, {"name": "Banana bread with butter and honey", "qty": "1", "price": "700"}}})
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"display-1366", 1366, 768}, {"display-phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			b := newTab(t, root)
			b.do(chromedp.EmulateViewport(size.width, size.height))
			b.do(chromedp.Navigate(e.baseURL + e.loginLink("till-2")))
			b.do(chromedp.Navigate(e.baseURL + "/display/till-2"))
			b.until(`!document.getElementById("qr").hidden && document.getElementById("qr").naturalWidth > 0`)
			if msg := b.str(overflow); msg != "" {
				t.Errorf("%d px: %s", size.width, msg)
			}
			// the total and the QR code are on the screen, whole
			b.eval(`(() => { for (const id of ["amount", "qr"]) { const r = document.getElementById(id).getBoundingClientRect();
				if (r.bottom > window.innerHeight + 1 && window.innerWidth > 700) return id + " below the screen"; } return true; })()`)
			// large type: the total at least 40 px high
			b.eval(`parseFloat(getComputedStyle(document.getElementById("amount")).fontSize) >= 40`)
			b.shot(size.name)
		})
	}
}

// TestBrowserPartialPayment: a sale that opted in to partial payment, half
// paid, is never green "Paid": the till says "Part paid" in amber with
// what is owed in dollars; the customer display says "Paid NZ$10.00 —
// NZ$10.00 still to pay"; the list marks it; the till can refund what was
// paid.
// atCounter signs till-1 in, opens its customer display, and starts a
// sale of amount by the barcode of the sandbox's scenario (opting in to
// part payment when partial), letting the engine poll it once.
func atCounter(t *testing.T, amount, scenario string, partial bool) (*env, tab, tab) {
	e := setup(t)
	root := browser(t)
	cashier := tab{t, root}
	signedIn(cashier, e, "till-1")
	display := newTab(t, root)
	display.do(chromedp.Navigate(e.baseURL + "/display/till-1"))
	display.until(`!document.getElementById("idle").hidden`)
	cashier.do(chromedp.SendKeys(chromedp.CSS("#amount"), amount))
	if partial {
		cashier.do(chromedp.Click(chromedp.CSS("#opt-partial")))
	}
	cashier.do(chromedp.SendKeys(chromedp.CSS("#barcode"), e.sb.Scenarios()[scenario].Barcode))
	cashier.do(chromedp.Click(chromedp.CSS("#pay-barcode")))
	cashier.until(`document.getElementById("current").hidden === false`)
	e.settle()
	return e, cashier, display
}

// partPaid is a sale of NZ$20.00 at the counter by the sandbox's partial
// scenario: NZ$10.00 paid, NZ$10.00 still to pay.
func partPaid(t *testing.T) (*env, tab, tab) {
	e, cashier, display := atCounter(t, "20.00", "partial", true)
	cashier.until(statusIs("sale-status", "part paid"))
	return e, cashier, display
}

func TestBrowserPartialPayment(t *testing.T) {
	e, cashier, display := partPaid(t)
	if got := cashier.text("#remaining-text"); got != "Paid NZ$10.00 — NZ$10.00 still to pay" {
		t.Errorf("till says %q", got)
	}
	// amber, not green
	cashier.eval(`getComputedStyle(document.getElementById("sale-status")).color !== "rgb(27, 127, 59)" && getComputedStyle(document.getElementById("remaining-text")).color === "rgb(138, 90, 0)"`)
	display.until(`document.getElementById("remaining").textContent === "Paid NZ$10.00 — NZ$10.00 still to pay" && !document.getElementById("remaining").hidden`)
	if got := display.text("#status"); strings.Contains(strings.ToLower(got), "thank you") || got != "Part paid" {
		t.Errorf("display status %q", got)
	}
	cashier.until(`document.querySelector("#transactions tr.sale-row .tag").textContent === "Part paid"`)
	if got := cashier.text("#transactions tr.sale-row .owed-note"); got != "NZ$10.00 still to pay" {
		t.Errorf("list says %q", got)
	}
	cashier.shot("cashier-partial")
	display.shot("display-partial")

	// the rest is not paid: refund what was
	sale := latest(t, e)
	cashier.do(chromedp.Click(chromedp.CSS("#refund-paid")))
	cashier.until(`document.getElementById("refund-result").textContent.startsWith("Refund pending: Centrapay accepted NZ$10.00")`)
	refunds, err := e.j.Ops(e.ctx, pos.OpFilter{Kind: pos.OpRefund, SaleID: sale.ID})
	if err != nil || len(refunds) != 1 || refunds[0].Amount != 1000 {
		t.Fatalf("refunds %v %v", refunds, err)
	}
	cashier.until(`document.querySelector("#sale-refunds li") !== null && document.querySelector("#sale-refunds li").textContent.startsWith("Refund pending NZ$10.00")`)
	cashier.until(`document.getElementById("refund-paid").hidden`)
}

// TestBrowserDeclined: a payment Centrapay declines is "Declined" with its
// reason, on the till, in the list and on the customer display, not
// "Cancelled".
func TestBrowserDeclined(t *testing.T) {
	_, cashier, display := atCounter(t, "30", "insufficient-funds", false)
	cashier.until(statusIs("sale-status", "declined"))
	if got := cashier.text("#sale-reason"); !strings.Contains(got, "declined") || !strings.Contains(got, centrapay.CancelPaymentDeclined) {
		t.Errorf("reason %q", got)
	}
	display.until(statusIs("status", "declined"))
	cashier.until(`document.querySelector("#transactions tr.sale-row .tag").textContent === "Declined"`)
	if got := cashier.text("#transactions tr.sale-row"); !strings.Contains(got, centrapay.CancelPaymentDeclined) {
		t.Errorf("list row %q", got)
	}
	cashier.shot("cashier-declined")
	display.shot("display-declined")

	// one called off at the till stays "Cancelled"
	cashier.do(chromedp.Click(chromedp.CSS("#done")))
	cashier.do(chromedp.SendKeys(chromedp.CSS("#amount"), "4"))
	cashier.do(chromedp.Click(chromedp.CSS("#pay-qr")))
	cashier.until(statusIs("sale-status", "waiting for payment"))
	cashier.do(chromedp.Click(chromedp.CSS("#cancel")))
	cashier.until(statusIs("sale-status", "cancelled"))
}

// TestBrowserSaleList: the list of sales is paged by the server, filtered
// by status and by day (the store's), shows amounts with their currency
// and times in the store's zone, and has each row's actions: receipt,
// refund, cancel while open.
func TestBrowserSaleList(t *testing.T) {
	e := setup(t)
	root := browser(t)
	// two sales yesterday (the 25th in Auckland), twelve today (the 26th)
	for i := range 2 {
		s := e.sale("till-1", map[string]any{"value": 100 + i})
		e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
		e.tick()
	}
	e.fake.Advance(24 * time.Hour)
	e.settle()
	var ids []string
	for i := range 11 {
		s := e.sale("till-1", map[string]any{"value": 1000 + 100*i})
		e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
		e.tick()
		ids = append(ids, s.ID)
		e.fake.Advance(time.Minute)
	}
	open := e.sale("till-1", map[string]any{"value": 4200, "externalRef": "OPEN-1"})
	e.sale("till-2", map[string]any{"value": 777}) // another till's: not listed

	cashier := tab{t, root}
	signedIn(cashier, e, "till-1")
	cashier.until(`document.querySelectorAll("#transactions tr.sale-row").length === 10`)
	if got := cashier.text("#today-date"); !strings.Contains(got, "26") {
		t.Errorf("day %q: want the store's 26 November", got)
	}
	// newest first; the store's time (22:11 in Auckland), never the
	// browser's (Adak, 23:11 the day before)
	first := cashier.text("#transactions tr.sale-row")
	if !strings.Contains(first, "OPEN-1") || !strings.Contains(first, "10:11") || !strings.Contains(first, "NZ$42.00") {
		t.Errorf("first row %q", first)
	}
	if cashier.str(`document.querySelector('#transactions tr.sale-row .cancel-action') ? "cancel" : ""`) != "cancel" {
		t.Error("the open sale has no Cancel")
	}
	if n := cashier.str(`String(document.querySelectorAll("#transactions .receipt-link").length)`); n != "9" {
		t.Errorf("%s receipt links, want 9 (the final sales of the page)", n)
	}
	cashier.until(`!document.getElementById("page-older").disabled && document.getElementById("page-newer").disabled`)
	cashier.shot("cashier-list")
	cashier.do(chromedp.Click(chromedp.CSS("#page-older")))
	cashier.until(`document.querySelectorAll("#transactions tr.sale-row").length === 2 && document.getElementById("page-older").disabled`)
	if got := cashier.text("#transactions tbody"); !strings.Contains(got, "NZ$10.00") || !strings.Contains(got, "NZ$11.00") {
		t.Errorf("page 2: %q", got)
	}
	cashier.do(chromedp.Click(chromedp.CSS("#page-newer")))
	cashier.until(`document.querySelectorAll("#transactions tr.sale-row").length === 10`)

	// cancel the open sale from its row
	cashier.do(chromedp.Click(chromedp.CSS(`#transactions tr.sale-row[data-sale="` + open.ID + `"] .cancel-action`)))
	cashier.until(`document.querySelector('#transactions tr.sale-row[data-sale="` + open.ID + `"] .tag').textContent === "Cancelled"`)
	if s := e.get("till-1", open.ID); s.Status != pos.StatusCancelled {
		t.Errorf("open sale %s", s.Status)
	}

	// refund from a row: the form is filled with its code and what is left
	cashier.do(chromedp.Click(chromedp.CSS(`#transactions tr.sale-row[data-sale="` + ids[10] + `"] .refund-action`)))
	cashier.until(`document.getElementById("refund-amount").value === "20.00" && document.getElementById("refund-code").value.startsWith("CP-")`)
	cashier.do(chromedp.Click(chromedp.CSS("#refund-submit")))
	cashier.until(`document.querySelector('#transactions tr.sale-row[data-sale="` + ids[10] + `"] + tr.refund-row .tag')?.textContent === "Refund pending"`)
	e.fake.Advance(2 * time.Second)
	e.settle()
	cashier.until(`document.querySelector('#transactions tr.sale-row[data-sale="` + ids[10] + `"] + tr.refund-row .tag')?.textContent === "Refunded"`)
	cashier.until(`document.getElementById("refund-result").textContent.startsWith("Refunded NZ$20.00")`)

	// by status
	cashier.eval(`(() => { const s = document.getElementById("filter-status"); s.value = "cancelled"; s.dispatchEvent(new Event("change")); return true; })()`)
	cashier.until(`document.querySelectorAll("#transactions tr.sale-row").length === 1 && document.querySelector("#transactions tr.sale-row").innerText.includes("OPEN-1")`)
	// by day: yesterday's two, with every status
	cashier.eval(`(() => { const s = document.getElementById("filter-status"); s.value = ""; const d = document.getElementById("filter-day"); d.value = "2026-11-25"; d.dispatchEvent(new Event("change")); return true; })()`)
	cashier.until(`document.querySelectorAll("#transactions tr.sale-row").length === 2 && document.getElementById("today-date").textContent.includes("25")`)
	if got := cashier.text("#transactions tbody"); !strings.Contains(got, "NZ$1.00") || !strings.Contains(got, "NZ$1.01") || !strings.Contains(got, "10:00") {
		t.Errorf("the 25th: %q", got)
	}
	cashier.until(`document.getElementById("totals").innerText.includes("NZ$2.01")`)
	if href := cashier.str(`document.getElementById("z-report").getAttribute("href")`); !strings.Contains(href, "day=2026-11-25") {
		t.Errorf("Z-report link %q", href)
	}
}

// TestBrowserLineItems: line items with quantity and GST make the amount;
// the customer display shows the basket while the patron pays; the
// patron-not-present option reaches Centrapay.
func TestBrowserLineItems(t *testing.T) {
	e := setup(t)
	root := browser(t)
	cashier := tab{t, root}
	signedIn(cashier, e, "till-1")
	display := newTab(t, root)
	display.do(chromedp.Navigate(e.baseURL + "/display/till-1"))
	display.until(`!document.getElementById("idle").hidden`)
	display.shot("display-idle")

	cashier.do(chromedp.Click(chromedp.CSS("#add-item")))
	cashier.do(chromedp.SendKeys(chromedp.CSS(".item-row:nth-child(1) .c-name"), "Flat white"))
	cashier.eval(`(() => { document.querySelector(".item-row:nth-child(1) .c-qty").value = ""; return true; })()`)
	cashier.do(chromedp.SendKeys(chromedp.CSS(".item-row:nth-child(1) .c-qty"), "2"))
	cashier.do(chromedp.SendKeys(chromedp.CSS(".item-row:nth-child(1) .c-price"), "5.50"))
	cashier.do(chromedp.Click(chromedp.CSS("#add-item")))
	cashier.do(chromedp.SendKeys(chromedp.CSS(".item-row:nth-child(2) .c-name"), "Muffin"))
	cashier.do(chromedp.SendKeys(chromedp.CSS(".item-row:nth-child(2) .c-price"), "4.20"))
	cashier.do(chromedp.SendKeys(chromedp.CSS(".item-row:nth-child(2) .c-tax"), "0"))
	cashier.until(`document.getElementById("amount").value === "15.20" && document.getElementById("amount").readOnly`)
	if got := cashier.text(".item-row:nth-child(1) .c-line"); got != "NZ$11.00" {
		t.Errorf("line total %q", got)
	}
	cashier.do(chromedp.Click(chromedp.CSS("#opt-not-present")))
	cashier.shot("cashier-items")
	cashier.do(chromedp.Click(chromedp.CSS("#pay-qr")))
	cashier.until(statusIs("sale-status", "waiting for payment"))
	s := latest(t, e)
	if len(s.LineItems) != 2 || s.LineItems[0].Qty.String() != "2" || s.LineItems[0].Price.String() != "1100" || s.LineItems[0].Tax.String() != "143" || s.LineItems[1].Tax.String() != "0" || s.Value != 1520 || !s.PatronNotPresent {
		t.Errorf("sale %+v", s)
	}
	display.until(`document.querySelectorAll("#basket tr").length === 2 && !document.getElementById("qr").hidden && document.getElementById("qr").naturalWidth > 0`)
	if got := display.text("#basket"); !strings.Contains(got, "2 ×\tFlat white\tNZ$11.00") || !strings.Contains(got, "Muffin") {
		t.Errorf("display basket %q", got)
	}
	display.shot("display-basket")
	e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	e.tick()
	display.until(statusIs("status", "paid — thank you!"))
	cashier.until(statusIs("sale-status", "paid"))
}

// TestBrowserConditionOnDisplay: while the cashier checks a condition, the
// customer display asks the patron for it; the till shows Centrapay's
// message verbatim. A display opened after a sale ended shows its idle
// screen.
func TestBrowserConditionOnDisplay(t *testing.T) {
	_, cashier, display := atCounter(t, "30", "photo-id", false)
	cashier.until(`document.getElementById("condition-accept") !== null`)
	if got := cashier.text(".condition-message"); got != "Check the patron's photo ID: they must be 18 or over." {
		t.Errorf("till condition %q", got)
	}
	// the sale's row in the list follows it as it changes
	cashier.until(`document.querySelector("#transactions tr.sale-row .tag").textContent === "Check needed"`)
	display.until(`!document.getElementById("condition").hidden`)
	if got := display.text("#condition"); got != "Please show your photo ID to the cashier" {
		t.Errorf("display condition %q", got)
	}
	display.shot("display-condition")
	cashier.do(chromedp.Click(chromedp.CSS("#condition-accept")))
	cashier.until(statusIs("sale-status", "paid"))
	display.until(`document.getElementById("condition").hidden && document.getElementById("status").textContent === "Paid — thank you!"`)
	display.do(chromedp.Reload())
	display.until(`!document.getElementById("idle").hidden && document.getElementById("sale").hidden`)
}

// TestBrowserPreAuth: a pre-auth authorised by barcode shows what is
// authorised; the cashier confirms part of it and releases the rest.
func TestBrowserPreAuth(t *testing.T) {
	e := setup(t)
	cashier := tab{t, browser(t)}
	signedIn(cashier, e, "till-1")
	cashier.do(chromedp.Click(chromedp.CSS("#opt-preauth")))
	cashier.do(chromedp.SendKeys(chromedp.CSS("#amount"), "50"))
	cashier.do(chromedp.SendKeys(chromedp.CSS("#barcode"), e.sb.Scenarios()["pre-auth"].Barcode))
	cashier.do(chromedp.Click(chromedp.CSS("#pay-barcode")))
	cashier.until(`document.getElementById("form-error").textContent.includes("line items")`)
	cashier.do(chromedp.SendKeys(chromedp.CSS(".item-row .c-name"), "Fuel up to"))
	cashier.do(chromedp.SendKeys(chromedp.CSS(".item-row .c-price"), "50"))
	cashier.do(chromedp.Click(chromedp.CSS("#pay-barcode")))
	cashier.until(`document.getElementById("current").hidden === false`)
	e.settle()
	cashier.until(statusIs("sale-status", "authorised"))
	cashier.until(`document.getElementById("preauth-text").textContent.startsWith("Authorised NZ$50.00 · confirmed NZ$0.00 · NZ$50.00 remaining authorised")`)
	cashier.do(chromedp.SendKeys(chromedp.CSS("#confirm-amount"), "32.40"))
	cashier.do(chromedp.Click(chromedp.CSS("#confirm")))
	cashier.until(`document.getElementById("preauth-text").textContent.startsWith("Authorised NZ$50.00 · confirmed NZ$32.40 · NZ$17.60 remaining authorised")`)
	cashier.shot("cashier-preauth")
	cashier.do(chromedp.Click(chromedp.CSS("#release")))
	cashier.until(`document.getElementById("preauth-text").textContent.includes("the rest released") && document.getElementById("confirm-form").hidden`)
	cashier.until(statusIs("sale-status", "pre-auth released"))
	s := latest(t, e)
	if s.Confirmed != 3240 || s.PaymentRequest.PreAuthStatus != centrapay.PreAuthReleased {
		t.Errorf("sale: confirmed %d, pre-auth %s", s.Confirmed, s.PaymentRequest.PreAuthStatus)
	}
}

// TestBrowserKeyboard: Enter pays; a barcode scanner's burst of digits and
// Enter lands in the barcode field and pays by barcode wherever the cursor
// was, without leaving its digits in that field; a person's slow digits
// stay where they are typed.
func TestBrowserKeyboard(t *testing.T) {
	e := setup(t)
	cashier := tab{t, browser(t)}
	signedIn(cashier, e, "till-1")
	// Enter in the amount field pays by QR
	cashier.do(chromedp.SendKeys(chromedp.CSS("#amount"), "7\r"))
	cashier.until(statusIs("sale-status", "waiting for payment"))
	if s := latest(t, e); s.Flow != pos.FlowQR || s.Value != 700 {
		t.Errorf("Enter: %s %d", s.Flow, s.Value)
	}
	cashier.do(chromedp.Click(chromedp.CSS("#cancel")))
	cashier.until(statusIs("sale-status", "cancelled"))
	cashier.do(chromedp.Click(chromedp.CSS("#done")))

	cashier.do(chromedp.SendKeys(chromedp.CSS("#amount"), "12.40"))
	// a person types a receipt number slowly, digits too
	for _, k := range "R-12" {
		cashier.do(chromedp.SendKeys(chromedp.CSS("#ref"), string(k)))
		time.Sleep(120 * time.Millisecond)
	}
	// then the scanner, with the cursor still in the receipt number
	code := e.sb.Scenarios()["quick-pay"].Barcode
	cashier.do(chromedp.KeyEvent(code + "\r"))
	cashier.until(`document.getElementById("current").hidden === false`)
	if got := cashier.str(`document.getElementById("barcode").value`); got != code {
		t.Errorf("barcode field %q", got)
	}
	s := latest(t, e)
	if s.Flow != pos.FlowBarcode || s.Barcode != code || s.ExternalRef != "R-12" || s.Value != 1240 {
		t.Errorf("scanned sale: flow %s, barcode %s, ref %q, value %d", s.Flow, s.Barcode, s.ExternalRef, s.Value)
	}
	e.settle()
	cashier.until(statusIs("sale-status", "paid"))
	// Enter again: the next sale, the cursor in its amount
	cashier.until(`document.activeElement === document.getElementById("done")`)
	cashier.do(chromedp.KeyEvent("\r"))
	cashier.until(`!document.getElementById("new-sale").hidden && document.activeElement === document.getElementById("amount")`)
}

// TestBrowserManagerList: a manager's list has every till's sales, each
// with its till, and filters by till; its totals follow.
func TestBrowserManagerList(t *testing.T) {
	e := setup(t)
	for term, v := range map[string]int{"till-1": 1100, "till-2": 2200} {
		s := e.sale(term, map[string]any{"value": v})
		e.sb.PatronPay(s.PaymentRequest.ID, "", 0)
		e.tick()
	}
	manager := tab{t, browser(t)}
	signedIn(manager, e, "manager")
	manager.until(`document.querySelectorAll("#transactions tr.sale-row").length === 2`)
	if got := manager.text("#transactions tbody"); !strings.Contains(got, "till-1") || !strings.Contains(got, "till-2") {
		t.Errorf("manager's list %q", got)
	}
	manager.eval(`(() => { const s = document.getElementById("filter-till"); s.value = "till-2"; s.dispatchEvent(new Event("change")); return true; })()`)
	manager.until(`document.querySelectorAll("#transactions tr.sale-row").length === 1 && document.querySelector("#transactions tr.sale-row").innerText.includes("NZ$22.00")`)
	manager.until(`document.getElementById("totals").innerText.includes("NZ$22.00") && !document.getElementById("totals").innerText.includes("NZ$33.00")`)
}

// TestBrowserTakeTheRest: the rest of a part payment is taken in cash at
// the till: one press, however often the button is pressed; the till, the
// list and the customer display then say paid, nothing still to pay; the
// receipt shows the cash beside Centrapay's payment.
func TestBrowserTakeTheRest(t *testing.T) {
	e, cashier, display := partPaid(t)
	if got := cashier.text("#take-cash"); got != "NZ$10.00 in cash" {
		t.Errorf("the cash button says %q", got)
	}
	// a double press: two clicks in one task
	cashier.eval(`(() => { const b = document.getElementById("take-cash"); b.click(); b.click(); return true; })()`)
	cashier.until(`document.getElementById("tender-result").textContent === "NZ$10.00 taken in cash."`)
	cashier.until(statusIs("sale-status", "paid"))
	cashier.until(`document.getElementById("remaining").hidden`)
	sale := latest(t, e)
	got := e.get("till-1", sale.ID)
	if len(got.Tenders) != 1 || got.Tenders[0].Amount != 1000 || got.Tenders[0].Method != pos.TenderCash || got.StillToPay() != 0 {
		t.Fatalf("tenders %+v, still to pay %d: want one of NZ$10.00 in cash", got.Tenders, got.StillToPay())
	}
	display.until(`document.getElementById("status").textContent === "Paid — thank you!" && document.getElementById("remaining").hidden`)
	cashier.until(`document.querySelector("#transactions tr.sale-row .tag").textContent === "Paid"`)
	if got := cashier.text("#paid-by"); !strings.HasSuffix(got, "; Cash NZ$10.00 (outside Centrapay)") {
		t.Errorf("paid by %q, want the cash after Centrapay's payment", got)
	}
	cashier.shot("cashier-rest-in-cash")
	r := e.do("GET", "/api/v1/sales/"+sale.ID+"/receipt?format=text", "till-1", nil)
	if !strings.Contains(string(r.body), "Cash (outside Centrapay)") || strings.Contains(string(r.body), "Still to pay") {
		t.Errorf("receipt:\n%s", r.body)
	}
}
