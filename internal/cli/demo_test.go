package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/centrapos/centrapos/internal/cli"
)

// TestDemo starts the real demo command on free ports and takes a payment
// through it end to end: a sale on the terminal API, paid through the
// sandbox's control API, followed to paid over Server-Sent Events.
func TestDemo(t *testing.T) {
	var stderr syncBuffer
	lines, stop := startDemo(t, &stderr)
	cashier, token := lines["Cashier (signed in)"], lines["Terminal token"]
	if !strings.Contains(cashier, "/login/") || !strings.HasPrefix(token, "cpt_") || lines["Customer display"] == "" {
		t.Fatalf("demo printed %v; stderr %s", lines, stderr.String())
	}
	base := cashier[:strings.Index(cashier, "/login/")]
	sandboxURL := strings.TrimSuffix(lines["Sandbox scenarios"], "/sandbox/scenarios")

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
	resp := call("POST", base+"/api/v1/sales", `{"value": 450, "externalRef": "DEMO-1"}`)
	var sale struct {
		ID             string
		PaymentRequest struct{ ID, URL string }
	}
	json.NewDecoder(resp.Body).Decode(&sale)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.HasPrefix(sale.PaymentRequest.URL, sandboxURL+"/pay/") {
		t.Fatalf("sale: %d %+v", resp.StatusCode, sale)
	}
	events := call("GET", base+"/api/v1/sales/"+sale.ID+"/events", "")
	defer events.Body.Close()
	if r, err := http.Post(sandboxURL+"/sandbox/payment-requests/"+sale.PaymentRequest.ID+"/pay", "application/json", nil); err != nil || r.StatusCode != 200 {
		t.Fatalf("pay in the sandbox: %v %v", r, err)
	}
	es := bufio.NewScanner(events.Body)
	paid := false
	for es.Scan() {
		if strings.HasPrefix(es.Text(), "data: ") && strings.Contains(es.Text(), `"status":"paid"`) {
			paid = true
		}
	}
	if !paid {
		t.Error("the sale never showed paid")
	}
	// a customer display still streaming does not hold up Ctrl-C
	display := call("GET", base+"/api/v1/sales/"+startSale(t, call, base)+"/events", "")
	defer display.Body.Close()
	if strings.Contains(stderr.String(), "sandbox-demo-key") {
		t.Error("the API key reached the log")
	}
	stop()
}

// startDemo runs the real demo command on free ports, its log to stderr,
// and returns the "what: where" lines it printed and the func that stops
// it (Ctrl-C) and checks that it ended well.
func startDemo(t *testing.T, stderr io.Writer) (map[string]string, func()) {
	t.Helper()
	return startDemoWith(t, stderr, "--dir", t.TempDir())
}

// startDemoWith is startDemo with these flags besides the free ports.
func startDemoWith(t *testing.T, stderr io.Writer, flags ...string) (map[string]string, func()) {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		m := &cli.Main{Stdout: pw, Stderr: stderr}
		done <- m.Run(ctx, append([]string{"demo", "--listen", "127.0.0.1:0", "--sandbox-listen", "127.0.0.1:0"}, flags...))
		pw.Close()
	}()
	lines := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ": "); ok {
			lines[k] = strings.TrimSpace(v)
		}
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo ended with %v", err)
		}
	}
	t.Cleanup(stop)
	return lines, stop
}

// syncBuffer is a bytes.Buffer safe for the demo's log goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSale starts a sale and returns its id.
func startSale(t *testing.T, call func(method, url, body string) *http.Response, base string) string {
	t.Helper()
	resp := call("POST", base+"/api/v1/sales", `{"value": 100}`)
	defer resp.Body.Close()
	var s struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&s)
	if s.ID == "" {
		t.Fatalf("start sale: %d", resp.StatusCode)
	}
	return s.ID
}
