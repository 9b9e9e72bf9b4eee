package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/centrapos/centrapos/centrapay"
)

// payCall is what a pay call carried, kept to answer a repeated
// idempotencyKey.
type payCall struct {
	activity centrapay.Activity
	content  string
}

// payAPI answers POST /api/payment-requests/{id}/pay: a POS records an
// external payment (external.main, external.test) through it.
//
// A payment of less than what remains is a partial payment. As Centrapay's
// Partial Payment guide says, it needs the request to have opted in
// (partialAllowed) and the pay call to say mode partial-payment (or
// multi-asset-payment) with the amount. Otherwise it is refused 403
// INSUFFICIENT_ASSET_VALUE, the code Centrapay documents for "the
// transaction amount received by Centrapay is less than the total of the
// payment"; the docs name no dedicated code for a partial payment that
// was not allowed.
func (s *Sandbox) payAPI(w http.ResponseWriter, r *http.Request, m *Merchant) {
	req := s.find(w, r.PathValue("id"), m)
	if req == nil {
		return
	}
	var in centrapay.PayRequest
	if !decode(w, r, &in) {
		return
	}
	switch {
	case in.AssetType == "":
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "assetType: required")
		return
	case in.IdempotencyKey == "":
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "idempotencyKey: required")
		return
	case in.AssetID == "" && in.TransactionID == "" && in.Authorization == "":
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "one of assetId, transactionId or authorization is required")
		return
	case in.Mode != "" && in.Mode != centrapay.ModePartialPayment && in.Mode != centrapay.ModeMultiAssetPayment:
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "mode: must be partial-payment or multi-asset-payment")
		return
	}
	content, _ := json.Marshal(in)
	if prev, ok := req.pays[in.IdempotencyKey]; ok {
		if prev.content == string(content) {
			writeJSON(w, http.StatusOK, prev.activity)
			return
		}
		apiError(w, http.StatusForbidden, string(centrapay.ErrIdempotentOperationFailed), "idempotencyKey was used for another payment")
		return
	}
	v, _ := req.pr.Value.Amount.Int64()
	remaining := v - req.paid
	amount := remaining
	if !in.Amount.IsZero() {
		var err error
		if amount, err = cents(in.Amount, "amount"); err != nil {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
			return
		}
	}
	if !slices.ContainsFunc(req.pr.PaymentOptions, func(o centrapay.PaymentOption) bool { return o.AssetType == in.AssetType }) {
		apiError(w, http.StatusForbidden, string(centrapay.ErrInvalidAssetType), "the merchant config does not accept "+in.AssetType)
		return
	}
	switch {
	case req.pr.Status == centrapay.StatusExpired:
		apiError(w, http.StatusForbidden, string(centrapay.ErrRequestExpired), "the request has expired")
	case req.pr.Status == centrapay.StatusCancelled:
		apiError(w, http.StatusForbidden, string(centrapay.ErrRequestCancelled), "the request was cancelled")
	case req.pr.Status == centrapay.StatusPaid:
		apiError(w, http.StatusForbidden, string(centrapay.ErrRequestPaid), "the request is paid")
	case amount > remaining:
		apiError(w, http.StatusForbidden, string(centrapay.ErrInsufficientAssetValue), fmt.Sprintf("the amount must be at most %d", remaining))
	case amount < remaining && !req.pr.PartialAllowed:
		apiError(w, http.StatusForbidden, string(centrapay.ErrInsufficientAssetValue),
			fmt.Sprintf("the request did not opt in to partial payment (partialAllowed): the amount must be %d", remaining))
	case amount < remaining && in.Mode == "":
		apiError(w, http.StatusForbidden, string(centrapay.ErrInsufficientAssetValue),
			fmt.Sprintf("a partial amount needs mode %s; the whole amount is %d", centrapay.ModePartialPayment, remaining))
	default:
		s.pay(req, in.AssetType, amount)
		a := req.activities[len(req.activities)-2] // the payment, before "paid"
		a.CreatedBy = s.actor                      // recorded by the merchant's key, not by the patron
		a.External = strings.HasPrefix(in.AssetType, "external.")
		a.IdempotencyKey, a.Mode, a.ExternalPaymentRef = in.IdempotencyKey, in.Mode, in.ExternalPaymentRef
		req.activities[len(req.activities)-2] = a
		req.pays[in.IdempotencyKey] = payCall{activity: a, content: string(content)}
		writeJSON(w, http.StatusOK, a)
	}
}

