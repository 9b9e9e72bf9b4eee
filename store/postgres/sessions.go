package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/centrapos/centrapos/pos"
)

var _ pos.Sessions = (*Journal)(nil)

// SaveSession records s.
func (j *Journal) SaveSession(ctx context.Context, s pos.Session) error {
	_, err := j.pool.Exec(ctx, `INSERT INTO sessions (hash, kind, terminal_id, expires_at) VALUES ($1, $2, $3, $4)`,
		s.Hash, string(s.Kind), s.TerminalID, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("postgres: save session: %w", err)
	}
	return nil
}

// SessionByHash returns the live session of kind with hash; a once
// session is deleted in the same statement.
func (j *Journal) SessionByHash(ctx context.Context, kind pos.SessionKind, hash []byte, at time.Time) (*pos.Session, error) {
	q := `SELECT terminal_id, expires_at FROM sessions WHERE hash = $1 AND kind = $2 AND expires_at > $3`
	if kind.Once() {
		q = `DELETE FROM sessions WHERE hash = $1 AND kind = $2 AND expires_at > $3 RETURNING terminal_id, expires_at`
	}
	s := &pos.Session{Kind: kind, Hash: hash}
	err := j.pool.QueryRow(ctx, q, hash, string(kind), at).Scan(&s.TerminalID, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, pos.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: session: %w", err)
	}
	s.ExpiresAt = s.ExpiresAt.UTC()
	return s, nil
}

// DeleteSession forgets the session with hash.
func (j *Journal) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := j.pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("postgres: delete session: %w", err)
	}
	return nil
}

// PurgeSessions forgets the sessions that ended before before.
func (j *Journal) PurgeSessions(ctx context.Context, before time.Time) (int64, error) {
	tag, err := j.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: purge sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
