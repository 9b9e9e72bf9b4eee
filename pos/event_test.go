package pos_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/sqlite"
)

func TestEventsFor(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 0, 0, 123456789, time.UTC)
	sale := func(st pos.Status) *pos.Sale {
		return &pos.Sale{ID: "s1", Status: st, Value: 1000, Currency: "NZD", UpdatedAt: at}
	}
	refund := func(st pos.OpState) *pos.Op {
		return &pos.Op{ID: "rf1", SaleID: "s1", Kind: pos.OpRefund, Amount: 300, State: st, UpdatedAt: at}
	}
	completed := refund(pos.OpSucceeded)
	completed.CompletedAt = at
	known := func(st pos.RefundStatus) map[string]pos.RefundStatus { return map[string]pos.RefundStatus{"rf1": st} }
	cases := []struct {
		name   string
		before pos.Before
		change *pos.Change
		want   string // "type@stream …"
	}{
		{"new pending sale", pos.Before{}, &pos.Change{Sale: sale(pos.StatusPending), NewSale: true}, ""},
		{"pending to resolving", pos.Before{Status: pos.StatusPending}, &pos.Change{Sale: sale(pos.StatusResolving)}, ""},
		{"pending to paid", pos.Before{Status: pos.StatusPending}, &pos.Change{Sale: sale(pos.StatusPaid)}, "sale.paid@s1"},
		{"resolving to paid", pos.Before{Status: pos.StatusResolving}, &pos.Change{Sale: sale(pos.StatusPaid)}, "sale.paid@s1"},
		{"paid again", pos.Before{Status: pos.StatusPaid}, &pos.Change{Sale: sale(pos.StatusPaid)}, ""},
		{"pending to cancelled", pos.Before{Status: pos.StatusPending}, &pos.Change{Sale: sale(pos.StatusCancelled)}, "sale.cancelled@s1"},
		{"pending to expired", pos.Before{Status: pos.StatusPending}, &pos.Change{Sale: sale(pos.StatusExpired)}, "sale.expired@s1"},
		{"pending to failed", pos.Before{Status: pos.StatusPending}, &pos.Change{Sale: sale(pos.StatusFailed)}, "sale.failed@s1"},
		{"new sale, failed at once", pos.Before{}, &pos.Change{Sale: sale(pos.StatusFailed), NewSale: true}, "sale.failed@s1"},
		{"paid, then cancelled by a void", pos.Before{Status: pos.StatusPaid}, &pos.Change{Sale: sale(pos.StatusCancelled)}, "sale.cancelled@s1"},
		{"voiding: a void op, the sale still pending", pos.Before{Status: pos.StatusPending},
			&pos.Change{Sale: sale(pos.StatusPending), Ops: []*pos.Op{{ID: "v1", SaleID: "s1", Kind: pos.OpVoid, State: pos.OpPending}}}, ""},
		{"void succeeded: cancelled", pos.Before{Status: pos.StatusPending},
			&pos.Change{Sale: sale(pos.StatusCancelled), Ops: []*pos.Op{{ID: "v1", SaleID: "s1", Kind: pos.OpVoid, State: pos.OpSucceeded}}}, "sale.cancelled@s1"},
		{"refund journaled", pos.Before{}, &pos.Change{Ops: []*pos.Op{refund(pos.OpPending)}}, "refund.pending@s1"},
		{"refund unknown, journaled again", pos.Before{Ops: known(pos.RefundSending)}, &pos.Change{Ops: []*pos.Op{refund(pos.OpPending)}}, ""},
		{"refund succeeded, with its sale", pos.Before{Status: pos.StatusPaid, Ops: known(pos.RefundSending)},
			&pos.Change{Sale: sale(pos.StatusPaid), Ops: []*pos.Op{refund(pos.OpSucceeded)}}, "refund.succeeded@s1"},
		{"refund failed", pos.Before{Ops: known(pos.RefundSending)}, &pos.Change{Ops: []*pos.Op{refund(pos.OpFailed)}}, "refund.failed@s1"},
		{"refund succeeded again", pos.Before{Ops: known(pos.RefundPending)}, &pos.Change{Ops: []*pos.Op{refund(pos.OpSucceeded)}}, ""},
		{"a succeeded refund never goes back to pending", pos.Before{Ops: known(pos.RefundPending)}, &pos.Change{Ops: []*pos.Op{refund(pos.OpPending)}}, ""},
		{"refund completed", pos.Before{Ops: known(pos.RefundPending)}, &pos.Change{Ops: []*pos.Op{completed}}, "refund.completed@s1"},
		{"refund completed again", pos.Before{Ops: known(pos.RefundCompleted)}, &pos.Change{Ops: []*pos.Op{completed}}, ""},
		{"refund accepted and completed in one change", pos.Before{Ops: known(pos.RefundSending)}, &pos.Change{Ops: []*pos.Op{completed}},
			"refund.succeeded@s1 refund.completed@s1"},
		{"refund of a payment no sale took", pos.Before{},
			&pos.Change{Ops: []*pos.Op{{ID: "rf9", PaymentRequestID: "pr9", Kind: pos.OpRefund, State: pos.OpPending}}}, "refund.pending@pr:pr9"},
		{"confirm and release emit nothing", pos.Before{Status: pos.StatusPaid}, &pos.Change{Sale: sale(pos.StatusPaid), Ops: []*pos.Op{
			{ID: "c1", SaleID: "s1", Kind: pos.OpConfirm, State: pos.OpSucceeded}, {ID: "r1", SaleID: "s1", Kind: pos.OpRelease, State: pos.OpSucceeded}}}, ""},
		{"sale first, then refunds in order", pos.Before{Status: pos.StatusPending}, &pos.Change{Sale: sale(pos.StatusPaid), Ops: []*pos.Op{
			refund(pos.OpPending), {ID: "rf2", SaleID: "s1", Kind: pos.OpRefund, State: pos.OpFailed}}},
			"sale.paid@s1 refund.pending@s1 refund.failed@s1"},
		{"no sale, no ops", pos.Before{}, &pos.Change{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := pos.EventsFor(tc.before, tc.change)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range evs {
				got = append(got, string(e.Type)+"@"+e.Stream)
				if !e.CreatedAt.Equal(at.Truncate(time.Millisecond)) && !e.CreatedAt.IsZero() {
					t.Errorf("%s at %v, want the change's time to the millisecond", e.Type, e.CreatedAt)
				}
				if e.ID != "" || e.Sequence != 0 {
					t.Errorf("%s: id %q sequence %d: the journal gives them", e.Type, e.ID, e.Sequence)
				}
				var data struct {
					ID string `json:"id"`
				}
				if err := json.Unmarshal(e.Data, &data); err != nil || data.ID == "" {
					t.Errorf("%s data %s: %v", e.Type, e.Data, err)
				}
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("events %q, want %q", g, tc.want)
			}
		})
	}
}