// decodeAPI answers POST /api/decode: who issued a scanned code.
func (s *Sandbox) decodeAPI(w http.ResponseWriter, r *http.Request, m *Merchant) {
	var in centrapay.DecodeRequest
	if !decode(w, r, &in) {
		return
	}
	switch {
	case in.Code == "":
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "code: required")
		return
	case in.ScannedBy != "merchant":
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "scannedBy: must be merchant")
		return
	case in.MerchantConfigID == "":
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "merchantConfigId: required")
		return
	}
	if !slices.ContainsFunc(m.Configs, func(c MerchantConfig) bool { return c.ID == in.MerchantConfigID }) {
		apiError(w, http.StatusForbidden, string(centrapay.ErrMerchantConfigNotFound), "no merchant config "+in.MerchantConfigID)
		return
	}
	out := centrapay.DecodedCode{Code: in.Code, ScannedBy: in.ScannedBy, MerchantConfigID: in.MerchantConfigID}
	switch {
	case len(in.Code) == 16 && centrapay.ValidateBarcode(in.Code) == nil:
		out.Provider, out.DisplayName = "centrapay", "Centrapay"
	case len(in.Code) == 9 && isDigits(in.Code):
		// a Farmlands card number is 9 digits (the docs' decode example
		// is 123456789, their Farmlands test cards 424242424 and others)
		out.Provider, out.DisplayName = "farmlands", "Farmlands Card"
	default:
		apiError(w, http.StatusForbidden, string(centrapay.ErrUnknownCode), "the code is not one a provider issued")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// merchantActivities answers GET /api/payment-activities: a merchant's
// activities, newest first, paginated.
func (s *Sandbox) merchantActivities(w http.ResponseWriter, r *http.Request, m *Merchant) {
	q := r.URL.Query()
	if q.Get("merchantId") == "" {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "merchantId: required")
		return
	}
	if q.Get("merchantId") != m.ID {
		apiError(w, http.StatusForbidden, string(centrapay.ErrMerchantNotAuthorized), "merchantId is not this key's merchant")
		return
	}
	start, limit, ok := pageParams(w, q.Get("pageKey"), q.Get("paginationLimit"))
	if !ok {
		return
	}
	var all []centrapay.Activity
	for _, id := range s.order {
		if req := s.requests[id]; req.merchant == m {
			s.expire(req)
			s.completeRefunds(req)
			for _, a := range req.activities {
				if _, pending := req.incomplete[a.ID]; !pending {
					all = append(all, a)
				}
			}
		}
	}
	slices.SortStableFunc(all, func(a, b centrapay.Activity) int { return b.CreatedAt.Time.Compare(a.CreatedAt.Time) })
	writeJSON(w, http.StatusOK, pageOf(all, start, limit))
}

// pageParams reads pageKey and paginationLimit, answering 400 on bad ones.
func pageParams(w http.ResponseWriter, key, lim string) (start, limit int, ok bool) {
	limit = 25
	if lim != "" {
		n, err := strconv.Atoi(lim)
		if err != nil || n < 1 || n > 100 {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "paginationLimit: must be 1 to 100")
			return 0, 0, false
		}
		limit = n
	}
	if key != "" {
		n, err := strconv.Atoi(key)
		if err != nil || n < 0 {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "pageKey: not a key this sandbox gave")
			return 0, 0, false
		}
		start = n
	}
	return start, limit, true
}

// pageOf cuts one page out of all.
func pageOf[T any](all []T, start, limit int) centrapay.Page[T] {
	page := centrapay.Page[T]{Items: []T{}}
	if start < len(all) {
		end := min(start+limit, len(all))
		page.Items = all[start:end]
		if end < len(all) {
			page.NextPageKey = strconv.Itoa(end)
		}
	}
	return page
}
