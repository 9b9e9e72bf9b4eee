package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/centrapos/centrapos/store/internal/bench"
)

// Ratio is what BenchRatio measured: saves/s, raw inserts/s and their
// ratio, with the counts and the load they came from.
type Ratio = bench.Ratio

// BenchRatio measures the journal against its database: in a new journal
// file in a temporary directory under dir (removed afterwards), it runs
// raw single-row inserts into a scratch table, each in a transaction of
// its own on the journal's writer (same file, same pragmas), then Saves
// of the steps of sales as the engine journals them, each for d from
// concurrency goroutines. dir should be on the disk the journal is kept
// on: the commit's fsync is most of the cost.
func BenchRatio(ctx context.Context, dir string, concurrency int, d time.Duration) (Ratio, error) {
	tmp, err := os.MkdirTemp(dir, "centrapos-bench-")
	if err != nil {
		return Ratio{}, fmt.Errorf("sqlite: bench: %w", err)
	}
	defer os.RemoveAll(tmp)
	j, err := Open(ctx, filepath.Join(tmp, "journal.db"))
	if err != nil {
		return Ratio{}, err
	}
	defer j.Close()
	raw, err := j.rawInserter(ctx)
	if err != nil {
		return Ratio{}, err
	}
	r, err := bench.Measure(ctx, concurrency, d, raw, j.Save)
	if err != nil {
		return r, fmt.Errorf("sqlite: bench: %w", err)
	}
	return r, nil
}

// rawInserter creates the scratch table bench_raw and returns the raw
// insert the journal is measured against: one prepared INSERT, in a
// transaction of its own, committed, on the writer.
func (j *Journal) rawInserter(ctx context.Context) (bench.RawFunc, error) {
	if _, err := j.db.ExecContext(ctx, bench.RawTable); err != nil {
		return nil, fmt.Errorf("sqlite: bench table: %w", err)
	}
	ins, err := j.db.PrepareContext(ctx, `INSERT INTO bench_raw (id, terminal_id, external_ref, status, created_at, data) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: bench insert: %w", err)
	}
	return func(ctx context.Context, r bench.Row) error {
		tx, err := j.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.StmtContext(ctx, ins).ExecContext(ctx, r.ID, r.TerminalID, r.ExternalRef, r.Status, ms(r.CreatedAt), r.Data); err != nil {
			return fmt.Errorf("sqlite: raw insert: %w", err)
		}
		return tx.Commit()
	}, nil
}
