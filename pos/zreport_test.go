package pos_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// TestZReportEveryFigure closes a day with payments of two asset types, a
// refund, a pre-auth partly confirmed, a pending refund and an open sale,
// and checks every figure of the store and of each terminal.
func TestZReportEveryFigure(t *testing.T) {
	wallet := paidSale("s1", "till-1", at(1, 0), "centrapay.nzd.test", 1250)
	farm := paidSale("s2", "till-2", at(2, 0), "farmlands.nzd.test", 2500)
	hold := preAuth("p1", "till-1", at(3, 0), 1000, 600, false)
	open := &pos.Sale{ID: "s3", TerminalID: "till-2", ExternalRef: "R-s3", Value: 800, Currency: "NZD", Status: pos.StatusPending, CreatedAt: at(4, 0), UpdatedAt: at(4, 0)}
	yesterday := paidSale("s0", "till-1", day.Add(-time.Minute), "centrapay.nzd.test", 5000)
	tomorrow := paidSale("s9", "till-1", day.AddDate(0, 0, 1), "centrapay.nzd.test", 7000)
	j := journalOf(t, []*pos.Sale{wallet, farm, hold, open, yesterday, tomorrow}, []*pos.Op{
		refund("rf_done", wallet, "till-1", at(5, 0), 250, pos.OpSucceeded),
		refund("rf_pending", farm, "manager", at(6, 0), 300, pos.OpPending),
		confirmation("cf_1", hold, at(7, 0), 600),
	})
	z, err := pos.BuildZReport(context.Background(), j, pos.ZFilter{Day: "2026-11-25", Location: time.UTC}, "NZD", at(23, 0))
	if err != nil {
		t.Fatal(err)
	}
	if z.Reconciled != nil || z.ReconciledText() != "not reconciled" {
		t.Errorf("reconciled %v %q: reconciliation does not exist yet", z.Reconciled, z.ReconciledText())
	}
	if z.Store == nil {
		t.Fatal("no store section")
	}
	st := *z.Store
	wantTotals := []pos.AssetTypeTotal{
		{AssetType: "centrapay.nzd.test", Description: "Centrapay NZD wallet", Currency: "NZD", Payments: 2, Paid: 1850, Refunds: 1, Refunded: 250, Net: 1600, Authorised: 400},
		{AssetType: "farmlands.nzd.test", Description: "Farmlands card", Currency: "NZD", Payments: 1, Paid: 2500, Net: 2500},
	}
	if len(st.Totals) != 2 || st.Totals[0] != wantTotals[0] || st.Totals[1] != wantTotals[1] {
		t.Errorf("store totals %+v\nwant %+v", st.Totals, wantTotals)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	check("store payments", st.Payments, 3)
	check("store paid", st.Paid, pos.Cents(4350))
	check("store refunds", st.Refunds, 1)
	check("store refunded", st.Refunded, pos.Cents(250))
	check("store net", st.Net, pos.Cents(4100))
	check("store pre-auths outstanding", len(st.PreAuthsOutstanding), 1)
	check("store outstanding", st.Outstanding, pos.Cents(400))
	check("store refunds pending", len(st.RefundsPending), 1)
	check("store pending refunds", st.PendingRefunds, pos.Cents(300))
	check("store open sales", len(st.OpenSales), 1)
	if len(st.OpenSales) == 1 {
		check("the open sale", st.OpenSales[0].ID, "s3")
	}

	if len(z.Terminals) != 3 {
		t.Fatalf("terminals %+v, want manager, till-1, till-2", z.Terminals)
	}
	m, t1, t2 := z.Terminals[0], z.Terminals[1], z.Terminals[2]
	check("terminal order", m.TerminalID+" "+t1.TerminalID+" "+t2.TerminalID, "manager till-1 till-2")
	// till-1: the wallet payment, its refund, the pre-auth's confirmation and what it still holds
	check("till-1 payments", t1.Payments, 2)
	check("till-1 paid", t1.Paid, pos.Cents(1850))
	check("till-1 refunded", t1.Refunded, pos.Cents(250))
	check("till-1 net", t1.Net, pos.Cents(1600))
	check("till-1 outstanding", t1.Outstanding, pos.Cents(400))
	check("till-1 refunds pending", len(t1.RefundsPending), 0)
	check("till-1 open sales", len(t1.OpenSales), 0)
	// till-2: the Farmlands payment and the open sale
	check("till-2 paid", t2.Paid, pos.Cents(2500))
	check("till-2 net", t2.Net, pos.Cents(2500))
	check("till-2 open sales", len(t2.OpenSales), 1)
	check("till-2 open value", t2.OpenValue, pos.Cents(800))
	check("till-2 outstanding", t2.Outstanding, pos.Cents(0))
	// the manager asked for the pending refund of till-2's sale
	check("manager paid", m.Paid, pos.Cents(0))
	check("manager refunds pending", len(m.RefundsPending), 1)
	check("manager pending refunds", m.PendingRefunds, pos.Cents(300))
	if len(m.RefundsPending) == 1 {
		check("the pending refund's asset type", m.RefundsPending[0].AssetType, "farmlands.nzd.test")
	}

	// a till's own close has no store section and only its terminal
	own, err := pos.BuildZReport(context.Background(), j, pos.ZFilter{Day: "2026-11-25", Location: time.UTC, TerminalID: "till-2"}, "NZD", at(23, 0))
	if err != nil {
		t.Fatal(err)
	}
	if own.Store != nil || len(own.Terminals) != 1 || own.Terminals[0].TerminalID != "till-2" || own.Terminals[0].Paid != 2500 {
		t.Errorf("till-2's own close: store %v, terminals %+v", own.Store, own.Terminals)
	}
	if _, err := pos.BuildZReport(context.Background(), j, pos.ZFilter{Day: "25/11/2026", Location: time.UTC}, "NZD", at(23, 0)); pos.ErrorCode(err) != pos.EInvalid {
		t.Errorf("a day that is no date: %v", err)
	}
}

// TestZReportDayAcrossDST: a business day is midnight to midnight in the
// store's zone, 25 hours on the day daylight saving ends in Auckland (5
// April 2026) and 23 on the day it starts (27 September 2026).
func TestZReportDayAcrossDST(t *testing.T) {
	nz, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	nzt := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, nz) }
	for _, tc := range []struct {
		name     string
		day      string
		hours    float64
		in, out  []time.Time // sales made then are in the day, or not
		from, to time.Time   // the day's bounds in UTC
	}{
		{"daylight saving ends: 25 hours", "2026-04-05", 25,
			[]time.Time{nzt(4, 5, 0, 0), nzt(4, 5, 2, 30), nzt(4, 5, 2, 30).Add(time.Hour), nzt(4, 5, 23, 59)},
			[]time.Time{nzt(4, 4, 23, 59), nzt(4, 6, 0, 0)},
			time.Date(2026, 4, 4, 11, 0, 0, 0, time.UTC), time.Date(2026, 4, 5, 12, 0, 0, 0, time.UTC)},
		{"daylight saving starts: 23 hours", "2026-09-27", 23,
			[]time.Time{nzt(9, 27, 0, 0), nzt(9, 27, 1, 59), nzt(9, 27, 3, 0), nzt(9, 27, 23, 59)},
			[]time.Time{nzt(9, 26, 23, 59), nzt(9, 28, 0, 0)},
			time.Date(2026, 9, 26, 12, 0, 0, 0, time.UTC), time.Date(2026, 9, 27, 11, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sales []*pos.Sale
			for i, when := range append(append([]time.Time{}, tc.in...), tc.out...) {
				sales = append(sales, paidSale("s"+string(rune('a'+i)), "till-1", when, "centrapay.nzd.test", 100))
			}
			j := journalOf(t, sales, nil)
			z, err := pos.BuildZReport(context.Background(), j, pos.ZFilter{Day: tc.day, Location: nz}, "NZD", tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if !z.From.Equal(tc.from) || !z.To.Equal(tc.to) || z.To.Sub(z.From).Hours() != tc.hours {
				t.Errorf("[%v, %v), want [%v, %v): %v hours", z.From.UTC(), z.To.UTC(), tc.from, tc.to, tc.hours)
			}
			if z.Store.Payments != len(tc.in) || z.Store.Paid != pos.Cents(100*len(tc.in)) {
				t.Errorf("%d payments of %s, want %d", z.Store.Payments, z.Store.Paid, len(tc.in))
			}
			if z.TimeZone != "Pacific/Auckland" {
				t.Errorf("time zone %q", z.TimeZone)
			}
		})
	}
}

