package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/centrapos/centrapos/store/internal/bench"
	"github.com/centrapos/centrapos/store/sqlite"
)

// benchJournal opens a journal in a file of the benchmark's own, with the raw
// insert it is compared with.
func benchJournal(b *testing.B) (bench.SaveFunc, bench.RawFunc) {
	b.Helper()
	ctx := context.Background()
	j, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "journal.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close() })
	raw, err := sqlite.RawInserter(ctx, j)
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
// leaves nothing behind.
func TestBenchRatio(t *testing.T) {
	dir := t.TempDir()
	r, err := sqlite.BenchRatio(context.Background(), dir, 4, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Saves == 0 || r.RawInserts == 0 || r.Ratio <= 0 || r.Concurrency != 4 {
		t.Errorf("BenchRatio = %+v", r)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("BenchRatio left %d files in %s", len(left), dir)
	}
	t.Log(r)
}
