package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/sandbox"
)

// TestDocumentedErrorCodes reaches every error code of the endpoints a
// POS uses and checks the client matches it. The sandbox models the
// business rules behind most; the rest (rules about assets, partners and
// connections a sandbox has no such thing for) are scripted with a status
// fault carrying the code, as a POS's own tests would script them.
func TestDocumentedErrorCodes(t *testing.T) {
	type call func(r *rig) error
	modelled := map[string]call{
		"create LINE_ITEMS_SUM_CHECK_FAILED": func(r *rig) error {
			return r.create(func(in *centrapay.CreateRequest) { in.LineItems = lines(1) })
		},
		"create CHECKSUM_FAILED": func(r *rig) error {
			return r.create(func(in *centrapay.CreateRequest) { in.Barcode = "1219210000000010" })
		},
		"create PATRON_CODE_INVALID": func(r *rig) error {
			return r.create(func(in *centrapay.CreateRequest) { in.Barcode = r.scenario("invalid") })
		},
		"short code CHECKSUM_FAILED": func(r *rig) error { _, _, err := r.c.GetByShortCode(r.ctx, "CP-AAA-AA"); return err },
		"void REQUEST_EXPIRED":       func(r *rig) error { id := r.newPR(); r.fake.Advance(3 * time.Minute); return r.void(id) },
		"void VOID_WINDOW_EXCEEDED":  func(r *rig) error { id := r.paidPR(); r.fake.Advance(25 * time.Hour); return r.void(id) },
		"void ALREADY_REFUNDED":      func(r *rig) error { id := r.paidPR(); r.void(id); return r.void(id) },
		"void PRE_AUTH_ALREADY_CONFIRMED": func(r *rig) error {
			id := r.authorized()
			r.confirm(id, "k", 100)
			return r.void(id)
		},
		"refund NOT_PAID":         func(r *rig) error { return r.refund(r.newPR(), "r", 1, "") },
		"refund ALREADY_REFUNDED": func(r *rig) error { id := r.paidPR(); r.refund(id, "a", 1000, ""); return r.refund(id, "b", 1, "") },
		"refund INVALID_AMOUNT":   func(r *rig) error { return r.refund(r.paidPR(), "r", 1001, "") },
		"refund REPEAT_REFERENCE": func(r *rig) error { id := r.paidPR(); r.refund(id, "a", 1, ""); return r.refund(id, "a", 2, "") },
		"refund REFUND_WINDOW_EXCEEDED": func(r *rig) error {
			id := r.paidPR()
			r.fake.Advance(366 * 24 * time.Hour)
			return r.refund(id, "r", 1, "")
		},
		"refund PRE_AUTH_PENDING": func(r *rig) error {
			return r.refund(r.newPR(func(in *centrapay.CreateRequest) { in.PreAuth = true }), "r", 1, "")
		},
		"refund CONFIRMATION_NOT_FOUND": func(r *rig) error { id := r.authorized(); r.confirm(id, "k", 100); return r.refund(id, "r", 1, "nope") },
		"condition CONDITION_ALREADY_SET": func(r *rig) error {
			id, cid := r.photoID()
			r.c.AcceptCondition(r.ctx, id, cid)
			_, _, err := r.c.AcceptCondition(r.ctx, id, cid)
			return err
		},
		"confirm INVALID_PAYMENT_REQUEST_TYPE": func(r *rig) error { return r.confirm(r.paidPR(), "k", 1) },
		"confirm PRE_AUTH_RELEASED":            func(r *rig) error { id := r.authorized(); r.c.Release(r.ctx, id); return r.confirm(id, "k", 1) },
		"confirm PRE_AUTH_PENDING": func(r *rig) error {
			return r.confirm(r.newPR(func(in *centrapay.CreateRequest) { in.PreAuth = true }), "k", 1)
		},
		"confirm REQUEST_CANCELLED": func(r *rig) error {
			id := r.newPR(func(in *centrapay.CreateRequest) { in.PreAuth = true })
			r.void(id)
			return r.confirm(id, "k", 1)
		},
		"confirm INVALID_AMOUNT":               func(r *rig) error { return r.confirm(r.authorized(), "k", 1001) },
		"confirm IDEMPOTENT_OPERATION_FAILED":  func(r *rig) error { id := r.authorized(); r.confirm(id, "k", 1); return r.confirm(id, "k", 2) },
		"release INVALID_PAYMENT_REQUEST_TYPE": func(r *rig) error { _, _, err := r.c.Release(r.ctx, r.paidPR()); return err },
		"release PRE_AUTH_RELEASED": func(r *rig) error {
			id := r.authorized()
			r.c.Release(r.ctx, id)
			_, _, err := r.c.Release(r.ctx, id)
			return err
		},
		"decode UNKNOWN_CODE":              func(r *rig) error { return r.decode("hello", r.seed.ConfigID) },
		"decode MERCHANT_CONFIG_NOT_FOUND": func(r *rig) error { return r.decode("900000001", "nope") },
		"pay INVALID_ASSET_TYPE":           func(r *rig) error { return r.pay(r.newPR(), "bitcoin.main") },
		"pay REQUEST_EXPIRED": func(r *rig) error {
			id := r.newPR()
			r.fake.Advance(3 * time.Minute)
			return r.pay(id, "external.test")
		},
		"pay REQUEST_PAID":      func(r *rig) error { return r.pay(r.paidPR(), "external.test") },
		"pay REQUEST_CANCELLED": func(r *rig) error { id := r.newPR(); r.void(id); return r.pay(id, "external.test") },
		"pay INSUFFICIENT_ASSET_VALUE": func(r *rig) error {
			_, _, err := r.c.Pay(r.ctx, r.newPR(), &centrapay.PayRequest{AssetType: "external.test", IdempotencyKey: "p", TransactionID: "t", Amount: "1"})
			return err
		},
	}
	for name, fn := range modelled {
		t.Run(name, func(t *testing.T) {
			r := newCodeRig(t)
			code := centrapay.ErrorCode(name[len(name)-len(lastWord(name)):])
			if err := fn(r); !errors.Is(err, code) {
				t.Errorf("%v, want %s", err, code)
			}
		})
	}
	scripted := map[string][]string{
		"POST /api/payment-requests":                       {"NO_AVAILABLE_PAYMENT_OPTIONS", "REDIRECT_URL_INVALID", "TOKEN_COLLECTION_NOT_FOUND", "CONNECTION_NOT_FOUND"},
		"POST /api/payment-requests/*/void":                {"REPEAT_REFERENCE", "INACTIVE_ASSET", "REFUND_NOT_SUPPORTED"},
		"POST /api/payment-requests/*/refund":              {"PARTIAL_REFUNDS_NOT_ALLOWED", "INACTIVE_ASSET", "REFUND_NOT_SUPPORTED", "REFUND_DECLINED"},
		"POST /api/payment-requests/*/conditions/*/accept": {"MERCHANT_NOT_AUTHORIZED", "PATRON_NOT_AUTHORIZED"},
		"POST /api/decode":                                 {"INVALID_MERCHANT_CONFIG"},
		"POST /api/payment-requests/*/pay":                 {"INACTIVE_ASSET", "PAYMENT_DECLINED", "PAYMENT_UNCONFIRMED", "QUOTA_EXCEEDED"},
	}
	for route, codes := range scripted {
		for _, code := range codes {
			t.Run("scripted "+route+" "+code, func(t *testing.T) {
				r := newCodeRig(t)
				id := r.paidPR()
				method, pattern := route[:4], route[5:]
				if err := r.sb.AddFault(sandbox.Fault{Method: method, Path: pattern, Kind: "status", Status: 403, Code: code, Count: 1}); err != nil {
					t.Fatal(err)
				}
				var err error
				switch {
				case pattern == "/api/payment-requests":
					err = r.create(nil)
				case pattern == "/api/decode":
					err = r.decode("900000001", r.seed.ConfigID)
				case pattern[len(pattern)-4:] == "void":
					err = r.void(id)
				case pattern[len(pattern)-6:] == "refund":
					err = r.refund(id, "r", 1, "")
				case pattern[len(pattern)-6:] == "accept":
					_, _, err = r.c.AcceptCondition(r.ctx, id, "1")
				default:
					err = r.pay(id, "external.test")
				}
				if !errors.Is(err, centrapay.ErrorCode(code)) {
					t.Errorf("%v, want %s", err, code)
				}
			})
		}
	}
}

