package certify

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/chromedp/chromedp"

	"github.com/centrapos/centrapos/pos"
)

// 201.1: barcodes of 16 digits (and partner cards) are taken.
func check2011(ctx context.Context, c *Check) error {
	s, err := c.barcodeSale(ctx, "quick-pay", 1850, nil)
	if err != nil {
		return err
	}
	if s, err = c.waitStatus(ctx, s.ID, pos.StatusPaid); err != nil {
		return err
	}
	c.Fact("16-digit barcode", "%s: sale %s paid, Payment Request %s", s.Barcode, s.ID, s.prID())
	if len(s.Barcode) != 16 {
		return failf("the quick-pay barcode %q is not 16 digits", s.Barcode)
	}

	// a wrong check digit is refused by the POS, before Centrapay
	bad := s.Barcode[:15] + string(rune('0'+(s.Barcode[15]-'0'+1)%10))
	before, err := c.ledger(ctx)
	if err != nil {
		return err
	}
	_, err = c.startSale(ctx, map[string]any{"value": 100, "flow": "barcode", "barcode": bad})
	e, ok := asAPIError(err)
	if err == nil || !ok || e.Status != http.StatusBadRequest {
		return failf("a barcode with a wrong check digit (%s) was not refused with 400 (%v)", bad, err)
	}
	after, err := c.ledger(ctx)
	if err != nil {
		return err
	}
	c.Fact("wrong check digit", "%s refused: %s; Payment Requests at Centrapay before/after: %d/%d", bad, e, len(before), len(after))
	if len(after) != len(before) {
		return failf("a barcode with a wrong check digit reached Centrapay")
	}

	// a code Centrapay rejects is shown as refused, not as a crash
	inv, err := c.scenario(ctx, "invalid")
	if err != nil {
		return err
	}
	s2, err := c.startSale(ctx, map[string]any{"value": 100, "flow": "barcode", "barcode": inv})
	switch e, ok := asAPIError(err); {
	case err == nil:
		if s2, err = c.waitSale(ctx, s2.ID, func(s *Sale) bool { return s.Status.Final() }); err != nil {
			return err
		}
		if s2.Status == pos.StatusPaid {
			return failf("an invalid patron code was paid")
		}
		c.Fact("code Centrapay rejects", "%s: sale %s", inv, where(s2))
	case ok && e.Status < 500:
		c.Fact("code Centrapay rejects", "%s: refused, %s", inv, e)
	default:
		return failf("an invalid patron code: %v", err)
	}

	// a 9-digit Farmlands card
	f, err := c.barcodeSale(ctx, "farmlands-card", 2100, nil)
	if err != nil {
		return err
	}
	if f, err = c.waitStatus(ctx, f.ID, pos.StatusPaid); err != nil {
		return err
	}
	c.Fact("9-digit partner card", "%s: sale %s paid by %s", f.Barcode, f.ID, paidBy(f))
	return nil
}

func paidBy(s *Sale) string {
	var out []string
	for _, p := range s.PaidBy {
		out = append(out, fmt.Sprintf("%s (%s) %d", p.Description, p.AssetType, p.Amount))
	}
	return strings.Join(out, ", ")
}

// 201.2: a barcode typed into the cashier page.
func check2012(ctx context.Context, c *Check) error {
	b, err := c.browser()
	if err != nil {
		return err
	}
	code, err := c.scenario(ctx, "patron-approval")
	if err != nil {
		return err
	}
	if err := b.cashierHome(c.env.POSURL); err != nil {
		return err
	}
	bad := code[:15] + string(rune('0'+(code[15]-'0'+1)%10))
	if err := do(b.cashier, chromedp.SendKeys(chromedp.CSS("#amount"), "8.20"), chromedp.SendKeys(chromedp.CSS("#barcode"), bad)); err != nil {
		return err
	}
	if err := until(b.cashier, `document.getElementById("barcode-check").textContent.includes("check digit")`); err != nil {
		return failf("a wrong check digit typed by hand is not flagged: %v", err)
	}
	msg, _ := text(b.cashier, "#barcode-check")
	c.Fact("typed with a wrong check digit", "%s → %q", bad, strings.TrimSpace(msg))
	if err := c.shot(b.cashier, "wrong-check-digit"); err != nil {
		return err
	}
	if err := do(b.cashier, chromedp.SetValue(chromedp.CSS("#barcode"), ""), chromedp.SendKeys(chromedp.CSS("#barcode"), code)); err != nil {
		return err
	}
	if err := until(b.cashier, `document.getElementById("barcode-check").textContent.includes("valid")`); err != nil {
		return failf("a valid barcode typed by hand is not accepted: %v", err)
	}
	msg, _ = text(b.cashier, "#barcode-check")
	c.Fact("typed correctly", "%s → %q", code, strings.TrimSpace(msg))
	if err := do(b.cashier, chromedp.Click(chromedp.CSS("#pay-barcode"))); err != nil {
		return err
	}
	if err := until(b.cashier, statusIs("sale-status", "pending")); err != nil {
		return err
	}
	s, err := c.latest(ctx)
	if err != nil {
		return err
	}
	c.session.open[s.ID] = c.till().Token
	if s, err = c.withPR(ctx, s); err != nil {
		return err
	}
	if s.Barcode != code {
		return failf("the sale carries barcode %q, typed %q", s.Barcode, code)
	}
	if err := c.patron(ctx, s.prID(), "approve", nil); err != nil {
		return err
	}
	if err := until(b.cashier, statusIs("sale-status", "paid")); err != nil {
		return err
	}
	c.Fact("sale", "%s paid, Payment Request %s", s.ID, s.prID())
	return c.shot(b.cashier, "paid")
}

