package sandbox_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/sandbox"
)

// start serves a sandbox on loopback with a fake clock and returns a real
// client of it.
func start(t *testing.T) (*sandbox.Sandbox, *centrapay.Client, *clock.Fake, sandbox.Seed) {
	t.Helper()
	fake := clock.NewFake(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	// no rate limits: the fake clock does not refill them
	sb, err := sandbox.New(sandbox.Config{Clock: fake, RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	seed := sb.Seed()
	c, err := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(seed.APIKey), centrapay.WithClock(fake),
		centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 1}), centrapay.WithRateLimit(1000000))
	if err != nil {
		t.Fatal(err)
	}
	return sb, c, fake, seed
}

func create(t *testing.T, c *centrapay.Client, seed sandbox.Seed, edit func(*centrapay.CreateRequest)) *centrapay.PaymentRequest {
	t.Helper()
	in := &centrapay.CreateRequest{ConfigID: seed.ConfigID, Value: centrapay.Cents(1000, "NZD"), ExternalRef: "INV-1",
		TerminalID: "T1", DeviceID: "D1", ConditionsEnabled: true}
	if edit != nil {
		edit(in)
	}
	pr, _, err := c.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

func TestCreateGetAndExpire(t *testing.T) {
	_, c, fake, seed := start(t)
	ctx := context.Background()
	pr := create(t, c, seed, nil)
	if pr.Status != centrapay.StatusNew || pr.ExpirySeconds != 120 || !strings.Contains(pr.URL, "/pay/"+pr.ID) ||
		pr.MerchantName != "Centrapay Café" || len(pr.PaymentOptions) == 0 || pr.ExternalRef != "INV-1" {
		t.Fatalf("created %+v", pr)
	}
	if got := pr.ExpiresAt.Sub(pr.CreatedAt.Time); got != 120*time.Second {
		t.Errorf("expires after %v", got)
	}
	fake.Advance(119 * time.Second)
	if got, _, _ := c.Get(ctx, pr.ID); got.Status != centrapay.StatusNew {
		t.Fatalf("status %s before expiry", got.Status)
	}
	fake.Advance(time.Second)
	got, _, err := c.Get(ctx, pr.ID)
	if err != nil || got.Status != centrapay.StatusExpired {
		t.Fatalf("status %v, %v at expiry", got, err)
	}
	if _, _, err := c.Void(ctx, pr.ID); !errors.Is(err, centrapay.ErrRequestExpired) {
		t.Errorf("void of expired: %v", err)
	}
}

func TestAuthAndValidation(t *testing.T) {
	sb, _, _, seed := start(t)
	srv := httptest.NewServer(sb)
	defer srv.Close()
	bad, _ := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey("wrong"))
	if _, _, err := bad.Get(context.Background(), "x"); !errors.Is(err, centrapay.ErrUnauthorized) {
		t.Errorf("wrong key: %v", err)
	}
	good, _ := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(seed.APIKey))
	for name, tt := range map[string]struct {
		edit func(*centrapay.CreateRequest)
		code centrapay.ErrorCode
		want string
	}{
		"zero value": {func(r *centrapay.CreateRequest) { r.Value = centrapay.Cents(0, "NZD") }, "INVALID_REQUEST", "value.amount"},
		"currency":   {func(r *centrapay.CreateRequest) { r.Value = centrapay.Cents(5, "USD") }, "INVALID_REQUEST", "value.currency"},
		"config":     {func(r *centrapay.CreateRequest) { r.ConfigID = "nope" }, "INVALID_REQUEST", "configId"},
		"line items": {func(r *centrapay.CreateRequest) {
			r.LineItems = []centrapay.LineItem{{Name: "a", Qty: "1", Price: "999"}}
		}, centrapay.ErrLineItemsSumCheckFailed, "sum"},
		"barcode checksum": {func(r *centrapay.CreateRequest) { r.Barcode = "1219210000000014" }, centrapay.ErrChecksumFailed, "check digit"},
		"invalid patron":   {func(r *centrapay.CreateRequest) { r.Barcode = sb.Scenarios()["invalid"].Barcode }, centrapay.ErrPatronCodeInvalid, ""},
	} {
		in := &centrapay.CreateRequest{ConfigID: seed.ConfigID, Value: centrapay.Cents(1000, "NZD")}
		tt.edit(in)
		_, _, err := good.Create(context.Background(), in)
		var e *centrapay.Error
		if !errors.As(err, &e) || e.Code != tt.code || !strings.Contains(e.Reason, tt.want) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestScenarios(t *testing.T) {
	sb, c, _, seed := start(t)
	ctx := context.Background()
	sc := sb.Scenarios()
	for _, name := range []string{"quick-pay", "patron-approval", "photo-id", "insufficient-funds", "partial", "pre-auth", "invalid", "farmlands-card"} {
		if sc[name].Barcode == "" {
			t.Fatalf("scenario %s missing", name)
		}
		if b := sc[name].Barcode; len(b) == 16 {
			if err := centrapay.ValidateBarcode(b); err != nil {
				t.Errorf("scenario %s barcode: %v", name, err)
			}
		}
	}
	for _, tt := range []struct {
		scenario  string
		partial   bool // created with partialAllowed
		status    centrapay.Status
		remaining string
		reason    string
		asset     string
	}{
		{"quick-pay", false, centrapay.StatusPaid, "0", "", "centrapay.nzd.test"},
		{"farmlands-card", false, centrapay.StatusPaid, "0", "", "farmlands.nzd.test"},
		{"partial", true, centrapay.StatusPaid, "500", "", "centrapay.nzd.test"},
		// without the opt-in the patron's half cannot pay
		{"partial", false, centrapay.StatusCancelled, "1000", centrapay.CancelPaymentDeclined, ""},
		{"insufficient-funds", false, centrapay.StatusCancelled, "1000", centrapay.CancelPaymentDeclined, ""},
		{"patron-approval", false, centrapay.StatusNew, "1000", "", ""},
	} {
		pr := create(t, c, seed, func(r *centrapay.CreateRequest) {
			r.Barcode = sc[tt.scenario].Barcode
			if tt.partial {
				r.PartialAllowed, r.BasketAmount = true, "1000"
			}
		})
		got, _, err := c.Get(ctx, pr.ID)
		if err != nil || got.Status != tt.status || string(got.RemainingAmount) != tt.remaining || got.CancellationReason != tt.reason {
			t.Errorf("%s: %+v %v", tt.scenario, got, err)
			continue
		}
		if tt.asset != "" && (got.PaidBy == nil || got.PaidBy.AssetTotals[0].Type != tt.asset || got.PaidBy.AssetTotals[0].Description == "") {
			t.Errorf("%s: paidBy %+v", tt.scenario, got.PaidBy)
		}
	}
}

func TestPhotoIDCondition(t *testing.T) {
	sb, c, _, seed := start(t)
	ctx := context.Background()
	code := sb.Scenarios()["photo-id"].Barcode
	for _, accept := range []bool{true, false} {
		pr := create(t, c, seed, func(r *centrapay.CreateRequest) { r.Barcode = code })
		got, _, _ := c.Get(ctx, pr.ID)
		if len(got.MerchantConditions) != 1 || got.MerchantConditions[0].Status != centrapay.ConditionAwaitingMerchant || got.MerchantConditions[0].Message == "" {
			t.Fatalf("conditions %+v", got.MerchantConditions)
		}
		cid := string(got.MerchantConditions[0].ID)
		answer, want := c.DeclineCondition, centrapay.StatusCancelled
		if accept {
			answer, want = c.AcceptCondition, centrapay.StatusPaid
		}
		if _, _, err := answer(ctx, pr.ID, cid); err != nil {
			t.Fatal(err)
		}
		if _, _, err := answer(ctx, pr.ID, cid); !errors.Is(err, centrapay.ErrConditionAlreadySet) {
			t.Errorf("second answer: %v", err)
		}
		if got, _, _ := c.Get(ctx, pr.ID); got.Status != want {
			t.Errorf("accept=%v: status %s", accept, got.Status)
		}
	}
	noCond := create(t, c, seed, func(r *centrapay.CreateRequest) { r.Barcode = code; r.ConditionsEnabled = false })
	if got, _, _ := c.Get(ctx, noCond.ID); got.Status != centrapay.StatusCancelled {
		t.Errorf("without conditionsEnabled: %s", got.Status)
	}
}

func TestVoidAndRefund(t *testing.T) {
	sb, c, fake, seed := start(t)
	ctx := context.Background()
	unpaid := create(t, c, seed, nil)
	a, _, err := c.Void(ctx, unpaid.ID)
	if err != nil || a.Type != centrapay.ActivityCancellation {
		t.Fatalf("void unpaid: %+v %v", a, err)
	}
	if got, _, _ := c.Get(ctx, unpaid.ID); got.CancellationReason != centrapay.CancelledByMerchant {
		t.Errorf("reason %q", got.CancellationReason)
	}

	paid := create(t, c, seed, nil)
	if _, _, err := c.Refund(ctx, paid.ID, &centrapay.RefundRequest{Value: centrapay.Cents(100, "NZD"), ExternalRef: "R0"}); !errors.Is(err, centrapay.ErrNotPaid) {
		t.Errorf("refund unpaid: %v", err)
	}
	if err := sb.PatronPay(paid.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	r1, _, err := c.Refund(ctx, paid.ID, &centrapay.RefundRequest{Value: centrapay.Cents(300, "NZD"), ExternalRef: "R1"})
	if err != nil || r1.Type != centrapay.ActivityRefund {
		t.Fatalf("refund: %v", err)
	}
	again, _, err := c.Refund(ctx, paid.ID, &centrapay.RefundRequest{Value: centrapay.Cents(300, "NZD"), ExternalRef: "R1"})
	if err != nil || again.ID != r1.ID {
		t.Errorf("repeated refund gave %+v %v, want the first activity", again, err)
	}
	if _, _, err := c.Refund(ctx, paid.ID, &centrapay.RefundRequest{Value: centrapay.Cents(200, "NZD"), ExternalRef: "R1"}); !errors.Is(err, centrapay.ErrRepeatReference) {
		t.Errorf("same ref other amount: %v", err)
	}
	if _, _, err := c.Refund(ctx, paid.ID, &centrapay.RefundRequest{Value: centrapay.Cents(701, "NZD"), ExternalRef: "R2"}); !errors.Is(err, centrapay.ErrInvalidAmount) {
		t.Errorf("over-refund: %v", err)
	}
	v, _, err := c.Void(ctx, paid.ID)
	if err != nil || v.Type != centrapay.ActivityRefund || v.Value.Amount != "700" {
		t.Fatalf("void paid: %+v %v", v, err)
	}
	l := sb.Ledger()
	last := l.Requests[len(l.Requests)-1]
	if last.Paid != 1000 || last.Refunded != 1000 || last.Status != centrapay.StatusCancelled {
		t.Errorf("ledger %+v", last)
	}
	late := create(t, c, seed, nil)
	fake.Advance(25 * time.Hour)
	if _, _, err := c.Void(ctx, late.ID); !errors.Is(err, centrapay.ErrVoidWindowExceeded) {
		t.Errorf("late void: %v", err)
	}
}

func TestLookups(t *testing.T) {
	_, c, _, seed := start(t)
	ctx := context.Background()
	var ids []string
	for range 5 {
		ids = append(ids, create(t, c, seed, func(r *centrapay.CreateRequest) { r.ExternalRef = "ORDER-7" }).ID)
	}
	var got []string
	for pr, err := range c.AllByExternalRef(ctx, "ORDER-7", &centrapay.ListOptions{MerchantAccountID: seed.MerchantAccountID, Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pr.ID)
	}
	if len(got) != 5 || got[0] != ids[4] {
		t.Errorf("by external ref %v, want newest first of %v", got, ids)
	}
	first, _, _ := c.Get(ctx, ids[0])
	byCode, _, err := c.GetByShortCode(ctx, strings.ToLower(strings.ReplaceAll(first.ShortCode, "-", " ")))
	if err != nil || byCode.ID != ids[0] {
		t.Errorf("by short code %s: %v %v", first.ShortCode, byCode, err)
	}
	bad := []byte(first.ShortCode)
	if bad[len(bad)-1] == '0' {
		bad[len(bad)-1] = '1'
	} else {
		bad[len(bad)-1] = '0'
	}
	if _, _, err := c.GetByShortCode(ctx, string(bad)); !errors.Is(err, centrapay.ErrChecksumFailed) {
		t.Errorf("bad check character: %v", err)
	}
	acts, _, err := c.Activities(ctx, ids[0])
	if err != nil || len(acts) != 1 || acts[0].Type != centrapay.ActivityRequest {
		t.Errorf("activities %+v %v", acts, err)
	}
}

func TestControlAPI(t *testing.T) {
	sb, c, _, seed := start(t)
	srv := httptest.NewServer(sb)
	defer srv.Close()
	pr := create(t, c, seed, func(r *centrapay.CreateRequest) { r.PartialAllowed, r.BasketAmount = true, "1000" })
	whole := create(t, c, seed, nil)
	for _, tt := range []struct {
		path, body string
		status     int
	}{
		{"/sandbox/payment-requests/" + whole.ID + "/pay", `{"amount":"400"}`, 403}, // no partialAllowed
		{"/sandbox/payment-requests/" + pr.ID + "/pay", `{"amount":"400"}`, 200},
		{"/sandbox/payment-requests/" + pr.ID + "/decline", ``, 409},
		{"/sandbox/payment-requests/nope/approve", ``, 404},
		{"/sandbox/clock/advance", `{"seconds":0}`, 400},
		{"/sandbox/clock/advance", `{"seconds":5}`, 200},
		{"/sandbox/payment-requests/" + whole.ID + "/pay", ``, 200}, // the whole amount
	} {
		resp, err := http.Post(srv.URL+tt.path, "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("POST %s: %d, want %d", tt.path, resp.StatusCode, tt.status)
		}
	}
	got, _, _ := c.Get(context.Background(), pr.ID)
	if got.Status != centrapay.StatusPaid || got.RemainingAmount != "600" {
		t.Errorf("after partial pay: %s remaining %s", got.Status, got.RemainingAmount)
	}
	resp, err := http.Get(srv.URL + "/sandbox/scenarios")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scenarios: %v", err)
	}
	resp.Body.Close()
}

func TestWalletPage(t *testing.T) {
	sb, c, _, seed := start(t)
	srv := httptest.NewServer(sb)
	defer srv.Close()
	pr := create(t, c, seed, func(r *centrapay.CreateRequest) {
		r.Value = centrapay.Cents(1250, "NZD")
		r.LineItems = []centrapay.LineItem{{Name: "Flat white", Qty: "2", Price: "1250"}}
	})
	resp, err := http.Get(srv.URL + "/pay/" + pr.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"Centrapay Café", "$12.50 NZD", "Flat white", `id="pay"`, `id="decline"`, "viewport"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("wallet page lacks %q", want)
		}
	}
	resp, err = http.Get(srv.URL + "/pay/nope")
	if err != nil || resp.StatusCode != 404 {
		t.Errorf("unknown request: %v %v", resp, err)
	}
	resp.Body.Close()
}

func BenchmarkCreateAndPoll(b *testing.B) {
	sb, err := sandbox.New(sandbox.Config{RateLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	seed := sb.Seed()
	c, _ := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(seed.APIKey), centrapay.WithRateLimit(1<<30))
	ctx := context.Background()
	code := sb.Scenarios()["quick-pay"].Barcode
	b.ReportAllocs()
	for b.Loop() {
		pr, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: seed.ConfigID, Value: centrapay.Cents(100, "NZD"), Barcode: code})
		if err != nil {
			b.Fatal(err)
		}
		if got, _, err := c.Get(ctx, pr.ID); err != nil || got.Status != centrapay.StatusPaid {
			b.Fatal(got, err)
		}
	}
}
