package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
)

// DemoAPIKey is the default merchant's merchant-terminal API key. It only
// opens this sandbox.
const DemoAPIKey = "sandbox-demo-key"

// Config configures a Sandbox.
type Config struct {
	Clock clock.Clock // business time: expiries, void and refund windows, timestamps; nil: the real clock
	// WallClock times what is not business: rate-limit refills, injected
	// latency, webhook retries and webhook signatures. nil: Clock. A
	// sandbox on a manual clock (centrapos sandbox --clock manual) sets it
	// to the real clock, so that rate limits refill and webhooks are
	// delivered while business time stands still.
	WallClock clock.Clock
	Merchants []Merchant // nil: the demo merchant, Centrapay Café (NZD)
	PublicURL string     // base of the wallet url of each request; "" derives it from the request's Host
	Logger    *slog.Logger
	RateLimit int      // requests a minute per API key; 0 means 200, below 0 unlimited
	Webhooks  []string // subscriber URLs: paid, refund-initiated and refund-completed notifications
	StateFile string   // if set, the state is kept there, so a restarted sandbox goes on where it stopped
	// RefundDelay is how long (business time) a refund takes to complete
	// once accepted: Centrapay completes refunds asynchronously. Until it
	// completes, its activity is not listed (not among the request's
	// activities, nor the merchant's payment activities); when it does,
	// payment-request:refund-completed is sent. 0 completes at once.
	RefundDelay time.Duration
	// RecordCalls, when above 0, keeps the last RecordCalls API calls
	// for GET /sandbox/calls (Calls).
	RecordCalls int
}

// Merchant is a merchant with its configs and merchant-terminal API keys.
// TaxNumber, when set, is the business's tax registration that Centrapay
// shows on each Payment Request (taxNumber).
type Merchant struct {
	ID        string               `json:"id"`
	AccountID string               `json:"accountId"`
	Name      string               `json:"name"`
	Configs   []MerchantConfig     `json:"configs"`
	APIKeys   []string             `json:"apiKeys"`
	TaxNumber *centrapay.TaxNumber `json:"taxNumber,omitempty"`
}

// MerchantConfig is a merchant config: its currency and accepted asset
// types.
type MerchantConfig struct {
	ID         string   `json:"id"`
	Currency   string   `json:"currency"`
	AssetTypes []string `json:"assetTypes"`
}

// demoMerchant is the default merchant.
func demoMerchant() Merchant {
	return Merchant{ID: "5efbe17d96c083633e2b9241", AccountID: "C4QnjXvj8At6SMsEN4LRi9", Name: "Centrapay Café",
		Configs: []MerchantConfig{{ID: "mc_5efbe2fb96c08357bb2b9242", Currency: "NZD",
			AssetTypes: []string{"centrapay.nzd.test", "farmlands.nzd.test", "external.test"}}},
		APIKeys: []string{DemoAPIKey}, TaxNumber: &centrapay.TaxNumber{Value: "123-456-789", Type: "nz-gst"}}
}

// Sandbox is a local Centrapay; it is an http.Handler safe for concurrent
// use.
type Sandbox struct {
	clk        clock.Clock // business time
	wall       clock.Clock // rate limits, latency, webhook retries and signatures
	logger     *slog.Logger
	publicURL  string
	merchants  []Merchant
	byKey      map[string]*Merchant
	mux        *http.ServeMux
	walletTmpl *template.Template

	faultMu   sync.Mutex // guards faults, rnd and buckets
	faults    []*Fault
	rnd       *rand.Rand
	buckets   map[string]*bucket
	rateLimit int

	refundDelay time.Duration // Config.RefundDelay
	calls       *callLog      // Config.RecordCalls; nil: none kept
	stateFile   string
	signer      *signer
	webhooks    []string        // read and added to under mu
	ctx         context.Context // ends deliveries on Close
	stop        context.CancelFunc
	deliveries  sync.WaitGroup

	mu       sync.Mutex
	notified int
	requests map[string]*request
	order    []string // request ids, oldest first
	seq      uint32
	// actor is the CRN of whoever makes the call being served (the API
	// key's, or the patron's for patron actions): the createdBy of the
	// activities it adds. Set and read under mu.
	actor string
}

