package journaltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// Outbox runs the outbox's conformance suite: events written with their
// change and only with it, endpoints, fan-out, the order of deliveries,
// retries, giving up and redelivery. open returns a new, empty journal
// for each test, which must be a pos.Outbox too.
func Outbox(t *testing.T, open func(t *testing.T) pos.Journal) {
	tests := []struct {
		name string
		fn   func(t *testing.T, j pos.Journal, o pos.Outbox)
	}{
		{"events with their change", testEvents},
		{"endpoints", testEndpoints},
		{"fan-out when the event happens", testFanOut},
		{"deliveries in order per sale", testDue},
		{"give up and redeliver", testRedeliver},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := open(t)
			o, ok := j.(pos.Outbox)
			if !ok {
				t.Fatalf("%T is not a pos.Outbox", j)
			}
			tc.fn(t, j, o)
		})
	}
}

// types lists the types of a stream's events, checking their sequence
// numbers are 1, 2, 3 …
func types(t *testing.T, o pos.Outbox, stream string) string {
	t.Helper()
	evs, err := o.Events(context.Background(), pos.EventFilter{Stream: stream})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, e := range evs {
		if e.Sequence != int64(i+1) || e.Stream != stream {
			t.Errorf("event %d of %s: sequence %d stream %q", i, stream, e.Sequence, e.Stream)
		}
		out = append(out, string(e.Type))
	}
	return strings.Join(out, " ")
}

