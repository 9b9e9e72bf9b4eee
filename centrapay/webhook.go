package centrapay

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/centrapos/centrapos/clock"
)

// Notification types a POS may subscribe to.
const (
	NotificationPaid            = "payment-request:paid"
	NotificationRefundInitiated = "payment-request:refund-initiated"
	NotificationRefundCompleted = "payment-request:refund-completed"
)

// Notification is a webhook call's body. Data is the payment activity.
// Delivery is at least once and unordered: deduplicate by ID.
type Notification struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Data      Activity  `json:"data"`
	AccountID string    `json:"accountId"`
	Test      bool      `json:"test"`
	CreatedAt Timestamp `json:"createdAt"`
}

// JWK is one public key of a JSON Web Key Set (EC P-256 for ES256).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

// JWKS is a JSON Web Key Set, as served at DefaultJWKSURL.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// DefaultJWKSURL is where Centrapay publishes the keys that sign its
// webhook calls.
const DefaultJWKSURL = "https://auth.centrapay.com/api/.well-known/jwks.json"

// The limits a webhook call's JWT is held to.
const (
	// WebhookClockSkew is how far iat may be from the receiver's clock,
	// either way.
	WebhookClockSkew = 5 * time.Minute
	// WebhookMaxLifetime is the longest exp - iat accepted. Centrapay
	// sets exp to iat + 5 min; a token valid for longer (a year, ten
	// years) is refused, so a leaked token is not a key for ever.
	WebhookMaxLifetime = 10 * time.Minute
	// JWKSDefaultMaxAge is how long a key set is used when its answer
	// says nothing of caching (no Cache-Control max-age).
	JWKSDefaultMaxAge = time.Hour
	// JWKSMaxAge is the longest a key set is used before it is fetched
	// again, whatever its max-age says.
	JWKSMaxAge = 24 * time.Hour
	// JWKSMinRefetch is the least time between two fetches of the key
	// set: a call signed with an unknown kid refetches at most this
	// often, so forged calls cannot turn the receiver into a flood of
	// requests to Centrapay.
	JWKSMinRefetch = time.Minute
)

// ErrWebhookRejected is wrapped by every reason Verify rejects a call as
// not coming from Centrapay (answer 401).
var ErrWebhookRejected = errors.New("webhook rejected")

// ErrWebhookMalformed is returned for a call that verified (Centrapay
// signed it) but whose body is not a notification (answer 400).
var ErrWebhookMalformed = errors.New("webhook body is not a notification")

// ErrWebhookKeysUnavailable is returned when a call names a key the
// receiver does not have and Centrapay's key set could not be fetched:
// the call may be genuine, and is to be sent again later (answer 503).
var ErrWebhookKeysUnavailable = errors.New("webhook signing keys unavailable")

// PublicJWK describes key as a JWK with id kid, for ES256.
func PublicJWK(key *ecdsa.PublicKey, kid string) (JWK, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return JWK{}, fmt.Errorf("jwk %s: want a P-256 key", kid)
	}
	b, err := jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}.MarshalJSON()
	if err != nil {
		return JWK{}, fmt.Errorf("jwk %s: %w", kid, err)
	}
	var j JWK
	if err := json.Unmarshal(b, &j); err != nil {
		return JWK{}, fmt.Errorf("jwk %s: %w", kid, err)
	}
	return j, nil
}

