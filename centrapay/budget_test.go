package centrapay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/centrapos/centrapos/clock"
)

// The budget's tests run in a synctest bubble: synctest.Wait returns once
// every waiter is parked, so the tests need neither sleeps nor polling.

func TestBudgetRefillsAtRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := clock.NewFake(time.Unix(0, 0))
		b := NewBudget(66, fake) // burst 6 (3 kept for operators), then 60 a minute: one a second
		ctx := context.Background()
		for range 3 {
			if err := b.Wait(ctx, PriorityLive); err != nil {
				t.Fatal(err)
			}
		}
		got := make(chan struct{})
		go func() { b.Wait(ctx, PriorityLive); close(got) }()
		synctest.Wait()
		if n := b.Waiting(PriorityLive); n != 1 {
			t.Fatalf("waiting live = %d: a poll took the operators' reserve", n)
		}
		// an operator call takes from the reserve at once
		if err := b.WaitWithin(ctx, PriorityOperator, 0); err != nil {
			t.Fatalf("operator call with the reserve left: %v", err)
		}
		fake.Advance(time.Second) // one earned: 3 left, all the reserve
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("a poll took the operators' reserve")
		default:
		}
		fake.Advance(time.Second) // 4: one above the reserve
		<-got
	})
}

// TestBudgetOrder: operator calls before polls before background work, and
// within a priority the order they came in (oldest-due polls first).
func TestBudgetOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := clock.NewFake(time.Unix(0, 0))
		b := NewBudget(66, fake)
		ctx := context.Background()
		for range 6 {
			b.Wait(ctx, PriorityOperator)
		}
		order := make(chan string, 8)
		queue := func(p Priority, name string) {
			go func() { b.Wait(ctx, p); order <- name }()
			synctest.Wait() // parked, in this order
		}
		queue(PriorityBackground, "bg1")
		queue(PriorityLive, "poll1")
		queue(PriorityBackground, "bg2")
		queue(PriorityLive, "poll2")
		queue(PriorityOperator, "create")
		queue(PriorityLive, "poll3")
		for p, want := range map[Priority]int{PriorityOperator: 1, PriorityLive: 3, PriorityBackground: 2} {
			if n := b.Waiting(p); n != want {
				t.Errorf("waiting %v = %d, want %d", p, n, want)
			}
		}
		var got []string
		for len(got) < 6 {
			fake.Advance(time.Second)
			synctest.Wait()
			for len(order) > 0 {
				got = append(got, <-order)
			}
		}
		if fmt.Sprint(got) != "[create poll1 poll2 poll3 bg1 bg2]" {
			t.Fatalf("order = %v", got)
		}
	})
}

// TestBudgetNeverExceedsTheLimit: callers that take every call they can
// get, of every priority, never make more than the limit in any sixty
// seconds — burst included — so Centrapay never answers 429.
func TestBudgetNeverExceedsTheLimit(t *testing.T) {
	for _, perMinute := range []int{6, 60, 200, 1000} {
		t.Run(fmt.Sprint(perMinute), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake := clock.NewFake(time.Unix(0, 0))
				b := NewBudget(perMinute, fake)
				ctx, stop := context.WithCancel(context.Background())
				var mu sync.Mutex
				var at []time.Time
				for _, p := range []Priority{PriorityOperator, PriorityLive, PriorityLive, PriorityBackground} {
					go func() {
						for b.Wait(ctx, p) == nil {
							mu.Lock()
							at = append(at, fake.Now())
							mu.Unlock()
						}
					}()
				}
				for range 5 * 60 * 10 { // five minutes, a tenth of a second at a time
					synctest.Wait()
					fake.Advance(100 * time.Millisecond)
				}
				stop()
				synctest.Wait()
				mu.Lock()
				defer mu.Unlock()
				for i := range at {
					j := i
					for j < len(at) && at[j].Sub(at[i]) < time.Minute {
						j++
					}
					if j-i > perMinute {
						t.Fatalf("%d calls in the minute from %v: the limit is %d", j-i, at[i], perMinute)
					}
				}
				if min := perMinute * 5 * 85 / 100; len(at) < min {
					t.Fatalf("only %d calls in five minutes at %d a minute", len(at), perMinute)
				}
			})
		})
	}
}

func TestBudgetPauseAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := clock.NewFake(time.Unix(0, 0))
		b := NewBudget(6000, fake)
		b.Pause(fake.Now().Add(30 * time.Second))
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error)
		go func() { errc <- b.Wait(ctx, PriorityBackground) }()
		synctest.Wait()
		fake.Advance(29 * time.Second)
		cancel()
		if err := <-errc; err != context.Canceled {
			t.Fatalf("err = %v", err)
		}
		for p := range priorities {
			if n := b.Waiting(p); n != 0 {
				t.Fatalf("%v waiters left: %d", p, n)
			}
		}
		// when the pause ends, the first call earned goes to the first in
		// line, a poll, ahead of the operators' reserve
		done := make(chan error)
		go func() { done <- b.Wait(context.Background(), PriorityLive) }()
		synctest.Wait()
		fake.Advance(time.Second)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// the reserve is still there for a cashier
		if err := b.WaitWithin(context.Background(), PriorityOperator, 0); err != nil {
			t.Fatalf("operator call after a pause: %v", err)
		}
	})
}

// TestBudgetWaitWithin: a cashier's call that gets no token within its
// limit is refused, leaves the line, and the call behind it is served.
func TestBudgetWaitWithin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := clock.NewFake(time.Unix(0, 0))
		b := NewBudget(7, fake) // burst 1, then one every 10 s
		ctx := context.Background()
		b.Wait(ctx, PriorityLive)
		errc := make(chan error, 1)
		go func() { errc <- b.WaitWithin(ctx, PriorityOperator, 3*time.Second) }()
		synctest.Wait()
		polled := make(chan error, 1)
		go func() { polled <- b.Wait(ctx, PriorityLive) }()
		synctest.Wait()
		fake.Advance(3 * time.Second)
		if err := <-errc; !errors.Is(err, ErrBudgetBusy) {
			t.Fatalf("err = %v, want ErrBudgetBusy", err)
		}
		if n := b.Waiting(PriorityOperator); n != 0 {
			t.Fatalf("the refused call still waits: %d", n)
		}
		fake.Advance(7 * time.Second)
		if err := <-polled; err != nil {
			t.Fatal(err)
		}
		// within its limit, it is served
		go func() { errc <- b.WaitWithin(ctx, PriorityOperator, 15*time.Second) }()
		synctest.Wait()
		fake.Advance(10 * time.Second)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
}

// TestBudgetTokenTaken: a call whose caller took the token does not wait
// for another, once.
func TestBudgetTokenTaken(t *testing.T) {
	ctx := WithTokenTaken(context.Background())
	if !tokenTaken(ctx) || tokenTaken(ctx) {
		t.Fatal("a taken token is used once")
	}
	if tokenTaken(context.Background()) {
		t.Fatal("no token was taken")
	}
}

// BenchmarkBudgetUncontended is the cost a call pays for the budget when
// it is not the limit (rate limits lifted).
func BenchmarkBudgetUncontended(b *testing.B) {
	bud := NewBudget(1<<30, clock.Real{})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bud.Wait(ctx, PriorityLive)
		}
	})
}
