package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/journaltest"
	"github.com/centrapos/centrapos/store/postgres"
)

// open returns a journal in a schema of its own, dropped after the test.
// The server is $CENTRAPOS_POSTGRES_URL (default: the local test
// database); when it cannot be reached the test is skipped, or fails if
// $CENTRAPOS_REQUIRE_POSTGRES is set.
func open(t *testing.T) *postgres.Journal {
	t.Helper()
	j, err := postgres.Open(context.Background(), schemaURL(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// schemaURL returns the URL of a schema of the test's own, dropped after
// it, with params added to the URL's query; it skips (or fails) as open
// does when no PostgreSQL answers.
func schemaURL(t testing.TB, params url.Values) string {
	t.Helper()
	base := baseURL()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		skipOrFail(t, base, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "centrapos_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	for k, vs := range params {
		q[k] = vs
	}
	// pgx reads a '+' in the query as itself, not as a space: spaces
	// (as in options=-c%20name%3Dvalue) are sent as %20
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// baseURL is $CENTRAPOS_POSTGRES_URL, or the local test database.
func baseURL() string {
	if u := os.Getenv("CENTRAPOS_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// skipOrFail ends a test that found no PostgreSQL at base: skipped, or
// failed if $CENTRAPOS_REQUIRE_POSTGRES is set.
func skipOrFail(t testing.TB, base string, err error) {
	t.Helper()
	if os.Getenv("CENTRAPOS_REQUIRE_POSTGRES") != "" {
		t.Fatalf("postgres: %v", err)
	}
	t.Skipf("no PostgreSQL at %s: %v", base, err)
}

func TestConformance(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) pos.Journal { return open(t) })
}

func TestTerminalList(t *testing.T) {
	j := open(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	tm := pos.Terminal{ID: "till-1", DeviceID: "d1", Name: "Front", ConfigID: "mc", Manager: true, CreatedAt: at}
	if err := j.AddTerminal(ctx, tm, []byte("hash-1")); err != nil {
		t.Fatal(err)
	}
	got, err := j.TerminalByToken(ctx, []byte("hash-1"), at)
	if err != nil || *got != tm {
		t.Errorf("by token: %+v %v", got, err)
	}
	if err := j.RevokeTerminal(ctx, "till-1", at); err != nil {
		t.Fatal(err)
	}
	if list, _ := j.Terminals(ctx); len(list) != 1 || !list[0].Revoked {
		t.Errorf("list: %+v", list)
	}
}

func TestCrashAtEveryWrite(t *testing.T) {
	journaltest.Crash(t, func(t *testing.T) pos.Journal { return open(t) })
}

func TestOutbox(t *testing.T) {
	journaltest.Outbox(t, func(t *testing.T) pos.Journal { return open(t) })
}

func TestNotifications(t *testing.T) {
	journaltest.Notifications(t, func(t *testing.T) pos.Notifications { return open(t) })
}

func TestSessions(t *testing.T) {
	journaltest.Sessions(t, func(t *testing.T) pos.Sessions { return open(t) })
}
