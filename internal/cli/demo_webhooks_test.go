package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDemoWebhooks: the demo's sandbox notifies the demo's server by
// webhook, signed with the sandbox's key and addressed to the server's
// URL, which the server verifies against the sandbox's JWKS and accepts:
// after a payment, the server's metrics count one notification accepted
// (and none rejected), and the sale is paid.
func TestDemoWebhooks(t *testing.T) {
	lines, _ := startDemo(t, io.Discard)
	cashier, token := lines["Cashier (signed in)"], lines["Terminal token"]
	i := strings.Index(cashier, "/login/")
	if i < 0 || !strings.HasPrefix(token, "cpt_") {
		t.Fatalf("demo printed %v", lines)
	}
	base := cashier[:i]
	if hook, _, _ := strings.Cut(lines["Centrapay webhooks"], " "); hook != base+"/webhooks/centrapay" {
		t.Errorf("webhooks at %q, want %s/webhooks/centrapay", hook, base)
	}
	sandboxURL := strings.TrimSuffix(lines["Sandbox scenarios"], "/sandbox/scenarios")
	metricsURL, _, _ := strings.Cut(lines["Metrics"], " ")
	if !strings.HasPrefix(metricsURL, "http://127.0.0.1:") || strings.HasPrefix(metricsURL, base) {
		t.Fatalf("metrics at %q: want the admin listener on loopback, not %s", metricsURL, base)
	}
	call := func(method, url, body string) *http.Response {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := call("POST", base+"/api/v1/sales", `{"value": 650, "externalRef": "HOOK-1"}`)
	var sale struct {
		ID             string
		PaymentRequest struct{ ID string }
	}
	json.NewDecoder(resp.Body).Decode(&sale)
	resp.Body.Close()
	if resp.StatusCode != 201 || sale.PaymentRequest.ID == "" {
		t.Fatalf("sale: %d %+v", resp.StatusCode, sale)
	}
	if r, err := http.Post(sandboxURL+"/sandbox/payment-requests/"+sale.PaymentRequest.ID+"/pay", "application/json", nil); err != nil || r.StatusCode != 200 {
		t.Fatalf("pay in the sandbox: %v %v", r, err)
	}
	// the delivery is asynchronous: wait for it, a few seconds at most
	metric := func(result string) string {
		return `centrapos_centrapay_notifications_total{result="` + result + `"} `
	}
	var metrics string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r, err := http.Get(metricsURL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		metrics = string(b)
		if strings.Contains(metrics, metric("accepted")+"1") {
			break
		}
	}
	if !strings.Contains(metrics, metric("accepted")+"1") || !strings.Contains(metrics, metric("rejected")+"0") {
		t.Fatalf("the sandbox's notification was not accepted:\n%s", grep(metrics, "centrapos_centrapay_notifications_total"))
	}
	// the notification's poll is applied just after it is accepted: the
	// sale shows paid within moments (the next regular poll is a second
	// away at most, so well within the deadline either way)
	var got struct{ Status string }
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp = call("GET", base+"/api/v1/sales/"+sale.ID, "")
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if got.Status == "paid" || time.Now().After(deadline) {
			break
		}
	}
	if got.Status != "paid" {
		t.Errorf("sale %s after the notification", got.Status)
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
