package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/centrapos/centrapos/store/internal/bench"
)

// Ratio is what BenchRatio measured: saves/s, raw inserts/s and their
// ratio, with the counts and the load they came from.
type Ratio = bench.Ratio

// BenchRatio measures the journal against its database: in a new schema
// of the database at url (dropped afterwards), it runs raw single-row
// inserts into a scratch table, each in a transaction of its own through
// the journal's pool (same server, same durability settings), then Saves
// of the steps of sales as the engine journals them, each for d from
// concurrency goroutines.
func BenchRatio(ctx context.Context, url string, concurrency int, d time.Duration) (Ratio, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return Ratio{}, fmt.Errorf("postgres: bench: %w", err)
	}
	schema, drop, err := scratchSchema(ctx, cfg)
	if err != nil {
		return Ratio{}, err
	}
	defer drop()
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	if cfg.MaxConns < int32(concurrency) {
		cfg.MaxConns = int32(concurrency) // the journal's clients, not the pool, are measured
	}
	j, err := open(ctx, cfg)
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
		return r, fmt.Errorf("postgres: bench: %w", err)
	}
	return r, nil
}

// scratchSchema creates a schema of a random name on the server of cfg;
// drop drops it with everything in it.
func scratchSchema(ctx context.Context, cfg *pgxpool.Config) (schema string, drop func(), err error) {
	admin, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		return "", nil, fmt.Errorf("postgres: bench: connect: %w", err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema = "centrapos_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close(ctx)
		return "", nil, fmt.Errorf("postgres: bench: %w", err)
	}
	return schema, func() {
		ctx := context.WithoutCancel(ctx)
		admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(ctx)
	}, nil
}

// rawInserter creates the scratch table bench_raw and returns the raw
// insert the journal is measured against: one INSERT in a transaction of
// its own, committed, through the journal's pool.
func (j *Journal) rawInserter(ctx context.Context) (bench.RawFunc, error) {
	if _, err := j.pool.Exec(ctx, bench.RawTable); err != nil {
		return nil, fmt.Errorf("postgres: bench table: %w", err)
	}
	return func(ctx context.Context, r bench.Row) error {
		return pgx.BeginFunc(ctx, j.pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO bench_raw (id, terminal_id, external_ref, status, created_at, data) VALUES ($1, $2, $3, $4, $5, $6)`,
				r.ID, r.TerminalID, r.ExternalRef, r.Status, r.CreatedAt.UnixMilli(), string(r.Data))
			if err != nil {
				return fmt.Errorf("postgres: raw insert: %w", err)
			}
			return nil
		})
	}, nil
}
