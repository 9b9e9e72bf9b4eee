package pos

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// drive moves sale id one step on and says when to look at it again (zero:
// never, it is final).
func (e *Engine) drive(ctx context.Context, id string) (time.Time, error) {
	unlock := e.lock(id)
	defer unlock()
	s, err := e.sale(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	if s.Status.Final() {
		return time.Time{}, nil
	}
	if centrapay.PriorityOf(ctx) != centrapay.PriorityOperator { // a cancel at the till keeps its place
		ctx = centrapay.WithPriority(ctx, centrapay.PriorityLive)
	}
	if s.PaymentRequest == nil {
		return e.resolveCreate(ctx, s)
	}
	now := e.clk.Now()
	var void *Op
	// a void op is journaled with the sale's VoidReason in one step: a
	// sale without one, not cancelled and not timed out, has none to read
	// (the common poll reads one row, not two)
	if s.VoidReason != "" || s.CancelRequested || !now.Before(s.TimeoutAt) {
		ops, err := e.j.Ops(ctx, OpFilter{SaleID: s.ID, Kind: OpVoid})
		if err != nil {
			return time.Time{}, err
		}
		if len(ops) > 0 {
			void = ops[len(ops)-1]
		}
	}
	if void != nil && void.State == OpPending {
		return e.sendVoid(ctx, s, void)
	}
	if s.CancelRequested && void == nil || !now.Before(s.TimeoutAt) && (void == nil || s.Status == StatusPending) {
		why := "cancelled at the till"
		if !s.CancelRequested {
			why = "timed out: the request was still new after its expiry + margin"
		}
		return e.startVoid(ctx, s, why)
	}
	return e.poll(ctx, s, void != nil)
}

// poll reads the request and applies what it says. After a void has
// answered, a request still new is polled until Centrapay moves it on.
func (e *Engine) poll(ctx context.Context, s *Sale, voided bool) (time.Time, error) {
	if e.at("poll:sending") {
		return time.Time{}, errAbandoned
	}
	pr, _, err := e.cp.Get(ctx, s.PaymentRequest.ID)
	if e.at("poll:answered") {
		return time.Time{}, errAbandoned
	}
	if err != nil && ctx.Err() != nil {
		// stopping: our own cancellation says nothing of the request,
		// so nothing is voided; the next start polls it again
		return time.Time{}, ctx.Err()
	}
	now := e.clk.Now()
	switch {
	case err == nil:
		e.clear(saleWork(s.ID))
		if prev := e.live.polled(s.ID, now); !prev.IsZero() && e.cfg.ObservePollInterval != nil {
			e.cfg.ObservePollInterval(now.Sub(prev))
		}
		before := s.Status
		changed := e.apply(s, pr)
		if changed || before != s.Status {
			if err := e.save(ctx, s, "polled: "+string(pr.Status)); err != nil {
				return time.Time{}, err
			}
		}
		if s.Status.Final() {
			return time.Time{}, nil
		}
		return now.Add(e.cfg.PollInterval), nil
	case centrapay.IsUnknownOutcome(err):
		if voided {
			return e.unknownAgain(ctx, s, "status unknown after the void: "+err.Error())
		}
		// The client has retried with backoff; the status is still
		// unknown, so the rule is to void.
		return e.startVoid(ctx, s, "voided: its status could not be learned ("+err.Error()+")")
	default:
		code, msg := refusal(err)
		voids, err := e.j.Ops(ctx, OpFilter{SaleID: s.ID, Kind: OpVoid})
		if err != nil {
			return time.Time{}, err
		}
		if voided || len(voids) >= maxVoids {
			// refused again: no new void (a refusal that lasts, such as a
			// revoked key, would journal one a poll), ask again later
			return e.refusedAgain(ctx, s, msg, "poll refused again: "+code)
		}
		s.Status, s.Reason = StatusResolving, msg
		if err := e.save(ctx, s, "poll refused: "+code); err != nil {
			return time.Time{}, err
		}
		return e.startVoid(ctx, s, "voided: Centrapay refused to tell its status ("+code+")")
	}
}

// maxVoids caps the void ops journaled for one sale: more would be a
// loop, not a retry.
const maxVoids = 3

// refusedAgain keeps s resolving with the refusal's message for the
// cashier and asks again after a backoff that grows while it lasts.
func (e *Engine) refusedAgain(ctx context.Context, s *Sale, msg, note string) (time.Time, error) {
	n := e.strike(saleWork(s.ID))
	if s.Status != StatusResolving || s.Reason != msg {
		s.Status, s.Reason = StatusResolving, msg
		if err := e.save(ctx, s, note); err != nil {
			return time.Time{}, err
		}
	}
	return e.clk.Now().Add(e.backoff(n)), nil
}

// unknownAgain marks s resolving and asks again after a backoff.
func (e *Engine) unknownAgain(ctx context.Context, s *Sale, note string) (time.Time, error) {
	if s.Status != StatusResolving {
		s.Status, s.Reason = StatusResolving, "waiting for Centrapay to answer"
		if err := e.save(ctx, s, note); err != nil {
			return time.Time{}, err
		}
	}
	return e.clk.Now().Add(e.backoff(3)), nil
}

// startVoid journals the intent to void s's request, then voids it.
func (e *Engine) startVoid(ctx context.Context, s *Sale, why string) (time.Time, error) {
	now := e.clk.Now()
	op := &Op{ID: newID("op_"), SaleID: s.ID, PaymentRequestID: s.PaymentRequest.ID, Kind: OpVoid, Reason: why,
		State: OpPending, TerminalID: s.TerminalID, CreatedAt: now}
	s.VoidReason = why
	if s.Status == StatusPending && !s.CancelRequested {
		s.Status, s.Reason = StatusResolving, why
	}
	if err := e.commit(ctx, &Change{Sale: s, Note: "voiding: " + why, Ops: []*Op{op}}); err != nil {
		return time.Time{}, err
	}
	return e.sendVoid(ctx, s, op)
}

// sendVoid sends (again) a journaled void; the outcome is journaled and
// the request read back, since its status is the truth.
func (e *Engine) sendVoid(ctx context.Context, s *Sale, op *Op) (time.Time, error) {
	if e.at("void:journaled") {
		return time.Time{}, errAbandoned
	}
	a, _, err := e.cp.Void(ctx, op.PaymentRequestID)
	if e.at("void:answered") {
		return time.Time{}, errAbandoned
	}
	if err != nil && ctx.Err() != nil {
		return time.Time{}, ctx.Err() // stopping: the void stays pending, sent again at the next start
	}
	op.Attempts++
	switch {
	case err == nil:
		op.State, op.ActivityID = OpSucceeded, a.ID
		if a.Type == centrapay.ActivityRefund {
			op.Amount, _ = a.Value.Amount.Int64()
		}
	case centrapay.IsUnknownOutcome(err):
		if err := e.saveOp(ctx, op); err != nil {
			return time.Time{}, err
		}
		return e.unknownAgainAfter(ctx, s, op.Attempts, "void outcome unknown: "+err.Error())
	default:
		code, msg := refusal(err)
		op.State, op.Error, op.Message = OpFailed, code, msg
	}
	if err := e.saveOp(ctx, op); err != nil {
		return time.Time{}, err
	}
	return e.poll(ctx, s, true)
}

func (e *Engine) unknownAgainAfter(ctx context.Context, s *Sale, attempts int, note string) (time.Time, error) {
	if _, err := e.unknownAgain(ctx, s, note); err != nil {
		return time.Time{}, err
	}
	return e.clk.Now().Add(e.backoff(attempts)), nil
}

// resolveCreate finds the request of a create whose outcome is unknown, by
// externalRef, and adopts it; it never creates a second one. When none is
// found by the sale's POS timeout, no request exists that could still be
// paid, and the sale has failed.
func (e *Engine) resolveCreate(ctx context.Context, s *Sale) (time.Time, error) {
	ops, err := e.j.Ops(ctx, OpFilter{SaleID: s.ID, Kind: OpCreate})
	if err != nil || len(ops) == 0 {
		return time.Time{}, fmt.Errorf("sale %s has no create op: %v", s.ID, err)
	}
	op := ops[0]
	ctx = centrapay.WithPriority(ctx, centrapay.PriorityBackground)
	now := e.clk.Now()
	if op.PaymentRequestID != "" {
		// the create's own record holds its request (a journal written by
		// an older version, whose steps were not one transaction): adopt it
		pr, _, err := e.cp.Get(ctx, op.PaymentRequestID)
		if err != nil {
			if ctx.Err() != nil {
				return time.Time{}, ctx.Err()
			}
			if centrapay.IsUnknownOutcome(err) {
				return e.unknownAgainAfter(ctx, s, op.Attempts+1, "read of the created request unknown: "+err.Error())
			}
			code, msg := refusal(err)
			return e.refusedAgain(ctx, s, msg, "read of the created request refused: "+code)
		}
		return e.adopt(ctx, s, op, pr, "adopted request "+pr.ID+" its create recorded")
	}
	var found []centrapay.PaymentRequest
	for pr, err := range e.listByRef(ctx, s.ExternalRef) {
		if err != nil {
			if ctx.Err() != nil {
				return time.Time{}, ctx.Err()
			}
			if centrapay.IsUnknownOutcome(err) {
				return e.unknownAgainAfter(ctx, s, op.Attempts+1, "lookup by externalRef unknown: "+err.Error())
			}
			code, msg := refusal(err)
			return e.refusedAgain(ctx, s, msg, "lookup by externalRef refused: "+code)
		}
		known, err := e.j.KnownRequest(ctx, pr.ID)
		if err != nil {
			return time.Time{}, err
		}
		v, _ := pr.Value.Amount.Int64()
		if !known && v == s.Value && pr.TerminalID == s.TerminalID && !pr.CreatedAt.Before(s.CreatedAt.Add(-time.Minute)) {
			found = append(found, *pr)
		}
	}
	if e.at("lookup:answered") {
		return time.Time{}, errAbandoned
	}
	if len(found) == 0 {
		if now.Before(s.TimeoutAt) {
			if s.Status != StatusResolving {
				s.Status, s.Reason = StatusResolving, "checking whether the payment request was created"
				if err := e.save(ctx, s, "no request found yet"); err != nil {
					return time.Time{}, err
				}
			}
			next := now.Add(e.backoff(2))
			if next.After(s.TimeoutAt) {
				next = s.TimeoutAt // the last lookup is made at the POS timeout
			}
			return next, nil
		}
		op.State, op.Error, op.Message = OpFailed, "NOT_CREATED", "no payment request was created"
		s.Status, s.Reason = StatusFailed, "the payment request could not be created: start the sale again"
		return time.Time{}, e.commit(ctx, &Change{Sale: s, Note: "no request found by the POS timeout", Ops: []*Op{op}})
	}
	// the newest is adopted — the newest paid one, if the patron paid one:
	// what was paid is kept, not refunded to be paid again — and any other
	// (there should be none: only a fault at Centrapay could make one) is
	// voided, each void journaled first and sent again until Centrapay
	// answers, like any other op
	for i, p := range found {
		if p.Status == centrapay.StatusPaid {
			found[0], found[i] = found[i], found[0]
			break
		}
	}
	pr := found[0]
	var extras []*Op
	for _, other := range found[1:] {
		extras = append(extras, &Op{ID: newID("op_"), SaleID: s.ID, PaymentRequestID: other.ID, Kind: OpVoidExtra,
			Reason: "a second request for the sale's externalRef", State: OpPending, TerminalID: s.TerminalID, CreatedAt: now})
	}
	next, err := e.adopt(ctx, s, op, &pr, "adopted request "+pr.ID+" found by externalRef", extras...)
	if err != nil {
		return next, err
	}
	for _, v := range extras {
		_, err := e.finish(ctx, v)
		if errors.Is(err, errAbandoned) {
			return time.Time{}, err
		}
		if err != nil {
			e.log.Warn("void of an extra request", "sale", s.ID, "request", v.PaymentRequestID, "err", err)
		}
	}
	return next, nil
}

// adopt makes pr the sale's request, with its create op (and the intents
// to void any extra request), in one step.
func (e *Engine) adopt(ctx context.Context, s *Sale, op *Op, pr *centrapay.PaymentRequest, note string, extras ...*Op) (time.Time, error) {
	op.State, op.PaymentRequestID = OpSucceeded, pr.ID
	s.Status = StatusPending
	e.apply(s, pr)
	if err := e.commit(ctx, &Change{Sale: s, Note: note, Ops: append([]*Op{op}, extras...)}); err != nil {
		return time.Time{}, err
	}
	return e.clk.Now(), nil
}

// listByRef iterates over the requests with externalRef, newest first.
func (e *Engine) listByRef(ctx context.Context, ref string) iter.Seq2[*centrapay.PaymentRequest, error] {
	return e.cp.AllByExternalRef(ctx, ref, &centrapay.ListOptions{MerchantAccountID: e.cfg.MerchantAccountID})
}

// maxTimeoutShift is how much later than planned Centrapay's expiry may
// move a sale's POS timeout: more than a slow create can explain is a
// clock that is off, and the sale is voided as planned.
const maxTimeoutShift = 30 * time.Second

// apply copies what Centrapay says of the request into s and reports
// whether anything changed.
func (e *Engine) apply(s *Sale, pr *centrapay.PaymentRequest) bool {
	old := s.clone()
	if s.PaymentRequest == nil {
		s.PaymentRequest = &PaymentRequest{ID: pr.ID}
	}
	p := s.PaymentRequest
	p.ShortCode, p.URL, p.Status, p.ExpiresAt = pr.ShortCode, pr.URL, string(pr.Status), pr.ExpiresAt.Time
	// the POS timeout is measured against Centrapay's expiry: a create
	// that took seconds to arrive moves it later (never earlier, and by
	// at most maxTimeoutShift, so a clock far off cannot keep a sale open)
	if t := p.ExpiresAt.Add(e.cfg.TimeoutMargin); !p.ExpiresAt.IsZero() && t.After(s.TimeoutAt) {
		if limit := s.CreatedAt.Add(time.Duration(e.cfg.ExpirySeconds)*time.Second + e.cfg.TimeoutMargin + maxTimeoutShift); t.After(limit) {
			t = limit
		}
		s.TimeoutAt = t
	}
	p.CancellationReason, p.PreAuthStatus, p.PreAuthExpiresAt = pr.CancellationReason, pr.PreAuthStatus, pr.PreAuthExpiresAt.Time
	s.Conditions = s.Conditions[:0]
	for _, c := range pr.MerchantConditions {
		s.Conditions = append(s.Conditions, Condition{ID: c.ID.String(), Name: c.Name, Message: c.Message, Status: c.Status})
	}
	if n, err := pr.RemainingAmount.Int64(); err == nil {
		s.RemainingAmount = n
	}
	s.PaidBy = s.PaidBy[:0]
	if pr.PaidBy != nil {
		for _, t := range pr.PaidBy.AssetTotals {
			n, _ := t.Total.Amount.Int64()
			s.PaidBy = append(s.PaidBy, Payment{AssetType: t.Type, Description: t.Description, Amount: n,
				LineItems: append([]centrapay.LineItem(nil), t.LineItems...)})
		}
	}
	switch pr.Status {
	case centrapay.StatusNew:
		if s.Status != StatusResolving || s.CancelRequested {
			s.Status = StatusPending
		}
		s.Reason = ""
		if s.CancelRequested {
			s.Reason = "cancelling"
		}
	case centrapay.StatusPaid:
		s.Status, s.Reason = StatusPaid, ""
		if s.RemainingAmount > 0 {
			s.Reason = fmt.Sprintf("part paid: %d still to pay", s.RemainingAmount)
		}
	case centrapay.StatusCancelled:
		s.Status, s.Reason = StatusCancelled, cancelReason(pr.CancellationReason)
		if pr.CancellationReason == centrapay.CancelledByMerchant && s.VoidReason != "" {
			s.Reason = s.VoidReason
		}
		if s.Paid() > 0 {
			s.Reason += " (the payment was refunded)"
		}
	case centrapay.StatusExpired:
		s.Status, s.Reason = StatusExpired, "the payment request expired"
	}
	return !sameSale(old, s)
}

func sameSale(a, b *Sale) bool {
	if a.Status != b.Status || a.Reason != b.Reason || a.RemainingAmount != b.RemainingAmount || !a.TimeoutAt.Equal(b.TimeoutAt) ||
		len(a.Conditions) != len(b.Conditions) || len(a.PaidBy) != len(b.PaidBy) ||
		(a.PaymentRequest == nil) != (b.PaymentRequest == nil) {
		return false
	}
	if a.PaymentRequest != nil && *a.PaymentRequest != *b.PaymentRequest {
		return false
	}
	for i := range a.Conditions {
		if a.Conditions[i] != b.Conditions[i] {
			return false
		}
	}
	for i := range a.PaidBy {
		if !samePayment(a.PaidBy[i], b.PaidBy[i]) {
			return false
		}
	}
	return true
}

// Cancel asks for sale id to be cancelled: its request is voided at once
// (refunded if the patron paid meanwhile). The sale shows what Centrapay
// answers.
func (e *Engine) Cancel(ctx context.Context, id string) (*Sale, error) {
	ctx = context.WithoutCancel(ctx) // once begun, an operation is journaled to its end
	unlock := e.lock(id)
	s, err := e.sale(ctx, id)
	if err != nil {
		unlock()
		return nil, err
	}
	if s.Status == StatusPaid {
		unlock()
		return nil, &Error{Code: EConflict, Message: "the sale is paid: refund it instead"}
	}
	if s.Status.Final() { // nothing left to cancel: a repeated press or a retry
		unlock()
		return s, nil
	}
	if !s.CancelRequested {
		s.CancelRequested = true
		s.Reason = "cancelling"
		if err := e.save(ctx, s, "cancel requested at the till"); err != nil {
			unlock()
			return nil, err
		}
	}
	unlock()
	// void now, not at the next poll, ahead of the polls in the budget
	e.pollNow(centrapay.WithPriority(ctx, centrapay.PriorityOperator), id)
	return e.sale(ctx, id)
}

// Sale returns a snapshot of sale id.
func (e *Engine) Sale(ctx context.Context, id string) (*Sale, error) {
	s, err := e.sale(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Code: ENotFound, Message: "no sale " + id}
	}
	return s, err
}
