package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
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

func TestDailyReconcileFlag(t *testing.T) {
	for _, tt := range []struct {
		at      string
		off     bool
		h, m    int
		wantErr bool
	}{{"02:30", false, 2, 30, false}, {"off", true, 0, 0, false}, {"", true, 0, 0, false}, {"23:59", false, 23, 59, false},
		{"2:30pm", false, 0, 0, true}, {"24:00", false, 0, 0, true}} {
		d := dailyReconcile{at: tt.at}
		err := d.check("Pacific/Auckland")
		var usage UsageError
		if (err != nil) != tt.wantErr || err != nil && !errors.As(err, &usage) {
			t.Errorf("--reconcile-at %q: %v, want error %v (a usage error)", tt.at, err, tt.wantErr)
			continue
		}
		if err == nil && ((d.at == "off") != tt.off || !tt.off && (d.hour != tt.h || d.min != tt.m)) {
			t.Errorf("--reconcile-at %q: %+v", tt.at, d)
		}
	}
	d := dailyReconcile{at: "02:30"}
	if err := d.check("Nowhere/Special"); err == nil {
		t.Error("an unknown zone was accepted")
	}
}

func TestDailyReconcileNext(t *testing.T) {
	d := dailyReconcile{at: "02:30"}
	if err := d.check("Pacific/Auckland"); err != nil {
		t.Fatal(err)
	}
	nz := d.loc
	for _, tt := range []struct{ now, want time.Time }{
		{time.Date(2026, 11, 25, 22, 0, 0, 0, nz), time.Date(2026, 11, 26, 2, 30, 0, 0, nz)},
		{time.Date(2026, 11, 26, 1, 0, 0, 0, nz), time.Date(2026, 11, 26, 2, 30, 0, 0, nz)},
		{time.Date(2026, 11, 26, 2, 30, 0, 0, nz), time.Date(2026, 11, 27, 2, 30, 0, 0, nz)},
		{time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 2, 30, 0, 0, nz)}, // 22:00 in Auckland
	} {
		if got := d.next(tt.now, nz); !got.Equal(tt.want) {
			t.Errorf("next after %v: %v, want %v", tt.now, got, tt.want)
		}
	}
}

// TestDailyReconcileRuns: at 02:30 in the store's zone the previous
// business day is reconciled, and the engine keeps the result for the
// manager's page.
func TestDailyReconcileRuns(t *testing.T) {
	ctx := context.Background()
	// the sandbox and the engine: 25 Nov 09:00 UTC is 22:00 on the 25th in Auckland
	fake := clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	sb, err := sandbox.New(sandbox.Config{Clock: fake, RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	client, err := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(sb.Seed().APIKey), centrapay.WithClock(fake),
		centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 2, NoSleep: true}))
	if err != nil {
		t.Fatal(err)
	}
	j, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	eng, err := pos.New(pos.Config{Centrapay: client, Journal: j, MerchantAccountID: sb.Seed().MerchantAccountID, Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	s, err := eng.StartSale(ctx, pos.SaleInput{TerminalID: "till-1", DeviceID: "dev-1", ConfigID: sb.Seed().ConfigID, Value: 1500})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Approve(s.PaymentRequest.ID); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		fake.Advance(time.Second)
		eng.Step(ctx)
	}

	// the scheduler's own clock: 02:00 on the 26th in Auckland
	sched := clock.NewFake(time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC))
	d := dailyReconcile{at: "02:30"}
	if err := d.check("Pacific/Auckland"); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.run(runCtx, sched, eng, slog.New(slog.NewTextHandler(io.Discard, nil))); close(done) }()
	defer func() { stop(); <-done }()
	sched.BlockUntil(1, done)
	if eng.LastReconciliation() != nil {
		t.Fatal("reconciled before 02:30")
	}
	sched.Advance(30 * time.Minute)
	sched.BlockUntil(1, done) // the run is over and the next day's is due
	res := eng.LastReconciliation()
	if res == nil {
		t.Fatal("no reconciliation at 02:30")
	}
	wantFrom := time.Date(2026, 11, 25, 0, 0, 0, 0, d.loc)
	if !res.From.Equal(wantFrom) || !res.To.Equal(wantFrom.AddDate(0, 0, 1)) || res.Sales != 1 || !res.Clean() ||
		len(res.Totals) != 1 || res.Totals[0].Paid != 1500 {
		t.Errorf("daily run: %+v, want 25 Nov in Auckland, one sale of 15.00, clean", res)
	}
}

func TestReconcilePeriod(t *testing.T) {
	nz, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC) // 22:00 on the 25th in Auckland
	for _, tt := range []struct {
		from, to         string
		wantFrom, wantTo time.Time
		wantErr          bool
	}{
		{"", "", time.Date(2026, 11, 24, 0, 0, 0, 0, nz), time.Date(2026, 11, 25, 0, 0, 0, 0, nz), false},
		{"2026-11-20", "", time.Date(2026, 11, 20, 0, 0, 0, 0, nz), time.Date(2026, 11, 21, 0, 0, 0, 0, nz), false},
		{"2026-11-20", "2026-11-22", time.Date(2026, 11, 20, 0, 0, 0, 0, nz), time.Date(2026, 11, 23, 0, 0, 0, 0, nz), false},
		// the clocks go forward on 27 Sep 2026 in Auckland: a 23-hour day
		{"2026-09-27", "", time.Date(2026, 9, 27, 0, 0, 0, 0, nz), time.Date(2026, 9, 28, 0, 0, 0, 0, nz), false},
		{"2026-11-22", "2026-11-20", time.Time{}, time.Time{}, true},
		{"yesterday", "", time.Time{}, time.Time{}, true},
	} {
		from, to, err := period(tt.from, tt.to, now, nz)
		var usage UsageError
		if (err != nil) != tt.wantErr || err != nil && !errors.As(err, &usage) {
			t.Errorf("period(%q, %q): %v, want error %v", tt.from, tt.to, err, tt.wantErr)
			continue
		}
		if err == nil && (!from.Equal(tt.wantFrom) || !to.Equal(tt.wantTo)) {
			t.Errorf("period(%q, %q) = %v, %v; want %v, %v", tt.from, tt.to, from, to, tt.wantFrom, tt.wantTo)
		}
	}
	if from, to, _ := period("2026-09-27", "", now, nz); to.Sub(from) != 23*time.Hour {
		t.Errorf("27 Sep 2026 in Auckland lasts %v, want 23h", to.Sub(from))
	}
}
