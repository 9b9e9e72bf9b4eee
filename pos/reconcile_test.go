package pos_test

import (
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

// The rig's fake clock starts at 2026-11-25 09:00 UTC; the store of these
// tests is in a fixed zone 13 hours ahead (as Auckland in summer), so its
// business day of the 25th runs from 24 Nov 11:00 UTC to 25 Nov 11:00 UTC.
var reconZone = time.FixedZone("NZDT", 13*60*60)

func reconDay(y int, m time.Month, d int) (from, to time.Time) {
	from = time.Date(y, m, d, 0, 0, 0, 0, reconZone)
	return from, from.AddDate(0, 0, 1)
}

// reconPaid starts a QR sale of value, has the patron pay it and lets the
// engine see it paid.
func (r *rig) reconPaid(value int64) *pos.Sale {
	r.t.Helper()
	s := r.start(func(in *pos.SaleInput) { in.Value = value })
	if err := r.sb.Approve(s.PaymentRequest.ID); err != nil {
		r.t.Fatal(err)
	}
	r.tick(1)
	s = r.sale(s.ID)
	if s.Status != pos.StatusPaid {
		r.t.Fatalf("sale %s is %s, want paid", s.ID, s.Status)
	}
	return s
}

func (r *rig) reconcile(in pos.ReconcileInput) *pos.Reconciliation {
	r.t.Helper()
	res, err := r.eng.Reconcile(r.ctx, in)
	if err != nil {
		r.t.Fatalf("reconcile: %v", err)
	}
	return res
}

// reconTamper rewrites what the journal holds of a sale or an op, as a bug or
// a hand edit would, behind the engine's back.
func (r *rig) reconTamper(c *pos.Change) {
	r.t.Helper()
	if c.Sale != nil && !c.NewSale {
		c.Sale.Version++
	}
	if err := r.j.Save(r.ctx, c); err != nil {
		r.t.Fatal(err)
	}
}

func oneDiscrepancy(t *testing.T, res *pos.Reconciliation, kind pos.DiscrepancyKind, about string) pos.Discrepancy {
	t.Helper()
	var found []pos.Discrepancy
	for _, d := range res.Discrepancies {
		if d.Kind == kind && d.About == about {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d discrepancies %s about %s, want 1; all: %+v", len(found), kind, about, res.Discrepancies)
	}
	return found[0]
}

func TestReconcileClean(t *testing.T) {
	r := newRig(t)
	paid := r.reconPaid(1250)
	if _, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: paid.ID, Amount: 300, Reason: "damaged"}); err != nil {
		t.Fatal(err)
	}
	other := r.reconPaid(2000)
	cancelled := r.start(nil)
	if _, err := r.eng.Cancel(r.ctx, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	r.settle()
	if s := r.sale(cancelled.ID); s.Status != pos.StatusCancelled {
		t.Fatalf("cancelled sale is %s", s.Status)
	}
	expired := r.start(nil)
	r.tick(130) // past the request's expiry and the POS timeout
	if s := r.sale(expired.ID); s.Status != pos.StatusExpired {
		t.Fatalf("expired sale is %s", s.Status)
	}
	preAuth := r.start(func(in *pos.SaleInput) {
		in.Flow, in.Barcode, in.PreAuth, in.Value = pos.FlowBarcode, r.barcode("pre-auth"), true, 1000
		in.LineItems = lines(1000)
	})
	confirm, err := r.eng.Confirm(r.ctx, preAuth.ID, pos.ConfirmInput{InvoiceRef: "INV-1", LineItems: lines(600)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: preAuth.ID, Amount: 100, ConfirmationKey: confirm.Key}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a second press finds it released: what was asked
		if _, err := r.eng.Release(r.ctx, preAuth.ID); err != nil {
			t.Fatal(err)
		}
	}
	from, to := reconDay(2026, 11, 25)
	res := r.reconcile(pos.ReconcileInput{From: from, To: to})
	if !res.Clean() {
		t.Fatalf("discrepancies in a clean journal: %+v", res.Discrepancies)
	}
	if res.Sales != 5 || res.Live != 0 || len(res.MerchantIDs) != 1 || res.MerchantIDs[0] != r.seed.MerchantID {
		t.Errorf("sales %d live %d merchants %v, want 5, 0, [%s]", res.Sales, res.Live, res.MerchantIDs, r.seed.MerchantID)
	}
	if len(res.Totals) != 1 {
		t.Fatalf("totals %+v, want one asset type", res.Totals)
	}
	tot := res.Totals[0]
	if tot.AssetType != paid.PaidBy[0].AssetType || tot.Payments != 3 || tot.Paid != 3850 || tot.Refunds != 2 || tot.Refunded != 400 ||
		tot.Net != 3450 || tot.Authorisations != 1 || tot.Authorised != 1000 {
		t.Errorf("total %+v, want 2 payments and a confirmation of %s: 38.50 paid, 2 refunds of 4.00, net 34.50, 10.00 authorised", tot, other.PaidBy[0].AssetType)
	}
	if len(tot.Settlements) != 2 || tot.Settlements[0] != (pos.Settlement{Payments: 1, Amount: 600}) ||
		tot.Settlements[1] != (pos.Settlement{Date: "2026-11-26", Payments: 2, Amount: 3250}) {
		t.Errorf("settlements %+v, want 6.00 confirmed without a date and 32.50 settled on 2026-11-26", tot.Settlements)
	}
	if r.eng.LastReconciliation() != res {
		t.Error("the engine does not keep its last reconciliation")
	}
	// the day before holds nothing
	from, to = reconDay(2026, 11, 24)
	if res := r.reconcile(pos.ReconcileInput{From: from, To: to, MerchantIDs: []string{r.seed.MerchantID}}); !res.Clean() || res.Sales != 0 || len(res.Totals) != 0 {
		t.Errorf("the day before: %+v", res)
	}
}

// TestReconcileNotInJournal: a payment made at Centrapay by a request no
// sale of ours made.
func TestReconcileNotInJournal(t *testing.T) {
	r := newRig(t)
	r.reconPaid(1000) // the journal's own, to learn the merchant from
	pr, _, err := r.client.Create(r.ctx, &centrapay.CreateRequest{ConfigID: r.seed.ConfigID, Value: centrapay.Cents(700, "NZD"), ExternalRef: "elsewhere-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.sb.Approve(pr.ID); err != nil {
		t.Fatal(err)
	}
	from, to := reconDay(2026, 11, 25)
	res := r.reconcile(pos.ReconcileInput{From: from, To: to})
	d := oneDiscrepancy(t, res, pos.DiscrepancyNotInJournal, pos.AboutPayment)
	if d.PaymentRequestID != pr.ID || d.CentrapayAmount != 700 || d.JournalAmount != 0 || d.SaleID != "" {
		t.Errorf("discrepancy %+v, want request %s's 7.00 payment, no sale", d, pr.ID)
	}
	if len(res.Discrepancies) != 1 {
		t.Errorf("discrepancies %+v, want only that one", res.Discrepancies)
	}
}

// TestReconcileNotAtCentrapay: a sale the journal holds as paid by a
// request Centrapay never had.
func TestReconcileNotAtCentrapay(t *testing.T) {
	r := newRig(t)
	real := r.reconPaid(1000)
	ghost := *real
	ghost.ID, ghost.ExternalRef, ghost.Value = "sl_GHOST", "ghost-1", 900
	ghost.PaymentRequest = &pos.PaymentRequest{ID: "NeverMadeAtCentrapay", Status: "paid"}
	ghost.PaidBy = []pos.Payment{{AssetType: real.PaidBy[0].AssetType, Amount: 900}}
	ghost.CreatedAt = r.fake.Now()
	r.reconTamper(&pos.Change{Sale: &ghost, NewSale: true, Note: "written by hand"})
	from, to := reconDay(2026, 11, 25)
	res := r.reconcile(pos.ReconcileInput{From: from, To: to})
	d := oneDiscrepancy(t, res, pos.DiscrepancyNotAtCentrapay, pos.AboutRequest)
	if d.SaleID != ghost.ID || d.PaymentRequestID != "NeverMadeAtCentrapay" || d.JournalAmount != 900 || d.ExternalRef != "ghost-1" {
		t.Errorf("discrepancy %+v, want the ghost sale's 9.00", d)
	}
	if len(res.Discrepancies) != 1 {
		t.Errorf("discrepancies %+v, want only that one", res.Discrepancies)
	}
	if len(res.Totals) != 1 || res.Totals[0].Paid != 1000 {
		t.Errorf("totals %+v, want only the real sale's 10.00 matched", res.Totals)
	}
}

// TestReconcileAmountDiffers: a refund whose amount in the journal is not
// Centrapay's.
func TestReconcileAmountDiffers(t *testing.T) {
	r := newRig(t)
	s := r.reconPaid(1000)
	op, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 300})
	if err != nil {
		t.Fatal(err)
	}
	op.Amount = 400
	r.reconTamper(&pos.Change{Ops: []*pos.Op{op}})
	from, to := reconDay(2026, 11, 25)
	res := r.reconcile(pos.ReconcileInput{From: from, To: to})
	d := oneDiscrepancy(t, res, pos.DiscrepancyAmount, pos.AboutRefund)
	if d.OpID != op.ID || d.JournalAmount != 400 || d.CentrapayAmount != 300 || d.SaleID != s.ID || d.ActivityID != op.ActivityID {
		t.Errorf("discrepancy %+v, want refund %s: 4.00 journaled, 3.00 at Centrapay", d, op.ID)
	}
	if !strings.Contains(d.Detail, "4.00 NZD") || !strings.Contains(d.Detail, "3.00 NZD") {
		t.Errorf("detail %q, want both amounts with their currency", d.Detail)
	}
	if len(res.Discrepancies) != 1 {
		t.Errorf("discrepancies %+v, want only that one", res.Discrepancies)
	}
	if res.Totals[0].Refunds != 0 {
		t.Errorf("a refund that differs is counted as matched: %+v", res.Totals[0])
	}
}