// SignWebhook returns the Authorization header value Centrapay sends with
// a webhook: a JWT signed ES256 by key (id kid) with iat, exp (iat + 5
// min), aud and the SHA-256 of body, the times as strings of Unix seconds
// as in Centrapay's example. The sandbox uses it.
func SignWebhook(key *ecdsa.PrivateKey, kid, audience string, body []byte, now time.Time) (string, error) {
	sum := sha256.Sum256(body)
	claims, err := json.Marshal(map[string]string{"iat": strconv.FormatInt(now.Unix(), 10),
		"exp": strconv.FormatInt(now.Add(5*time.Minute).Unix(), 10), "aud": audience, "request_body_sha256": hex.EncodeToString(sum[:])})
	if err != nil {
		return "", fmt.Errorf("sign webhook: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("sign webhook: %w", err)
	}
	jws, err := signer.Sign(claims)
	if err != nil {
		return "", fmt.Errorf("sign webhook: %w", err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sign webhook: %w", err)
	}
	return "Bearer " + token, nil
}

// WebhookVerifierConfig configures a WebhookVerifier.
type WebhookVerifierConfig struct {
	// Audience is the URL Centrapay calls, exactly as given to Centrapay:
	// every call's aud must equal it. Required: an empty audience is a
	// configuration error, never "accept any".
	Audience string
	// JWKSURL is Centrapay's key set; "" is DefaultJWKSURL. https, or
	// http to a loopback address (a local sandbox).
	JWKSURL string
	// HTTPClient fetches the key set; nil is a client with a 10 s
	// timeout that follows redirects only to https.
	HTTPClient *http.Client
	// Clock tells the time of iat and exp checks and of the key set's
	// caching; nil is the real clock.
	Clock clock.Clock
}

// WebhookVerifier checks that a webhook call comes from Centrapay, with
// go-jose (github.com/go-jose/go-jose/v4) doing the JWS work:
//
//   - the JWT in Authorization is a compact JWS signed ES256 (the
//     algorithm is pinned: none, HS*, RS* and the rest are refused before
//     any key is looked at) by the key its kid names in Centrapay's JWKS;
//   - exp and aud are present; aud equals the configured audience;
//   - iat is within WebhookClockSkew of now, exp is not past and at most
//     WebhookMaxLifetime after iat (iat and exp may be JSON numbers or
//     strings of Unix seconds: Centrapay's example has strings);
//   - request_body_sha256 is the hex SHA-256 of the raw body.
//
// The key set is cached as its answer's Cache-Control max-age says
// (JWKSDefaultMaxAge without one, at most JWKSMaxAge); an unknown kid
// refetches it, at most once every JWKSMinRefetch, as keys rotate without
// warning. The last good set is kept through an outage of the JWKS
// endpoint, and an empty answer never replaces it.
//
// ECDSA signatures are malleable: from a valid signature (r, s) anyone
// can make (r, n−s), which verifies too. RFC 7518 (ES256) does not ask
// signers for a low s, so a genuine Centrapay signature may be high-s, and
// rejecting one would drop Centrapay's own calls; both forms are accepted.
// That is safe because nothing keys on the signature's bytes: a receiver
// deduplicates by the notification's id and its body's hash (which the
// signature covers), so a mauled copy is the same notification, not a
// new one.
//
// Make one with NewWebhookVerifier; it is safe for concurrent use.
type WebhookVerifier struct {
	audience string
	jwksURL  string
	hc       *http.Client
	clk      clock.Clock

	mu        sync.Mutex
	keys      map[string]*ecdsa.PublicKey // the last good set; nil before one
	expires   time.Time                   // when the set is to be fetched again
	lastFetch time.Time                   // the last fetch attempt, ok or not
	lastErr   error                       // of that attempt
}

// NewWebhookVerifier returns a verifier configured by cfg.
func NewWebhookVerifier(cfg WebhookVerifierConfig) (*WebhookVerifier, error) {
	if strings.TrimSpace(cfg.Audience) == "" {
		return nil, errors.New("webhook verifier: the audience (the URL Centrapay calls) is required")
	}
	if u, err := url.Parse(cfg.Audience); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("webhook verifier: audience %q: must be the absolute URL Centrapay calls", cfg.Audience)
	}
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = DefaultJWKSURL
	}
	u, err := url.Parse(cfg.JWKSURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook verifier: JWKS URL %q: must be an absolute https URL", cfg.JWKSURL)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("webhook verifier: JWKS URL %q: http:// is allowed only to a loopback address; "+
			"the keys must come over https", cfg.JWKSURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: httpsRedirectsOnly}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	return &WebhookVerifier{audience: cfg.Audience, jwksURL: cfg.JWKSURL, hc: cfg.HTTPClient, clk: cfg.Clock}, nil
}

// httpsRedirectsOnly lets the key set be fetched through redirects, never
// to plain http.
func httpsRedirectsOnly(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if req.URL.Scheme != "https" && !isLoopback(req.URL.Hostname()) {
		return fmt.Errorf("redirect to %s: the keys must come over https", req.URL.Redacted())
	}
	return nil
}