// mustSave saves c, bumping the version of a changed sale as the engine
// does.
func mustSave(t *testing.T, j pos.Journal, c *pos.Change) {
	t.Helper()
	if c.Sale != nil && !c.NewSale {
		c.Sale.Version++
	}
	if err := j.Save(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func testEvents(t *testing.T, j pos.Journal, o pos.Outbox) {
	ctx := context.Background()
	s := sale("s1", t0)
	mustSave(t, j, &pos.Change{Sale: s, NewSale: true, Note: "sale started"})
	s.Status, s.UpdatedAt = pos.StatusResolving, t0.Add(time.Second)
	mustSave(t, j, &pos.Change{Sale: s, Note: "unknown"})
	if got := types(t, o, "s1"); got != "" {
		t.Errorf("events of an open sale: %q", got)
	}
	s.Status, s.UpdatedAt = pos.StatusPaid, t0.Add(2*time.Second+1234567)
	s.PaidBy = []pos.Payment{{AssetType: "centrapay.nzd.test", Amount: 1000}}
	mustSave(t, j, &pos.Change{Sale: s, Note: "paid"})
	mustSave(t, j, &pos.Change{Sale: s, Note: "paid, polled again"}) // the same status: no event
	evs, err := o.Events(ctx, pos.EventFilter{Stream: "s1"})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events: %+v %v", evs, err)
	}
	paid := evs[0]
	var snap pos.Sale
	if err := json.Unmarshal(paid.Data, &snap); err != nil || snap.ID != "s1" || snap.Status != pos.StatusPaid || snap.Paid() != 1000 {
		t.Errorf("sale.paid data: %s %v", paid.Data, err)
	}
	if paid.Type != pos.EventSalePaid || !strings.HasPrefix(paid.ID, "evt_") || !paid.CreatedAt.Equal(t0.Add(2*time.Second+time.Millisecond)) {
		t.Errorf("sale.paid: %+v", paid)
	}
	if got, err := o.Event(ctx, paid.ID); err != nil || got.ID != paid.ID || string(got.Data) != string(paid.Data) || got.Sequence != 1 {
		t.Errorf("event by id: %+v %v", got, err)
	}
	if _, err := o.Event(ctx, "evt_nope"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("unknown event: %v", err)
	}

	// a refund: journaled, unknown (the same state again), succeeded
	rf := &pos.Op{ID: "rf1", SaleID: "s1", PaymentRequestID: "pr1", Kind: pos.OpRefund, Key: "rf1", Amount: 300, Currency: "NZD",
		State: pos.OpPending, CreatedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(time.Minute)}
	mustSave(t, j, &pos.Change{Ops: []*pos.Op{rf}})
	rf.Attempts, rf.UpdatedAt = 1, t0.Add(2*time.Minute)
	mustSave(t, j, &pos.Change{Ops: []*pos.Op{rf}})
	rf.State, rf.Attempts, rf.UpdatedAt = pos.OpSucceeded, 2, t0.Add(3*time.Minute)
	s.Refunded, s.UpdatedAt = 300, t0.Add(3*time.Minute)
	mustSave(t, j, &pos.Change{Sale: s, Note: "refunded", Ops: []*pos.Op{rf}})
	mustSave(t, j, &pos.Change{Ops: []*pos.Op{rf}}) // again: nothing new
	// other ops emit nothing
	mustSave(t, j, &pos.Change{Ops: []*pos.Op{{ID: "cf1", SaleID: "s1", Kind: pos.OpConfirm, State: pos.OpSucceeded, CreatedAt: t0}}})
	if got := types(t, o, "s1"); got != "sale.paid refund.pending refund.succeeded" {
		t.Errorf("events of s1: %q", got)
	}
	evs, _ = o.Events(ctx, pos.EventFilter{Stream: "s1"})
	var op pos.Op
	if err := json.Unmarshal(evs[2].Data, &op); err != nil || op.ID != "rf1" || op.State != pos.OpSucceeded || op.Amount != 300 {
		t.Errorf("refund.succeeded data: %s %v", evs[2].Data, err)
	}

	// a refund of a payment no sale of ours took is numbered by its request
	other := &pos.Op{ID: "rf2", PaymentRequestID: "pr-elsewhere", Kind: pos.OpRefund, Amount: 100, State: pos.OpPending, CreatedAt: t0, UpdatedAt: t0}
	mustSave(t, j, &pos.Change{Ops: []*pos.Op{other}})
	other.State, other.Error = pos.OpFailed, "REFUND_DECLINED"
	mustSave(t, j, &pos.Change{Ops: []*pos.Op{other}})
	if got := types(t, o, "pr:pr-elsewhere"); got != "refund.pending refund.failed" {
		t.Errorf("events of a refund with no sale: %q", got)
	}

	// a sale journaled final at once, and the other final statuses
	for i, st := range []pos.Status{pos.StatusCancelled, pos.StatusExpired, pos.StatusFailed} {
		f := sale(fmt.Sprintf("f%d", i), t0)
		f.Status = st
		mustSave(t, j, &pos.Change{Sale: f, NewSale: true, Note: "x"})
		if got := types(t, o, f.ID); got != "sale."+string(st) {
			t.Errorf("events of a sale journaled %s: %q", st, got)
		}
	}

	// a change that fails leaves no event
	all, _ := o.Events(ctx, pos.EventFilter{})
	dup := sale("s1", t0) // its id exists
	dup.Status, dup.ExternalRef = pos.StatusPaid, "another"
	if err := j.Save(ctx, &pos.Change{Sale: dup, NewSale: true, Note: "x"}); err == nil {
		t.Error("a duplicate sale was saved")
	}
	missing := sale("missing", t0)
	missing.Status = pos.StatusPaid
	if err := j.Save(ctx, &pos.Change{Sale: missing, Note: "x", Ops: []*pos.Op{{ID: "rf3", SaleID: "missing", Kind: pos.OpRefund,
		State: pos.OpPending, CreatedAt: t0}}}); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("change of a missing sale: %v", err)
	}
	if after, _ := o.Events(ctx, pos.EventFilter{}); len(after) != len(all) {
		t.Errorf("failed changes left %d events", len(after)-len(all))
	}
	if len(all) != 8 {
		t.Errorf("%d events in all, want 8", len(all))
	}
	ids := map[string]bool{}
	for _, e := range all {
		if ids[e.ID] {
			t.Errorf("event id %s twice", e.ID)
		}
		ids[e.ID] = true
	}
	if l, _ := o.Events(ctx, pos.EventFilter{Limit: 2}); len(l) != 2 || l[0].ID != all[0].ID {
		t.Errorf("limit: %+v", l)
	}
}

