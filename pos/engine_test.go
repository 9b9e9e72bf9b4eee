package pos_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

// TestSaleOutcomes runs one sale per row of Centrapay's status table and
// per protocol rule, and checks the sale against the sandbox.
func TestSaleOutcomes(t *testing.T) {
	cases := []struct {
		name       string
		in         func(r *rig) func(*pos.SaleInput)
		act        func(r *rig, s *pos.Sale) // what the patron or the operator does
		status     pos.Status
		reason     string // part of the sale's reason
		paidBy     string // asset type
		remaining  int64
		prStatus   centrapay.Status
		activities string // the sandbox's activity types, oldest first
	}{
		{name: "qr paid in the wallet", act: func(r *rig, s *pos.Sale) { r.sb.PatronPay(s.PaymentRequest.ID, "", 0) },
			status: pos.StatusPaid, paidBy: "centrapay.nzd.test", prStatus: "paid", activities: "request payment paid"},
		{name: "qr never paid expires", act: func(r *rig, s *pos.Sale) { r.tick(121) },
			status: pos.StatusExpired, reason: "expired", prStatus: "expired", activities: "request expiry"},
		{name: "qr declined by patron", act: func(r *rig, s *pos.Sale) { r.sb.Decline(s.PaymentRequest.ID) },
			status: pos.StatusCancelled, reason: "declined by the patron", prStatus: "cancelled", activities: "request cancellation"},
		{name: "barcode quick pay", in: barcode("quick-pay"),
			status: pos.StatusPaid, paidBy: "centrapay.nzd.test", prStatus: "paid", activities: "request payment paid"},
		{name: "farmlands card", in: barcode("farmlands-card"),
			status: pos.StatusPaid, paidBy: "farmlands.nzd.test", prStatus: "paid", activities: "request payment paid"},
		{name: "insufficient funds", in: barcode("insufficient-funds"),
			status: pos.StatusCancelled, reason: "declined", prStatus: "cancelled", activities: "request cancellation"},
		{name: "operator cancel voids at once", act: func(r *rig, s *pos.Sale) { r.eng.Cancel(r.ctx, s.ID) },
			status: pos.StatusCancelled, reason: "cancelled at the till", prStatus: "cancelled", activities: "request cancellation"},
		{name: "paid then cancelled is refunded", act: func(r *rig, s *pos.Sale) {
			r.sb.PatronPay(s.PaymentRequest.ID, "", 0) // paid between two polls
			r.eng.Cancel(r.ctx, s.ID)
		}, status: pos.StatusCancelled, reason: "refunded", paidBy: "centrapay.nzd.test", prStatus: "cancelled", activities: "request payment paid refund"},
		{name: "photo id accepted", in: barcode("photo-id"), act: func(r *rig, s *pos.Sale) {
			s = r.sale(s.ID)
			if len(s.Conditions) != 1 || s.Conditions[0].Status != "awaiting-merchant" || s.Conditions[0].Message == "" {
				r.t.Fatalf("conditions %+v", s.Conditions)
			}
			if _, err := r.eng.AnswerCondition(r.ctx, s.ID, s.Conditions[0].ID, true); err != nil {
				r.t.Fatal(err)
			}
		}, status: pos.StatusPaid, paidBy: "centrapay.nzd.test", prStatus: "paid", activities: "request accept-condition payment paid"},
		{name: "photo id declined", in: barcode("photo-id"), act: func(r *rig, s *pos.Sale) {
			s = r.sale(s.ID)
			if _, err := r.eng.AnswerCondition(r.ctx, s.ID, s.Conditions[0].ID, false); err != nil {
				r.t.Fatal(err)
			}
		}, status: pos.StatusCancelled, reason: "declined at the till", prStatus: "cancelled", activities: "request decline-condition cancellation"},
		{name: "patron not present skips photo id", in: func(r *rig) func(*pos.SaleInput) {
			return func(in *pos.SaleInput) { barcode("photo-id")(r)(in); in.PatronNotPresent = true }
		}, status: pos.StatusPaid, paidBy: "centrapay.nzd.test", prStatus: "paid", activities: "request payment paid"},
		{name: "partial payment leaves a remainder", in: func(r *rig) func(*pos.SaleInput) {
			return func(in *pos.SaleInput) { barcode("partial")(r)(in); in.BasketAmount = 1500 }
		}, status: pos.StatusPaid, reason: "500 still to pay", paidBy: "centrapay.nzd.test", remaining: 500, prStatus: "paid", activities: "request payment paid"},
		{name: "cancel after expiry shows expired (void answers REQUEST_EXPIRED)", act: func(r *rig, s *pos.Sale) {
			r.fake.Advance(121 * time.Second) // expired at Centrapay before the next poll
			got, err := r.eng.Cancel(r.ctx, s.ID)
			if err != nil || got.Status != pos.StatusExpired {
				r.t.Fatalf("cancel: %+v %v", got, err)
			}
		}, status: pos.StatusExpired, reason: "expired", prStatus: "expired", activities: "request expiry"},
		{name: "cancel refused REQUEST_PAID shows paid", act: func(r *rig, s *pos.Sale) {
			r.sb.PatronPay(s.PaymentRequest.ID, "", 0)
			r.sb.AddFault(sandbox.Fault{Method: "POST", Path: "/api/payment-requests/*/void", Kind: "status", Status: 403, Code: "REQUEST_PAID", Count: 1})
			got, err := r.eng.Cancel(r.ctx, s.ID)
			if err != nil || got.Status != pos.StatusPaid {
				r.t.Fatalf("cancel: %+v %v", got, err)
			}
		}, status: pos.StatusPaid, paidBy: "centrapay.nzd.test", prStatus: "paid", activities: "request payment paid"},
		{name: "POS timeout voids a request still new", act: func(r *rig, s *pos.Sale) {
			// Centrapay's clock is far off: its request outlives expiry +
			// margin; the POS timeout follows Centrapay's expiry by 30 s at
			// most, then voids it
			r.sb.SetExpiry(s.PaymentRequest.ID, time.Hour)
			r.tick(2)
			r.tick(126 + 30 - 2)
			if got := r.sale(s.ID); got.Status != pos.StatusPending {
				r.t.Fatalf("before the POS timeout: %s", got.Status)
			}
			r.tick(1)
		}, status: pos.StatusCancelled, reason: "timed out", prStatus: "cancelled", activities: "request cancellation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			var edit func(*pos.SaleInput)
			if tc.in != nil {
				edit = tc.in(r)
			}
			s := r.start(edit)
			if s.PaymentRequest == nil || s.PaymentRequest.ShortCode == "" || s.PaymentRequest.URL == "" {
				t.Fatalf("started sale without a request: %+v", s)
			}
			if tc.act != nil {
				tc.act(r, s)
			}
			r.tick(2)
			s = r.sale(s.ID)
			if s.Status != tc.status || !strings.Contains(s.Reason, tc.reason) || s.Status == pos.StatusPaid && s.RemainingAmount != tc.remaining {
				t.Errorf("sale %s (%q), remaining %d; want %s (%q), %d", s.Status, s.Reason, s.RemainingAmount, tc.status, tc.reason, tc.remaining)
			}
			if tc.paidBy != "" && (len(s.PaidBy) != 1 || s.PaidBy[0].AssetType != tc.paidBy || s.PaidBy[0].Description == "") {
				t.Errorf("paidBy %+v, want %s", s.PaidBy, tc.paidBy)
			}
			l := r.ledger(s.PaymentRequest.ID)
			if l.Status != tc.prStatus || strings.Join(l.Activities, " ") != tc.activities {
				t.Errorf("sandbox: %s with %v; want %s with %s", l.Status, l.Activities, tc.prStatus, tc.activities)
			}
			if n := len(r.sb.Ledger().Requests); n != 1 {
				t.Errorf("%d requests at the sandbox, want 1", n)
			}
			if s.PaymentRequest.Status != string(l.Status) {
				t.Errorf("the journal says %s, Centrapay %s", s.PaymentRequest.Status, l.Status)
			}
		})
	}
}

