package pos_test

import (
	"context"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

// refundOf is refund op id as journaled.
func (r *rig) refundOf(id string) *pos.Op {
	r.t.Helper()
	op, err := r.eng.Op(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return op
}

// paidRig is a rig whose sandbox completes refunds after delay, with a
// sale of 10.00 paid.
func paidRig(t *testing.T, delay time.Duration) (*rig, *pos.Sale) {
	t.Helper()
	r := newRigWith(t, func(c *sandbox.Config) { c.RefundDelay = delay })
	s := r.start(nil)
	if err := r.sb.PatronPay(s.PaymentRequest.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	r.tick(1)
	return r, s
}

// TestRefundCompletesWhenListed: a refund Centrapay accepted is pending
// until its activity is listed among the request's (Centrapay completes
// refunds asynchronously); the engine checks, backing off, and records it
// complete, with its sale's history, also across a restart.
func TestRefundCompletesWhenListed(t *testing.T) {
	for _, restart := range []bool{false, true} {
		r, s := paidRig(t, 30*time.Second)
		op, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 400})
		if err != nil || op.RefundStatus() != pos.RefundPending || op.ActivityNumber == "" {
			t.Fatalf("refund: %+v %v, want pending with its activity number", op, err)
		}
		if restart {
			r.restart() // the next start checks the refunds still pending
		}
		accepted := r.fake.Now()
		for r.fake.Now().Sub(accepted) < 29*time.Second {
			r.tick(1)
			if got := r.refundOf(op.ID).RefundStatus(); got != pos.RefundPending {
				t.Fatalf("%v after it was accepted: %s, want pending until Centrapay completes it", r.fake.Now().Sub(accepted), got)
			}
		}
		// checks back off as the refund ages (at 2, 4, 8, 16, 32 s): it is
		// seen complete at the check after 30 s
		for range 8 {
			r.tick(1)
		}
		got := r.refundOf(op.ID)
		if got.RefundStatus() != pos.RefundCompleted || got.CompletedAt.Sub(accepted) < 30*time.Second || got.CompletedAt.Sub(accepted) > 34*time.Second {
			t.Fatalf("restart %v: %s completed %v after it was accepted, want refunded 30–34 s after", restart, got.RefundStatus(), got.CompletedAt.Sub(accepted))
		}
		if sale := r.sale(s.ID); sale.Refunded != 400 {
			t.Errorf("sale refunded %d, want 400 (counted once accepted, not again at completion)", sale.Refunded)
		}
		h, err := r.j.History(r.ctx, s.ID)
		if err != nil || len(h) == 0 || h[len(h)-1].Note != "refund of $4.00 completed ("+op.Key+")" {
			t.Errorf("history %+v %v, want the completion noted last", h, err)
		}
	}
}

// TestRefundCompletedByNotification: Centrapay's refund-completed
// notification completes the refund it names (by the id or number its
// answer gave), once; one naming no refund of ours changes nothing.
func TestRefundCompletedByNotification(t *testing.T) {
	r, s := paidRig(t, time.Hour)
	first, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 300})
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 300})
	if err != nil {
		t.Fatal(err)
	}
	prID := s.PaymentRequest.ID
	for _, a := range []centrapay.Activity{
		{Type: centrapay.ActivityRefund, PaymentRequestID: prID, ID: "not-ours", ActivityNumber: "99"},
		{Type: centrapay.ActivityRefund, PaymentRequestID: "another-request", ID: second.ActivityID},
		{Type: centrapay.ActivityRefund, PaymentRequestID: prID}, // names nothing
	} {
		if err := r.eng.RefundCompleted(r.ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := r.refundOf(first.ID).RefundStatus(), r.refundOf(second.ID).RefundStatus(); a != pos.RefundPending || b != pos.RefundPending {
		t.Fatalf("after notifications naming neither: %s %s, want both pending", a, b)
	}
	r.fake.Advance(5 * time.Second)
	byNumber := centrapay.Activity{Type: centrapay.ActivityRefund, PaymentRequestID: prID, ActivityNumber: centrapay.BigNumber(second.ActivityNumber)}
	if err := r.eng.RefundCompleted(r.ctx, &byNumber); err != nil {
		t.Fatal(err)
	}
	done := r.refundOf(second.ID)
	if done.RefundStatus() != pos.RefundCompleted || !done.CompletedAt.Equal(r.fake.Now()) || r.refundOf(first.ID).RefundStatus() != pos.RefundPending {
		t.Fatalf("second %s at %v, first %s: want only the second refunded, now", done.RefundStatus(), done.CompletedAt, r.refundOf(first.ID).RefundStatus())
	}
	r.fake.Advance(time.Minute) // Centrapay sends it again: nothing changes
	if err := r.eng.RefundCompleted(r.ctx, &byNumber); err != nil {
		t.Fatal(err)
	}
	if again := r.refundOf(second.ID); !again.CompletedAt.Equal(done.CompletedAt) || again.UpdatedAt != done.UpdatedAt {
		t.Errorf("a second notification rewrote the refund: %v, was %v", again.CompletedAt, done.CompletedAt)
	}
}

// anonymousRefunds answers refunds without the activity's id or number,
// as Centrapay's own refund example does not give an id.
type anonymousRefunds struct{ *centrapay.Client }

func (c anonymousRefunds) Refund(ctx context.Context, id string, in *centrapay.RefundRequest) (*centrapay.Activity, *centrapay.Response, error) {
	a, resp, err := c.Client.Refund(ctx, id, in)
	if a != nil {
		a.ID, a.ActivityNumber = "", ""
	}
	return a, resp, err
}

// TestRefundCompletedWithoutItsID: an answer that named the refund's
// activity neither by id nor by number is matched by amount, never to an
// activity another refund of the request holds.
func TestRefundCompletedWithoutItsID(t *testing.T) {
	r := newRigWith(t, func(c *sandbox.Config) { c.RefundDelay = time.Hour })
	r.cp = anonymousRefunds{r.client}
	r.restart()
	s := r.start(nil)
	if err := r.sb.PatronPay(s.PaymentRequest.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	r.tick(1)
	small, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 100})
	if err != nil || small.ActivityID != "" || small.ActivityNumber != "" {
		t.Fatalf("refund: %+v %v", small, err)
	}
	big, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 500})
	if err != nil {
		t.Fatal(err)
	}
	r.fake.Advance(time.Hour)
	r.settle() // the big one's check: its activity is listed now
	r.tick(1)
	if a, b := r.refundOf(small.ID).RefundStatus(), r.refundOf(big.ID).RefundStatus(); a != pos.RefundCompleted || b != pos.RefundCompleted {
		t.Errorf("small %s big %s, want both refunded, each by its own amount", a, b)
	}
}
