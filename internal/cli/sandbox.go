package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/sandbox"
)

// sandboxLine is the one line of JSON the sandbox command prints on start,
// so scripts can read the base URL and credentials.
type sandboxLine struct {
	sandbox.Seed
	WalletURL string                      `json:"walletUrl"`
	Scenarios map[string]sandbox.Scenario `json:"scenarios"`
	Clock     string                      `json:"clock"` // real or manual

}

// Values of the sandbox command's --clock flag.
const (
	clockReal   = "real"   // business time is the real time
	clockManual = "manual" // business time starts at the real time and moves only when advanced
)

// runSandbox serves a local Centrapay until ctx is done. With --clock
// manual its business time (expiries, void windows, timestamps) moves only
// through POST /sandbox/clock/advance, so a test in any language can expire
// a request without waiting.
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "address to listen on (port 0 picks a free port)")
	rateLimit := fs.Int("rate-limit", 200, "requests a minute per API key (-1: unlimited)")
	merchantsFile := fs.String("merchants", "", "JSON file of merchants, configs and API keys (default: the demo merchant, Centrapay Café)")
	stateFile := fs.String("state", "", "file to keep the state in, so a restarted sandbox goes on where it stopped")
	recordCalls := fs.Int("record-calls", 0, "keep the last N API calls for GET /sandbox/calls (who called what, when; 0: none)")
	refundDelay := fs.Duration("refund-delay", 0, "how long a refund takes to complete once accepted, as Centrapay completes refunds asynchronously (e.g. 5s; 0: at once)")
	clockMode := fs.String("clock", clockReal, "business clock: real, or manual (starts at the real time, moves only by POST /sandbox/clock/advance {\"seconds\": N})")
	var hooks urlList
	fs.Var(&hooks, "webhook", "subscriber URL for webhook notifications (repeatable)")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return UsageError{fmt.Sprintf("sandbox: unexpected argument %q", fs.Arg(0))}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("sandbox: listen on %s: %w", *listen, err)
	}
	base := "http://" + ln.Addr().String()
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	var merchants []sandbox.Merchant
	if *merchantsFile != "" {
		b, err := os.ReadFile(*merchantsFile)
		if err == nil {
			err = json.Unmarshal(b, &merchants)
		}
		if err != nil {
			ln.Close()
			return fmt.Errorf("sandbox: merchants file: %w", err)
		}
	}
	if *rateLimit == 0 {
		ln.Close()
		return UsageError{"sandbox: --rate-limit must be positive, or -1 for none"}
	}
	if *refundDelay < 0 {
		return UsageError{"sandbox: --refund-delay must not be negative"}
	}
	cfg := sandbox.Config{PublicURL: base, Logger: logger, RateLimit: *rateLimit, Merchants: merchants, RefundDelay: *refundDelay, RecordCalls: *recordCalls,
		Webhooks: hooks, StateFile: *stateFile}
	switch *clockMode {
	case clockReal:
	case clockManual:
		// business time stands still until advanced; rate limits, latency
		// and webhook retries keep the real clock
		cfg.Clock, cfg.WallClock = clock.NewFake(time.Now().UTC()), clock.Real{}
	default:
		ln.Close()
		return UsageError{fmt.Sprintf("sandbox: --clock must be %s or %s, not %q", clockReal, clockManual, *clockMode)}
	}
	sb, err := sandbox.New(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	line := sandboxLine{Seed: sb.Seed(), WalletURL: base + "/pay/", Scenarios: sb.Scenarios(), Clock: *clockMode}
	line.BaseURL = base
	if err := json.NewEncoder(stdout).Encode(line); err != nil {
		ln.Close()
		return fmt.Errorf("sandbox: print seed: %w", err)
	}
	defer sb.Close()
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("sandbox listening", "url", base)
	select {
	case err := <-errc:
		return fmt.Errorf("sandbox: serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sandbox: shut down: %w", err)
	}
	return nil
}

// urlList is a repeatable flag of absolute URLs.
type urlList []string

func (l *urlList) String() string { return fmt.Sprint(*l) }

func (l *urlList) Set(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", v)
	}
	*l = append(*l, v)
	return nil
}
