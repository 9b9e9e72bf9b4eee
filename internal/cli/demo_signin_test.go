package cli_test

import (
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// signIn follows the demo's sign-in: a GET of the one-time link, or a POST
// of a token to /login (what the login page sends). It returns the status
// and whether a session cookie was set.
func signIn(t *testing.T, base, link, token string) (int, bool) {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var resp *http.Response
	var err error
	if link != "" {
		resp, err = noRedirect.Get(link)
	} else {
		resp, err = noRedirect.PostForm(base+"/login", url.Values{"token": {token}})
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, len(resp.Cookies()) > 0 && resp.Cookies()[0].Value != ""
}

// TestDemoSignInAgain: the demo says its sign-in link works once and how
// to sign in again; the link does work once, and the way it prints (the
// cashier's address and the terminal token) signs in after it. With --dir
// the journal is kept, and the next run prints a new token that signs in
// (the earlier one no longer does).
func TestDemoSignInAgain(t *testing.T) {
	dir := t.TempDir()
	var stderr syncBuffer
	lines, stop := startDemoWith(t, &stderr, "--dir", dir)
	link, token := lines["Cashier (signed in)"], lines["Terminal token"]
	base := link[:strings.Index(link, "/login/")]
	again := lines["Sign-in link"]
	if !strings.Contains(again, "works once") || !strings.Contains(again, "open "+base+"/ and enter the terminal token") || !strings.HasPrefix(token, "cpt_") {
		t.Fatalf("demo printed %q; stderr %s", lines, stderr.String())
	}
	if status, ok := signIn(t, base, link, ""); status != http.StatusSeeOther || !ok {
		t.Errorf("the link, first time: %d, signed in %v", status, ok)
	}
	if status, ok := signIn(t, base, link, ""); status != http.StatusUnauthorized || ok {
		t.Errorf("the link, second time: %d, signed in %v; want 401", status, ok)
	}
	if status, ok := signIn(t, base, "", token); status != http.StatusSeeOther || !ok {
		t.Errorf("the token at %s/login: %d, signed in %v", base, status, ok)
	}
	if j := lines["Journal"]; !strings.HasPrefix(j, filepath.Join(dir, "centrapos.db")+" (kept") {
		t.Errorf("Journal: %q, want it in --dir and kept", j)
	}
	stop()
	if _, err := os.Stat(filepath.Join(dir, "centrapos.db")); err != nil {
		t.Fatalf("the journal in --dir after the demo: %v", err)
	}

	lines, stop = startDemoWith(t, &stderr, "--dir", dir)
	link, token2 := lines["Cashier (signed in)"], lines["Terminal token"]
	base = link[:strings.Index(link, "/login/")]
	if !strings.HasPrefix(token2, "cpt_") || token2 == token {
		t.Fatalf("second run printed token %q (first %q)", token2, token)
	}
	if status, ok := signIn(t, base, "", token2); status != http.StatusSeeOther || !ok {
		t.Errorf("the second run's token: %d, signed in %v", status, ok)
	}
	if status, _ := signIn(t, base, "", token); status != http.StatusUnauthorized {
		t.Errorf("the first run's token on the second run: %d, want 401", status)
	}
	stop()
}

// TestDemoRemovesItsTemporaryJournal: without --dir the demo keeps its
// journal in a temporary directory, says so, and removes it when it stops.
func TestDemoRemovesItsTemporaryJournal(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var stderr syncBuffer
	lines, stop := startDemoWith(t, &stderr)
	journal, _, _ := strings.Cut(lines["Journal"], " (")
	if !strings.HasPrefix(journal, tmp) || !strings.Contains(lines["Journal"], "removed when the demo stops") {
		t.Fatalf("Journal: %q, want a temporary one, removed at the end", lines["Journal"])
	}
	if _, err := os.Stat(journal); err != nil {
		t.Fatalf("the journal while the demo runs: %v", err)
	}
	stop()
	if _, err := os.Stat(filepath.Dir(journal)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the demo's temporary directory after it stopped: %v, want it gone", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}
