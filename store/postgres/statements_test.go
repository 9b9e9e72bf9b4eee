package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/postgres"
)

// TestStatementsCached keeps Save's and Sale's statements prepared once
// per connection: the pool runs pgx's cache_statement mode (a statement
// is prepared the first time a connection runs it, then executed by name)
// with a cache large enough for every statement the journal has, and a
// Save leaves its statements prepared on the server.
func TestStatementsCached(t *testing.T) {
	j := open(t)
	cfg := postgres.PoolConfig(j).ConnConfig
	if cfg.DefaultQueryExecMode != pgx.QueryExecModeCacheStatement {
		t.Errorf("query exec mode %v, want %v", cfg.DefaultQueryExecMode, pgx.QueryExecModeCacheStatement)
	}
	if cfg.StatementCacheCapacity < 64 {
		t.Errorf("statement cache of %d statements", cfg.StatementCacheCapacity)
	}
	ctx := context.Background()
	s := &pos.Sale{ID: "s1", TerminalID: "t", ExternalRef: "r", Value: 5, Status: pos.StatusPending}
	if err := j.Save(ctx, &pos.Change{Sale: s, NewSale: true, Note: "sale started"}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Sale(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	prepared, err := postgres.PreparedStatements(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"INSERT INTO sales", "INSERT INTO sale_events", "SELECT data FROM sales WHERE id"} {
		if !slices.ContainsFunc(prepared, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("no connection holds %q prepared; prepared: %q", want, prepared)
		}
	}
}