func testEndpoints(t *testing.T, j pos.Journal, o pos.Outbox) {
	ctx := context.Background()
	a := pos.Endpoint{ID: "we_a", URL: "https://erp.example/hooks", Events: []pos.EventType{pos.EventSalePaid, pos.EventRefundSucceeded},
		Secret: "whsec_a", Enabled: true, CreatedAt: t0}
	b := pos.Endpoint{ID: "we_b", URL: "http://10.0.0.5/in", Secret: "whsec_b", Enabled: true, CreatedAt: t0.Add(time.Second)}
	for _, e := range []pos.Endpoint{a, b} {
		if err := o.AddEndpoint(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.AddEndpoint(ctx, a); !errors.Is(err, pos.ErrDuplicate) {
		t.Errorf("an id again: %v", err)
	}
	got, err := o.Endpoint(ctx, "we_a")
	if err != nil || got.URL != a.URL || got.Secret != "whsec_a" || !got.Enabled || !got.CreatedAt.Equal(t0) ||
		len(got.Events) != 2 || got.Events[1] != pos.EventRefundSucceeded {
		t.Errorf("endpoint read back: %+v %v", got, err)
	}
	list, err := o.Endpoints(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "we_a" || list[1].Events != nil || list[1].Secret != "whsec_b" {
		t.Errorf("endpoints: %+v %v", list, err)
	}
	if err := o.SetEndpointEnabled(ctx, "we_b", false); err != nil {
		t.Fatal(err)
	}
	if got, _ := o.Endpoint(ctx, "we_b"); got == nil || got.Enabled {
		t.Errorf("disabled: %+v", got)
	}
	if err := o.SetEndpointEnabled(ctx, "we_nope", true); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("enable of nothing: %v", err)
	}
	if err := o.RemoveEndpoint(ctx, "we_a", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := o.RemoveEndpoint(ctx, "we_a", t0.Add(time.Hour)); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("second remove: %v", err)
	}
	if _, err := o.Endpoint(ctx, "we_a"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("a removed endpoint: %v", err)
	}
	if list, _ := o.Endpoints(ctx); len(list) != 1 || list[0].ID != "we_b" {
		t.Errorf("after the removal: %+v", list)
	}
	if err := o.SetEndpointEnabled(ctx, "we_a", true); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("enable of a removed endpoint: %v", err)
	}
}

// paidSale journals a new sale and its payment at at.
func paidSale(t *testing.T, j pos.Journal, id string, at time.Time) *pos.Sale {
	t.Helper()
	s := sale(id, at)
	mustSave(t, j, &pos.Change{Sale: s, NewSale: true, Note: "sale started"})
	s.Status, s.UpdatedAt = pos.StatusPaid, at
	mustSave(t, j, &pos.Change{Sale: s, Note: "paid"})
	return s
}

// refund journals a refund of s at at, in state st.
func refund(t *testing.T, j pos.Journal, s *pos.Sale, id string, st pos.OpState, at time.Time) {
	t.Helper()
	mustSave(t, j, &pos.Change{Ops: []*pos.Op{{ID: id, SaleID: s.ID, Kind: pos.OpRefund, Amount: 100, State: st, CreatedAt: at, UpdatedAt: at}}})
}

// dueList is "stream/sequence" of each delivery due, in order.
func dueList(t *testing.T, o pos.Outbox, endpoint string, now time.Time) string {
	t.Helper()
	due, err := o.Due(context.Background(), endpoint, now, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range due {
		if d.EndpointID != endpoint || d.State != pos.DeliveryPending {
			t.Errorf("due: %+v", d)
		}
		out = append(out, fmt.Sprintf("%s/%d", d.Stream, d.Sequence))
	}
	return strings.Join(out, " ")
}

func addEndpoints(t *testing.T, o pos.Outbox, eps ...pos.Endpoint) {
	t.Helper()
	for _, e := range eps {
		e.Secret, e.CreatedAt = "whsec_"+e.ID, t0
		if err := o.AddEndpoint(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func testFanOut(t *testing.T, j pos.Journal, o pos.Outbox) {
	ctx := context.Background()
	addEndpoints(t, o,
		pos.Endpoint{ID: "we_all", URL: "https://a.example/", Enabled: true},
		pos.Endpoint{ID: "we_paid", URL: "https://b.example/", Events: []pos.EventType{pos.EventSalePaid}, Enabled: true},
		pos.Endpoint{ID: "we_off", URL: "https://c.example/", Enabled: false})
	s := paidSale(t, j, "s1", t0)
	refund(t, j, s, "rf1", pos.OpPending, t0.Add(time.Second))
	count := func(endpoint string) int {
		l, err := o.Deliveries(ctx, pos.DeliveryFilter{EndpointID: endpoint})
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	if a, p, off := count("we_all"), count("we_paid"), count("we_off"); a != 2 || p != 1 || off != 0 {
		t.Errorf("deliveries: all %d (want 2), paid only %d (want 1), disabled %d (want 0)", a, p, off)
	}
	// endpoints are decided when the event happens: one added or enabled
	// later gets the events after it, not those before
	addEndpoints(t, o, pos.Endpoint{ID: "we_late", URL: "https://d.example/", Enabled: true})
	if err := o.SetEndpointEnabled(ctx, "we_off", true); err != nil {
		t.Fatal(err)
	}
	if n := count("we_late") + count("we_off"); n != 0 {
		t.Errorf("%d past events fanned out to later endpoints", n)
	}
	paidSale(t, j, "s2", t0.Add(time.Minute))
	for _, ep := range []string{"we_all", "we_paid", "we_off", "we_late"} {
		l, _ := o.Deliveries(ctx, pos.DeliveryFilter{EndpointID: ep, Limit: 1})
		if len(l) != 1 || l[0].Stream != "s2" || l[0].EventType != pos.EventSalePaid || l[0].State != pos.DeliveryPending ||
			l[0].Attempts != 0 || !l[0].NextAt.Equal(t0.Add(time.Minute)) || !l[0].ExpiresAt.Equal(t0.Add(time.Minute+pos.DeliveryWindow)) {
			t.Errorf("%s: newest delivery %+v", ep, l)
		}
	}
	if l, _ := o.Deliveries(ctx, pos.DeliveryFilter{EventID: "evt_nope"}); len(l) != 0 {
		t.Errorf("deliveries of no event: %+v", l)
	}
}

func testDue(t *testing.T, j pos.Journal, o pos.Outbox) {
	ctx := context.Background()
	addEndpoints(t, o, pos.Endpoint{ID: "we_a", URL: "https://a.example/", Enabled: true},
		pos.Endpoint{ID: "we_b", URL: "https://b.example/", Enabled: true})
	s1 := paidSale(t, j, "s1", t0)
	refund(t, j, s1, "rf1", pos.OpPending, t0.Add(time.Second))
	if got := dueList(t, o, "we_a", t0.Add(-time.Millisecond)); got != "" {
		t.Errorf("due before the event: %q", got)
	}
	if got := dueList(t, o, "we_a", t0.Add(time.Hour)); got != "s1/1" {
		t.Errorf("due: %q, want s1/1 alone (s1/2 waits for it)", got)
	}
	first := func(endpoint string) pos.Delivery {
		due, _ := o.Due(ctx, endpoint, t0.Add(time.Hour), 1)
		if len(due) != 1 {
			t.Fatalf("nothing due to %s", endpoint)
		}
		return due[0]
	}
	d := first("we_a")
	// a failed try: not due again until its next time, and s1/2 still waits
	at := t0.Add(2 * time.Second)
	if err := o.RecordAttempt(ctx, pos.Attempt{EventID: d.EventID, EndpointID: "we_a", At: at, Status: 500, Error: "HTTP 500",
		State: pos.DeliveryPending, NextAt: at.Add(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if got := dueList(t, o, "we_a", at.Add(9*time.Second)); got != "" {
		t.Errorf("due during the backoff: %q", got)
	}
	if got := dueList(t, o, "we_b", at); got != "s1/1" {
		t.Errorf("another endpoint is not held back: %q", got)
	}
	// another sale is not held back by s1
	paidSale(t, j, "s2", t0.Add(3*time.Second))
	if got := dueList(t, o, "we_a", t0.Add(5*time.Second)); got != "s2/1" {
		t.Errorf("due: %q, want s2/1", got)
	}
	if got := dueList(t, o, "we_a", at.Add(10*time.Second)); got != "s2/1 s1/1" {
		t.Errorf("due: %q, want s2/1 s1/1 (soonest first)", got)
	}
	l, _ := o.Deliveries(ctx, pos.DeliveryFilter{EventID: d.EventID, EndpointID: "we_a"})
	if len(l) != 1 || l[0].Attempts != 1 || l[0].LastStatus != 500 || l[0].LastError != "HTTP 500" || !l[0].LastAt.Equal(at) ||
		!l[0].NextAt.Equal(at.Add(10*time.Second)) {
		t.Errorf("after a failed try: %+v", l)
	}
	// it succeeds: s1/2 is due
	if err := o.RecordAttempt(ctx, pos.Attempt{EventID: d.EventID, EndpointID: "we_a", At: at.Add(10 * time.Second), Status: 200,
		State: pos.DeliverySucceeded, NextAt: at.Add(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if got := dueList(t, o, "we_a", at.Add(10*time.Second)); got != "s1/2 s2/1" {
		t.Errorf("due after s1/1 succeeded: %q", got)
	}
	if l, _ := o.Deliveries(ctx, pos.DeliveryFilter{EndpointID: "we_a", State: pos.DeliverySucceeded}); len(l) != 1 || l[0].Attempts != 2 || l[0].LastError != "" {
		t.Errorf("succeeded: %+v", l)
	}
	if l, _ := o.Deliveries(ctx, pos.DeliveryFilter{EndpointID: "we_a"}); len(l) != 3 || l[0].Stream != "s2" || l[2].Sequence != 1 {
		t.Errorf("the log, newest event first: %+v", l)
	}
	if err := o.RecordAttempt(ctx, pos.Attempt{EventID: "evt_nope", EndpointID: "we_a", At: at, State: pos.DeliveryPending, NextAt: at}); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("attempt of no delivery: %v", err)
	}
	if due, _ := o.Due(ctx, "we_a", at.Add(time.Hour), 1); len(due) != 1 {
		t.Errorf("limit: %d due", len(due))
	}
}

func testRedeliver(t *testing.T, j pos.Journal, o pos.Outbox) {
	ctx := context.Background()
	addEndpoints(t, o, pos.Endpoint{ID: "we_a", URL: "https://a.example/", Enabled: true},
		pos.Endpoint{ID: "we_paid", URL: "https://b.example/", Events: []pos.EventType{pos.EventSalePaid}, Enabled: true})
	s := paidSale(t, j, "s1", t0)
	refund(t, j, s, "rf1", pos.OpPending, t0.Add(time.Second))
	refund(t, j, s, "rf2", pos.OpPending, t0.Add(2*time.Second))
	evs, _ := o.Events(ctx, pos.EventFilter{Stream: "s1"})
	if len(evs) != 3 {
		t.Fatalf("events: %+v", evs)
	}
	later := t0.Add(pos.DeliveryWindow + time.Hour)
	// s1/1 is given up: the later events are no longer held back by it
	if err := o.RecordAttempt(ctx, pos.Attempt{EventID: evs[0].ID, EndpointID: "we_a", At: later, Error: "no answer within 10s",
		State: pos.DeliveryFailed, NextAt: later}); err != nil {
		t.Fatal(err)
	}
	if got := dueList(t, o, "we_a", later); got != "s1/2" {
		t.Errorf("due after s1/1 was given up: %q", got)
	}
	if l, _ := o.Deliveries(ctx, pos.DeliveryFilter{State: pos.DeliveryFailed}); len(l) != 1 || l[0].EventID != evs[0].ID {
		t.Errorf("failed: %+v", l)
	}
	// redelivered by hand (to both endpoints that had it): pending, with
	// a new window, and first again
	at := later.Add(time.Minute)
	if n, err := o.Redeliver(ctx, evs[0].ID, "", at); err != nil || n != 2 {
		t.Fatalf("redeliver: %d %v", n, err)
	}
	l, _ := o.Deliveries(ctx, pos.DeliveryFilter{EventID: evs[0].ID, EndpointID: "we_a"})
	if len(l) != 1 || l[0].State != pos.DeliveryPending || !l[0].NextAt.Equal(at) || !l[0].ExpiresAt.Equal(at.Add(pos.DeliveryWindow)) || l[0].Attempts != 1 {
		t.Errorf("redelivered: %+v", l)
	}
	if got := dueList(t, o, "we_a", at); got != "s1/1" {
		t.Errorf("due after the redelivery: %q", got)
	}
	// to an endpoint that never had it: added
	if n, err := o.Redeliver(ctx, evs[1].ID, "we_paid", at); err != nil || n != 1 {
		t.Errorf("redeliver to another endpoint: %d %v", n, err)
	}
	if l, _ := o.Deliveries(ctx, pos.DeliveryFilter{EventID: evs[1].ID}); len(l) != 2 {
		t.Errorf("deliveries of s1/2: %+v", l)
	}
	if _, err := o.Redeliver(ctx, "evt_nope", "", at); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("redeliver of no event: %v", err)
	}
	if _, err := o.Redeliver(ctx, evs[0].ID, "we_nope", at); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("redeliver to no endpoint: %v", err)
	}
	// a removed endpoint's pending deliveries are given up, and it gets
	// no redelivery
	if err := o.RemoveEndpoint(ctx, "we_a", at); err != nil {
		t.Fatal(err)
	}
	if got := dueList(t, o, "we_a", at.Add(time.Hour)); got != "" {
		t.Errorf("due to a removed endpoint: %q", got)
	}
	for _, d := range mustDeliveries(t, o, pos.DeliveryFilter{EndpointID: "we_a"}) {
		if d.State == pos.DeliveryPending {
			t.Errorf("pending after the removal: %+v", d)
		}
	}
	// a try in flight during the removal does not bring its delivery back
	if err := o.RecordAttempt(ctx, pos.Attempt{EventID: evs[0].ID, EndpointID: "we_a", At: at, Status: 500, Error: "HTTP 500",
		State: pos.DeliveryPending, NextAt: at.Add(time.Minute)}); err != nil {
		t.Errorf("a try recorded after the removal: %v", err)
	}
	if l := mustDeliveries(t, o, pos.DeliveryFilter{EndpointID: "we_a", EventID: evs[0].ID}); len(l) != 1 || l[0].State != pos.DeliveryFailed ||
		l[0].LastError != "the endpoint was removed" {
		t.Errorf("after a late try: %+v", l)
	}
	if _, err := o.Redeliver(ctx, evs[0].ID, "we_a", at); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("redeliver to a removed endpoint: %v", err)
	}
	if n, err := o.Redeliver(ctx, evs[0].ID, "", at); err != nil || n != 1 {
		t.Errorf("redeliver to every live endpoint: %d %v (want we_paid alone)", n, err)
	}
}

func mustDeliveries(t *testing.T, o pos.Outbox, f pos.DeliveryFilter) []pos.Delivery {
	t.Helper()
	l, err := o.Deliveries(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// checkEvents is the crash test's check of the outbox, for a journal
// that has one: each sale has exactly one event per change into a final
// status (its history says which), each refund exactly one event per
// state it was journaled in, numbered 1, 2, 3 … per sale — nothing lost,
// nothing twice, whatever instant the process died at.
func checkEvents(t *testing.T, j pos.Journal, sales []*pos.Sale) {
	t.Helper()
	o, ok := j.(pos.Outbox)
	if !ok {
		return
	}
	ctx := context.Background()
	for _, s := range sales {
		h, err := j.History(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		prev := pos.Status("")
		for _, e := range h {
			if e.Status.Final() && e.Status != prev {
				want = append(want, "sale."+string(e.Status))
			}
			prev = e.Status
		}
		ops, err := j.Ops(ctx, pos.OpFilter{SaleID: s.ID, Kind: pos.OpRefund})
		if err != nil {
			t.Fatal(err)
		}
		refunds := map[string]int{}
		for _, op := range ops {
			refunds["refund.pending"]++
			if op.State != pos.OpPending {
				refunds["refund."+string(op.State)]++
			}
			if op.RefundStatus() == pos.RefundCompleted {
				refunds["refund.completed"]++
			}
		}
		evs, err := o.Events(ctx, pos.EventFilter{Stream: s.ID})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, e := range evs {
			if e.Sequence != int64(i+1) {
				t.Errorf("sale %s: event %d numbered %d", s.ExternalRef, i+1, e.Sequence)
			}
			if strings.HasPrefix(string(e.Type), "refund.") {
				refunds[string(e.Type)]--
				continue
			}
			got = append(got, string(e.Type))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("sale %s: sale events %q, its history says %q", s.ExternalRef, got, want)
		}
		for typ, n := range refunds {
			if n != 0 {
				t.Errorf("sale %s: %d %s events missing (negative: too many)", s.ExternalRef, n, typ)
			}
		}
	}
}
