package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// request is a Payment Request and what happened to it.
type request struct {
	pr         centrapay.PaymentRequest
	merchant   *Merchant
	createdBy  string // CRN of the API key that created it: paymentRequestCreatedBy of its activities
	scenario   string
	activities []centrapay.Activity // oldest first
	paid       int64
	refunded   int64
	refunds    map[string]centrapay.Activity // by refund externalRef
	incomplete map[string]time.Time          // refund activity id → when it completes (Config.RefundDelay)
	polled     bool

	// pre-auth: what the patron authorized and what was confirmed of it
	authorized    int64
	confirmed     int64
	confirmations map[string]*confirmation // by idempotencyKey
	pays          map[string]payCall       // pay calls by idempotencyKey
}

const (
	defaultExpiry = 120
	maxExpiry     = 86400
	maxValue      = 100000000

	// patronCRN and patronAccountID are the sandbox's one patron: the
	// createdBy of what the patron does and the payerAccountId of what
	// the patron pays.
	patronCRN       = "crn::user:5a9d0b8e-0c8e-4c4e-9f7a-5a4d6b0e0001"
	patronAccountID = "SandboxPatronAccount0001"
)

// keyCRN names an API key of m as Centrapay's createdBy does
// (crn:{account}:api-key:{name}); the key itself never appears.
func keyCRN(m *Merchant, key string) string {
	for i, k := range m.APIKeys {
		if k == key {
			return fmt.Sprintf("crn:%s:api-key:merchant-terminal-%d", m.AccountID, i+1)
		}
	}
	return "crn:" + m.AccountID + ":api-key:unknown"
}

func (s *Sandbox) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/payment-requests", s.auth(s.create))
	m.HandleFunc("GET /api/payment-requests/{id}", s.auth(s.get))
	m.HandleFunc("GET /api/payment-requests/short-code/{code}", s.auth(s.getByShortCode))
	m.HandleFunc("GET /api/payment-requests/external-ref/{ref}", s.auth(s.listByExternalRef))
	m.HandleFunc("GET /api/payment-requests/{id}/{sub}", s.auth(s.activities))
	m.HandleFunc("POST /api/payment-requests/{id}/void", s.auth(s.void))
	m.HandleFunc("POST /api/payment-requests/{id}/refund", s.auth(s.refund))
	m.HandleFunc("POST /api/payment-requests/{id}/conditions/{cid}/{verb}", s.auth(s.answerCondition))
	m.HandleFunc("POST /api/payment-requests/{id}/confirm", s.auth(s.confirm))
	m.HandleFunc("POST /api/payment-requests/{id}/release", s.auth(s.release))
	m.HandleFunc("POST /api/payment-requests/{id}/pay", s.auth(s.payAPI))
	m.HandleFunc("POST /api/decode", s.auth(s.decodeAPI))
	m.HandleFunc("GET /api/payment-activities", s.auth(s.merchantActivities))
	m.HandleFunc("GET /pay/{id}", s.wallet)
	m.HandleFunc("GET /.well-known/jwks.json", s.jwks)
	m.HandleFunc("GET /api/.well-known/jwks.json", s.jwks)
	m.HandleFunc("POST /sandbox/faults", s.faultsHandler)
	m.HandleFunc("DELETE /sandbox/faults", s.faultsHandler)
	m.HandleFunc("GET /sandbox/scenarios", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Scenarios()) })
	m.HandleFunc("POST /sandbox/payment-requests/{id}/{action}", s.control)
	m.HandleFunc("POST /sandbox/clock/advance", s.advance)
	m.HandleFunc("GET /sandbox/clock", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Clock()) })
	m.HandleFunc("POST /sandbox/reset", func(w http.ResponseWriter, r *http.Request) { s.Reset(); writeJSON(w, 200, struct{}{}) })
	m.HandleFunc("GET /sandbox/calls", s.listCalls)
	m.HandleFunc("GET /sandbox/ledger", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Ledger()) })
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "NOT_FOUND", r.Method+" "+r.URL.Path+" is not a route")
	})
	s.mux = m
}

// handler is an authenticated API handler; it runs with s.mu held.
type handler func(w http.ResponseWriter, r *http.Request, m *Merchant)

