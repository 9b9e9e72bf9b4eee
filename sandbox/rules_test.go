package sandbox_test

import (
	"context"
	"errors"
	"testing"

	"github.com/centrapos/centrapos/centrapay"
)

// TestPartialPayNeedsOptIn checks Centrapay's rule that a payment of less
// than what remains is a partial payment, allowed only on a request created
// with partialAllowed and paid with mode partial-payment.
func TestPartialPayNeedsOptIn(t *testing.T) {
	for _, tt := range []struct {
		name    string
		partial bool   // request created with partialAllowed
		mode    string // pay call's mode
		amount  string // "" pays what remains
		want    error
	}{
		{"partial mode without opt-in", false, centrapay.ModePartialPayment, "400", centrapay.ErrInsufficientAssetValue},
		{"short amount without opt-in", false, "", "400", centrapay.ErrInsufficientAssetValue},
		{"multi-asset short without opt-in", false, centrapay.ModeMultiAssetPayment, "400", centrapay.ErrInsufficientAssetValue},
		{"whole amount without opt-in", false, centrapay.ModePartialPayment, "1000", nil},
		{"no amount without opt-in", false, "", "", nil},
		{"partial with opt-in", true, centrapay.ModePartialPayment, "400", nil},
		{"short amount with opt-in but no mode", true, "", "400", centrapay.ErrInsufficientAssetValue},
		{"more than remains", true, centrapay.ModePartialPayment, "1001", centrapay.ErrInsufficientAssetValue},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, c, _, seed := start(t)
			pr := create(t, c, seed, func(r *centrapay.CreateRequest) {
				if tt.partial {
					r.PartialAllowed, r.BasketAmount = true, "1500"
				}
			})
			a, _, err := c.Pay(context.Background(), pr.ID, &centrapay.PayRequest{AssetType: "external.test", IdempotencyKey: "k",
				TransactionID: "t", Mode: tt.mode, Amount: centrapay.BigNumber(tt.amount)})
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("%v, want %v", err, tt.want)
				}
				if got, _, _ := c.Get(context.Background(), pr.ID); got.Status != centrapay.StatusNew {
					t.Errorf("status %s after a refused pay", got.Status)
				}
				return
			}
			if err != nil || a.Type != centrapay.ActivityPayment {
				t.Fatalf("%+v %v", a, err)
			}
		})
	}
}

// TestPatronPartialPayNeedsOptIn checks the same rule for the patron
// simulator (control API and wallet).
func TestPatronPartialPayNeedsOptIn(t *testing.T) {
	sb, c, _, seed := start(t)
	whole := create(t, c, seed, nil)
	if err := sb.PatronPay(whole.ID, "", 400); err == nil {
		t.Error("a partial patron payment of a request without partialAllowed was taken")
	}
	part := create(t, c, seed, func(r *centrapay.CreateRequest) { r.PartialAllowed, r.BasketAmount = true, "1000" })
	if err := sb.PatronPay(part.ID, "", 400); err != nil {
		t.Errorf("partial patron payment with partialAllowed: %v", err)
	}
}

// TestFarmlandsRefundNeedsMerchantConfig checks that a refund of a
// farmlands.nzd payment carries the refunding merchant's merchantConfigId.
func TestFarmlandsRefundNeedsMerchantConfig(t *testing.T) {
	for _, tt := range []struct {
		name     string
		scenario string
		config   func(seed string) string
		want     centrapay.ErrorCode // "" for success
	}{
		{"farmlands without merchantConfigId", "farmlands-card", func(string) string { return "" }, "INVALID_REQUEST"},
		{"farmlands with merchantConfigId", "farmlands-card", func(s string) string { return s }, ""},
		{"farmlands with an unknown merchantConfigId", "farmlands-card", func(string) string { return "mc_nope" }, centrapay.ErrMerchantConfigNotFound},
		{"centrapay without merchantConfigId", "quick-pay", func(string) string { return "" }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sb, c, _, seed := start(t)
			ctx := context.Background()
			pr := create(t, c, seed, func(r *centrapay.CreateRequest) { r.Barcode = sb.Scenarios()[tt.scenario].Barcode })
			if got, _, err := c.Get(ctx, pr.ID); err != nil || got.Status != centrapay.StatusPaid {
				t.Fatalf("not paid: %v", err)
			}
			a, _, err := c.Refund(ctx, pr.ID, &centrapay.RefundRequest{Value: centrapay.Cents(400, "NZD"), ExternalRef: "R-1",
				MerchantConfigID: tt.config(seed.ConfigID)})
			if tt.want != "" {
				var e *centrapay.Error
				if !errors.As(err, &e) || e.Code != tt.want {
					t.Fatalf("%v, want %s", err, tt.want)
				}
				if l := sb.Ledger(); l.Requests[0].Refunded != 0 {
					t.Errorf("refunded %d after a refusal", l.Requests[0].Refunded)
				}
				return
			}
			if err != nil || a.Type != centrapay.ActivityRefund || a.MerchantConfigID != seed.ConfigID {
				t.Fatalf("%+v %v", a, err)
			}
		})
	}
}
