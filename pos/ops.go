package pos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// finish sends a journaled op and journals its outcome: a sale it
// changes is updated in the same step.
func (e *Engine) finish(ctx context.Context, op *Op) (*Op, error) {
	if e.at(string(op.Kind) + ":journaled") {
		return nil, errAbandoned
	}
	a, err := e.send(ctx, op)
	if e.at(string(op.Kind) + ":answered") {
		return nil, errAbandoned
	}
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err() // stopping: the op stays pending, and is sent again at the next start
	}
	op.Attempts++
	switch {
	case err == nil:
		op.State, op.ActivityID, op.ActivityNumber = OpSucceeded, a.ID, a.ActivityNumber.String()
	case centrapay.IsUnknownOutcome(err):
		op.Message = "Centrapay has not answered yet; it will be sent again with the same reference"
		if err := e.saveOp(ctx, op); err != nil {
			return nil, err
		}
		e.schedule(opWork(op.ID), e.clk.Now().Add(e.backoff(op.Attempts)))
		return op, nil
	case errors.Is(err, centrapay.ErrConditionAlreadySet) && (op.Kind == OpAccept || op.Kind == OpDecline),
		errors.Is(err, centrapay.ErrPreAuthReleased) && op.Kind == OpRelease,                                                     // released: what was asked
		(errors.Is(err, centrapay.ErrRequestExpired) || errors.Is(err, centrapay.ErrRequestCancelled)) && op.Kind == OpVoidExtra: // not payable: what was asked
		op.State = OpSucceeded // a retry of an answer or a release that had landed
	default:
		op.Error, op.Message = refusal(err)
		op.State = OpFailed
	}
	// the outcome and the sale it changes, in one step
	c := &Change{Ops: []*Op{op}}
	if op.SaleID != "" && op.State == OpSucceeded {
		s, err := e.sale(ctx, op.SaleID)
		if err != nil {
			return nil, err
		}
		if note := opDone(s, op); note != "" {
			c.Sale, c.Note = s, note
		}
	}
	if err := e.commit(ctx, c); err != nil {
		if !errors.Is(err, errAbandoned) {
			// the outcome is not journaled: the op stays pending, and is
			// sent again (with its own key) rather than left to a restart
			e.schedule(opWork(op.ID), e.clk.Now().Add(e.backoff(op.Attempts)))
		}
		return nil, err
	}
	if op.Kind == OpAccept || op.Kind == OpDecline {
		e.schedule(saleWork(op.SaleID), e.clk.Now()) // poll again at once
	}
	e.awaitCompletion(op)
	if op.State == OpFailed {
		return op, &Error{Code: ERefused, Message: op.Message, Centrapay: op.Error}
	}
	return op, nil
}

// send makes the call an op stands for.
func (e *Engine) send(ctx context.Context, op *Op) (*centrapay.Activity, error) {
	var a *centrapay.Activity
	var err error
	switch op.Kind {
	case OpRefund:
		a, _, err = e.cp.Refund(ctx, op.PaymentRequestID, &centrapay.RefundRequest{Value: centrapay.Cents(op.Amount, op.Currency),
			ExternalRef: op.Key, ConfirmationIdempotencyKey: op.ConfirmationKey, MerchantConfigID: op.MerchantConfigID,
			InvoiceRef: op.InvoiceRef, LineItems: op.LineItems})
	case OpConfirm:
		r := &centrapay.ConfirmRequest{IdempotencyKey: op.Key, InvoiceRef: op.InvoiceRef, LineItems: op.LineItems}
		v := centrapay.Cents(op.Amount, op.Currency)
		r.Value = &v
		a, _, err = e.cp.Confirm(ctx, op.PaymentRequestID, r)
	case OpRelease:
		a, _, err = e.cp.Release(ctx, op.PaymentRequestID)
	case OpVoidExtra:
		a, _, err = e.cp.Void(ctx, op.PaymentRequestID)
	case OpAccept:
		a, _, err = e.cp.AcceptCondition(ctx, op.PaymentRequestID, op.Key)
	case OpDecline:
		a, _, err = e.cp.DeclineCondition(ctx, op.PaymentRequestID, op.Key)
	default:
		return nil, fmt.Errorf("send %s: not an op to resend", op.Kind)
	}
	return a, err
}

