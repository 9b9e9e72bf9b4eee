package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/internal/certify"
	"github.com/centrapos/centrapos/internal/server"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

// certifyConfig is what runCertify parsed.
type certifyConfig struct {
	out               string
	centrapayURL      string
	keyFile           string
	merchantAccountID string
	configIDs         string
	fast              bool
	only              []string
	chromium          string
	// tests only: faults installed in the sandbox before the run, and a
	// shorter time limit per item
	faults      []sandbox.Fault
	itemTimeout time.Duration
}

// certifyHook, set by tests, adjusts the parsed configuration.
var certifyHook func(*certifyConfig)

// runCertify runs Centrapay's integration checklist against the sandbox
// (or Centrapay's test environment) through a real server, and writes the
// evidence folder. It exits 1 if any automated item fails.
func runCertify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("certify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg certifyConfig
	fs.StringVar(&cfg.out, "out", "", "the evidence folder (default ./certify-evidence-<timestamp>)")
	fs.StringVar(&cfg.centrapayURL, "centrapay-url", "", "Centrapay's test environment base URL (default: an in-process sandbox)")
	fs.StringVar(&cfg.keyFile, "api-key-file", "", "file holding the merchant-terminal test API key, with --centrapay-url (else $CENTRAPAY_API_KEY)")
	fs.StringVar(&cfg.merchantAccountID, "merchant-account-id", "", "the merchant's Centrapay account id, with --centrapay-url")
	fs.StringVar(&cfg.configIDs, "config-id", "", "merchant config id(s) of the test tills, with --centrapay-url: A, or A,B for item 102.4")
	fs.BoolVar(&cfg.fast, "fast", false, "CI mode: the sandbox's manual clock, so 120 s expiries take no real time")
	only := fs.String("only", "", "run only these items, e.g. 103.1,104.2 (the others are listed as skipped)")
	fs.StringVar(&cfg.chromium, "chromium", "chromium", "the browser for UI items (a name on $PATH or a path)")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return UsageError{fmt.Sprintf("certify: unexpected argument %q", fs.Arg(0))}
	}
	if *only != "" {
		for _, id := range strings.Split(*only, ",") {
			if id = strings.TrimSpace(id); id != "" {
				cfg.only = append(cfg.only, id)
			}
		}
	}
	if cfg.centrapayURL == "" && (cfg.keyFile != "" || cfg.merchantAccountID != "" || cfg.configIDs != "") {
		return UsageError{"certify: --api-key-file, --merchant-account-id and --config-id go with --centrapay-url"}
	}
	if cfg.centrapayURL != "" && cfg.fast {
		return UsageError{"certify: --fast needs the sandbox's manual clock; it does not go with --centrapay-url"}
	}
	if cfg.centrapayURL != "" && (cfg.merchantAccountID == "" || cfg.configIDs == "") {
		return UsageError{"certify: --centrapay-url needs --merchant-account-id and --config-id"}
	}
	for _, id := range cfg.only {
		if !isItem(id) {
			return UsageError{fmt.Sprintf("certify: --only: no checklist item %q", id)}
		}
	}
	if certifyHook != nil {
		certifyHook(&cfg)
	}
	if cfg.out == "" {
		cfg.out = "certify-evidence-" + time.Now().UTC().Format("20060102-150405")
	}
	rep, err := certifyRun(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	printSummary(stdout, rep)
	if rep.Failed() {
		return fmt.Errorf("certify: %d automated item(s) failed; see %s", rep.Counts.Fail, filepath.Join(rep.Dir, "report.md"))
	}
	return nil
}

// isItem reports whether id names an item of the checklist.
func isItem(id string) bool {
	for _, it := range certify.Checklist() {
		if it.ID == id {
			return true
		}
	}
	return false
}

