package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/centrapos/centrapos/pos"
)

// idempotent honours Idempotency-Key on a POST: the first answer (other
// than a 5xx) is kept and replayed to every retry with the same key and
// body; the same key with another body is refused. Requests with one key
// run one at a time.
func (s *Server) idempotent(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return h(w, r)
		}
		if len(key) > 255 {
			return &pos.Error{Code: pos.EInvalid, Field: "Idempotency-Key", Message: "at most 255 characters"}
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return &pos.Error{Code: pos.EInvalid, Message: "body: could not be read"}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
		hash := hex.EncodeToString(sum[:])
		t := terminal(r.Context())
		unlock := s.keyLocks.Lock(t.ID + "\x00" + key)
		defer unlock()
		store := s.cfg.Idempotency
		prevHash, status, prevBody, err := store.Idempotent(r.Context(), t.ID, key)
		switch {
		case err == nil && prevHash == hash:
			w.Header().Set("Content-Type", "application/json")
			if status >= 400 {
				w.Header().Set("Content-Type", "application/problem+json")
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(status)
			w.Write(prevBody)
			return nil
		case err == nil:
			return &pos.Error{Code: pos.EConflict, Field: "Idempotency-Key", Message: "already used for another request"}
		case !errors.Is(err, pos.ErrNotFound):
			return err
		}
		rec := httptest.NewRecorder()
		if err := h(rec, r); err != nil {
			s.writeError(rec, r, err)
		}
		if rec.Code < 500 {
			if err := store.SaveIdempotent(r.Context(), t.ID, key, hash, rec.Code, rec.Body.Bytes(), s.clk.Now()); err != nil {
				return err
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