// New returns a sandbox configured by cfg.
func New(cfg Config) (*Sandbox, error) {
	s := &Sandbox{clk: cfg.Clock, logger: cfg.Logger, publicURL: cfg.PublicURL, merchants: cfg.Merchants}
	s.rateLimit = cfg.RateLimit
	s.refundDelay = cfg.RefundDelay
	if cfg.RecordCalls > 0 {
		s.calls = &callLog{max: cfg.RecordCalls}
	}
	if s.rateLimit == 0 {
		s.rateLimit = 200
	}
	s.rnd = rand.New(rand.NewPCG(1, 2))
	s.webhooks = cfg.Webhooks
	sg, err := newSigner()
	if err != nil {
		return nil, err
	}
	s.signer = sg
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.buckets = map[string]*bucket{}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	s.wall = cfg.WallClock
	if s.wall == nil {
		s.wall = s.clk
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.merchants == nil {
		s.merchants = []Merchant{demoMerchant()}
	}
	s.byKey = map[string]*Merchant{}
	for i := range s.merchants {
		m := &s.merchants[i]
		if m.ID == "" || m.AccountID == "" || m.Name == "" || len(m.Configs) == 0 || len(m.APIKeys) == 0 {
			return nil, fmt.Errorf("sandbox: merchant %d: id, accountId, name, a config and an API key are required", i)
		}
		for _, k := range m.APIKeys {
			if _, dup := s.byKey[k]; dup {
				return nil, errors.New("sandbox: an API key is given to two merchants")
			}
			s.byKey[k] = m
		}
	}
	t, err := template.ParseFS(walletFS, "wallet/pay.html")
	if err != nil {
		return nil, fmt.Errorf("sandbox: wallet template: %w", err)
	}
	s.walletTmpl = t
	s.reset()
	s.routes()
	if cfg.StateFile != "" {
		s.stateFile = cfg.StateFile
		if err := s.loadState(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Sandbox) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = map[string]*request{}
	s.order = nil
	s.seq = 0
}

// Reset forgets every Payment Request.
func (s *Sandbox) Reset() { s.reset() }

// Seed is what a script needs to talk to the sandbox as the first merchant.
type Seed struct {
	BaseURL           string `json:"baseUrl,omitempty"`
	APIKey            string `json:"apiKey"`
	MerchantID        string `json:"merchantId"`
	MerchantAccountID string `json:"merchantAccountId"`
	ConfigID          string `json:"configId"`
}

// Seed returns the first merchant's key, ids and config.
func (s *Sandbox) Seed() Seed {
	m := s.merchants[0]
	return Seed{BaseURL: s.publicURL, APIKey: m.APIKeys[0], MerchantID: m.ID, MerchantAccountID: m.AccountID, ConfigID: m.Configs[0].ID}
}

// ServeHTTP answers Centrapay API calls, the wallet and the control API.
// Calls under /api/ pass the rate limit of their key and any injected fault
// first; the wallet and control API never do.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.stateFile != "" {
		defer s.persist(r)
	}
	if strings.HasPrefix(r.URL.Path, "/api/") && s.calls != nil {
		seq := s.calls.add(Call{At: s.wall.Now(), Method: r.Method, Path: r.URL.Path, UserAgent: r.UserAgent()})
		w = &statusWriter{ResponseWriter: w, log: s.calls, seq: seq}
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		if key := r.Header.Get("X-Api-Key"); key != "" && s.limited(w, key) {
			return
		}
		if f := s.fault(r); f != nil {
			s.serveWithFault(w, r, f)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// persist saves the state after a call that may have changed it.
func (s *Sandbox) persist(r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/sandbox/") {
		return
	}
	s.mu.Lock()
	err := s.saveState()
	s.mu.Unlock()
	if err != nil {
		s.logger.Error("sandbox: save state", "err", err)
	}
}

// apiError writes a Centrapay error body.
func apiError(w http.ResponseWriter, status int, code, reason string) {
	writeJSON(w, status, centrapay.ErrorBody{StatusCode: status, Error: http.StatusText(status), Message: code, Reason: reason})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// now is the sandbox time, truncated to milliseconds as Centrapay reports it.
func (s *Sandbox) now() time.Time { return s.clk.Now().UTC().Truncate(time.Millisecond) }
