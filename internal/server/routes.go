package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"
	"time"

	"github.com/centrapos/centrapos/pos"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Routes returns the terminal API's routes, which openapi.yaml documents.
func Routes() []string {
	s := &Server{}
	var out []string
	s.apiTable(func(pattern string, _ handlerFunc) { out = append(out, pattern) })
	return append(out, "GET /api/v1/openapi.yaml")
}

func (s *Server) routes() http.Handler {
	m := http.NewServeMux()
	s.apiTable(func(pattern string, h handlerFunc) { m.Handle(pattern, s.handle(s.authed(h))) })
	s.rest(m)
	protect := http.NewCrossOriginProtection()
	return s.logged(s.withWebhooks(protect.Handler(m)))
}

// apiTable lists the terminal API: each route and its handler.
func (s *Server) apiTable(api func(pattern string, h handlerFunc)) {
	api("POST /api/v1/sales", s.idempotent(s.createSale))
	api("GET /api/v1/sales", s.listSales)
	api("GET /api/v1/sales/{id}", s.getSale)
	api("GET /api/v1/sales/{id}/events", s.saleEvents)
	api("POST /api/v1/sales/{id}/cancel", s.idempotent(s.cancelSale))
	api("POST /api/v1/sales/{id}/conditions/{cid}/{verb}", s.idempotent(s.answerCondition))
	api("POST /api/v1/sales/{id}/confirmations", s.idempotent(s.confirm))
	api("POST /api/v1/sales/{id}/tenders", s.idempotent(s.takeTender))
	api("POST /api/v1/sales/{id}/release", s.idempotent(s.release))
	api("GET /api/v1/sales/{id}/qr.png", s.qrPNG)
	api("GET /api/v1/sales/{id}/qr.svg", s.qrSVG)
	api("GET /api/v1/sales/{id}/receipt", s.receipt)
	api("GET /api/v1/sales/{id}/receipt.escpos", s.receiptESCPOS)
	api("POST /api/v1/refunds", s.idempotent(s.refund))
	api("GET /api/v1/refunds/{id}", s.getRefund)
	api("GET /api/v1/reports/transactions", s.report)
	api("GET /api/v1/reports/z", s.zReport)
}

// rest adds the routes outside the terminal API.
func (s *Server) rest(m *http.ServeMux) {
	m.HandleFunc("GET /api/v1/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(openapi)
	})
	m.HandleFunc("GET /healthz", s.healthz)
	s.uiRoutes(m)
	// what no route takes: 405 with Allow for a path that has routes for
	// other methods, else 404; problem+json either way
	noRoute := s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if allow := allowedMethods(m, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &pos.Error{Code: eMethodNotAllowed, Message: r.Method + " is not allowed on " + r.URL.Path + ": use " + orList(allow)}
		}
		return notFoundRoute(r)
	})
	for _, p := range catchAll {
		m.Handle(p, noRoute)
	}
}

// catchAll are the patterns of the routes that take what no other route
// does.
var catchAll = []string{"/api/", "/"}

// routeMethods are the methods a route is served for, in the order Allow
// lists them.
var routeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowedMethods returns the methods that a route of m other than the
// catch-alls serves r's path for.
func allowedMethods(m *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, method := range routeMethods {
		probe := r.WithContext(r.Context()) // a copy, its method changed
		probe.Method = method
		if _, pattern := m.Handler(probe); pattern != "" && !slices.Contains(catchAll, pattern) {
			allow = append(allow, method)
		}
	}
	return allow
}

// orList is "A", "A or B", "A, B or C".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// Admin returns the handler of the admin listener: Prometheus /metrics and
// Go's /debug/pprof. They are not on the public listener: pprof shows the
// program's insides and a scrape costs the server work, so they are served
// where only the people who run it reach (loopback by default).
func (s *Server) Admin() http.Handler {
	m := http.NewServeMux()
	m.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	m.HandleFunc("GET /debug/pprof/", pprof.Index)
	m.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	m.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	m.HandleFunc("GET /healthz", s.healthz)
	return m
}

// health is /healthz's answer.
type health struct {
	Status string    `json:"status"` // ok; degraded: no payment can be taken; stopping: draining before a stop
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since,omitzero"`
	// Warnings say what works, but worse than it should: the rate budget
	// short of what the live sales need.
	Warnings []string `json:"warnings,omitempty"`
	Load     pos.Load `json:"load"`
}

// healthz answers 200 {"status":"ok"}, or 503 {"status":"degraded"} with
// the reason while Centrapay refuses the API key: a load balancer or
// monitor sees a server that cannot take payments. A rate budget short of
// what the live sales need is a warning, with a 200: the server still
// takes payments, only slower to see them paid, and taking it out of a
// load balancer would not help. A server draining before its stop
// (Drain) answers 503 {"status":"stopping"}.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	h, l := s.eng.Health(), s.eng.Load()
	a := health{Status: "ok", Load: l}
	if l.Short {
		a.Warnings = append(a.Warnings, l.Message)
	}
	status := http.StatusOK
	switch {
	case s.stopping.Load():
		a.Status, a.Reason = "stopping", "the server is stopping: send requests to another"
		status = http.StatusServiceUnavailable
	case h.KeyRefused:
		a.Status, a.Reason, a.Since = "degraded", h.Reason, h.Since
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, a)
}

// alerts are what a page shows at its top: the API key refused, to
// everyone (no payment can be taken), and the rate budget short, to a
// manager (who can ask Centrapay for more).
func (s *Server) alerts(t *pos.Terminal) []string {
	var out []string
	if h := s.eng.Health(); h.KeyRefused {
		out = append(out, h.Reason)
	}
	if l := s.eng.Load(); l.Short && t != nil && t.Manager {
		out = append(out, l.Message)
	}
	return out
}

func notFoundRoute(r *http.Request) error {
	return &pos.Error{Code: pos.ENotFound, Message: "no route " + r.Method + " " + r.URL.Path}
}

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyTerminal
	keyKeyed
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

// statusWriter remembers the status written, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logged gives each request an id (X-Request-Id) and logs it with its
// status and duration; never its headers, which carry tokens.
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), keyRequestID, id)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		path := r.URL.Path
		if strings.HasPrefix(path, "/static/") {
			return
		}
		s.log.Info("http", "id", id, "method", r.Method, "path", path, "status", sw.status, "dur", time.Since(start).Round(time.Microsecond))
	})
}
