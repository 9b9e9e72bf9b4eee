package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

var _ centrapay.SharedBudget = (*Journal)(nil)

// budgetName names the one rate budget of a journal's servers: they
// call Centrapay with one API key.
const budgetName = "centrapay"

// TakeToken takes a token of the servers' shared rate budget
// (take_rate_token, migration 009).
func (j *Journal) TakeToken(ctx context.Context, floor, burst int, interval time.Duration) (bool, time.Duration, error) {
	var ok bool
	var retryUS int64
	err := j.pool.QueryRow(ctx, `SELECT ok, retry_us FROM take_rate_token($1, $2, $3, $4)`,
		budgetName, floor, burst, max(interval.Microseconds(), 1)).Scan(&ok, &retryUS)
	if err != nil {
		return false, 0, fmt.Errorf("postgres: take a rate token: %w", err)
	}
	return ok, time.Duration(retryUS) * time.Microsecond, nil
}

// PauseBudget pauses the shared budget until until: no server calls
// Centrapay before (a 429's Retry-After is the account's).
func (j *Journal) PauseBudget(ctx context.Context, until time.Time) error {
	_, err := j.pool.Exec(ctx, `INSERT INTO rate_budget (name, tokens, refilled_at, paused_until) VALUES ($1, 0, $2, $2)
		ON CONFLICT (name) DO UPDATE SET paused_until = greatest(rate_budget.paused_until, excluded.paused_until)`, budgetName, until)
	if err != nil {
		return fmt.Errorf("postgres: pause the rate budget: %w", err)
	}
	return nil
}