func barcode(name string) func(r *rig) func(*pos.SaleInput) {
	return func(r *rig) func(*pos.SaleInput) {
		return func(in *pos.SaleInput) { in.Flow, in.Barcode = pos.FlowBarcode, r.barcode(name) }
	}
}

func TestCreateRequestCarriesReferences(t *testing.T) {
	r := newRig(t)
	s := r.start(func(in *pos.SaleInput) { in.ExternalRef = "INV-77"; in.OperatorID = "op-3" })
	pr, _, err := r.client.Get(context.Background(), s.PaymentRequest.ID)
	if err != nil {
		t.Fatal(err)
	}
	if pr.ExternalRef != "INV-77" || pr.TerminalID != "till-1" || pr.DeviceID != "dev-1" || !pr.ConditionsEnabled || pr.OperatorID != "op-3" || pr.ExpirySeconds != 120 {
		t.Errorf("created %+v", pr)
	}
	if want := s.CreatedAt.Add(127 * time.Second); !s.TimeoutAt.Equal(want) {
		t.Errorf("timeout at %v, want expiry + 7 s = %v", s.TimeoutAt, want)
	}
	if _, err := r.eng.StartSale(r.ctx, r.input(func(in *pos.SaleInput) { in.ExternalRef = "INV-77" })); pos.ErrorCode(err) != pos.EConflict {
		t.Errorf("second open sale with the same externalRef: %v", err)
	}
}

