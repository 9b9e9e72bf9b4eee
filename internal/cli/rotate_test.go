package cli_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/sqlite"
)

var tokenRE = regexp.MustCompile(`cpt_[0-9a-f]+`)

// TestTerminalRotate: rotate prints a new token once; the old one works
// for the grace (default 24 h, flags before or after the id), or stops at
// once with --grace 0; list shows the old token's end and the last use.
func TestTerminalRotate(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "j.db")
	out, _, err := run(t, "terminal", "add", "--db", db, "--id", "till-1", "--config-id", "mc_1")
	if err != nil {
		t.Fatal(err)
	}
	first := tokenRE.FindString(out)
	out, _, _ = run(t, "terminal", "list", "--db", db)
	if !strings.Contains(out, "never used") || strings.Contains(out, "old token") {
		t.Errorf("list before use: %q", out)
	}

	before := time.Now()
	out, _, err = run(t, "terminal", "rotate", "--db", db, "till-1")
	if err != nil {
		t.Fatal(err)
	}
	second := tokenRE.FindString(out)
	if second == "" || second == first || !strings.Contains(out, "shown only now") {
		t.Fatalf("rotate: %q", out)
	}
	out, _, _ = run(t, "terminal", "list", "--db", db)
	if !strings.Contains(out, "old token valid until "+before.Add(24*time.Hour).UTC().Format("2006-01-02T15")) {
		t.Errorf("list after a rotation: %q", out)
	}

	j, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tok := range []string{first, second} {
		if _, err := j.TerminalByToken(ctx, pos.HashToken(tok), now); err != nil {
			t.Errorf("a token does not work during the grace: %v", err)
		}
	}
	if _, err := j.TerminalByToken(ctx, pos.HashToken(first), now.Add(25*time.Hour)); err == nil {
		t.Error("the old token works after 24 h")
	}
	used := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	if err := j.TouchTerminal(ctx, "till-1", used); err != nil {
		t.Fatal(err)
	}
	j.Close()
	out, _, _ = run(t, "terminal", "list", "--db", db)
	if !strings.Contains(out, "last used 2026-11-25T09:00:00Z") {
		t.Errorf("list after use: %q", out)
	}

	// the flag after the id; no grace
	out, _, err = run(t, "terminal", "rotate", "--db", db, "till-1", "--grace", "0")
	if err != nil {
		t.Fatal(err)
	}
	third := tokenRE.FindString(out)
	if third == "" || !strings.Contains(out, "no longer works") {
		t.Fatalf("rotate --grace 0: %q", out)
	}
	out, _, _ = run(t, "terminal", "list", "--db", db)
	if strings.Contains(out, "old token") {
		t.Errorf("list after a rotation with no grace: %q", out)
	}
	j, err = sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	now = time.Now()
	if _, err := j.TerminalByToken(ctx, pos.HashToken(second), now); err == nil {
		t.Error("the token replaced with --grace 0 still works")
	}
	if _, err := j.TerminalByToken(ctx, pos.HashToken(third), now); err != nil {
		t.Errorf("the new token: %v", err)
	}

	for _, args := range [][]string{
		{"terminal", "rotate", "--db", db},
		{"terminal", "rotate", "--db", db, "till-404"},
		{"terminal", "rotate", "--db", db, "--grace", "-1h", "till-1"},
		{"terminal", "rotate", "--db", db, "--grace", "soon", "till-1"},
	} {
		if out, _, err := run(t, args...); err == nil {
			t.Errorf("%v: accepted: %q", args, out)
		}
	}
}
