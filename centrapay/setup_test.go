package centrapay

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/centrapos/centrapos/clock"
)

const testKey = "test-secret-key-7f3a"

// setup returns a mux served on loopback and a client of it that retries
// without sleeping, timed by a fake clock.
func setup(t testing.TB, opts ...Option) (*http.ServeMux, *Client, *clock.Fake) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	fake := clock.NewFake(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
	base := []Option{WithBaseURL(srv.URL), WithAPIKey(testKey), WithClock(fake),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 3, NoSleep: true}), WithRateLimit(100000)}
	c, err := NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return mux, c, fake
}

// reply writes a JSON body with a status.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// advanceWhileWaiting moves the fake clock to its next deadline whenever
// something waits on it, until done is closed.
func advanceWhileWaiting(fake *clock.Fake, done chan struct{}) {
	for fake.BlockUntil(1, done) {
		if t, ok := fake.NextDeadline(); ok {
			fake.Set(t)
		}
	}
}
