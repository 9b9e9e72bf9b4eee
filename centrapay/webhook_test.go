package centrapay_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
)

var hookT0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

const hookAud = "https://pos.example.com/webhooks/centrapay"

// jwksServer serves a key set, as told, and counts the fetches.
type jwksServer struct {
	*httptest.Server
	mu           sync.Mutex
	status       int
	body         []byte
	cacheControl string
	fetches      atomic.Int32
}

func newJWKS(t *testing.T, cacheControl string, keys ...any) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(http.StatusOK, cacheControl, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		status, body, cc := s.status, s.body, s.cacheControl
		s.mu.Unlock()
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// set changes the answer: keys are JWKs (or any JSON) of the set.
func (s *jwksServer) set(status int, cacheControl string, keys ...any) {
	if keys == nil {
		keys = []any{}
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	s.mu.Lock()
	s.status, s.body, s.cacheControl = status, b, cacheControl
	s.mu.Unlock()
}

func (s *jwksServer) url() string { return s.URL + "/api/.well-known/jwks.json" }

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jwk(t *testing.T, k *ecdsa.PrivateKey, kid string) centrapay.JWK {
	t.Helper()
	j, err := centrapay.PublicJWK(&k.PublicKey, kid)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func newVerifier(t *testing.T, jwksURL string, clk clock.Clock) *centrapay.WebhookVerifier {
	t.Helper()
	v, err := centrapay.NewWebhookVerifier(centrapay.WebhookVerifierConfig{Audience: hookAud, JWKSURL: jwksURL, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const hookBody = `{"id":"ntf_1","type":"payment-request:paid","data":{"id":"act_1","type":"payment","value":{"amount":"800","currency":"NZD"},"paymentRequestId":"pr_1"},"accountId":"acc_1","test":true,"createdAt":"2026-11-25T09:00:00.000Z"}`

func bodyHash(b string) string {
	sum := sha256.Sum256([]byte(b))
	return hex.EncodeToString(sum[:])
}

// claims are a call's claims at now, with times as strings as in
// Centrapay's example.
func claims(now time.Time, body string) map[string]any {
	return map[string]any{"iat": strconv.FormatInt(now.Unix(), 10), "exp": strconv.FormatInt(now.Add(5*time.Minute).Unix(), 10),
		"aud": hookAud, "request_body_sha256": bodyHash(body)}
}

func with(c map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// sign makes a compact JWS of payload (claims marshalled, or raw bytes)
// with go-jose.
func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, payload any, opts ...func(*jose.SignerOptions)) string {
	t.Helper()
	b, ok := payload.([]byte)
	if !ok {
		b, _ = json.Marshal(payload)
	}
	so := (&jose.SignerOptions{}).WithType("JWT")
	for _, o := range opts {
		o(so)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, so)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// highS returns token with its ES256 signature (r, s) replaced by
// (r, n−s): the other signature of the same message that ECDSA accepts.
func highS(t *testing.T, token string) string {
	t.Helper()
	i := strings.LastIndex(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %v", err)
	}
	n := elliptic.P256().Params().N
	s := new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:]))
	out := append(append([]byte(nil), sig[:32]...), s.FillBytes(make([]byte, 32))...)
	return token[:i+1] + b64(out)
}

type outcome int

const (
	accepted outcome = iota
	rejected
	malformed
	unavailable
)

func classify(err error) outcome {
	switch {
	case err == nil:
		return accepted
	case errors.Is(err, centrapay.ErrWebhookRejected):
		return rejected
	case errors.Is(err, centrapay.ErrWebhookMalformed):
		return malformed
	case errors.Is(err, centrapay.ErrWebhookKeysUnavailable):
		return unavailable
	}
	return -1
}

// TestWebhookVerify holds a call to every rule, with the audit's cases.
func TestWebhookVerify(t *testing.T) {
	key, other := newKey(t), newKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := newJWKS(t, "", jwk(t, key, "k1"))
	fake := clock.NewFake(hookT0)
	now := hookT0
	c := claims(now, hookBody)
	good := sign(t, jose.ES256, key, "k1", c)
	pubBytes, _ := key.PublicKey.Bytes()
	dataAsString, _ := json.Marshal(map[string]any{"id": "ntf_2", "type": "payment-request:paid", "accountId": "acc_1",
		"data": `{"id":"act_2","type":"payment","paymentRequestId":"pr_2","value":{"amount":"100","currency":"NZD"}}`})
	oddData := `{"id":"ntf_3","type":"payment-request:paid","data":{"paymentRequestId":"pr_3","value":{"amount":12.5}}}`
	big := strings.Repeat("a", 9000)
	unix := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	unixN := func(d time.Duration) int64 { return now.Add(d).Unix() }

	cases := []struct {
		name  string
		auth  string // the whole Authorization header
		body  string
		want  outcome
		reqID string // the notification's payment request, when accepted
	}{
		{"Centrapay's form: times as strings", "Bearer " + good, hookBody, accepted, "pr_1"},
		{"times as numbers", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "iat", unixN(0), "exp", unixN(5*time.Minute))), hookBody, accepted, "pr_1"},
		{"a fractional NumericDate", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "iat", float64(unixN(0))+0.5)), hookBody, accepted, "pr_1"},
		{"SignWebhook's token", mustSignWebhook(t, key, "k1", hookBody, now), hookBody, accepted, "pr_1"},
		{"bearer in lower case", "bearer " + good, hookBody, accepted, "pr_1"},
		{"aud as an array of one", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "aud", []string{hookAud})), hookBody, accepted, "pr_1"},
		{"upper-case hex body hash", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "request_body_sha256", strings.ToUpper(bodyHash(hookBody)))), hookBody, accepted, "pr_1"},
		{"iat 4 min ago (clock skew)", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "iat", unix(-4*time.Minute), "exp", unix(time.Minute))), hookBody, accepted, "pr_1"},
		{"iat 4 min ahead (clock skew)", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "iat", unix(4*time.Minute), "exp", unix(9*time.Minute))), hookBody, accepted, "pr_1"},
		{"audit: malleated signature (r, n−s) verifies: nothing keys on it", "Bearer " + highS(t, good), hookBody, accepted, "pr_1"},
		{"data as a string holding the activity", "Bearer " + sign(t, jose.ES256, key, "k1", claims(now, string(dataAsString))), string(dataAsString), accepted, "pr_2"},
		{"an activity field in an unknown form", "Bearer " + sign(t, jose.ES256, key, "k1", claims(now, oddData)), oddData, accepted, "pr_3"},

		{"no Authorization", "", hookBody, rejected, ""},
		{"not Bearer", "Basic " + good, hookBody, rejected, ""},
		{"no token", "Bearer ", hookBody, rejected, ""},
		{"token too long", "Bearer " + good + big, hookBody, rejected, ""},
		{"not a JWS", "Bearer not.a.jwt", hookBody, rejected, ""},
		{"JWS JSON serialization", "Bearer " + jsonSerialized(t, key, c), hookBody, rejected, ""},
		{"alg none", "Bearer " + b64([]byte(`{"alg":"none","kid":"k1"}`)) + "." + b64(mustJSON(c)) + ".", hookBody, rejected, ""},
		{"alg HS256 keyed with the public key", "Bearer " + sign(t, jose.HS256, pubBytes, "k1", c), hookBody, rejected, ""},
		{"alg RS256", "Bearer " + sign(t, jose.RS256, rsaKey, "k1", c), hookBody, rejected, ""},
		{"header alg ES256 over an RS256 signature", "Bearer " + swapHeader(t, sign(t, jose.RS256, rsaKey, "k1", c), `{"alg":"ES256","kid":"k1"}`), hookBody, rejected, ""},
		{"b64 false", "Bearer " + sign(t, jose.ES256, key, "k1", c, func(o *jose.SignerOptions) { o.WithBase64(false) }), hookBody, rejected, ""},
		{"signed by another key under our kid", "Bearer " + sign(t, jose.ES256, other, "k1", c), hookBody, rejected, ""},
		{"no kid", "Bearer " + sign(t, jose.ES256, key, "", c), hookBody, rejected, ""},
		{"claims changed after signing", "Bearer " + swapPayload(t, good, with(c, "aud", "https://evil.example/")), hookBody, rejected, ""},
		{"signature cut", "Bearer " + good[:len(good)-4] + "AAAA", hookBody, rejected, ""},
		{"audit: no aud", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "aud", nil)), hookBody, rejected, ""},
		{"aud null", "Bearer " + sign(t, jose.ES256, key, "k1", []byte(`{"iat":`+unix(0)+`,"exp":`+unix(time.Minute)+`,"aud":null,"request_body_sha256":"`+bodyHash(hookBody)+`"}`)), hookBody, rejected, ""},
		{"aud empty", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "aud", "")), hookBody, rejected, ""},
		{"aud another endpoint", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "aud", "https://someone.else/hook")), hookBody, rejected, ""},
		{"aud ours with a trailing slash", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "aud", hookAud+"/")), hookBody, rejected, ""},
		{"aud an array holding ours and another", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "aud", []string{hookAud, "https://x/"})), hookBody, rejected, ""},
		{"aud an empty array", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "aud", []string{})), hookBody, rejected, ""},
		{"no exp", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "exp", nil)), hookBody, rejected, ""},
		{"expired", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "iat", unix(-5*time.Minute), "exp", unix(-time.Second))), hookBody, rejected, ""},
		{"exp now", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "iat", unix(-time.Minute), "exp", unix(0))), hookBody, rejected, ""},
		{"audit: exp ten years out", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "exp", strconv.FormatInt(now.AddDate(10, 0, 0).Unix(), 10))), hookBody, rejected, ""},
		{"exp 11 min after iat", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "exp", unix(11*time.Minute))), hookBody, rejected, ""},
		{"exp before iat", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "iat", unix(2*time.Minute), "exp", unix(time.Minute))), hookBody, rejected, ""},
		{"exp not a time", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "exp", "soon")), hookBody, rejected, ""},
		{"no iat", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "iat", nil)), hookBody, rejected, ""},
		{"iat 6 min ago", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "iat", unix(-6*time.Minute), "exp", unix(time.Minute))), hookBody, rejected, ""},
		{"iat 6 min ahead", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "iat", unix(6*time.Minute), "exp", unix(7*time.Minute))), hookBody, rejected, ""},
		{"no request_body_sha256", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "request_body_sha256", nil)), hookBody, rejected, ""},
		{"request_body_sha256 not hex", "Bearer " + sign(t, jose.ES256, key, "k1", with(c, "request_body_sha256", "zz")), hookBody, rejected, ""},
		{"body changed", "Bearer " + good, strings.Replace(hookBody, "pr_1", "pr_9", 1), rejected, ""},
		{"body with a trailing newline", "Bearer " + good, hookBody + "\n", rejected, ""},
		{"claims not JSON", "Bearer " + sign(t, jose.ES256, key, "k1", []byte("not json")), hookBody, rejected, ""},

		{"signed body that is not JSON", "Bearer " + sign(t, jose.ES256, key, "k1", claims(now, "hello")), "hello", malformed, ""},
		{"signed body without an id", "Bearer " + sign(t, jose.ES256, key, "k1", claims(now, `{"type":"payment-request:paid"}`)), `{"type":"payment-request:paid"}`, malformed, ""},
	}
	v := newVerifier(t, srv.url(), fake)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := v.Verify(context.Background(), tc.auth, []byte(tc.body))
			t.Log(err)
			if got := classify(err); got != tc.want {
				t.Fatalf("outcome %d (%v), want %d", got, err, tc.want)
			}
			if tc.want == accepted && (n == nil || n.Data.PaymentRequestID != tc.reqID || n.ID == "" || n.Type != centrapay.NotificationPaid) {
				t.Errorf("notification %+v", n)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(tc.auth, "Bearer ")) && len(tc.auth) > 10 {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("%d JWKS fetches, want 1 (the set is cached)", n)
	}
}