// TestReconcileStatusDiffers: a sale the journal says expired that
// Centrapay has paid.
func TestReconcileStatusDiffers(t *testing.T) {
	r := newRig(t)
	s := r.reconPaid(1000)
	s.Status, s.Reason = pos.StatusExpired, "the payment request expired"
	s.PaidBy = nil
	r.reconTamper(&pos.Change{Sale: s, Note: "written by hand"})
	from, to := reconDay(2026, 11, 25)
	res := r.reconcile(pos.ReconcileInput{From: from, To: to})
	d := oneDiscrepancy(t, res, pos.DiscrepancyStatus, pos.AboutStatus)
	if d.SaleID != s.ID || d.JournalStatus != "expired" || d.CentrapayStatus != "paid" {
		t.Errorf("discrepancy %+v, want expired in the journal, paid at Centrapay", d)
	}
	// the payment the journal lost is listed too
	if d := oneDiscrepancy(t, res, pos.DiscrepancyNotInJournal, pos.AboutPayment); d.CentrapayAmount != 1000 || d.SaleID != s.ID {
		t.Errorf("discrepancy %+v, want the sale's 10.00 payment", d)
	}
	if n := r.ledger(s.PaymentRequest.ID); n.Status != centrapay.StatusPaid || n.Refunded != 0 {
		t.Errorf("a paid request was changed at Centrapay: %+v", n)
	}
}

