package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// AddTerminal records a terminal with the hash of its token; a revoked
// terminal with the same id is replaced.
func (j *Journal) AddTerminal(ctx context.Context, t pos.Terminal, tokenHash []byte) error {
	res, err := j.db.ExecContext(ctx, `INSERT INTO terminals (id, device_id, name, config_id, manager, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET device_id = excluded.device_id, name = excluded.name, config_id = excluded.config_id,
			manager = excluded.manager, token_hash = excluded.token_hash, created_at = excluded.created_at, revoked_at = NULL,
			previous_token_hash = NULL, previous_valid_until = NULL, last_used_at = NULL
		WHERE terminals.revoked_at IS NOT NULL`,
		t.ID, t.DeviceID, t.Name, t.ConfigID, t.Manager, tokenHash, ms(t.CreatedAt))
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return pos.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("sqlite: add terminal %s: %w", t.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pos.ErrDuplicate // a live terminal has this id
	}
	return nil
}

const terminalCols = `id, device_id, name, config_id, manager, created_at, revoked_at IS NOT NULL, previous_valid_until, last_used_at`

func scanTerminal(row interface{ Scan(...any) error }) (*pos.Terminal, error) {
	var t pos.Terminal
	var created int64
	var prevUntil, lastUsed sql.NullInt64
	if err := row.Scan(&t.ID, &t.DeviceID, &t.Name, &t.ConfigID, &t.Manager, &created, &t.Revoked, &prevUntil, &lastUsed); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, pos.ErrNotFound
		}
		return nil, err
	}
	t.CreatedAt = time.UnixMilli(created).UTC()
	if prevUntil.Valid {
		t.PreviousValidUntil = time.UnixMilli(prevUntil.Int64).UTC()
	}
	if lastUsed.Valid {
		t.LastUsedAt = time.UnixMilli(lastUsed.Int64).UTC()
	}
	return &t, nil
}

// TerminalByToken returns the live terminal whose token hashes to hash
// at time at: its current token, or its previous one before that ends.
func (j *Journal) TerminalByToken(ctx context.Context, hash []byte, at time.Time) (*pos.Terminal, error) {
	return scanTerminal(j.rdb.QueryRowContext(ctx, `SELECT `+terminalCols+` FROM terminals
		WHERE revoked_at IS NULL AND (token_hash = ? OR previous_token_hash = ? AND previous_valid_until > ?)`, hash, hash, ms(at)))
}

// Terminal returns terminal id, revoked or not.
func (j *Journal) Terminal(ctx context.Context, id string) (*pos.Terminal, error) {
	return scanTerminal(j.rdb.QueryRowContext(ctx, `SELECT `+terminalCols+` FROM terminals WHERE id = ?`, id))
}

// Terminals lists every terminal, oldest first.
func (j *Journal) Terminals(ctx context.Context) ([]pos.Terminal, error) {
	rows, err := j.rdb.QueryContext(ctx, `SELECT `+terminalCols+` FROM terminals ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pos.Terminal
	for rows.Next() {
		t, err := scanTerminal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// RevokeTerminal stops terminal id's tokens, current and previous, from
// working.
func (j *Journal) RevokeTerminal(ctx context.Context, id string, at time.Time) error {
	res, err := j.db.ExecContext(ctx, `UPDATE terminals SET revoked_at = ?, previous_token_hash = NULL, previous_valid_until = NULL
		WHERE id = ? AND revoked_at IS NULL`, ms(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pos.ErrNotFound
	}
	return nil
}

// RotateToken gives live terminal id the token hashing to newHash; the
// current one works until graceUntil.
func (j *Journal) RotateToken(ctx context.Context, id string, newHash []byte, graceUntil time.Time) error {
	res, err := j.db.ExecContext(ctx, `UPDATE terminals SET previous_token_hash = token_hash, previous_valid_until = ?, token_hash = ?
		WHERE id = ? AND revoked_at IS NULL`, ms(graceUntil), newHash, id)
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return pos.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("sqlite: rotate token of terminal %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pos.ErrNotFound
	}
	return nil
}

// TouchTerminal records terminal id's use at at, at most once a
// pos.TouchInterval.
func (j *Journal) TouchTerminal(ctx context.Context, id string, at time.Time) error {
	_, err := j.db.ExecContext(ctx, `UPDATE terminals SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
		ms(at), id, ms(at.Add(-pos.TouchInterval)))
	if err != nil {
		return fmt.Errorf("sqlite: touch terminal %s: %w", id, err)
	}
	return nil
}

// Keyed returns what is recorded of a till's Idempotency-Key.
func (j *Journal) Keyed(ctx context.Context, terminalID, key string) (*pos.KeyedRequest, error) {
	k := pos.KeyedRequest{TerminalID: terminalID, Key: key}
	var saleID, opID sql.NullString
	var status sql.NullInt64
	var created int64
	err := j.rdb.QueryRowContext(ctx, `SELECT request_hash, sale_id, op_id, status, body, created_at FROM request_keys WHERE terminal_id = ? AND key = ?`,
		terminalID, key).Scan(&k.RequestHash, &saleID, &opID, &status, &k.Body, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, pos.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	k.SaleID, k.OpID, k.Status, k.CreatedAt = saleID.String, opID.String, int(status.Int64), time.UnixMilli(created).UTC()
	return &k, nil
}

// SaveAnswer keeps the answer to a keyed request; the first one stands.
//
// It is written with the group commit of Save: a till's answer shares the
// fsync of the changes written at the same moment.
func (j *Journal) SaveAnswer(ctx context.Context, k *pos.KeyedRequest) error {
	err := j.saves.submit(ctx, func(ctx context.Context, txw *txWriter) error {
		_, err := txw.tx.ExecContext(ctx, `INSERT INTO request_keys (terminal_id, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (terminal_id, key) DO UPDATE SET status = excluded.status, body = excluded.body
		WHERE request_keys.status IS NULL AND request_keys.request_hash = excluded.request_hash`,
			k.TerminalID, k.Key, k.RequestHash, k.Status, k.Body, ms(k.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: keep answer: %w", err)
	}
	return nil
}

// PurgeKeys forgets the keys recorded before t.
func (j *Journal) PurgeKeys(ctx context.Context, before time.Time) (int64, error) {
	res, err := j.db.ExecContext(ctx, `DELETE FROM request_keys WHERE created_at < ?`, ms(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge keys: %w", err)
	}
	return res.RowsAffected()
}
