package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/centrapos/centrapos/store/internal/bench"
)

// Setting returns a server setting as the journal's pool sees it.
func Setting(ctx context.Context, j *Journal, name string) (string, error) {
	var v string
	err := j.pool.QueryRow(ctx, `SELECT current_setting($1)`, name).Scan(&v)
	return v, err
}

// DurabilityError is durabilityError, for settings no test server can be
// given (fsync cannot be changed per session).
var DurabilityError = durabilityError

// RawInserter is the raw insert BenchRatio measures the journal against.
func RawInserter(ctx context.Context, j *Journal) (bench.RawFunc, error) { return j.rawInserter(ctx) }

// PoolConfig is the configuration of the journal's pool.
func PoolConfig(j *Journal) *pgxpool.Config { return j.pool.Config() }

// PreparedStatements lists the statements the pool's idle connections
// hold prepared on the server.
func PreparedStatements(ctx context.Context, j *Journal) ([]string, error) {
	var out []string
	for _, c := range j.pool.AcquireAllIdle(ctx) {
		rows, err := c.Query(ctx, `SELECT statement FROM pg_prepared_statements`)
		if err == nil {
			var list []string
			list, err = pgx.CollectRows(rows, pgx.RowTo[string])
			out = append(out, list...)
		}
		c.Release()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
