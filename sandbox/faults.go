package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"time"

	"github.com/centrapos/centrapos/clock"
)

// Fault kinds.
const (
	FaultLatency         = "latency"           // wait DelayMs on the sandbox clock, then answer normally
	FaultStatus          = "status"            // answer Status with a Centrapay-shaped error body, without processing
	FaultHTML            = "html"              // answer Status (default 502) with an HTML error page, without processing
	FaultTruncated       = "truncated"         // process, then send only half of the JSON body
	FaultEmpty           = "empty"             // answer 200 with no body, without processing
	FaultReset           = "reset"             // close the connection before processing
	FaultDropAfterCommit = "drop-after-commit" // process (the change is committed), then close with no response
)

// Fault makes matching API calls misbehave, to prove a client handles
// unknown outcomes. Path is a path.Match pattern ("/api/payment-requests/*/void").
type Fault struct {
	Method      string  `json:"method,omitempty"` // "" matches every method
	Path        string  `json:"path"`
	Kind        string  `json:"kind"`
	Count       int     `json:"count,omitempty"`       // how many calls to affect; 0 until cleared
	Probability float64 `json:"probability,omitempty"` // chance per matching call; 0 means always
	DelayMs     int     `json:"delayMs,omitempty"`
	Status      int     `json:"status,omitempty"`
	Code        string  `json:"code,omitempty"` // status: the error code in the body's message, e.g. REFUND_DECLINED
	used        int
}

// AddFault installs f after checking it.
func (s *Sandbox) AddFault(f Fault) error {
	switch f.Kind {
	case FaultLatency, FaultStatus, FaultHTML, FaultTruncated, FaultEmpty, FaultReset, FaultDropAfterCommit:
	default:
		return fmt.Errorf("add fault: kind %q: must be one of latency, status, html, truncated, empty, reset, drop-after-commit", f.Kind)
	}
	if _, err := path.Match(f.Path, "/"); err != nil || f.Path == "" {
		return fmt.Errorf("add fault: path %q: not a valid pattern", f.Path)
	}
	if f.Count < 0 || f.Probability < 0 || f.Probability > 1 || f.DelayMs < 0 {
		return fmt.Errorf("add fault: count, probability (0..1) and delayMs must not be negative")
	}
	if f.Kind == FaultStatus && (f.Status < 400 || f.Status > 599) {
		return fmt.Errorf("add fault: status %d: must be 400..599", f.Status)
	}
	if f.Kind == FaultLatency && f.DelayMs == 0 {
		return fmt.Errorf("add fault: latency needs delayMs")
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, &f)
	return nil
}

// ClearFaults removes every fault.
func (s *Sandbox) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
}

// fault returns the fault for r, counting its use.
func (s *Sandbox) fault(r *http.Request) *Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for _, f := range s.faults {
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if ok, _ := path.Match(f.Path, r.URL.Path); !ok {
			continue
		}
		if f.Count > 0 && f.used >= f.Count {
			continue
		}
		if f.Probability > 0 && s.rnd.Float64() >= f.Probability {
			continue
		}
		f.used++
		c := *f
		return &c
	}
	return nil
}

// serveWithFault answers r as fault f says.
func (s *Sandbox) serveWithFault(w http.ResponseWriter, r *http.Request, f *Fault) {
	switch f.Kind {
	case FaultLatency:
		if !clock.Sleep(s.wall, time.Duration(f.DelayMs)*time.Millisecond, r.Context().Done()) {
			return
		}
		s.mux.ServeHTTP(w, r)
	case FaultStatus:
		code := f.Code
		if code == "" {
			code = "INJECTED_FAULT"
		}
		apiError(w, f.Status, code, "fault injected by the sandbox")
	case FaultHTML:
		st := f.Status
		if st == 0 {
			st = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(st)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%s</h1></body></html>", st, http.StatusText(st), http.StatusText(st))
	case FaultEmpty:
		w.WriteHeader(http.StatusOK)
	case FaultReset:
		hangUp(w)
	case FaultTruncated:
		rec := httptest.NewRecorder()
		s.mux.ServeHTTP(rec, r)
		b := rec.Body.Bytes()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		w.Write(b[:len(b)/2])
	case FaultDropAfterCommit:
		s.mux.ServeHTTP(httptest.NewRecorder(), r)
		hangUp(w)
	}
}

// hangUp closes the connection with no response.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

func (s *Sandbox) faultsHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodDelete {
		s.ClearFaults()
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	var f Fault
	if !decode(w, r, &f) {
		return
	}
	if err := s.AddFault(f); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, f)
}