// Audience is the audience calls must carry.
func (v *WebhookVerifier) Audience() string { return v.audience }

// maxToken bounds the Authorization header's token: Centrapay's are a few
// hundred bytes.
const maxToken = 8 << 10

// Verify checks a call (its Authorization header and raw body) and
// returns its notification. The error wraps ErrWebhookRejected when the
// call is not Centrapay's, ErrWebhookMalformed when it is but its body is
// not a notification, ErrWebhookKeysUnavailable when its key cannot be
// had now. Its message says which check failed, for the log: it is not
// for the caller.
func (v *WebhookVerifier) Verify(ctx context.Context, authorization string, body []byte) (*Notification, error) {
	reject := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrWebhookRejected, fmt.Sprintf(format, args...))
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, reject("Authorization is not a Bearer token")
	}
	if len(token) > maxToken {
		return nil, reject("the token is longer than %d bytes", maxToken)
	}
	// the algorithm is pinned here: a token whose header says none, HS256
	// (with the public key as its secret), RS256 or anything else fails
	// to parse, before any key is chosen
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, reject("not an ES256 compact JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, reject("want one signature, got %d", len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	if h.Algorithm != string(jose.ES256) {
		return nil, reject("alg %q: want ES256", h.Algorithm)
	}
	if _, ok := h.ExtraHeaders["b64"]; ok {
		return nil, reject("b64 header: the payload must be base64url JSON")
	}
	if h.KeyID == "" {
		return nil, reject("the JWT names no key (kid)")
	}
	key, err := v.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, reject("the signature does not verify with key %.64q", h.KeyID)
	}
	var c webhookClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, reject("claims: %v", err)
	}
	if err := v.checkClaims(&c, body); err != nil {
		return nil, err
	}
	n, err := decodeNotification(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWebhookMalformed, err)
	}
	return n, nil
}

// checkClaims applies the rules on exp, iat, aud and the body's hash.
func (v *WebhookVerifier) checkClaims(c *webhookClaims, body []byte) error {
	reject := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrWebhookRejected, fmt.Sprintf(format, args...))
	}
	now := flexUnix(v.clk.Now().Unix())
	skew, life := flexUnix(WebhookClockSkew/time.Second), flexUnix(WebhookMaxLifetime/time.Second)
	switch {
	case c.Iat == nil:
		return reject("no iat")
	case c.Exp == nil:
		return reject("no exp")
	case c.Aud == nil:
		return reject("no aud")
	case c.Body == nil:
		return reject("no request_body_sha256")
	case *c.Iat < now-skew || *c.Iat > now+skew:
		return reject("iat %d is more than %v from now (%d)", *c.Iat, WebhookClockSkew, now)
	case *c.Exp <= now:
		return reject("expired at %d (now %d)", *c.Exp, now)
	case *c.Exp <= *c.Iat || *c.Exp-*c.Iat > life:
		return reject("exp %d: want after iat %d and within %v of it", *c.Exp, *c.Iat, WebhookMaxLifetime)
	case len(c.Aud) != 1 || c.Aud[0] != v.audience:
		return reject("audience %.200q is not this endpoint", []string(c.Aud))
	}
	want := sha256.Sum256(body)
	got, err := hex.DecodeString(*c.Body)
	if err != nil || !bytes.Equal(got, want[:]) {
		return reject("request_body_sha256 does not match the body")
	}
	return nil
}

// webhookClaims are the JWT claims of a webhook call; a nil field was
// absent.
type webhookClaims struct {
	Iat  *flexUnix `json:"iat"`
	Exp  *flexUnix `json:"exp"`
	Aud  audience  `json:"aud"`
	Body *string   `json:"request_body_sha256"`
}

// flexUnix is a time in Unix seconds, as a JSON number or a string of
// digits (Centrapay's example carries strings).
type flexUnix int64

func (f *flexUnix) UnmarshalJSON(b []byte) error {
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not a Unix time: %s", b)
		}
		*f = flexUnix(n)
		return nil
	}
	// a NumericDate may have a fraction (RFC 7519 §2)
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) || math.Abs(x) > 1<<53 {
		return fmt.Errorf("not a Unix time: %s", b)
	}
	*f = flexUnix(math.Floor(x))
	return nil
}

