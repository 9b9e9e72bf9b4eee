package pos_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
	"github.com/centrapos/centrapos/store/sqlite"
)

// rig is an engine on a SQLite journal talking real HTTP to an in-process
// sandbox, everything on one fake clock.
type rig struct {
	t      testing.TB
	ctx    context.Context
	fake   *clock.Fake
	sb     *sandbox.Sandbox
	client *centrapay.Client
	j      *sqlite.Journal
	eng    *pos.Engine
	seed   sandbox.Seed
	cp     pos.Centrapay // what engines are given; tests may wrap the client
	url    string        // the sandbox's
	edit   func(*pos.Config)
}

func newRig(t testing.TB, edit ...func(*pos.Config)) *rig {
	t.Helper()
	return newRigWith(t, nil, edit...)
}

// newRigWith is newRig with a sandbox configured by sb as well.
func newRigWith(t testing.TB, sbEdit func(*sandbox.Config), edit ...func(*pos.Config)) *rig {
	t.Helper()
	r := &rig{t: t, ctx: context.Background(), fake: clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))}
	if len(edit) > 0 {
		r.edit = edit[0]
	}
	sbc := sandbox.Config{Clock: r.fake, RateLimit: -1}
	if sbEdit != nil {
		sbEdit(&sbc)
	}
	sb, err := sandbox.New(sbc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	r.sb, r.seed, r.url = sb, sb.Seed(), srv.URL
	r.client, err = centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(r.seed.APIKey), centrapay.WithClock(r.fake),
		centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 2, NoSleep: true}), centrapay.WithRateLimit(1000000))
	if err != nil {
		t.Fatal(err)
	}
	r.cp = r.client
	r.j, err = sqlite.Open(r.ctx, filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.j.Close() })
	r.restart()
	return r
}

// restart starts a new engine on the same journal, as after a crash, and
// lets it recover.
func (r *rig) restart() {
	r.t.Helper()
	cfg := pos.Config{Centrapay: r.cp, Journal: r.j, MerchantAccountID: r.seed.MerchantAccountID, Clock: r.fake}
	if r.edit != nil {
		r.edit(&cfg)
	}
	eng, err := pos.New(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.eng = eng
	if err := eng.Recover(r.ctx); err != nil {
		r.t.Fatal(err)
	}
	r.settle()
}

// settle does all the work due now.
func (r *rig) settle() {
	for i := 0; r.eng.Step(r.ctx) > 0; i++ {
		if i > 1000 {
			r.t.Fatal("the engine does not settle")
		}
	}
}

// tick advances the clock by one poll interval n times, settling each time.
func (r *rig) tick(n int) {
	for range n {
		r.fake.Advance(time.Second)
		r.settle()
	}
}

func (r *rig) input(edit func(*pos.SaleInput)) pos.SaleInput {
	in := pos.SaleInput{TerminalID: "till-1", DeviceID: "dev-1", ConfigID: r.seed.ConfigID, Value: 1000}
	if edit != nil {
		edit(&in)
	}
	return in
}

func (r *rig) start(edit func(*pos.SaleInput)) *pos.Sale {
	r.t.Helper()
	s, err := r.eng.StartSale(r.ctx, r.input(edit))
	if err != nil {
		r.t.Fatalf("start sale: %v", err)
	}
	r.settle()
	return s
}

func (r *rig) sale(id string) *pos.Sale {
	r.t.Helper()
	s, err := r.eng.Sale(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *rig) barcode(name string) string { return r.sb.Scenarios()[name].Barcode }

func (r *rig) ledger(id string) sandbox.LedgerEntry {
	for _, e := range r.sb.Ledger().Requests {
		if e.ID == id {
			return e
		}
	}
	r.t.Fatalf("no request %s in the sandbox", id)
	return sandbox.LedgerEntry{}
}
