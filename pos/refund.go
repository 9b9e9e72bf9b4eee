package pos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

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
	return RefundStatusOf(op.State, !op.CompletedAt.IsZero())
}

// RefundStatusOf is the status of a refund op in state st, completed or
// not: what a journal reads from its columns.
func RefundStatusOf(st OpState, completed bool) RefundStatus {
	switch {
	case st == OpFailed:
		return RefundFailed
	case st == OpPending:
		return RefundSending
	case !completed:
		return RefundPending
	}
	return RefundCompleted
}

// RequestActivities reads a Payment Request's activities. The engine's
// Centrapay client (centrapay.Client) has it; the engine checks a
// refund's completion with it when its client does (Config.Centrapay),
// and otherwise only by notification (RefundCompleted).
type RequestActivities interface {
	Activities(ctx context.Context, id string) ([]centrapay.Activity, *centrapay.Response, error)
}

// Checking a refund's completion. Centrapay's reference says a refund "will
// be completed asynchronously" and names two signals of it: the
// payment-request:refund-completed notification, and the refund activity,
// which records that "funds were returned to the shopper", among the
// request's activities. The engine takes either: a verified notification
// (RefundCompleted), and, for a server that receives none, the request's
// activities read again and again (checkRefund): first refundCheckFirst
// after Centrapay accepted the refund, then as often as the refund is old
// (a refund 2 minutes old is checked 2 minutes later), at most every
// refundCheckMax, for refundCheckFor. A refund left pending after that is
// listed by reconciliation.
const (
	refundCheckFirst = 2 * time.Second
	refundCheckMax   = 10 * time.Minute
	refundCheckFor   = 7 * 24 * time.Hour
)

// workRefund is the kind of work that checks a refund's completion.
const workRefund = "r:"

func refundWork(id string) workKey { return workKey(workRefund + id) }

// awaitCompletion schedules the first check of refund op's completion,
// when Centrapay has accepted it and not yet completed it.
func (e *Engine) awaitCompletion(op *Op) {
	if op.RefundStatus() == RefundPending {
		e.schedule(refundWork(op.ID), e.clk.Now().Add(refundCheckFirst))
	}
}

// checkRefund reads the activities of refund id's Payment Request and
// records the refund complete when they list it; otherwise it says when
// to check again (zero: never).
func (e *Engine) checkRefund(ctx context.Context, id string) (time.Time, error) {
	reader, ok := e.cfg.Centrapay.(RequestActivities)
	if !ok {
		return time.Time{}, nil
	}
	op, err := e.j.Op(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	now := e.clk.Now()
	if op.RefundStatus() != RefundPending {
		return time.Time{}, nil
	}
	if age := now.Sub(op.CreatedAt); age > refundCheckFor {
		e.log.Warn("refund still not completed by Centrapay; no longer checked (reconciliation lists it)",
			"refund", op.ID, "paymentRequest", op.PaymentRequestID, "age", age.Round(time.Minute))
		return time.Time{}, nil
	}
	acts, _, err := reader.Activities(centrapay.WithPriority(ctx, centrapay.PriorityBackground), op.PaymentRequestID)
	if err != nil {
		return time.Time{}, fmt.Errorf("refund %s completion: %w", op.ID, err)
	}
	others, err := e.j.Ops(ctx, OpFilter{PaymentRequestID: op.PaymentRequestID, Kind: OpRefund})
	if err != nil {
		return time.Time{}, err
	}
	if a := refundActivity(op, others, acts); a != nil {
		return time.Time{}, e.completeRefund(ctx, op.ID, now)
	}
	return now.Add(min(max(now.Sub(op.CreatedAt), refundCheckFirst), refundCheckMax)), nil
}

// refundActivity is the activity among acts that records refund op: the
// one with the id or the number Centrapay's answer gave it; failing both
// (an answer that gave neither), a refund of the same amount that no
// other refund of the request names, nil when there is none.
func refundActivity(op *Op, others []*Op, acts []centrapay.Activity) *centrapay.Activity {
	for i := range acts {
		if a := &acts[i]; a.Type == centrapay.ActivityRefund && op.names(a) {
			return a
		}
	}
	if op.ActivityID != "" || op.ActivityNumber != "" {
		return nil
	}
	for i := range acts {
		a := &acts[i]
		if a.Type != centrapay.ActivityRefund || cents(a.Value) != Cents(op.Amount) {
			continue
		}
		if !slices.ContainsFunc(others, func(o *Op) bool { return o.ID != op.ID && o.names(a) }) {
			return a
		}
	}
	return nil
}

// RefundCompleted records the refund that a verified
// payment-request:refund-completed notification names (its data, a;
// Centrapay's notification is signed, and its word that a refund is
// complete is the one it gives). A notification naming no refund of
// ours, or one already complete, changes nothing.
func (e *Engine) RefundCompleted(ctx context.Context, a *centrapay.Activity) error {
	if a == nil || a.PaymentRequestID == "" {
		return nil
	}
	ops, err := e.j.Ops(ctx, OpFilter{PaymentRequestID: a.PaymentRequestID, Kind: OpRefund})
	if err != nil {
		return fmt.Errorf("refund completed: %w", err)
	}
	var pending []*Op
	for _, op := range ops {
		if op.RefundStatus() == RefundPending {
			pending = append(pending, op)
		}
	}
	for _, op := range pending {
		if refundActivity(op, ops, []centrapay.Activity{*a}) != nil {
			return e.completeRefund(ctx, op.ID, e.clk.Now())
		}
	}
	return nil
}

// completeRefund records refund id complete at at, with a note in its
// sale's history, in one step; a refund already complete is left alone.
func (e *Engine) completeRefund(ctx context.Context, id string, at time.Time) error {
	op, err := e.j.Op(ctx, id)
	if err != nil {
		return fmt.Errorf("complete refund %s: %w", id, err)
	}
	c := &Change{Ops: []*Op{op}}
	if op.SaleID != "" {
		unlock := e.lock(op.SaleID)
		defer unlock()
		if c.Sale, err = e.sale(ctx, op.SaleID); err != nil {
			return fmt.Errorf("complete refund %s: %w", id, err)
		}
		c.Note = fmt.Sprintf("refund of %s completed (%s)", money(op.Amount, op.Currency), op.Key)
	}
	if op, err = e.j.Op(ctx, id); err != nil { // read again under the sale's lock
		return fmt.Errorf("complete refund %s: %w", id, err)
	}
	if op.RefundStatus() != RefundPending {
		return nil
	}
	op.CompletedAt = at
	c.Ops = []*Op{op}
	if err := e.commit(ctx, c); err != nil {
		return fmt.Errorf("complete refund %s: %w", id, err)
	}
	return nil
}
