package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// preAuthLifetime is how long authorized funds are held: Centrapay's
// authorizations expire after three months.
const preAuthLifetime = 90 * 24 * time.Hour

// confirmation is one draw-down of a pre-auth.
type confirmation struct {
	activity centrapay.Activity
	content  string // canonical JSON of what was confirmed, to spot a reused key
	amount   int64
	refunded int64
}

// authorize holds amount for a pre-auth request: it is paid, with
// preAuthStatus authorized, until confirmed and released.
func (s *Sandbox) authorize(req *request, assetType string, amount int64) {
	req.authorized = amount
	req.pr.Status = centrapay.StatusPaid
	req.pr.PreAuthStatus = centrapay.PreAuthAuthorized
	req.pr.PreAuthExpiresAt = centrapay.NewTimestamp(s.now().Add(preAuthLifetime))
	req.pr.RemainingAmount = centrapay.Int64BigNumber(0)
	req.pr.PaidBy = &centrapay.PaidBy{AssetTotals: []centrapay.AssetTotal{{Type: assetType, Description: describe(assetType),
		Total: centrapay.Cents(amount, req.pr.Value.Currency), PayerAccountID: patronAccountID}}}
	s.addActivity(req, centrapay.ActivityAuthorization, amount, func(a *centrapay.Activity) {
		a.AssetType, a.PreAuth, a.CreatedBy = assetType, true, patronCRN
	})
}

// preAuthReleased reports whether req's authorization was released or has
// lapsed; a lapsed one is marked released.
func (s *Sandbox) preAuthReleased(req *request) bool {
	if req.pr.PreAuthStatus == centrapay.PreAuthAuthorized && !s.now().Before(req.pr.PreAuthExpiresAt.Time) {
		req.pr.PreAuthStatus = centrapay.PreAuthReleased
	}
	return req.pr.PreAuthStatus == centrapay.PreAuthReleased
}

// confirm draws down on a pre-auth, once per idempotencyKey.
func (s *Sandbox) confirm(w http.ResponseWriter, r *http.Request, m *Merchant) {
	req := s.find(w, r.PathValue("id"), m)
	if req == nil {
		return
	}
	var in centrapay.ConfirmRequest
	if !decode(w, r, &in) {
		return
	}
	switch {
	case in.IdempotencyKey == "":
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "idempotencyKey: required")
		return
	case in.InvoiceRef == "" || len(in.InvoiceRef) > 128:
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "invoiceRef: required, at most 128 characters")
		return
	case len(in.LineItems) == 0:
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "lineItems: required")
		return
	}
	sum, msg := lineSum(in.LineItems)
	if msg != "" {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", msg)
		return
	}
	amount := sum
	if in.Value != nil {
		var err error
		if amount, err = cents(in.Value.Amount, "value.amount"); err != nil || in.Value.Currency != req.pr.Value.Currency {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("value: a whole positive amount of %s", req.pr.Value.Currency))
			return
		}
		if amount != sum {
			apiError(w, http.StatusBadRequest, string(centrapay.ErrLineItemsSumCheckFailed), fmt.Sprintf("line item prices sum to %d, value is %d", sum, amount))
			return
		}
	}
	content, _ := json.Marshal(struct {
		I string
		L []centrapay.LineItem
		A int64
	}{in.InvoiceRef, in.LineItems, amount})
	if prev, ok := req.confirmations[in.IdempotencyKey]; ok {
		if prev.content == string(content) {
			writeJSON(w, http.StatusOK, prev.activity)
			return
		}
		apiError(w, http.StatusForbidden, string(centrapay.ErrIdempotentOperationFailed), "idempotencyKey was used for a confirmation with other content")
		return
	}
	switch {
	case !req.pr.PreAuth:
		apiError(w, http.StatusForbidden, string(centrapay.ErrInvalidPaymentRequestType), "the request is not a pre-auth")
	case req.pr.Status == centrapay.StatusCancelled:
		apiError(w, http.StatusForbidden, string(centrapay.ErrRequestCancelled), "the request was cancelled")
	case req.pr.Status != centrapay.StatusPaid:
		apiError(w, http.StatusForbidden, string(centrapay.ErrPreAuthPending), "the pre-auth is not authorized")
	case s.preAuthReleased(req):
		apiError(w, http.StatusForbidden, string(centrapay.ErrPreAuthReleased), "the pre-auth was released or has lapsed")
	case amount > req.authorized-req.confirmed:
		apiError(w, http.StatusForbidden, string(centrapay.ErrInvalidAmount), fmt.Sprintf("at most %d remains authorized", req.authorized-req.confirmed))
	default:
		req.confirmed += amount
		req.paid += amount
		// as in Centrapay's confirm example: updatedAt and the creating
		// account are part of a confirmation
		a := s.addActivity(req, centrapay.ActivityConfirmation, amount, func(a *centrapay.Activity) {
			a.IdempotencyKey, a.InvoiceRef, a.LineItems, a.PreAuth = in.IdempotencyKey, in.InvoiceRef, in.LineItems, true
			a.UpdatedAt, a.CreatedByAccountID, a.CreatedByAccountName = a.CreatedAt, req.merchant.AccountID, req.merchant.Name
		})
		req.confirmations[in.IdempotencyKey] = &confirmation{activity: a, content: string(content), amount: amount}
		writeJSON(w, http.StatusOK, a)
	}
}

// release returns what was not confirmed to the patron, or cancels a
// pre-auth that was never authorized.
func (s *Sandbox) release(w http.ResponseWriter, r *http.Request, m *Merchant) {
	req := s.find(w, r.PathValue("id"), m)
	if req == nil {
		return
	}
	switch {
	case !req.pr.PreAuth:
		apiError(w, http.StatusForbidden, string(centrapay.ErrInvalidPaymentRequestType), "the request is not a pre-auth")
	case req.pr.Status == centrapay.StatusNew:
		s.cancel(req, centrapay.CancelledByMerchant)
		writeJSON(w, http.StatusOK, req.activities[len(req.activities)-1])
	case req.pr.Status != centrapay.StatusPaid || s.preAuthReleased(req):
		apiError(w, http.StatusForbidden, string(centrapay.ErrPreAuthReleased), "the pre-auth was released or has lapsed")
	default:
		req.pr.PreAuthStatus = centrapay.PreAuthReleased
		a := s.addActivity(req, centrapay.ActivityRelease, req.authorized-req.confirmed, func(a *centrapay.Activity) {
			a.PreAuth, a.AssetType = true, req.assetType()
		})
		writeJSON(w, http.StatusOK, a)
	}
}

// lineSum adds up line prices, or names the first bad line.
func lineSum(items []centrapay.LineItem) (int64, string) {
	var sum int64
	for i, li := range items {
		p, err := li.Price.Int64()
		if li.Name == "" || li.Qty == "" || err != nil {
			return 0, fmt.Sprintf("lineItems[%d]: name, qty and a whole price are required", i)
		}
		sum += p
	}
	return sum, ""
}