// 201.3: a barcode payment end to end.
func check2013(ctx context.Context, c *Check) error {
	s, err := c.barcodeSale(ctx, "patron-approval", 3150, nil)
	if err != nil {
		return err
	}
	if s, err = c.withPR(ctx, s); err != nil {
		return err
	}
	if err := c.patron(ctx, s.prID(), "approve", nil); err != nil {
		return err
	}
	if s, err = c.waitStatus(ctx, s.ID, pos.StatusPaid); err != nil {
		return err
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	c.Fact("paid Payment Request", "%s (%s at Centrapay), paid by %s", s.prID(), pr.Status, paidBy(s))
	if pr.Status != "paid" {
		return failf("Centrapay shows %s %s", pr.ID, pr.Status)
	}
	return nil
}

// 202.1: the customer display shows the QR code.
func check2021(ctx context.Context, c *Check) error {
	b, err := c.browser()
	if err != nil {
		return err
	}
	if err := b.cashierHome(c.env.POSURL); err != nil {
		return err
	}
	if err := do(b.cashier, chromedp.SendKeys(chromedp.CSS("#amount"), "14.90"), chromedp.Click(chromedp.CSS("#pay-qr"))); err != nil {
		return err
	}
	if err := until(b.cashier, `!document.getElementById("sale-qr").hidden && document.getElementById("sale-qr").naturalWidth > 0`); err != nil {
		return failf("the cashier page shows no QR code: %v", err)
	}
	s, err := c.latest(ctx)
	if err != nil {
		return err
	}
	c.session.open[s.ID] = c.till().Token
	if s, err = c.withPR(ctx, s); err != nil {
		return err
	}
	if err := until(b.display, qrShown(s.ID)); err != nil {
		return failf("the customer display shows no QR code for sale %s: %v", s.ID, err)
	}
	if err := c.shot(b.display, "customer-display"); err != nil {
		return err
	}
	if err := c.shot(b.cashier, "cashier"); err != nil {
		return err
	}
	_, got, err := c.scanQR(ctx, s.ID)
	if err != nil {
		return err
	}
	c.Fact("the displayed code decodes to", "%s", got)
	if got != s.PaymentRequest.URL {
		return failf("the QR code decodes to %q, not the Payment Request url %q", got, s.PaymentRequest.URL)
	}
	return nil
}

// 202.2: a QR payment end to end.
func check2022(ctx context.Context, c *Check) error {
	s, err := c.qrSale(ctx, 2750, nil)
	if err != nil {
		return err
	}
	_, u, err := c.scanQR(ctx, s.ID)
	if err != nil {
		return err
	}
	c.Fact("scanned", "%s", u)
	if b, _ := c.browser(); b != nil {
		wallet, cancel := chromedp.NewContext(b.cashier)
		defer cancel()
		if _, err := chromedp.Run(wallet, chromedp.Navigate(u)); err != nil {
			return failf("open %s: %v", u, err)
		}
		if err := do(wallet, chromedp.WaitVisible(chromedp.CSS("#pay"))); err != nil {
			return failf("the wallet page at %s: %v", u, err)
		}
		if err := c.shot(wallet, "wallet"); err != nil {
			return err
		}
		if err := do(wallet, chromedp.Click(chromedp.CSS("#pay"))); err != nil {
			return err
		}
		c.Step("opened the scanned url in the sandbox wallet and pressed Pay")
	} else if err := c.patron(ctx, s.prID(), "pay", nil); err != nil {
		return err
	}
	if s, err = c.waitStatus(ctx, s.ID, pos.StatusPaid); err != nil {
		return err
	}
	c.Fact("paid", "sale %s, Payment Request %s, by %s", s.ID, s.prID(), paidBy(s))
	return nil
}

// 202.3: the QR code is the request's url.
func check2023(ctx context.Context, c *Check) error {
	s, err := c.qrSale(ctx, 660, nil)
	if err != nil {
		return err
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	_, got, err := c.scanQR(ctx, s.ID)
	if err != nil {
		return err
	}
	c.Fact("url at Centrapay", "%s", pr.URL)
	c.Fact("QR code decodes to", "%s", got)
	if got != pr.URL {
		return failf("the QR code decodes to %q; Centrapay's url is %q", got, pr.URL)
	}
	return nil
}
