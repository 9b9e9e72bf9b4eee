package postgres_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/centrapos/centrapos/store/postgres"
)

// The journal's promise (docs/operations.md, "What a power cut can lose")
// is that a transaction whose COMMIT has returned survives a crash of the
// server: these tests keep Open to it.

// TestDurabilitySettings reads, through the journal's own pool, the two
// settings that promise rests on.
func TestDurabilitySettings(t *testing.T) {
	j := open(t)
	ctx := context.Background()
	if v, err := postgres.Setting(ctx, j, "fsync"); err != nil || v != "on" {
		t.Errorf("fsync = %q, %v; want on", v, err)
	}
	if v, err := postgres.Setting(ctx, j, "synchronous_commit"); err != nil || v == "off" {
		t.Errorf("synchronous_commit = %q, %v; want on, local, remote_write or remote_apply", v, err)
	}
}

// TestOpenRefusesAsynchronousCommit opens a journal whose every session
// runs with synchronous_commit=off (set in the connection string, as an
// operator could): Open must refuse it before it writes anything.
func TestOpenRefusesAsynchronousCommit(t *testing.T) {
	u := schemaURL(t, url.Values{"options": {"-c synchronous_commit=off"}})
	j, err := postgres.Open(context.Background(), u)
	if err == nil {
		j.Close()
		t.Fatal("a journal opened on sessions with synchronous_commit=off")
	}
	for _, want := range []string{"synchronous_commit=off", "set synchronous_commit=on"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// refused before the migrations: the schema is still empty
	parsed, _ := url.Parse(u)
	schema := parsed.Query().Get("search_path")
	base := baseURL()
	admin, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var n int
	if err := admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE schemaname = $1`, schema).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d tables in %s after a refused open (%v)", n, schema, err)
	}
}

// TestOpenAcceptsLocalCommit: every setting but off waits for the local
// flush, so "local" (no wait for a standby) is accepted.
func TestOpenAcceptsLocalCommit(t *testing.T) {
	j, err := postgres.Open(context.Background(), schemaURL(t, url.Values{"options": {"-c synchronous_commit=local"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if v, err := postgres.Setting(context.Background(), j, "synchronous_commit"); err != nil || v != "local" {
		t.Errorf("synchronous_commit = %q, %v; the URL's options did not reach the session", v, err)
	}
}

// TestDurabilityError covers what no test server can be made to run
// with per session: fsync is set for the whole server.
func TestDurabilityError(t *testing.T) {
	for _, c := range []struct {
		fsync, commit string
		want          string // "" for accepted
	}{
		{"on", "on", ""},
		{"on", "local", ""},
		{"on", "remote_write", ""},
		{"on", "remote_apply", ""},
		{"on", "off", "synchronous_commit=off"},
		{"off", "on", "fsync=off"},
		{"off", "off", "fsync=off"},
	} {
		err := postgres.DurabilityError(c.fsync, c.commit)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("fsync=%s synchronous_commit=%s refused: %v", c.fsync, c.commit, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("fsync=%s synchronous_commit=%s: %v, want an error naming %s", c.fsync, c.commit, err, c.want)
		}
	}
}
