package sandbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

func lines(prices ...int64) []centrapay.LineItem {
	out := make([]centrapay.LineItem, len(prices))
	for i, p := range prices {
		out[i] = centrapay.LineItem{Name: "item", Qty: "1", Price: centrapay.Int64BigNumber(p)}
	}
	return out
}

func TestPreAuth(t *testing.T) {
	sb, c, fake, seed := start(t)
	ctx := context.Background()
	pr := create(t, c, seed, func(r *centrapay.CreateRequest) { r.PreAuth = true })
	confirm := func(key string, amount int64) (*centrapay.Activity, error) {
		a, _, err := c.Confirm(ctx, pr.ID, &centrapay.ConfirmRequest{IdempotencyKey: key, InvoiceRef: "INV-" + key, LineItems: lines(amount)})
		return a, err
	}
	if _, err := confirm("k0", 100); !errors.Is(err, centrapay.ErrPreAuthPending) {
		t.Fatalf("confirm before authorization: %v", err)
	}
	if err := sb.Approve(pr.ID); err != nil {
		t.Fatal(err)
	}
	got, _, _ := c.Get(ctx, pr.ID)
	if got.Status != centrapay.StatusPaid || got.PreAuthStatus != centrapay.PreAuthAuthorized || got.PreAuthExpiresAt.IsZero() {
		t.Fatalf("authorized request: %+v", got)
	}
	if _, _, err := c.Refund(ctx, pr.ID, &centrapay.RefundRequest{Value: centrapay.Cents(1, "NZD"), ExternalRef: "r0"}); !errors.Is(err, centrapay.ErrNotPaid) {
		t.Errorf("refund with nothing confirmed: %v", err)
	}
	a, err := confirm("k1", 600)
	if err != nil || a.Type != centrapay.ActivityConfirmation || a.IdempotencyKey != "k1" {
		t.Fatalf("confirm: %+v %v", a, err)
	}
	if again, err := confirm("k1", 600); err != nil || again.ID != a.ID {
		t.Errorf("repeated confirm: %+v %v", again, err)
	}
	if _, err := confirm("k1", 500); !errors.Is(err, centrapay.ErrIdempotentOperationFailed) {
		t.Errorf("reused key, other content: %v", err)
	}
	if _, err := confirm("k2", 401); !errors.Is(err, centrapay.ErrInvalidAmount) {
		t.Errorf("confirm beyond authorization: %v", err)
	}
	if _, _, err := c.Void(ctx, pr.ID); !errors.Is(err, centrapay.ErrPreAuthAlreadyConfirmed) {
		t.Errorf("void after confirmation: %v", err)
	}
	refund := func(ref, key string, amount int64) error {
		_, _, err := c.Refund(ctx, pr.ID, &centrapay.RefundRequest{Value: centrapay.Cents(amount, "NZD"), ExternalRef: ref, ConfirmationIdempotencyKey: key})
		return err
	}
	if err := refund("r1", "nope", 100); !errors.Is(err, centrapay.ErrConfirmationNotFound) {
		t.Errorf("refund of unknown confirmation: %v", err)
	}
	if err := refund("r2", "k1", 601); !errors.Is(err, centrapay.ErrInvalidAmount) {
		t.Errorf("refund beyond confirmation: %v", err)
	}
	if err := refund("r3", "k1", 600); err != nil {
		t.Errorf("refund of confirmation: %v", err)
	}
	rel, _, err := c.Release(ctx, pr.ID)
	if err != nil || rel.Type != centrapay.ActivityRelease || rel.Value.Amount.String() != "400" {
		t.Fatalf("release: %+v %v", rel, err)
	}
	if _, _, err := c.Release(ctx, pr.ID); !errors.Is(err, centrapay.ErrPreAuthReleased) {
		t.Errorf("second release: %v", err)
	}
	if _, err := confirm("k3", 100); !errors.Is(err, centrapay.ErrPreAuthReleased) {
		t.Errorf("confirm after release: %v", err)
	}

	// a pre-auth never authorized is cancelled by release; one that lapses
	// cannot be confirmed; a normal request is not a pre-auth
	unauth := create(t, c, seed, func(r *centrapay.CreateRequest) { r.PreAuth = true })
	if a, _, err := c.Release(ctx, unauth.ID); err != nil || a.Type != centrapay.ActivityCancellation {
		t.Errorf("release of unauthorized: %+v %v", a, err)
	}
	lapse := create(t, c, seed, func(r *centrapay.CreateRequest) { r.PreAuth = true; r.Barcode = sb.Scenarios()["pre-auth"].Barcode })
	if got, _, _ := c.Get(ctx, lapse.ID); got.PreAuthStatus != centrapay.PreAuthAuthorized {
		t.Fatalf("pre-auth scenario: %+v", got)
	}
	fake.Advance(91 * 24 * time.Hour)
	if _, _, err := c.Confirm(ctx, lapse.ID, &centrapay.ConfirmRequest{IdempotencyKey: "x", InvoiceRef: "I", LineItems: lines(1)}); !errors.Is(err, centrapay.ErrPreAuthReleased) {
		t.Errorf("confirm after lapse: %v", err)
	}
	plain := create(t, c, seed, nil)
	if _, _, err := c.Release(ctx, plain.ID); !errors.Is(err, centrapay.ErrInvalidPaymentRequestType) {
		t.Errorf("release of a plain request: %v", err)
	}
}