// auth checks X-Api-Key and serialises the handler with the state lock.
func (s *Sandbox) auth(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m, ok := s.byKey[r.Header.Get("X-Api-Key")]
		if !ok {
			apiError(w, http.StatusUnauthorized, "UNAUTHORIZED", "missing or unknown X-Api-Key")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.actor = keyCRN(m, r.Header.Get("X-Api-Key"))
		defer func() { s.actor = "" }()
		h(w, r, m)
	}
}

// decode reads a JSON body, answering 400 naming the problem.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "body: "+err.Error())
		return false
	}
	return true
}

// cents parses a positive whole amount of minor units.
func cents(b centrapay.BigNumber, field string) (int64, error) {
	n, err := b.Int64()
	if err != nil || n <= 0 || n >= maxValue {
		return 0, fmt.Errorf("%s: must be a whole number of cents between 1 and %d", field, maxValue-1)
	}
	return n, nil
}

// createBody is the body of create. expirySeconds is a number in
// Centrapay's reference and OpenAPI example but a string ("120") in the
// docs' other create example: both are accepted.
type createBody struct {
	centrapay.CreateRequest
	ExpirySeconds flexInt `json:"expirySeconds"`
}

// flexInt is a whole number sent as a JSON number or as a string.
type flexInt int

func (n *flexInt) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not a whole number: %s", data)
	}
	*n = flexInt(v)
	return nil
}

