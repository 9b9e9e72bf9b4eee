package pos_test

import (
	"errors"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// TestTillKeys: a till's key is journaled with the sale or refund it
// starts, a second start with it is refused before anything is written or
// sent, and keys are forgotten after KeyRetention, not before.
func TestTillKeys(t *testing.T) {
	r := newRig(t)
	key := func(k string) *pos.KeyedRequest {
		return &pos.KeyedRequest{TerminalID: "till-1", Key: k, RequestHash: "h-" + k}
	}
	s, err := r.eng.StartSale(r.ctx, r.input(func(in *pos.SaleInput) { in.Key = key("k1") }))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.j.Keyed(r.ctx, "till-1", "k1"); err != nil || got.SaleID != s.ID || got.Answered() {
		t.Fatalf("key: %+v %v", got, err)
	}
	if _, err := r.eng.StartSale(r.ctx, r.input(func(in *pos.SaleInput) { in.Key = key("k1") })); !errors.Is(err, pos.ErrKeyUsed) {
		t.Errorf("second sale with the key: %v, want ErrKeyUsed", err)
	}
	if n := len(r.sb.Ledger().Requests); n != 1 {
		t.Errorf("%d payment requests, want 1", n)
	}
	r.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	r.tick(1)
	op, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 100, Key: key("k2")})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.j.Keyed(r.ctx, "till-1", "k2"); err != nil || got.OpID != op.ID {
		t.Errorf("refund key: %+v %v", got, err)
	}
	if _, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 100, Key: key("k2")}); !errors.Is(err, pos.ErrKeyUsed) {
		t.Errorf("second refund with the key: %v, want ErrKeyUsed", err)
	}
	if l := r.sb.Ledger().Requests[0]; l.Refunded != 100 {
		t.Errorf("refunded %d, want 100", l.Refunded)
	}
	r.fake.Advance(pos.KeyRetention - time.Minute)
	if n, err := r.eng.PurgeKeys(r.ctx); err != nil || n != 0 {
		t.Errorf("purged %d before 24 h: %v", n, err)
	}
	r.fake.Advance(2 * time.Minute)
	if n, err := r.eng.PurgeKeys(r.ctx); err != nil || n != 2 {
		t.Errorf("purged %d after 24 h, want 2: %v", n, err)
	}
}