// TestZReportRefundNotComplete: a refund Centrapay accepted and has not
// completed is money given back (it cannot be taken back) and is listed
// as pending; one not answered yet is listed and not counted; a complete
// one is counted and not listed.
func TestZReportRefundNotComplete(t *testing.T) {
	wallet := paidSale("s1", "till-1", at(1, 0), "centrapay.nzd.test", 5000)
	j := journalOf(t, []*pos.Sale{wallet}, []*pos.Op{
		refund("rf_done", wallet, "till-1", at(2, 0), 1000, pos.OpSucceeded),
		accepted(refund("rf_accepted", wallet, "till-1", at(3, 0), 700, pos.OpPending)),
		refund("rf_sending", wallet, "till-1", at(4, 0), 300, pos.OpPending),
	})
	z, err := pos.BuildZReport(context.Background(), j, pos.ZFilter{Day: "2026-11-25", Location: time.UTC}, "NZD", at(23, 0))
	if err != nil {
		t.Fatal(err)
	}
	st := z.Store
	if st.Refunds != 2 || st.Refunded != 1700 || st.Net != 3300 {
		t.Errorf("refunds %d refunded %s net %s, want 2, 17.00, 33.00", st.Refunds, st.Refunded, st.Net)
	}
	var got []string
	for _, l := range st.RefundsPending {
		got = append(got, l.ID+":"+l.Status)
	}
	if strings.Join(got, " ") != "rf_accepted:pending rf_sending:sending" || st.PendingRefunds != 1000 {
		t.Errorf("refunds pending %v (%s), want rf_accepted:pending rf_sending:sending (10.00)", got, st.PendingRefunds)
	}
}

