package cli

import (
	"bytes"
	"context"
	"errors"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/internal/certify"
	"github.com/centrapos/centrapos/sandbox"
)

// certifyCmd runs `centrapos certify args...` with hook, and returns its
// stdout and error.
func certifyCmd(t *testing.T, hook func(*certifyConfig), args ...string) (string, error) {
	t.Helper()
	certifyHook = hook
	t.Cleanup(func() { certifyHook = nil })
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := (&Main{Stdout: &stdout, Stderr: &stderr}).Run(ctx, append([]string{"certify"}, args...))
	t.Logf("stderr:\n%s", stderr.String())
	return stdout.String(), err
}

// TestCertifyFast runs the whole checklist in fast mode against the
// in-process sandbox, through a real server (and Chromium when installed),
// and checks the evidence folder: a row per item, every automated item
// passed, request ids and timestamps in the report, screenshots, and the
// API key nowhere.
func TestCertifyFast(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole checklist (about 30 s)")
	}
	out := filepath.Join(t.TempDir(), "evidence")
	start := time.Now()
	stdout, err := certifyCmd(t, nil, "--fast", "--out", out)
	t.Logf("certify --fast took %v:\n%s", time.Since(start), stdout)
	if err != nil {
		t.Fatalf("certify --fast: %v", err)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	_, chromiumErr := exec.LookPath("chromium")
	for _, it := range certify.Checklist() {
		anchor := strings.ReplaceAll(it.ID, ".", "-")
		if !bytes.Contains(md, []byte("| ["+it.ID+"](#item-"+anchor+") | "+it.Title+" |")) {
			t.Errorf("report.md has no row for %s %s", it.ID, it.Title)
		}
		if !bytes.Contains(page, []byte(`<a href="#item-`+anchor+`">`+it.ID+`</a></td><td>`+html.EscapeString(it.Title)+`</td>`)) {
			t.Errorf("report.html has no row for %s %s", it.ID, it.Title)
		}
		line := stdoutLine(stdout, it.ID)
		switch {
		case it.NotApplicable != "":
			want(t, line, it.ID, "skipped")
		case it.Kind == certify.KindManual:
			want(t, line, it.ID, "manual")
		case it.Needs&certify.NeedsBrowser != 0 && chromiumErr != nil:
			want(t, line, it.ID, "skipped")
			if !strings.Contains(line, "chromium not installed") {
				t.Errorf("%s: %q does not say chromium is not installed", it.ID, line)
			}
		default:
			want(t, line, it.ID, "pass")
		}
	}
	// the evidence: request ids, 103.1's timestamps, logs, screenshots
	for _, s := range []string{"**Payment Request ids:** `pr", "POS request ids (X-Request-Id)", "| expiresAt (Centrapay) | 20",
		"| POS timeout (timeoutAt) | 20", "| POS timeout − expiresAt | 7", "logs/103.3.log", "msg=\"centrapay call\""} {
		if !bytes.Contains(md, []byte(s)) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	if !bytes.Contains(page, []byte("<code>pr")) {
		t.Error("report.html lists no Payment Request id")
	}
	if _, err := os.Stat(filepath.Join(out, "logs", "103.2.log")); err != nil {
		t.Error(err)
	}
	if chromiumErr == nil {
		for _, shot := range []string{"101.3-cashier.png", "202.1-customer-display.png", "104.5-expired.png"} {
			if fi, err := os.Stat(filepath.Join(out, "screenshots", shot)); err != nil || fi.Size() == 0 {
				t.Errorf("screenshot %s: %v", shot, err)
			}
		}
	}
	// the key is a fresh random one per run: no file holds "sandbox-certify-"
	filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte("sandbox-certify-")) {
				t.Errorf("%s holds the API key", path)
			}
		}
		return nil
	})
}

// stdoutLine is the summary line of item id.
func stdoutLine(stdout, id string) string {
	for l := range strings.SplitSeq(stdout, "\n") {
		if strings.HasPrefix(l, id+" ") {
			return l
		}
	}
	return ""
}

func want(t *testing.T, line, id, state string) {
	t.Helper()
	f := strings.Fields(line)
	if len(f) < 2 || f[1] != state {
		t.Errorf("%s: want %s, got %q", id, state, line)
	}
}

// TestCertifyDetectsAPOSThatDoesNotVoid runs item 104.7 against a sandbox
// that refuses every void: the request stays open at Centrapay, and the
// item must fail, and the command exit 1 (not 2).
func TestCertifyDetectsAPOSThatDoesNotVoid(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and a sandbox")
	}
	out := t.TempDir()
	stdout, err := certifyCmd(t, func(c *certifyConfig) {
		c.faults = []sandbox.Fault{{Method: "POST", Path: "/api/payment-requests/*/void", Kind: sandbox.FaultStatus, Status: 403, Code: "VOID_WINDOW_EXCEEDED"}}
		c.itemTimeout = 15 * time.Second
	}, "--fast", "--only", "104.7", "--out", out)
	t.Logf("stdout:\n%s", stdout)
	var usage UsageError
	if err == nil || errors.As(err, &usage) {
		t.Fatalf("certify with voids refused: err %v, want a failure (exit 1)", err)
	}
	want(t, stdoutLine(stdout, "104.7"), "104.7", "fail")
	want(t, stdoutLine(stdout, "104.6"), "104.6", "skipped")
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !bytes.Contains(md, []byte("❌ fail")) || !bytes.Contains(md, []byte("**Payment Request ids:** `pr")) {
		t.Errorf("report.md does not show the failure with its request id:\n%s", md)
	}
}

// TestCertifyUsage: mistakes on the command line exit 2.
func TestCertifyUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--only", "999.9"},
		{"--api-key-file", "k"},
		{"--centrapay-url", "https://test.centrapay.com", "--fast"},
		{"--centrapay-url", "https://test.centrapay.com"},
		{"stray"},
	} {
		_, err := certifyCmd(t, nil, args...)
		var usage UsageError
		if !errors.As(err, &usage) {
			t.Errorf("certify %v: %v, want a usage error", args, err)
		}
	}
}
