package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
)

// errNotFound is returned by the patron actions for an unknown request.
var errNotFound = errors.New("no such payment request")

// errPartialNotAllowed is returned by PatronPay for a partial amount on a
// request that did not opt in to partial payment.
var errPartialNotAllowed = errors.New("the request did not opt in to partial payment (partialAllowed)")

// PatronPay pays request id as the patron would, with assetType ("" for
// the config's first) and amount (0 for what remains). An amount below what
// remains is a partial payment, refused unless the request was created
// with partialAllowed, as Centrapay's wallet offers partial payment only
// then.
func (s *Sandbox) PatronPay(id, assetType string, amount int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actor = patronCRN
	defer func() { s.actor = "" }()
	req, ok := s.requests[id]
	if !ok {
		return fmt.Errorf("pay %s: %w", id, errNotFound)
	}
	s.expire(req)
	if req.pr.Status != centrapay.StatusNew {
		return fmt.Errorf("pay %s: request is %s", id, req.pr.Status)
	}
	v, _ := req.pr.Value.Amount.Int64()
	if amount < 0 || amount > v-req.paid {
		return fmt.Errorf("pay %s: amount %d: must be between 1 and %d", id, amount, v-req.paid)
	}
	if amount == 0 {
		amount = v - req.paid
	}
	if amount < v-req.paid && !req.pr.PartialAllowed {
		return fmt.Errorf("pay %s: amount %d of %d: %w", id, amount, v-req.paid, errPartialNotAllowed)
	}
	if assetType == "" {
		assetType = req.pr.PaymentOptions[0].AssetType
	}
	s.pay(req, assetType, amount)
	return nil
}

// Approve approves request id as the patron would: it is paid in full.
func (s *Sandbox) Approve(id string) error { return s.PatronPay(id, "", 0) }

// Decline declines request id as the patron would.
func (s *Sandbox) Decline(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actor = patronCRN
	defer func() { s.actor = "" }()
	req, ok := s.requests[id]
	if !ok {
		return fmt.Errorf("decline %s: %w", id, errNotFound)
	}
	s.expire(req)
	if req.pr.Status != centrapay.StatusNew {
		return fmt.Errorf("decline %s: request is %s", id, req.pr.Status)
	}
	s.cancel(req, centrapay.CancelDeclinedByPatron)
	return nil
}

func (s *Sandbox) control(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "pay":
		var in struct {
			AssetType string              `json:"assetType"`
			Amount    centrapay.BigNumber `json:"amount"`
		}
		if r.ContentLength != 0 && !decode(w, r, &in) {
			return
		}
		var amount int64
		if !in.Amount.IsZero() {
			if amount, err = cents(in.Amount, "amount"); err != nil {
				apiError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
				return
			}
		}
		err = s.PatronPay(id, in.AssetType, amount)
	case "approve":
		err = s.Approve(id)
	case "decline":
		err = s.Decline(id)
	default:
		apiError(w, http.StatusNotFound, "NOT_FOUND", "no such control action")
		return
	}
	switch {
	case errors.Is(err, errNotFound):
		apiError(w, http.StatusNotFound, "SANDBOX_ACTION_FAILED", err.Error())
		return
	case errors.Is(err, errPartialNotAllowed):
		// what Centrapay's pay endpoint answers (see payAPI)
		apiError(w, http.StatusForbidden, string(centrapay.ErrInsufficientAssetValue), err.Error())
		return
	case err != nil:
		apiError(w, http.StatusConflict, "SANDBOX_ACTION_FAILED", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// errRealClock is returned by Advance on a sandbox that runs on the real
// clock.
var errRealClock = errors.New("the sandbox runs on the real clock: start it with a manual clock (centrapos sandbox --clock manual, or Config.Clock a *clock.Fake)")

// Advance moves a manual clock (a *clock.Fake) forward; it fails on a real
// clock.
func (s *Sandbox) Advance(d time.Duration) error {
	f, ok := s.clk.(*clock.Fake)
	if !ok {
		return fmt.Errorf("advance clock: %w", errRealClock)
	}
	f.Advance(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, req := range s.requests {
		s.completeRefunds(req)
	}
	return nil
}

// ClockState is what GET /sandbox/clock answers: the sandbox's business
// time and whether it only moves when advanced.
type ClockState struct {
	Now    centrapay.Timestamp `json:"now"`
	Manual bool                `json:"manual"`
}

// Clock returns the sandbox's time and whether its clock is manual.
func (s *Sandbox) Clock() ClockState {
	_, manual := s.clk.(*clock.Fake)
	return ClockState{Now: centrapay.NewTimestamp(s.clk.Now()), Manual: manual}
}

func (s *Sandbox) advance(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Seconds int64 `json:"seconds"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Seconds <= 0 {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "seconds: must be positive")
		return
	}
	if err := s.Advance(time.Duration(in.Seconds) * time.Second); err != nil {
		apiError(w, http.StatusConflict, "SANDBOX_ACTION_FAILED", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.Clock())
}

// LedgerEntry is one request with its money: the truth tests check against.
type LedgerEntry struct {
	ID                 string           `json:"id"`
	ShortCode          string           `json:"shortCode"`
	ExternalRef        string           `json:"externalRef,omitempty"`
	Status             centrapay.Status `json:"status"`
	CancellationReason string           `json:"cancellationReason,omitempty"`
	Value              int64            `json:"value"`
	Paid               int64            `json:"paid"`
	Refunded           int64            `json:"refunded"`
	Remaining          int64            `json:"remaining"`
	CreatedAt          time.Time        `json:"createdAt"`
	Activities         []string         `json:"activities"`
}

// Ledger is every request, oldest first.
type Ledger struct {
	Requests []LedgerEntry `json:"requests"`
}

// Ledger returns every request with paid, refunded and remaining amounts.
func (s *Sandbox) Ledger() Ledger {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := Ledger{Requests: []LedgerEntry{}}
	for _, id := range s.order {
		req := s.requests[id]
		s.expire(req)
		v, _ := req.pr.Value.Amount.Int64()
		e := LedgerEntry{ID: id, ShortCode: req.pr.ShortCode, ExternalRef: req.pr.ExternalRef, Status: req.pr.Status,
			CancellationReason: req.pr.CancellationReason, Value: v, Paid: req.paid, Refunded: req.refunded,
			Remaining: v - req.paid, CreatedAt: req.pr.CreatedAt.Time}
		for _, a := range req.activities {
			e.Activities = append(e.Activities, a.Type)
		}
		l.Requests = append(l.Requests, e)
	}
	return l
}

// SetExpiry moves request id's expiry to its creation time plus d, as a
// Centrapay whose clock disagrees with the POS's would; tests use it to
// reach a POS timeout while the request is still new.
func (s *Sandbox) SetExpiry(id string, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if !ok {
		return fmt.Errorf("set expiry %s: %w", id, errNotFound)
	}
	req.pr.ExpiresAt = centrapay.NewTimestamp(req.pr.CreatedAt.Add(d))
	return nil
}
