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

// AddTerminal records a terminal with the hash of its token.
func (j *Journal) AddTerminal(ctx context.Context, t pos.Terminal, tokenHash []byte) error {
	_, err := j.db.ExecContext(ctx, `INSERT INTO terminals (id, device_id, name, config_id, manager, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.DeviceID, t.Name, t.ConfigID, t.Manager, tokenHash, ms(t.CreatedAt))
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return pos.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("sqlite: add terminal %s: %w", t.ID, err)
	}
	return nil
}

const terminalCols = `id, device_id, name, config_id, manager, created_at, revoked_at IS NOT NULL`

func scanTerminal(row interface{ Scan(...any) error }) (*pos.Terminal, error) {
	var t pos.Terminal
	var created int64
	if err := row.Scan(&t.ID, &t.DeviceID, &t.Name, &t.ConfigID, &t.Manager, &created, &t.Revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, pos.ErrNotFound
		}
		return nil, err
	}
	t.CreatedAt = time.UnixMilli(created).UTC()
	return &t, nil
}

// TerminalByToken returns the live terminal whose token hashes to hash.
func (j *Journal) TerminalByToken(ctx context.Context, hash []byte) (*pos.Terminal, error) {
	return scanTerminal(j.db.QueryRowContext(ctx, `SELECT `+terminalCols+` FROM terminals WHERE token_hash = ? AND revoked_at IS NULL`, hash))
}

// Terminal returns terminal id, revoked or not.
func (j *Journal) Terminal(ctx context.Context, id string) (*pos.Terminal, error) {
	return scanTerminal(j.db.QueryRowContext(ctx, `SELECT `+terminalCols+` FROM terminals WHERE id = ?`, id))
}

// Terminals lists every terminal, oldest first.
func (j *Journal) Terminals(ctx context.Context) ([]pos.Terminal, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT `+terminalCols+` FROM terminals ORDER BY created_at, id`)
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

// RevokeTerminal stops terminal id's token from working.
func (j *Journal) RevokeTerminal(ctx context.Context, id string, at time.Time) error {
	res, err := j.db.ExecContext(ctx, `UPDATE terminals SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ms(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pos.ErrNotFound
	}
	return nil
}

// Idempotent returns the answer kept for a terminal's Idempotency-Key.
func (j *Journal) Idempotent(ctx context.Context, terminalID, key string) (requestHash string, status int, body []byte, err error) {
	err = j.db.QueryRowContext(ctx, `SELECT request_hash, status, body FROM idempotency WHERE terminal_id = ? AND key = ?`, terminalID, key).
		Scan(&requestHash, &status, &body)
	if errors.Is(err, sql.ErrNoRows) {
		err = pos.ErrNotFound
	}
	return
}

// SaveIdempotent keeps the answer to a terminal's Idempotency-Key; the
// first answer kept stands.
func (j *Journal) SaveIdempotent(ctx context.Context, terminalID, key, requestHash string, status int, body []byte, at time.Time) error {
	_, err := j.db.ExecContext(ctx, `INSERT INTO idempotency (terminal_id, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, terminalID, key, requestHash, status, body, ms(at))
	return err
}
