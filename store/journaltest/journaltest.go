// Package journaltest is the conformance suite every pos.Journal must
// pass: store/sqlite runs it, and so must any other journal.
package journaltest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// Run runs the suite; open returns a new, empty journal for each test.
func Run(t *testing.T, open func(t *testing.T) pos.Journal) {
	tests := []struct {
		name string
		fn   func(t *testing.T, j pos.Journal)
	}{
		{"sales", testSales},
		{"find", testFind},
		{"filters", testFilters},
		{"ops", testOps},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func sale(id string, at time.Time) *pos.Sale {
	return &pos.Sale{ID: id, TerminalID: "till-1", ExternalRef: "ref-" + id, Value: 1000, Currency: "NZD",
		Status: pos.StatusPending, CreatedAt: at, UpdatedAt: at}
}

func testSales(t *testing.T, j pos.Journal) {
	ctx := context.Background()
	s := sale("s1", t0)
	if err := j.CreateSale(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := j.CreateSale(ctx, s); !errors.Is(err, pos.ErrDuplicate) {
		t.Errorf("second create: %v, want ErrDuplicate", err)
	}
	if _, err := j.Sale(ctx, "nope"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("unknown sale: %v", err)
	}
	if err := j.SaveSale(ctx, sale("nope", t0), "x"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("save of an unknown sale: %v", err)
	}
	s.Status = pos.StatusPaid
	s.PaymentRequest = &pos.PaymentRequest{ID: "pr1", ShortCode: "CP-AAA-AB"}
	s.PaidBy = []pos.Payment{{AssetType: "centrapay.nzd.test", Description: "wallet", Amount: 1000}}
	s.UpdatedAt = t0.Add(time.Second)
	if err := j.SaveSale(ctx, s, "paid"); err != nil {
		t.Fatal(err)
	}
	got, err := j.Sale(ctx, "s1")
	if err != nil || got.Status != pos.StatusPaid || got.PaymentRequest.ID != "pr1" || got.Paid() != 1000 || !got.CreatedAt.Equal(t0) {
		t.Errorf("read back %+v %v", got, err)
	}
	h, err := j.History(ctx, "s1")
	if err != nil || len(h) != 2 || h[0].Status != pos.StatusPending || h[1].Note != "paid" || !h[1].At.Equal(t0.Add(time.Second)) {
		t.Errorf("history %+v %v", h, err)
	}
	if ok, _ := j.KnownRequest(ctx, "pr1"); !ok {
		t.Error("pr1 is held by a sale")
	}
	if ok, _ := j.KnownRequest(ctx, "pr2"); ok {
		t.Error("pr2 is held by nothing")
	}
}

func testFind(t *testing.T, j pos.Journal) {
	ctx := context.Background()
	for i, id := range []string{"a", "b"} {
		s := sale(id, t0.Add(time.Duration(i)*time.Minute))
		s.ExternalRef = "same"
		s.PaymentRequest = &pos.PaymentRequest{ID: "pr-" + id, ShortCode: "CP-" + id}
		if err := j.CreateSale(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for name, q := range map[string]pos.SaleQuery{"externalRef": {ExternalRef: "same"}, "request": {PaymentRequestID: "pr-b"}, "short code": {ShortCode: "CP-b"}} {
		if got, err := j.FindSale(ctx, q); err != nil || got.ID != "b" {
			t.Errorf("find by %s: %v %v, want the newest, b", name, got, err)
		}
	}
	if _, err := j.FindSale(ctx, pos.SaleQuery{ShortCode: "CP-z"}); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("find of nothing: %v", err)
	}
}

func testFilters(t *testing.T, j pos.Journal) {
	ctx := context.Background()
	statuses := []pos.Status{pos.StatusPaid, pos.StatusPending, pos.StatusCancelled, pos.StatusResolving}
	for i, st := range statuses {
		s := sale(string(rune('a'+i)), t0.Add(time.Duration(i)*time.Hour))
		s.Status = st
		if i%2 == 1 {
			s.TerminalID = "till-2"
		}
		if err := j.CreateSale(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(f pos.SaleFilter) string {
		list, err := j.Sales(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, s := range list {
			out += s.ID
		}
		return out
	}
	cases := map[string]struct {
		f    pos.SaleFilter
		want string
	}{
		"all, newest first": {pos.SaleFilter{}, "dcba"},
		"open":              {pos.SaleFilter{Open: true}, "db"},
		"terminal":          {pos.SaleFilter{TerminalID: "till-2"}, "db"},
		"status":            {pos.SaleFilter{Status: pos.StatusPaid}, "a"},
		"period":            {pos.SaleFilter{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}, "cb"},
		"limit":             {pos.SaleFilter{Limit: 1}, "d"},
	}
	for name, tc := range cases {
		if got := ids(tc.f); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}

func testOps(t *testing.T, j pos.Journal) {
	ctx := context.Background()
	op := &pos.Op{ID: "op1", SaleID: "s1", Kind: pos.OpRefund, Key: "op1", Amount: 300, State: pos.OpPending, TerminalID: "till-1", CreatedAt: t0}
	if err := j.SaveOp(ctx, op); err != nil {
		t.Fatal(err)
	}
	create := &pos.Op{ID: "op2", SaleID: "s1", Kind: pos.OpCreate, PaymentRequestID: "pr9", State: pos.OpSucceeded, CreatedAt: t0.Add(time.Second)}
	if err := j.SaveOp(ctx, create); err != nil {
		t.Fatal(err)
	}
	if list, _ := j.Ops(ctx, pos.OpFilter{Pending: true}); len(list) != 1 || list[0].ID != "op1" {
		t.Errorf("pending ops: %+v", list)
	}
	op.State, op.ActivityID = pos.OpSucceeded, "act1"
	if err := j.SaveOp(ctx, op); err != nil {
		t.Fatal(err)
	}
	got, err := j.Op(ctx, "op1")
	if err != nil || got.State != pos.OpSucceeded || got.ActivityID != "act1" || got.Amount != 300 {
		t.Errorf("op read back %+v %v", got, err)
	}
	if list, _ := j.Ops(ctx, pos.OpFilter{Pending: true}); len(list) != 0 {
		t.Errorf("pending after success: %+v", list)
	}
	if list, _ := j.Ops(ctx, pos.OpFilter{SaleID: "s1"}); len(list) != 2 || list[0].ID != "op1" {
		t.Errorf("ops of s1, oldest first: %+v", list)
	}
	if list, _ := j.Ops(ctx, pos.OpFilter{Kind: pos.OpRefund, From: t0, To: t0.Add(time.Millisecond)}); len(list) != 1 {
		t.Errorf("refunds in period: %+v", list)
	}
	if ok, _ := j.KnownRequest(ctx, "pr9"); !ok {
		t.Error("a create op holds pr9")
	}
	if _, err := j.Op(ctx, "nope"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("unknown op: %v", err)
	}
}
