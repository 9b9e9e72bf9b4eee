package pos

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/centrapos/centrapos/centrapay"
)

// RefundInput asks for a refund. One of SaleID, PaymentRequestID,
// ShortCode or ExternalRef (the sale's) names the payment; Amount is in
// minor units.
type RefundInput struct {
	SaleID           string `json:"saleId,omitempty"`
	PaymentRequestID string `json:"paymentRequestId,omitempty"`
	ShortCode        string `json:"shortCode,omitempty"`
	ExternalRef      string `json:"externalRef,omitempty"`
	Amount           int64  `json:"value"`
	Reason           string `json:"reason,omitempty"`
	ConfirmationKey  string `json:"confirmationIdempotencyKey,omitempty"` // refund of a pre-auth confirmation
	OperatorID       string `json:"operatorId,omitempty"`                 // who asked, as the till knows them
	// InvoiceRef and LineItems say what is refunded (optional; the lines
	// sum to the value). A refund of a whole sale that had line items
	// carries the sale's when the till gives none.
	InvoiceRef string               `json:"invoiceRef,omitempty"`
	LineItems  []centrapay.LineItem `json:"lineItems,omitempty"`

	// Terminal is the till that asks: who may refund what is its rule
	// (MayRefund); nil for a trusted caller embedding the engine.
	Terminal *Terminal `json:"-"`
	// Key is the till's Idempotency-Key, recorded with the refund's intent.
	Key *KeyedRequest `json:"-"`
}

// refundTarget is the payment a refund names.
type refundTarget struct {
	sale             *Sale // nil: a request no sale of ours made
	paymentRequestID string
	currency         string
	// merchantConfigID is sent with the refund of a Farmlands payment, as
	// Centrapay asks: the config of the merchant that took it. "" for any
	// other payment.
	merchantConfigID string
}

// farmlands reports whether a payment by assetType is a Farmlands one,
// whose refund names the merchant config.
func farmlands(assetType string) bool { return strings.HasPrefix(assetType, "farmlands.") }

// targetOf is the refund target of sale s.
func targetOf(s *Sale) *refundTarget {
	t := &refundTarget{sale: s, paymentRequestID: s.PaymentRequest.ID, currency: s.Currency}
	for _, p := range s.PaidBy {
		if farmlands(p.AssetType) {
			t.merchantConfigID = s.ConfigID
		}
	}
	return t
}

// target finds the payment a refund names: in the journal first, then at
// Centrapay (a payment made by another till or before this journal).
func (e *Engine) target(ctx context.Context, in RefundInput) (*refundTarget, error) {
	n := 0
	for _, v := range []string{in.SaleID, in.PaymentRequestID, in.ShortCode, in.ExternalRef} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return nil, invalid("saleId", "name the payment by exactly one of saleId, paymentRequestId, shortCode or externalRef")
	}
	var q SaleQuery
	switch {
	case in.SaleID != "":
		s, err := e.Sale(ctx, in.SaleID)
		if err != nil {
			return nil, err
		}
		if s.PaymentRequest == nil {
			return nil, &Error{Code: EConflict, Message: "the sale has no payment request"}
		}
		return targetOf(s), nil
	case in.PaymentRequestID != "":
		q.PaymentRequestID = in.PaymentRequestID
	case in.ShortCode != "":
		code, err := centrapay.NormalizeShortCode(in.ShortCode)
		if err != nil {
			return nil, invalid("shortCode", "%v", err)
		}
		q.ShortCode = code
	default:
		q.ExternalRef = in.ExternalRef
	}
	s, err := e.j.FindSale(ctx, q)
	// a receipt number may name several attempts: the newest need not be
	// the one that was paid, so an unpaid one is looked up at Centrapay
	if err == nil && s.PaymentRequest != nil && (q.ExternalRef == "" || s.Status == StatusPaid) {
		return targetOf(s), nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var pr *centrapay.PaymentRequest
	switch {
	case q.PaymentRequestID != "":
		pr, _, err = e.cp.Get(ctx, q.PaymentRequestID)
	case q.ShortCode != "":
		pr, _, err = e.cp.GetByShortCode(ctx, q.ShortCode)
	default:
		for p, lerr := range e.listByRef(ctx, q.ExternalRef) {
			if lerr != nil {
				err = lerr
				break
			}
			if p.Status == centrapay.StatusPaid {
				pr = p
				break
			}
		}
		if pr == nil && err == nil {
			return nil, &Error{Code: ENotFound, Message: "no paid payment request with externalRef " + q.ExternalRef}
		}
	}
	if err != nil {
		if centrapay.IsUnknownOutcome(err) {
			return nil, &Error{Code: EUnavailable, Message: "Centrapay did not answer the lookup: try again"}
		}
		code, msg := refusal(err)
		if errors.Is(err, centrapay.ErrChecksumFailed) {
			return nil, &Error{Code: EInvalid, Field: "shortCode", Message: "the short code's check character does not match: check it on the receipt", Centrapay: code}
		}
		return nil, &Error{Code: ENotFound, Message: msg, Centrapay: code}
	}
	// a request one of our sales made is refunded as that sale's
	if s, err := e.j.FindSale(ctx, SaleQuery{PaymentRequestID: pr.ID}); err == nil && s.PaymentRequest != nil {
		return targetOf(s), nil
	}
	t := &refundTarget{paymentRequestID: pr.ID, currency: pr.Value.Currency}
	if pr.PaidBy != nil {
		for _, a := range pr.PaidBy.AssetTotals {
			if farmlands(a.Type) {
				t.merchantConfigID = pr.ConfigID
			}
		}
	}
	return t, nil
}