func TestEventTypes(t *testing.T) {
	for _, typ := range pos.EventTypes {
		if !typ.Valid() {
			t.Errorf("%s is not valid", typ)
		}
	}
	if pos.EventType("sale.refunded").Valid() {
		t.Error("sale.refunded is valid")
	}
	got, err := pos.ParseEventTypes(" sale.paid,refund.succeeded ,,")
	if err != nil || len(got) != 2 || got[1] != pos.EventRefundSucceeded {
		t.Errorf("parse: %v %v", got, err)
	}
	if got, err := pos.ParseEventTypes("sale.paid,*"); err != nil || got != nil {
		t.Errorf("*: %v %v, want every type (nil)", got, err)
	}
	if _, err := pos.ParseEventTypes("sale.paid,sale.refunded"); err == nil || !strings.Contains(err.Error(), "sale.refunded") {
		t.Errorf("an unknown type: %v", err)
	}
	e := pos.Endpoint{Events: []pos.EventType{pos.EventSalePaid}}
	if !e.Wants(pos.EventSalePaid) || e.Wants(pos.EventRefundFailed) || !(&pos.Endpoint{}).Wants(pos.EventRefundFailed) {
		t.Error("Wants")
	}
}

func TestAddEndpoint(t *testing.T) {
	ctx := t.Context()
	j, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	e, err := pos.AddEndpoint(ctx, j, "https://erp.example/in?k=1", []pos.EventType{pos.EventSalePaid, pos.EventSalePaid})
	if err != nil || !strings.HasPrefix(e.ID, "we_") || !strings.HasPrefix(e.Secret, "whsec_") || len(e.Secret) != 6+48 ||
		!e.Enabled || len(e.Events) != 1 {
		t.Fatalf("%+v %v", e, err)
	}
	if got, err := j.Endpoint(ctx, e.ID); err != nil || got.Secret != e.Secret {
		t.Errorf("kept: %+v %v", got, err)
	}
	all, err := pos.AddEndpoint(ctx, j, "http://10.0.0.5:8000/", []pos.EventType{pos.EventRefundFailed, "*"})
	if err != nil || all.Events != nil || all.Secret == e.Secret {
		t.Errorf("every type: %+v %v", all, err)
	}
	for _, bad := range []string{"", "erp.example/in", "ftp://erp.example/", "https://", "https://user:pw@erp.example/", "https://erp.example/\n"} {
		if _, err := pos.AddEndpoint(ctx, j, bad, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := pos.AddEndpoint(ctx, j, "https://erp.example/", []pos.EventType{"sale.refunded"}); err == nil {
		t.Error("an unknown type accepted")
	}
}
