package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/centrapos/centrapos/pos"
)

var (
	_ pos.Leases   = (*Journal)(nil)
	_ pos.SaleNews = (*Journal)(nil)
)

// salesChannel starts the name of the channel of the news of sales
// (LISTEN/NOTIFY), which ends with the journal's schema: a payload is
// "<origin> <sale id>" for a change, "<origin> <sale id> nudge" for a
// nudge.
const salesChannel = "centrapos_sales"

// ClaimLeases takes the free or expired leases of open sales, of
// pending ops that are their own work, and of refunds whose completion
// is still to be checked (for 7 days), oldest first. Rows another claim
// is taking (or a save is writing) are skipped, not waited for, and a
// lease is only taken over once expired, so two owners never claim the
// same one.
func (j *Journal) ClaimLeases(ctx context.Context, owner string, ttl time.Duration, limit int) ([]string, error) {
	rows, err := j.pool.Query(ctx, `
		WITH s AS (
			SELECT 's:' || s.id AS key, s.created_at FROM sales s
			WHERE NOT s.final AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.key = 's:' || s.id AND l.expires_at > now())
			ORDER BY s.created_at LIMIT $3 FOR UPDATE OF s SKIP LOCKED),
		o AS (
			SELECT 'o:' || o.id AS key, o.created_at FROM ops o
			WHERE o.state = 'pending' AND o.kind NOT IN ('create', 'void')
				AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.key = 'o:' || o.id AND l.expires_at > now())
			ORDER BY o.created_at LIMIT $3 FOR UPDATE OF o SKIP LOCKED),
		r AS (
			SELECT 'r:' || o.id AS key, o.created_at FROM ops o
			WHERE o.kind = 'refund' AND o.state = 'succeeded' AND o.completed_at IS NULL AND o.created_at > now() - interval '7 days'
				AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.key = 'r:' || o.id AND l.expires_at > now())
			ORDER BY o.created_at LIMIT $3 FOR UPDATE OF o SKIP LOCKED),
		free AS (SELECT * FROM s UNION ALL SELECT * FROM o UNION ALL SELECT * FROM r)
		INSERT INTO leases (key, owner, expires_at)
			SELECT key, $1, now() + $2 * interval '1 millisecond' FROM free ORDER BY created_at LIMIT $3
		ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
			WHERE leases.expires_at <= now()
		RETURNING key`, owner, ttl.Milliseconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim leases: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: claim leases: %w", err)
	}
	return keys, nil
}

// RenewLeases lets go of owner's leases on final sales and ops no longer
// pending, and extends the rest, in one transaction.
func (j *Journal) RenewLeases(ctx context.Context, owner string, ttl time.Duration) (map[string]int, error) {
	keys := map[string]int{}
	err := pgx.BeginFunc(ctx, j.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM leases l USING sales s WHERE l.owner = $1 AND l.key = 's:' || s.id AND s.final`, owner); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM leases l USING ops o WHERE l.owner = $1 AND l.key = 'o:' || o.id AND o.state <> 'pending'`, owner); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM leases l USING ops o WHERE l.owner = $1 AND l.key = 'r:' || o.id
			AND (o.completed_at IS NOT NULL OR o.state <> 'succeeded' OR o.created_at < now() - interval '7 days')`, owner); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE leases l SET expires_at = now() + $2 * interval '1 millisecond' WHERE owner = $1
			RETURNING key, coalesce((SELECT s.version FROM sales s WHERE s.id = substr(l.key, 3) AND l.key LIKE 's:%'), 0)`, owner, ttl.Milliseconds())
		if err != nil {
			return err
		}
		var key string
		var version int
		_, err = pgx.ForEachRow(rows, []any{&key, &version}, func() error {
			keys[key] = version
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: renew leases: %w", err)
	}
	return keys, nil
}

// ReleaseLeases lets go of every lease of owner.
func (j *Journal) ReleaseLeases(ctx context.Context, owner string) error {
	if _, err := j.pool.Exec(ctx, `DELETE FROM leases WHERE owner = $1`, owner); err != nil {
		return fmt.Errorf("postgres: release leases: %w", err)
	}
	return nil
}

// ListenSales listens on the sales channel on a connection of its own
// until ctx ends, calling fn for the news of every origin but origin.
func (j *Journal) ListenSales(ctx context.Context, origin string, fn func(saleID string, nudge bool)) error {
	conn, err := j.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	defer func() {
		// a connection that listened is not given back to the pool
		conn.Conn().Close(context.Background())
		conn.Release()
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{j.channel}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("postgres: listen: %w", err)
		}
		from, rest, ok := strings.Cut(n.Payload, " ")
		if !ok || from == origin {
			continue
		}
		id, flag, _ := strings.Cut(rest, " ")
		fn(id, flag == "nudge")
	}
}

// NudgeSale asks the holder of sale id to drive it now.
func (j *Journal) NudgeSale(ctx context.Context, origin, id string) error {
	if _, err := j.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, j.channel, origin+" "+id+" nudge"); err != nil {
		return fmt.Errorf("postgres: nudge sale %s: %w", id, err)
	}
	return nil
}

// TakeLease takes lease l in the transaction: a new sale's or op's, free
// by construction; one held by another owner and not expired is not
// taken over (ErrStale: the change is not saved).
func (t *pipeTx) TakeLease(ctx context.Context, l pos.Lease) error {
	t.exec(func(tag pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("postgres: take lease %s: %w", l.Key, err)
		}
		if tag.RowsAffected() == 0 {
			return pos.ErrStale
		}
		return nil
	}, `INSERT INTO leases (key, owner, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
		ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
			WHERE leases.owner = excluded.owner OR leases.expires_at <= now()`, l.Key, l.Owner, l.TTL.Milliseconds())
	return t.flush(ctx) // its outcome is needed before the commit: a refused take is no server error
}

// NewsOfSale queues the notification of a change of sale id: PostgreSQL
// sends it when the transaction commits, and only then. A change with no
// origin is an engine's that shares its journal with none: no news.
func (t *pipeTx) NewsOfSale(ctx context.Context, origin, id string) error {
	if origin == "" {
		return nil
	}
	t.exec(func(_ pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("postgres: news of sale %s: %w", id, err)
		}
		return nil
	}, `SELECT pg_notify($1, $2)`, t.channel, origin+" "+id)
	return nil
}
