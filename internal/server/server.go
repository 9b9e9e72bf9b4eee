// Package server is the POS server: the terminal REST API under /api/v1,
// live sale events, QR codes, receipts, reports, the embedded web UI
// (cashier, customer display) and operations endpoints. It drives the
// payment protocol through pos.Engine; it holds no protocol logic itself.
package server

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/internal/keyed"
	"github.com/centrapos/centrapos/pos"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Server. Engine and Terminals are required.
type Config struct {
	Engine *pos.Engine
	// Terminals authenticates tills; it also keeps the web UI's sign-ins
	// (it must be a pos.Sessions too: the journals are), so that they
	// outlive a restart and work at every server of a shared journal.
	Terminals    pos.Terminals
	MerchantName string // on receipts and the customer display
	Clock        clock.Clock
	Logger       *slog.Logger
	Registry     *prometheus.Registry // nil: a new one
	Secure       bool                 // served over TLS: cookies are Secure
	Location     *time.Location       // the store's time zone, for receipts; nil: the server's
	// CredentialCheck is how often an open event stream checks that its
	// terminal's token or session still works; default 1 s.
	CredentialCheck time.Duration
	// Webhooks receives Centrapay's webhook calls; nil: not received.
	Webhooks *Webhooks
	// Outbox holds the events pushed to the merchant's systems, for the
	// manager's page /manager/webhooks; nil: no page.
	Outbox pos.Outbox
	// MerchantAddress is printed under the name on receipts, a line of
	// paper a line of text.
	MerchantAddress string
	// GSTNumber is printed on receipts as "GST No.": 8 or 9 digits
	// (ParseGSTNumber), "" for none.
	GSTNumber string
}

// Server serves the terminal API and the web UI.
type Server struct {
	cfg     Config
	eng     *pos.Engine
	clk     clock.Clock
	log     *slog.Logger
	handler http.Handler
	metrics *metrics
	tmpl    *template.Template

	sessions pos.Sessions // UI sign-ins: the journal's, when Terminals keeps them
	keyLocks keyed.Mutex  // one per terminal and Idempotency-Key
	touched  sync.Map     // terminal id → time.Time its last use was written

	notifications *prometheus.CounterVec // Centrapay webhook calls, by result

	stopping atomic.Bool // set by Drain: /healthz answers 503 stopping
}

// Drain makes /healthz answer 503 {"status":"stopping"} while the server
// still serves: a load balancer stops sending it requests before it
// closes its listener (serve --drain).
func (s *Server) Drain() { s.stopping.Store(true) }

// New returns a server configured by cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil || cfg.Terminals == nil {
		return nil, errors.New("server: Engine and Terminals are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.CredentialCheck <= 0 {
		cfg.CredentialCheck = time.Second
	}
	if cfg.MerchantName == "" {
		cfg.MerchantName = "Merchant"
	}
	gst, err := ParseGSTNumber(cfg.GSTNumber)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	cfg.GSTNumber = gst
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	sessions, ok := cfg.Terminals.(pos.Sessions)
	if !ok {
		return nil, errors.New("server: Terminals must keep sign-in sessions (pos.Sessions), as the journals do")
	}
	s := &Server{cfg: cfg, eng: cfg.Engine, clk: cfg.Clock, log: cfg.Logger, sessions: sessions}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	if err := s.initWebhooks(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Registry is where the server's metrics are registered; the client's
// transport and the engine add theirs there too.
func (s *Server) Registry() *prometheus.Registry { return s.cfg.Registry }
