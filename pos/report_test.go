package pos_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/sqlite"
)

// TestReport runs the report over sales the engine drove against the
// sandbox: payments of two asset types, a cancelled sale, a refund.
func TestReport(t *testing.T) {
	r := newRig(t)
	start := r.fake.Now()
	paid := r.start(nil)
	r.sb.PatronPay(paid.PaymentRequest.ID, "", 0)
	r.start(func(in *pos.SaleInput) {
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
		{AssetType: "centrapay.nzd.test", Description: "Centrapay NZD wallet", Currency: "NZD", Payments: 1, Paid: 1000, Refunds: 1, Refunded: 250, Net: 750},
		{AssetType: "farmlands.nzd.test", Description: "Farmlands card", Currency: "NZD", Payments: 1, Paid: 2500, Net: 2500},
	}
	if len(rep.Totals) != 2 || rep.Totals[0] != want[0] || rep.Totals[1] != want[1] {
		t.Errorf("totals %+v, want %+v", rep.Totals, want)
	}
	if rep.Paid != 3500 || rep.Refunded != 250 || rep.Net != 3250 || len(rep.Refunds) != 1 || rep.Refunds[0].AssetType != "centrapay.nzd.test" {
		t.Errorf("paid %d refunded %d net %d refunds %+v", rep.Paid, rep.Refunded, rep.Net, rep.Refunds)
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
}

// TestReportPreAuthTakesConfirmations drives a pre-auth of 10.00 through
// the engine: confirmed 6.00 and released, it took 6.00, not 10.00.
func TestReportPreAuthTakesConfirmations(t *testing.T) {
	r := newRig(t)
	start := r.fake.Now()
	s := r.start(func(in *pos.SaleInput) {
		in.Flow, in.Barcode, in.PreAuth, in.LineItems = pos.FlowBarcode, r.barcode("pre-auth"), true, lines(in.Value)
	})
	rep, _ := r.eng.Report(r.ctx, pos.ReportFilter{From: start})
	if rep.Paid != 0 || rep.Authorised != 1000 {
		t.Errorf("authorised, not confirmed: paid %s authorised %s; want 0.00 and 10.00", rep.Paid, rep.Authorised)
	}
	if _, err := r.eng.Confirm(r.ctx, s.ID, pos.ConfirmInput{InvoiceRef: "INV-1", LineItems: lines(600)}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Release(r.ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	rep, _ = r.eng.Report(r.ctx, pos.ReportFilter{From: start})
	if rep.Paid != 600 || rep.Authorised != 0 || len(rep.Payments) != 1 || rep.Payments[0].Kind != pos.LineConfirmation ||
		rep.Payments[0].AssetType == "" || len(rep.Authorisations) != 1 || rep.Authorisations[0].Status != "released" {
		t.Errorf("confirmed 6.00 and released: paid %s authorised %s, payments %+v, authorisations %+v", rep.Paid, rep.Authorised, rep.Payments, rep.Authorisations)
	}
}

// day is 25 November 2026 in UTC, the day the table tests' journal holds.
var day = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// at is a time of day on day.
func at(hour, minute int) time.Time {
	return day.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

// paidSale is a sale of till paid by the asset types and amounts given
// ("centrapay.nzd.test", 1000, ...).
func paidSale(id, till string, when time.Time, paidBy ...any) *pos.Sale {
	s := &pos.Sale{ID: id, TerminalID: till, ExternalRef: "R-" + id, Currency: "NZD", Status: pos.StatusPaid, OperatorID: "op-" + till,
		PaymentRequest: &pos.PaymentRequest{ID: "pr_" + id, ShortCode: "CP-" + strings.ToUpper(id)}, CreatedAt: when, UpdatedAt: when}
	for i := 0; i+1 < len(paidBy); i += 2 {
		p := pos.Payment{AssetType: paidBy[i].(string), Description: describe[paidBy[i].(string)], Amount: int64(paidBy[i+1].(int))}
		s.PaidBy = append(s.PaidBy, p)
		s.Value += p.Amount
	}
	return s
}

var describe = map[string]string{"centrapay.nzd.test": "Centrapay NZD wallet", "farmlands.nzd.test": "Farmlands card"}

// preAuth is a pre-auth of till authorised for amount, confirmed for
// confirmed, released or not.
func preAuth(id, till string, when time.Time, amount, confirmed int64, released bool) *pos.Sale {
	s := paidSale(id, till, when, "centrapay.nzd.test", int(amount))
	s.PreAuth, s.Confirmed, s.PaymentRequest.PreAuthStatus = true, confirmed, "authorized"
	if released {
		s.PaymentRequest.PreAuthStatus = "released"
	}
	return s
}

// refund is a refund op of sale s asked by till in state.
// A refund in state succeeded is complete (Centrapay said so a minute
// later); completed(accepted(op)) makes one accepted and not complete.
func refund(id string, s *pos.Sale, till string, when time.Time, amount int64, state pos.OpState) *pos.Op {
	op := &pos.Op{ID: id, SaleID: s.ID, PaymentRequestID: s.PaymentRequest.ID, Kind: pos.OpRefund, Key: id, Amount: amount, Currency: "NZD",
		State: state, TerminalID: till, OperatorID: "op-" + till, CreatedAt: when, UpdatedAt: when}
	if state == pos.OpSucceeded {
		op.CompletedAt = when.Add(time.Minute)
	}
	return op
}

// accepted makes refund op accepted by Centrapay and not yet complete.
func accepted(op *pos.Op) *pos.Op {
	op.State, op.CompletedAt = pos.OpSucceeded, time.Time{}
	return op
}

// confirmation is a confirm op of pre-auth s.
func confirmation(id string, s *pos.Sale, when time.Time, amount int64) *pos.Op {
	return &pos.Op{ID: id, SaleID: s.ID, PaymentRequestID: s.PaymentRequest.ID, Kind: pos.OpConfirm, Key: id, Amount: amount, Currency: "NZD",
		State: pos.OpSucceeded, TerminalID: s.TerminalID, CreatedAt: when, UpdatedAt: when}
}

// journalOf is a SQLite journal holding sales and ops as given.
func journalOf(t *testing.T, sales []*pos.Sale, ops []*pos.Op) pos.Journal {
	t.Helper()
	ctx := context.Background()
	j, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	for _, s := range sales {
		if err := j.Save(ctx, &pos.Change{Sale: s, NewSale: true, Note: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(ops) > 0 {
		if err := j.Save(ctx, &pos.Change{Ops: ops}); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

// TestReportFaults holds the faults the transactions report had, one case
// each, named by what it proves.
func TestReportFaults(t *testing.T) {
	wallet := paidSale("s1", "till-1", at(1, 0), "centrapay.nzd.test", 1250)
	farm := paidSale("s2", "till-2", at(2, 0), "farmlands.nzd.test", 2500)
	voided := paidSale("s3", "till-1", at(3, 0), "farmlands.nzd.test", 700)
	voided.Status, voided.Reason = pos.StatusCancelled, "voided by the operator"
	byRequest := refund("rf_byreq", farm, "manager", at(4, 0), 300, pos.OpSucceeded)
	byRequest.SaleID = "" // a refund asked by request id: the report finds its sale
	foreign := &pos.Op{ID: "rf_foreign", PaymentRequestID: "pr_elsewhere", Kind: pos.OpRefund, Amount: 900, Currency: "NZD",
		State: pos.OpSucceeded, TerminalID: "manager", CreatedAt: at(5, 0), UpdatedAt: at(5, 0)}
	for _, tc := range []struct {
		name  string
		sales []*pos.Sale
		ops   []*pos.Op
		check func(t *testing.T, rep *pos.Report)
	}{
		{"a refund carries the asset type it went back to", []*pos.Sale{wallet, farm},
			[]*pos.Op{refund("rf_1", wallet, "till-1", at(3, 0), 250, pos.OpSucceeded), byRequest, foreign},
			func(t *testing.T, rep *pos.Report) {
				want := map[string]string{"rf_1": "centrapay.nzd.test", "rf_byreq": "farmlands.nzd.test", "rf_foreign": pos.UnknownAssetType}
				for _, l := range rep.Refunds {
					if l.AssetType != want[l.ID] {
						t.Errorf("refund %s: asset type %q, want %q", l.ID, l.AssetType, want[l.ID])
					}
				}
				if l := find(rep.Refunds, "rf_byreq"); l.SaleID != farm.ID || l.ShortCode != "CP-S2" || l.ExternalRef != "R-s2" {
					t.Errorf("a refund by request id names its sale: %+v", l)
				}
			}},
		{"every payment carries the asset type that paid", []*pos.Sale{paidSale("s4", "till-1", at(1, 0), "centrapay.nzd.test", 400, "farmlands.nzd.test", 600)}, nil,
			func(t *testing.T, rep *pos.Report) {
				if len(rep.Payments) != 2 || rep.Payments[0].AssetType != "centrapay.nzd.test" || rep.Payments[0].Amount != 400 ||
					rep.Payments[1].AssetType != "farmlands.nzd.test" || rep.Payments[1].Amount != 600 {
					t.Errorf("payments %+v", rep.Payments)
				}
			}},
		{"a pre-auth authorised 10.00, confirmed 6.00 and released took 6.00", []*pos.Sale{preAuth("p1", "till-1", at(1, 0), 1000, 600, true)},
			[]*pos.Op{confirmation("cf_1", preAuth("p1", "till-1", at(1, 0), 1000, 600, true), at(2, 0), 600)},
			func(t *testing.T, rep *pos.Report) {
				if rep.Paid != 600 || rep.Net != 600 || rep.Authorised != 0 || len(rep.Totals) != 1 || rep.Totals[0].Paid != 600 || rep.Totals[0].Payments != 1 {
					t.Errorf("paid %s net %s authorised %s totals %+v", rep.Paid, rep.Net, rep.Authorised, rep.Totals)
				}
			}},
		{"an unconfirmed, unreleased pre-auth is authorised, not taken", []*pos.Sale{preAuth("p2", "till-1", at(1, 0), 1000, 0, false)}, nil,
			func(t *testing.T, rep *pos.Report) {
				if rep.Paid != 0 || rep.Authorised != 1000 || len(rep.Authorisations) != 1 || rep.Authorisations[0].Outstanding != 1000 ||
					len(rep.Totals) != 1 || rep.Totals[0].Authorised != 1000 || rep.Totals[0].Paid != 0 {
					t.Errorf("paid %s authorised %s authorisations %+v totals %+v", rep.Paid, rep.Authorised, rep.Authorisations, rep.Totals)
				}
			}},
		{"an empty report has empty lists", nil, nil,
			func(t *testing.T, rep *pos.Report) {
				b, _ := json.Marshal(rep)
				for _, field := range []string{"transactions", "payments", "refunds", "authorisations", "totals"} {
					if !strings.Contains(string(b), `"`+field+`":[]`) {
						t.Errorf("%s is not [] in %s", field, b)
					}
				}
			}},
		{"every amount is a decimal string beside its currency", []*pos.Sale{wallet}, []*pos.Op{refund("rf_1", wallet, "till-1", at(3, 0), 250, pos.OpSucceeded)},
			func(t *testing.T, rep *pos.Report) {
				b, _ := json.Marshal(rep)
				for _, want := range []string{`"paid":"12.50"`, `"refunded":"2.50"`, `"net":"10.00"`, `"currency":"NZD"`, `"amount":"12.50"`, `"amount":"2.50"`} {
					if !strings.Contains(string(b), want) {
						t.Errorf("no %s in %s", want, b)
					}
				}
				for _, l := range rep.Lines() {
					if l.Currency != "NZD" {
						t.Errorf("%s %s has no currency", l.Kind, l.ID)
					}
				}
				for _, tt := range rep.Totals {
					if tt.Currency != "NZD" {
						t.Errorf("total of %s has no currency", tt.AssetType)
					}
				}
			}},
		{"a refund names the terminal and operator that asked for it", []*pos.Sale{wallet}, []*pos.Op{refund("rf_1", wallet, "till-2", at(3, 0), 250, pos.OpSucceeded)},
			func(t *testing.T, rep *pos.Report) {
				if l := find(rep.Refunds, "rf_1"); l.TerminalID != "till-2" || l.OperatorID != "op-till-2" {
					t.Errorf("refund %+v", l)
				}
			}},
		{"only a refund that succeeded is counted", []*pos.Sale{wallet},
			[]*pos.Op{refund("rf_ok", wallet, "till-1", at(3, 0), 100, pos.OpSucceeded), refund("rf_pending", wallet, "till-1", at(3, 1), 200, pos.OpPending),
				refund("rf_failed", wallet, "till-1", at(3, 2), 400, pos.OpFailed)},
			func(t *testing.T, rep *pos.Report) {
				if len(rep.Refunds) != 3 || rep.Refunded != 100 || rep.Totals[0].Refunds != 1 {
					t.Errorf("refunds %d refunded %s totals %+v", len(rep.Refunds), rep.Refunded, rep.Totals)
				}
			}},
		{"a paid sale voided gave all of it back", []*pos.Sale{voided}, nil,
			func(t *testing.T, rep *pos.Report) {
				if rep.Paid != 700 || rep.Refunded != 700 || rep.Net != 0 || len(rep.Refunds) != 1 || rep.Refunds[0].Kind != pos.LineVoid ||
					rep.Refunds[0].AssetType != "farmlands.nzd.test" {
					t.Errorf("paid %s refunded %s refunds %+v", rep.Paid, rep.Refunded, rep.Refunds)
				}
			}},
		{"totals are per asset type: payments, refunds, net", []*pos.Sale{wallet, farm, voided},
			[]*pos.Op{refund("rf_1", wallet, "till-1", at(3, 0), 250, pos.OpSucceeded)},
			func(t *testing.T, rep *pos.Report) {
				want := []pos.AssetTypeTotal{
					{AssetType: "centrapay.nzd.test", Description: "Centrapay NZD wallet", Currency: "NZD", Payments: 1, Paid: 1250, Refunds: 1, Refunded: 250, Net: 1000},
					{AssetType: "farmlands.nzd.test", Description: "Farmlands card", Currency: "NZD", Payments: 2, Paid: 3200, Refunds: 1, Refunded: 700, Net: 2500},
				}
				if len(rep.Totals) != 2 || rep.Totals[0] != want[0] || rep.Totals[1] != want[1] {
					t.Errorf("totals %+v\nwant %+v", rep.Totals, want)
				}
				if rep.Paid != 4450 || rep.Refunded != 950 || rep.Net != 3500 {
					t.Errorf("paid %s refunded %s net %s", rep.Paid, rep.Refunded, rep.Net)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := journalOf(t, tc.sales, tc.ops)
			rep, err := pos.BuildReport(context.Background(), j, pos.ReportFilter{From: day, To: day.AddDate(0, 0, 1)}, "NZD")
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, rep)
		})
	}
}

func find(ls []pos.Line, id string) pos.Line {
	for _, l := range ls {
		if l.ID == id {
			return l
		}
	}
	return pos.Line{}
}

// TestCents: amounts are exact decimal strings both ways.
func TestCents(t *testing.T) {
	for _, tc := range []struct {
		cents pos.Cents
		text  string
	}{{0, "0.00"}, {5, "0.05"}, {1250, "12.50"}, {-300, "-3.00"}, {99999999, "999999.99"}} {
		if got := tc.cents.String(); got != tc.text {
			t.Errorf("%d is %q, want %q", tc.cents, got, tc.text)
		}
		var back pos.Cents
		if err := json.Unmarshal([]byte(`"`+tc.text+`"`), &back); err != nil || back != tc.cents {
			t.Errorf("%q reads as %d (%v), want %d", tc.text, back, err, tc.cents)
		}
	}
	for _, bad := range []string{"", "1.234", "12,50", "1e3", "--1", "+1", "1.-5", "x"} {
		if _, err := pos.ParseCents(bad); err == nil {
			t.Errorf("%q is read as an amount", bad)
		}
	}
	if err := json.Unmarshal([]byte(`12.5`), new(pos.Cents)); err == nil {
		t.Error("a JSON number is read as an amount")
	}
}
