package centrapay

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
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

// JWKS is a JSON Web Key Set, as served at
// https://auth.centrapay.com/api/.well-known/jwks.json.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicJWK describes key as a JWK with id kid.
func PublicJWK(key *ecdsa.PublicKey, kid string) (JWK, error) {
	b, err := key.Bytes() // 0x04 || X || Y
	if err != nil || len(b) != 65 {
		return JWK{}, fmt.Errorf("jwk %s: want a P-256 key: %v", kid, err)
	}
	return JWK{Kty: "EC", Crv: "P-256", Kid: kid, Use: "sig", Alg: "ES256", X: b64(b[1:33]), Y: b64(b[33:])}, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (k JWK) publicKey() (*ecdsa.PublicKey, error) {
	if k.Kty != "EC" || k.Crv != "P-256" {
		return nil, fmt.Errorf("key %s: want an EC P-256 key, got %s %s", k.Kid, k.Kty, k.Crv)
	}
	x, err1 := base64.RawURLEncoding.DecodeString(k.X)
	y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
	if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
		return nil, fmt.Errorf("key %s: bad coordinates", k.Kid)
	}
	// the parser checks that the point is on the curve
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.Kid, err)
	}
	return pub, nil
}

// webhookClaims are the JWT claims of a webhook call. Centrapay's example
// carries iat and exp as strings of Unix seconds; numbers are accepted too.
type webhookClaims struct {
	Iat  flexUnix `json:"iat"`
	Exp  flexUnix `json:"exp"`
	Aud  string   `json:"aud"`
	Body string   `json:"request_body_sha256,omitempty"`
}

type flexUnix int64

func (f *flexUnix) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not a Unix time: %s", b)
	}
	*f = flexUnix(n)
	return nil
}

// SignWebhook returns the Authorization header value Centrapay sends with
// a webhook: a JWT signed ES256 by key (id kid) with iat, exp (iat + 5
// min), aud and the SHA-256 of body. The sandbox uses it.
func SignWebhook(key *ecdsa.PrivateKey, kid, audience string, body []byte, now time.Time) (string, error) {
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": kid})
	sum := sha256.Sum256(body)
	claims, _ := json.Marshal(map[string]string{"iat": strconv.FormatInt(now.Unix(), 10),
		"exp": strconv.FormatInt(now.Add(5*time.Minute).Unix(), 10), "aud": audience, "request_body_sha256": hex.EncodeToString(sum[:])})
	signing := b64(header) + "." + b64(claims)
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign webhook: %w", err)
	}
	sig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	return "Bearer " + signing + "." + b64(sig), nil
}

// ErrWebhookRejected is wrapped by every reason Verify rejects a call.
var ErrWebhookRejected = errors.New("webhook rejected")

// WebhookVerifier checks that a webhook call comes from Centrapay: the JWT
// in Authorization is signed ES256 by a key of the JWKS, it is not
// expired, its aud is this endpoint and request_body_sha256 matches the
// body. Keys are fetched by kid and cached; an unknown kid refetches, as
// keys may rotate without warning.
type WebhookVerifier struct {
	JWKSURL    string       // e.g. https://auth.centrapay.com/api/.well-known/jwks.json
	Audience   string       // the webhook's own URL
	HTTPClient *http.Client // nil: http.DefaultClient
	Now        func() time.Time

	mu   sync.Mutex
	keys map[string]*ecdsa.PublicKey
}

// Verify checks a call and returns its notification.
func (v *WebhookVerifier) Verify(ctx context.Context, authorization string, body []byte) (*Notification, error) {
	reject := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrWebhookRejected, fmt.Sprintf(format, args...))
	}
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	parts := strings.Split(token, ".")
	if !ok || len(parts) != 3 {
		return nil, reject("Authorization is not a Bearer JWT")
	}
	var header struct{ Alg, Kid string }
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "ES256" {
		return nil, reject("JWT header: want alg ES256")
	}
	key, err := v.key(ctx, header.Kid)
	if err != nil {
		return nil, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, reject("JWT signature is malformed")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(key, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, reject("JWT signature does not verify")
	}
	var c webhookClaims
	if err := decodeSegment(parts[1], &c); err != nil {
		return nil, reject("JWT claims: %v", err)
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if now.Unix() >= int64(c.Exp) || int64(c.Iat) > now.Add(time.Minute).Unix() {
		return nil, reject("JWT is expired or not yet valid")
	}
	if c.Aud != v.Audience {
		return nil, reject("JWT audience %q is not this endpoint", c.Aud)
	}
	sum := sha256.Sum256(body)
	if c.Body != hex.EncodeToString(sum[:]) {
		return nil, reject("request_body_sha256 does not match the body")
	}
	n := new(Notification)
	if err := json.Unmarshal(body, n); err != nil || n.ID == "" || n.Type == "" {
		return nil, reject("body is not a notification")
	}
	return n, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// key returns the public key kid, fetching the JWKS when it is not cached.
func (v *WebhookVerifier) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	v.mu.Lock()
	k, ok := v.keys[kid]
	v.mu.Unlock()
	if ok {
		return k, nil
	}
	hc := v.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	var set JWKS
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS: status %d: %v", resp.StatusCode, err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, j := range set.Keys {
		if pk, err := j.publicKey(); err == nil {
			keys[j.Kid] = pk
		}
	}
	v.mu.Lock()
	v.keys = keys
	v.mu.Unlock()
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: no key %q in the JWKS", ErrWebhookRejected, kid)
}
