package centrapay

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy says how calls that are safe to repeat are retried after an
// unknown outcome or a 429.
type RetryPolicy struct {
	MaxAttempts int           // attempts in all, at least 1
	BaseDelay   time.Duration // first backoff
	MaxDelay    time.Duration // backoff cap
	NoSleep     bool          // tests: skip backoff waits (Retry-After still pauses the budget)
}

// DefaultRetryPolicy is four attempts, 250 ms doubling up to 4 s, jittered.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, BaseDelay: 250 * time.Millisecond, MaxDelay: 4 * time.Second}

// shouldRetry is the one retry decision: a retryable call is repeated after
// an unknown outcome or a 429, never after Centrapay refused it.
func shouldRetry(retryable bool, attempt int, p RetryPolicy, err error) bool {
	if !retryable || attempt >= p.MaxAttempts {
		return false
	}
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusTooManyRequests {
		return true
	}
	return IsUnknownOutcome(err)
}

// backoff returns the wait before attempt n+1: exponential with jitter in
// [d/2, d], or the server's Retry-After when longer.
func backoff(p RetryPolicy, attempt int, retryAfter time.Duration) time.Duration {
	d := p.BaseDelay << (attempt - 1)
	if d > p.MaxDelay || d <= 0 {
		d = p.MaxDelay
	}
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	return max(d, retryAfter)
}

// parseRetryAfter reads Retry-After in seconds or as an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
