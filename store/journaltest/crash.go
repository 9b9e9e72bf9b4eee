package journaltest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

// Crash proves that the engine on a journal loses nothing and does
// nothing twice whatever instant its process dies at. A script of sales
// uses every operation — create, poll, condition accept and decline,
// cancel and void (of an unpaid and of a paid request), POS timeout,
// refund, pre-auth confirm and release — once without a crash, recording
// every crash point it passes: before and after each journal write, and
// before and after each Centrapay call. Then, for every point and every
// time the script passes it (polls that change nothing aside: those are
// taken a few times each), the script runs again on a new journal, the
// engine is abandoned at that point, a new engine recovers on the same
// journal, the script goes on, and the journal is checked against the
// sandbox's ledger: no request left payable, no sale with two requests,
// no double refund, every status, paid and refunded amount equal to
// Centrapay's, no operation left pending.
func Crash(t *testing.T, open func(t *testing.T) pos.Journal) {
	var rec recorder
	newCrashRig(t, open(t), rec.record).script()
	targets := rec.targets()
	if testing.Short() {
		targets = targets[:min(len(targets), 20)]
	}
	points := map[string]bool{}
	for _, tg := range targets {
		points[tg.point] = true
	}
	t.Logf("%d crash runs over %d distinct points (%d points passed in all)", len(targets), len(points), len(rec.seq))
	for _, tg := range targets {
		t.Run(fmt.Sprintf("%s#%d", tg.point, tg.nth), func(t *testing.T) {
			t.Parallel()
			hits, crashed := 0, false
			r := newCrashRig(t, open(t), func(p string) bool {
				if p == tg.point {
					hits++
				}
				crashed = crashed || hits == tg.nth
				return crashed
			})
			r.alive = func() {
				if crashed && !r.restarted {
					r.restarted = true
					r.restart(nil)
				}
			}
			r.script()
			if !crashed {
				t.Skipf("this run passed %s only %d times", tg.point, hits)
			}
			r.check()
		})
	}
}

// recorder keeps the crash points a run passes, in order.
type recorder struct {
	mu  sync.Mutex
	seq []string
}

func (r *recorder) record(p string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq = append(r.seq, p)
	return false
}

type target struct {
	point string
	nth   int
}

// pollsEach is how many times a crash is tried at a poll point that
// journals nothing (each is alike: nothing was written, nothing is lost).
const pollsEach = 3

// targets is every (point, nth) passed, polls capped.
func (r *recorder) targets() []target {
	count := map[string]int{}
	for _, p := range r.seq {
		count[p]++
	}
	var out []target
	for p, n := range count {
		if strings.HasPrefix(p, "poll:") || p == "lookup:answered" {
			n = min(n, pollsEach)
		}
		for i := 1; i <= n; i++ {
			out = append(out, target{p, i})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].point != out[j].point {
			return out[i].point < out[j].point
		}
		return out[i].nth < out[j].nth
	})
	return out
}

// crashRig is an engine on the journal under test, talking HTTP to a
// sandbox, on a fake clock.
type crashRig struct {
	t         *testing.T
	ctx       context.Context
	fake      *clock.Fake
	sb        *sandbox.Sandbox
	cp        *centrapay.Client
	j         pos.Journal
	eng       *pos.Engine
	seed      sandbox.Seed
	alive     func() // restarts the engine if it was abandoned
	restarted bool
}

func newCrashRig(t *testing.T, j pos.Journal, crash func(string) bool) *crashRig {
	t.Helper()
	r := &crashRig{t: t, ctx: context.Background(), fake: clock.NewFake(t0), j: j, alive: func() {}}
	var err error
	if r.sb, err = sandbox.New(sandbox.Config{Clock: r.fake, RateLimit: -1}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.sb)
	t.Cleanup(srv.Close)
	r.seed = r.sb.Seed()
	r.cp, err = centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(r.seed.APIKey), centrapay.WithClock(r.fake),
		centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 2, NoSleep: true}), centrapay.WithRateLimit(1000000))
	if err != nil {
		t.Fatal(err)
	}
	r.restart(crash)
	return r
}

// restart starts a new engine on the journal and lets it recover.
func (r *crashRig) restart(crash func(string) bool) {
	r.t.Helper()
	eng, err := pos.New(pos.Config{Centrapay: r.cp, Journal: r.j, MerchantAccountID: r.seed.MerchantAccountID, Clock: r.fake, Crash: crash})
	if err != nil {
		r.t.Fatal(err)
	}
	r.eng = eng
	if err := eng.Recover(r.ctx); err != nil {
		r.t.Fatal(err)
	}
	r.settle()
}