func (s *Sandbox) create(w http.ResponseWriter, r *http.Request, m *Merchant) {
	var body createBody
	if !decode(w, r, &body) {
		return
	}
	in := body.CreateRequest
	in.ExpirySeconds = int(body.ExpirySeconds)
	var cfg *MerchantConfig
	for i := range m.Configs {
		if m.Configs[i].ID == in.ConfigID {
			cfg = &m.Configs[i]
		}
	}
	if cfg == nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "configId: unknown merchant config")
		return
	}
	value, err := cents(in.Value.Amount, "value.amount")
	if err == nil && in.Value.Currency != cfg.Currency {
		err = fmt.Errorf("value.currency: must be %s", cfg.Currency)
	}
	expiry := in.ExpirySeconds
	if err == nil && (expiry < 0 || expiry > maxExpiry) {
		err = fmt.Errorf("expirySeconds: must be between 1 and %d", maxExpiry)
	}
	if err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}
	if expiry == 0 {
		expiry = defaultExpiry
	}
	var basket int64
	if in.PartialAllowed {
		if basket, err = cents(in.BasketAmount, "basketAmount"); err != nil || basket < value {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "basketAmount: required with partialAllowed, a whole number of cents not below value.amount")
			return
		}
	} else if !in.BasketAmount.IsZero() {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "basketAmount: only allowed with partialAllowed")
		return
	}
	if len(in.LineItems) > 0 {
		sum, msg := lineSum(in.LineItems)
		if msg != "" {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", msg)
			return
		}
		if sum != value && (!in.PartialAllowed || sum != basket) {
			apiError(w, http.StatusBadRequest, string(centrapay.ErrLineItemsSumCheckFailed), fmt.Sprintf("line item prices sum to %d, value is %d", sum, value))
			return
		}
	}
	// the sandbox has no connections or token collections
	if in.ConnectionID != "" {
		apiError(w, http.StatusForbidden, string(centrapay.ErrConnectionNotFound), "no connection "+in.ConnectionID)
		return
	}
	if in.CollectionID != "" {
		apiError(w, http.StatusForbidden, string(centrapay.ErrTokenCollectionNotFound), "no token collection "+in.CollectionID)
		return
	}
	scenario, patronCode := "", ""
	if in.Barcode != "" {
		digits := in.Barcode
		if len(digits) == 16 && !luhnValid(digits) {
			apiError(w, http.StatusBadRequest, string(centrapay.ErrChecksumFailed), "barcode: check digit does not match")
			return
		}
		scenario = s.scenarioOf(digits)
		if scenario == scInvalid {
			apiError(w, http.StatusForbidden, string(centrapay.ErrPatronCodeInvalid), "the patron code is not valid")
			return
		}
		if len(digits) == 16 {
			// a Centrapay patron code: the request is attached to it
			patronCode = "pc" + digits
		}
	}
	now := s.now()
	s.seq++
	id := fmt.Sprintf("pr%022d", s.seq)
	base := s.publicURL
	if base == "" {
		base = "http://" + r.Host
	}
	options := make([]centrapay.PaymentOption, 0, len(cfg.AssetTypes))
	for _, a := range cfg.AssetTypes {
		options = append(options, centrapay.PaymentOption{AssetType: a, Amount: centrapay.Int64BigNumber(value)})
	}
	req := &request{merchant: m, createdBy: s.actor, scenario: scenario, refunds: map[string]centrapay.Activity{},
		confirmations: map[string]*confirmation{}, pays: map[string]payCall{}, pr: centrapay.PaymentRequest{
			ID: id, ShortCode: shortCode(s.seq), URL: base + "/pay/" + id, Value: centrapay.Cents(value, cfg.Currency),
			PaymentOptions: options, MerchantID: m.ID, MerchantName: m.Name, ConfigID: cfg.ID, Status: centrapay.StatusNew,
			Liveness: "test", CreatedAt: centrapay.NewTimestamp(now), UpdatedAt: centrapay.NewTimestamp(now),
			ExpiresAt: centrapay.NewTimestamp(now.Add(time.Duration(expiry) * time.Second)), ExpirySeconds: expiry,
			LineItems: in.LineItems, ExternalRef: in.ExternalRef, TerminalID: in.TerminalID, DeviceID: in.DeviceID,
			OperatorID: in.OperatorID, Barcode: in.Barcode, ConditionsEnabled: in.ConditionsEnabled, PatronNotPresent: in.PatronNotPresent,
			RemainingAmount: centrapay.Int64BigNumber(value), PreAuth: in.PreAuth, PartialAllowed: in.PartialAllowed,
			InvoiceRef: in.InvoiceRef, PurchaseOrderRef: in.PurchaseOrderRef,
			MerchantConditions: []centrapay.Condition{}, CreatedByAccountID: m.AccountID, CreatedByAccountName: m.Name,
			TaxNumber: m.TaxNumber, PatronCodeID: patronCode, BarcodeType: in.BarcodeType, PaymentLinkID: in.PaymentLinkID,
			RedirectPaidURL: in.RedirectPaidURL, RedirectCancelURL: in.RedirectCancelURL,
		}}
	if in.PartialAllowed {
		req.pr.BasketAmount = centrapay.Int64BigNumber(basket)
	}
	s.requests[id] = req
	s.order = append(s.order, id)
	typ := centrapay.ActivityRequest
	if in.PreAuth {
		typ = centrapay.ActivityPreAuthRequest
	}
	s.addActivity(req, typ, value, func(a *centrapay.Activity) { a.PreAuth = in.PreAuth })
	writeJSON(w, http.StatusOK, req.pr)
}

// addActivity appends an activity numbered after the last one, created by
// the caller being served (s.actor) unless edit says otherwise.
func (s *Sandbox) addActivity(req *request, typ string, amount int64, edit func(*centrapay.Activity)) centrapay.Activity {
	a := centrapay.Activity{ID: fmt.Sprintf("%s-a%d", req.pr.ID, len(req.activities)+1), Type: typ,
		Value: centrapay.Cents(amount, req.pr.Value.Currency), PaymentRequestID: req.pr.ID, MerchantID: req.merchant.ID,
		MerchantConfigID: req.pr.ConfigID, MerchantAccountID: req.merchant.AccountID, MerchantName: req.merchant.Name,
		CreatedAt: centrapay.NewTimestamp(s.now()), ActivityNumber: centrapay.Int64BigNumber(int64(len(req.activities) + 1)),
		ShortCode: req.pr.ShortCode, CreatedBy: s.actor, PaymentRequestCreatedBy: req.createdBy}
	if edit != nil {
		edit(&a)
	}
	req.activities = append(req.activities, a)
	req.pr.UpdatedAt = a.CreatedAt
	return a
}

