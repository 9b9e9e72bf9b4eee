package sandbox_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/sandbox"
)

func TestStateFileSurvivesARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	fake := clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	open := func() (*sandbox.Sandbox, *centrapay.Client) {
		sb, err := sandbox.New(sandbox.Config{Clock: fake, StateFile: path})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sb)
		t.Cleanup(srv.Close)
		c, _ := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(sandbox.DemoAPIKey), centrapay.WithClock(fake))
		return sb, c
	}
	sb, c := open()
	seed := sb.Seed()
	pr, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: seed.ConfigID, Value: centrapay.Cents(900, "NZD"), ExternalRef: "keep"})
	if err != nil {
		t.Fatal(err)
	}
	sb.PatronPay(pr.ID, "", 0)
	c.Refund(ctx, pr.ID, &centrapay.RefundRequest{Value: centrapay.Cents(100, "NZD"), ExternalRef: "r1"})

	_, c2 := open() // a new process on the same file
	got, _, err := c2.Get(ctx, pr.ID)
	if err != nil || got.Status != centrapay.StatusPaid || got.ShortCode != pr.ShortCode {
		t.Fatalf("after restart: %+v %v", got, err)
	}
	// the refund's reference is remembered; the next request gets a new short code
	if a, _, err := c2.Refund(ctx, pr.ID, &centrapay.RefundRequest{Value: centrapay.Cents(200, "NZD"), ExternalRef: "r1"}); err == nil {
		t.Errorf("reused refund reference accepted after restart: %+v", a)
	}
	next, _, _ := c2.Create(ctx, &centrapay.CreateRequest{ConfigID: seed.ConfigID, Value: centrapay.Cents(5, "NZD")})
	if next.ShortCode == pr.ShortCode || next.ID == pr.ID {
		t.Errorf("ids repeat after restart: %s %s", next.ID, next.ShortCode)
	}
}
