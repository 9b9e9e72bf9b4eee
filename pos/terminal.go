package pos

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Terminal is a till: it starts sales with its own device id and merchant
// config (one config per location). A manager terminal sees every
// terminal's sales and may refund any payment.
type Terminal struct {
	ID        string    `json:"id"`
	DeviceID  string    `json:"deviceId"`
	Name      string    `json:"name"`
	ConfigID  string    `json:"configId"`
	Manager   bool      `json:"manager,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	Revoked   bool      `json:"revoked,omitempty"`
	// PreviousValidUntil is when the token replaced by the last rotation
	// stops working; zero if no old token works.
	PreviousValidUntil time.Time `json:"previousValidUntil,omitzero"`
	// LastUsedAt is when a token of the terminal last authenticated (kept
	// to the minute, see TouchInterval); zero if never.
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
}

// TouchInterval is how often at most a terminal's LastUsedAt is written:
// a till polling every second does not cost a write per poll.
const TouchInterval = time.Minute

// Terminals stores tills and the hashes of their bearer tokens.
type Terminals interface {
	// AddTerminal records a terminal; ErrDuplicate if a live terminal has
	// its id (a revoked one is replaced: its id may be used again).
	AddTerminal(ctx context.Context, t Terminal, tokenHash []byte) error
	// TerminalByToken returns the live terminal whose token hashes to
	// hash at time at: its current token, or the one a rotation replaced
	// while at is before the old token's end; ErrNotFound if none.
	TerminalByToken(ctx context.Context, hash []byte, at time.Time) (*Terminal, error)
	// Terminal returns terminal id, revoked or not; ErrNotFound if none.
	Terminal(ctx context.Context, id string) (*Terminal, error)
	// Terminals lists every terminal, oldest first.
	Terminals(ctx context.Context) ([]Terminal, error)
	// RevokeTerminal stops terminal id's tokens (current and previous)
	// from working; ErrNotFound if no live terminal has that id.
	RevokeTerminal(ctx context.Context, id string, at time.Time) error
	// RotateToken gives live terminal id the token hashing to newHash;
	// its current token becomes the previous one, which works until
	// graceUntil (a previous one before it stops at once). ErrNotFound if
	// no live terminal has that id.
	RotateToken(ctx context.Context, id string, newHash []byte, graceUntil time.Time) error
	// TouchTerminal records that terminal id was used at at, unless its
	// last use is recorded after at.Add(-TouchInterval): at most one
	// write a TouchInterval.
	TouchTerminal(ctx context.Context, id string, at time.Time) error
}

// MayRefund says whether terminal t may refund sale s (nil: a payment no
// sale of ours made). An ordinary till refunds the sales of its own
// location (its merchant config); a manager refunds anything, including
// payments this server did not take. A nil terminal is a trusted caller
// embedding the engine.
func (t *Terminal) MayRefund(s *Sale) error {
	switch {
	case t == nil || t.Manager:
		return nil
	case s == nil:
		return &Error{Code: EForbidden, Message: "this payment was not taken by this system: only a manager terminal may refund it"}
	case s.ConfigID != t.ConfigID:
		return &Error{Code: EForbidden, Message: "this till may refund only sales made at its own location: ask a manager"}
	}
	return nil
}

// HashToken is how a terminal token is stored: SHA-256. Tokens are 160
// random bits, so a fast hash is enough.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewToken returns a new random terminal token.
func NewToken() string {
	var b [20]byte
	rand.Read(b[:])
	return "cpt_" + hex.EncodeToString(b[:])
}

// AddTerminal creates a terminal and returns its token, which is shown
// only this once.
func AddTerminal(ctx context.Context, ts Terminals, t Terminal) (string, error) {
	if t.ID == "" || t.ConfigID == "" {
		return "", errors.New("terminal: id and merchant config id are required")
	}
	for field, v := range map[string]string{"id": t.ID, "name": t.Name, "device id": t.DeviceID, "config id": t.ConfigID} {
		if err := checkText(field, v, 128); err != nil {
			return "", fmt.Errorf("terminal %s: %s", field, err.(*Error).Message)
		}
	}
	if t.DeviceID == "" {
		t.DeviceID = t.ID
	}
	if t.Name == "" {
		t.Name = t.ID
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC()
	}
	token := NewToken()
	if err := ts.AddTerminal(ctx, t, HashToken(token)); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return "", fmt.Errorf("terminal %s already exists (revoke it first to add it again)", t.ID)
		}
		return "", err
	}
	return token, nil
}

// RotateToken gives terminal id a new token, returned to be shown only
// this once; the old one keeps working for grace after now (0: it stops
// at once).
func RotateToken(ctx context.Context, ts Terminals, id string, grace time.Duration, now time.Time) (string, error) {
	if grace < 0 {
		return "", errors.New("terminal rotate: the grace period cannot be negative")
	}
	token := NewToken()
	if err := ts.RotateToken(ctx, id, HashToken(token), now.Add(grace)); err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("no active terminal %s", id)
		}
		return "", err
	}
	return token, nil
}
