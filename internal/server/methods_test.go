package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestMethodNotAllowed: a method a known path has no route for is
// answered 405 with Allow and a problem+json body that says what to use;
// a path no route has is 404, as problem+json too.
func TestMethodNotAllowed(t *testing.T) {
	e := setup(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"DELETE", "/api/v1/sales", 405, "GET, HEAD, POST"},
		{"PUT", "/api/v1/sales/s1", 405, "GET, HEAD"},
		{"GET", "/api/v1/refunds", 405, "POST"},
		{"GET", "/api/v1/sales/s1/cancel", 405, "POST"},
		{"POST", "/api/v1/reports/z", 405, "GET, HEAD"},
		{"PATCH", "/api/v1/reports/transactions", 405, "GET, HEAD"},
		{"GET", "/login", 405, "POST"},
		{"DELETE", "/", 405, "GET, HEAD"},
		{"POST", "/healthz", 405, "GET, HEAD"},
		{"GET", "/api/v1/nothing", 404, ""},
		{"DELETE", "/api/v1/nothing", 404, ""},
		{"GET", "/nothing", 404, ""},
		{"GET", "/api/v1/sales", 401, ""}, // a route: the method is fine, the token missing
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.baseURL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p struct {
				Status int
				Code   string
				Detail string
			}
			err = json.NewDecoder(resp.Body).Decode(&p)
			if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow {
				t.Fatalf("%d Allow %q, want %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"), tt.status, tt.allow)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || err != nil || p.Status != tt.status {
				t.Fatalf("Content-Type %q, body %+v (%v), want a problem+json %d", ct, p, err, tt.status)
			}
			if tt.status == 405 {
				last := tt.allow[strings.LastIndex(tt.allow, " ")+1:]
				if p.Code != "method_not_allowed" || !strings.Contains(p.Detail, tt.method+" is not allowed on "+tt.path) || !strings.Contains(p.Detail, last) {
					t.Errorf("problem %+v: want code method_not_allowed and a detail naming %s, the path and %s", p, tt.method, last)
				}
			}
		})
	}
}
