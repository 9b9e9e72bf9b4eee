package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClusterCommand starts `centrapos cluster` with two servers on one
// PostgreSQL journal, as the docs tell a user to: a sale made at node-1
// is paid (in the sandbox) and read paid at node-2; SIGTERM stops it all,
// the servers handing their leases over, and the command exits 0.
func TestClusterCommand(t *testing.T) {
	needBinary(t)
	db := postgresJournal(t)
	dir := testDir(t)
	p, err := startProc(t, "cluster", dir+"/cluster.log", nil, "cluster", "--db", db, "--instances", "2",
		"--listen", "127.0.0.1:0", "--sandbox-listen", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var nodes []string
	var token, wallet string
	for len(nodes) < 2 || token == "" || wallet == "" {
		l, err := p.line("  ", 60*time.Second)
		if err != nil {
			t.Fatalf("cluster output: %v\n%s", err, tail(dir+"/cluster.log", 30))
		}
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "  node-"):
			nodes = append(nodes, f[1])
		case strings.HasPrefix(l, "  Terminal token:"):
			token = f[2]
		case strings.HasPrefix(l, "  Sandbox wallet:"):
			wallet = strings.TrimSuffix(f[2], "/pay/{payment")
			wallet = strings.TrimSuffix(wallet, "/pay/{payment request id}")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := newClient(t)
	body, _ := json.Marshal(map[string]any{"value": 1250, "externalRef": "CLUSTER-1"})
	a, err := do(ctx, c, "POST", nodes[0]+"/api/v1/sales", token, newKey(), body)
	if err != nil || a.status != 201 {
		t.Fatalf("sale at node-1: %v %d %s", err, a.status, a.body)
	}
	var s saleView
	if err := json.Unmarshal(a.body, &s); err != nil || s.PaymentRequest == nil {
		t.Fatalf("sale %s: %v", a.body, err)
	}
	// node-2's event stream of the sale, which node-1 drives
	req, _ := http.NewRequestWithContext(ctx, "GET", nodes[1]+"/api/v1/sales/"+s.ID+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("events at node-2: %v %v", err, resp)
	}
	defer resp.Body.Close()
	if a, err := do(ctx, c, "POST", wallet+"/sandbox/payment-requests/"+s.PaymentRequest.ID+"/pay", "", "", nil); err != nil || a.status >= 300 {
		t.Fatalf("pay: %v %d %s", err, a.status, a.body)
	}
	sc := bufio.NewScanner(resp.Body)
	paid := false
	for !paid && sc.Scan() {
		paid = strings.HasPrefix(sc.Text(), "data:") && strings.Contains(sc.Text(), `"status":"paid"`)
	}
	if !paid {
		t.Fatalf("node-2's event stream never said paid (%v):\n%s", sc.Err(), tail(dir+"/cluster.log", 30))
	}
	var got saleView
	if err := getJSON(ctx, c, nodes[1]+"/api/v1/sales/"+s.ID, token, &got); err != nil || got.Status != "paid" {
		t.Fatalf("node-2 reads %+v %v", got, err)
	}
	// a sale made at node-1 and cancelled at node-2: node-2 journals the
	// cancel and nudges node-1, which holds the sale and voids it
	body, _ = json.Marshal(map[string]any{"value": 800, "externalRef": "CLUSTER-2"})
	a, err = do(ctx, c, "POST", nodes[0]+"/api/v1/sales", token, newKey(), body)
	if err != nil || a.status != 201 {
		t.Fatalf("second sale at node-1: %v %d %s", err, a.status, a.body)
	}
	var open saleView
	json.Unmarshal(a.body, &open)
	cancelledAt := time.Now()
	if a, err := do(ctx, c, "POST", nodes[1]+"/api/v1/sales/"+open.ID+"/cancel", token, newKey(), []byte(`{}`)); err != nil || a.status >= 300 {
		t.Fatalf("cancel at node-2: %v %d %s", err, a.status, a.body)
	}
	for {
		var got saleView
		if err := getJSON(ctx, c, nodes[1]+"/api/v1/sales/"+open.ID, token, &got); err == nil && got.Status == "cancelled" {
			break
		}
		if !sleep(ctx, 50*time.Millisecond) {
			t.Fatalf("the sale cancelled at node-2 never ended:\n%s", tail(dir+"/cluster.log", 30))
		}
	}
	led, err := ledger(ctx, c, sandboxInfo{BaseURL: wallet})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range led {
		if e.ExternalRef == "CLUSTER-2" {
			found = true
			if e.Status != "cancelled" {
				t.Errorf("its payment request is %s at Centrapay, want cancelled", e.Status)
			}
		}
	}
	if !found {
		t.Error("Centrapay has no payment request of the sale cancelled at node-2")
	}
	t.Logf("a sale cancelled at the server not holding it was voided by its holder in %v", time.Since(cancelledAt).Round(time.Millisecond))

	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		t.Fatal("the cluster did not stop within 40 s of SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d:\n%s", code, tail(dir+"/cluster.log", 30))
	}
	if errs := grepLog(dir+"/cluster.log", "level=ERROR", 5); len(errs) > 0 {
		t.Errorf("the cluster logged errors:\n%s", strings.Join(errs, "\n"))
	}
	if logs := tail(dir+"/cluster.log", 200); strings.Count(logs, "leases released") != 2 {
		t.Errorf("the servers did not both hand their leases over at the stop:\n%s", logs)
	}
}