func TestBadInputCreatesNothing(t *testing.T) {
	r := newRig(t)
	cases := map[string]struct {
		edit  func(*pos.SaleInput)
		field string
	}{
		"zero value":          {func(in *pos.SaleInput) { in.Value = 0 }, "value"},
		"huge value":          {func(in *pos.SaleInput) { in.Value = 100000000 }, "value"},
		"no terminal":         {func(in *pos.SaleInput) { in.TerminalID = "" }, "terminalId"},
		"unknown flow":        {func(in *pos.SaleInput) { in.Flow = "nfc" }, "flow"},
		"barcode missing":     {func(in *pos.SaleInput) { in.Flow = pos.FlowBarcode }, "barcode"},
		"barcode bad luhn":    {func(in *pos.SaleInput) { in.Flow, in.Barcode = pos.FlowBarcode, "1219210000000010" }, "barcode"},
		"barcode bad length":  {func(in *pos.SaleInput) { in.Flow, in.Barcode = pos.FlowBarcode, "12345" }, "barcode"},
		"barcode letters":     {func(in *pos.SaleInput) { in.Flow, in.Barcode = pos.FlowBarcode, "12192100000000x1" }, "barcode"},
		"lines do not sum":    {func(in *pos.SaleInput) { in.LineItems = lines(400, 500) }, "lineItems"},
		"line without name":   {func(in *pos.SaleInput) { in.LineItems = []centrapay.LineItem{{Qty: "1", Price: "1000"}} }, "lineItems[0].name"},
		"line price fraction": {func(in *pos.SaleInput) { in.LineItems = []centrapay.LineItem{{Name: "x", Qty: "1", Price: "10.5"}} }, "lineItems[0].price"},
		"basket below value":  {func(in *pos.SaleInput) { in.BasketAmount = 999 }, "basketAmount"},
		"pre-auth, no lines":  {func(in *pos.SaleInput) { in.PreAuth = true }, "lineItems"}, // checklist 104.2
	}
	for name, tc := range cases {
		_, err := r.eng.StartSale(r.ctx, r.input(tc.edit))
		var pe *pos.Error
		if !asError(err, &pe) || pe.Code != pos.EInvalid || pe.Field != tc.field {
			t.Errorf("%s: %v, want invalid %s", name, err, tc.field)
		}
	}
	if sales, _ := r.j.Sales(r.ctx, pos.SaleFilter{}); len(sales) != 0 {
		t.Errorf("%d sales journaled from bad input", len(sales))
	}
	if n := len(r.sb.Ledger().Requests); n != 0 {
		t.Errorf("%d requests created from bad input", n)
	}
	// line items may sum to the basket when partial payment is on
	r.start(func(in *pos.SaleInput) { in.BasketAmount = 1500; in.LineItems = lines(1000, 500) })
}

