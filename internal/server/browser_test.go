package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

// browserZone is the browser's own time zone in the tests: UTC-10, a day
// behind the store's.
const browserZone = "America/Adak"

// browser starts Debian's headless Chromium. Without it the test is
// skipped, unless CENTRAPOS_REQUIRE_BROWSER is set (CI sets it), when it
// fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	name := "chromium"
	if c := os.Getenv("CENTRAPOS_CHROMIUM"); c != "" {
		name = c // another browser, or chromium under faketime to show that no page depends on the date
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CENTRAPOS_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium is required (apt-get install chromium)")
		}
		t.Skip("chromium is not installed")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 1000))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// The browser lives in a zone where it is still yesterday for the
	// store (Pacific/Auckland) and on a real date unlike the server's fake
	// clock: what the pages show must come from the server.
	inZone(t, ctx)
	return ctx
}

// inZone puts a tab in browserZone.
func inZone(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: browserZone}); err != nil {
		t.Fatalf("browser time zone: %v", err)
	}
}

// newTab opens another tab of root's browser. Its first action runs on
// the tab's own context, without a timeout, which would close the tab.
func newTab(t *testing.T, root context.Context) tab {
	ctx, cancel := chromedp.NewContext(root)
	t.Cleanup(cancel)
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	inZone(t, ctx)
	return tab{t, ctx}
}

// tab is one browser tab with helpers that fail the test.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func (b tab) do(a chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, a); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// until waits for a JavaScript condition to hold.
func (b tab) until(js string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	// an interval, not animation frames: a background tab gets none; a
	// page that reloads itself is polled again
	var err error
	for range 50 {
		// an element not there yet (a page still loading) is "not yet"
		guarded := "(() => { try { return !!(" + js + "); } catch (e) { return false; } })()"
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](guarded, chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "(-32000)") {
			break
		}
	}
	if err != nil {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
		b.t.Fatalf("browser: waiting for %s: %v\npage:\n%s", js, err, text)
	}
}

// twoClicks clicks sel twice as a person double-clicking does: two
// clicks in a row, the second while the first's request is in flight.
func (b tab) twoClicks(sel string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel)))
	b.do(chromedp.Click(chromedp.CSS(sel)))
}

