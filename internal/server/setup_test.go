package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/internal/server"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
	"github.com/centrapos/centrapos/store/sqlite"
)

// env is a POS server on a real SQLite journal, its engine talking HTTP to
// an in-process sandbox, all on one fake clock.
type env struct {
	t       *testing.T
	ctx     context.Context
	fake    *clock.Fake
	sb      *sandbox.Sandbox
	sbURL   string            // the sandbox's base URL
	cp      *centrapay.Client // the engine's client, for calls the tests make as Centrapay's other users
	eng     *pos.Engine
	srv     *server.Server
	ts      *httptest.Server
	j       *sqlite.Journal
	logs    *syncBuffer
	tokens  map[string]string // by terminal id: till-1, till-2, manager
	seed    sandbox.Seed
	baseURL string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// setupOptions vary setup's env.
type setupOptions struct {
	rateLimit   int           // Centrapay calls a minute; default 1,000,000
	refundDelay time.Duration // the sandbox's (sandbox.Config.RefundDelay)
}

func setup(t *testing.T, opts ...func(*setupOptions)) *env {
	t.Helper()
	o := setupOptions{rateLimit: 1000000}
	for _, f := range opts {
		f(&o)
	}
	e := &env{t: t, ctx: context.Background(), fake: clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)),
		tokens: map[string]string{}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	e.sb, err = sandbox.New(sandbox.Config{Clock: e.fake, RateLimit: -1, RefundDelay: o.refundDelay})
	if err != nil {
		t.Fatal(err)
	}
	sbSrv := httptest.NewServer(e.sb)
	t.Cleanup(sbSrv.Close)
	e.sbURL = sbSrv.URL
	e.seed = e.sb.Seed()
	client, err := centrapay.NewClient(centrapay.WithBaseURL(sbSrv.URL), centrapay.WithAPIKey(e.seed.APIKey), centrapay.WithClock(e.fake),
		centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 2, NoSleep: true}), centrapay.WithRateLimit(o.rateLimit), centrapay.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	e.cp = client
	e.j, err = sqlite.Open(e.ctx, filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.j.Close() })
	e.eng, err = pos.New(pos.Config{Centrapay: client, Journal: e.j, MerchantAccountID: e.seed.MerchantAccountID, Clock: e.fake, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	nz, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	e.srv, err = server.New(server.Config{Engine: e.eng, Terminals: e.j, MerchantName: "Centrapay Café", Clock: e.fake, Logger: logger, Location: nz,
		CredentialCheck: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.ts.Close)
	e.baseURL = e.ts.URL
	for _, tm := range []pos.Terminal{{ID: "till-1", ConfigID: e.seed.ConfigID}, {ID: "till-2", ConfigID: e.seed.ConfigID},
		{ID: "manager", ConfigID: e.seed.ConfigID, Manager: true}, {ID: "elsewhere", ConfigID: "mc-another-location"}} {
		tok, err := pos.AddTerminal(e.ctx, e.j, tm)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[tm.ID] = tok
	}
	return e
}

// settle does the engine's due work; tick advances the clock a second
// and settles.
func (e *env) settle() {
	for i := 0; e.eng.Step(e.ctx) > 0; i++ {
		if i > 1000 {
			e.t.Fatal("engine does not settle")
		}
	}
}

func (e *env) tick() { e.fake.Advance(time.Second); e.settle() }

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %d %s: %v", r.status, r.body, err)
	}
}

// admin calls the server's admin listener (metrics, pprof).
func (e *env) admin(path string) response {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.srv.Admin().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// do calls the server as terminal term ("" for none) with a JSON body
// (nil for none) and extra headers.
func (e *env) do(method, path, term string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if b, ok := body.(string); ok {
		rd = strings.NewReader(b)
	} else if body != nil {
		buf, _ := json.Marshal(body)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, e.baseURL+path, rd)
	if term != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[term])
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	checkResponse(e.t, req, resp.StatusCode, resp.Header, b)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// sale starts a sale as term and returns it.
func (e *env) sale(term string, body map[string]any) *pos.Sale {
	e.t.Helper()
	r := e.do("POST", "/api/v1/sales", term, body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("start sale: %d %s", r.status, r.body)
	}
	var s pos.Sale
	r.json(e.t, &s)
	e.settle()
	return &s
}

func (e *env) get(term, id string) *pos.Sale {
	e.t.Helper()
	r := e.do("GET", "/api/v1/sales/"+id, term, nil)
	if r.status != 200 {
		e.t.Fatalf("get sale: %d %s", r.status, r.body)
	}
	var s pos.Sale
	r.json(e.t, &s)
	return &s
}

// cookie signs terminal term in with a one-time link and returns its
// session cookie, as "name=value".
func (e *env) cookie(term string) string {
	e.t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(e.baseURL + e.loginLink(term))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	c := resp.Cookies()
	if len(c) != 1 {
		e.t.Fatalf("sign in as %s: %d, %d cookies", term, resp.StatusCode, len(c))
	}
	return c[0].Name + "=" + c[0].Value
}

// form makes a request as a browser's page does: a form (nil: none) to
// target, signed in as terminal term ("" for nobody), with headers given
// as name, value pairs; it returns the status, the body and the headers.
// client decides whether redirects are followed.
func (e *env) form(client *http.Client, method, target, term string, form url.Values, header ...string) (int, string, http.Header) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if term != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[term])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// loginLink is a one-time sign-in path for terminal term.
func (e *env) loginLink(term string) string {
	e.t.Helper()
	link, err := e.srv.LoginLink(e.ctx, term)
	if err != nil {
		e.t.Fatal(err)
	}
	return link
}
