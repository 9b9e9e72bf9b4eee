package pos_test

import (
	"testing"

	"github.com/centrapos/centrapos/pos"
)

// TestTakeTender: a part-paid sale's rest is taken by cash and card, no
// more than is still to pay; a second press with the same key records
// nothing more; a sale paid in full, or not paid, takes no tender.
func TestTakeTender(t *testing.T) {
	r := newRig(t)
	s := r.start(func(in *pos.SaleInput) {
		in.Flow, in.Barcode, in.Value, in.BasketAmount = pos.FlowBarcode, r.barcode("partial"), 2000, 2000
	})
	r.tick(1)
	s = r.sale(s.ID)
	if s.Status != pos.StatusPaid || s.StillToPay() != 1000 {
		t.Fatalf("part paid sale: %s, still to pay %d", s.Status, s.StillToPay())
	}
	till := &pos.Terminal{ID: "till-1"}
	for _, tc := range []struct {
		name string
		in   pos.TenderInput
		code string
	}{
		{"no method", pos.TenderInput{Amount: 100}, pos.EInvalid},
		{"cheque", pos.TenderInput{Method: "cheque", Amount: 100}, pos.EInvalid},
		{"nothing", pos.TenderInput{Method: pos.TenderCash}, pos.EInvalid},
		{"more than is owed", pos.TenderInput{Method: pos.TenderCash, Amount: 1001}, pos.EInvalid},
	} {
		if _, err := r.eng.TakeTender(r.ctx, s.ID, tc.in); pos.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	key := &pos.KeyedRequest{TerminalID: "till-1", Key: "k1", RequestHash: "h1"}
	got, err := r.eng.TakeTender(r.ctx, s.ID, pos.TenderInput{Method: pos.TenderCash, Amount: 400, Terminal: till, Key: key})
	if err != nil || got.StillToPay() != 600 || len(got.Tenders) != 1 || got.Tenders[0].TerminalID != "till-1" || key.SaleID != s.ID {
		t.Fatalf("cash 4.00: %+v %v", got, err)
	}
	again := &pos.KeyedRequest{TerminalID: "till-1", Key: "k1", RequestHash: "h1"}
	if _, err := r.eng.TakeTender(r.ctx, s.ID, pos.TenderInput{Method: pos.TenderCash, Amount: 400, Terminal: till, Key: again}); err != pos.ErrKeyUsed {
		t.Errorf("the same key again: %v, want ErrKeyUsed", err)
	}
	got, err = r.eng.TakeTender(r.ctx, s.ID, pos.TenderInput{Method: pos.TenderCard, Amount: 600, Terminal: till})
	if err != nil || got.StillToPay() != 0 || got.Tendered() != 1000 || got.Status != pos.StatusPaid {
		t.Fatalf("card 6.00: %+v %v", got, err)
	}
	if _, err := r.eng.TakeTender(r.ctx, s.ID, pos.TenderInput{Method: pos.TenderCash, Amount: 1}); pos.ErrorCode(err) != pos.EConflict {
		t.Errorf("a tender once nothing is owed: %v", err)
	}
	if h, _ := r.j.History(r.ctx, s.ID); len(h) == 0 || h[len(h)-1].Note != "$6.00 of $6.00 taken by card, outside Centrapay" {
		t.Errorf("history %+v", h)
	}
	open := r.start(nil)
	if _, err := r.eng.TakeTender(r.ctx, open.ID, pos.TenderInput{Method: pos.TenderCash, Amount: 1}); pos.ErrorCode(err) != pos.EConflict {
		t.Errorf("a tender toward an open sale: %v", err)
	}
}