// find returns the merchant's request id, answering 403 when it is not one.
func (s *Sandbox) find(w http.ResponseWriter, id string, m *Merchant) *request {
	req, ok := s.requests[id]
	if !ok || req.merchant != m {
		apiError(w, http.StatusForbidden, "RESOURCE_NOT_FOUND", "no payment request "+id)
		return nil
	}
	s.expire(req)
	s.completeRefunds(req)
	return req
}

// expire moves a new request past its expiry to expired.
func (s *Sandbox) expire(req *request) {
	if req.pr.Status == centrapay.StatusNew && !s.now().Before(req.pr.ExpiresAt.Time) {
		req.pr.Status = centrapay.StatusExpired
		// Centrapay expires the request, not the caller who noticed
		s.addActivity(req, centrapay.ActivityExpiry, 0, func(a *centrapay.Activity) { a.CreatedBy = "" })
	}
}

func (s *Sandbox) get(w http.ResponseWriter, r *http.Request, m *Merchant) {
	req := s.find(w, r.PathValue("id"), m)
	if req == nil {
		return
	}
	if req.pr.Status == centrapay.StatusNew && !req.polled {
		req.polled = true
		s.firstPoll(req)
	}
	writeJSON(w, http.StatusOK, req.pr)
}

// firstPoll plays the barcode scenario: Centrapay triggers a Quick Pay on
// the first poll.
func (s *Sandbox) firstPoll(req *request) {
	v, _ := req.pr.Value.Amount.Int64()
	switch req.scenario {
	case scQuickPay:
		s.pay(req, "centrapay.nzd.test", v)
	case scFarmlands:
		s.pay(req, "farmlands.nzd.test", v)
	case scPartial:
		if !req.pr.PartialAllowed {
			// the patron's funds cover half, and the request did not opt
			// in to partial payment: the payment is declined
			s.cancel(req, centrapay.CancelPaymentDeclined)
			return
		}
		s.pay(req, "centrapay.nzd.test", max(v/2, 1))
	case scPreAuth:
		s.pay(req, "centrapay.nzd.test", v)
	case scInsufficientFunds:
		s.cancel(req, centrapay.CancelPaymentDeclined)
	case scPhotoID:
		switch {
		case req.pr.PatronNotPresent:
			s.pay(req, "centrapay.nzd.test", v)
		case !req.pr.ConditionsEnabled:
			s.cancel(req, centrapay.CancelPaymentDeclined)
		default:
			req.pr.MerchantConditions = []centrapay.Condition{{ID: "1", Name: "photo-id-check", Status: centrapay.ConditionAwaitingMerchant,
				Message: "Check the patron's photo ID: they must be 18 or over."}}
		}
	}
}

// pay records a payment of amount (the rest stays as remainingAmount).
func (s *Sandbox) pay(req *request, assetType string, amount int64) {
	v, _ := req.pr.Value.Amount.Int64()
	if req.pr.PreAuth {
		s.authorize(req, assetType, v)
		return
	}
	amount = min(amount, v-req.paid)
	req.paid += amount
	req.pr.Status = centrapay.StatusPaid
	req.pr.RemainingAmount = centrapay.Int64BigNumber(v - req.paid)
	req.addAssetTotal(assetType, amount)
	s.addActivity(req, centrapay.ActivityPayment, amount, func(a *centrapay.Activity) { a.AssetType, a.CreatedBy = assetType, patronCRN })
	paid := s.addActivity(req, centrapay.ActivityPaid, req.paid, func(a *centrapay.Activity) { a.PaidBy, a.CreatedBy = req.pr.PaidBy, patronCRN })
	s.notify(centrapay.NotificationPaid, req, paid)
}

// describe names an asset type as a receipt shows it.
func describe(assetType string) string {
	switch {
	case strings.HasPrefix(assetType, "centrapay.nzd"):
		return "Centrapay NZD wallet"
	case strings.HasPrefix(assetType, "farmlands.nzd"):
		return "Farmlands card"
	case strings.HasPrefix(assetType, "external"):
		return "External payment"
	}
	return assetType
}

func (s *Sandbox) cancel(req *request, reason string) {
	req.pr.Status = centrapay.StatusCancelled
	req.pr.CancellationReason = reason
	s.addActivity(req, centrapay.ActivityCancellation, 0, func(a *centrapay.Activity) { a.CancellationReason = reason })
}

