package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
)

const (
	voidWindow = 24 * time.Hour
	// refundWindow is the sandbox's refund window; Centrapay's depends on
	// the asset type and answers REFUND_WINDOW_EXCEEDED when it has closed.
	refundWindow = 365 * 24 * time.Hour
)

// void cancels an unpaid request or cancels and refunds a paid one.
func (s *Sandbox) void(w http.ResponseWriter, r *http.Request, m *Merchant) {
	req := s.find(w, r.PathValue("id"), m)
	if req == nil {
		return
	}
	if s.now().Sub(req.pr.CreatedAt.Time) > voidWindow {
		apiError(w, http.StatusForbidden, string(centrapay.ErrVoidWindowExceeded), "the void window closed 24 h after createdAt")
		return
	}
	if req.pr.PreAuth && req.pr.Status == centrapay.StatusPaid {
		switch {
		case req.confirmed > 0:
			apiError(w, http.StatusForbidden, string(centrapay.ErrPreAuthAlreadyConfirmed), "the pre-auth has confirmations: refund them")
		default:
			req.pr.PreAuthStatus = centrapay.PreAuthReleased
			s.cancel(req, centrapay.CancelledByMerchant)
			writeJSON(w, http.StatusOK, req.activities[len(req.activities)-1])
		}
		return
	}
	switch req.pr.Status {
	case centrapay.StatusExpired:
		apiError(w, http.StatusForbidden, string(centrapay.ErrRequestExpired), "the request has expired")
	case centrapay.StatusNew:
		s.cancel(req, centrapay.CancelledByMerchant)
		writeJSON(w, http.StatusOK, req.activities[len(req.activities)-1])
	case centrapay.StatusCancelled:
		if req.refunded > 0 {
			apiError(w, http.StatusForbidden, string(centrapay.ErrAlreadyRefunded), "the request was voided and refunded")
			return
		}
		writeJSON(w, http.StatusOK, req.activities[len(req.activities)-1])
	case centrapay.StatusPaid:
		if req.refunded >= req.paid {
			apiError(w, http.StatusForbidden, string(centrapay.ErrAlreadyRefunded), "the payment was refunded")
			return
		}
		amount := req.paid - req.refunded
		req.refunded = req.paid
		req.pr.Status = centrapay.StatusCancelled
		req.pr.CancellationReason = centrapay.CancelledByMerchant
		a := s.addActivity(req, centrapay.ActivityRefund, amount, func(a *centrapay.Activity) { a.AssetType = req.assetType() })
		s.refunded(req, a)
		writeJSON(w, http.StatusOK, a)
	}
}

// refund refunds part or all of a paid request, once per externalRef.
func (s *Sandbox) refund(w http.ResponseWriter, r *http.Request, m *Merchant) {
	req := s.find(w, r.PathValue("id"), m)
	if req == nil {
		return
	}
	var in centrapay.RefundRequest
	if !decode(w, r, &in) {
		return
	}
	if in.ExternalRef == "" {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "externalRef: required")
		return
	}
	if !s.refundingConfig(w, req, m, in.MerchantConfigID) {
		return
	}
	amount, err := cents(in.Value.Amount, "value.amount")
	if err == nil && in.Value.Currency != req.pr.Value.Currency {
		err = fmt.Errorf("value.currency: must be %s", req.pr.Value.Currency)
	}
	if err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}
	if prev, ok := req.refunds[in.ExternalRef]; ok {
		if prev.Value.Amount.Cmp(in.Value.Amount) == 0 {
			writeJSON(w, http.StatusOK, prev)
			return
		}
		apiError(w, http.StatusForbidden, string(centrapay.ErrRepeatReference), "externalRef was used for a refund of another amount")
		return
	}
	limit := req.paid - req.refunded
	if in.ConfirmationIdempotencyKey != "" {
		c, ok := req.confirmations[in.ConfirmationIdempotencyKey]
		if !ok {
			apiError(w, http.StatusForbidden, string(centrapay.ErrConfirmationNotFound), "no confirmation with that idempotencyKey")
			return
		}
		limit = min(limit, c.amount-c.refunded)
	}
	if s.now().Sub(req.pr.CreatedAt.Time) > refundWindow {
		apiError(w, http.StatusForbidden, string(centrapay.ErrRefundWindowExceeded), "refunds close a year after the payment")
		return
	}
	switch {
	case req.pr.PreAuth && req.pr.Status == centrapay.StatusNew:
		apiError(w, http.StatusForbidden, string(centrapay.ErrPreAuthPending), "the pre-auth is not authorized")
	case req.paid == 0:
		apiError(w, http.StatusForbidden, string(centrapay.ErrNotPaid), "the request is not paid")
	case req.refunded >= req.paid:
		apiError(w, http.StatusForbidden, string(centrapay.ErrAlreadyRefunded), "the payment was refunded in full")
	case amount > limit:
		apiError(w, http.StatusForbidden, string(centrapay.ErrInvalidAmount), fmt.Sprintf("at most %d can still be refunded", limit))
	default:
		req.refunded += amount
		if c, ok := req.confirmations[in.ConfirmationIdempotencyKey]; ok {
			c.refunded += amount
		}
		// Centrapay's refund activity echoes invoiceRef and lineItems but
		// not the refund's externalRef (no example or model field has it)
		a := s.addActivity(req, centrapay.ActivityRefund, amount, func(a *centrapay.Activity) {
			a.ConfirmationIdempotencyKey, a.PreAuth = in.ConfirmationIdempotencyKey, req.pr.PreAuth
			a.AssetType, a.InvoiceRef, a.LineItems = req.assetType(), in.InvoiceRef, in.LineItems
			if in.MerchantConfigID != "" {
				a.MerchantConfigID = in.MerchantConfigID // the refunding merchant's config
			}
		})
		req.refunds[in.ExternalRef] = a
		s.refunded(req, a)
		writeJSON(w, http.StatusOK, a)
	}
}

