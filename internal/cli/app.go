package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
	_ "time/tzdata" // time zones for receipts on machines without a zone database

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/internal/server"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/webhook"
)

// appConfig is what `serve` and `demo` wire together.
type appConfig struct {
	DB                string
	Listen            string
	CentrapayURL      string
	APIKey            string
	MerchantAccountID string
	MerchantName      string
	MerchantAddress   string // on receipts, lines separated by \n
	GSTNumber         string // on receipts; checked by server.ParseGSTNumber
	Currency          string
	ExpirySeconds     int
	TimeoutMargin     time.Duration
	RateLimit         int
	TLSCert, TLSKey   string
	TimeZone          string // IANA name for receipts; "" is the machine's
	Logger            *slog.Logger
	AdminListen       string         // /metrics and /debug/pprof; "" : 127.0.0.1, a free port
	Instance          string         // this server among those of a shared journal; "": host name and pid
	Drain             time.Duration  // at a stop, how long /healthz says stopping before the listener closes
	CentrapayHooks    centrapayHooks // receiving Centrapay's webhooks; off without an audience
	listener          net.Listener   // the main listener, made beforehand (demo); nil: listen on Listen
}

// Timeouts of the POS server's connections, so that a slow or stalled
// client cannot hold a connection (and its goroutine) for ever:
//
//   - readHeaderTimeout: to read a request's headers;
//   - readTimeout: to read a whole request, headers and body (at most
//     1 MiB);
//   - writeTimeout: from the end of the request's headers to the end of
//     its answer. It is longer than the slowest answer the API gives — a
//     sale or refund waiting on Centrapay, up to 4 attempts of 10 s plus
//     back-off (about 42 s) — so that no answer about money is cut off.
//     Event streams (Server-Sent Events) outlive it: they clear the read
//     deadline and move the write deadline on before every write (see
//     internal/server/events.go);
//   - idleTimeout: how long a kept-alive connection waits for its next
//     request.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
)

// newHTTPServer returns the HTTP server of `serve` and `demo`, with the
// connection timeouts above.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout}
}

// app is a running POS server: journal, Centrapay client, engine and HTTP.
type app struct {
	j      store
	eng    *pos.Engine
	hooks  *webhook.Deliverer // pushes the outbox's events to the merchant's endpoints
	srv    *server.Server
	ln     net.Listener
	drain  time.Duration // appConfig.Drain
	cpLn   *hookListener // Centrapay's webhooks on a listener of their own, if any
	http   *http.Server
	url    string
	admin  *http.Server // metrics and pprof, on their own listener
	adLn   net.Listener
	adURL  string
	logger *slog.Logger
}

// startApp opens the journal, recovers the engine and listens; run serves.
func startApp(ctx context.Context, cfg appConfig) (*app, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("no Centrapay API key: set CENTRAPAY_API_KEY or --api-key-file (a merchant-terminal key)")
	}
	if cfg.MerchantAccountID == "" {
		return nil, errors.New("--merchant-account-id is required: lookups by externalRef need it")
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	loc := time.Local
	if cfg.TimeZone != "" {
		l, err := time.LoadLocation(cfg.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("--timezone %q: %w", cfg.TimeZone, err)
		}
		loc = l
	}
	j, err := openStore(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	a := &app{j: j, logger: cfg.Logger, drain: cfg.Drain}
	fail := func(err error) (*app, error) { j.Close(); return nil, err }
	srvReg := server.NewRegistry()
	transport, err := server.InstrumentTransport(srvReg, centrapay.NewTransport())
	if err != nil {
		return fail(err)
	}
	agent := "centrapos"
	if _, shared := j.(pos.Leases); shared {
		if cfg.Instance == "" {
			host, _ := os.Hostname()
			cfg.Instance = fmt.Sprintf("%s-%d", host, os.Getpid())
		}
		agent += " (" + cfg.Instance + ")" // which server made a call, in Centrapay's logs
	}
	client, err := centrapay.NewClient(centrapay.WithBaseURL(cfg.CentrapayURL), centrapay.WithAPIKey(cfg.APIKey),
		centrapay.WithHTTPClient(&http.Client{Transport: transport}), centrapay.WithLogger(cfg.Logger),
		centrapay.WithRateLimit(cfg.RateLimit), centrapay.WithUserAgent(agent))
	if err != nil {
		return fail(err)
	}
	obs, err := server.NewEngineObservers(srvReg)
	if err != nil {
		return fail(err)
	}
	engCfg := pos.Config{Centrapay: client, Journal: j, MerchantAccountID: cfg.MerchantAccountID, Currency: cfg.Currency,
		Logger: cfg.Logger, ExpirySeconds: cfg.ExpirySeconds, TimeoutMargin: cfg.TimeoutMargin, MaxInFlight: centrapay.MaxConnsPerHost,
		ObserveLag: obs.Lag, ObservePollInterval: obs.PollInterval, ObserveEnded: obs.Ended}
	shareJournal(&engCfg, client.Budget(), j, cfg)
	a.eng, err = pos.New(engCfg)
	if err != nil {
		return fail(err)
	}
	if err := server.RegisterEngine(srvReg, a.eng, client.Budget()); err != nil {
		return fail(err)
	}
	if a.hooks, err = webhook.New(webhook.Config{Outbox: j, Logger: cfg.Logger}); err != nil {
		return fail(err)
	}
	cpHooks, err := cfg.CentrapayHooks.config(j, cfg.Logger)
	if err != nil {
		return fail(err)
	}
	a.srv, err = server.New(server.Config{Engine: a.eng, Terminals: j, MerchantName: cfg.MerchantName,
		Logger: cfg.Logger, Registry: srvReg, Secure: cfg.TLSCert != "", Location: loc, Webhooks: cpHooks,
		Outbox: j, MerchantAddress: cfg.MerchantAddress, GSTNumber: cfg.GSTNumber})
	if err != nil {
		return fail(err)
	}
	// a harmless call first: a key Centrapay refuses stops the start here,
	// with words an operator can act on; no answer only warns (Centrapay
	// may be down for a while, and the engine retries)
	check, cancelCheck := context.WithTimeout(ctx, 30*time.Second)
	err = a.eng.CheckCentrapay(check)
	cancelCheck()
	switch pos.ErrorCode(err) {
	case pos.ERefused:
		return fail(fmt.Errorf("%s (Centrapay at %s)", strings.TrimPrefix(err.Error(), "pos: "), cfg.CentrapayURL))
	case pos.EUnavailable:
		cfg.Logger.Warn("Centrapay did not answer the start-up check; starting anyway, the engine retries", "url", cfg.CentrapayURL, "err", err)
	}
	if err := a.eng.Recover(ctx); err != nil {
		return fail(err)
	}
	a.ln, err = listenMain(cfg)
	if err != nil {
		return fail(fmt.Errorf("listen on %s: %w", cfg.Listen, err))
	}
	scheme := "http"
	a.http = newHTTPServer(a.srv)
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			a.ln.Close()
			return fail(fmt.Errorf("tls: %w", err))
		}
		a.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		a.ln = tls.NewListener(a.ln, a.http.TLSConfig)
		scheme = "https"
	}
	a.url = scheme + "://" + a.ln.Addr().String()
	adminAddr := cfg.AdminListen
	if adminAddr == "" {
		adminAddr = "127.0.0.1:0"
	}
	if a.adLn, err = net.Listen("tcp", adminAddr); err != nil {
		a.ln.Close()
		return fail(fmt.Errorf("listen on %s (--admin-listen): %w", adminAddr, err))
	}
	a.adURL = "http://" + a.adLn.Addr().String()
	a.admin = &http.Server{Handler: a.srv.Admin(), ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout}
	if a.cpLn, err = listenHooks(cfg.CentrapayHooks, a.srv, a.http.TLSConfig, cfg.Logger); err != nil {
		a.ln.Close()
		a.adLn.Close()
		return fail(err)
	}
	return a, nil
}

