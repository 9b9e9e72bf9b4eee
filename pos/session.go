package pos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Sessions keeps the web UI's sign-ins in the journal, so that a
// cashier stays signed in across a restart and at every server of a
// shared journal. Only a hash of each secret is kept (HashToken), as for
// terminal tokens. Implementations: store/sqlite and store/postgres.
type Sessions interface {
	// SaveSession records s.
	SaveSession(ctx context.Context, s Session) error
	// SessionByHash returns the session of kind whose secret hashes to
	// hash and that is live at at; ErrNotFound if none. A once session
	// (a sign-in link) is deleted as it is returned, so that it works
	// once even when two servers are asked at the same moment.
	SessionByHash(ctx context.Context, kind SessionKind, hash []byte, at time.Time) (*Session, error)
	// DeleteSession forgets the session whose secret hashes to hash.
	DeleteSession(ctx context.Context, hash []byte) error
	// PurgeSessions forgets the sessions that ended before before and
	// says how many.
	PurgeSessions(ctx context.Context, before time.Time) (int64, error)
}

// SessionKind says what a session's secret is.
type SessionKind string

// Session kinds.
const (
	SessionCookie SessionKind = "cookie" // a signed-in browser's cookie
	SessionLink   SessionKind = "link"   // a sign-in link: works once
)

// Session is a sign-in of a terminal, until ExpiresAt.
type Session struct {
	Kind       SessionKind
	Hash       []byte // of its secret
	TerminalID string
	ExpiresAt  time.Time
}

// Once reports whether a session of kind k works only once.
func (k SessionKind) Once() bool { return k == SessionLink }

// StartSession records a new session of kind for terminalID, live for
// ttl from now, and returns its secret (what a cookie or a link holds).
func StartSession(ctx context.Context, s Sessions, kind SessionKind, terminalID string, now time.Time, ttl time.Duration) (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(b[:])
	err := s.SaveSession(ctx, Session{Kind: kind, Hash: HashToken(secret), TerminalID: terminalID, ExpiresAt: now.Add(ttl)})
	if err != nil {
		return "", fmt.Errorf("start session: %w", err)
	}
	return secret, nil
}

// SessionTerminal returns the terminal a live session of kind with
// secret signs in ("", false when there is none); a link is used up.
func SessionTerminal(ctx context.Context, s Sessions, kind SessionKind, secret string, now time.Time) (string, bool, error) {
	if secret == "" {
		return "", false, nil
	}
	sess, err := s.SessionByHash(ctx, kind, HashToken(secret), now)
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("session: %w", err)
	}
	return sess.TerminalID, true, nil
}

// PurgeSessions forgets the sign-ins that have ended, when the journal
// keeps them. Run calls it every hour.
func (e *Engine) PurgeSessions(ctx context.Context) (int64, error) {
	s, ok := e.j.(Sessions)
	if !ok {
		return 0, nil
	}
	n, err := s.PurgeSessions(ctx, e.clk.Now())
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return n, nil
}
