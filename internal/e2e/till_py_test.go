package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPythonTill drives `centrapos demo` with the Python till of
// examples/till-py, a till in another language speaking only the terminal
// REST API: a quick-pay sale, a photo-id sale whose condition it accepts, a
// refund of the first sale, and a QR sale cancelled from a second till
// process. It is skipped when python3 is not on PATH, unless
// $CENTRAPOS_REQUIRE_PYTHON is set (as in CI).
func TestPythonTill(t *testing.T) {
	needBinary(t)
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CENTRAPOS_REQUIRE_PYTHON") != "" {
			t.Fatalf("python3 is not on PATH and CENTRAPOS_REQUIRE_PYTHON is set: %v", err)
		}
		t.Skip("python3 is not on PATH (set CENTRAPOS_REQUIRE_PYTHON to make this a failure)")
	}
	till := filepath.Join(moduleRoot(t), "examples", "till-py", "till.py")
	if _, err := os.Stat(till); err != nil {
		t.Fatal(err)
	}

	dir := testDir(t)
	demo, err := startProc(t, "demo", filepath.Join(dir, "demo.log"), nil,
		"demo", "--listen", "127.0.0.1:0", "--sandbox-listen", "127.0.0.1:0", "--dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for {
		l, err := demo.line("", 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(l, "Press Ctrl-C") {
			break
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ": "); ok {
			lines[k] = strings.TrimSpace(v)
		}
	}
	cashier, token, scenariosURL := lines["Cashier (signed in)"], lines["Terminal token"], lines["Sandbox scenarios"]
	i := strings.Index(cashier, "/login/")
	if i < 0 || !strings.HasPrefix(token, "cpt_") || scenariosURL == "" {
		t.Fatalf("demo printed %v", lines)
	}
	base := cashier[:i]

	barcodes := scenarioBarcodes(t, scenariosURL)
	quickPay, photoID := barcodes["quick-pay"], barcodes["photo-id"]
	if quickPay == "" || photoID == "" {
		t.Fatalf("sandbox scenarios %v lack quick-pay or photo-id", barcodes)
	}

	run := func(want int, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, python, append([]string{till, "--url", base, "--token", token}, args...)...)
		cmd.WaitDelay = 2 * time.Second
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("till.py %v: %v\n%s", args, err, out)
		}
		if ctx.Err() != nil {
			t.Fatalf("till.py %v did not finish in 20 s:\n%s", args, out)
		}
		if code != want {
			t.Fatalf("till.py %v exited %d, want %d:\n%s", args, code, want, out)
		}
		t.Logf("till.py %s → %d\n%s", strings.Join(args, " "), code, out)
		return string(out)
	}
	saleID := regexp.MustCompile(`(?m)^sale (\S+):`)

	// a quick-pay sale
	out := run(0, "sale", "--amount", "12.50", "--barcode", quickPay, "--ref", "PY-1")
	if !strings.Contains(out, "status: paid") || !strings.Contains(out, "12.50") {
		t.Fatalf("quick-pay sale printed:\n%s", out)
	}
	m := saleID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no sale id in:\n%s", out)
	}
	first := m[1]

	// a photo-id sale: the condition's message printed verbatim, accepted
	out = run(0, "sale", "--amount", "7.00", "--barcode", photoID, "--accept-conditions", "--ref", "PY-2")
	if !strings.Contains(out, "status: paid") || !strings.Contains(out, "accepting condition") ||
		!strings.Contains(out, "photo ID") {
		t.Fatalf("photo-id sale printed:\n%s", out)
	}
	if m := saleID.FindStringSubmatch(out); m == nil {
		t.Fatalf("no sale id in:\n%s", out)
	} else if msgs := conditionMessages(t, base, token, m[1]); len(msgs) == 0 {
		t.Fatalf("sale %s has no conditions", m[1])
	} else {
		for _, msg := range msgs {
			if !strings.Contains(out, msg) {
				t.Fatalf("the condition message %q was not printed verbatim:\n%s", msg, out)
			}
		}
	}

	// a refund of the first sale by its id
	out = run(0, "refund", "--sale", first, "--amount", "5.00")
	if !strings.Contains(out, "5.00 succeeded") {
		t.Fatalf("refund printed:\n%s", out)
	}
	// more than is left: a problem, printed as "error: …", exit 1
	out = run(1, "refund", "--sale", first, "--amount", "8.00")
	if !strings.Contains(out, "error: ") {
		t.Fatalf("over-refund printed:\n%s", out)
	}

	// a QR sale followed in the background, cancelled by a second process
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bg := exec.CommandContext(ctx, python, till, "--url", base, "--token", token, "sale", "--amount", "3.00", "--ref", "PY-3")
	bg.WaitDelay = 2 * time.Second
	var bgOut, bgErr bytes.Buffer // stdout, written by the reader below; stderr
	pipe, err := bg.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	bg.Stderr = &bgErr
	if err := bg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bg.Process.Kill() })
	idc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sent := false
		for sc.Scan() {
			bgOut.WriteString(sc.Text() + "\n")
			if m := saleID.FindStringSubmatch(sc.Text()); m != nil && !sent {
				idc <- m[1]
				sent = true
			}
		}
		close(idc)
	}()
	var qr string
	select {
	case id, ok := <-idc:
		if !ok {
			bg.Wait()
			t.Fatalf("the background sale printed no sale id:\n%s%s", bgOut.String(), bgErr.String())
		}
		qr = id
	case <-time.After(15 * time.Second):
		t.Fatal("the background sale printed no sale id in 15 s")
	}
	out = run(0, "cancel", qr)
	if !strings.Contains(out, "cancelled") {
		t.Fatalf("cancel printed:\n%s", out)
	}
	for range idc { // until the till's stdout ends
	}
	err = bg.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || ctx.Err() != nil {
		t.Fatalf("the cancelled sale ended with %v (want exit 2):\n%s%s", err, bgOut.String(), bgErr.String())
	}
	if !strings.Contains(bgOut.String(), "status: cancelled") {
		t.Fatalf("the cancelled sale printed:\n%s", bgOut.String())
	}
	t.Logf("till.py sale (QR, cancelled) → 2\n%s", bgOut.String())
}

// moduleRoot is the directory of go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return root
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatal("no go.mod above the test's directory")
		}
		root = parent
	}
}

// scenarioBarcodes reads the sandbox's GET /sandbox/scenarios.
func scenarioBarcodes(t *testing.T, url string) map[string]string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sc map[string]struct {
		Barcode string `json:"barcode"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("scenarios: %d %v", resp.StatusCode, err)
	}
	out := map[string]string{}
	for name, s := range sc {
		out[name] = s.Barcode
	}
	return out
}

// conditionMessages returns the messages of sale id's conditions, from
// GET /api/v1/sales/{id}.
func conditionMessages(t *testing.T, base, token, id string) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/sales/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sale struct {
		Conditions []struct {
			Message string `json:"message"`
		} `json:"conditions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sale); err != nil || resp.StatusCode != 200 {
		t.Fatalf("sale %s: %d %v", id, resp.StatusCode, err)
	}
	var msgs []string
	for _, c := range sale.Conditions {
		if c.Message != "" {
			msgs = append(msgs, c.Message)
		}
	}
	return msgs
}
