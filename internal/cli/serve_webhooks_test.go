package cli_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centrapos/centrapos/internal/cli"
	"github.com/centrapos/centrapos/sandbox"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func sandboxServer(t *testing.T) (*sandbox.Sandbox, string) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	return sb, srv.URL
}

// TestServeWebhookFlags: webhooks are off unless an audience is given,
// and a half-given configuration is refused, not silently off.
func TestServeWebhookFlags(t *testing.T) {
	sb, sbURL := sandboxServer(t)
	t.Setenv("CENTRAPAY_API_KEY", sb.Seed().APIKey)
	base := []string{"serve", "--merchant-account-id", sb.Seed().MerchantAccountID, "--centrapay-url", sbURL, "--listen", "127.0.0.1:0"}
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"a listener without an audience": {[]string{"--webhook-listen", "127.0.0.1:0"}, "--webhook-audience"},
		"a path without an audience":     {[]string{"--webhook-path", "/hooks"}, "--webhook-audience"},
		"an audience that is no URL":     {[]string{"--webhook-audience", "hooks"}, "audience"},
		"a JWKS in clear over a network": {[]string{"--webhook-audience", "https://pos.example.com/webhooks/centrapay", "--jwks-url", "http://auth.example.com/jwks.json"}, "https"},
		"a path inside the API":          {[]string{"--webhook-audience", "https://pos.example.com/api/v1/x", "--webhook-path", "/api/v1/x"}, "webhook path"},
	} {
		args := append(append(append([]string(nil), base...), "--db", filepath.Join(t.TempDir(), "j.db")), c.args...)
		if _, _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %s", name, err, c.want)
		}
	}
}

// TestServeWebhookListener: with --webhook-listen, Centrapay's webhooks
// are received on a listener of their own, which serves nothing else,
// and not on the main listener.
func TestServeWebhookListener(t *testing.T) {
	sb, sbURL := sandboxServer(t)
	t.Setenv("CENTRAPAY_API_KEY", sb.Seed().APIKey)
	var stdout, stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		m := &cli.Main{Stdout: &stdout, Stderr: &stderr}
		done <- m.Run(ctx, []string{"serve", "--db", filepath.Join(t.TempDir(), "j.db"), "--merchant-account-id", sb.Seed().MerchantAccountID,
			"--centrapay-url", sbURL, "--listen", "127.0.0.1:0", "--webhook-audience", "https://pos.example.com/hooks/cp",
			"--webhook-path", "/hooks/cp", "--webhook-listen", "127.0.0.1:0", "--jwks-url", sbURL + "/.well-known/jwks.json"})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve ended with %v", err)
		}
	}()
	mainRE := regexp.MustCompile(`serving on (http://\S+)`)
	hookRE := regexp.MustCompile(`receiving Centrapay's webhooks" url=(http://\S+)`)
	var mainURL, hookURL string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && (mainURL == "" || hookURL == ""); time.Sleep(10 * time.Millisecond) {
		if m := mainRE.FindStringSubmatch(stdout.String()); m != nil {
			mainURL = m[1]
		}
		if m := hookRE.FindStringSubmatch(stderr.String()); m != nil {
			hookURL = m[1]
		}
	}
	if mainURL == "" || hookURL == "" || mainURL == hookURL {
		t.Fatalf("listeners %q %q; stdout %s; stderr %s", mainURL, hookURL, stdout.String(), stderr.String())
	}
	post := func(url string) int {
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"id":"ntf_1","type":"payment-request:paid"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(hookURL + "/hooks/cp"); got != http.StatusUnauthorized {
		t.Errorf("an unsigned call on the webhook listener: %d, want 401", got)
	}
	if got := post(mainURL + "/hooks/cp"); got == http.StatusUnauthorized || got == http.StatusOK {
		t.Errorf("the main listener receives webhooks: %d", got)
	}
	if resp, err := http.Get(hookURL + "/healthz"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the webhook listener serves more than the webhook: %v %v", resp, err)
	}
	if !strings.Contains(stderr.String(), `msg="Centrapay webhook rejected"`) {
		t.Error("the rejection is not logged")
	}
}
