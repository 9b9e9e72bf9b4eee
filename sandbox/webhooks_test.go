package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/sandbox"
)

type delivery struct {
	auth string
	body []byte
}

func TestWebhooks(t *testing.T) {
	got := make(chan delivery, 16)
	var calls atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError) // the first delivery fails: it is retried
			return
		}
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Get("Authorization"), b}
	}))
	defer hook.Close()
	fake := clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	sb, err := sandbox.New(sandbox.Config{Clock: fake, Webhooks: []string{hook.URL + "/centrapay"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	srv := httptest.NewServer(sb)
	defer srv.Close()
	seed := sb.Seed()
	c, _ := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(seed.APIKey), centrapay.WithClock(fake))
	ctx := context.Background()
	pr, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: seed.ConfigID, Value: centrapay.Cents(800, "NZD")})
	if err != nil {
		t.Fatal(err)
	}
	sb.PatronPay(pr.ID, "", 0)
	// the failed first attempt waits a second of sandbox time
	if !fake.BlockUntil(1, nil) {
		t.Fatal("no retry scheduled")
	}
	fake.Advance(time.Second)
	verifier := func(audience string, clk clock.Clock) *centrapay.WebhookVerifier {
		v, err := centrapay.NewWebhookVerifier(centrapay.WebhookVerifierConfig{JWKSURL: srv.URL + "/.well-known/jwks.json", Audience: audience, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := verifier(hook.URL+"/centrapay", fake)
	paid := <-got
	n, err := v.Verify(ctx, paid.auth, paid.body)
	if err != nil || n.Type != centrapay.NotificationPaid || n.Data.PaymentRequestID != pr.ID || n.AccountID != seed.MerchantAccountID || n.Data.PaidBy == nil {
		t.Fatalf("paid notification: %+v %v", n, err)
	}
	if _, _, err := c.Refund(ctx, pr.ID, &centrapay.RefundRequest{Value: centrapay.Cents(300, "NZD"), ExternalRef: "r1"}); err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for range 2 {
		d := <-got
		n, err := v.Verify(ctx, d.auth, d.body)
		if err != nil || n.Data.Value.Amount != "300" {
			t.Fatalf("refund notification: %+v %v", n, err)
		}
		types[n.Type] = true
	}
	if !types[centrapay.NotificationRefundInitiated] || !types[centrapay.NotificationRefundCompleted] {
		t.Errorf("refund notifications %v", types)
	}
	// what a receiver must reject
	other := verifier("https://someone.else/hook", fake)
	late := verifier(v.Audience(), clock.NewFake(fake.Now().Add(6*time.Minute)))
	tampered := append([]byte(nil), paid.body...)
	tampered[len(tampered)-2] ^= 1
	for name, err := range map[string]error{
		"tampered body":  func() error { _, err := v.Verify(ctx, paid.auth, tampered); return err }(),
		"other audience": func() error { _, err := other.Verify(ctx, paid.auth, paid.body); return err }(),
		"expired":        func() error { _, err := late.Verify(ctx, paid.auth, paid.body); return err }(),
		"no token":       func() error { _, err := v.Verify(ctx, "", paid.body); return err }(),
		"bad signature":  func() error { _, err := v.Verify(ctx, paid.auth[:len(paid.auth)-4]+"AAAA", paid.body); return err }(),
	} {
		if !errors.Is(err, centrapay.ErrWebhookRejected) {
			t.Errorf("%s: %v, want rejected", name, err)
		}
	}
}

// TestRefundCompletesLater: with RefundDelay, a refund is accepted at once
// (its answer, refund-initiated) and completes after the delay: only then
// is its activity listed, in the request's activities and the merchant's,
// and refund-completed sent.
func TestRefundCompletesLater(t *testing.T) {
	got := make(chan []byte, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	defer hook.Close()
	fake := clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	sb, err := sandbox.New(sandbox.Config{Clock: fake, WallClock: clock.Real{}, Webhooks: []string{hook.URL}, RefundDelay: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	srv := httptest.NewServer(sb)
	defer srv.Close()
	seed := sb.Seed()
	c, _ := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(seed.APIKey), centrapay.WithClock(fake))
	ctx := context.Background()
	pr, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: seed.ConfigID, Value: centrapay.Cents(800, "NZD")})
	if err != nil {
		t.Fatal(err)
	}
	sb.PatronPay(pr.ID, "", 0)
	typeOf := func(b []byte) string {
		var n centrapay.Notification
		if err := json.Unmarshal(b, &n); err != nil {
			t.Fatal(err)
		}
		return n.Type
	}
	if typ := typeOf(<-got); typ != centrapay.NotificationPaid {
		t.Fatalf("first notification %s", typ)
	}
	a, _, err := c.Refund(ctx, pr.ID, &centrapay.RefundRequest{Value: centrapay.Cents(300, "NZD"), ExternalRef: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if typ := typeOf(<-got); typ != centrapay.NotificationRefundInitiated {
		t.Fatalf("notification on refund: %s", typ)
	}
	listed := func() (req, merchant bool) {
		acts, _, err := c.Activities(ctx, pr.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range acts {
			req = req || x.ID == a.ID
		}
		for x, err := range c.AllMerchantActivities(ctx, &centrapay.ActivityListOptions{MerchantID: seed.MerchantID}) {
			if err != nil {
				t.Fatal(err)
			}
			merchant = merchant || x.ID == a.ID
		}
		return req, merchant
	}
	fake.Advance(19 * time.Second)
	if req, merchant := listed(); req || merchant {
		t.Errorf("19 s after: listed in the request's activities %v, the merchant's %v; want neither until it completes", req, merchant)
	}
	select {
	case b := <-got:
		t.Fatalf("a notification before the refund completed: %s", typeOf(b))
	default:
	}
	if err := sb.Advance(time.Second); err != nil {
		t.Fatal(err)
	}
	if typ := typeOf(<-got); typ != centrapay.NotificationRefundCompleted {
		t.Fatalf("notification at completion: %s", typ)
	}
	if req, merchant := listed(); !req || !merchant {
		t.Errorf("completed: listed in the request's activities %v, the merchant's %v; want both", req, merchant)
	}
}
