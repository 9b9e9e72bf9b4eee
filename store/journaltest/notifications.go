package journaltest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// Notifications is the conformance suite of pos.Notifications: open
// returns a new, empty store for each test.
func Notifications(t *testing.T, open func(t *testing.T) pos.Notifications) {
	t.Run("seen once", func(t *testing.T) { testSeenOnce(t, open(t)) })
	t.Run("concurrent deliveries", func(t *testing.T) { testSeenConcurrently(t, open(t)) })
	t.Run("purge", func(t *testing.T) { testPurgeNotifications(t, open(t)) })
}

func seen(t *testing.T, n pos.Notifications, id, hash string, at time.Time) bool {
	t.Helper()
	s, err := n.SeenNotification(context.Background(), id, hash, at)
	if err != nil {
		t.Fatalf("seen %s %s: %v", id, hash, err)
	}
	return s
}

func testSeenOnce(t *testing.T, n pos.Notifications) {
	for _, c := range []struct {
		name, id, hash string
		want           bool
	}{
		{"first delivery", "ntf_1", "h1", false},
		{"redelivery: same id, same body", "ntf_1", "h1", true},
		{"and again", "ntf_1", "h1", true},
		{"same id, another body: another notification", "ntf_1", "h2", false},
		{"another id, same body", "ntf_2", "h1", false},
		{"that one again", "ntf_2", "h1", true},
	} {
		if got := seen(t, n, c.id, c.hash, t0); got != c.want {
			t.Errorf("%s: seen %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := n.SeenNotification(context.Background(), "", "h1", t0); err == nil {
		t.Error("a notification without an id was recorded")
	}
	if _, err := n.SeenNotification(context.Background(), "ntf_3", "", t0); err == nil {
		t.Error("a notification without a body hash was recorded")
	}
}

// testSeenConcurrently: of deliveries of one notification at once,
// exactly one is new.
func testSeenConcurrently(t *testing.T, n pos.Notifications) {
	const calls = 8
	var wg sync.WaitGroup
	results := make(chan bool, calls)
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() {
			s, err := n.SeenNotification(context.Background(), "ntf_c", "hc", t0)
			if err != nil {
				errs <- err
				return
			}
			results <- s
		})
	}
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	fresh := 0
	for s := range results {
		if !s {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d of %d concurrent deliveries were new, want 1", fresh, calls)
	}
}

func testPurgeNotifications(t *testing.T, n pos.Notifications) {
	ctx := context.Background()
	for i, id := range []string{"old-1", "old-2", "new-1"} {
		at := t0.Add(time.Duration(i) * time.Hour)
		if id == "new-1" {
			at = t0.Add(pos.NotificationRetention)
		}
		seen(t, n, id, "h", at)
	}
	got, err := n.PurgeNotifications(ctx, t0.Add(time.Hour+time.Millisecond))
	if err != nil || got != 2 {
		t.Fatalf("purge: %d %v, want 2", got, err)
	}
	if got, err := n.PurgeNotifications(ctx, t0.Add(time.Hour+time.Millisecond)); err != nil || got != 0 {
		t.Errorf("purge again: %d %v, want 0", got, err)
	}
	if !seen(t, n, "new-1", "h", t0.Add(pos.NotificationRetention)) {
		t.Error("a notification newer than the purge was forgotten")
	}
	// a purged notification is no longer known: too old to be delivered
	// again, and harmless if it were (a notification is only a hint)
	if seen(t, n, "old-1", "h", t0.Add(pos.NotificationRetention)) {
		t.Error("a purged notification is still known")
	}
}
