package pos

import (
	"context"
	"errors"
	"iter"
	"sync"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// Health is what the engine knows of its link with Centrapay, for
// /healthz, metrics and the people who run the server.
type Health struct {
	// KeyRefused is true while Centrapay refuses the API key (401): no
	// sale can be taken, voided or refunded until the key is fixed.
	KeyRefused bool      `json:"keyRefused"`
	Since      time.Time `json:"since,omitzero"` // when the refusal began
	Reason     string    `json:"reason,omitempty"`
}

// keyRefusedLogEvery is how often a lasting refusal of the key is logged.
const keyRefusedLogEvery = time.Minute

// watch is the engine's Centrapay, watched: a 401 marks the key refused
// (logged once a minute while it lasts); any answer Centrapay gives with
// the key clears it.
type watch struct {
	cp Centrapay
	e  *Engine

	mu      sync.Mutex
	since   time.Time // zero: the key works
	logged  time.Time
	refused int // refusals since the last log line
}

func (w *watch) saw(err error) {
	now := w.e.clk.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case errors.Is(err, centrapay.ErrUnauthorized):
		if w.since.IsZero() {
			w.since = now
		}
		w.refused++
		if now.Sub(w.logged) >= keyRefusedLogEvery {
			w.e.log.Error("Centrapay refuses the API key (401): no sale can be taken, voided or refunded until it is replaced; see docs/operations.md",
				"since", w.since, "refusals", w.refused)
			w.logged, w.refused = now, 0
		}
	case err == nil || errors.As(err, new(*centrapay.Error)): // Centrapay answered, with the key
		if !w.since.IsZero() {
			w.e.log.Info("Centrapay accepts the API key again", "refused for", now.Sub(w.since))
		}
		w.since, w.logged, w.refused = time.Time{}, time.Time{}, 0
	}
}

func (w *watch) health() Health {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.since.IsZero() {
		return Health{}
	}
	return Health{KeyRefused: true, Since: w.since, Reason: messages[centrapay.ErrUnauthorized]}
}

func (w *watch) Create(ctx context.Context, r *centrapay.CreateRequest) (*centrapay.PaymentRequest, *centrapay.Response, error) {
	pr, resp, err := w.cp.Create(ctx, r)
	w.saw(err)
	return pr, resp, err
}

func (w *watch) Get(ctx context.Context, id string) (*centrapay.PaymentRequest, *centrapay.Response, error) {
	pr, resp, err := w.cp.Get(ctx, id)
	w.saw(err)
	return pr, resp, err
}

func (w *watch) GetByShortCode(ctx context.Context, code string) (*centrapay.PaymentRequest, *centrapay.Response, error) {
	pr, resp, err := w.cp.GetByShortCode(ctx, code)
	w.saw(err)
	return pr, resp, err
}

func (w *watch) AllByExternalRef(ctx context.Context, ref string, opt *centrapay.ListOptions) iter.Seq2[*centrapay.PaymentRequest, error] {
	return func(yield func(*centrapay.PaymentRequest, error) bool) {
		saw := false
		for pr, err := range w.cp.AllByExternalRef(ctx, ref, opt) {
			w.saw(err)
			saw = true
			if !yield(pr, err) {
				return
			}
		}
		if !saw {
			w.saw(nil) // an empty list is an answer too
		}
	}
}

func (w *watch) Void(ctx context.Context, id string) (*centrapay.Activity, *centrapay.Response, error) {
	a, resp, err := w.cp.Void(ctx, id)
	w.saw(err)
	return a, resp, err
}

func (w *watch) Refund(ctx context.Context, id string, r *centrapay.RefundRequest) (*centrapay.Activity, *centrapay.Response, error) {
	a, resp, err := w.cp.Refund(ctx, id, r)
	w.saw(err)
	return a, resp, err
}

func (w *watch) AcceptCondition(ctx context.Context, id, conditionID string) (*centrapay.Activity, *centrapay.Response, error) {
	a, resp, err := w.cp.AcceptCondition(ctx, id, conditionID)
	w.saw(err)
	return a, resp, err
}

func (w *watch) DeclineCondition(ctx context.Context, id, conditionID string) (*centrapay.Activity, *centrapay.Response, error) {
	a, resp, err := w.cp.DeclineCondition(ctx, id, conditionID)
	w.saw(err)
	return a, resp, err
}

func (w *watch) Confirm(ctx context.Context, id string, r *centrapay.ConfirmRequest) (*centrapay.Activity, *centrapay.Response, error) {
	a, resp, err := w.cp.Confirm(ctx, id, r)
	w.saw(err)
	return a, resp, err
}

func (w *watch) Release(ctx context.Context, id string) (*centrapay.Activity, *centrapay.Response, error) {
	a, resp, err := w.cp.Release(ctx, id)
	w.saw(err)
	return a, resp, err
}

// Health says whether Centrapay accepts the API key.
func (e *Engine) Health() Health { return e.watch.health() }

// CheckCentrapay makes a harmless call (a lookup by a reference no sale
// has) to learn whether Centrapay answers and accepts the API key, as
// `centrapos serve` does before it starts. A refused key is an Error with
// code ERefused; no answer, one with code EUnavailable.
func (e *Engine) CheckCentrapay(ctx context.Context) error {
	for _, err := range e.listByRef(ctx, "centrapos-key-check") {
		switch {
		case err == nil:
		case errors.Is(err, centrapay.ErrUnauthorized):
			return &Error{Code: ERefused, Centrapay: string(centrapay.ErrUnauthorized),
				Message: "Centrapay refused the API key (401): check that it is a live merchant-terminal key for this Centrapay environment"}
		case centrapay.IsUnknownOutcome(err):
			return &Error{Code: EUnavailable, Message: "Centrapay did not answer: " + err.Error()}
		default:
			code, msg := refusal(err)
			return &Error{Code: ERefused, Centrapay: code, Message: "Centrapay refused the check: " + msg}
		}
		break
	}
	return nil
}
