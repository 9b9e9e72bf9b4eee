package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of every delivery.
const (
	// SignatureHeader carries t=<unix seconds>,v1=<hex HMAC-SHA256 of
	// "<t>.<body>" keyed with the endpoint's secret>.
	SignatureHeader = "Centrapos-Signature"
	// EventIDHeader carries the event's id, the same on every delivery of
	// it: receivers dedupe on it.
	EventIDHeader = "Centrapos-Event-Id"
	// EventTypeHeader carries the event's type.
	EventTypeHeader = "Centrapos-Event-Type"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrNoSignature = errors.New("webhook: no valid " + SignatureHeader + " header (t=…,v1=…)")
	ErrTimestamp   = errors.New("webhook: the signature's timestamp is outside the tolerance (a replay, or a clock that is off)")
	ErrSignature   = errors.New("webhook: no signature matches the body (wrong secret, or the body was changed)")
)

// Sign returns the Centrapos-Signature header value for body sent at t
// with secret.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a delivery as its receiver got it: header is the
// Centrapos-Signature header, body the raw request body (before any JSON
// decoding), now the receiver's clock. It is nil when one of the header's
// v1 signatures is the HMAC-SHA256 of "<t>.<body>" with secret and t is
// within tolerance of now (DefaultTolerance when tolerance is 0). Compare
// the event id (Centrapos-Event-Id) with those already handled to drop
// redeliveries.
func Verify(secret string, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrSignature
}