func (s *Sandbox) getByShortCode(w http.ResponseWriter, r *http.Request, m *Merchant) {
	code, err := centrapay.NormalizeShortCode(r.PathValue("code"))
	if err != nil || !validShortCode(code) {
		apiError(w, http.StatusBadRequest, string(centrapay.ErrChecksumFailed), "short code check character does not match")
		return
	}
	for i := len(s.order) - 1; i >= 0; i-- {
		if req := s.requests[s.order[i]]; req.pr.ShortCode == code && req.merchant == m {
			s.expire(req)
			writeJSON(w, http.StatusOK, req.pr)
			return
		}
	}
	apiError(w, http.StatusForbidden, "RESOURCE_NOT_FOUND", "no payment request with short code "+code)
}

func (s *Sandbox) listByExternalRef(w http.ResponseWriter, r *http.Request, m *Merchant) {
	ref := r.PathValue("ref")
	q := r.URL.Query()
	start, limit, ok := pageParams(w, q.Get("pageKey"), q.Get("paginationLimit"))
	if !ok {
		return
	}
	if acc := q.Get("merchantAccountId"); acc != "" && acc != m.AccountID {
		apiError(w, http.StatusForbidden, "MERCHANT_NOT_AUTHORIZED", "merchantAccountId is not this key's account")
		return
	}
	var all []centrapay.PaymentRequest
	for i := len(s.order) - 1; i >= 0; i-- {
		if req := s.requests[s.order[i]]; req.pr.ExternalRef == ref && req.merchant == m {
			s.expire(req)
			all = append(all, req.pr)
		}
	}
	writeJSON(w, http.StatusOK, pageOf(all, start, limit))
}

// activities answers GET /api/payment-requests/{id}/activities (the route
// is a pattern so that short-code/{code} stays the more specific one).
func (s *Sandbox) activities(w http.ResponseWriter, r *http.Request, m *Merchant) {
	if r.PathValue("sub") != "activities" {
		apiError(w, http.StatusNotFound, "NOT_FOUND", r.URL.Path+" is not a route")
		return
	}
	req := s.find(w, r.PathValue("id"), m)
	if req == nil {
		return
	}
	var out activityItems
	out.Items = make([]centrapay.Activity, 0, len(req.activities))
	for i := len(req.activities) - 1; i >= 0; i-- {
		if _, pending := req.incomplete[req.activities[i].ID]; !pending {
			out.Items = append(out.Items, req.activities[i])
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// activityItems is the answer of a request's activities: an object with
// the list in items, as Centrapay's reference shows (not paginated).
type activityItems struct {
	Items []centrapay.Activity `json:"items"`
}

// assetType is the asset type that paid req, "" when unpaid.
func (req *request) assetType() string {
	if req.pr.PaidBy == nil || len(req.pr.PaidBy.AssetTotals) == 0 {
		return ""
	}
	return req.pr.PaidBy.AssetTotals[0].Type
}

// addAssetTotal adds amount paid with assetType to paidBy.
func (req *request) addAssetTotal(assetType string, amount int64) {
	if req.pr.PaidBy == nil {
		req.pr.PaidBy = &centrapay.PaidBy{}
	}
	for i, t := range req.pr.PaidBy.AssetTotals {
		if t.Type == assetType {
			n, _ := t.Total.Amount.Int64()
			req.pr.PaidBy.AssetTotals[i].Total = centrapay.Cents(n+amount, req.pr.Value.Currency)
			return
		}
	}
	// settled the next day, as Centrapay settles merchants daily
	y, m, d := req.pr.CreatedAt.Time.Date()
	t := centrapay.AssetTotal{Type: assetType, Description: describe(assetType), Total: centrapay.Cents(amount, req.pr.Value.Currency),
		SettlementDate: centrapay.NewTimestamp(time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC))}
	if !strings.HasPrefix(assetType, "external.") {
		t.PayerAccountID = patronAccountID // an external payment has no Centrapay payer
	}
	req.pr.PaidBy.AssetTotals = append(req.pr.PaidBy.AssetTotals, t)
}