// certifyRun starts the sandbox (unless Centrapay's URL is given) and a
// server on port 0 with a temporary journal, runs the items and stops
// everything.
func certifyRun(ctx context.Context, cfg certifyConfig, stderr io.Writer) (*certify.Report, error) {
	tmp, err := os.MkdirTemp("", "centrapos-certify-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	env := certify.Env{}
	if cfg.chromium != "" {
		if p, err := exec.LookPath(cfg.chromium); err == nil {
			env.Chromium = p
		} else {
			fmt.Fprintf(stderr, "certify: chromium not installed (%s not found): the items that need a browser are skipped\n", cfg.chromium)
		}
	}
	app := appConfig{DB: filepath.Join(tmp, "journal.db"), Listen: "127.0.0.1:0", MerchantName: "Centrapay Café", Currency: "NZD",
		TimeZone: "Pacific/Auckland"}
	configs := strings.Split(cfg.configIDs, ",")
	target := ""
	if cfg.centrapayURL == "" {
		sb, stop, err := certifySandbox(cfg.fast)
		if err != nil {
			return nil, err
		}
		defer stop()
		for _, f := range cfg.faults {
			if err := sb.sb.AddFault(f); err != nil {
				return nil, err
			}
		}
		seed := sb.seed
		app.CentrapayURL, app.APIKey, app.MerchantAccountID = sb.url, seed.APIKey, seed.MerchantAccountID
		app.RateLimit = 6000 // the sandbox's limit is off: the run is not slowed by its own budget
		configs = sb.configs
		env.SandboxURL, env.ManualClock = sb.url, cfg.fast
		// the sandbox notifies the server by webhook, as Centrapay does
		// when subscribed (polling goes on beside it), as in the demo
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("certify: listen: %w", err)
		}
		hookURL := loopbackURL(ln) + server.DefaultWebhookPath
		sb.sb.AddWebhook(hookURL)
		app.listener = ln
		app.CentrapayHooks = centrapayHooks{Audience: hookURL, Path: server.DefaultWebhookPath, JWKSURL: sb.url + "/.well-known/jwks.json"}
		target = "the centrapos sandbox, in process (" + map[bool]string{true: "fast mode: manual clock", false: "real clock"}[cfg.fast] +
			"; its webhooks on, polling every second beside them)"
	} else {
		key, err := apiKey(cfg.keyFile)
		if err != nil {
			return nil, err
		}
		if key == "" {
			return nil, UsageError{"certify: no API key: --api-key-file, or $CENTRAPAY_API_KEY"}
		}
		app.CentrapayURL, app.APIKey, app.MerchantAccountID, app.RateLimit = cfg.centrapayURL, key, cfg.merchantAccountID, 200
		target = "Centrapay at " + cfg.centrapayURL + " (items needing the sandbox are skipped)"
	}
	tap := certify.NewLogTap(app.APIKey)
	app.Logger = slog.New(slog.NewTextHandler(tap, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env.Logs, env.APIKey, env.CentrapayURL = tap, app.APIKey, app.CentrapayURL
	a, err := startApp(ctx, app)
	if err != nil {
		if app.listener != nil {
			app.listener.Close()
		}
		return nil, fmt.Errorf("certify: start the server: %w", err)
	}
	for i, cid := range configs {
		if cid = strings.TrimSpace(cid); cid == "" || i > 1 {
			continue
		}
		id := fmt.Sprintf("certify-till-%d", i+1)
		t := pos.Terminal{ID: id, DeviceID: id + "-device", Name: fmt.Sprintf("Certify till %d", i+1), ConfigID: cid, Manager: i == 0}
		token, err := pos.AddTerminal(ctx, a.j, t)
		if err != nil {
			a.j.Close()
			return nil, fmt.Errorf("certify: add terminal: %w", err)
		}
		env.Terminals = append(env.Terminals, certify.Terminal{ID: id, DeviceID: t.DeviceID, ConfigID: cid, Token: token})
	}
	runCtx, stopApp := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- a.run(runCtx) }()
	defer func() { stopApp(); <-done }()
	env.POSURL = a.url
	env.LoginURL = func(id string) string {
		link, err := a.srv.LoginLink(ctx, id)
		if err != nil {
			return a.url + "/login/unavailable" // the item that signs in then fails, saying so
		}
		return a.url + link
	}
	if env.Centrapay, err = centrapay.NewClient(centrapay.WithBaseURL(app.CentrapayURL), centrapay.WithAPIKey(app.APIKey),
		centrapay.WithUserAgent("centrapos-certify")); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "certify: server %s, Centrapay %s; evidence into %s\n", a.url, app.CentrapayURL, cfg.out)
	return certify.Run(ctx, certify.Options{Env: env, Out: cfg.out, Only: cfg.only, Target: target, ItemTimeout: cfg.itemTimeout})
}

// certifySandboxInfo is a running in-process sandbox.
type certifySandboxInfo struct {
	sb      *sandbox.Sandbox
	url     string
	seed    sandbox.Seed
	configs []string
}

// certifySandbox starts a sandbox on a loopback port 0, with one merchant
// of two locations (merchant configs) and a fresh API key; fast gives it a
// manual business clock.
func certifySandbox(fast bool) (*certifySandboxInfo, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("certify: sandbox listen: %w", err)
	}
	base := "http://" + ln.Addr().String()
	var k [16]byte
	rand.Read(k[:])
	assets := []string{"centrapay.nzd.test", "farmlands.nzd.test", "external.test"}
	m := sandbox.Merchant{ID: "5efbe17d96c083633e2b9241", AccountID: "C4QnjXvj8At6SMsEN4LRi9", Name: "Centrapay Café",
		Configs: []sandbox.MerchantConfig{{ID: "mc_certify_store_1", Currency: "NZD", AssetTypes: assets},
			{ID: "mc_certify_store_2", Currency: "NZD", AssetTypes: assets}},
		APIKeys: []string{"sandbox-certify-" + hex.EncodeToString(k[:])}, TaxNumber: &centrapay.TaxNumber{Value: "123-456-789", Type: "nz-gst"}}
	sc := sandbox.Config{PublicURL: base, Merchants: []sandbox.Merchant{m}, RateLimit: -1}
	if fast {
		sc.Clock, sc.WallClock = clock.NewFake(time.Now().UTC()), clock.Real{}
	}
	sb, err := sandbox.New(sc)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stop := func() {
		sb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			srv.Close()
		}
	}
	return &certifySandboxInfo{sb: sb, url: base, seed: sb.Seed(), configs: []string{m.Configs[0].ID, m.Configs[1].ID}}, stop, nil
}

// printSummary prints one line per item and the totals.
func printSummary(w io.Writer, rep *certify.Report) {
	for _, r := range rep.Results {
		fmt.Fprintf(w, "%-6s %-8s %s — %s\n", r.ID, r.State, r.Title, r.Summary)
	}
	fmt.Fprintf(w, "\n%d pass, %d fail, %d manual, %d skipped in %s\n", rep.Counts.Pass, rep.Counts.Fail, rep.Counts.Manual, rep.Counts.Skipped, rep.Duration.Round(time.Millisecond))
	if rep.BrowserNote != "" {
		fmt.Fprintln(w, rep.BrowserNote)
	}
	fmt.Fprintf(w, "evidence: %s and %s\n", filepath.Join(rep.Dir, "report.md"), filepath.Join(rep.Dir, "report.html"))
}
