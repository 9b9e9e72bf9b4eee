package postgres_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

// TestEngineOnPostgres takes a payment and a refund with the engine on a
// PostgreSQL journal, restarting the engine between them.
func TestEngineOnPostgres(t *testing.T) {
	j := open(t)
	fake := clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	sb, _ := sandbox.New(sandbox.Config{Clock: fake, RateLimit: -1})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	seed := sb.Seed()
	c, _ := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(seed.APIKey), centrapay.WithClock(fake),
		centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 2, NoSleep: true}), centrapay.WithRateLimit(1000000))
	ctx := context.Background()
	engine := func() *pos.Engine {
		e, err := pos.New(pos.Config{Centrapay: c, Journal: j, MerchantAccountID: seed.MerchantAccountID, Clock: fake})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := engine()
	s, err := e.StartSale(ctx, pos.SaleInput{TerminalID: "till-1", DeviceID: "d", ConfigID: seed.ConfigID, Value: 1500, ExternalRef: "PG-1"})
	if err != nil {
		t.Fatal(err)
	}
	sb.PatronPay(s.PaymentRequest.ID, "", 0)
	e = engine() // a restart: the open sale is recovered from PostgreSQL
	for e.Step(ctx) > 0 {
	}
	got, err := e.Sale(ctx, s.ID)
	if err != nil || got.Status != pos.StatusPaid || got.PaidBy[0].AssetType != "centrapay.nzd.test" {
		t.Fatalf("after restart: %+v %v", got, err)
	}
	op, err := e.Refund(ctx, pos.RefundInput{ShortCode: got.PaymentRequest.ShortCode, Amount: 500})
	if err != nil || op.State != pos.OpSucceeded {
		t.Fatalf("refund: %+v %v", op, err)
	}
	rep, err := e.Report(ctx, pos.ReportFilter{From: fake.Now().Add(-time.Hour)})
	if err != nil || rep.Net != 1000 || len(rep.Transactions) != 1 {
		t.Errorf("report: %+v %v", rep, err)
	}
	if h, _ := j.History(ctx, s.ID); len(h) < 3 {
		t.Errorf("history %+v", h)
	}
}
