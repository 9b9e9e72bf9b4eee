package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/centrapos/centrapos/store/internal/bench"
	"github.com/centrapos/centrapos/store/internal/query"
)

// BenchmarkSaveInTx is the CPU cost of changes: the statements of the
// three Saves of a sale (started, request created, paid), in a
// transaction rolled back (no commit, no fsync); an op is the three.
func BenchmarkSaveInTx(b *testing.B) {
	ctx := context.Background()
	j, err := Open(ctx, filepath.Join(b.TempDir(), "journal.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	w := bench.NewWorkload(bench.NewPrefixes().Next())
	for b.Loop() {
		tx, err := j.db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		txw := newTxWriter(tx, j.stmts)
		for range 3 {
			if err := query.Save(ctx, txw, w.Next()); err != nil {
				b.Fatal(err)
			}
		}
		tx.Rollback()
	}
}

// BenchmarkSale reads a sale by id.
func BenchmarkSale(b *testing.B) {
	ctx := context.Background()
	j, err := Open(ctx, filepath.Join(b.TempDir(), "journal.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	c := bench.NewWorkload("read").Next()
	if err := j.Save(ctx, c); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := j.Sale(ctx, c.Sale.ID); err != nil {
			b.Fatal(err)
		}
	}
}