func TestRefunds(t *testing.T) {
	r := newRig(t)
	s := r.start(func(in *pos.SaleInput) { in.ExternalRef = "INV-9" })
	r.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	r.tick(1)
	for _, in := range []pos.RefundInput{
		{SaleID: s.ID, Amount: 100},
		{ShortCode: strings.ToLower(strings.ReplaceAll(r.sale(s.ID).PaymentRequest.ShortCode, "-", " ")), Amount: 200},
		{ExternalRef: "INV-9", Amount: 300},
		{PaymentRequestID: s.PaymentRequest.ID, Amount: 400},
	} {
		op, err := r.eng.Refund(r.ctx, in)
		if err != nil || op.State != pos.OpSucceeded || op.Key == "" {
			t.Fatalf("refund %+v: %+v %v", in, op, err)
		}
	}
	if _, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 1}); pos.ErrorCode(err) != pos.EConflict {
		t.Errorf("refund beyond paid: %v", err)
	}
	if got := r.sale(s.ID); got.Refunded != 1000 {
		t.Errorf("refunded %d", got.Refunded)
	}
	if l := r.ledger(s.PaymentRequest.ID); l.Refunded != 1000 {
		t.Errorf("sandbox refunded %d", l.Refunded)
	}
	// a payment not in this journal is found at Centrapay; its errors are
	// a cashier's words
	other, _, _ := r.client.Create(r.ctx, &centrapay.CreateRequest{ConfigID: r.seed.ConfigID, Value: centrapay.Cents(500, "NZD")})
	_, err := r.eng.Refund(r.ctx, pos.RefundInput{ShortCode: other.ShortCode, Amount: 100})
	var pe *pos.Error
	if !asError(err, &pe) || pe.Code != pos.ERefused || pe.Centrapay != "NOT_PAID" || !strings.Contains(pe.Message, "nothing to refund") {
		t.Errorf("refund of an unpaid request: %v", err)
	}
	if _, err := r.eng.Refund(r.ctx, pos.RefundInput{ShortCode: "CP-AAA-AA", Amount: 1}); pos.ErrorCode(err) != pos.EInvalid {
		t.Errorf("short code with a bad check character: %v", err)
	}
	if _, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, ExternalRef: "x", Amount: 1}); pos.ErrorCode(err) != pos.EInvalid {
		t.Errorf("two identifiers: %v", err)
	}
}

// TestRefundByReceiptNumberFindsThePaidAttempt: a receipt whose first
// attempt was paid and a later one cancelled is refunded from the paid one.
func TestRefundByReceiptNumberFindsThePaidAttempt(t *testing.T) {
	r := newRig(t)
	paid := r.start(func(in *pos.SaleInput) { in.ExternalRef = "INV-2" })
	r.sb.PatronPay(paid.PaymentRequest.ID, "", 0)
	r.tick(1)
	again := r.start(func(in *pos.SaleInput) { in.ExternalRef = "INV-2" })
	r.eng.Cancel(r.ctx, again.ID)
	op, err := r.eng.Refund(r.ctx, pos.RefundInput{ExternalRef: "INV-2", Amount: 300})
	if err != nil || op.SaleID != paid.ID || op.PaymentRequestID != paid.PaymentRequest.ID {
		t.Fatalf("refund by receipt number: %+v %v", op, err)
	}
	if got := r.sale(paid.ID); got.Refunded != 300 {
		t.Errorf("the paid sale records %d refunded", got.Refunded)
	}
}

