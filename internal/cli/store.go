package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/postgres"
	"github.com/centrapos/centrapos/store/sqlite"
)

// store is everything the server keeps: the engine's journal (with the
// tills' Idempotency-Keys) and the terminals.
type store interface {
	pos.Journal
	pos.Terminals
	pos.Notifications
	pos.Outbox
	Close() error
}

// openStore opens a PostgreSQL database for a postgres:// URL, else a
// SQLite file, which it creates when there is none — unless ctx says the
// command works on a journal that exists (withExistingJournal): then a
// missing file is an error that says where it looked.
func openStore(ctx context.Context, db string) (store, error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return postgres.Open(ctx, db)
	}
	if existing, _ := ctx.Value(existingJournalKey{}).(bool); existing {
		if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
			where := db
			if abs, err := filepath.Abs(db); err == nil {
				where = abs
			}
			return nil, fmt.Errorf("no journal at %s (nothing was created): give --db the journal `centrapos serve --db` uses, a SQLite file or a postgres:// URL", where)
		}
	}
	return sqlite.Open(ctx, db)
}

// existingJournalKey marks a context whose command must not create a
// journal.
type existingJournalKey struct{}

// withExistingJournal marks ctx for a command that reads or changes what
// a journal holds: openStore opens the journal but never creates it, so
// that a missing or mistyped --db is said rather than answered from a new,
// empty file left behind.
func withExistingJournal(ctx context.Context) context.Context {
	return context.WithValue(ctx, existingJournalKey{}, true)
}

// needsExistingJournal says whether a command line (a command and its
// arguments) works on a journal that exists already: every one that opens
// a journal but those that set one up — serve and demo, `terminal add`,
// `webhook add`.
func needsExistingJournal(args []string) bool {
	switch args[0] {
	case "reconcile":
		return true
	case "terminal", "webhook":
		return len(args) > 1 && args[1] != "add"
	}
	return false
}