// TestReconcileOpenVoided: a request still new at Centrapay while the
// journal says its sale is cancelled is listed and voided, the void
// journaled; a dry run only lists it.
func TestReconcileOpenVoided(t *testing.T) {
	r := newRig(t)
	s := r.start(nil) // the patron never pays
	id := s.PaymentRequest.ID
	s.Status, s.Reason = pos.StatusCancelled, "cancelled at the till"
	r.reconTamper(&pos.Change{Sale: s, Note: "written by hand"})
	from, to := reconDay(2026, 11, 25)

	dry := r.reconcile(pos.ReconcileInput{From: from, To: to, DryRun: true})
	d := oneDiscrepancy(t, dry, pos.DiscrepancyOpen, pos.AboutStatus)
	if d.PaymentRequestID != id || d.VoidOpID != "" || d.JournalStatus != "cancelled" || d.CentrapayStatus != "new" {
		t.Errorf("dry run: %+v, want request %s open, not voided", d, id)
	}
	if n := r.ledger(id); n.Status != centrapay.StatusNew {
		t.Fatalf("a dry run changed the request: %s", n.Status)
	}

	res := r.reconcile(pos.ReconcileInput{From: from, To: to})
	d = oneDiscrepancy(t, res, pos.DiscrepancyOpen, pos.AboutStatus)
	if d.VoidOpID == "" || d.VoidState != pos.OpSucceeded {
		t.Fatalf("discrepancy %+v, want a void journaled and succeeded", d)
	}
	if n := r.ledger(id); n.Status != centrapay.StatusCancelled || n.CancellationReason != centrapay.CancelledByMerchant {
		t.Errorf("request at Centrapay: %s %s, want cancelled by the merchant", n.Status, n.CancellationReason)
	}
	op, err := r.j.Op(r.ctx, d.VoidOpID)
	if err != nil {
		t.Fatal(err)
	}
	if op.Kind != pos.OpVoidExtra || op.State != pos.OpSucceeded || op.Reason != pos.ReconcileVoidReason ||
		op.PaymentRequestID != id || op.SaleID != s.ID || op.ActivityID == "" {
		t.Errorf("journaled void %+v", op)
	}
	if len(res.Discrepancies) != 1 {
		t.Errorf("discrepancies %+v, want only that one", res.Discrepancies)
	}
	// voided, the journal and Centrapay agree
	if again := r.reconcile(pos.ReconcileInput{From: from, To: to}); !again.Clean() {
		t.Errorf("after the void: %+v", again.Discrepancies)
	}
}

