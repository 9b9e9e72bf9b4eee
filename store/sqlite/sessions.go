package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/centrapos/centrapos/pos"
)

var _ pos.Sessions = (*Journal)(nil)

// SaveSession records s.
func (j *Journal) SaveSession(ctx context.Context, s pos.Session) error {
	_, err := j.db.ExecContext(ctx, `INSERT INTO sessions (hash, kind, terminal_id, expires_at) VALUES (?, ?, ?, ?)`,
		s.Hash, string(s.Kind), s.TerminalID, ms(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlite: save session: %w", err)
	}
	return nil
}

// SessionByHash returns the live session of kind with hash; a once
// session is deleted in the same statement.
func (j *Journal) SessionByHash(ctx context.Context, kind pos.SessionKind, hash []byte, at time.Time) (*pos.Session, error) {
	q := `SELECT terminal_id, expires_at FROM sessions WHERE hash = ? AND kind = ? AND expires_at > ?`
	db := j.rdb
	if kind.Once() {
		q = `DELETE FROM sessions WHERE hash = ? AND kind = ? AND expires_at > ? RETURNING terminal_id, expires_at`
		db = j.db
	}
	s := &pos.Session{Kind: kind, Hash: hash}
	var expires int64
	err := db.QueryRowContext(ctx, q, hash, string(kind), ms(at)).Scan(&s.TerminalID, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, pos.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: session: %w", err)
	}
	s.ExpiresAt = time.UnixMilli(expires).UTC()
	return s, nil
}

// DeleteSession forgets the session with hash.
func (j *Journal) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := j.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}

// PurgeSessions forgets the sessions that ended before before.
func (j *Journal) PurgeSessions(ctx context.Context, before time.Time) (int64, error) {
	res, err := j.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, ms(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge sessions: %w", err)
	}
	return res.RowsAffected()
}