func TestPartialPaymentAndExternalPay(t *testing.T) {
	_, c, _, seed := start(t)
	ctx := context.Background()
	partial := func(r *centrapay.CreateRequest) {
		r.PartialAllowed, r.BasketAmount, r.Value = true, centrapay.Int64BigNumber(1500), centrapay.Cents(1000, "NZD")
	}
	// line items may sum to the basket or to the value
	create(t, c, seed, func(r *centrapay.CreateRequest) { partial(r); r.LineItems = lines(1000, 500) })
	create(t, c, seed, func(r *centrapay.CreateRequest) { partial(r); r.LineItems = lines(1000) })
	cases := map[string]struct {
		edit func(*centrapay.CreateRequest)
		want centrapay.ErrorCode
	}{
		"basket missing":         {func(r *centrapay.CreateRequest) { r.PartialAllowed = true }, "INVALID_REQUEST"},
		"basket below value":     {func(r *centrapay.CreateRequest) { partial(r); r.BasketAmount = centrapay.Int64BigNumber(999) }, "INVALID_REQUEST"},
		"basket without partial": {func(r *centrapay.CreateRequest) { r.BasketAmount = centrapay.Int64BigNumber(1000) }, "INVALID_REQUEST"},
		"lines sum to neither":   {func(r *centrapay.CreateRequest) { partial(r); r.LineItems = lines(1200) }, centrapay.ErrLineItemsSumCheckFailed},
	}
	for name, tc := range cases {
		in := &centrapay.CreateRequest{ConfigID: seed.ConfigID, Value: centrapay.Cents(1000, "NZD")}
		tc.edit(in)
		if _, _, err := c.Create(ctx, in); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %s", name, err, tc.want)
		}
	}

	pr := create(t, c, seed, partial)
	pay := func(key, asset string, amount int64) (*centrapay.Activity, error) {
		in := &centrapay.PayRequest{AssetType: asset, IdempotencyKey: key, TransactionID: "cash-1"}
		if amount > 0 {
			in.Amount, in.Mode = centrapay.Int64BigNumber(amount), centrapay.ModePartialPayment
		}
		a, _, err := c.Pay(ctx, pr.ID, in)
		return a, err
	}
	if _, err := pay("p0", "bitcoin.main", 0); !errors.Is(err, centrapay.ErrInvalidAssetType) {
		t.Errorf("pay with an asset type not accepted: %v", err)
	}
	a, err := pay("p1", "external.test", 400)
	if err != nil || !a.External || a.Value.Amount.String() != "400" {
		t.Fatalf("external pay: %+v %v", a, err)
	}
	if again, err := pay("p1", "external.test", 400); err != nil || again.ID != a.ID {
		t.Errorf("repeated pay: %v", err)
	}
	if _, err := pay("p1", "external.test", 300); !errors.Is(err, centrapay.ErrIdempotentOperationFailed) {
		t.Errorf("reused pay key: %v", err)
	}
	if _, err := pay("p2", "external.test", 100); !errors.Is(err, centrapay.ErrRequestPaid) {
		t.Errorf("pay of a paid request: %v", err)
	}
	got, _, _ := c.Get(ctx, pr.ID)
	if got.Status != centrapay.StatusPaid || got.RemainingAmount.String() != "600" || got.PaidBy.AssetTotals[0].Type != "external.test" ||
		got.PaidBy.AssetTotals[0].SettlementDate.IsZero() {
		t.Errorf("after partial external pay: %+v", got)
	}
	whole := create(t, c, seed, nil)
	if _, _, err := c.Pay(ctx, whole.ID, &centrapay.PayRequest{AssetType: "external.test", IdempotencyKey: "w", TransactionID: "t", Amount: "10"}); !errors.Is(err, centrapay.ErrInsufficientAssetValue) {
		t.Errorf("part payment without a mode: %v", err)
	}
}

func TestDecode(t *testing.T) {
	sb, c, _, seed := start(t)
	ctx := context.Background()
	for code, provider := range map[string]string{sb.Scenarios()["quick-pay"].Barcode: "centrapay", "900000001": "farmlands"} {
		d, _, err := c.Decode(ctx, &centrapay.DecodeRequest{Code: code, ScannedBy: "merchant", MerchantConfigID: seed.ConfigID})
		if err != nil || d.Provider != provider || d.DisplayName == "" {
			t.Errorf("decode %s: %+v %v", code, d, err)
		}
	}
	if _, _, err := c.Decode(ctx, &centrapay.DecodeRequest{Code: "hello", ScannedBy: "merchant", MerchantConfigID: seed.ConfigID}); !errors.Is(err, centrapay.ErrUnknownCode) {
		t.Errorf("unknown code: %v", err)
	}
	if _, _, err := c.Decode(ctx, &centrapay.DecodeRequest{Code: "900000001", ScannedBy: "merchant", MerchantConfigID: "other"}); !errors.Is(err, centrapay.ErrMerchantConfigNotFound) {
		t.Errorf("unknown config: %v", err)
	}
}

func TestMerchantActivitiesPaginate(t *testing.T) {
	_, c, fake, seed := start(t)
	ctx := context.Background()
	for range 7 {
		pr := create(t, c, seed, nil)
		fake.Advance(time.Second)
		c.Void(ctx, pr.ID)
		fake.Advance(time.Second)
	}
	var n int
	var last time.Time
	for a, err := range c.AllMerchantActivities(ctx, &centrapay.ActivityListOptions{MerchantID: seed.MerchantID, Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if !last.IsZero() && a.CreatedAt.After(last) {
			t.Errorf("activity %s out of order", a.ID)
		}
		last = a.CreatedAt.Time
		n++
	}
	if n != 14 {
		t.Errorf("%d activities, want 14 (7 requests, 7 cancellations)", n)
	}
	if _, _, err := c.ListMerchantActivities(ctx, &centrapay.ActivityListOptions{MerchantID: "someone-else"}); !errors.Is(err, centrapay.ErrMerchantNotAuthorized) {
		t.Errorf("another merchant: %v", err)
	}
}
