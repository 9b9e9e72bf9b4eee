package pos_test

import (
	"fmt"
	"testing"

	"github.com/centrapos/centrapos/pos"
)

// TestCrashRecovery abandons the engine at every point where a crash is
// most dangerous — between "intent journaled" and "call sent", and
// between "call answered" and "outcome journaled" — at the first, second
// and third time it passes there, restarts it on the same journal, and
// checks the journal against the sandbox's ledger.
func TestCrashRecovery(t *testing.T) {
	points := []string{"create:journaled", "create:answered", "poll:answered", "void:journaled", "void:answered", "refund:journaled", "refund:answered"}
	for _, point := range points {
		for nth := 1; nth <= 3; nth++ {
			t.Run(fmt.Sprintf("%s#%d", point, nth), func(t *testing.T) {
				r := newRig(t)
				hits, crashed := 0, false
				pos.SetCrash(r.eng, func(p string) bool {
					if p == point {
						hits++
					}
					crashed = crashed || hits == nth
					return crashed
				})
				alive := func() {
					if crashed {
						crashed = false
						hits = -1 << 30 // a restarted engine is not crashed again
						r.restart()
					}
				}
				runSales(r, alive)
				if hits >= 0 && hits < nth {
					t.Skipf("the scenario passes %s only %d times", point, hits)
				}
				checkAgainstLedger(t, r)
			})
		}
	}
}

// runSales rings up eight sales of four kinds: paid then part refunded,
// cancelled by the operator, abandoned, and quick pay refunded in full.
// alive restarts the engine if it was abandoned.
func runSales(r *rig, alive func()) {
	for i := range 8 {
		ref := fmt.Sprintf("CR-%d", i)
		kind := i % 4
		r.eng.StartSale(r.ctx, r.input(func(in *pos.SaleInput) {
			in.ExternalRef = ref
			if kind == 3 {
				in.Flow, in.Barcode = pos.FlowBarcode, r.barcode("quick-pay")
			}
		}))
		alive()
		r.settle()
		alive()
		s, err := r.j.FindSale(r.ctx, pos.SaleQuery{ExternalRef: ref})
		if err != nil {
			r.t.Fatal(err)
		}
		switch kind {
		case 0:
			if s.PaymentRequest != nil {
				r.sb.PatronPay(s.PaymentRequest.ID, "", 0)
			}
			r.tick(1)
			alive()
			r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 300})
			alive()
		case 1:
			r.eng.Cancel(r.ctx, s.ID)
			alive()
		case 3:
			r.tick(1)
			alive()
			r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 1000})
			alive()
		}
		r.tick(2)
		alive()
	}
	for range 200 {
		r.tick(1)
		alive()
	}
}

func checkAgainstLedger(t *testing.T, r *rig) {
	t.Helper()
	sales, err := r.j.Sales(r.ctx, pos.SaleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sales) != 8 {
		t.Fatalf("%d sales journaled, want 8", len(sales))
	}
	perRef := map[string]int{}
	for _, e := range r.sb.Ledger().Requests {
		perRef[e.ExternalRef]++
		if e.Status == "new" {
			t.Errorf("request %s still new past every POS timeout", e.ID)
		}
	}
	for _, s := range sales {
		if !s.Status.Final() {
			t.Errorf("sale %s (%s) still %s: %s", s.ID, s.ExternalRef, s.Status, s.Reason)
		}
		if perRef[s.ExternalRef] > 1 {
			t.Errorf("sale %s has %d requests", s.ExternalRef, perRef[s.ExternalRef])
		}
		if s.PaymentRequest == nil {
			if perRef[s.ExternalRef] != 0 || s.Status != pos.StatusFailed {
				t.Errorf("sale %s: %s without a request; the sandbox has %d", s.ExternalRef, s.Status, perRef[s.ExternalRef])
			}
			continue
		}
		l := r.ledger(s.PaymentRequest.ID)
		if s.PaymentRequest.Status != string(l.Status) || s.Paid() != l.Paid || s.Refunded != l.Refunded {
			t.Errorf("sale %s: journal %s paid %d refunded %d; Centrapay %s paid %d refunded %d",
				s.ExternalRef, s.PaymentRequest.Status, s.Paid(), s.Refunded, l.Status, l.Paid, l.Refunded)
		}
		ops, _ := r.j.Ops(r.ctx, pos.OpFilter{SaleID: s.ID, Kind: pos.OpRefund})
		var refunded int64
		for _, op := range ops {
			if op.State == pos.OpPending {
				t.Errorf("refund %s still pending", op.ID)
			}
			if op.State == pos.OpSucceeded {
				refunded += op.Amount
			}
		}
		if refunded != l.Refunded-voidRefund(r, s) {
			t.Errorf("sale %s: refunds journaled %d, Centrapay refunded %d", s.ExternalRef, refunded, l.Refunded)
		}
	}
}

// voidRefund is what a void of a paid request refunded.
func voidRefund(r *rig, s *pos.Sale) int64 {
	ops, _ := r.j.Ops(r.ctx, pos.OpFilter{SaleID: s.ID, Kind: pos.OpVoid})
	var n int64
	for _, op := range ops {
		if op.State == pos.OpSucceeded {
			n += op.Amount
		}
	}
	return n
}