func lastWord(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ' ' {
			return s[i+1:]
		}
	}
	return s
}

// rig is a sandbox, a client and helpers for one code.
type rig struct {
	t    *testing.T
	ctx  context.Context
	fake *clock.Fake
	sb   *sandbox.Sandbox
	c    *centrapay.Client
	seed sandbox.Seed
	n    int
}

func newCodeRig(t *testing.T) *rig {
	sb, c, fake, seed := start(t)
	return &rig{t: t, ctx: context.Background(), fake: fake, sb: sb, c: c, seed: seed}
}

func (r *rig) scenario(name string) string { return r.sb.Scenarios()[name].Barcode }

func (r *rig) create(edit func(*centrapay.CreateRequest)) error {
	in := &centrapay.CreateRequest{ConfigID: r.seed.ConfigID, Value: centrapay.Cents(1000, "NZD")}
	if edit != nil {
		edit(in)
	}
	_, _, err := r.c.Create(r.ctx, in)
	return err
}

func (r *rig) newPR(edits ...func(*centrapay.CreateRequest)) string {
	r.t.Helper()
	r.n++
	in := &centrapay.CreateRequest{ConfigID: r.seed.ConfigID, Value: centrapay.Cents(1000, "NZD"), ExternalRef: fmt.Sprint("code-", r.n), ConditionsEnabled: true}
	for _, e := range edits {
		e(in)
	}
	pr, _, err := r.c.Create(r.ctx, in)
	if err != nil {
		r.t.Fatal(err)
	}
	return pr.ID
}

