package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/journaltest"
	"github.com/centrapos/centrapos/store/sqlite"
)

func TestConformance(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) pos.Journal {
		j, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "j#1?.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		return j
	})
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s := &pos.Sale{ID: "s1", TerminalID: "t", ExternalRef: "r", Value: 5, Status: pos.StatusPending}
	if err := j.Save(ctx, &pos.Change{Sale: s, NewSale: true, Note: "sale started"}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j, err = sqlite.Open(ctx, path) // migrations already applied: a no-op
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if got, err := j.Sale(ctx, "s1"); err != nil || got.Value != 5 {
		t.Errorf("after reopen: %+v %v", got, err)
	}
	if _, err := sqlite.Open(ctx, ""); err == nil {
		t.Error("an empty path opened")
	}
}

func TestCrashAtEveryWrite(t *testing.T) {
	journaltest.Crash(t, func(t *testing.T) pos.Journal {
		j, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "journal.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		return j
	})
}

func TestOutbox(t *testing.T) {
	journaltest.Outbox(t, func(t *testing.T) pos.Journal {
		j, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "journal.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		return j
	})
}

func TestNotifications(t *testing.T) {
	journaltest.Notifications(t, func(t *testing.T) pos.Notifications {
		j, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "journal.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		return j
	})
}

func TestSessions(t *testing.T) {
	journaltest.Sessions(t, func(t *testing.T) pos.Sessions {
		j, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "journal.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		return j
	})
}
