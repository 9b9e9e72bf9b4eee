package cli

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// The POS server of `serve` and `demo` bounds how long a client may take
// to send a request, to read the answer and to come back on an idle
// connection.
func TestHTTPServerTimeouts(t *testing.T) {
	a, err := startApp(context.Background(), appConfig{DB: filepath.Join(t.TempDir(), "j.db"), Listen: "127.0.0.1:0",
		CentrapayURL: "http://127.0.0.1:1", APIKey: "k", MerchantAccountID: "acc", Currency: "NZD", ExpirySeconds: 120,
		TimeoutMargin: 10 * time.Second, RateLimit: 200, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.ln.Close(); a.j.Close() })
	for _, s := range []*http.Server{a.http, newHTTPServer(http.NotFoundHandler())} {
		if s.ReadHeaderTimeout != readHeaderTimeout || s.ReadTimeout != readTimeout || s.WriteTimeout != writeTimeout || s.IdleTimeout != idleTimeout {
			t.Errorf("timeouts: header %v, read %v, write %v, idle %v", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
		}
	}
	if a.http.Handler == nil {
		t.Error("no handler")
	}
	// sane: each is set, headers come before the rest of the request, an
	// answer may take longer than the slowest Centrapay call (4 attempts of
	// 10 s and back-off) and a kept-alive connection waits longest
	if readHeaderTimeout <= 0 || readHeaderTimeout > readTimeout || writeTimeout < 45*time.Second || idleTimeout < writeTimeout {
		t.Errorf("timeouts out of order: %v %v %v %v", readHeaderTimeout, readTimeout, writeTimeout, idleTimeout)
	}
}
