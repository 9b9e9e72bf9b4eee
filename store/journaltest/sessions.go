package journaltest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// Sessions holds an implementation of pos.Sessions to its contract: a
// session is found by its secret while live and of its kind; a link works
// once, even asked twice at the same moment; deleted or purged, a
// session is gone.
func Sessions(t *testing.T, open func(t *testing.T) pos.Sessions) {
	s := open(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	cookie, err := pos.StartSession(ctx, s, pos.SessionCookie, "till-1", now, 12*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok, err := pos.SessionTerminal(ctx, s, pos.SessionCookie, cookie, now.Add(time.Hour)); err != nil || !ok || id != "till-1" {
		t.Errorf("live cookie: %q %v %v", id, ok, err)
	}
	for name, check := range map[string]func() (string, bool, error){
		"expired": func() (string, bool, error) {
			return pos.SessionTerminal(ctx, s, pos.SessionCookie, cookie, now.Add(13*time.Hour))
		},
		"another kind": func() (string, bool, error) { return pos.SessionTerminal(ctx, s, pos.SessionLink, cookie, now) },
		"unknown":      func() (string, bool, error) { return pos.SessionTerminal(ctx, s, pos.SessionCookie, "nope", now) },
		"empty":        func() (string, bool, error) { return pos.SessionTerminal(ctx, s, pos.SessionCookie, "", now) },
	} {
		if id, ok, err := check(); ok || err != nil {
			t.Errorf("%s: %q %v %v, want none", name, id, ok, err)
		}
	}
	// a cookie is not used up
	if _, ok, _ := pos.SessionTerminal(ctx, s, pos.SessionCookie, cookie, now); !ok {
		t.Error("a cookie worked once only")
	}
	// a link works once, whoever asks first
	link, err := pos.StartSession(ctx, s, pos.SessionLink, "manager", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	worked := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, ok, err := pos.SessionTerminal(ctx, s, pos.SessionLink, link, now); err != nil {
				t.Error(err)
			} else if ok {
				mu.Lock()
				worked++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if worked != 1 {
		t.Errorf("a link asked four times at once worked %d times, want once", worked)
	}
	if err := s.DeleteSession(ctx, pos.HashToken(cookie)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := pos.SessionTerminal(ctx, s, pos.SessionCookie, cookie, now); ok {
		t.Error("a deleted session still works")
	}
	old, _ := pos.StartSession(ctx, s, pos.SessionCookie, "till-2", now.Add(-24*time.Hour), time.Hour)
	keep, _ := pos.StartSession(ctx, s, pos.SessionCookie, "till-2", now, time.Hour)
	if n, err := s.PurgeSessions(ctx, now); err != nil || n != 1 {
		t.Errorf("purge: %d %v, want the one ended", n, err)
	}
	if _, ok, _ := pos.SessionTerminal(ctx, s, pos.SessionCookie, keep, now); !ok {
		t.Error("a live session was purged")
	}
	if _, err := s.SessionByHash(ctx, pos.SessionCookie, pos.HashToken(old), now.Add(-23*time.Hour-30*time.Minute)); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("a purged session: %v", err)
	}
}