func mustSignWebhook(t *testing.T, key *ecdsa.PrivateKey, kid, body string, now time.Time) string {
	t.Helper()
	auth, err := centrapay.SignWebhook(key, kid, hookAud, []byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	return auth
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func jsonSerialized(t *testing.T, key *ecdsa.PrivateKey, c map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(mustJSON(c))
	if err != nil {
		t.Fatal(err)
	}
	return jws.FullSerialize()
}

func swapHeader(t *testing.T, token, header string) string {
	t.Helper()
	_, rest, _ := strings.Cut(token, ".")
	return b64([]byte(header)) + "." + rest
}

func swapPayload(t *testing.T, token string, c map[string]any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	return parts[0] + "." + b64(mustJSON(c)) + "." + parts[2]
}

// TestWebhookHighS: ECDSA's two signatures of one message, (r, s) and
// (r, n−s), both verify (RFC 7518 does not ask Centrapay for a low s, so
// neither may be refused) and give the same notification: a receiver that
// deduplicates by id and body hash, never by signature bytes, treats the
// second as the replay it is.
func TestWebhookHighS(t *testing.T) {
	key := newKey(t)
	srv := newJWKS(t, "", jwk(t, key, "k1"))
	v := newVerifier(t, srv.url(), clock.NewFake(hookT0))
	tok := sign(t, jose.ES256, key, "k1", claims(hookT0, hookBody))
	mauled := highS(t, tok)
	if mauled == tok {
		t.Fatal("the malleated token is the same")
	}
	a, err1 := v.Verify(context.Background(), "Bearer "+tok, []byte(hookBody))
	b, err2 := v.Verify(context.Background(), "Bearer "+mauled, []byte(hookBody))
	if err1 != nil || err2 != nil || a.ID != b.ID || a.Data.PaymentRequestID != b.Data.PaymentRequestID {
		t.Fatalf("both forms: %v %v %+v %+v", err1, err2, a, b)
	}
}

func TestWebhookVerifierConfig(t *testing.T) {
	for name, cfg := range map[string]centrapay.WebhookVerifierConfig{
		"audit: empty audience":        {Audience: ""},
		"blank audience":               {Audience: "  "},
		"relative audience":            {Audience: "/webhooks/centrapay"},
		"JWKS over http to a host":     {Audience: hookAud, JWKSURL: "http://auth.centrapay.com/api/.well-known/jwks.json"},
		"JWKS URL not absolute":        {Audience: hookAud, JWKSURL: "auth.centrapay.com/jwks"},
		"JWKS URL of another protocol": {Audience: hookAud, JWKSURL: "ftp://auth.centrapay.com/jwks"},
	} {
		if _, err := centrapay.NewWebhookVerifier(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, cfg := range map[string]centrapay.WebhookVerifierConfig{
		"Centrapay's JWKS by default": {Audience: hookAud},
		"a local sandbox over http":   {Audience: "http://127.0.0.1:8080/webhooks/centrapay", JWKSURL: "http://127.0.0.1:8081/.well-known/jwks.json"},
	} {
		v, err := centrapay.NewWebhookVerifier(cfg)
		if err != nil || v.Audience() != cfg.Audience {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestJWKSCacheControl: the key set is used as long as its answer's
// max-age says (an hour when it says nothing, at most a day), and fetched
// again after.
func TestJWKSCacheControl(t *testing.T) {
	for _, tc := range []struct {
		header string
		ttl    time.Duration
	}{
		{"public, max-age=300", 5 * time.Minute},
		{"max-age=\"120\", must-revalidate", 2 * time.Minute},
		{"", time.Hour},
		{"public", time.Hour},
		{"max-age=abc", time.Hour},
		{"max-age=31536000", 24 * time.Hour},
		{"no-store", 0},
		{"no-cache", 0},
		{"max-age=0", 0},
	} {
		t.Run(tc.header, func(t *testing.T) {
			key := newKey(t)
			srv := newJWKS(t, tc.header, jwk(t, key, "k1"))
			fake := clock.NewFake(hookT0)
			v := newVerifier(t, srv.url(), fake)
			verify := func(want int32) {
				t.Helper()
				now := fake.Now()
				if _, err := v.Verify(context.Background(), "Bearer "+sign(t, jose.ES256, key, "k1", claims(now, hookBody)), []byte(hookBody)); err != nil {
					t.Fatalf("at +%v: %v", now.Sub(hookT0), err)
				}
				if n := srv.fetches.Load(); n != want {
					t.Fatalf("at +%v: %d fetches, want %d", now.Sub(hookT0), n, want)
				}
			}
			verify(1)
			// a set is never fetched twice within JWKSMinRefetch, even
			// with no caching allowed: the stale set is used meanwhile
			fresh := max(tc.ttl, centrapay.JWKSMinRefetch)
			fake.Advance(fresh - time.Second)
			verify(1)
			fake.Advance(time.Second)
			verify(2)
		})
	}
}

// TestJWKSUnknownKid: a call signed with a kid the set lacks refetches the
// set (keys rotate without warning), at most once a minute however many
// such calls come.
func TestJWKSUnknownKid(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	srv := newJWKS(t, "max-age=3600", jwk(t, k1, "k1"))
	fake := clock.NewFake(hookT0)
	v := newVerifier(t, srv.url(), fake)
	verify := func(key *ecdsa.PrivateKey, kid string) error {
		_, err := v.Verify(context.Background(), "Bearer "+sign(t, jose.ES256, key, kid, claims(fake.Now(), hookBody)), []byte(hookBody))
		return err
	}
	if err := verify(k1, "k1"); err != nil || srv.fetches.Load() != 1 {
		t.Fatalf("k1: %v, %d fetches", err, srv.fetches.Load())
	}
	fake.Advance(2 * time.Minute)
	// Centrapay rotates to k2; the first call signed with it refetches
	srv.set(http.StatusOK, "max-age=3600", jwk(t, k2, "k2"))
	if err := verify(k2, "k2"); err != nil || srv.fetches.Load() != 2 {
		t.Fatalf("k2 after rotation: %v, %d fetches", err, srv.fetches.Load())
	}
	// the rotated-out key is gone with its set
	if err := verify(k1, "k1"); !errors.Is(err, centrapay.ErrWebhookRejected) {
		t.Errorf("k1 after rotation: %v", err)
	}
	// a flood of forged kids within the minute: no fetch
	for i := range 50 {
		fake.Advance(time.Second)
		if err := verify(k1, "forged-"+strconv.Itoa(i)); !errors.Is(err, centrapay.ErrWebhookRejected) {
			t.Fatalf("forged kid: %v", err)
		}
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("%d fetches after forged kids within a minute, want 2", n)
	}
	// a genuine new key published meanwhile is found once the minute is up
	srv.set(http.StatusOK, "max-age=3600", jwk(t, k2, "k2"), jwk(t, k1, "k3"))
	fake.Advance(5 * time.Second) // 55 s since the last fetch
	if err := verify(k1, "k3"); !errors.Is(err, centrapay.ErrWebhookRejected) || srv.fetches.Load() != 2 {
		t.Errorf("k3 within the minute: %v, %d fetches", err, srv.fetches.Load())
	}
	fake.Advance(5 * time.Second)
	if err := verify(k1, "k3"); err != nil || srv.fetches.Load() != 3 {
		t.Errorf("k3 after the minute: %v, %d fetches", err, srv.fetches.Load())
	}
}

// TestJWKSOutage: the last good set is kept through an empty answer, an
// error, garbage and a JWKS server that is gone; a key not in it is
// unavailable (try later), not forged.
func TestJWKSOutage(t *testing.T) {
	key := newKey(t)
	srv := newJWKS(t, "max-age=60", jwk(t, key, "k1"))
	fake := clock.NewFake(hookT0)
	v := newVerifier(t, srv.url(), fake)
	verify := func(kid string) error {
		_, err := v.Verify(context.Background(), "Bearer "+sign(t, jose.ES256, key, kid, claims(fake.Now(), hookBody)), []byte(hookBody))
		return err
	}
	if err := verify("k1"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		apply func()
	}{
		{"audit: an empty JWKS", func() { srv.set(http.StatusOK, "max-age=86400") }},
		{"a JWKS of keys it cannot use", func() {
			rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
			p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			srv.set(http.StatusOK, "max-age=86400", jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "r1"}, jose.JSONWebKey{Key: &p384.PublicKey, KeyID: "p384"},
				map[string]string{"kty": "EC", "crv": "P-256", "kid": "off-curve", "x": b64(make([]byte, 32)), "y": b64(make([]byte, 32))})
		}},
		{"a 503", func() { srv.set(http.StatusServiceUnavailable, "") }},
		{"garbage", func() {
			srv.mu.Lock()
			srv.status, srv.body = http.StatusOK, []byte("<html>")
			srv.mu.Unlock()
		}},
		{"audit: then an outage (server gone)", func() { srv.Close() }},
	}
	fetches := srv.fetches.Load()
	for _, st := range steps {
		st.apply()
		fake.Advance(2 * time.Minute) // the set is stale: each step refetches
		if err := verify("k1"); err != nil {
			t.Fatalf("%s: the last good key was dropped: %v", st.name, err)
		}
		fake.Advance(2 * time.Minute)
		if err := verify("k9"); !errors.Is(err, centrapay.ErrWebhookKeysUnavailable) {
			t.Errorf("%s: an unknown kid while the JWKS fails: %v", st.name, err)
		}
		if st.name != "audit: then an outage (server gone)" {
			if n := srv.fetches.Load(); n != fetches+2 {
				t.Fatalf("%s: %d fetches, want %d (one a call, each a minute or more apart)", st.name, n, fetches+2)
			}
			fetches += 2
		}
	}
	// a verifier that never had a set
	empty := newJWKS(t, "")
	if _, err := newVerifier(t, empty.url(), fake).Verify(context.Background(),
		"Bearer "+sign(t, jose.ES256, key, "k1", claims(fake.Now(), hookBody)), []byte(hookBody)); !errors.Is(err, centrapay.ErrWebhookKeysUnavailable) {
		t.Errorf("first answer empty: %v", err)
	}
}

// TestJWKSSkipsUnusableKeys: keys of other types, curves or uses are
// skipped; the ES256 key beside them is used.
func TestJWKSSkipsUnusableKeys(t *testing.T) {
	key := newKey(t)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	enc := jwk(t, newKey(t), "enc")
	enc.Use = "enc"
	wrongAlg := jwk(t, key, "k-rs")
	wrongAlg.Alg = "RS256"
	srv := newJWKS(t, "", jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "rsa", Algorithm: "RS256"}, enc, wrongAlg,
		map[string]string{"kty": "EC", "crv": "P-256", "kid": "bad", "x": "!!", "y": "??"}, jwk(t, key, "k1"))
	fake := clock.NewFake(hookT0)
	v := newVerifier(t, srv.url(), fake)
	for kid, want := range map[string]outcome{"k1": accepted, "k-rs": rejected, "enc": rejected, "rsa": rejected} {
		_, err := v.Verify(context.Background(), "Bearer "+sign(t, jose.ES256, key, kid, claims(fake.Now(), hookBody)), []byte(hookBody))
		if got := classify(err); got != want {
			t.Errorf("kid %s: %v", kid, err)
		}
	}
}
