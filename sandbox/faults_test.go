package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/sandbox"
)

func TestFaults(t *testing.T) {
	for _, tt := range []struct {
		fault     sandbox.Fault
		committed bool // the void took effect even though the client saw an unknown outcome
	}{
		{sandbox.Fault{Path: "/api/payment-requests/*/void", Kind: sandbox.FaultStatus, Status: 503}, false},
		{sandbox.Fault{Path: "/api/payment-requests/*/void", Kind: sandbox.FaultHTML}, false},
		{sandbox.Fault{Path: "/api/payment-requests/*/void", Kind: sandbox.FaultEmpty}, false},
		{sandbox.Fault{Path: "/api/payment-requests/*/void", Kind: sandbox.FaultReset}, false},
		{sandbox.Fault{Path: "/api/payment-requests/*/void", Kind: sandbox.FaultTruncated}, true},
		{sandbox.Fault{Method: "POST", Path: "/api/payment-requests/*/void", Kind: sandbox.FaultDropAfterCommit}, true},
	} {
		t.Run(tt.fault.Kind, func(t *testing.T) {
			sb, c, _, seed := start(t)
			ctx := context.Background()
			pr := create(t, c, seed, nil)
			f := tt.fault
			f.Count = 1
			if err := sb.AddFault(f); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Void(ctx, pr.ID); !centrapay.IsUnknownOutcome(err) {
				t.Fatalf("void under %s: %v, want unknown outcome", f.Kind, err)
			}
			got, _, err := c.Get(ctx, pr.ID)
			if err != nil {
				t.Fatal(err)
			}
			if committed := got.Status == centrapay.StatusCancelled; committed != tt.committed {
				t.Errorf("status %s after %s", got.Status, f.Kind)
			}
			// Count 1: the next void is answered.
			if _, _, err := c.Void(ctx, pr.ID); err != nil {
				t.Errorf("second void: %v", err)
			}
		})
	}
}

func TestFaultValidationAndLatency(t *testing.T) {
	sb, c, fake, seed := start(t)
	for _, f := range []sandbox.Fault{{Path: "/x", Kind: "boom"}, {Path: "[", Kind: "empty"}, {Path: "/x", Kind: "status", Status: 200},
		{Path: "/x", Kind: "latency"}, {Path: "/x", Kind: "empty", Probability: 2}} {
		if err := sb.AddFault(f); err == nil {
			t.Errorf("AddFault(%+v) accepted", f)
		}
	}
	pr := create(t, c, seed, nil)
	sb.AddFault(sandbox.Fault{Path: "/api/payment-requests/*", Kind: sandbox.FaultLatency, DelayMs: 3000})
	done := make(chan error)
	go func() { _, _, err := c.Get(context.Background(), pr.ID); done <- err }()
	fake.BlockUntil(1, nil)
	fake.Advance(3 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sb.ClearFaults()
	if _, _, err := c.Get(context.Background(), pr.ID); err != nil {
		t.Fatal(err)
	}
}

func TestFaultControlAPI(t *testing.T) {
	sb, _, _, _ := start(t)
	srv := httptest.NewServer(sb)
	defer srv.Close()
	resp, _ := http.Post(srv.URL+"/sandbox/faults", "application/json", strings.NewReader(`{"path":"/api/*","kind":"nope"}`))
	if resp.StatusCode != 400 {
		t.Errorf("bad fault: %d", resp.StatusCode)
	}
	resp, _ = http.Post(srv.URL+"/sandbox/faults", "application/json", strings.NewReader(`{"path":"/api/payment-requests/*","kind":"html","status":502}`))
	if resp.StatusCode != 200 {
		t.Errorf("add fault: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/payment-requests/x", nil)
	req.Header.Set("X-Api-Key", sandbox.DemoAPIKey)
	resp, _ = http.DefaultClient.Do(req)
	if resp.StatusCode != 502 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("faulted call: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	del, _ := http.NewRequest("DELETE", srv.URL+"/sandbox/faults", nil)
	http.DefaultClient.Do(del)
	resp, _ = http.DefaultClient.Do(req)
	if resp.StatusCode != 403 {
		t.Errorf("after clearing: %d", resp.StatusCode)
	}
}

func TestRateLimit(t *testing.T) {
	fake := clock.NewFake(time.Unix(1e9, 0))
	sb, _ := sandbox.New(sandbox.Config{Clock: fake, RateLimit: 3})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	c, _ := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(sandbox.DemoAPIKey), centrapay.WithClock(fake),
		centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 1}))
	ctx := context.Background()
	for range 3 {
		c.Get(ctx, "x")
	}
	_, resp, err := c.Get(ctx, "x")
	var e *centrapay.Error
	if !errors.As(err, &e) || e.Code != centrapay.ErrRateLimitExceeded || e.RetryAfter != 20*time.Second || resp.StatusCode != 429 {
		t.Fatalf("4th call: %v", err)
	}
	fake.Advance(20 * time.Second)
	if _, _, err := c.Get(ctx, "x"); !errors.Is(err, centrapay.ErrorCode("RESOURCE_NOT_FOUND")) {
		t.Errorf("after waiting: %v", err)
	}
}
