// Package journaltest is the conformance suite every pos.Journal must
// pass: store/sqlite runs it, and so must any other journal.
package journaltest

import (
	"context"
	"errors"
	"strings"
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
		{"change is all or nothing", testAtomic},
		{"updates are conditional on the version", testStale},
		{"one open sale per externalRef", testOpenRef},
		{"idempotency keys", testKeys},
		{"terminals", testTerminals},
		{"token rotation", testTokenRotation},
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

// createSale, saveSale and saveOp are one-record changes; saveSale
// bumps the sale's version, as the engine does at every change.
func createSale(ctx context.Context, j pos.Journal, s *pos.Sale) error {
	return j.Save(ctx, &pos.Change{Sale: s, NewSale: true, Note: "sale started"})
}

func saveSale(ctx context.Context, j pos.Journal, s *pos.Sale, note string) error {
	s.Version++
	err := j.Save(ctx, &pos.Change{Sale: s, Note: note})
	if err != nil {
		s.Version--
	}
	return err
}

func saveOp(ctx context.Context, j pos.Journal, op *pos.Op) error {
	return j.Save(ctx, &pos.Change{Ops: []*pos.Op{op}})
}

func testSales(t *testing.T, j pos.Journal) {
	ctx := context.Background()
	s := sale("s1", t0)
	if err := createSale(ctx, j, s); err != nil {
		t.Fatal(err)
	}
	if err := createSale(ctx, j, s); !errors.Is(err, pos.ErrDuplicate) && !errors.Is(err, pos.ErrOpenExternalRef) {
		t.Errorf("second create: %v, want ErrDuplicate", err)
	}
	if _, err := j.Sale(ctx, "nope"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("unknown sale: %v", err)
	}
	if err := saveSale(ctx, j, sale("nope", t0), "x"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("save of an unknown sale: %v", err)
	}
	s.Status = pos.StatusPaid
	s.PaymentRequest = &pos.PaymentRequest{ID: "pr1", ShortCode: "CP-AAA-AB"}
	s.PaidBy = []pos.Payment{{AssetType: "centrapay.nzd.test", Description: "wallet", Amount: 1000}}
	s.UpdatedAt = t0.Add(time.Second)
	if err := saveSale(ctx, j, s, "paid"); err != nil {
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
		if id == "a" {
			s.Status = pos.StatusPaid // one open sale per reference
		}
		s.PaymentRequest = &pos.PaymentRequest{ID: "pr-" + id, ShortCode: "CP-" + id}
		if err := createSale(ctx, j, s); err != nil {
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
		if err := createSale(ctx, j, s); err != nil {
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
	// paging: three more sales at c's time, so that ties on created_at
	// are broken by id, descending; pages of 2 after each last id seen
	// list every sale once, in the order of one listing
	for _, id := range []string{"c1", "c2", "c3"} {
		if err := createSale(ctx, j, sale(id, t0.Add(2*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := ids(pos.SaleFilter{}), "dc3c2c1cba"; got != want {
		t.Errorf("all, ties newest journaled first: %q, want %q", got, want)
	}
	var paged string
	f := pos.SaleFilter{Limit: 2}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		list, err := j.Sales(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			break
		}
		for _, s := range list {
			paged += s.ID
		}
		last := list[len(list)-1]
		f.After = last.ID
	}
	if paged != "dc3c2c1cba" {
		t.Errorf("paged by 2: %q, want %q", paged, "dc3c2c1cba")
	}
	if got := ids(pos.SaleFilter{TerminalID: "till-2", After: "d"}); got != "b" {
		t.Errorf("after d on till-2: %q, want %q", got, "b")
	}
}

func testOps(t *testing.T, j pos.Journal) {
	ctx := context.Background()
	op := &pos.Op{ID: "op1", SaleID: "s1", Kind: pos.OpRefund, Key: "op1", Amount: 300, State: pos.OpPending, TerminalID: "till-1", CreatedAt: t0}
	if err := saveOp(ctx, j, op); err != nil {
		t.Fatal(err)
	}
	create := &pos.Op{ID: "op2", SaleID: "s1", Kind: pos.OpCreate, PaymentRequestID: "pr9", State: pos.OpSucceeded, CreatedAt: t0.Add(time.Second)}
	if err := saveOp(ctx, j, create); err != nil {
		t.Fatal(err)
	}
	if list, _ := j.Ops(ctx, pos.OpFilter{Pending: true}); len(list) != 1 || list[0].ID != "op1" {
		t.Errorf("pending ops: %+v", list)
	}
	op.State, op.ActivityID = pos.OpSucceeded, "act1"
	if err := saveOp(ctx, j, op); err != nil {
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
	// a refund accepted and not complete is incomplete; complete, it is not
	incomplete := func() string {
		list, err := j.Ops(ctx, pos.OpFilter{Incomplete: true})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, o := range list {
			ids = append(ids, o.ID)
		}
		return strings.Join(ids, " ")
	}
	if got := incomplete(); got != "op1" {
		t.Errorf("incomplete refunds %q, want op1 (accepted, not complete; the create is no refund)", got)
	}
	op.PaymentRequestID = "pr7"
	op.CompletedAt = t0.Add(time.Minute)
	if err := saveOp(ctx, j, op); err != nil {
		t.Fatal(err)
	}
	if got := incomplete(); got != "" {
		t.Errorf("incomplete refunds %q after completion, want none", got)
	}
	if got, err := j.Op(ctx, "op1"); err != nil || !got.CompletedAt.Equal(op.CompletedAt) {
		t.Errorf("completedAt read back %+v %v", got, err)
	}
	if list, _ := j.Ops(ctx, pos.OpFilter{PaymentRequestID: "pr7"}); len(list) != 1 || list[0].ID != "op1" {
		t.Errorf("ops of request pr7: %+v", list)
	}
	if ok, _ := j.KnownRequest(ctx, "pr9"); !ok {
		t.Error("a create op holds pr9")
	}
	if _, err := j.Op(ctx, "nope"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("unknown op: %v", err)
	}
}

// testAtomic: a change that fails at its last write leaves nothing of
// itself, not even its first write (the till's key).
func testAtomic(t *testing.T, j pos.Journal) {
	ctx := context.Background()
	if err := createSale(ctx, j, sale("open", t0)); err != nil {
		t.Fatal(err)
	}
	clash := sale("clash", t0)
	clash.ExternalRef = "ref-open" // held by the open sale
	op := &pos.Op{ID: "op-clash", SaleID: "clash", Kind: pos.OpCreate, State: pos.OpPending, CreatedAt: t0}
	key := &pos.KeyedRequest{TerminalID: "till-1", Key: "k1", RequestHash: "h1", SaleID: "clash", CreatedAt: t0}
	err := j.Save(ctx, &pos.Change{Sale: clash, NewSale: true, Note: "sale started", Ops: []*pos.Op{op}, Key: key})
	if !errors.Is(err, pos.ErrOpenExternalRef) {
		t.Fatalf("clashing sale: %v, want ErrOpenExternalRef", err)
	}
	if _, err := j.Keyed(ctx, "till-1", "k1"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("the failed change's key was kept: %v", err)
	}
	if _, err := j.Op(ctx, "op-clash"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("the failed change's op was kept: %v", err)
	}
	// an op and the sale it changes are saved together
	s, _ := j.Sale(ctx, "open")
	s.Refunded = 300
	refund := &pos.Op{ID: "rf1", SaleID: "open", Kind: pos.OpRefund, State: pos.OpSucceeded, Amount: 300, CreatedAt: t0}
	s.Version++
	if err := j.Save(ctx, &pos.Change{Sale: s, Note: "refunded", Ops: []*pos.Op{refund}}); err != nil {
		t.Fatal(err)
	}
	missing := sale("missing", t0)
	if err := j.Save(ctx, &pos.Change{Sale: missing, Note: "x", Ops: []*pos.Op{{ID: "rf2", Kind: pos.OpRefund, State: pos.OpPending, CreatedAt: t0}}}); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("change of a missing sale: %v", err)
	}
	if _, err := j.Op(ctx, "rf2"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("the op of a failed change was kept: %v", err)
	}
	if got, _ := j.Sale(ctx, "open"); got.Refunded != 300 {
		t.Errorf("refunded %d", got.Refunded)
	}
}

// testOpenRef: two open sales may not share an externalRef; once the
// first is final, the reference may be used again.
func testOpenRef(t *testing.T, j pos.Journal) {
	ctx := context.Background()
	first := sale("first", t0)
	first.ExternalRef = "R-1"
	if err := createSale(ctx, j, first); err != nil {
		t.Fatal(err)
	}
	second := sale("second", t0.Add(time.Second))
	second.ExternalRef = "R-1"
	if err := createSale(ctx, j, second); !errors.Is(err, pos.ErrOpenExternalRef) {
		t.Fatalf("second open sale: %v, want ErrOpenExternalRef", err)
	}
	if err := createSale(ctx, j, first); !errors.Is(err, pos.ErrDuplicate) && !errors.Is(err, pos.ErrOpenExternalRef) {
		t.Errorf("same sale twice: %v", err)
	}
	first.Status = pos.StatusCancelled
	if err := saveSale(ctx, j, first, "cancelled"); err != nil {
		t.Fatal(err)
	}
	if err := createSale(ctx, j, second); err != nil {
		t.Errorf("after the first is final: %v", err)
	}
	// and the constraint holds when the final sale would open again
	first.Status = pos.StatusPending
	if err := saveSale(ctx, j, first, "reopened"); err == nil {
		t.Error("two open sales with one reference after an update")
	}
}

// testKeys: a key is recorded with the intent it starts, its answer
// added once, a second record refused, old keys purged.
func testKeys(t *testing.T, j pos.Journal) {
	ctx := context.Background()
	s := sale("s1", t0)
	key := &pos.KeyedRequest{TerminalID: "till-1", Key: "k1", RequestHash: "h1", SaleID: "s1", CreatedAt: t0}
	if err := j.Save(ctx, &pos.Change{Sale: s, NewSale: true, Note: "sale started", Key: key}); err != nil {
		t.Fatal(err)
	}
	got, err := j.Keyed(ctx, "till-1", "k1")
	if err != nil || got.SaleID != "s1" || got.RequestHash != "h1" || got.Answered() || !got.Started() || !got.CreatedAt.Equal(t0) {
		t.Fatalf("key read back %+v %v", got, err)
	}
	if _, err := j.Keyed(ctx, "till-2", "k1"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("keys are per terminal: %v", err)
	}
	again := *key
	again.SaleID = "s2"
	if err := j.Save(ctx, &pos.Change{Sale: sale("s2", t0), NewSale: true, Note: "x", Key: &again}); !errors.Is(err, pos.ErrKeyUsed) {
		t.Errorf("second record of a key: %v, want ErrKeyUsed", err)
	}
	if _, err := j.Sale(ctx, "s2"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("the sale of a refused key was saved: %v", err)
	}
	answer := *key
	answer.Status, answer.Body = 201, []byte(`{"id":"s1"}`)
	if err := j.SaveAnswer(ctx, &answer); err != nil {
		t.Fatal(err)
	}
	second := answer
	second.Status, second.Body = 500, []byte("later")
	if err := j.SaveAnswer(ctx, &second); err != nil {
		t.Fatal(err)
	}
	got, err = j.Keyed(ctx, "till-1", "k1")
	if err != nil || got.Status != 201 || string(got.Body) != `{"id":"s1"}` || got.SaleID != "s1" {
		t.Errorf("the first answer stands: %+v %v", got, err)
	}
	// a request that started nothing keeps its answer alone
	refused := &pos.KeyedRequest{TerminalID: "till-1", Key: "k2", RequestHash: "h2", Status: 400, Body: []byte("bad"), CreatedAt: t0.Add(time.Hour)}
	if err := j.SaveAnswer(ctx, refused); err != nil {
		t.Fatal(err)
	}
	if got, err := j.Keyed(ctx, "till-1", "k2"); err != nil || got.Status != 400 || got.Started() {
		t.Errorf("refused request: %+v %v", got, err)
	}
	n, err := j.PurgeKeys(ctx, t0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Errorf("purged %d %v, want 1", n, err)
	}
	if _, err := j.Keyed(ctx, "till-1", "k1"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("k1 not purged: %v", err)
	}
	if _, err := j.Keyed(ctx, "till-1", "k2"); err != nil {
		t.Errorf("k2 purged too early: %v", err)
	}
}

// testTerminals: a journal that keeps terminals finds them by token,
// revokes them, and takes a revoked id again.
func testTerminals(t *testing.T, j pos.Journal) {
	ts, ok := j.(pos.Terminals)
	if !ok {
		t.Skip("this journal keeps no terminals")
	}
	ctx := context.Background()
	till := pos.Terminal{ID: "till-1", DeviceID: "d1", Name: "Front", ConfigID: "cfg", CreatedAt: t0}
	if err := ts.AddTerminal(ctx, till, []byte("hash-1")); err != nil {
		t.Fatal(err)
	}
	if err := ts.AddTerminal(ctx, till, []byte("hash-2")); !errors.Is(err, pos.ErrDuplicate) {
		t.Errorf("a live id again: %v, want ErrDuplicate", err)
	}
	if got, err := ts.TerminalByToken(ctx, []byte("hash-1"), t0); err != nil || got.ID != "till-1" || got.ConfigID != "cfg" {
		t.Errorf("by token: %+v %v", got, err)
	}
	if err := ts.RevokeTerminal(ctx, "till-1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.TerminalByToken(ctx, []byte("hash-1"), t0); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("a revoked token works: %v", err)
	}
	if err := ts.RevokeTerminal(ctx, "till-1", t0.Add(time.Hour)); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("second revoke: %v", err)
	}
	till.Name = "Front again"
	if err := ts.AddTerminal(ctx, till, []byte("hash-3")); err != nil {
		t.Fatalf("a revoked id again: %v", err)
	}
	if got, err := ts.TerminalByToken(ctx, []byte("hash-3"), t0); err != nil || got.Revoked || got.Name != "Front again" {
		t.Errorf("re-added: %+v %v", got, err)
	}
	if _, err := ts.TerminalByToken(ctx, []byte("hash-1"), t0); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("the old token works again: %v", err)
	}
}

// testStale: two writers read a sale at the same version and each saves a
// change of it; the second finds the version moved and is refused
// ErrStale, with nothing of its change saved (neither its op nor its key
// nor its history); it reads the sale again and its change then goes in.
func testStale(t *testing.T, j pos.Journal) {
	ctx := context.Background()
	s := sale("s1", t0)
	s.Version = 1
	if err := createSale(ctx, j, s); err != nil {
		t.Fatal(err)
	}
	a, b := *s, *s // both read version 1
	a.Version, a.Status = 2, pos.StatusResolving
	if err := j.Save(ctx, &pos.Change{Sale: &a, Note: "a"}); err != nil {
		t.Fatal(err)
	}
	b.Version, b.CancelRequested = 2, true
	key := &pos.KeyedRequest{TerminalID: "till-1", Key: "k-stale", RequestHash: "h", SaleID: "s1", CreatedAt: t0}
	op := &pos.Op{ID: "rf-stale", SaleID: "s1", Kind: pos.OpRefund, Key: "rf-stale", Amount: 100, State: pos.OpPending, CreatedAt: t0}
	err := j.Save(ctx, &pos.Change{Sale: &b, Note: "b", Ops: []*pos.Op{op}, Key: key})
	if !errors.Is(err, pos.ErrStale) {
		t.Fatalf("a save from version 1 after another: %v, want ErrStale", err)
	}
	got, err := j.Sale(ctx, "s1")
	if err != nil || got.Version != 2 || got.Status != pos.StatusResolving || got.CancelRequested {
		t.Errorf("after the stale save: %+v %v, want the first writer's version 2", got, err)
	}
	if _, err := j.Op(ctx, "rf-stale"); !errors.Is(err, pos.ErrNotFound) {
		t.Errorf("the stale change's op was saved: %v", err)
	}
	if h, _ := j.History(ctx, "s1"); len(h) != 2 {
		t.Errorf("history %+v, want the start and a's note", h)
	}
	// read again, redone: saved, key and all
	got.Version, got.CancelRequested = 3, true
	if err := j.Save(ctx, &pos.Change{Sale: got, Note: "b again", Ops: []*pos.Op{op}, Key: key}); err != nil {
		t.Fatalf("the change redone on the version read: %v", err)
	}
	if again, err := j.Sale(ctx, "s1"); err != nil || again.Version != 3 || !again.CancelRequested || again.Status != pos.StatusResolving {
		t.Errorf("after the redo: %+v %v", again, err)
	}
}
