package centrapay

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestTransportReusesConnections: the default transport speaks HTTP/2
// where Centrapay's TLS endpoint offers it, and over HTTP/1.1 keeps enough
// idle connections for the engine's concurrency, so a busy server does not
// dial (and leave in TIME_WAIT) a connection for most calls.
func TestTransportReusesConnections(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		name := "http1.1"
		if h2 {
			name = "http2"
		}
		t.Run(name, func(t *testing.T) {
			var dialled, closed atomic.Int64
			var proto atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				proto.Store(int64(r.ProtoMajor))
				reply(w, 200, prJSON)
			}))
			srv.EnableHTTP2 = h2
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				switch s {
				case http.StateNew:
					dialled.Add(1)
				case http.StateClosed:
					closed.Add(1)
				}
			}
			srv.StartTLS()
			t.Cleanup(srv.Close)
			tr := NewTransport()
			tr.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
			if !h2 {
				tr.ForceAttemptHTTP2 = false
			}
			c, err := NewClient(WithBaseURL(srv.URL), WithAPIKey(testKey), WithHTTPClient(&http.Client{Transport: tr}),
				WithBudget(NewBudget(1<<30, nil)))
			if err != nil {
				t.Fatal(err)
			}
			// a first call opens the connection (at a cold start, Go's
			// HTTP/2 dials once per request in flight and keeps one)
			if _, _, err := c.Get(context.Background(), "PR1"); err != nil {
				t.Fatal(err)
			}
			const workers, rounds = 32, 20
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for range rounds {
						if _, _, err := c.Get(context.Background(), "PR1"); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			t.Logf("%d connections dialled, %d closed", dialled.Load(), closed.Load())
			if h2 && (proto.Load() != 2 || dialled.Load() != 1) {
				t.Errorf("HTTP/%d over %d connections, want HTTP/2 over one", proto.Load(), dialled.Load())
			}
			if closed.Load() != 0 {
				t.Errorf("%d connections closed during %d calls by %d workers: each is a socket left in TIME_WAIT", closed.Load(), workers*rounds, workers)
			}
		})
	}
}
