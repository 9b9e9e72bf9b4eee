package server_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/internal/server"
	"github.com/centrapos/centrapos/pos"
)

// hookCall is a webhook call as it was received, with the answer.
type hookCall struct {
	auth   string
	body   []byte
	status int
}

// hookEnv is env with a second server on the same engine and journal that
// receives Centrapay's webhooks; the sandbox delivers to it.
type hookEnv struct {
	*env
	url     string         // the endpoint's URL: the audience
	calls   chan hookCall  // every call the endpoint answered, as it came
	hookSrv *server.Server // the server with the endpoint
}

// setupHooks starts the webhook server with a verifier of the sandbox's
// JWKS on the env's fake clock, and subscribes it at the sandbox.
func setupHooks(t *testing.T, hooks server.Webhooks, opts ...func(*setupOptions)) *hookEnv {
	t.Helper()
	h := &hookEnv{env: setup(t, opts...), calls: make(chan hookCall, 64)}
	ts := httptest.NewUnstartedServer(nil)
	path := hooks.Path
	if path == "" {
		path = server.DefaultWebhookPath
	}
	h.url = "http://" + ts.Listener.Addr().String() + path
	v, err := centrapay.NewWebhookVerifier(centrapay.WebhookVerifierConfig{Audience: h.url,
		JWKSURL: h.sbURL + "/.well-known/jwks.json", Clock: h.fake})
	if err != nil {
		t.Fatal(err)
	}
	if hooks.Verifier == nil {
		hooks.Verifier = v
	}
	hooks.Notifications = h.j
	srv, err := server.New(server.Config{Engine: h.eng, Terminals: h.j, Clock: h.fake,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Webhooks: &hooks})
	if err != nil {
		t.Fatal(err)
	}
	h.hookSrv = srv
	handler := srv.WebhookHandler()
	if !hooks.Separate {
		handler = srv
	}
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w}
		handler.ServeHTTP(rec, r)
		if r.URL.Path == path {
			h.calls <- hookCall{auth: r.Header.Get("Authorization"), body: body, status: rec.status}
		}
	})
	ts.Start()
	t.Cleanup(ts.Close)
	h.sb.AddWebhook(h.url)
	t.Cleanup(h.sb.Close) // before ts closes: deliveries in flight end first
	return h
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }

// next waits (in real time, briefly) for the endpoint's next call.
func (h *hookEnv) next() hookCall {
	h.t.Helper()
	select {
	case c := <-h.calls:
		return c
	case <-time.After(10 * time.Second):
		h.t.Fatal("no webhook call arrived")
		return hookCall{}
	}
}

// post sends a call to the endpoint as anyone on the internet could.
func (h *hookEnv) post(auth string, body []byte) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	<-h.calls // the recorder's copy
	return resp.StatusCode, string(b)
}

// polls counts the engine's reads of Payment Request id at Centrapay.
func (h *hookEnv) polls(id string) int {
	return strings.Count(h.logs.String(), `op="get payment request `+id+`"`)
}

