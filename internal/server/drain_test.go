package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestHealthWhileDraining: a server draining before its stop answers
// /healthz 503 stopping, so a load balancer sends its requests elsewhere,
// and still serves the requests that come meanwhile.
func TestHealthWhileDraining(t *testing.T) {
	e := setup(t)
	if r := e.do("GET", "/healthz", "", nil); r.status != http.StatusOK {
		t.Fatalf("healthz before: %d %s", r.status, r.body)
	}
	e.srv.Drain()
	r := e.do("GET", "/healthz", "", nil)
	var h struct{ Status, Reason string }
	json.Unmarshal(r.body, &h)
	if r.status != http.StatusServiceUnavailable || h.Status != "stopping" || h.Reason == "" {
		t.Errorf("healthz while draining: %d %s, want 503 stopping with a reason", r.status, r.body)
	}
	if s := e.sale("till-1", map[string]any{"value": 500}); s.ID == "" {
		t.Error("a sale while draining was not taken")
	}
}