// refundingConfig checks a refund's merchantConfigId. Centrapay's refund
// reference gives merchantConfigId as "the Merchant Config id of the
// refunding merchant when refunding a farmlands.nzd.* payment", and its
// Farmlands POS guide sends it on every refund: a refund of a Farmlands
// payment without it is a request missing a required field, answered 400
// as Centrapay answers those. A merchantConfigId that is not one of the
// merchant's configs is refused 403 MERCHANT_CONFIG_NOT_FOUND. The docs
// name no dedicated code for either case.
func (s *Sandbox) refundingConfig(w http.ResponseWriter, req *request, m *Merchant, configID string) bool {
	if configID == "" {
		if strings.HasPrefix(req.assetType(), farmlandsAssetPrefix) {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "merchantConfigId: required when refunding a farmlands.nzd payment")
			return false
		}
		return true
	}
	if !slices.ContainsFunc(m.Configs, func(c MerchantConfig) bool { return c.ID == configID }) {
		apiError(w, http.StatusForbidden, string(centrapay.ErrMerchantConfigNotFound), "no merchant config "+configID)
		return false
	}
	return true
}

// farmlandsAssetPrefix starts the Farmlands card asset types,
// farmlands.nzd.main and farmlands.nzd.test.
const farmlandsAssetPrefix = "farmlands.nzd."

// answerCondition accepts (the payment proceeds) or declines (the request
// is cancelled) a merchant condition.
func (s *Sandbox) answerCondition(w http.ResponseWriter, r *http.Request, m *Merchant) {
	req := s.find(w, r.PathValue("id"), m)
	if req == nil {
		return
	}
	verb := r.PathValue("verb")
	if verb != "accept" && verb != "decline" {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "no such route")
		return
	}
	var c *centrapay.Condition
	for i := range req.pr.MerchantConditions {
		if string(req.pr.MerchantConditions[i].ID) == r.PathValue("cid") {
			c = &req.pr.MerchantConditions[i]
		}
	}
	switch {
	case c == nil:
		apiError(w, http.StatusForbidden, "RESOURCE_NOT_FOUND", "no condition "+r.PathValue("cid"))
		return
	case c.Status != centrapay.ConditionAwaitingMerchant:
		apiError(w, http.StatusForbidden, string(centrapay.ErrConditionAlreadySet), "the condition was answered")
		return
	case req.pr.Status != centrapay.StatusNew:
		apiError(w, http.StatusForbidden, string(centrapay.ErrConditionAlreadySet), "the request is "+string(req.pr.Status))
		return
	}
	v, _ := req.pr.Value.Amount.Int64()
	typ := centrapay.ActivityAcceptCondition
	if verb == "accept" {
		c.Status = centrapay.ConditionAccepted
	} else {
		c.Status = centrapay.ConditionDeclined
		typ = centrapay.ActivityDeclineCondition
	}
	a := s.addActivity(req, typ, v, func(a *centrapay.Activity) { a.ConditionID = c.ID })
	if verb == "accept" {
		s.pay(req, "centrapay.nzd.test", v)
	} else {
		s.cancel(req, centrapay.CancelDeclinedByMerchant)
	}
	writeJSON(w, http.StatusOK, a)
}

// refunded notifies a refund accepted. Centrapay completes refunds
// asynchronously: the sandbox after Config.RefundDelay, when the
// refund's activity is listed and refund-completed is sent; at once
// without a delay.
func (s *Sandbox) refunded(req *request, a centrapay.Activity) {
	s.notify(centrapay.NotificationRefundInitiated, req, a)
	if s.refundDelay <= 0 {
		s.notify(centrapay.NotificationRefundCompleted, req, a)
		return
	}
	if req.incomplete == nil {
		req.incomplete = map[string]time.Time{}
	}
	req.incomplete[a.ID] = s.now().Add(s.refundDelay)
	if _, manual := s.clk.(*clock.Fake); !manual {
		// on the real clock the refund completes on time even when no
		// one asks; a manual clock completes it when advanced, or when
		// the request is next read
		time.AfterFunc(s.refundDelay, func() {
			if s.ctx.Err() != nil {
				return // closed
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			s.completeRefunds(req)
		})
	}
}

// completeRefunds completes req's refunds that are due; s.mu is held.
func (s *Sandbox) completeRefunds(req *request) {
	now := s.now()
	for _, a := range req.activities {
		if due, ok := req.incomplete[a.ID]; ok && !now.Before(due) {
			delete(req.incomplete, a.ID)
			s.notify(centrapay.NotificationRefundCompleted, req, a)
		}
	}
}
