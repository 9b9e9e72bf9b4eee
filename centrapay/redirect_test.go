package centrapay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/centrapos/centrapos/clock"
)

// elsewhere is a second server on loopback that counts the requests a
// redirect would bring it and fails the test on any.
func elsewhere(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Header.Get("X-Api-Key") != "" {
			t.Errorf("redirect target received X-Api-Key on %s %s", r.Method, r.URL.Path)
		} else {
			t.Errorf("redirect target received %s %s", r.Method, r.URL.Path)
		}
		reply(w, 200, prJSON)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, tt := range []struct {
			call      string
			wantCalls int // create is never retried; retryable calls stop at MaxAttempts
		}{
			{"create", 1},
			{"get", 3},
			{"void", 3},
		} {
			t.Run(fmt.Sprint(status, " ", tt.call), func(t *testing.T) {
				target, got := elsewhere(t)
				mux, c, _ := setup(t)
				var n atomic.Int32
				mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
					n.Add(1)
					http.Redirect(w, r, target.URL+r.URL.Path, status)
				})
				resp, err := invoke(c, context.Background(), tt.call)
				if !IsUnknownOutcome(err) || !errors.Is(err, ErrRedirectNotFollowed) {
					t.Fatalf("err = %v, want an unknown outcome matching ErrRedirectNotFollowed", err)
				}
				var e *Error
				if errors.As(err, &e) {
					t.Errorf("a redirect matches *Error: %v", err)
				}
				host := strings.TrimPrefix(target.URL, "http://")
				if msg := err.Error(); strings.Contains(msg, testKey) || !strings.Contains(msg, "redirect to "+host) ||
					!strings.Contains(msg, "not followed") {
					t.Errorf("err = %q, want the target's host, no key", msg)
				}
				if got.Load() != 0 {
					t.Errorf("redirect target received %d requests", got.Load())
				}
				if int(n.Load()) != tt.wantCalls || resp == nil || resp.Attempts != tt.wantCalls || resp.StatusCode != status {
					t.Errorf("%d calls, resp %+v; want %d calls answered %d", n.Load(), resp, tt.wantCalls, status)
				}
			})
		}
	}
}

func TestRedirectClassification(t *testing.T) {
	for _, tt := range []struct {
		name     string
		location string
		want     string
	}{
		{"absolute", "https://evil.example/steal?x=1", "redirect to evil.example;"},
		{"relative", "/api/elsewhere", "redirect to service.centrapay.com;"},
		{"user info hidden", "https://user:pw@evil.example:8443/p", "redirect to evil.example:8443;"},
		{"unusable", "http://%zz", "redirect to an unusable location;"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := &http.Request{URL: &url.URL{Scheme: "https", Host: "service.centrapay.com", Path: "/api/payment-requests"}}
			r := &http.Response{StatusCode: 302, Header: http.Header{"Location": {tt.location}}, Request: req}
			err := classify(call{op: "create payment request"}, r, nil, clock.Real{})
			if !IsUnknownOutcome(err) || !errors.Is(err, ErrRedirectNotFollowed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want unknown with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "steal") {
				t.Errorf("err = %v shows more than the host", err)
			}
		})
	}
	t.Run("3xx without location", func(t *testing.T) {
		err := classify(call{op: "get"}, &http.Response{StatusCode: 304, Header: http.Header{}}, nil, clock.Real{})
		if !IsUnknownOutcome(err) || errors.Is(err, ErrRedirectNotFollowed) {
			t.Fatalf("err = %v, want an unknown outcome that is not a redirect", err)
		}
	})
}

func TestCallerHTTPClientStillRefusesRedirects(t *testing.T) {
	for _, tt := range []struct {
		name string
		hc   *http.Client
	}{
		{"zero client", &http.Client{}},
		{"own transport", &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}},
		{"permissive CheckRedirect", &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			target, got := elsewhere(t)
			before := tt.hc.CheckRedirect
			mux, c, _ := setup(t, WithHTTPClient(tt.hc))
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
			})
			_, _, err := c.Create(context.Background(), &CreateRequest{ConfigID: "mc1", Value: Cents(100, "NZD"), ExternalRef: "X"})
			if !errors.Is(err, ErrRedirectNotFollowed) || strings.Contains(err.Error(), testKey) {
				t.Fatalf("err = %v", err)
			}
			if got.Load() != 0 {
				t.Errorf("redirect target received %d requests", got.Load())
			}
			if cr := tt.hc.CheckRedirect; (cr == nil) != (before == nil) || cr != nil && cr(nil, nil) != nil {
				t.Error("the caller's http.Client was changed")
			}
			if c.http == tt.hc {
				t.Error("the client uses the caller's http.Client itself, not a copy")
			}
		})
	}
}

func TestWithBaseURL(t *testing.T) {
	const (
		notAbsolute = "must be an absolute http or https URL"
		inClear     = "http:// is allowed only to a loopback address; Centrapay must be reached over https so the API key is not sent in clear"
	)
	for _, tt := range []struct {
		raw  string
		want string // "" = accepted
	}{
		{"https://service.centrapay.com", ""},
		{"https://service.centrapay.com/", ""},
		{"https://10.0.0.5:8443", ""},
		{"http://127.0.0.1:8081", ""},
		{"http://127.3.2.1", ""},
		{"http://[::1]:8081", ""},
		{"http://[::ffff:127.0.0.1]:8081", ""},
		{"http://localhost:8081", ""},
		{"HTTP://LocalHost", ""},
		{"http://example.com", inClear},
		{"http://service.centrapay.com", inClear},
		{"http://192.168.1.5:8081", inClear},
		{"http://0.0.0.0:8081", inClear},
		{"http://[::]:8081", inClear},
		{"http://localhost.example.com", inClear},
		{"http://127.0.0.1.example.com", inClear},
		{"ftp://x", notAbsolute},
		{"/api", notAbsolute},
		{"service.centrapay.com", notAbsolute},
		{"https://", notAbsolute},
		{"", notAbsolute},
	} {
		t.Run(tt.raw, func(t *testing.T) {
			c, err := NewClient(WithAPIKey("k"), WithBaseURL(tt.raw))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if got, want := c.baseURL.String(), strings.TrimRight(tt.raw, "/"); !strings.EqualFold(got, want) {
					t.Errorf("base URL %s, want %s", got, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.raw)) {
				t.Fatalf("err = %v, want %q naming %q", err, tt.want, tt.raw)
			}
		})
	}
}
