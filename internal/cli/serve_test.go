package cli_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/centrapos/centrapos/internal/cli"
	"github.com/centrapos/centrapos/sandbox"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &cli.Main{Stdout: &out, Stderr: &errb}
	err := m.Run(context.Background(), args)
	return out.String(), errb.String(), err
}

func TestServeRefusesWithoutAKey(t *testing.T) {
	t.Setenv("CENTRAPAY_API_KEY", "")
	_, _, err := run(t, "serve", "--db", filepath.Join(t.TempDir(), "j.db"), "--merchant-account-id", "acc", "--listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "CENTRAPAY_API_KEY") {
		t.Errorf("serve without a key: %v", err)
	}
	t.Setenv("CENTRAPAY_API_KEY", "k")
	if _, _, err := run(t, "serve", "--db", filepath.Join(t.TempDir(), "j.db"), "--listen", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "merchant-account-id") {
		t.Errorf("serve without an account: %v", err)
	}
	if _, _, err := run(t, "serve", "--api-key-file", filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "read API key") {
		t.Errorf("serve with a missing key file: %v", err)
	}
}

// TestServeRefusesARefusedKey: serve checks the key with Centrapay before
// it starts, and says so when Centrapay refuses it.
func TestServeRefusesARefusedKey(t *testing.T) {
	sb, err := sandbox.New(sandbox.Config{RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	t.Setenv("CENTRAPAY_API_KEY", "not-a-key-centrapay-knows")
	_, _, err = run(t, "serve", "--db", filepath.Join(t.TempDir(), "j.db"), "--merchant-account-id", sb.Seed().MerchantAccountID,
		"--centrapay-url", srv.URL, "--listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "refused the API key") || strings.Contains(err.Error(), "not-a-key") {
		t.Errorf("serve with a key Centrapay refuses: %v", err)
	}
}

// TestTerminalReadded: a revoked terminal id may be added again, with a
// new token.
func TestTerminalReadded(t *testing.T) {
	db := filepath.Join(t.TempDir(), "j.db")
	for range 2 {
		if out, _, err := run(t, "terminal", "add", "--db", db, "--id", "till-5", "--config-id", "mc_1"); err != nil || !strings.Contains(out, "cpt_") {
			t.Fatalf("add: %q %v", out, err)
		}
		if _, _, err := run(t, "terminal", "revoke", "--db", db, "till-5"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTerminalCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "j.db")
	out, _, err := run(t, "terminal", "add", "--db", db, "--id", "till-9", "--name", "Back bar", "--config-id", "mc_1")
	if err != nil || !strings.Contains(out, "cpt_") {
		t.Fatalf("add: %q %v", out, err)
	}
	if _, _, err := run(t, "terminal", "add", "--db", db, "--id", "till-9", "--config-id", "mc_1"); err == nil {
		t.Error("a second till-9 was added")
	}
	if _, _, err := run(t, "terminal", "add", "--db", db, "--id", "till-8"); err == nil {
		t.Error("a terminal without a config was added")
	}
	out, _, _ = run(t, "terminal", "list", "--db", db)
	if !strings.Contains(out, "till-9\tBack bar\tdevice till-9\tconfig mc_1\tactive") {
		t.Errorf("list: %q", out)
	}
	if _, _, err := run(t, "terminal", "revoke", "--db", db, "till-9"); err != nil {
		t.Fatal(err)
	}
	out, _, _ = run(t, "terminal", "list", "--db", db)
	if !strings.Contains(out, "revoked") {
		t.Errorf("after revoke: %q", out)
	}
	if _, _, err := run(t, "terminal", "revoke", "--db", db, "till-9"); err == nil {
		t.Error("revoked twice")
	}
	if _, _, err := run(t, "terminal", "rename", "--db", db); err == nil {
		t.Error("unknown action accepted")
	}
}

func TestHelpIsNotAFailure(t *testing.T) {
	for _, cmd := range []string{"serve", "demo", "sandbox"} {
		if _, _, err := run(t, cmd, "-h"); err != nil {
			t.Errorf("%s -h: %v", cmd, err)
		}
	}
	var usage cli.UsageError
	if _, _, err := run(t, "serve", "--bogus"); !errors.As(err, &usage) {
		t.Errorf("unknown flag: %v", err)
	}
}
