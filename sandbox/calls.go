package sandbox

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Call is one API call the sandbox answered, as GET /sandbox/calls lists
// it: what a test (or an integrator) checks its POS against — which
// server polled which request when, and what it was told.
type Call struct {
	Seq       int64     `json:"seq"`       // 1, 2, 3 … in the order the calls came
	At        time.Time `json:"at"`        // when it came, by the wall clock
	Method    string    `json:"method"`    // GET, POST
	Path      string    `json:"path"`      // /api/payment-requests/{id} …
	Status    int       `json:"status"`    // of the answer; 0 while none was given (or none ever: a hang-up)
	UserAgent string    `json:"userAgent"` // the caller's: centrapos names its server in it
}

// callLog keeps the last calls (Config.RecordCalls of them).
type callLog struct {
	mu    sync.Mutex
	max   int
	seq   int64
	calls []Call
}

// add keeps c as it arrives, numbered in the order calls arrive, and
// returns its number; its status is set when it is answered (answered).
func (l *callLog) add(c Call) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	c.Seq = l.seq
	if len(l.calls) == l.max {
		copy(l.calls, l.calls[1:])
		l.calls = l.calls[:l.max-1]
	}
	l.calls = append(l.calls, c)
	return c.Seq
}

// answered sets the status of call seq, before the answer leaves: a
// caller that has its answer finds it recorded. A call hung up on keeps 0.
func (l *callLog) answered(seq int64, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.calls) - 1; i >= 0; i-- {
		if l.calls[i].Seq == seq {
			l.calls[i].Status = status
			return
		}
	}
}

// after returns the calls kept whose Seq is above seq, at most limit.
func (l *callLog) after(seq int64, limit int) []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []Call{}
	for _, c := range l.calls {
		if c.Seq > seq && len(out) < limit {
			out = append(out, c)
		}
	}
	return out
}

// Calls returns the API calls recorded (Config.RecordCalls), oldest first.
func (s *Sandbox) Calls() []Call {
	if s.calls == nil {
		return []Call{}
	}
	return s.calls.after(0, s.calls.max)
}

// statusWriter records the status of the answer it writes in the call
// log, before the answer is sent.
type statusWriter struct {
	http.ResponseWriter
	log    *callLog
	seq    int64
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.log.answered(w.seq, code)
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (a fault
// hangs up on it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// listCalls answers GET /sandbox/calls?after=SEQ&limit=N: the calls
// recorded after SEQ (default 0), at most N (default and most 10,000);
// 409 when the sandbox records none.
func (s *Sandbox) listCalls(w http.ResponseWriter, r *http.Request) {
	if s.calls == nil {
		apiError(w, http.StatusConflict, "SANDBOX_ACTION_FAILED", "the sandbox records no calls: start it with --record-calls N")
		return
	}
	q := r.URL.Query()
	after, limit := int64(0), 10000
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "after: a call's seq, 0 or more")
			return
		}
		after = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "limit: 1 to 10000")
			return
		}
		limit = n
	}
	writeJSON(w, http.StatusOK, struct {
		Calls []Call `json:"calls"`
	}{s.calls.after(after, limit)})
}