func (r *crashRig) settle() {
	for i := 0; r.eng.Step(r.ctx) > 0; i++ {
		if i > 1000 {
			r.t.Fatal("the engine does not settle")
		}
	}
}

// tick advances the clock a second n times, settling each time, and
// restarts an abandoned engine.
func (r *crashRig) tick(n int) {
	for range n {
		r.fake.Advance(time.Second)
		r.settle()
		r.alive()
	}
}

// do runs one action of the script, then restarts an abandoned engine.
// Errors are the script's business only where it says so: after a crash
// an action may find its sale in another state.
func (r *crashRig) do(f func()) {
	f()
	r.alive()
	r.settle()
	r.alive()
}

// sale finds a sale by its reference; nil if the crash came before it
// was journaled.
func (r *crashRig) sale(ref string) *pos.Sale {
	s, err := r.j.FindSale(r.ctx, pos.SaleQuery{ExternalRef: ref})
	if err != nil {
		return nil
	}
	return s
}

func (r *crashRig) barcode(name string) string { return r.sb.Scenarios()[name].Barcode }

func (r *crashRig) start(ref string, edit func(*pos.SaleInput)) {
	in := pos.SaleInput{TerminalID: "till-1", DeviceID: "dev-1", ConfigID: r.seed.ConfigID, Value: 1000, ExternalRef: ref}
	if edit != nil {
		edit(&in)
	}
	r.do(func() { r.eng.StartSale(r.ctx, in) })
	if r.sale(ref) == nil { // the crash came before the sale was journaled: the till tries again
		r.do(func() { r.eng.StartSale(r.ctx, in) })
	}
}

func (r *crashRig) barcodeSale(ref, scenario string, preAuth bool) {
	r.start(ref, func(in *pos.SaleInput) {
		in.Flow, in.Barcode, in.PreAuth = pos.FlowBarcode, r.barcode(scenario), preAuth
		if preAuth { // Centrapay's checklist 104.2: a pre-auth says what it authorises
			in.LineItems = []centrapay.LineItem{{Name: "Fuel", Qty: "1", Price: centrapay.Int64BigNumber(in.Value)}}
		}
	})
}

// script rings up eight sales, one per path through the protocol.
func (r *crashRig) script() {
	// 1. QR paid, then refunded in two parts
	r.start("CR-1", nil)
	if s := r.sale("CR-1"); s != nil && s.PaymentRequest != nil {
		r.sb.PatronPay(s.PaymentRequest.ID, "", 0)
	}
	r.tick(1)
	if s := r.sale("CR-1"); s != nil {
		r.do(func() { r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 300}) })
		r.do(func() { r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 200}) })
	}
	// 2. cancelled at the till: voided
	r.start("CR-2", nil)
	if s := r.sale("CR-2"); s != nil {
		r.do(func() { r.eng.Cancel(r.ctx, s.ID) })
	}
	// 3. abandoned: voided at the POS timeout (below)
	r.start("CR-3", nil)
	// 4. quick pay, refunded in full
	r.barcodeSale("CR-4", "quick-pay", false)
	r.tick(1)
	if s := r.sale("CR-4"); s != nil {
		r.do(func() { r.eng.Refund(r.ctx, pos.RefundInput{SaleID: s.ID, Amount: 1000}) })
	}
	// 5 and 6. photo ID asked: accepted, declined
	for ref, accept := range map[string]bool{"CR-5": true, "CR-6": false} {
		r.barcodeSale(ref, "photo-id", false)
		r.tick(1)
		if s := r.sale(ref); s != nil && len(s.Conditions) > 0 {
			r.do(func() { r.eng.AnswerCondition(r.ctx, s.ID, s.Conditions[0].ID, accept) })
		}
		r.tick(1)
	}
	// 7. pre-auth: authorized, part confirmed, the rest released
	r.barcodeSale("CR-7", "pre-auth", true)
	r.tick(1)
	if s := r.sale("CR-7"); s != nil {
		lines := []centrapay.LineItem{{Name: "fuel", Qty: "1", Price: centrapay.Int64BigNumber(400)}}
		r.do(func() {
			r.eng.Confirm(r.ctx, s.ID, pos.ConfirmInput{InvoiceRef: "INV-7", LineItems: lines, IdempotencyKey: "cf-7"})
		})
		r.do(func() { r.eng.Release(r.ctx, s.ID) })
		if s := r.sale("CR-7"); s.PaymentRequest != nil && s.PaymentRequest.PreAuthStatus != centrapay.PreAuthReleased {
			r.do(func() { r.eng.Release(r.ctx, s.ID) }) // the till presses again
		}
	}
	// 8. paid between two polls, then cancelled: the void refunds it
	r.start("CR-8", nil)
	if s := r.sale("CR-8"); s != nil && s.PaymentRequest != nil {
		r.sb.PatronPay(s.PaymentRequest.ID, "", 0)
		r.do(func() { r.eng.Cancel(r.ctx, s.ID) })
	}
	r.tick(200) // past every POS timeout and backoff
}

