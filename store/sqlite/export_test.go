package sqlite

import "context"

// Pragma reads PRAGMA name on the journal's connection: Open allows one
// (SetMaxOpenConns(1)), so it is the connection every Save writes with.
func Pragma(ctx context.Context, j *Journal, name string) (string, error) {
	var v string
	err := j.db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

// MaxOpenConns is the most connections the journal opens at once.
func MaxOpenConns(j *Journal) int { return j.db.Stats().MaxOpenConnections }