// run drives the engine and serves HTTP until ctx is done, then stops
// both and closes the journal.
func (a *app) run(ctx context.Context) error {
	defer a.j.Close()
	engCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	engDone := make(chan struct{})
	go func() { a.eng.Run(engCtx); close(engDone) }()
	// the deliverer runs beside the engine, which never waits for it; each
	// journaled change of a sale wakes it (it also polls every second)
	hookCtx, stopHooks := context.WithCancel(context.WithoutCancel(ctx))
	hooksDone := make(chan struct{})
	go func() { a.hooks.Run(hookCtx); close(hooksDone) }()
	changed, unsubscribe := a.eng.Subscribe("")
	go func() {
		for range changed {
			a.hooks.Wake()
		}
	}()
	// live event streams never end by themselves: shutting down ends them
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	a.http.BaseContext = func(net.Listener) context.Context { return streams }
	a.http.RegisterOnShutdown(endStreams)
	errc := make(chan error, 2)
	go func() { errc <- a.http.Serve(a.ln) }()
	go func() {
		if err := a.admin.Serve(a.adLn); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("admin: %w", err)
		}
	}()
	a.cpLn.serve()
	a.logger.Info("centrapos serving", "url", a.url)
	a.logger.Info("centrapos admin on "+a.adURL+" (metrics, pprof)", "url", a.adURL)
	var err error
	select {
	case err = <-errc:
		err = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		if a.drain > 0 {
			// out of the load balancer first (its health checks see 503),
			// then the listener closes
			a.srv.Drain()
			a.logger.Info("draining before the stop", "for", a.drain)
			time.Sleep(a.drain)
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := a.http.Shutdown(shutdown); serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	a.cpLn.shutdown(shutdown)
	// the engine takes no new work and gives what it has started its
	// grace to finish; the admin listener stays up meanwhile
	stopEngine()
	<-engDone
	a.admin.Shutdown(shutdown)
	unsubscribe()
	stopHooks()
	<-hooksDone
	return err
}

// shareJournal lets the servers of a journal that several can share
// (PostgreSQL) work side by side: each drives the sales it holds a lease
// on (pos.Leases), and all take Centrapay calls from one rate budget
// (centrapay.SharedBudget), as Centrapay's limit is the API key's. A
// journal only one server can use (SQLite) is left alone.
func shareJournal(ec *pos.Config, b *centrapay.Budget, j store, cfg appConfig) {
	leases, ok := j.(pos.Leases)
	if !ok {
		return
	}
	ec.Leases, ec.Instance = leases, cfg.Instance
	if shared, ok := j.(centrapay.SharedBudget); ok && b != nil {
		var last atomic.Int64 // unix seconds of the last line logged
		b.Share(shared, func(err error) {
			if now := time.Now().Unix(); now-last.Swap(now) >= 60 { // a line a minute while it lasts
				cfg.Logger.Error("shared rate budget unavailable: calls use this server's own budget meanwhile", "err", err)
			}
		})
	}
	cfg.Logger.Info("sharing the journal with other servers", "instance", ec.Instance)
}