// TestZReportTenders: the rest of a part payment taken in cash is listed
// as a tender line and added up apart, never in Centrapay's figures.
func TestZReportTenders(t *testing.T) {
	part := paidSale("s1", "till-1", at(1, 0), "centrapay.nzd.test", 1000)
	part.Value, part.RemainingAmount = 1000, 500
	part.Tenders = []pos.Tender{{ID: "td_1", Method: pos.TenderCash, Amount: 500, TerminalID: "till-1", At: at(1, 5)}}
	j := journalOf(t, []*pos.Sale{part}, nil)
	z, err := pos.BuildZReport(context.Background(), j, pos.ZFilter{Day: "2026-11-25", Location: time.UTC}, "NZD", at(23, 0))
	if err != nil {
		t.Fatal(err)
	}
	st := z.Store
	if st.Paid != 1000 || st.Payments != 1 || st.Tenders != 1 || st.TakenOutside != 500 {
		t.Errorf("paid %s in %d, tenders %d taking %s: want Centrapay's 10.00 in 1, and 5.00 cash apart", st.Paid, st.Payments, st.Tenders, st.TakenOutside)
	}
	rep, err := pos.BuildReport(context.Background(), j, pos.ReportFilter{From: day, To: day.AddDate(0, 0, 1)}, "NZD")
	if err != nil {
		t.Fatal(err)
	}
	var tender *pos.Line
	for i, l := range rep.Payments {
		if l.Kind == pos.LineTender {
			tender = &rep.Payments[i]
		}
	}
	if tender == nil || tender.AssetType != "outside.cash" || tender.Amount != 500 || tender.SaleID != "s1" || tender.Description != "Cash, outside Centrapay" {
		t.Errorf("tender line %+v", tender)
	}
}
