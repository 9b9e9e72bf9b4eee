package pos_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
)

// countGets counts the engine's reads of Payment Requests.
type countGets struct {
	pos.Centrapay
	n *atomic.Int32
}

func (c countGets) Get(ctx context.Context, id string) (*centrapay.PaymentRequest, *centrapay.Response, error) {
	c.n.Add(1)
	return c.Centrapay.Get(ctx, id)
}

// TestPollRequest: a hint polls the sale of the request at once, and what
// Centrapay answers is applied; a request no sale holds, or a sale
// already final, costs nothing.
func TestPollRequest(t *testing.T) {
	var gets atomic.Int32
	r := newRig(t, func(c *pos.Config) { c.Centrapay = countGets{Centrapay: c.Centrapay, n: &gets} })
	s := r.start(nil)
	at := r.fake.Now()
	// a hint before anything happened: a poll, and the sale stays pending
	gets.Store(0)
	err := r.eng.PollRequest(r.ctx, s.PaymentRequest.ID)
	r.settle() // what is due now, the clock standing still
	if err != nil || gets.Load() != 1 || r.sale(s.ID).Status != pos.StatusPending {
		t.Fatalf("hint of a new request: %v, %d gets, %s", err, gets.Load(), r.sale(s.ID).Status)
	}
	if err := r.sb.PatronPay(s.PaymentRequest.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	gets.Store(0)
	if err := r.eng.PollRequest(r.ctx, s.PaymentRequest.ID); err != nil {
		t.Fatal(err)
	}
	r.settle()
	if got := r.sale(s.ID); got.Status != pos.StatusPaid || gets.Load() != 1 || !r.fake.Now().Equal(at) {
		t.Errorf("after the hint: %s, %d gets", got.Status, gets.Load())
	}
	gets.Store(0)
	for name, id := range map[string]string{"a final sale": s.PaymentRequest.ID, "a request no sale holds": "pr_nobody", "no request": ""} {
		err := r.eng.PollRequest(r.ctx, id)
		r.settle()
		if err != nil || gets.Load() != 0 {
			t.Errorf("%s: %v, %d gets", name, err, gets.Load())
		}
	}
}

func TestPurgeNotifications(t *testing.T) {
	r := newRig(t)
	if _, err := r.j.SeenNotification(r.ctx, "ntf_1", "h", r.fake.Now()); err != nil {
		t.Fatal(err)
	}
	r.fake.Advance(pos.NotificationRetention)
	if n, err := r.eng.PurgeNotifications(r.ctx); err != nil || n != 0 {
		t.Errorf("at the retention: %d %v, want 0", n, err)
	}
	r.fake.Advance(time.Millisecond)
	if n, err := r.eng.PurgeNotifications(r.ctx); err != nil || n != 1 {
		t.Errorf("after the retention: %d %v, want 1", n, err)
	}
}
