package centrapay

import (
	"context"
	"testing"
	"time"

	"github.com/centrapos/centrapos/clock"
)

func TestBudgetRefillsAtRate(t *testing.T) {
	fake := clock.NewFake(time.Unix(0, 0))
	b := NewBudget(60, fake) // one a second, burst 6
	ctx := context.Background()
	for range 6 {
		if err := b.Wait(ctx, PriorityLive); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan struct{})
	go func() { b.Wait(ctx, PriorityLive); close(got) }()
	fake.BlockUntil(1, nil)
	if live, _ := b.Waiting(); live != 1 {
		t.Fatalf("waiting live = %d", live)
	}
	select {
	case <-got:
		t.Fatal("token handed out before refill")
	default:
	}
	fake.Advance(time.Second)
	<-got
}

func TestBudgetLiveBeforeBackground(t *testing.T) {
	fake := clock.NewFake(time.Unix(0, 0))
	b := NewBudget(60, fake)
	ctx := context.Background()
	for range 6 {
		b.Wait(ctx, PriorityLive)
	}
	order := make(chan Priority, 4)
	bg := func() { b.Wait(ctx, PriorityBackground); order <- PriorityBackground }
	go bg()
	go bg()
	waitFor(t, fake, b, 0, 2)
	go func() { b.Wait(ctx, PriorityLive); order <- PriorityLive }()
	go func() { b.Wait(ctx, PriorityLive); order <- PriorityLive }()
	waitFor(t, fake, b, 2, 2)
	var got []Priority
	for range 4 {
		fake.Advance(time.Second)
		got = append(got, <-order)
	}
	want := []Priority{PriorityLive, PriorityLive, PriorityBackground, PriorityBackground}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
}

// waitFor blocks until the budget's waiters are parked on the fake clock and
// checks how many of each priority wait.
func waitFor(t *testing.T, fake *clock.Fake, b *Budget, live, background int) {
	t.Helper()
	fake.BlockUntil(live+background, nil)
	if l, bg := b.Waiting(); l != live || bg != background {
		t.Fatalf("waiting = %d/%d, want %d/%d", l, bg, live, background)
	}
}

func TestBudgetPauseAndCancel(t *testing.T) {
	fake := clock.NewFake(time.Unix(0, 0))
	b := NewBudget(6000, fake)
	b.Pause(fake.Now().Add(30 * time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- b.Wait(ctx, PriorityBackground) }()
	fake.BlockUntil(1, nil)
	fake.Advance(29 * time.Second)
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
	if l, bg := b.Waiting(); l+bg != 0 {
		t.Fatalf("waiters left: %d %d", l, bg)
	}
	done := make(chan error)
	go func() { done <- b.Wait(context.Background(), PriorityLive) }()
	fake.BlockUntil(1, nil)
	fake.Advance(2 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