func TestPreAuth(t *testing.T) {
	r := newRig(t)
	s := r.start(func(in *pos.SaleInput) {
		in.Flow, in.Barcode, in.PreAuth, in.LineItems = pos.FlowBarcode, r.barcode("pre-auth"), true, lines(in.Value)
	})
	s = r.sale(s.ID)
	if s.Status != pos.StatusPaid || s.PaymentRequest.PreAuthStatus != "authorized" {
		t.Fatalf("pre-auth sale %s %+v", s.Status, s.PaymentRequest)
	}
	op, err := r.eng.Confirm(r.ctx, s.ID, pos.ConfirmInput{InvoiceRef: "INV-1", LineItems: lines(600)})
	if err != nil || op.State != pos.OpSucceeded {
		t.Fatalf("confirm: %+v %v", op, err)
	}
	if _, err := r.eng.Confirm(r.ctx, s.ID, pos.ConfirmInput{InvoiceRef: "INV-2", LineItems: lines(401)}); pos.ErrorCode(err) != pos.EInvalid {
		t.Errorf("confirm beyond the authorization: %v", err)
	}
	if _, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 100, ConfirmationKey: op.Key}); err != nil {
		t.Errorf("refund of the confirmation: %v", err)
	}
	if rel, err := r.eng.Release(r.ctx, s.ID); err != nil || rel.State != pos.OpSucceeded {
		t.Errorf("release: %+v %v", rel, err)
	}
	// a second press (or a resend whose first answer was lost) finds it
	// released: what was asked
	if rel, err := r.eng.Release(r.ctx, s.ID); err != nil || rel.State != pos.OpSucceeded {
		t.Errorf("second release: %+v %v", rel, err)
	}
	s = r.sale(s.ID)
	if s.Confirmed != 600 || s.Refunded != 100 || s.PaymentRequest.PreAuthStatus != "released" {
		t.Errorf("after confirm, refund, release: %+v", s)
	}
	if _, err := r.eng.Confirm(r.ctx, s.ID, pos.ConfirmInput{InvoiceRef: "INV-3", LineItems: lines(1)}); pos.ErrorCode(err) != pos.EConflict {
		t.Errorf("confirm after release: %v", err)
	}
}

func lines(prices ...int64) []centrapay.LineItem {
	out := make([]centrapay.LineItem, len(prices))
	for i, p := range prices {
		out[i] = centrapay.LineItem{Name: "item", Qty: "1", Price: centrapay.Int64BigNumber(p)}
	}
	return out
}

func asError(err error, target **pos.Error) bool { return errors.As(err, target) }

// TestCallerHangsUp starts a sale with a context cancelled mid-way: the
// sale is still created, journaled and driven.
func TestCallerHangsUp(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := r.eng.StartSale(ctx, r.input(nil))
	if err != nil || s.Status != pos.StatusPending || s.PaymentRequest == nil {
		t.Fatalf("start with a cancelled context: %+v %v", s, err)
	}
	r.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	r.tick(1)
	if got := r.sale(s.ID); got.Status != pos.StatusPaid {
		t.Errorf("sale %s", got.Status)
	}
}

// TestFarmlandsRefundNamesTheConfig: a refund of a Farmlands payment sends
// the merchant config that took it, as Centrapay asks (without it the
// refund is refused), whether the sale is ours or found at Centrapay.
func TestFarmlandsRefundNamesTheConfig(t *testing.T) {
	r := newRig(t)
	s := r.start(barcode("farmlands-card")(r))
	if got := r.sale(s.ID); got.Status != pos.StatusPaid || len(got.PaidBy) == 0 || got.PaidBy[0].AssetType != "farmlands.nzd.test" {
		t.Fatalf("farmlands sale: %+v", got)
	}
	op, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 300})
	if err != nil || op.State != pos.OpSucceeded || op.MerchantConfigID != r.seed.ConfigID {
		t.Fatalf("farmlands refund: %+v %v", op, err)
	}
	// a Farmlands payment no sale of ours made, found by its short code
	other, _, err := r.client.Create(r.ctx, &centrapay.CreateRequest{ConfigID: r.seed.ConfigID, Value: centrapay.Cents(800, "NZD"),
		Barcode: r.barcode("farmlands-card")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.client.Get(r.ctx, other.ID); err != nil { // the first poll takes a Quick Pay
		t.Fatal(err)
	}
	op, err = r.eng.Refund(r.ctx, pos.RefundInput{ShortCode: other.ShortCode, Amount: 800, Terminal: &pos.Terminal{ID: "mgr", ConfigID: r.seed.ConfigID, Manager: true}})
	if err != nil || op.State != pos.OpSucceeded || op.MerchantConfigID != r.seed.ConfigID {
		t.Fatalf("refund of a farmlands payment found at Centrapay: %+v %v", op, err)
	}
	// any other payment's refund names no config
	card := r.start(nil)
	r.sb.PatronPay(card.PaymentRequest.ID, "", 0)
	r.tick(1)
	if op, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: card.ID, Amount: 100}); err != nil || op.MerchantConfigID != "" {
		t.Fatalf("wallet refund: %+v %v", op, err)
	}
}

