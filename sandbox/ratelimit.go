package sandbox

import (
	"net/http"
	"strconv"
	"time"
)

// bucket is one API key's token bucket.
type bucket struct {
	tokens float64 // fractional tokens are fine: this is a rate, not money
	last   time.Time
}

// allow takes a token for key, or says how long until one is free.
func (s *Sandbox) allow(key string) (bool, time.Duration) {
	if s.rateLimit < 0 {
		return true, 0
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	now := s.wall.Now()
	per := time.Minute / time.Duration(s.rateLimit)
	b, ok := s.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(s.rateLimit), last: now}
		s.buckets[key] = b
	}
	b.tokens = min(float64(s.rateLimit), b.tokens+float64(now.Sub(b.last))/float64(per))
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(per))
}

// limited answers 429 RATE_LIMIT_EXCEEDED with Retry-After when key has
// used its budget.
func (s *Sandbox) limited(w http.ResponseWriter, key string) bool {
	ok, wait := s.allow(key)
	if ok {
		return false
	}
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	apiError(w, http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "rate limit exceeded")
	return true
}