// opDone applies a succeeded op to its sale (read under the sale's lock,
// which the caller holds) and says what changed; "" if nothing did.
func opDone(s *Sale, op *Op) string {
	switch op.Kind {
	case OpRefund:
		s.Refunded += op.Amount
		return fmt.Sprintf("refunded %s (%s)", money(op.Amount, op.Currency), op.Key)
	case OpConfirm:
		s.Confirmed += op.Amount
		return fmt.Sprintf("confirmed %s (%s)", money(op.Amount, op.Currency), op.Key)
	case OpRelease:
		if s.PaymentRequest != nil {
			s.PaymentRequest.PreAuthStatus = centrapay.PreAuthReleased
		}
		return "pre-auth released"
	}
	return ""
}

// resend sends a pending op again (after an unknown outcome or a restart).
func (e *Engine) resend(ctx context.Context, id string) (time.Time, error) {
	op, err := e.j.Op(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	if op.State != OpPending {
		return time.Time{}, nil
	}
	if op.SaleID != "" {
		unlock := e.lock(op.SaleID)
		defer unlock()
	}
	ctx = centrapay.WithPriority(ctx, centrapay.PriorityBackground)
	_, err = e.finish(ctx, op)
	if errors.Is(err, errAbandoned) {
		return time.Time{}, err
	}
	return time.Time{}, nil // finish schedules another try when still unknown
}

// AnswerCondition accepts or declines merchant condition conditionID of
// sale id, then polls the request again at once.
func (e *Engine) AnswerCondition(ctx context.Context, id, conditionID string, accept bool) (*Sale, error) {
	ctx = context.WithoutCancel(ctx) // once begun, an operation is journaled to its end
	unlock := e.lock(id)
	s, err := e.Sale(ctx, id)
	if err != nil {
		unlock()
		return nil, err
	}
	var found bool
	for _, c := range s.Conditions {
		if c.ID == conditionID {
			found = c.Status == centrapay.ConditionAwaitingMerchant
		}
	}
	if !found || s.PaymentRequest == nil {
		unlock()
		return nil, &Error{Code: ENotFound, Field: "conditionId", Message: "no condition " + conditionID + " awaits the merchant on this sale"}
	}
	kind := OpDecline
	if accept {
		kind = OpAccept
	}
	op := &Op{ID: newID("op_"), SaleID: id, PaymentRequestID: s.PaymentRequest.ID, Kind: kind, Key: conditionID,
		State: OpPending, TerminalID: s.TerminalID, CreatedAt: e.clk.Now()}
	if ctx, err = e.operator(ctx); err != nil {
		unlock()
		return nil, err
	}
	if err := e.saveOp(ctx, op); err != nil {
		unlock()
		return nil, err
	}
	_, err = e.finish(ctx, op)
	unlock()
	if err != nil {
		return nil, err
	}
	e.pollNow(ctx, id)
	return e.sale(ctx, id)
}

// pollNow drives sale id at once unless it is being driven already.
func (e *Engine) pollNow(ctx context.Context, id string) {
	if e.nudge(ctx, id) {
		return // another engine holds it: it polls
	}
	e.mu.Lock()
	running := e.running[saleWork(id)]
	if !running {
		delete(e.due, saleWork(id))
		e.running[saleWork(id)] = true
	}
	e.mu.Unlock()
	if !running {
		e.work(ctx, saleWork(id))
	}
}

// ConfirmInput draws down on an authorized pre-auth.
type ConfirmInput struct {
	InvoiceRef     string               `json:"invoiceRef"`
	LineItems      []centrapay.LineItem `json:"lineItems"`
	IdempotencyKey string               `json:"idempotencyKey,omitempty"` // generated when empty

	// Key is the till's Idempotency-Key, recorded with the confirmation's intent.
	Key *KeyedRequest `json:"-"`
}

// Confirm confirms part or all of sale id's authorized pre-auth; the
// amount is the sum of the line items.
func (e *Engine) Confirm(ctx context.Context, id string, in ConfirmInput) (*Op, error) {
	ctx = context.WithoutCancel(ctx) // once begun, an operation is journaled to its end
	if in.InvoiceRef == "" || len(in.InvoiceRef) > 128 {
		return nil, invalid("invoiceRef", "required, at most 128 characters")
	}
	if len(in.LineItems) == 0 {
		return nil, invalid("lineItems", "required: what is confirmed")
	}
	amount, err := lineSum(in.LineItems)
	if err != nil {
		return nil, err
	}
	if amount <= 0 {
		return nil, invalid("lineItems", "must sum to a positive amount")
	}
	unlock := e.lock(id)
	defer unlock()
	s, err := e.Sale(ctx, id)
	if err != nil {
		return nil, err
	}
	if !s.PreAuth || s.Status != StatusPaid || s.PaymentRequest.PreAuthStatus != centrapay.PreAuthAuthorized {
		return nil, &Error{Code: EConflict, Message: "the sale is not an authorized pre-auth"}
	}
	if left := s.Paid() - s.Confirmed; amount > left {
		return nil, invalid("lineItems", "sum to %s; at most %s remains authorized", money(amount, s.Currency), money(left, s.Currency))
	}
	key := in.IdempotencyKey
	if key == "" {
		key = newID("cf_")
	}
	op := &Op{ID: newID("op_"), SaleID: id, PaymentRequestID: s.PaymentRequest.ID, Kind: OpConfirm, Key: key,
		Amount: amount, Currency: s.Currency, InvoiceRef: in.InvoiceRef, LineItems: in.LineItems, State: OpPending,
		TerminalID: s.TerminalID, CreatedAt: e.clk.Now()}
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

// Release returns what was not confirmed of sale id's pre-auth.
func (e *Engine) Release(ctx context.Context, id string) (*Op, error) {
	ctx = context.WithoutCancel(ctx) // once begun, an operation is journaled to its end
	unlock := e.lock(id)
	defer unlock()
	s, err := e.Sale(ctx, id)
	if err != nil {
		return nil, err
	}
	if !s.PreAuth || s.PaymentRequest == nil {
		return nil, &Error{Code: EConflict, Message: "the sale is not a pre-auth"}
	}
	op := &Op{ID: newID("op_"), SaleID: id, PaymentRequestID: s.PaymentRequest.ID, Kind: OpRelease, State: OpPending,
		TerminalID: s.TerminalID, CreatedAt: e.clk.Now()}
	if ctx, err = e.operator(ctx); err != nil {
		return nil, err
	}
	if err := e.saveOp(ctx, op); err != nil {
		return nil, err
	}
	return e.finish(ctx, op)
}

// Op returns refund or op id.
func (e *Engine) Op(ctx context.Context, id string) (*Op, error) {
	op, err := e.j.Op(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Code: ENotFound, Message: "no refund or operation " + id}
	}
	return op, err
}

// Recover resumes, after a start, every sale that is not final and every
// op whose outcome is not known. Call it once before Run.
func (e *Engine) Recover(ctx context.Context) error {
	if e.leasing() {
		// what no engine holds is claimed, a batch a round: at once, and
		// from then on by Run
		if err := e.claim(ctx, true); err != nil {
			return fmt.Errorf("recover: %w", err)
		}
		return nil
	}
	sales, err := e.j.Sales(ctx, SaleFilter{Open: true})
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	// the first polls are spread evenly over one poll interval, not made
	// all at once (thousands of sales at a restart would stay in one
	// burst every second after)
	now := e.clk.Now()
	for i, s := range sales {
		e.live.put(s)
		e.schedule(saleWork(s.ID), now.Add(e.cfg.PollInterval*time.Duration(i)/time.Duration(len(sales))))
	}
	ops, err := e.j.Ops(ctx, OpFilter{Pending: true})
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	for _, op := range ops {
		if op.Kind != OpCreate && op.Kind != OpVoid {
			e.schedule(opWork(op.ID), now)
		}
	}
	refunds, err := e.j.Ops(ctx, OpFilter{Incomplete: true, From: now.Add(-refundCheckFor)}) // leases claim these when shared
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	for _, op := range refunds {
		e.awaitCompletion(op)
	}
	e.log.Info("recovered", "sales", len(sales), "ops", len(ops), "refunds awaiting completion", len(refunds))
	return nil
}