func (r *rig) paidPR() string {
	id := r.newPR()
	if err := r.sb.PatronPay(id, "", 0); err != nil {
		r.t.Fatal(err)
	}
	return id
}

func (r *rig) authorized() string {
	id := r.newPR(func(in *centrapay.CreateRequest) { in.PreAuth = true })
	r.sb.Approve(id)
	return id
}

func (r *rig) photoID() (string, string) {
	id := r.newPR(func(in *centrapay.CreateRequest) { in.Barcode = r.scenario("photo-id") })
	pr, _, _ := r.c.Get(r.ctx, id)
	return id, pr.MerchantConditions[0].ID.String()
}

func (r *rig) void(id string) error { _, _, err := r.c.Void(r.ctx, id); return err }

func (r *rig) refund(id, ref string, amount int64, confirmation string) error {
	_, _, err := r.c.Refund(r.ctx, id, &centrapay.RefundRequest{Value: centrapay.Cents(amount, "NZD"), ExternalRef: ref, ConfirmationIdempotencyKey: confirmation})
	return err
}

func (r *rig) confirm(id, key string, amount int64) error {
	_, _, err := r.c.Confirm(r.ctx, id, &centrapay.ConfirmRequest{IdempotencyKey: key, InvoiceRef: "I-" + key, LineItems: lines(amount)})
	return err
}

func (r *rig) decode(code, config string) error {
	_, _, err := r.c.Decode(r.ctx, &centrapay.DecodeRequest{Code: code, ScannedBy: "merchant", MerchantConfigID: config})
	return err
}

func (r *rig) pay(id, asset string) error {
	_, _, err := r.c.Pay(r.ctx, id, &centrapay.PayRequest{AssetType: asset, IdempotencyKey: "p-" + id, TransactionID: "t"})
	return err
}
