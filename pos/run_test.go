package pos_test

import (
	"context"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// TestRunPublishes drives a sale with Run, as the server does, and
// watches it through Subscribe.
func TestRunPublishes(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan error)
	go func() { done <- r.eng.Run(ctx) }()
	all, stopAll := r.eng.Subscribe("")
	defer stopAll()
	s, err := r.eng.StartSale(r.ctx, r.input(nil))
	if err != nil {
		t.Fatal(err)
	}
	one, stop := r.eng.Subscribe(s.ID)
	r.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	deadline := time.After(10 * time.Second)
	for paid := false; !paid; {
		// a second at a time, again while nothing comes: Run may have
		// set its timer from a time before the last advance
		r.fake.Advance(time.Second)
		select {
		case <-time.After(20 * time.Millisecond):
		case got := <-one:
			paid = got.Status == pos.StatusPaid
			if paid && (got.Version < 2 || got.PaidBy[0].AssetType == "") {
				t.Errorf("paid snapshot %+v", got)
			}
		case <-deadline:
			t.Fatal("no paid snapshot from Run")
		}
	}
	stop()
	if _, open := <-one; open {
		// drained snapshots may remain; the channel must end closed
		for range one {
		}
	}
	var sawStart bool
	for len(all) > 0 {
		if got := <-all; got.ID == s.ID && got.Status == pos.StatusPending {
			sawStart = true
		}
	}
	if !sawStart {
		t.Error("the all-sales subscription missed the pending snapshot")
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run ended with %v", err)
	}
}
