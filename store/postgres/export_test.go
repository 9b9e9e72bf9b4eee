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

// OnBatch has f told the number of statements of each batch (one round
// trip) a Save sends. It is set before any Save runs.
func OnBatch(j *Journal, f func(statements int)) { j.saves.sent = f }

// Commits counts the transactions Save's committers have committed.
func Commits(j *Journal) int64 { return j.saves.commits.Load() }

// MaxBatch is the most changes one commit takes.
const MaxBatch = maxBatch

// OnQueued has Save tell f the queue's length once its change is queued.
// It is set before any Save runs.
func OnQueued(j *Journal, f func(n int)) { j.saves.q.Queued = f }

// PauseSaves stops the committers taking changes until resume (once the
// batches they hold are answered): Saves queue meanwhile.
func PauseSaves(j *Journal) (resume func()) {
	return j.saves.q.Pause()
}