// check compares the journal with the sandbox's ledger.
func (r *crashRig) check() {
	t := r.t
	t.Helper()
	sales, err := r.j.Sales(r.ctx, pos.SaleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sales) != 8 {
		t.Errorf("%d sales journaled, want 8", len(sales))
	}
	checkEvents(t, r.j, sales) // the outbox: written with each change, never without it
	ledger := map[string]sandbox.LedgerEntry{}
	perRef := map[string]int{}
	for _, e := range r.sb.Ledger().Requests {
		ledger[e.ID] = e
		perRef[e.ExternalRef]++
		if e.Status == "new" {
			t.Errorf("request %s (%s) still payable past every POS timeout", e.ID, e.ExternalRef)
		}
	}
	for _, s := range sales {
		if !s.Status.Final() {
			t.Errorf("sale %s still %s: %s", s.ExternalRef, s.Status, s.Reason)
		}
		if perRef[s.ExternalRef] > 1 {
			t.Errorf("sale %s has %d requests", s.ExternalRef, perRef[s.ExternalRef])
		}
		if s.PaymentRequest == nil {
			if perRef[s.ExternalRef] != 0 || s.Status != pos.StatusFailed {
				t.Errorf("sale %s: %s without a request; the sandbox has %d", s.ExternalRef, s.Status, perRef[s.ExternalRef])
			}
			continue
		}
		l := ledger[s.PaymentRequest.ID]
		paid, refunded := s.Paid(), s.Refunded
		if s.PreAuth {
			paid = s.Confirmed // Centrapay's paid is what was drawn down
		}
		if s.Status == pos.StatusCancelled && s.Paid() > 0 {
			refunded = s.Paid() // the void of a paid request refunded it all
		}
		if s.PaymentRequest.Status != string(l.Status) || paid != l.Paid || refunded != l.Refunded {
			t.Errorf("sale %s: journal %s paid %d refunded %d; Centrapay %s paid %d refunded %d",
				s.ExternalRef, s.PaymentRequest.Status, s.Paid(), s.Refunded, l.Status, l.Paid, l.Refunded)
		}
		ops, err := r.j.Ops(r.ctx, pos.OpFilter{SaleID: s.ID})
		if err != nil {
			t.Fatal(err)
		}
		var refundOps, confirmed int64
		confirms, released := 0, 0
		for _, op := range ops {
			if op.State == pos.OpPending {
				t.Errorf("sale %s: %s op %s still pending", s.ExternalRef, op.Kind, op.ID)
			}
			if op.State != pos.OpSucceeded {
				continue
			}
			switch op.Kind {
			case pos.OpRefund:
				refundOps += op.Amount
			case pos.OpConfirm:
				confirmed += op.Amount
				confirms++
			case pos.OpRelease:
				released++
			}
		}
		if refundOps != s.Refunded {
			t.Errorf("sale %s: refunds journaled %d, the sale says %d", s.ExternalRef, refundOps, s.Refunded)
		}
		atCentrapay := 0
		for _, a := range l.Activities {
			if a == "confirmation" {
				atCentrapay++
			}
		}
		if released > 0 && s.PaymentRequest.PreAuthStatus != centrapay.PreAuthReleased {
			t.Errorf("sale %s: pre-auth %q after its release", s.ExternalRef, s.PaymentRequest.PreAuthStatus)
		}
		if confirmed != s.Confirmed || confirms != atCentrapay {
			t.Errorf("sale %s: %d confirmations journaled (%d), the sale says %d, Centrapay has %d", s.ExternalRef, confirms, confirmed, s.Confirmed, atCentrapay)
		}
	}
}