// TestWebhookHintPolls: a sale is pending; the patron pays in the
// sandbox; the sandbox's notification arrives and the sale is paid at
// once, with the clock standing still and the engine's schedule never
// run: the notification made the engine poll, and Centrapay's answer to
// that poll paid the sale. A replay, even with the signature malleated,
// is answered 200 and polls nothing.
func TestWebhookHintPolls(t *testing.T) {
	h := setupHooks(t, server.Webhooks{})
	s := h.sale("till-1", map[string]any{"value": 800})
	prID := s.PaymentRequest.ID
	if s.Status != pos.StatusPending {
		t.Fatalf("sale %s", s.Status)
	}
	before, at := h.polls(prID), h.fake.Now()
	if err := h.sb.PatronPay(prID, "", 0); err != nil {
		t.Fatal(err)
	}
	call := h.next()
	if call.status != http.StatusOK {
		t.Fatalf("the endpoint answered %d; log:\n%s", call.status, h.logs.String())
	}
	h.settle() // the work the hint put first, the clock standing still
	got := h.get("till-1", s.ID)
	if got.Status != pos.StatusPaid || len(got.PaidBy) == 0 {
		t.Fatalf("after the notification the sale is %s %+v", got.Status, got.PaidBy)
	}
	if !h.fake.Now().Equal(at) || h.polls(prID) != before+1 {
		t.Errorf("clock moved %v, %d polls: want the one poll the hint made", h.fake.Now().Sub(at), h.polls(prID)-before)
	}
	if !strings.Contains(h.logs.String(), `msg="Centrapay notification" `) {
		t.Error("the notification is not logged")
	}

	for name, auth := range map[string]string{"replay": call.auth, "replay, signature (r, n−s)": highS(t, call.auth)} {
		status, body := h.post(auth, call.body)
		if status != http.StatusOK || !strings.Contains(body, "duplicate") {
			t.Errorf("%s: %d %s, want 200 duplicate", name, status, body)
		}
	}
	if n := h.polls(prID); n != before+1 {
		t.Errorf("replays polled: %d polls, want %d", n, before+1)
	}
	if strings.Contains(h.logs.String(), strings.TrimPrefix(call.auth, "Bearer ")) {
		t.Error("a token reached the log")
	}
}

