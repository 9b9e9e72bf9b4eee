package cli

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/centrapos/centrapos/sandbox"
)

// localSandbox is a Centrapay sandbox served in this process, for the
// demo and the cluster: publicURL is where patrons' phones reach it
// (listen's address), apiURL a loopback address of it for the POS
// servers, which send their API key in clear only to loopback.
type localSandbox struct {
	sb                *sandbox.Sandbox
	publicURL, apiURL string
	srv               *http.Server
}

// startLocalSandbox serves a sandbox on listen (and on loopback too when
// listen is not).
func startLocalSandbox(listen string, logger *slog.Logger) (*localSandbox, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("sandbox listen on %s: %w", listen, err)
	}
	l := &localSandbox{publicURL: "http://" + ln.Addr().String()}
	l.apiURL = l.publicURL
	if l.sb, err = sandbox.New(sandbox.Config{PublicURL: l.publicURL, Logger: logger}); err != nil {
		ln.Close()
		return nil, err
	}
	l.srv = &http.Server{Handler: l.sb, ReadHeaderTimeout: 10 * time.Second}
	go l.srv.Serve(ln)
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		loop, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			l.close()
			return nil, fmt.Errorf("sandbox loopback listener: %w", err)
		}
		go l.srv.Serve(loop)
		l.apiURL = "http://" + loop.Addr().String()
	}
	return l, nil
}

// close stops serving and ends the sandbox's webhook deliveries.
func (l *localSandbox) close() {
	l.srv.Close()
	l.sb.Close()
}
