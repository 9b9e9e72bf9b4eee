package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
)

// TestSharedBudget: three servers' budgets take their tokens from one
// journal: together they never hand out more than one budget's burst and
// what it earns, while polls leave the operators' reserve, which a fourth
// server's cashier then gets at once; a pause (a 429) holds them all.
func TestSharedBudget(t *testing.T) {
	j := open(t)
	const perMinute = 6000 // a burst of 600, then one every 60 s / 5,400 = 11.1 ms
	budget := func() *centrapay.Budget {
		b := centrapay.NewBudget(perMinute, clock.Real{})
		b.Share(j, func(err error) { t.Errorf("shared budget: %v", err) })
		return b
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	var taken atomic.Int64
	var wg sync.WaitGroup
	for range 3 {
		b := budget()
		for range 4 {
			wg.Go(func() {
				for b.Wait(ctx, centrapay.PriorityLive) == nil {
					taken.Add(1)
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	const burst, reserve = 600, 300
	limit := int64(burst-reserve) + int64(elapsed/(time.Minute/(perMinute-burst))) + 1
	if n := taken.Load(); n > limit || n < burst-reserve {
		t.Errorf("three budgets handed out %d polls in %v: want at most %d (one burst less the reserve, and what is earned), and at least %d",
			n, elapsed, limit, burst-reserve)
	}
	// the operators' reserve is left: a cashier at a fourth server is served at once
	cashier := budget()
	if err := cashier.WaitWithin(context.Background(), centrapay.PriorityOperator, 50*time.Millisecond); err != nil {
		t.Errorf("a cashier after the polls: %v", err)
	}
	// a 429 pauses every server
	budget().Pause(time.Now().Add(time.Hour))
	if err := cashier.WaitWithin(context.Background(), centrapay.PriorityOperator, 50*time.Millisecond); err == nil {
		t.Error("a call during another server's pause was served")
	}
}
