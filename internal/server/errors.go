package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/centrapos/centrapos/pos"
)

// problem is an RFC 9457 problem body.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Field     string `json:"field,omitempty"`
	Code      string `json:"code"`
	Centrapay string `json:"centrapayCode,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// statuses maps pos error codes to HTTP statuses: the one table.
var statuses = map[string]int{
	pos.EInvalid:      http.StatusBadRequest,
	pos.ENotFound:     http.StatusNotFound,
	pos.EConflict:     http.StatusConflict,
	pos.ERefused:      http.StatusUnprocessableEntity,
	pos.EUnavailable:  http.StatusServiceUnavailable,
	pos.EInProgress:   http.StatusConflict,
	pos.EInternal:     http.StatusInternalServerError,
	eUnauthorized:     http.StatusUnauthorized,
	eForbidden:        http.StatusForbidden,
	eTooLarge:         http.StatusRequestEntityTooLarge,
	eMethodNotAllowed: http.StatusMethodNotAllowed,
}

const (
	eMethodNotAllowed = "method_not_allowed"
	eUnauthorized     = "unauthorized"
	eForbidden        = pos.EForbidden
)

// writeError answers err as problem+json. Only a *pos.Error's message
// reaches the client; anything else is logged and answered "internal
// error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pos.Error
	if !errors.As(err, &pe) {
		s.log.Error("request failed", "id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
		pe = &pos.Error{Code: pos.EInternal, Message: "internal error; the request id is in the server log"}
	}
	status, ok := statuses[pe.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := problem{Type: "https://centrapos.dev/problems/" + pe.Code, Title: http.StatusText(status), Status: status,
		Detail: pe.Message, Field: pe.Field, Code: pe.Code, Centrapay: pe.Centrapay, RequestID: requestID(r.Context())}
	if pe.Field != "" {
		p.Detail = pe.Field + ": " + pe.Message
	}
	w.Header().Set("Content-Type", "application/problem+json")
	retryAfter(w.Header(), status)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

// retryAfter gives every 409, 429 and 503 the server answers a
// Retry-After, unless one was set already: 1 s, a state that may have
// changed by then.
func retryAfter(h http.Header, status int) {
	if (status == http.StatusConflict || status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "1")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	retryAfter(w.Header(), status)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// handlerFunc is a handler that returns its error.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}
