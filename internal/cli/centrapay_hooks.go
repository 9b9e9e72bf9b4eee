package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/internal/server"
	"github.com/centrapos/centrapos/pos"
)

// centrapayHooks is how `serve` receives Centrapay's webhooks: off unless
// Audience is given.
type centrapayHooks struct {
	Audience string // the public URL Centrapay calls: every call's aud
	Path     string // where they are received
	Listen   string // a listener of their own; "": the main listener
	JWKSURL  string // Centrapay's key set
}

// register adds the flags of `serve`.
func (h *centrapayHooks) register(fs *flag.FlagSet) {
	fs.StringVar(&h.Audience, "webhook-audience", "", "receive Centrapay's webhooks: the public URL Centrapay calls, exactly as given "+
		"to Centrapay (each call's aud must equal it); off when empty")
	fs.StringVar(&h.Path, "webhook-path", server.DefaultWebhookPath, "the path Centrapay's webhooks are received on")
	fs.StringVar(&h.Listen, "webhook-listen", "", "a listener of its own for Centrapay's webhooks, e.g. 0.0.0.0:8443 "+
		"(the one open to the internet; TLS as --tls-cert says); default: the main listener")
	fs.StringVar(&h.JWKSURL, "jwks-url", centrapay.DefaultJWKSURL, "Centrapay's key set, whose keys sign the webhooks")
}

// config returns the server's webhook configuration; nil when off.
func (h centrapayHooks) config(ns pos.Notifications, logger *slog.Logger) (*server.Webhooks, error) {
	if h.Audience == "" {
		if h.Listen != "" || (h.Path != "" && h.Path != server.DefaultWebhookPath) {
			return nil, errors.New("--webhook-listen and --webhook-path need --webhook-audience (the URL Centrapay calls)")
		}
		return nil, nil
	}
	v, err := centrapay.NewWebhookVerifier(centrapay.WebhookVerifierConfig{Audience: h.Audience, JWKSURL: h.JWKSURL})
	if err != nil {
		return nil, fmt.Errorf("--webhook-audience, --jwks-url: %w", err)
	}
	if u, err := url.Parse(h.Audience); err == nil && u.Path != h.Path && h.Path != "" {
		// a proxy in front may map one onto the other; more often a typo
		logger.Warn("the webhook audience's path is not --webhook-path: check that the proxy in front maps it",
			"audience", h.Audience, "path", h.Path)
	}
	return &server.Webhooks{Verifier: v, Notifications: ns, Path: h.Path, Separate: h.Listen != ""}, nil
}

// hookListener serves Centrapay's webhooks on a listener of their own.
type hookListener struct {
	ln   net.Listener
	http *http.Server
	url  string
	log  *slog.Logger
}

// listenHooks opens the webhooks' own listener, if they have one (nil
// otherwise), with TLS when tlsConfig is set.
func listenHooks(h centrapayHooks, srv *server.Server, tlsConfig *tls.Config, logger *slog.Logger) (*hookListener, error) {
	handler := srv.WebhookHandler()
	if h.Listen == "" || handler == nil {
		return nil, nil
	}
	ln, err := net.Listen("tcp", h.Listen)
	if err != nil {
		return nil, fmt.Errorf("--webhook-listen %s: %w", h.Listen, err)
	}
	l := &hookListener{ln: ln, http: newHTTPServer(handler), url: "http://" + ln.Addr().String(), log: logger}
	if tlsConfig != nil {
		l.http.TLSConfig = tlsConfig
		l.ln = tls.NewListener(ln, tlsConfig)
		l.url = "https://" + ln.Addr().String()
	}
	return l, nil
}

// serve serves until shutdown; an error is logged, not fatal: the
// webhooks are a hint, polling goes on without them.
func (l *hookListener) serve() {
	if l == nil {
		return
	}
	go func() {
		if err := l.http.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			l.log.Error("the Centrapay webhook listener stopped; sales are still polled", "err", err)
		}
	}()
	l.log.Info("receiving Centrapay's webhooks", "url", l.url)
}

func (l *hookListener) shutdown(ctx context.Context) {
	if l != nil {
		l.http.Shutdown(ctx)
	}
}

// listenMain is the main listener: the one made beforehand (the demo's,
// whose URL its sandbox needed first), else a new one on cfg.Listen.
func listenMain(cfg appConfig) (net.Listener, error) {
	if cfg.listener != nil {
		return cfg.listener, nil
	}
	return net.Listen("tcp", cfg.Listen)
}

// loopbackURL is the http URL of ln as a process on this machine reaches
// it: an unspecified address (0.0.0.0, ::) is reached on loopback.
func loopbackURL(ln net.Listener) string {
	a, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !a.IP.IsUnspecified() {
		return "http://" + ln.Addr().String()
	}
	return "http://" + net.JoinHostPort("127.0.0.1", fmt.Sprint(a.Port))
}