func (b tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf("document.querySelector(%q).innerText", sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// shot saves a screenshot under $CENTRAPOS_SCREENSHOTS (the README's
// screenshots in docs/ are made this way).
func (b tab) shot(name string) {
	dir := os.Getenv("CENTRAPOS_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func statusIs(id, status string) string {
	return fmt.Sprintf("document.getElementById(%q).textContent.trim().toLowerCase() === %q", id, status)
}

// TestBrowser rings up sales in the real cashier page in headless
// Chromium: by QR paid in the sandbox wallet, by barcode with a photo-id
// condition accepted, by barcode approved in the wallet, one cancelled,
// one refunded; and checks what the
// cashier page, the customer display and the receipt show.
func TestBrowser(t *testing.T) {
	e := setup(t)
	root := browser(t)
	cashier := tab{t, root}
	cashier.do(chromedp.Navigate(e.baseURL + e.loginLink("till-1")))
	cashier.do(chromedp.WaitVisible(chromedp.CSS("#sale-form")))
	// checklist 101.3: the payment option is shown to the cashier as Centrapay, with its mark
	if got := strings.TrimSpace(cashier.text("#pay-qr")); got != "Centrapay" {
		t.Errorf("the QR payment option reads %q, want Centrapay", got)
	}
	if ok, err := chromedp.Run(cashier.ctx, chromedp.Evaluate[bool](`(() => { const m = document.querySelector("#pay-qr img.mark"); return !!m && m.complete && m.naturalWidth > 0; })()`)); err != nil || !ok {
		t.Errorf("the Centrapay mark is not shown on the payment option (%v)", err)
	}
	cashier.shot("cashier")

	display := newTab(t, root)
	display.do(chromedp.Navigate(e.baseURL + "/display/till-1"))
	display.until(`!document.getElementById("idle").hidden && document.getElementById("welcome").textContent === "Welcome"`)

	// 1. QR: the display shows the code; the patron pays in the wallet
	cashier.do(chromedp.SendKeys(chromedp.CSS("#amount"), "12.50"))
	cashier.do(chromedp.Click(chromedp.CSS("#pay-qr")))
	cashier.until(statusIs("sale-status", "waiting for payment"))
	cashier.until(`!document.getElementById("sale-qr").hidden`)
	display.until(`!document.getElementById("qr").hidden && document.getElementById("qr").naturalWidth > 0`)
	display.until(`document.getElementById("amount").textContent === "NZ$12.50"`)
	display.shot("display-qr")
	qrSale := latest(t, e)

	wallet := newTab(t, root)
	wallet.do(chromedp.Navigate(qrSale.PaymentRequest.URL))
	wallet.do(chromedp.WaitVisible(chromedp.CSS("#pay")))
	wallet.shot("wallet")
	wallet.do(chromedp.Click(chromedp.CSS("#pay")))
	wallet.until(`document.getElementById("status").textContent.trim() === "paid"`)
	e.tick()
	cashier.until(statusIs("sale-status", "paid"))
	if got := cashier.text("#paid-by"); !strings.Contains(got, "Centrapay NZD wallet") {
		t.Errorf("cashier paid-by %q", got)
	}
	display.until(statusIs("status", "paid — thank you!"))
	if got := display.text("#paid-by"); !strings.Contains(got, "Centrapay NZD wallet") {
		t.Errorf("display paid-by %q", got)
	}
	cashier.shot("cashier-paid")
	display.shot("display-paid")

	// 2. barcode typed in, validated as typed; photo-id condition accepted
	cashier.do(chromedp.Click(chromedp.CSS("#done")))
	cashier.do(chromedp.SendKeys(chromedp.CSS("#amount"), "30"))
	cashier.do(chromedp.SendKeys(chromedp.CSS("#barcode"), "1219210000000010"))
	cashier.until(`document.getElementById("barcode-check").textContent.includes("check digit")`)
	cashier.do(chromedp.SetValue(chromedp.CSS("#barcode"), ""))
	cashier.do(chromedp.SendKeys(chromedp.CSS("#barcode"), e.sb.Scenarios()["photo-id"].Barcode))
	cashier.until(`document.getElementById("barcode-check").textContent.includes("valid")`)
	cashier.do(chromedp.Click(chromedp.CSS("#pay-barcode")))
	cashier.until(statusIs("sale-status", "waiting for payment"))
	e.settle() // the first poll raises the condition
	cashier.until(`document.getElementById("condition-accept") !== null`)
	if got := cashier.text("#conditions"); !strings.Contains(got, "photo ID") {
		t.Errorf("condition message %q", got)
	}
	cashier.shot("cashier-condition")
	cashier.do(chromedp.Click(chromedp.CSS("#condition-accept")))
	cashier.until(statusIs("sale-status", "paid"))

	// 2b. a barcode the patron approves in the wallet
	cashier.do(chromedp.Click(chromedp.CSS("#done")))
	cashier.do(chromedp.SendKeys(chromedp.CSS("#amount"), "8.20"))
	cashier.do(chromedp.SendKeys(chromedp.CSS("#barcode"), e.sb.Scenarios()["patron-approval"].Barcode))
	cashier.do(chromedp.Click(chromedp.CSS("#pay-barcode")))
	cashier.until(statusIs("sale-status", "waiting for payment"))
	e.settle()
	approval := latest(t, e)
	wallet.do(chromedp.Navigate(approval.PaymentRequest.URL))
	wallet.do(chromedp.Click(chromedp.CSS("#approve")))
	wallet.until(`document.getElementById("status").textContent.trim() === "paid"`)
	e.tick()
	cashier.until(statusIs("sale-status", "paid"))

	// 3. a QR sale cancelled at the till
	cashier.do(chromedp.Click(chromedp.CSS("#done")))
	cashier.do(chromedp.SendKeys(chromedp.CSS("#amount"), "4"))
	cashier.do(chromedp.Click(chromedp.CSS("#pay-qr")))
	cashier.until(statusIs("sale-status", "waiting for payment"))
	cashier.do(chromedp.Click(chromedp.CSS("#cancel")))
	cashier.until(statusIs("sale-status", "cancelled"))
	if got := cashier.text("#sale-reason"); got != "Cancelled at the till" {
		t.Errorf("cancel reason %q", got)
	}
	display.until(statusIs("status", "cancelled"))
	cancelled := latest(t, e)
	if l := e.sb.Ledger().Requests; l[len(l)-1].ID != cancelled.PaymentRequest.ID || l[len(l)-1].Status != "cancelled" {
		t.Errorf("sandbox: %+v", l[len(l)-1])
	}

	// 4. refund part of the first sale by the short code on its receipt
	cashier.do(chromedp.SendKeys(chromedp.CSS("#refund-code"), qrSale.PaymentRequest.ShortCode))
	cashier.do(chromedp.SendKeys(chromedp.CSS("#refund-amount"), "5.00"))
	cashier.do(chromedp.Click(chromedp.CSS("#refund-form button")))
	// Centrapay accepted the refund; the engine learns it completed at its
	// next check: till then it is pending, never "refunded"
	cashier.until(`document.getElementById("refund-result").textContent.startsWith("Refund pending: Centrapay accepted NZ$5.00")`)
	cashier.until(`document.querySelector("#transactions tr.refund-row .tag").textContent === "Refund pending"`)
	e.fake.Advance(2 * time.Second)
	e.settle()
	cashier.until(`document.querySelector("#transactions tr.refund-row .tag").textContent === "Refunded"`)
	cashier.until(`document.querySelectorAll("#transactions tbody tr.sale-row").length === 4`)
	cashier.until(`document.getElementById("totals").innerText.includes("45.70")`)
	if got := cashier.text("#totals"); !strings.Contains(got, "Centrapay NZD wallet (centrapay.nzd.test)") || !strings.Contains(got, "45.70") {
		t.Errorf("totals %q", got)
	}
	cashier.shot("cashier-today")
	// the store's day and times (Auckland, 22:00 on the 25th), not the
	// browser's (Adak, 23:00 on the 24th)
	if got := cashier.text("#today-date"); !strings.Contains(got, "25") {
		t.Errorf("today's date %q: want the store's 25 November", got)
	}
	if got := cashier.text("#transactions tbody tr .when"); !strings.HasPrefix(got, "10:0") {
		t.Errorf("sale time %q: want the store's 10:0x PM", got)
	}

	// 5. the receipt has the short code and the receipt number
	cashier.do(chromedp.Navigate(e.baseURL + "/api/v1/sales/" + qrSale.ID + "/receipt"))
	cashier.do(chromedp.WaitVisible(chromedp.CSS("#r-code")))
	if got := cashier.text("#r-code"); got != qrSale.PaymentRequest.ShortCode {
		t.Errorf("receipt code %q", got)
	}
	if got := cashier.text("#r-ref"); got != qrSale.ExternalRef {
		t.Errorf("receipt reference %q", got)
	}
	cashier.shot("receipt")

	// 6. the end-of-day close, as the till prints it from its page
	cashier.do(chromedp.Navigate(e.baseURL + "/api/v1/reports/z?day=today&format=html"))
	cashier.do(chromedp.WaitVisible(chromedp.CSS("#z-report")))
	if got := cashier.text("#z-reconciled"); got != "not yet" {
		t.Errorf("Z-report reconciled %q", got)
	}
	cashier.shot("z-report")
}

func latest(t *testing.T, e *env) *pos.Sale {
	t.Helper()
	sales, err := e.j.Sales(e.ctx, pos.SaleFilter{Limit: 1})
	if err != nil || len(sales) == 0 {
		t.Fatalf("no sale: %v", err)
	}
	return sales[0]
}

// TestBrowserOncePerPress: a double click on Centrapay (QR) makes one sale and
// one Payment Request; a reload mid-sale brings the sale back with its QR
// code and Cancel button; a double click on Refund refunds once, and the
// form is cleared after it.
func TestBrowserOncePerPress(t *testing.T) {
	e := setup(t)
	cashier := tab{t, browser(t)}
	cashier.do(chromedp.Navigate(e.baseURL + e.loginLink("till-1")))
	cashier.do(chromedp.WaitVisible(chromedp.CSS("#sale-form")))

	// Centrapay is slow to answer, so the second click lands while the
	// first is in flight
	slow := func(path string) {
		if err := e.sb.AddFault(sandbox.Fault{Method: "POST", Path: path, Kind: sandbox.FaultLatency, DelayMs: 1000, Count: 2}); err != nil {
			t.Fatal(err)
		}
	}
	// a request still held by the latency is let go before the servers close
	t.Cleanup(func() { e.fake.Advance(time.Minute) })
	waiting := func() {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		if !e.fake.BlockUntil(1, ctx.Done()) {
			t.Fatal("no request reached the sandbox")
		}
	}
	slow("/api/payment-requests")
	cashier.do(chromedp.SendKeys(chromedp.CSS("#amount"), "21.00"))
	cashier.twoClicks("#pay-qr")
	waiting()
	e.fake.Advance(time.Second)
	cashier.until(statusIs("sale-status", "waiting for payment"))
	cashier.until(`!document.getElementById("pay-qr").disabled`)
	if sales, _ := e.j.Sales(e.ctx, pos.SaleFilter{}); len(sales) != 1 || len(e.sb.Ledger().Requests) != 1 {
		t.Fatalf("double click on Centrapay (QR): %d sales, %d payment requests; want 1 and 1", len(sales), len(e.sb.Ledger().Requests))
	}
	sale := latest(t, e)

	cashier.do(chromedp.Reload())
	cashier.until(`!document.getElementById("current").hidden && !document.getElementById("sale-qr").hidden && document.getElementById("sale-qr").naturalWidth > 0`)
	if got := cashier.text("#sale-ref"); got != sale.ExternalRef {
		t.Errorf("after reload: sale %q, want %q", got, sale.ExternalRef)
	}
	cashier.until(`!document.getElementById("cancel").hidden`)

	e.sb.PatronPay(sale.PaymentRequest.ID, "", 0)
	e.tick()
	cashier.until(statusIs("sale-status", "paid"))

	cashier.do(chromedp.SendKeys(chromedp.CSS("#refund-code"), sale.PaymentRequest.ShortCode))
	cashier.do(chromedp.SendKeys(chromedp.CSS("#refund-amount"), "3.00"))
	slow("/api/payment-requests/*/refund")
	cashier.twoClicks("#refund-submit")
	waiting()
	e.fake.Advance(time.Second)
	cashier.until(`document.getElementById("refund-result").textContent.startsWith("Refund pending: Centrapay accepted NZ$3.00")`)
	cashier.until(`document.getElementById("refund-code").value === "" && document.getElementById("refund-amount").value === ""`)
	refunds, err := e.j.Ops(e.ctx, pos.OpFilter{Kind: pos.OpRefund})
	if err != nil || len(refunds) != 1 || e.sb.Ledger().Requests[0].Refunded != 300 {
		t.Errorf("double click on Refund: %d refunds journaled, %d refunded at Centrapay; want 1 and 300", len(refunds), e.sb.Ledger().Requests[0].Refunded)
	}
}
