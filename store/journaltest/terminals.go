package journaltest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// testTokenRotation: a rotated terminal's old token works until the end of
// its grace and not after it, a rotation with no grace stops it at once,
// revoking stops both tokens, and last use is kept at most once a
// pos.TouchInterval.
func testTokenRotation(t *testing.T, j pos.Journal) {
	ts, ok := j.(pos.Terminals)
	if !ok {
		t.Skip("this journal keeps no terminals")
	}
	ctx := context.Background()
	works := func(hash string, at time.Time) bool {
		t.Helper()
		got, err := ts.TerminalByToken(ctx, []byte(hash), at)
		if err != nil && !errors.Is(err, pos.ErrNotFound) {
			t.Fatalf("by token %s: %v", hash, err)
		}
		if err == nil && got.ID != "till-1" {
			t.Fatalf("token %s is %s's", hash, got.ID)
		}
		return err == nil
	}
	if err := ts.AddTerminal(ctx, pos.Terminal{ID: "till-1", DeviceID: "d1", Name: "Front", ConfigID: "cfg", CreatedAt: t0}, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := ts.RotateToken(ctx, "nope", []byte("x"), t0); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("rotate an unknown terminal: %v, want ErrNotFound", err)
	}

	// rotate with a grace of an hour
	until := t0.Add(time.Hour)
	if err := ts.RotateToken(ctx, "till-1", []byte("new"), until); err != nil {
		t.Fatal(err)
	}
	if !works("old", t0) || !works("old", until.Add(-time.Millisecond)) || !works("new", t0) {
		t.Error("a token does not work during the grace")
	}
	if works("old", until) || works("old", until.Add(time.Hour)) {
		t.Error("the old token works after the grace")
	}
	if !works("new", until.Add(time.Hour)) {
		t.Error("the new token does not work after the grace")
	}
	if got, err := ts.Terminal(ctx, "till-1"); err != nil || !got.PreviousValidUntil.Equal(until) {
		t.Errorf("previous valid until: %+v %v, want %v", got, err, until)
	}

	// rotate again with no grace: "new" stops at once, "old" is forgotten
	if err := ts.RotateToken(ctx, "till-1", []byte("newer"), t0); err != nil {
		t.Fatal(err)
	}
	if works("new", t0) || works("old", t0) {
		t.Error("a token replaced with no grace still works")
	}
	if !works("newer", t0) {
		t.Error("the newest token does not work")
	}

	// revoke during a grace: neither token works
	if err := ts.RotateToken(ctx, "till-1", []byte("newest"), t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !works("newer", t0) {
		t.Error("the previous token does not work during its grace")
	}
	if err := ts.RevokeTerminal(ctx, "till-1", t0); err != nil {
		t.Fatal(err)
	}
	if works("newer", t0) || works("newest", t0) {
		t.Error("a revoked terminal's token works")
	}
	if got, err := ts.Terminal(ctx, "till-1"); err != nil || !got.PreviousValidUntil.IsZero() {
		t.Errorf("revoked, the previous token is kept: %+v %v", got, err)
	}
	if err := ts.RotateToken(ctx, "till-1", []byte("x"), t0); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("rotate a revoked terminal: %v, want ErrNotFound", err)
	}

	// last use
	if err := ts.AddTerminal(ctx, pos.Terminal{ID: "till-2", DeviceID: "d2", Name: "Back", ConfigID: "cfg", CreatedAt: t0}, []byte("t2")); err != nil {
		t.Fatal(err)
	}
	lastUsed := func() time.Time {
		t.Helper()
		got, err := ts.Terminal(ctx, "till-2")
		if err != nil {
			t.Fatal(err)
		}
		return got.LastUsedAt
	}
	if !lastUsed().IsZero() {
		t.Errorf("a new terminal was used at %v", lastUsed())
	}
	if err := ts.TouchTerminal(ctx, "till-2", t0); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(t0) {
		t.Errorf("last used %v, want %v", got, t0)
	}
	ts.TouchTerminal(ctx, "till-2", t0.Add(30*time.Second))
	if got := lastUsed(); !got.Equal(t0) {
		t.Errorf("touched again within a minute: last used %v, want %v", got, t0)
	}
	ts.TouchTerminal(ctx, "till-2", t0.Add(pos.TouchInterval))
	if got := lastUsed(); !got.Equal(t0.Add(pos.TouchInterval)) {
		t.Errorf("last used %v, want %v", got, t0.Add(pos.TouchInterval))
	}
	if list, err := ts.Terminals(ctx); err != nil || len(list) != 2 || !list[1].LastUsedAt.Equal(t0.Add(pos.TouchInterval)) || !list[0].LastUsedAt.IsZero() {
		t.Errorf("list: %+v %v", list, err)
	}
	if err := ts.TouchTerminal(ctx, "nope", t0); err != nil {
		t.Errorf("touch an unknown terminal: %v", err)
	}
}
