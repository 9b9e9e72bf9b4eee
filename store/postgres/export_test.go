package postgres

import "context"

// Setting returns a server setting as the journal's pool sees it.
func Setting(ctx context.Context, j *Journal, name string) (string, error) {
	var v string
	err := j.pool.QueryRow(ctx, `SELECT current_setting($1)`, name).Scan(&v)
	return v, err
}

// DurabilityError is durabilityError, for settings no test server can be
// given (fsync cannot be changed per session).
var DurabilityError = durabilityError
