package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// TestCallsRecorded: with RecordCalls, every API call is kept with its
// caller's user agent and the answer's status, faults included (a hang-up
// is recorded with no status), the oldest let go past the limit; without
// it, GET /sandbox/calls says how to turn it on.
func TestCallsRecorded(t *testing.T) {
	for _, record := range []int{0, 3} {
		sb, err := sandbox.New(sandbox.Config{RateLimit: -1, RecordCalls: record})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sb)
		seed := sb.Seed()
		c, _ := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(seed.APIKey), centrapay.WithUserAgent("centrapos (a)"),
			centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 1, NoSleep: true}))
		ctx := context.Background()
		pr, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: seed.ConfigID, Value: centrapay.Cents(100, "NZD")})
		if err != nil {
			t.Fatal(err)
		}
		c.Get(ctx, pr.ID)
		c.Get(ctx, "nope")
		sb.AddFault(sandbox.Fault{Method: "GET", Path: "/api/payment-requests/*", Kind: sandbox.FaultDropAfterCommit, Count: 1})
		c.Get(ctx, pr.ID)
		resp, err := http.Get(srv.URL + "/sandbox/calls?after=1")
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Calls []sandbox.Call `json:"calls"`
		}
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		srv.Close()
		if record == 0 {
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("no recording: %d", resp.StatusCode)
			}
			continue
		}
		var seen []string
		for _, c := range got.Calls {
			seen = append(seen, fmt.Sprintf("%d %s %s %d %s", c.Seq, c.Method, strings.TrimPrefix(c.Path, "/api/payment-requests/"), c.Status, c.UserAgent))
		}
		// 5 calls: the create, two gets, a get hung up on and its retry
		want := []string{"3 GET nope 403 centrapos (a)", "4 GET " + pr.ID + " 0 centrapos (a)", "5 GET " + pr.ID + " 200 centrapos (a)"}
		if strings.Join(seen, "\n") != strings.Join(want, "\n") {
			t.Errorf("calls after 1, the last 3 kept:\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
		}
	}
}