// paidFor is Centrapay whose paid requests say which line items their
// asset paid for, as Centrapay does for an asset redeemable only for some
// products (a token).
type paidFor struct {
	pos.Centrapay
	lines []centrapay.LineItem
}

func (p *paidFor) Get(ctx context.Context, id string) (*centrapay.PaymentRequest, *centrapay.Response, error) {
	pr, resp, err := p.Centrapay.Get(ctx, id)
	if err == nil && pr.PaidBy != nil && len(pr.PaidBy.AssetTotals) > 0 {
		pr.PaidBy.AssetTotals[0].LineItems = p.lines
	}
	return pr, resp, err
}

// TestPaidForLineItems: the line items an asset paid for, in Centrapay's
// assetTotals, are kept with the payment (Centrapay's line-items guide:
// integrators must show them).
func TestPaidForLineItems(t *testing.T) {
	coffee := []centrapay.LineItem{{Name: "Coffee Grounds", SKU: "GH1234", Qty: "1", Price: "450"}}
	r := newRig(t, func(c *pos.Config) { c.Centrapay = &paidFor{Centrapay: c.Centrapay, lines: coffee} })
	s := r.start(func(in *pos.SaleInput) { in.LineItems = lines(450, 550) })
	r.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	r.tick(1)
	got := r.sale(s.ID)
	if got.Status != pos.StatusPaid || len(got.PaidBy) != 1 || len(got.PaidBy[0].LineItems) != 1 || got.PaidBy[0].LineItems[0].Name != "Coffee Grounds" {
		t.Fatalf("paid by %+v", got.PaidBy)
	}
	journaled, err := r.j.Sale(r.ctx, s.ID)
	if err != nil || len(journaled.PaidBy) != 1 || len(journaled.PaidBy[0].LineItems) != 1 {
		t.Fatalf("journaled paid by %+v %v", journaled.PaidBy, err)
	}
}

// TestRefundLineItems: a refund says what it gives back: the till's
// lines (which must sum to it) and invoice, or, for the whole of a sale
// that had line items, the sale's.
func TestRefundLineItems(t *testing.T) {
	r := newRig(t)
	s := r.start(func(in *pos.SaleInput) { in.LineItems = lines(300, 700) })
	r.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	r.tick(1)
	if _, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 300, LineItems: lines(200)}); pos.ErrorCode(err) != pos.EInvalid {
		t.Fatalf("lines that do not sum to the refund: %v", err)
	}
	part, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 300, LineItems: lines(300), InvoiceRef: "CN-1"})
	if err != nil || part.State != pos.OpSucceeded || len(part.LineItems) != 1 || part.InvoiceRef != "CN-1" {
		t.Fatalf("partial refund with its line: %+v %v", part, err)
	}
	// the rest is not the whole sale: no lines unless the till gives them
	rest, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 700})
	if err != nil || rest.State != pos.OpSucceeded || len(rest.LineItems) != 0 {
		t.Fatalf("refund of the rest: %+v %v", rest, err)
	}
	whole := r.start(func(in *pos.SaleInput) { in.LineItems = lines(250, 750) })
	r.sb.PatronPay(whole.PaymentRequest.ID, "", 0)
	r.tick(1)
	op, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: whole.ID, Amount: 1000})
	if err != nil || op.State != pos.OpSucceeded || len(op.LineItems) != 2 {
		t.Fatalf("refund of a whole sale: %+v %v", op, err)
	}
}
