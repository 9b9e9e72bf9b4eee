package pos_test

import (
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
)

func TestReport(t *testing.T) {
	r := newRig(t)
	start := r.fake.Now()
	paid := r.start(nil)
	r.sb.PatronPay(paid.PaymentRequest.ID, "", 0)
	farm := r.start(func(in *pos.SaleInput) {
		in.Flow, in.Barcode, in.Value = pos.FlowBarcode, r.barcode("farmlands-card"), 2500
	})
	other := r.start(func(in *pos.SaleInput) { in.TerminalID = "till-2" })
	r.eng.Cancel(r.ctx, other.ID)
	r.tick(1)
	if _, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: paid.ID, Amount: 250}); err != nil {
		t.Fatal(err)
	}
	rep, err := r.eng.Report(r.ctx, pos.ReportFilter{From: start, To: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Transactions) != 3 || rep.ByStatus[pos.StatusPaid] != 2 || rep.ByStatus[pos.StatusCancelled] != 1 {
		t.Errorf("transactions %d, by status %v", len(rep.Transactions), rep.ByStatus)
	}
	want := []pos.AssetTypeTotal{
		{AssetType: "centrapay.nzd.test", Description: "Centrapay NZD wallet", Payments: 1, Paid: 1000, Refunded: 250, Net: 750},
		{AssetType: "farmlands.nzd.test", Description: "Farmlands card", Payments: 1, Paid: 2500, Net: 2500},
	}
	if len(rep.Totals) != 2 || rep.Totals[0] != want[0] || rep.Totals[1] != want[1] {
		t.Errorf("totals %+v, want %+v", rep.Totals, want)
	}
	if rep.Paid != 3500 || rep.Refunded != 250 || rep.Net != 3250 || len(rep.Refunds) != 1 {
		t.Errorf("paid %d refunded %d net %d refunds %d", rep.Paid, rep.Refunded, rep.Net, len(rep.Refunds))
	}
	byTill, _ := r.eng.Report(r.ctx, pos.ReportFilter{TerminalID: "till-2"})
	if len(byTill.Transactions) != 1 || byTill.Transactions[0].ID != other.ID {
		t.Errorf("till-2 report: %+v", byTill.Transactions)
	}
	later, _ := r.eng.Report(r.ctx, pos.ReportFilter{From: start.Add(time.Hour)})
	if len(later.Transactions) != 0 {
		t.Errorf("a later period has %d transactions", len(later.Transactions))
	}
	if _, err := r.eng.Report(r.ctx, pos.ReportFilter{From: start, To: start}); pos.ErrorCode(err) != pos.EInvalid {
		t.Errorf("empty period: %v", err)
	}
	_ = farm
}
