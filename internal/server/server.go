// Package server is the POS server: the terminal REST API under /api/v1,
// live sale events, QR codes, receipts, reports, the embedded web UI
// (cashier, customer display) and operations endpoints. It drives the
// payment protocol through pos.Engine; it holds no protocol logic itself.
package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/internal/keyed"
	"github.com/centrapos/centrapos/pos"
	"github.com/prometheus/client_golang/prometheus"
)

// Terminals stores tills and their hashed tokens.
type Terminals interface {
	AddTerminal(ctx context.Context, t pos.Terminal, tokenHash []byte) error
	TerminalByToken(ctx context.Context, hash []byte) (*pos.Terminal, error)
	Terminal(ctx context.Context, id string) (*pos.Terminal, error)
	Terminals(ctx context.Context) ([]pos.Terminal, error)
	RevokeTerminal(ctx context.Context, id string, at time.Time) error
}

// Idempotency keeps the answers to POSTs sent with an Idempotency-Key.
type Idempotency interface {
	Idempotent(ctx context.Context, terminalID, key string) (requestHash string, status int, body []byte, err error)
	SaveIdempotent(ctx context.Context, terminalID, key, requestHash string, status int, body []byte, at time.Time) error
}

// Config configures a Server. Engine, Terminals and Idempotency are
// required.
type Config struct {
	Engine       *pos.Engine
	Terminals    Terminals
	Idempotency  Idempotency
	MerchantName string // on receipts and the customer display
	Clock        clock.Clock
	Logger       *slog.Logger
	Registry     *prometheus.Registry // nil: a new one
	Secure       bool                 // served over TLS: cookies are Secure
	Location     *time.Location       // the store's time zone, for receipts; nil: the server's
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

	mu       sync.Mutex
	sessions map[string]session // UI sessions by cookie value
	keyLocks keyed.Mutex        // one per terminal and Idempotency-Key
}

type session struct {
	terminalID string
	expires    time.Time
}

// New returns a server configured by cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil || cfg.Terminals == nil || cfg.Idempotency == nil {
		return nil, errors.New("server: Engine, Terminals and Idempotency are required")
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
	if cfg.MerchantName == "" {
		cfg.MerchantName = "Merchant"
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, eng: cfg.Engine, clk: cfg.Clock, log: cfg.Logger,
		sessions: map[string]session{}}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if err := s.parseTemplates(); err != nil {
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

// HashToken is how a terminal token is stored: SHA-256. Tokens are 160
// random bits, so a fast hash is enough.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewToken returns a new random terminal token.
func NewToken() string {
	var b [20]byte
	rand.Read(b[:])
	return "cpt_" + hex.EncodeToString(b[:])
}

// AddTerminal creates a terminal and returns its token, which is shown
// only this once.
func AddTerminal(ctx context.Context, ts Terminals, t pos.Terminal) (string, error) {
	if t.ID == "" || t.ConfigID == "" {
		return "", errors.New("terminal: id and merchant config id are required")
	}
	if t.DeviceID == "" {
		t.DeviceID = t.ID
	}
	if t.Name == "" {
		t.Name = t.ID
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC()
	}
	token := NewToken()
	if err := ts.AddTerminal(ctx, t, HashToken(token)); err != nil {
		if errors.Is(err, pos.ErrDuplicate) {
			return "", fmt.Errorf("terminal %s already exists", t.ID)
		}
		return "", err
	}
	return token, nil
}
