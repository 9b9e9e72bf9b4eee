package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserReceipt opens a sale's receipt in Chromium on 80 mm and
// 58 mm paper, as the cashier page's "Print receipt" link does: the
// merchant's details, lines, codes and refund are there, nothing sticks
// out of the paper, every amount is at its right edge, and both codes are
// drawn. With CENTRAPOS_SCREENSHOTS set it saves receipt.png and
// receipt-58mm.png.
func TestBrowserReceipt(t *testing.T) {
	e := receiptEnv(t)
	s := e.sale("till-1", map[string]any{"value": 2350, "externalRef": "R-20261125-0042", "flow": "barcode", "barcode": e.sb.Scenarios()["quick-pay"].Barcode,
		"lineItems": []map[string]any{
			{"name": "Flat white", "qty": "2", "price": "1100", "tax": "15"},
			{"name": "Single-origin Ethiopian Yirgacheffe beans, 250 g bag", "qty": "1", "price": "1250", "tax": "15"}}})
	if r := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": s.ID, "value": 550, "reason": "one flat white spilt"}); r.status >= 300 {
		t.Fatalf("refund: %d %s", r.status, r.body)
	}
	e.settle()
	s = e.get("till-1", s.ID)

	root := browser(t)
	b := tab{t, root}
	b.do(chromedp.Navigate(e.baseURL + e.loginLink("till-1")))
	b.do(chromedp.WaitVisible(chromedp.CSS("#sale-form")))
	// the cashier page links the receipt as /api/v1/sales/{id}/receipt
	for _, c := range []struct{ query, shot string }{{"", "receipt"}, {"?paper=58", "receipt-58mm"}} {
		b.do(chromedp.Navigate(e.baseURL + "/api/v1/sales/" + s.ID + "/receipt" + c.query))
		b.do(chromedp.WaitVisible(chromedp.CSS("#r-code")))
		for sel, want := range map[string]string{"#r-merchant": "Centrapay Café", "#r-gst": "123-456-789", "#r-ref": "R-20261125-0042",
			"#r-code": s.PaymentRequest.ShortCode, "#r-total": "23.50", "#r-status": "Paid", "#r-left": "18.00"} {
			if got := strings.TrimSpace(b.text(sel)); got != want {
				t.Errorf("%s: %s reads %q, want %q", c.shot, sel, got, want)
			}
		}
		page := b.text("#receipt")
		for _, want := range []string{"12 Queen Street", "Auckland 1010", "Yirgacheffe", "Centrapay NZD wallet", "one flat white spilt", "-5.50"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the page lacks %q:\n%s", c.shot, want, page)
			}
		}
		// nothing wider than the paper; each amount ends at the paper's
		// right edge (within half a pixel); both codes drawn at a size
		js := `(() => {
			const paper = document.getElementById("receipt"), cs = getComputedStyle(paper);
			const right = paper.getBoundingClientRect().right - parseFloat(cs.paddingRight), out = [];
			for (const el of paper.querySelectorAll("*")) {
				const r = el.getBoundingClientRect();
				if (r.width > 0 && r.right > right + 0.5) out.push("sticks out: " + (el.id || el.className.baseVal || el.className || el.tagName) + " " + r.right + " > " + right);
			}
			for (const n of paper.querySelectorAll(".row .n")) {
				if (n.textContent && Math.abs(n.getBoundingClientRect().right - right) > 0.5) out.push("not at the edge: " + n.textContent);
			}
			for (const svg of paper.querySelectorAll("svg")) {
				const r = svg.getBoundingClientRect();
				if (r.width < 80 || r.height < 20) out.push("code too small: " + svg.getAttribute("class") + " " + r.width + "x" + r.height);
			}
			if (paper.scrollWidth > paper.clientWidth) out.push("scrolls sideways");
			return out;
		})()`
		problems, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](js))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s", c.shot, p)
		}
		if dir := os.Getenv("CENTRAPOS_SCREENSHOTS"); dir != "" {
			buf, err := chromedp.Run(b.ctx, chromedp.ScreenshotScale(chromedp.CSS("#receipt"), 2))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, c.shot+".png"), buf, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
