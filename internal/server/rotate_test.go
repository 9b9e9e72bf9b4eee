package server_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/internal/server"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

// authorized says whether term's token is let in (a sale no one has: 404
// when it is, 401 when it is not).
func (e *env) authorized(term string) bool {
	e.t.Helper()
	r := e.do("GET", "/api/v1/sales/no-such-sale", term, nil)
	switch r.status {
	case http.StatusNotFound:
		return true
	case http.StatusUnauthorized:
		return false
	}
	e.t.Fatalf("GET as %s: %d %s", term, r.status, r.body)
	return false
}

// TestRotatedToken: a rotated till's old token works during the grace and
// not after it; the new one works throughout; a rotation with no grace
// stops the old token at once.
func TestRotatedToken(t *testing.T) {
	e := setup(t)
	tok, err := pos.RotateToken(e.ctx, e.j, "till-1", time.Hour, e.fake.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["till-1 new"] = tok
	if !e.authorized("till-1") || !e.authorized("till-1 new") {
		t.Error("a token does not work during the grace")
	}
	e.fake.Advance(59 * time.Minute)
	if !e.authorized("till-1") {
		t.Error("the old token stopped before the grace ended")
	}
	e.fake.Advance(time.Minute)
	if e.authorized("till-1") {
		t.Error("the old token works after the grace")
	}
	if !e.authorized("till-1 new") {
		t.Error("the new token does not work after the grace")
	}
	// it is the same till: its sales, its name
	if got := e.terminal("till-1"); got.ID != "till-1" || got.Revoked {
		t.Errorf("till after rotation: %+v", got)
	}

	tok, err = pos.RotateToken(e.ctx, e.j, "till-2", 0, e.fake.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["till-2 new"] = tok
	if e.authorized("till-2") || !e.authorized("till-2 new") {
		t.Error("a rotation with no grace: the old token works, or the new does not")
	}

	// the UI's sign-in takes the tokens as the API does
	login := func(token string) int {
		req, _ := http.NewRequest("POST", e.baseURL+"/login", strings.NewReader("token="+token))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := login(e.tokens["till-1"]); got != http.StatusUnauthorized {
		t.Errorf("sign in with an expired old token: %d", got)
	}
	if got := login(e.tokens["till-1 new"]); got != http.StatusSeeOther {
		t.Errorf("sign in with the new token: %d", got)
	}
}

// TestTerminalLastUsed: a token's use is recorded, at most once a minute.
func TestTerminalLastUsed(t *testing.T) {
	e := setup(t)
	if got := e.terminal("till-1").LastUsedAt; !got.IsZero() {
		t.Fatalf("used before any request: %v", got)
	}
	first := e.fake.Now()
	e.authorized("till-1")
	if got := e.terminal("till-1").LastUsedAt; !got.Equal(first) {
		t.Errorf("last used %v, want %v", got, first)
	}
	e.fake.Advance(30 * time.Second)
	e.authorized("till-1")
	if got := e.terminal("till-1").LastUsedAt; !got.Equal(first) {
		t.Errorf("written again within a minute: last used %v, want %v", got, first)
	}
	e.fake.Advance(31 * time.Second)
	e.authorized("till-1")
	if got := e.terminal("till-1").LastUsedAt; !got.Equal(e.fake.Now()) {
		t.Errorf("last used %v, want %v", got, e.fake.Now())
	}
	if got := e.terminal("till-2").LastUsedAt; !got.IsZero() {
		t.Errorf("till-2 used at %v", got)
	}
}

// TestRetryAfter: every 409 and 503 the server answers carries
// Retry-After.
func TestRetryAfter(t *testing.T) {
	e := setup(t)
	if err := e.sb.AddFault(sandbox.Fault{Method: "POST", Path: "/api/payment-requests", Kind: sandbox.FaultLatency, DelayMs: 2000, Count: 1}); err != nil {
		t.Fatal(err)
	}
	slow := map[string]any{"value": 1200, "externalRef": "R-SLOW"}
	first := make(chan response, 1)
	go func() { first <- e.do("POST", "/api/v1/sales", "till-1", slow, "Idempotency-Key", "k-slow") }()
	e.fake.BlockUntil(1, nil)
	inProgress := e.do("POST", "/api/v1/sales", "till-1", slow, "Idempotency-Key", "k-slow")
	e.fake.Advance(2 * time.Second)
	if r := <-first; r.status != http.StatusCreated {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	e.settle()

	e.sale("till-1", map[string]any{"value": 500, "externalRef": "R-OPEN"})
	refConflict := e.do("POST", "/api/v1/sales", "till-2", map[string]any{"value": 500, "externalRef": "R-OPEN"}, "Idempotency-Key", "k-open")
	replayed := e.do("POST", "/api/v1/sales", "till-2", map[string]any{"value": 500, "externalRef": "R-OPEN"}, "Idempotency-Key", "k-open")
	keyReused := e.do("POST", "/api/v1/sales", "till-2", map[string]any{"value": 600, "externalRef": "R-OTHER"}, "Idempotency-Key", "k-open")

	cases := []struct {
		name   string
		r      response
		status int
	}{
		{"in-progress Idempotency-Key", inProgress, http.StatusConflict},
		{"open externalRef", refConflict, http.StatusConflict},
		{"replayed 409", replayed, http.StatusConflict},
		{"Idempotency-Key of another request", keyReused, http.StatusConflict},
		{"webhook keys unavailable", webhookKeysUnavailable(t, e), http.StatusServiceUnavailable},
		{"healthz degraded", healthzDegraded(t, e), http.StatusServiceUnavailable},
	}
	for _, c := range cases {
		if c.r.status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, c.r.status, c.r.body, c.status)
			continue
		}
		if ra := c.r.header.Get("Retry-After"); ra == "" {
			t.Errorf("%s: %d without Retry-After", c.name, c.r.status)
		}
	}
	if replayed.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the second k-open was not a replay: %v", replayed.header)
	}
}

// webhookKeysUnavailable answers a webhook call while Centrapay's key set
// cannot be fetched.
func webhookKeysUnavailable(t *testing.T, e *env) response {
	t.Helper()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // nothing listens there now
	const path = "/hooks/centrapay"
	v, err := centrapay.NewWebhookVerifier(centrapay.WebhookVerifierConfig{Audience: "http://pos.test" + path,
		JWKSURL: dead.URL + "/.well-known/jwks.json", Clock: e.fake})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Engine: e.eng, Terminals: e.j, Clock: e.fake,
		Webhooks: &server.Webhooks{Verifier: v, Notifications: e.j, Path: path}})
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	jwt := b64([]byte(`{"alg":"ES256","kid":"k1","typ":"JWT"}`)) + "." + b64([]byte(`{}`)) + "." + b64(make([]byte, 64))
	req := httptest.NewRequest("POST", path, strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+jwt)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// healthzDegraded answers /healthz while Centrapay refuses the API key.
func healthzDegraded(t *testing.T, e *env) response {
	t.Helper()
	e.sale("till-1", map[string]any{"value": 800})
	for _, p := range []string{"/api/*", "/api/*/*", "/api/*/*/*", "/api/*/*/*/*"} {
		e.sb.AddFault(sandbox.Fault{Path: p, Kind: sandbox.FaultStatus, Status: 401, Code: string(centrapay.ErrUnauthorized)})
	}
	e.tick()
	return e.do("GET", "/healthz", "", nil)
}
