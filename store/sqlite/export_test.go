package sqlite

import (
	"context"
	"database/sql"

	"github.com/centrapos/centrapos/store/internal/bench"
)

// Pragma reads PRAGMA name on the journal's connection: Open allows one
// (SetMaxOpenConns(1)), so it is the connection every Save writes with.
func Pragma(ctx context.Context, j *Journal, name string) (string, error) {
	var v string
	err := j.db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

// MaxOpenConns is the most connections the journal opens at once.
func MaxOpenConns(j *Journal) int { return j.db.Stats().MaxOpenConnections }

// RawInserter is the raw insert BenchRatio measures the journal against.
func RawInserter(ctx context.Context, j *Journal) (bench.RawFunc, error) { return j.rawInserter(ctx) }

// MaxBatch is the most changes one commit takes.
const MaxBatch = maxBatch

// Commits counts the transactions Save's committer has committed.
func Commits(j *Journal) int64 { return j.saves.commits.Load() }

// OnQueued has Save tell f the queue's length once its change is queued.
// It is set before any Save runs.
func OnQueued(j *Journal, f func(n int)) { j.saves.q.Queued = f }

// PauseSaves stops the committer taking changes until resume: Saves
// queue meanwhile.
func PauseSaves(j *Journal) (resume func()) {
	return j.saves.q.Pause()
}

// BeforeCommit has f run in each batch's transaction before its commit.
// It is set before any Save runs.
func BeforeCommit(j *Journal, f func(context.Context, *sql.Tx) error) { j.saves.beforeCommit = f }
