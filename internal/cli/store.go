package cli

import (
	"context"
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
// SQLite file.
func openStore(ctx context.Context, db string) (store, error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return postgres.Open(ctx, db)
	}
	return sqlite.Open(ctx, db)
}