// Refund refunds a payment, once: the refund's own reference is journaled
// before the call and reused on every retry. A refund whose outcome is not
// known is returned pending, without error; the engine sends it again
// until Centrapay answers.
func (e *Engine) Refund(ctx context.Context, in RefundInput) (*Op, error) {
	ctx = context.WithoutCancel(ctx) // once begun, an operation is journaled to its end
	ctx = centrapay.WithPriority(ctx, centrapay.PriorityOperator)
	if in.Amount <= 0 || in.Amount >= maxValue {
		return nil, invalid("value", "must be between 0.01 and %s", money(maxValue-1, e.cfg.Currency))
	}
	if err := checkText("reason", in.Reason, 256); err != nil {
		return nil, err
	}
	if err := checkText("operatorId", in.OperatorID, 128); err != nil {
		return nil, err
	}
	if err := checkText("invoiceRef", in.InvoiceRef, 128); err != nil {
		return nil, err
	}
	if len(in.LineItems) > 0 {
		sum, err := lineSum(in.LineItems)
		if err != nil {
			return nil, err
		}
		if sum != in.Amount {
			return nil, invalid("lineItems", "sum to %s; the refund is %s", money(sum, e.cfg.Currency), money(in.Amount, e.cfg.Currency))
		}
	}
	t, err := e.target(ctx, in)
	if err != nil {
		return nil, err
	}
	s, prID, currency := t.sale, t.paymentRequestID, t.currency
	if err := in.Terminal.MayRefund(s); err != nil {
		return nil, err
	}
	op := &Op{ID: newID("rf_"), PaymentRequestID: prID, Kind: OpRefund, Amount: in.Amount, Currency: currency,
		Reason: in.Reason, ConfirmationKey: in.ConfirmationKey, MerchantConfigID: t.merchantConfigID, State: OpPending,
		OperatorID: in.OperatorID, InvoiceRef: in.InvoiceRef, LineItems: in.LineItems, CreatedAt: e.clk.Now()}
	if in.Terminal != nil {
		op.TerminalID = in.Terminal.ID // who asked, which need not be the till that took the payment
	}
	op.Key = op.ID
	if s != nil {
		unlock := e.lock(s.ID)
		defer unlock()
		if s, err = e.sale(ctx, s.ID); err != nil {
			return nil, err
		}
		pending, err := e.j.Ops(ctx, OpFilter{SaleID: s.ID, Kind: OpRefund, Pending: true})
		if err != nil {
			return nil, err
		}
		left := s.Paid() - s.Refunded
		if s.PreAuth {
			left = s.Confirmed - s.Refunded
		}
		for _, p := range pending {
			left -= p.Amount
		}
		if s.Status != StatusPaid || left <= 0 {
			return nil, &Error{Code: EConflict, Message: fmt.Sprintf("the sale is %s with nothing left to refund", s.Status)}
		}
		if in.Amount > left {
			return nil, invalid("value", "at most %s can be refunded", money(left, s.Currency))
		}
		if len(op.LineItems) == 0 && s.Refunded == 0 && len(pending) == 0 && in.Amount == s.Value {
			op.LineItems = s.LineItems // the whole sale, line by line
		}
		op.SaleID = s.ID
	}
	if in.Key != nil {
		in.Key.OpID = op.ID
	}
	ctx, err = e.operator(ctx)
	if err != nil {
		return nil, err
	}
	if err := e.commit(ctx, &Change{Ops: []*Op{op}, Key: in.Key}); err != nil {
		if errors.Is(err, ErrKeyUsed) {
			return nil, ErrKeyUsed
		}
		return nil, err
	}
	return e.finish(ctx, op)
}

// RefundStatus is where a refund stands, as a merchant reads it.
// Centrapay takes a refund in two steps: it accepts it (the refund call's
// answer, notification payment-request:refund-initiated) and completes it
// later, asynchronously (payment-request:refund-completed).
type RefundStatus string

// Refund statuses.
const (
	// RefundSending: journaled and sent, Centrapay's answer not known yet;
	// the engine sends it again with the same reference until it answers.
	RefundSending RefundStatus = "sending"
	// RefundPending: Centrapay accepted the refund and has not said it is
	// complete. It cannot be taken back, so it counts as refunded in the
	// totals, and is listed as pending until it completes.
	RefundPending RefundStatus = "pending"
	// RefundCompleted: Centrapay says the money is back with the patron.
	RefundCompleted RefundStatus = "refunded"
	// RefundFailed: Centrapay refused the refund; nothing was given back.
	RefundFailed RefundStatus = "failed"
)

// Words is how a receipt or a screen names s: "Refunded", "Refund
// pending".
func (s RefundStatus) Words() string {
	switch s {
	case RefundSending:
		return "Refund sent, awaiting Centrapay"
	case RefundPending:
		return "Refund pending"
	case RefundCompleted:
		return "Refunded"
	case RefundFailed:
		return "Refund refused"
	}
	return string(s)
}

// Counted reports whether a refund in status s is money given back in the
// totals: Centrapay accepted it.
func (s RefundStatus) Counted() bool { return s == RefundPending || s == RefundCompleted }

// RefundStatus is where refund op stands ("" for an op of another kind).
func (op *Op) RefundStatus() RefundStatus {
	if op.Kind != OpRefund {
		return ""
	}
	switch {
	case op.State == OpFailed:
		return RefundFailed
	case op.State == OpPending:
		return RefundSending
	case op.CompletedAt.IsZero():
		return RefundPending
	}
	return RefundCompleted
}
