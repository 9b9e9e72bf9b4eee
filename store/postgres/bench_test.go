package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/centrapos/centrapos/store/internal/bench"
	"github.com/centrapos/centrapos/store/postgres"
)

// benchJournal opens a journal in a schema of the benchmark's own, with
// the raw insert it is compared with; it skips when no PostgreSQL
// answers, as the tests do.
func benchJournal(b *testing.B) (bench.SaveFunc, bench.RawFunc) {
	b.Helper()
	ctx := context.Background()
	j, err := postgres.Open(ctx, schemaURL(b, nil))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close() })
	raw, err := postgres.RawInserter(ctx, j)
	if err != nil {
		b.Fatal(err)
	}
	return j.Save, raw
}

// BenchmarkSave journals the steps of sales as the engine does (started
// with their create intent and till key, request created, paid), from
// one goroutine and from bench.Parallelism per GOMAXPROCS.
func BenchmarkSave(b *testing.B) { bench.Saves(b, benchJournal) }

// BenchmarkRawInsert inserts a row of a sale's size per transaction, in
// the journal's database, with the same durability and concurrency.
func BenchmarkRawInsert(b *testing.B) { bench.RawInserts(b, benchJournal) }

// BenchmarkRatio runs both in one benchmark, alternating, and reports
// save/raw: the raw insert's time per row over Save's time per change.
func BenchmarkRatio(b *testing.B) { bench.Ratios(b, benchJournal) }

// TestBenchRatio runs BenchRatio briefly: it measures both sides and
// drops its schema.
func TestBenchRatio(t *testing.T) {
	base := baseURL()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		skipOrFail(t, base, err)
	}
	defer admin.Close(ctx)
	before := benchSchemas(t, admin)
	r, err := postgres.BenchRatio(ctx, base, 4, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Saves == 0 || r.RawInserts == 0 || r.Ratio <= 0 || r.Concurrency != 4 {
		t.Errorf("BenchRatio = %+v", r)
	}
	if after := benchSchemas(t, admin); after != before {
		t.Errorf("BenchRatio left %d schemas", after-before)
	}
	t.Log(r)
}

// benchSchemas counts BenchRatio's schemas.
func benchSchemas(t *testing.T, admin *pgx.Conn) int {
	t.Helper()
	var n int
	if err := admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'centrapos\_bench\_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
