package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/centrapos/centrapos/pos"
)

// idempotent honours Idempotency-Key on a POST, as Stripe does. The key,
// the terminal and a hash of method, path and body are recorded by the
// engine in the same transaction as the sale or refund intent the request
// starts, before any call to Centrapay; the answer is added once given.
// A retry with the same key and body:
//   - while the first is still being carried out: 409 in_progress, with
//     Retry-After;
//   - after it: the first answer, or, when the server died before keeping
//     it, an answer rebuilt from the sale or refund the first started;
//   - with another body or path: 409, the key is refused.
func (s *Server) idempotent(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return h(w, r)
		}
		if len(key) > 255 {
			return &pos.Error{Code: pos.EInvalid, Field: "Idempotency-Key", Message: "at most 255 characters"}
		}
		for _, c := range key {
			if c < 0x21 || c > 0x7e {
				return &pos.Error{Code: pos.EInvalid, Field: "Idempotency-Key", Message: "printable ASCII without spaces, such as a UUID"}
			}
		}
		body, err := readBody(w, r)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
		hash := hex.EncodeToString(sum[:])
		t := terminal(r.Context())
		unlock, ok := s.keyLocks.TryLock(t.ID + "\x00" + key)
		if !ok {
			return errInProgress
		}
		defer unlock()
		prev, err := s.eng.Journal().Keyed(r.Context(), t.ID, key)
		switch {
		case err == nil && prev.RequestHash != hash:
			return &pos.Error{Code: pos.EConflict, Field: "Idempotency-Key", Message: "already used for another request: make a new key for each new request"}
		case err == nil && prev.Answered():
			w.Header().Set("Content-Type", "application/json")
			if prev.Status >= 400 {
				w.Header().Set("Content-Type", "application/problem+json")
			}
			w.Header().Set("Idempotent-Replayed", "true")
			retryAfter(w.Header(), prev.Status)
			w.WriteHeader(prev.Status)
			w.Write(prev.Body)
			return nil
		case err == nil && prev.Started():
			// the first attempt recorded its intent, and its answer was
			// lost with the server that gave it: answer from what it started
			w.Header().Set("Idempotent-Replayed", "true")
			return s.rebuild(w, r, prev)
		case err == nil:
			return errInProgress
		case !errors.Is(err, pos.ErrNotFound):
			return err
		}
		k := &pos.KeyedRequest{TerminalID: t.ID, Key: key, RequestHash: hash}
		rec := httptest.NewRecorder()
		r = r.WithContext(context.WithValue(r.Context(), keyKeyed, k))
		if err := h(rec, r); err != nil {
			s.writeError(rec, r, err)
		}
		var pe *pos.Error
		if rec.Code < 500 && !(errors.As(err, &pe) && pe.Code == pos.EInProgress) {
			k.Status, k.Body = rec.Code, rec.Body.Bytes()
			if k.CreatedAt.IsZero() {
				k.CreatedAt = s.clk.Now()
			}
			if err := s.eng.Journal().SaveAnswer(r.Context(), k); err != nil {
				// the intent is recorded with the key: a retry is answered
				// from it, so the answer stands even if it was not kept
				s.log.Warn("keep idempotent answer", "terminal", t.ID, "err", err)
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return nil
	}
}

// errInProgress answers a retry that arrives while its first attempt runs.
var errInProgress = &pos.Error{Code: pos.EInProgress, Field: "Idempotency-Key", Message: "a request with this key is still being carried out: retry it in a moment"}

// tillKey returns the till's key of a request the idempotent middleware
// passed on, for the engine to record with the intent; nil if none.
func tillKey(ctx context.Context) *pos.KeyedRequest {
	k, _ := ctx.Value(keyKeyed).(*pos.KeyedRequest)
	return k
}

// rebuild answers a keyed request whose first answer was lost, from the
// sale or operation the first attempt started, as it stands now.
func (s *Server) rebuild(w http.ResponseWriter, r *http.Request, k *pos.KeyedRequest) error {
	if k.SaleID != "" {
		sale, err := s.eng.Sale(r.Context(), k.SaleID)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/sales/"+sale.ID)
		writeJSON(w, http.StatusCreated, s.view(r.Context(), sale))
		return nil
	}
	op, err := s.eng.Op(r.Context(), k.OpID)
	if err != nil {
		return err
	}
	return writeOp(w, op)
}

// writeOp answers with a refund or confirmation: 201 when Centrapay took
// it, 202 while its outcome is not known (the engine keeps sending it),
// and Centrapay's refusal as a problem.
func writeOp(w http.ResponseWriter, op *pos.Op) error {
	switch op.State {
	case pos.OpFailed:
		return &pos.Error{Code: pos.ERefused, Message: op.Message, Centrapay: op.Error}
	case pos.OpPending:
		if op.Kind == pos.OpRefund {
			w.Header().Set("Location", "/api/v1/refunds/"+op.ID)
		}
		writeJSON(w, http.StatusAccepted, viewOp(op))
	default:
		if op.Kind == pos.OpRefund {
			w.Header().Set("Location", "/api/v1/refunds/"+op.ID)
		}
		writeJSON(w, http.StatusCreated, viewOp(op))
	}
	return nil
}