// audience is aud: a string, or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return errors.New("aud is null")
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud: want a string: %w", err)
	}
	if many == nil {
		many = []string{}
	}
	*a = many
	return nil
}

// decodeNotification reads a notification. Centrapay's model documents
// data as a string while its content is the payment activity: an object,
// or a string holding one, is read; when the activity has a field in a
// form this client does not know, its id, type and payment request id are
// kept (all a POS needs of it).
func decodeNotification(body []byte) (*Notification, error) {
	var raw struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Data      json.RawMessage `json:"data"`
		AccountID string          `json:"accountId"`
		Test      bool            `json:"test"`
		CreatedAt json.RawMessage `json:"createdAt"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	if raw.ID == "" || raw.Type == "" {
		return nil, errors.New("id and type are required")
	}
	n := &Notification{ID: raw.ID, Type: raw.Type, AccountID: raw.AccountID, Test: raw.Test}
	data := raw.Data
	if bytes.HasPrefix(data, []byte(`"`)) {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		data = []byte(s)
	}
	if len(data) > 0 && string(data) != "null" {
		if err := json.Unmarshal(data, &n.Data); err != nil {
			var min struct {
				ID               string `json:"id"`
				Type             string `json:"type"`
				PaymentRequestID string `json:"paymentRequestId"`
			}
			if err := json.Unmarshal(data, &min); err != nil {
				return nil, fmt.Errorf("data: %w", err)
			}
			n.Data = Activity{ID: min.ID, Type: min.Type, PaymentRequestID: min.PaymentRequestID}
		}
	}
	if len(raw.CreatedAt) > 0 {
		_ = json.Unmarshal(raw.CreatedAt, &n.CreatedAt) // informative only
	}
	return n, nil
}

// key returns the public key kid: from the cached set while it is fresh,
// else from a fetch (at most one every JWKSMinRefetch), else from the
// last good set.
func (v *WebhookVerifier) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.clk.Now()
	k, known := v.keys[kid]
	if known && now.Before(v.expires) {
		return k, nil
	}
	if v.lastFetch.IsZero() || now.Sub(v.lastFetch) >= JWKSMinRefetch {
		v.lastFetch = now
		v.lastErr = v.fetch(ctx, now)
		k, known = v.keys[kid]
	}
	switch {
	case known:
		return k, nil
	case v.lastErr != nil:
		return nil, fmt.Errorf("%w: no key %.64q, and the JWKS could not be fetched: %v", ErrWebhookKeysUnavailable, kid, v.lastErr)
	}
	return nil, fmt.Errorf("%w: no key %.64q in the JWKS", ErrWebhookRejected, kid)
}

// fetch reads the key set; v.mu is held. A good answer with at least one
// usable key replaces the set; anything else leaves the last good set
// as it was.
func (v *WebhookVerifier) fetch(ctx context.Context, now time.Time) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.hc.Do(req)
	if err != nil {
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch JWKS: status %d", resp.StatusCode)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, raw := range set.Keys {
		var j jose.JSONWebKey
		if err := j.UnmarshalJSON(raw); err != nil || !j.Valid() || !j.IsPublic() || j.KeyID == "" {
			continue // a key this verifier cannot use
		}
		pub, ok := j.Key.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() || (j.Algorithm != "" && j.Algorithm != string(jose.ES256)) || (j.Use != "" && j.Use != "sig") {
			continue
		}
		if _, dup := keys[j.KeyID]; !dup {
			keys[j.KeyID] = pub
		}
	}
	if len(keys) == 0 {
		return errors.New("fetch JWKS: the answer holds no ES256 key; the last good set is kept")
	}
	v.keys, v.expires = keys, now.Add(maxAge(resp.Header))
	return nil
}

// maxAge is how long a JWKS answer may be used, from its Cache-Control.
func maxAge(h http.Header) time.Duration {
	d := JWKSDefaultMaxAge
	for _, v := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 {
					d = time.Duration(min(n, int64(JWKSMaxAge/time.Second))) * time.Second
				}
			}
		}
	}
	return min(d, JWKSMaxAge)
}
