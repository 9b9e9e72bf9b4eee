// Package postgres is a pos.Journal (with the server's terminals and
// Idempotency-Key answers) in PostgreSQL, through pgx: for merchants who
// keep their records in a managed database rather than a file beside the
// server. It passes the same conformance suite as store/sqlite. One
// centrapos serve drives the sales of one database: instance leases, so
// that several may share one, are not built yet.
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/internal/query"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Journal is a pos.Journal in PostgreSQL.
type Journal struct {
	pool  *pgxpool.Pool
	saves *committer // Save's group commit, on pool
	// channel carries the news of sales between the servers of this
	// journal: salesChannel and the journal's schema, so that journals in
	// other schemas of the database hear none of it
	channel string
}

var (
	_ pos.Journal   = (*Journal)(nil)
	_ pos.Terminals = (*Journal)(nil)
)

// Open connects to the database at url (postgres://…) and brings its
// schema up to date. It refuses a server that could lose a committed
// transaction in a crash (checkDurability).
func Open(ctx context.Context, url string) (*Journal, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return open(ctx, cfg)
}

// open is Open with the pool's configuration parsed.
func open(ctx context.Context, cfg *pgxpool.Config) (*Journal, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := checkDurability(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	j := &Journal{pool: pool}
	if err := j.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	j.channel = salesChannel + "_" + schema
	if len(j.channel) > 63 { // PostgreSQL's longest name
		j.channel = j.channel[:63]
	}
	j.saves = newCommitter(pool, j.channel)
	return j, nil
}

// checkDurability refuses a server on which a transaction whose COMMIT
// has returned could still be lost in a crash or a power cut. The engine
// calls Centrapay only once the intent is committed: a commit that does
// not last is a payment action nobody remembers. The settings are read
// as the pool's sessions see them, so a per-role, per-database or
// connection-string (options=-c …) setting counts, and are checked when
// the journal opens, not again.
func checkDurability(ctx context.Context, pool *pgxpool.Pool) error {
	var fsync, synchronousCommit string
	err := pool.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &synchronousCommit)
	if err != nil {
		return fmt.Errorf("postgres: read the durability settings: %w", err)
	}
	return durabilityError(fsync, synchronousCommit)
}

// durabilityError says, in an operator's words, what is wrong with the
// server's settings (as SHOW spells them); nil when nothing is.
// synchronous_commit may be on, local, remote_write or remote_apply: all
// of them wait for the commit to be flushed on the server itself.
func durabilityError(fsync, synchronousCommit string) error {
	if fsync != "on" {
		return fmt.Errorf("postgres: PostgreSQL runs with fsync=%s: a crash or power cut of its machine could lose or corrupt "+
			"committed payments; set fsync=on in postgresql.conf", fsync)
	}
	if synchronousCommit == "off" {
		return errors.New("postgres: PostgreSQL runs with synchronous_commit=off: a committed payment intent could be lost in a crash; " +
			"set synchronous_commit=on (for centrapos alone: ALTER ROLE <its user> SET synchronous_commit = on, " +
			"or add options=-c%20synchronous_commit%3Don to the --db URL)")
	}
	return nil
}

// Close answers the Saves under way, then closes the connections.
func (j *Journal) Close() error {
	j.saves.close()
	j.pool.Close()
	return nil
}

// migrate applies the migrations not yet recorded, each in a transaction,
// under an advisory lock so that two servers starting at once do not race.
func (j *Journal) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	return pgx.BeginFunc(ctx, j.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7406131)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
			return fmt.Errorf("postgres: migrations table: %w", err)
		}
		for _, name := range names {
			base := strings.TrimPrefix(name, "migrations/")
			v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
			if err != nil {
				return fmt.Errorf("postgres: migration %s: name must start with its version number", base)
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, v).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			// each migration in a transaction of its own, nested as a savepoint
			if err := pgx.BeginFunc(ctx, tx, func(mtx pgx.Tx) error {
				if _, err := mtx.Exec(ctx, string(body)); err != nil {
					return fmt.Errorf("postgres: migration %s: %w", base, err)
				}
				_, err := mtx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, v)
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// nullable is NULL for "".
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// scanJSON decodes the data column of every row into a new T.
func scanJSON[T any](rows pgx.Rows, err error) ([]*T, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*T, error) {
		var data []byte
		if err := row.Scan(&data); err != nil {
			return nil, err
		}
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return nil, fmt.Errorf("postgres: decode %T: %w", v, err)
		}
		return v, nil
	})
}

