package centrapay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/centrapos/centrapos/clock"
)

// DefaultBaseURL is Centrapay's production API.
const DefaultBaseURL = "https://service.centrapay.com"

// Client calls Centrapay's Payment Request API with one merchant-terminal
// API key. It is safe for concurrent use. Every method returns a known
// answer, a *Error (Centrapay refused), or an *UnknownOutcomeError (the call
// may or may not have taken effect).
type Client struct {
	baseURL   *url.URL
	apiKey    secret
	http      *http.Client
	timeout   time.Duration
	userAgent string
	logger    *slog.Logger
	clock     clock.Clock
	retry     RetryPolicy
	budget    *Budget
	rateLimit int
}

// MaxConnsPerHost is how many idle connections to Centrapay the client's
// transport keeps for reuse: as many as the engine runs calls at once, so
// a busy server reuses its connections rather than dialling one for most
// calls (Go's default keeps two, and a server polling thousands of sales
// left thousands of sockets in TIME_WAIT).
const MaxConnsPerHost = 1024

// NewTransport returns the HTTP transport a Client uses by default: Go's
// (proxy from the environment, dial and TLS timeouts), keeping up to
// MaxConnsPerHost idle connections to Centrapay, and speaking HTTP/2 where
// Centrapay's TLS endpoint offers it.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// at most as many connections as are kept idle: a call that finds
	// none free waits for one rather than dialling one more, which, once
	// free, would find the idle pool full and be closed (TIME_WAIT)
	t.MaxConnsPerHost = MaxConnsPerHost
	t.MaxIdleConns = MaxConnsPerHost
	t.MaxIdleConnsPerHost = MaxConnsPerHost
	t.ForceAttemptHTTP2 = true
	return t
}

// Option configures a Client; NewClient returns its error.
type Option func(*Client) error

// NewClient returns a client configured by opts. An API key is required.
func NewClient(opts ...Option) (*Client, error) {
	u, _ := url.Parse(DefaultBaseURL)
	c := &Client{
		baseURL:   u,
		http:      &http.Client{Transport: NewTransport()},
		timeout:   10 * time.Second,
		userAgent: "centrapos",
		clock:     clock.Real{},
		retry:     DefaultRetryPolicy,
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, fmt.Errorf("centrapay: new client: %w", err)
		}
	}
	if c.apiKey == "" {
		return nil, errors.New("centrapay: new client: an API key is required (WithAPIKey)")
	}
	// Never follow a redirect: Go's client forwards custom headers such as
	// X-Api-Key to the redirect's target, whatever its host. Set here, after
	// the options, so it holds for a caller's client too; a copy, so the
	// caller's own client is left as it was.
	hc := *c.http
	hc.CheckRedirect = refuseRedirect
	c.http = &hc
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.budget == nil {
		c.budget = NewBudget(c.rateLimit, c.clock)
	}
	return c, nil
}

// WithBaseURL sets the API's base URL. It must be an absolute https URL, or
// an http URL to a loopback host (127.0.0.0/8, ::1, localhost) for a local
// sandbox: every call carries the API key, which must not cross a network
// in clear.
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("base URL %q: must be an absolute http or https URL", raw)
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			return fmt.Errorf("base URL %q: http:// is allowed only to a loopback address; "+
				"Centrapay must be reached over https so the API key is not sent in clear", raw)
		}
		c.baseURL = u
		return nil
	}
}

// isLoopback reports whether host (without port or brackets) is
// "localhost" or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// refuseRedirect is every client's CheckRedirect: the 3xx answer itself is
// returned, and classify makes it an error, so the API key never goes to
// the redirect's target.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// WithAPIKey sets the merchant-terminal API key sent as X-Api-Key.
func WithAPIKey(key string) Option {
	return func(c *Client) error {
		key = strings.TrimSpace(key)
		if key == "" {
			return errors.New("API key is empty")
		}
		c.apiKey = secret(key)
		return nil
	}
}

// WithHTTPClient sets the HTTP client (and so the transport). The client
// uses a copy of hc whose CheckRedirect refuses every redirect, so that the
// API key is never sent to another host; hc itself is not changed.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("HTTP client is nil")
		}
		c.http = hc
		return nil
	}
}

// WithTimeout sets the timeout of each HTTP attempt (default 10 s).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("timeout %v: must be positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if strings.TrimSpace(ua) == "" {
			return errors.New("user agent is empty")
		}
		c.userAgent = ua
		return nil
	}
}

// WithLogger sets the logger for per-attempt debug lines; the API key is
// never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("logger is nil")
		}
		c.logger = l
		return nil
	}
}

// WithClock sets the clock used for backoff waits and the rate budget.
func WithClock(k clock.Clock) Option {
	return func(c *Client) error {
		if k == nil {
			return errors.New("clock is nil")
		}
		c.clock = k
		return nil
	}
}

// WithRetryPolicy sets how calls that are safe to retry are retried.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) error {
		if p.MaxAttempts < 1 {
			return fmt.Errorf("retry policy: MaxAttempts %d: must be at least 1", p.MaxAttempts)
		}
		if p.BaseDelay < 0 || p.MaxDelay < p.BaseDelay {
			return fmt.Errorf("retry policy: delays %v..%v: need 0 <= BaseDelay <= MaxDelay", p.BaseDelay, p.MaxDelay)
		}
		c.retry = p
		return nil
	}
}

// WithBudget shares b between every client using one API key.
func WithBudget(b *Budget) Option {
	return func(c *Client) error {
		if b == nil {
			return errors.New("budget is nil")
		}
		c.budget = b
		return nil
	}
}

// WithRateLimit gives the client its own budget of perMinute requests per
// minute (default 200).
func WithRateLimit(perMinute int) Option {
	return func(c *Client) error {
		if perMinute <= 0 {
			return fmt.Errorf("rate limit %d: must be positive", perMinute)
		}
		c.rateLimit = perMinute
		return nil
	}
}

// Budget returns the client's rate budget.
func (c *Client) Budget() *Budget { return c.budget }

// String describes the client without its API key.
func (c Client) String() string {
	return fmt.Sprintf("centrapay.Client{baseURL: %s, apiKey: [redacted]}", c.baseURL)
}

// GoString is String, so %#v does not print the key either.
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb, so no verb shows the key.
func (c Client) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// secret holds the API key; every fmt verb prints it redacted, so even a
// printed Client value does not show it.
type secret string

// String returns a placeholder.
func (secret) String() string { return "[redacted]" }

// GoString returns a placeholder.
func (secret) GoString() string { return "[redacted]" }

// Format prints a placeholder for every verb.
func (secret) Format(f fmt.State, verb rune) { fmt.Fprint(f, "[redacted]") }
