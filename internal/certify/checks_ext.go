package certify

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/chromedp/chromedp"

	"github.com/centrapos/centrapos/pos"
)

// 301.1: a pre-auth is authorised.
func check3011(ctx context.Context, c *Check) error {
	s, err := c.authorisedPreAuth(ctx, 8000)
	if err != nil {
		return err
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	c.Fact("at Centrapay", "preAuth %v, preAuthStatus %s, preAuthExpiresAt %s, %d line item(s)", pr.PreAuth, pr.PreAuthStatus, ts(pr.PreAuthExpiresAt.Time), len(pr.LineItems))
	if !pr.PreAuth || pr.PreAuthStatus != "authorized" {
		return failf("Payment Request %s is not an authorised pre-auth at Centrapay", pr.ID)
	}
	if len(pr.LineItems) == 0 {
		return failf("the pre-auth was created without line items")
	}
	return nil
}

// 301.2: confirmation.
func check3012(ctx context.Context, c *Check) error {
	s, err := c.authorisedPreAuth(ctx, 8000)
	if err != nil {
		return err
	}
	op, err := c.confirm(ctx, s, 5000, "INV-"+c.session.runID+"-3012", "")
	if err != nil {
		return err
	}
	as, err := c.activities(ctx, s.prID())
	if err != nil {
		return err
	}
	cs := activitiesOf(as, "confirmation")
	if len(cs) != 1 {
		return failf("Centrapay lists %d confirmations of %s", len(cs), s.prID())
	}
	c.Fact("confirmation at Centrapay", "%s cents, idempotencyKey %s (the POS's %s)", cs[0].Value.Amount, cs[0].IdempotencyKey, op.Key)
	if cs[0].IdempotencyKey != op.Key {
		return failf("the confirmation at Centrapay has key %s, the POS sent %s", cs[0].IdempotencyKey, op.Key)
	}
	return nil
}

// 301.3: a lost confirmation answer is retried with the same key.
func check3013(ctx context.Context, c *Check) error {
	s, err := c.authorisedPreAuth(ctx, 8000)
	if err != nil {
		return err
	}
	path := "/api/payment-requests/" + s.prID() + "/confirm"
	mark := c.env.Logs.Mark()
	if err := c.addFault(ctx, fault{Method: http.MethodPost, Path: path, Kind: "drop-after-commit", Count: 1}); err != nil {
		return err
	}
	key := "certify-" + c.session.runID + "-3013"
	if _, err := c.confirm(ctx, s, 4000, "INV-"+c.session.runID+"-3013", key); err != nil {
		return err
	}
	lost := c.env.Logs.Wait(ctx, mark, "centrapay call", "path="+path, "attempt=1", "err=\"")
	if lost == "" {
		return failf("the server log shows no failed confirmation attempt")
	}
	c.Fact("attempt whose answer was lost", "%s", excerpt(lost))
	if again := c.env.Logs.Wait(ctx, mark, "centrapay call", "path="+path, "status=200"); again != "" {
		c.Fact("retried", "%s", excerpt(again))
	}
	as, err := c.activities(ctx, s.prID())
	if err != nil {
		return err
	}
	cs := activitiesOf(as, "confirmation")
	c.Fact("confirmations at Centrapay", "%d", len(cs))
	if len(cs) != 1 || cs[0].IdempotencyKey != key {
		return failf("Centrapay lists %d confirmations (want one, with key %s)", len(cs), key)
	}
	return nil
}

// 301.4: release the rest.
func check3014(ctx context.Context, c *Check) error {
	s, err := c.authorisedPreAuth(ctx, 8000)
	if err != nil {
		return err
	}
	if _, err := c.confirm(ctx, s, 3000, "INV-"+c.session.runID+"-3014", ""); err != nil {
		return err
	}
	var op pos.Op
	if _, err := c.api(ctx, http.MethodPost, "/api/v1/sales/"+s.ID+"/release", nil, &op); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	c.Step("POST /api/v1/sales/%s/release → %s %s", s.ID, op.ID, op.State)
	if op.State != pos.OpSucceeded {
		return failf("the release is %s (%s)", op.State, op.Error)
	}
	as, err := c.activities(ctx, s.prID())
	if err != nil {
		return err
	}
	rs := activitiesOf(as, "release")
	if len(rs) != 1 {
		return failf("Centrapay lists %d release activities for %s", len(rs), s.prID())
	}
	c.Fact("release at Centrapay", "activity %s, %s cents released", orNone(rs[0].ID), rs[0].Value.Amount)
	return nil
}

// 301.5: refund a confirmation.
func check3015(ctx context.Context, c *Check) error {
	s, err := c.authorisedPreAuth(ctx, 8000)
	if err != nil {
		return err
	}
	op, err := c.confirm(ctx, s, 6000, "INV-"+c.session.runID+"-3015", "")
	if err != nil {
		return err
	}
	r, err := c.refund(ctx, map[string]any{"saleId": s.ID, "value": 2000, "confirmationIdempotencyKey": op.Key, "reason": "certify: pre-auth refund"})
	if err != nil {
		return err
	}
	as, err := c.activities(ctx, s.prID())
	if err != nil {
		return err
	}
	rs := activitiesOf(as, "refund")
	if len(rs) != 1 || rs[0].ConfirmationIdempotencyKey != op.Key {
		return failf("Centrapay does not list one refund of confirmation %s: %+v", op.Key, rs)
	}
	c.Fact("refund", "%s of %d cents against confirmation %s; at Centrapay %s cents", r.ID, r.Amount, op.Key, rs[0].Value.Amount)
	return nil
}

// 301.6: the invoice number reaches Centrapay.
func check3016(ctx context.Context, c *Check) error {
	s, err := c.authorisedPreAuth(ctx, 8000)
	if err != nil {
		return err
	}
	invoice := "INV-" + c.session.runID + "-3016"
	if _, err := c.confirm(ctx, s, 2500, invoice, ""); err != nil {
		return err
	}
	as, err := c.activities(ctx, s.prID())
	if err != nil {
		return err
	}
	cs := activitiesOf(as, "confirmation")
	if len(cs) != 1 {
		return failf("Centrapay lists %d confirmations", len(cs))
	}
	c.Fact("invoiceRef at Centrapay", "%s (the till gave %s)", orNone(cs[0].InvoiceRef), invoice)
	if cs[0].InvoiceRef != invoice {
		return failf("the confirmation at Centrapay has invoiceRef %q, not %q", cs[0].InvoiceRef, invoice)
	}
	return nil
}

// 302.1: conditionsEnabled on create.
func check3021(ctx context.Context, c *Check) error {
	s, err := c.qrSale(ctx, 1900, nil)
	if err != nil {
		return err
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	c.Fact("conditionsEnabled at Centrapay", "%v (Payment Request %s)", pr.ConditionsEnabled, pr.ID)
	if !pr.ConditionsEnabled {
		return failf("Payment Request %s was created without conditionsEnabled", pr.ID)
	}
	return nil
}

// 302.2: the cashier is prompted with the condition's message.
func check3022(ctx context.Context, c *Check) error {
	b, err := c.browser()
	if err != nil {
		return err
	}
	code, err := c.scenario(ctx, "photo-id")
	if err != nil {
		return err
	}
	if err := b.cashierHome(c.env.POSURL); err != nil {
		return err
	}
	if err := do(b.cashier, chromedp.SendKeys(chromedp.CSS("#amount"), "30.00"), chromedp.SendKeys(chromedp.CSS("#barcode"), code),
		chromedp.Click(chromedp.CSS("#pay-barcode"))); err != nil {
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
	s, err = c.waitSale(ctx, s.ID, func(s *Sale) bool { return len(s.Conditions) > 0 || s.Status.Final() })
	if err != nil {
		return err
	}
	if len(s.Conditions) == 0 {
		return failf("the sale ended %s without a condition", where(s))
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	if len(pr.MerchantConditions) == 0 {
		return failf("Centrapay lists no merchant condition on %s", pr.ID)
	}
	want := pr.MerchantConditions[0].Message
	c.Fact("condition at Centrapay", "%s (%s): %q", pr.MerchantConditions[0].Name, pr.MerchantConditions[0].Status, want)
	if err := until(b.cashier, fmt.Sprintf(`document.getElementById("conditions").innerText.includes(%q) && document.getElementById("condition-accept") !== null`, want)); err != nil {
		return failf("the cashier is not prompted with Centrapay's message verbatim: %v", err)
	}
	shown, _ := text(b.cashier, "#conditions")
	c.Fact("cashier prompt", "%q", strings.TrimSpace(shown))
	if err := c.shot(b.cashier, "prompt"); err != nil {
		return err
	}
	if err := do(b.cashier, chromedp.Click(chromedp.CSS("#condition-accept"))); err != nil {
		return err
	}
	if err := until(b.cashier, statusIs("sale-status", "paid")); err != nil {
		return failf("accepting the condition in the cashier page did not pay the sale: %v", err)
	}
	return c.shot(b.cashier, "accepted")
}

// 302.3: accept and decline.
func check3023(ctx context.Context, c *Check) error {
	for _, accept := range []bool{true, false} {
		s, err := c.barcodeSale(ctx, "photo-id", 2600, nil)
		if err != nil {
			return err
		}
		s, err = c.waitSale(ctx, s.ID, func(s *Sale) bool {
			return len(s.Conditions) > 0 && s.Conditions[0].Status == "awaiting-merchant" || s.Status.Final()
		})
		if err != nil {
			return err
		}
		if len(s.Conditions) == 0 {
			return failf("the sale ended %s without a condition", where(s))
		}
		verb, want, act := "accept", pos.StatusPaid, "accept-condition"
		if !accept {
			verb, want, act = "decline", pos.StatusCancelled, "decline-condition"
		}
		var got Sale
		if _, err := c.api(ctx, http.MethodPost, "/api/v1/sales/"+s.ID+"/conditions/"+s.Conditions[0].ID+"/"+verb, nil, &got); err != nil {
			return fmt.Errorf("%s condition: %w", verb, err)
		}
		c.Step("POST /api/v1/sales/%s/conditions/%s/%s (%q)", s.ID, s.Conditions[0].ID, verb, s.Conditions[0].Message)
		end, err := c.waitStatus(ctx, s.ID, want)
		if err != nil {
			return err
		}
		as, err := c.activities(ctx, s.prID())
		if err != nil {
			return err
		}
		if len(activitiesOf(as, act)) != 1 {
			return failf("Centrapay lists no %s activity for %s", act, s.prID())
		}
		c.Fact(verb+"ed", "sale %s: %s; Centrapay: %s", s.ID, where(end), act)
	}
	return nil
}

// 303.1: patronNotPresent.
func check3031(ctx context.Context, c *Check) error {
	s, err := c.qrSale(ctx, 4100, map[string]any{"patronNotPresent": true})
	if err != nil {
		return err
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	c.Fact("patronNotPresent at Centrapay", "%v (Payment Request %s)", pr.PatronNotPresent, pr.ID)
	if !pr.PatronNotPresent {
		return failf("Payment Request %s does not say the patron is not present", pr.ID)
	}
	return nil
}

// partialSale is a QR sale of 2000 cents of a 5000-cent basket.
func (c *Check) partialSale(ctx context.Context) (*Sale, error) {
	return c.qrSale(ctx, 2000, map[string]any{"basketAmount": 5000})
}

// 305.1: partial payment is opted in to.
func check3051(ctx context.Context, c *Check) error {
	s, err := c.partialSale(ctx)
	if err != nil {
		return err
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	c.Fact("partialAllowed at Centrapay", "%v (Payment Request %s)", pr.PartialAllowed, pr.ID)
	if !pr.PartialAllowed {
		return failf("Payment Request %s was created without partialAllowed", pr.ID)
	}
	full, err := c.qrSale(ctx, 2000, nil)
	if err != nil {
		return err
	}
	if pr, err = c.readPR(ctx, full.prID()); err != nil {
		return err
	}
	c.Fact("a sale without a basket amount", "partialAllowed %v (Payment Request %s)", pr.PartialAllowed, pr.ID)
	if pr.PartialAllowed {
		return failf("a sale that did not ask for partial payment was created with partialAllowed")
	}
	return nil
}

// 305.2: value and basketAmount.
func check3052(ctx context.Context, c *Check) error {
	s, err := c.partialSale(ctx)
	if err != nil {
		return err
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	c.Fact("value.amount at Centrapay", "%s %s (the till: %d)", pr.Value.Amount, pr.Value.Currency, s.Value)
	c.Fact("basketAmount at Centrapay", "%s (the till: %d)", pr.BasketAmount, s.BasketAmount)
	if !pr.PartialAllowed || pr.Value.Amount.String() != fmt.Sprint(s.Value) || pr.BasketAmount.String() != fmt.Sprint(s.BasketAmount) {
		return failf("Payment Request %s: partialAllowed %v, value %s, basketAmount %s; the till asked for %d of %d", pr.ID, pr.PartialAllowed, pr.Value.Amount, pr.BasketAmount, s.Value, s.BasketAmount)
	}
	return nil
}

// 305.3: the remaining amount.
func check3053(ctx context.Context, c *Check) error {
	s, err := c.barcodeSale(ctx, "partial", 4000, map[string]any{"basketAmount": 4000})
	if err != nil {
		return err
	}
	s, err = c.waitSale(ctx, s.ID, func(s *Sale) bool { return s.Status.Final() })
	if err != nil {
		return err
	}
	if s.Status != pos.StatusPaid {
		return failf("the partial payment ended %s", where(s))
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	c.Fact("remainingAmount at Centrapay", "%s", pr.RemainingAmount)
	c.Fact("remainingAmount the POS shows", "%d (paid %d by %s)", s.RemainingAmount, s.Paid(), paidBy(s))
	if s.RemainingAmount <= 0 || pr.RemainingAmount.String() != fmt.Sprint(s.RemainingAmount) {
		return failf("the POS shows %d remaining; Centrapay says %s", s.RemainingAmount, pr.RemainingAmount)
	}
	r, err := c.receiptText(ctx, s.ID)
	if err != nil {
		return err
	}
	if l := lineWith(r, "Still to pay"); l != "" {
		c.Fact("receipt", "%s", l)
	}
	// the patron cannot pay the rest: what was paid is refunded
	op, err := c.refund(ctx, map[string]any{"saleId": s.ID, "value": s.Paid(), "reason": "certify: the rest could not be paid"})
	if err != nil {
		return err
	}
	c.Fact("refund of what was paid", "%s: %d cents", op.ID, op.Amount)
	// another patron pays the rest in cash: the till records it
	s2, err := c.barcodeSale(ctx, "partial", 4000, map[string]any{"basketAmount": 4000})
	if err != nil {
		return err
	}
	if s2, err = c.waitSale(ctx, s2.ID, func(s *Sale) bool { return s.Status.Final() }); err != nil {
		return err
	}
	var after struct {
		StillToPay int64        `json:"stillToPay"`
		Tenders    []pos.Tender `json:"tenders"`
	}
	body := map[string]any{"method": "cash", "amount": s2.RemainingAmount}
	if _, err := c.api(ctx, http.MethodPost, "/api/v1/sales/"+s2.ID+"/tenders", body, &after); err != nil {
		return err
	}
	c.Step("POST /api/v1/sales/%s/tenders {cash, %d} → still to pay %d", s2.ID, s2.RemainingAmount, after.StillToPay)
	if after.StillToPay != 0 || len(after.Tenders) != 1 {
		return failf("after the rest was taken in cash the POS still asks %d (tenders %v)", after.StillToPay, after.Tenders)
	}
	c.Fact("the rest taken in cash", "%d cents by %s, nothing still to pay", after.Tenders[0].Amount, after.Tenders[0].Method)
	return nil
}