// TestWebhookForgeries: calls not signed by Centrapay for this endpoint
// are answered 401 (saying no more), change no sale and poll nothing.
func TestWebhookForgeries(t *testing.T) {
	h := setupHooks(t, server.Webhooks{})
	// a genuine call for another endpoint, captured there
	other := make(chan hookCall, 4)
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		other <- hookCall{auth: r.Header.Get("Authorization"), body: b}
	}))
	t.Cleanup(elsewhere.Close)
	h.sb.AddWebhook(elsewhere.URL + "/hook")
	paid := h.sale("till-1", map[string]any{"value": 300})
	h.sb.PatronPay(paid.PaymentRequest.ID, "", 0)
	genuine := h.next()
	theirs := <-other
	if genuine.status != http.StatusOK {
		t.Fatalf("genuine call: %d", genuine.status)
	}

	// the target: a pending sale that nobody paid
	s := h.sale("till-1", map[string]any{"value": 900})
	prID := s.PaymentRequest.ID
	forged := notification(t, "ntf_forged", prID)
	mallory, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	kid := h.sb.JWKS().Keys[0].Kid
	selfSigned, err := centrapay.SignWebhook(mallory, kid, h.url, forged, h.fake.Now())
	if err != nil {
		t.Fatal(err)
	}
	unknownKid, _ := centrapay.SignWebhook(mallory, "mallory-1", h.url, forged, h.fake.Now())
	before := h.polls(prID)
	huge := append(append([]byte(`{"id":"x","pad":"`), bytes.Repeat([]byte("a"), 1<<20)...), `"}`...)
	for _, c := range []struct {
		name   string
		auth   string
		body   []byte
		status int
	}{
		{"no signature", "", forged, http.StatusUnauthorized},
		{"signed by another key under Centrapay's kid", selfSigned, forged, http.StatusUnauthorized},
		{"signed by a key Centrapay does not have", unknownKid, forged, http.StatusUnauthorized},
		{"a genuine token over another body", genuine.auth, forged, http.StatusUnauthorized},
		{"a genuine call with its signature broken", breakSig(genuine.auth), genuine.body, http.StatusUnauthorized},
		{"a genuine call for another endpoint (aud)", theirs.auth, theirs.body, http.StatusUnauthorized},
		{"a body over 1 MiB", genuine.auth, huge, http.StatusRequestEntityTooLarge},
	} {
		status, body := h.post(c.auth, c.body)
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.status)
		}
		if c.status == http.StatusUnauthorized && body != `{"status":"rejected"}`+"\n" {
			t.Errorf("%s: the answer says more than rejected: %s", c.name, body)
		}
	}
	if got := h.get("till-1", s.ID); got.Status != pos.StatusPending {
		t.Errorf("after forgeries the sale is %s", got.Status)
	}
	if n := h.polls(prID); n != before {
		t.Errorf("forgeries polled %d times", n-before)
	}
	if !strings.Contains(h.logs.String(), `level=WARN msg="Centrapay webhook rejected"`) {
		t.Error("rejections are not logged at warn")
	}
	for _, tok := range []string{selfSigned, genuine.auth, theirs.auth} {
		if strings.Contains(h.logs.String(), strings.TrimPrefix(tok, "Bearer ")) {
			t.Error("a token reached the log")
		}
	}
	// a forged notification is not recorded: it cannot keep the genuine
	// one with its id from being processed
	sum := sha256.Sum256(forged)
	if seen, _ := h.j.SeenNotification(h.ctx, "ntf_forged", hex.EncodeToString(sum[:]), h.fake.Now()); seen {
		t.Error("forged notification recorded")
	}
	rec := httptest.NewRecorder()
	h.hookSrv.Admin().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	metrics := rec.Body.Bytes()
	for _, want := range []string{`centrapos_centrapay_notifications_total{result="rejected"} 6`, `centrapos_centrapay_notifications_total{result="accepted"} 1`,
		`centrapos_centrapay_notifications_total{result="too_large"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestWebhookUnknownRequest: a notification of a request no sale holds (a
// payment another POS of the account took) is answered 200 and does
// nothing: no poll, no sale.
func TestWebhookUnknownRequest(t *testing.T) {
	h := setupHooks(t, server.Webhooks{})
	pr, _, err := h.cp.Create(h.ctx, &centrapay.CreateRequest{ConfigID: h.seed.ConfigID, Value: centrapay.Cents(500, "NZD"), ExternalRef: "elsewhere-1"})
	if err != nil {
		t.Fatal(err)
	}
	h.sb.PatronPay(pr.ID, "", 0)
	if c := h.next(); c.status != http.StatusOK {
		t.Fatalf("answered %d", c.status)
	}
	if n := h.polls(pr.ID); n != 0 {
		t.Errorf("%d polls of a request no sale holds", n)
	}
	if _, err := h.j.FindSale(h.ctx, pos.SaleQuery{PaymentRequestID: pr.ID}); err == nil {
		t.Error("a sale appeared")
	}
}

// TestWebhookSeparateListener: with a listener of its own, the endpoint
// is served there alone, and not by the main handler.
func TestWebhookSeparateListener(t *testing.T) {
	h := setupHooks(t, server.Webhooks{Separate: true, Path: "/hooks/cp"})
	s := h.sale("till-1", map[string]any{"value": 800})
	h.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	if c := h.next(); c.status != http.StatusOK {
		t.Fatalf("answered %d", c.status)
	}
	h.settle()
	if got := h.get("till-1", s.ID); got.Status != pos.StatusPaid {
		t.Errorf("sale %s", got.Status)
	}
	base := strings.TrimSuffix(h.url, "/hooks/cp")
	if resp, err := http.Get(base + "/api/v1/sales"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the webhook listener serves the API: %v %v", resp, err)
	}
	rec := httptest.NewRecorder()
	h.hookSrv.ServeHTTP(rec, httptest.NewRequest("POST", "/hooks/cp", strings.NewReader(`{}`)))
	if rec.Code == http.StatusOK || rec.Code == http.StatusUnauthorized {
		t.Errorf("the main handler serves the webhook: %d", rec.Code)
	}
}

func TestWebhookConfig(t *testing.T) {
	e := setup(t)
	v, _ := centrapay.NewWebhookVerifier(centrapay.WebhookVerifierConfig{Audience: "https://pos.example.com/webhooks/centrapay"})
	for name, w := range map[string]*server.Webhooks{
		"no verifier":        {Notifications: e.j},
		"no notifications":   {Verifier: v},
		"a relative path":    {Verifier: v, Notifications: e.j, Path: "webhooks"},
		"a path in the API":  {Verifier: v, Notifications: e.j, Path: "/api/v1/sales"},
		"a wildcard pattern": {Verifier: v, Notifications: e.j, Path: "/webhooks/{x}"},
	} {
		if _, err := server.New(server.Config{Engine: e.eng, Terminals: e.j, Webhooks: w}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// notification is the body of a paid notification of request prID.
func notification(t *testing.T, id, prID string) []byte {
	t.Helper()
	b, err := json.Marshal(centrapay.Notification{ID: id, Type: centrapay.NotificationPaid,
		Data: centrapay.Activity{Type: "payment", PaymentRequestID: prID, Value: centrapay.Cents(900, "NZD")}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// breakSig flips a bit of auth's signature.
func breakSig(auth string) string {
	i := strings.LastIndex(auth, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(auth[i+1:])
	sig[10] ^= 1
	return auth[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// highS returns auth with its ES256 signature (r, s) replaced by
// (r, n−s), which verifies as well.
func highS(t *testing.T, auth string) string {
	t.Helper()
	i := strings.LastIndex(auth, ".")
	sig, err := base64.RawURLEncoding.DecodeString(auth[i+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %v", err)
	}
	s := new(big.Int).Sub(elliptic.P256().Params().N, new(big.Int).SetBytes(sig[32:]))
	out := append(sig[:32:32], s.FillBytes(make([]byte, 32))...)
	return auth[:i+1] + base64.RawURLEncoding.EncodeToString(out)
}

// TestWebhookRefundCompleted: a refund Centrapay accepted is pending
// until its refund-completed notification arrives; that signed
// notification completes it at once, with the clock standing still and
// no poll; the sale's refunds say so.
func TestWebhookRefundCompleted(t *testing.T) {
	h := setupHooks(t, server.Webhooks{}, func(o *setupOptions) { o.refundDelay = time.Hour })
	s := h.sale("till-1", map[string]any{"value": 1500, "flow": "barcode", "barcode": h.sb.Scenarios()["quick-pay"].Barcode})
	typeOf := func(c hookCall) string {
		var n centrapay.Notification
		if err := json.Unmarshal(c.body, &n); err != nil {
			t.Fatal(err)
		}
		if c.status != http.StatusOK {
			t.Fatalf("%s answered %d; log:\n%s", n.Type, c.status, h.logs.String())
		}
		return n.Type
	}
	if typ := typeOf(h.next()); typ != centrapay.NotificationPaid {
		t.Fatalf("first notification %s", typ)
	}
	r := h.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": s.ID, "value": 500})
	var op struct {
		ID           string           `json:"id"`
		RefundStatus pos.RefundStatus `json:"refundStatus"`
	}
	r.json(t, &op)
	if r.status != http.StatusCreated || op.RefundStatus != pos.RefundPending {
		t.Fatalf("refund: %d %s, want 201 pending", r.status, r.body)
	}
	if typ := typeOf(h.next()); typ != centrapay.NotificationRefundInitiated {
		t.Fatalf("notification on refund: %s", typ)
	}
	status := func() pos.RefundStatus {
		var v struct {
			Refunds []struct {
				ID     string           `json:"id"`
				Status pos.RefundStatus `json:"status"`
			} `json:"refunds"`
		}
		h.do("GET", "/api/v1/sales/"+s.ID, "till-1", nil).json(t, &v)
		if len(v.Refunds) != 1 || v.Refunds[0].ID != op.ID {
			t.Fatalf("refunds %+v", v.Refunds)
		}
		return v.Refunds[0].Status
	}
	if st := status(); st != pos.RefundPending {
		t.Fatalf("refund %s before Centrapay completed it, want pending", st)
	}
	// the sandbox completes it and notifies; the engine's due work is
	// never run (no settle), so only the notification can complete it
	if err := h.sb.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	if typ := typeOf(h.next()); typ != centrapay.NotificationRefundCompleted {
		t.Fatalf("notification at completion: %s", typ)
	}
	if st := status(); st != pos.RefundCompleted {
		t.Errorf("refund %s after refund-completed, want refunded", st)
	}
	if strings.Contains(h.logs.String(), "list activities of payment request") {
		t.Error("the engine read the request's activities: the notification alone should complete the refund")
	}
}