func TestReconcileInput(t *testing.T) {
	r := newRig(t)
	from, to := reconDay(2026, 11, 25)
	if _, err := r.eng.Reconcile(r.ctx, pos.ReconcileInput{From: to, To: from}); pos.ErrorCode(err) != pos.EInvalid {
		t.Errorf("from after to: %v, want invalid", err)
	}
	// no request in the journal to learn the merchant from
	if _, err := r.eng.Reconcile(r.ctx, pos.ReconcileInput{From: from, To: to}); pos.ErrorCode(err) != pos.EInvalid {
		t.Errorf("empty journal, no merchant id: %v, want invalid", err)
	}
	res := r.reconcile(pos.ReconcileInput{From: from, To: to, MerchantIDs: []string{r.seed.MerchantID}})
	if !res.Clean() || res.Activities != 0 {
		t.Errorf("empty journal and sandbox: %+v", res)
	}
}

func TestFormatCents(t *testing.T) {
	for _, tt := range []struct {
		cents    pos.Cents
		currency string
		want     string
	}{{1250, "NZD", "12.50 NZD"}, {5, "NZD", "0.05 NZD"}, {-300, "USD", "-3.00 USD"}, {100, "", "1.00"}} {
		if got := pos.FormatCents(tt.cents, tt.currency); got != tt.want {
			t.Errorf("FormatCents(%d, %q) = %q, want %q", tt.cents, tt.currency, got, tt.want)
		}
	}
}

// TestZReportReconciled: the Z-report of a day says it is reconciled once
// a reconciliation covering the day found nothing amiss, not reconciled
// when it found discrepancies, and nothing (null) before any covered it.
func TestZReportReconciled(t *testing.T) {
	r := newRig(t)
	r.reconPaid(1000)
	from, to := reconDay(2026, 11, 25)
	zOf := func() *pos.ZReport {
		t.Helper()
		z, err := r.eng.ZReport(r.ctx, pos.ZFilter{Day: "2026-11-25", Location: from.Location()})
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	if z := zOf(); z.Reconciled != nil {
		t.Fatalf("reconciled %v before any reconciliation", *z.Reconciled)
	}
	r.reconcile(pos.ReconcileInput{From: from, To: to})
	if z := zOf(); z.Reconciled == nil || !*z.Reconciled || z.ReconciledText() != "reconciled" {
		t.Fatalf("after a clean reconciliation: %v", z.Reconciled)
	}
	pr, _, err := r.client.Create(r.ctx, &centrapay.CreateRequest{ConfigID: r.seed.ConfigID, Value: centrapay.Cents(700, "NZD")})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.sb.Approve(pr.ID); err != nil {
		t.Fatal(err)
	}
	r.reconcile(pos.ReconcileInput{From: from, To: to})
	if z := zOf(); z.Reconciled == nil || *z.Reconciled {
		t.Fatalf("after a reconciliation with a discrepancy: %v", z.Reconciled)
	}
	// a reconciliation of another day says nothing of this one
	r.reconcile(pos.ReconcileInput{From: from.AddDate(0, 0, -1), To: from})
	if z := zOf(); z.Reconciled != nil {
		t.Fatalf("after reconciling the day before: %v", *z.Reconciled)
	}
}

// TestReconcilePendingRefund: a refund Centrapay accepted and has not
// completed (so not yet listed) is no discrepancy; once Centrapay lists
// it, reconciliation matches it and records it complete (unless a dry
// run), even before the engine's own check.
func TestReconcilePendingRefund(t *testing.T) {
	r := newRigWith(t, func(c *sandbox.Config) { c.RefundDelay = 10 * time.Minute })
	paid := r.reconPaid(1250)
	op, err := r.eng.Refund(r.ctx, pos.RefundInput{SaleID: paid.ID, Amount: 300})
	if err != nil || op.RefundStatus() != pos.RefundPending {
		t.Fatalf("refund %+v %v", op, err)
	}
	from, to := reconDay(2026, 11, 25)
	if res := r.reconcile(pos.ReconcileInput{From: from, To: to}); !res.Clean() || res.Totals[0].Refunds != 0 {
		t.Fatalf("a refund not yet complete: %+v %+v, want clean and not yet matched", res.Discrepancies, res.Totals)
	}
	r.fake.Advance(10 * time.Minute) // complete at Centrapay; the engine's checks not run
	for _, dry := range []bool{true, false} {
		res := r.reconcile(pos.ReconcileInput{From: from, To: to, DryRun: dry})
		if !res.Clean() || res.Totals[0].Refunds != 1 || res.Totals[0].Refunded != 300 {
			t.Fatalf("dry run %v: %+v %+v, want the refund matched", dry, res.Discrepancies, res.Totals)
		}
		want := pos.RefundCompleted
		if dry {
			want = pos.RefundPending
		}
		if got := r.refundOf(op.ID).RefundStatus(); got != want {
			t.Errorf("dry run %v: refund %s, want %s", dry, got, want)
		}
	}
}