// Sale returns one sale.
func (j *Journal) Sale(ctx context.Context, id string) (*pos.Sale, error) {
	rows, err := j.pool.Query(ctx, `SELECT data FROM sales WHERE id = $1`, id)
	return query.First(scanJSON[pos.Sale](rows, err))
}

// FindSale returns the newest sale matching q.
func (j *Journal) FindSale(ctx context.Context, q pos.SaleQuery) (*pos.Sale, error) {
	col, v, err := query.SaleColumn(q)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	rows, err := j.pool.Query(ctx, `SELECT data FROM sales WHERE `+col+` = $1 ORDER BY created_at DESC, seq DESC LIMIT 1`, v)
	return query.First(scanJSON[pos.Sale](rows, err))
}

// Sales lists sales, newest first.
func (j *Journal) Sales(ctx context.Context, f pos.SaleFilter) ([]*pos.Sale, error) {
	w, orderLimit := query.Sales(query.Postgres, f)
	rows, err := j.pool.Query(ctx, `SELECT data FROM sales`+w.String()+orderLimit, w.Args...)
	return scanJSON[pos.Sale](rows, err)
}

// History returns a sale's state changes, oldest first.
func (j *Journal) History(ctx context.Context, saleID string) ([]pos.Event, error) {
	rows, err := j.pool.Query(ctx, `SELECT at, status, note FROM sale_events WHERE sale_id = $1 ORDER BY seq`, saleID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (pos.Event, error) {
		var e pos.Event
		var st string
		err := row.Scan(&e.At, &st, &e.Note)
		e.At, e.Status = e.At.UTC(), pos.Status(st)
		return e, err
	})
}

// Op returns one op.
func (j *Journal) Op(ctx context.Context, id string) (*pos.Op, error) {
	rows, err := j.pool.Query(ctx, `SELECT data FROM ops WHERE id = $1`, id)
	return query.First(scanJSON[pos.Op](rows, err))
}

// Ops lists ops, oldest first.
func (j *Journal) Ops(ctx context.Context, f pos.OpFilter) ([]*pos.Op, error) {
	w := query.Ops(query.Postgres, f)
	rows, err := j.pool.Query(ctx, `SELECT data FROM ops`+w.String()+` ORDER BY created_at, seq`, w.Args...)
	return scanJSON[pos.Op](rows, err)
}

// KnownRequest reports whether a sale or a create holds request id.
func (j *Journal) KnownRequest(ctx context.Context, id string) (bool, error) {
	var known bool
	err := j.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sales WHERE pr_id = $1) OR EXISTS (SELECT 1 FROM ops WHERE pr_id = $1 AND kind = 'create')`, id).Scan(&known)
	return known, err
}

// AddTerminal records a terminal with the hash of its token; a revoked
// terminal with the same id is replaced.
func (j *Journal) AddTerminal(ctx context.Context, t pos.Terminal, tokenHash []byte) error {
	tag, err := j.pool.Exec(ctx, `INSERT INTO terminals (id, device_id, name, config_id, manager, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET device_id = excluded.device_id, name = excluded.name, config_id = excluded.config_id,
			manager = excluded.manager, token_hash = excluded.token_hash, created_at = excluded.created_at, revoked_at = NULL,
			previous_token_hash = NULL, previous_valid_until = NULL, last_used_at = NULL
		WHERE terminals.revoked_at IS NOT NULL`,
		t.ID, t.DeviceID, t.Name, t.ConfigID, t.Manager, tokenHash, t.CreatedAt)
	if uniqueViolation(err) != "" {
		return pos.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("postgres: add terminal %s: %w", t.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return pos.ErrDuplicate // a live terminal has this id
	}
	return nil
}

const terminalCols = `id, device_id, name, config_id, manager, created_at, revoked_at IS NOT NULL, previous_valid_until, last_used_at`

func scanTerminal(row pgx.Row) (*pos.Terminal, error) {
	var t pos.Terminal
	var prevUntil, lastUsed *time.Time
	if err := row.Scan(&t.ID, &t.DeviceID, &t.Name, &t.ConfigID, &t.Manager, &t.CreatedAt, &t.Revoked, &prevUntil, &lastUsed); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, pos.ErrNotFound
		}
		return nil, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	if prevUntil != nil {
		t.PreviousValidUntil = prevUntil.UTC()
	}
	if lastUsed != nil {
		t.LastUsedAt = lastUsed.UTC()
	}
	return &t, nil
}

// TerminalByToken returns the live terminal whose token hashes to hash
// at time at: its current token, or its previous one before that ends.
func (j *Journal) TerminalByToken(ctx context.Context, hash []byte, at time.Time) (*pos.Terminal, error) {
	return scanTerminal(j.pool.QueryRow(ctx, `SELECT `+terminalCols+` FROM terminals
		WHERE revoked_at IS NULL AND (token_hash = $1 OR previous_token_hash = $1 AND previous_valid_until > $2)`, hash, at))
}

// Terminal returns terminal id, revoked or not.
func (j *Journal) Terminal(ctx context.Context, id string) (*pos.Terminal, error) {
	return scanTerminal(j.pool.QueryRow(ctx, `SELECT `+terminalCols+` FROM terminals WHERE id = $1`, id))
}

// Terminals lists every terminal, oldest first.
func (j *Journal) Terminals(ctx context.Context) ([]pos.Terminal, error) {
	rows, err := j.pool.Query(ctx, `SELECT `+terminalCols+` FROM terminals ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (pos.Terminal, error) {
		t, err := scanTerminal(row)
		if err != nil {
			return pos.Terminal{}, err
		}
		return *t, nil
	})
}

