package centrapay

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		call      string
		wantCalls int
	}{
		{"create is never retried", "create", 1},
		{"pay without idempotency key is not retried", "pay without key", 1},
		{"get is retried", "get", 3},
		{"void is retried", "void", 3},
		{"refund is retried", "refund", 3},
		{"confirm is retried", "confirm", 3},
		{"accept is retried", "accept", 3},
		{"pay with idempotency key is retried", "pay", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux, c, _ := setup(t)
			var bodies [][]byte
			var mu sync.Mutex
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				defer mu.Unlock()
				bodies = append(bodies, b)
				reply(w, 502, `<html>bad gateway</html>`)
			})
			var err error
			if tt.call == "pay without key" {
				_, _, err = c.Pay(context.Background(), "PR1", &PayRequest{AssetType: "external.test"})
			} else {
				_, err = invoke(c, context.Background(), tt.call)
			}
			if !IsUnknownOutcome(err) {
				t.Fatalf("err = %v", err)
			}
			if len(bodies) != tt.wantCalls {
				t.Fatalf("%d attempts, want %d", len(bodies), tt.wantCalls)
			}
			for _, b := range bodies[1:] {
				if !bytes.Equal(b, bodies[0]) {
					t.Errorf("retry sent %q, first attempt %q", b, bodies[0])
				}
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	mux, c, _ := setup(t)
	n := 0
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n++
		if n < 3 {
			reply(w, 200, prJSON[:30])
			return
		}
		reply(w, 200, prJSON)
	})
	pr, resp, err := c.Get(context.Background(), "PR1")
	if err != nil || pr.ID == "" || resp.Attempts != 3 {
		t.Fatalf("pr=%v resp=%v err=%v", pr, resp, err)
	}
}

func TestRetryAfterIsObeyed(t *testing.T) {
	mux, c, fake := setup(t)
	start := fake.Now()
	var at []time.Time
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		at = append(at, fake.Now())
		if len(at) == 1 {
			w.Header().Set("Retry-After", "7")
			reply(w, 429, `{"statusCode":429,"error":"Too Many Requests","message":"RATE_LIMIT_EXCEEDED"}`)
			return
		}
		reply(w, 200, prJSON)
	})
	done := make(chan struct{})
	defer close(done)
	go advanceWhileWaiting(fake, done)
	if _, _, err := c.Get(context.Background(), "PR1"); err != nil {
		t.Fatal(err)
	}
	if len(at) != 2 || at[1].Sub(start) < 7*time.Second {
		t.Fatalf("attempts at %v, want the second at least 7s after %v", at, start)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for attempt, max := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 8: time.Second} {
		for range 50 {
			d := backoff(p, attempt, 0)
			if d < max/2 || d > max {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, max/2, max)
			}
		}
	}
	if d := backoff(p, 1, 5*time.Second); d != 5*time.Second {
		t.Errorf("Retry-After not honoured: %v", d)
	}
}

func TestBackoffWaitsOnClock(t *testing.T) {
	mux, c, fake := setup(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: 4 * time.Second}))
	var at []time.Time
	var mu sync.Mutex
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, fake.Now())
		mu.Unlock()
		w.WriteHeader(503)
	})
	done := make(chan struct{})
	defer close(done)
	go advanceWhileWaiting(fake, done)
	_, _, err := c.Void(context.Background(), "PR1")
	if !IsUnknownOutcome(err) || len(at) != 3 {
		t.Fatalf("err=%v attempts=%d", err, len(at))
	}
	if d := at[1].Sub(at[0]); d < 500*time.Millisecond || d > time.Second {
		t.Errorf("first backoff %v", d)
	}
	if d := at[2].Sub(at[1]); d < time.Second || d > 2*time.Second {
		t.Errorf("second backoff %v", d)
	}
}