// RevokeTerminal stops terminal id's tokens, current and previous, from
// working.
func (j *Journal) RevokeTerminal(ctx context.Context, id string, at time.Time) error {
	tag, err := j.pool.Exec(ctx, `UPDATE terminals SET revoked_at = $1, previous_token_hash = NULL, previous_valid_until = NULL
		WHERE id = $2 AND revoked_at IS NULL`, at, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return pos.ErrNotFound
	}
	return nil
}

// RotateToken gives live terminal id the token hashing to newHash; the
// current one works until graceUntil.
func (j *Journal) RotateToken(ctx context.Context, id string, newHash []byte, graceUntil time.Time) error {
	tag, err := j.pool.Exec(ctx, `UPDATE terminals SET previous_token_hash = token_hash, previous_valid_until = $1, token_hash = $2
		WHERE id = $3 AND revoked_at IS NULL`, graceUntil, newHash, id)
	if uniqueViolation(err) != "" {
		return pos.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("postgres: rotate token of terminal %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return pos.ErrNotFound
	}
	return nil
}

// TouchTerminal records terminal id's use at at, at most once a
// pos.TouchInterval.
func (j *Journal) TouchTerminal(ctx context.Context, id string, at time.Time) error {
	_, err := j.pool.Exec(ctx, `UPDATE terminals SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)`,
		at, id, at.Add(-pos.TouchInterval))
	if err != nil {
		return fmt.Errorf("postgres: touch terminal %s: %w", id, err)
	}
	return nil
}

// Keyed returns what is recorded of a till's Idempotency-Key.
func (j *Journal) Keyed(ctx context.Context, terminalID, key string) (*pos.KeyedRequest, error) {
	k := pos.KeyedRequest{TerminalID: terminalID, Key: key}
	var saleID, opID *string
	var status *int32
	err := j.pool.QueryRow(ctx, `SELECT request_hash, sale_id, op_id, status, body, created_at FROM request_keys WHERE terminal_id = $1 AND key = $2`,
		terminalID, key).Scan(&k.RequestHash, &saleID, &opID, &status, &k.Body, &k.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, pos.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if saleID != nil {
		k.SaleID = *saleID
	}
	if opID != nil {
		k.OpID = *opID
	}
	if status != nil {
		k.Status = int(*status)
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return &k, nil
}

// SaveAnswer keeps the answer to a keyed request; the first one stands.
func (j *Journal) SaveAnswer(ctx context.Context, k *pos.KeyedRequest) error {
	_, err := j.pool.Exec(ctx, `INSERT INTO request_keys (terminal_id, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (terminal_id, key) DO UPDATE SET status = excluded.status, body = excluded.body
		WHERE request_keys.status IS NULL AND request_keys.request_hash = excluded.request_hash`,
		k.TerminalID, k.Key, k.RequestHash, k.Status, k.Body, k.CreatedAt)
	if err != nil {
		return fmt.Errorf("postgres: keep answer: %w", err)
	}
	return nil
}

// PurgeKeys forgets the keys recorded before t.
func (j *Journal) PurgeKeys(ctx context.Context, before time.Time) (int64, error) {
	tag, err := j.pool.Exec(ctx, `DELETE FROM request_keys WHERE created_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: purge keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
