package centrapay_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/centrapos/centrapos/centrapay"
)

// docsServer serves one docs example file with a status to every call, and
// records the last request's body and query.
type docsServer struct {
	status int
	body   []byte
	gotReq []byte
	query  map[string][]string
	path   string
}

func newDocsClient(t *testing.T, d *docsServer) *centrapay.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.gotReq, _ = io.ReadAll(r.Body)
		d.query, d.path = r.URL.Query(), r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(d.status)
		w.Write(d.body)
	}))
	t.Cleanup(srv.Close)
	c, err := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey("k"),
		centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 1}), centrapay.WithRateLimit(1000000))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(docsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// amountAsNumber is the rule for the condition examples, whose value.amount
// is a bare number (100) where every other example and the Monetary type
// give a BigNumber string: the client accepts both and sends strings.
var amountAsNumber = map[string]string{"$.value.amount": "condition examples give a bare number; the Monetary data type is a BigNumber string"}

// TestDocsResponsesDecode serves each of Centrapay's response examples to
// the client method that reads it, checks the fields a POS uses, and
// re-encodes the result: every field and value of the example must come
// back, so that nothing the example carries is lost.
func TestDocsResponsesDecode(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		file  string
		call  func(c *centrapay.Client) (any, error)
		check func(t *testing.T, v any)
		wrap  func(v any) any // what to re-encode, when not v itself
		rules shapeRules
	}{
		{file: "create.response.json", call: func(c *centrapay.Client) (any, error) {
			pr, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: "mc_5efbe2fb96c08357bb2b9242", Value: centrapay.Cents(10000, "NZD")})
			return pr, err
		}, check: checkPR},
		{file: "create-openapi.response.json", call: func(c *centrapay.Client) (any, error) {
			pr, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: "mc_5efbe2fb96c08357bb2b9242", Value: centrapay.Cents(10000, "NZD")})
			return pr, err
		}, check: func(t *testing.T, v any) {
			// this example has no paymentOptions (the other create example has six)
			pr := v.(*centrapay.PaymentRequest)
			if pr.ID == "" || pr.Value.Amount != "10000" || pr.Status != centrapay.StatusNew || pr.ExpiresAt.IsZero() || len(pr.LineItems) != 2 {
				t.Errorf("payment request %+v", pr)
			}
		}},
		{file: "get.response.json", call: func(c *centrapay.Client) (any, error) {
			pr, _, err := c.Get(ctx, "MhocUmpxxmgdHjr7DgKoKw")
			return pr, err
		}, check: func(t *testing.T, v any) {
			checkPR(t, v)
			pr := v.(*centrapay.PaymentRequest)
			if len(pr.MerchantConditions) != 1 || pr.MerchantConditions[0].Status != centrapay.ConditionAwaitingMerchant || pr.MerchantConditions[0].ID != "1" ||
				pr.PaidBy == nil || pr.PaidBy.AssetTotals[0].Description == "" || pr.PaidBy.AssetTotals[0].SettlementDate.IsZero() ||
				pr.PatronCodeID == "" || len(pr.LineItems) != 2 || pr.PaymentOptions[1].AcceptedCollections[0].LineItems[0].Tax != "15.00" {
				t.Errorf("get: %+v", pr)
			}
		}},
		{file: "get-by-short-code.response.json", call: func(c *centrapay.Client) (any, error) {
			pr, _, err := c.GetByShortCode(ctx, "CP-C7F-ZS5")
			return pr, err
		}, check: func(t *testing.T, v any) {
			checkPR(t, v)
			if pr := v.(*centrapay.PaymentRequest); pr.MerchantConditions == nil {
				t.Error("merchantConditions [] decoded as absent")
			}
		}},
		{file: "list-by-external-ref.response.json", call: func(c *centrapay.Client) (any, error) {
			p, _, err := c.ListByExternalRef(ctx, "e8df06e2-13a5-48b4-b670-3fd6d815fe0a", &centrapay.ListOptions{MerchantAccountID: "1mdj7bj95gjo92r0ux6wfy69gj3h77"})
			return p, err
		}, check: func(t *testing.T, v any) {
			p := v.(*centrapay.Page[centrapay.PaymentRequest])
			if len(p.Items) != 1 || p.NextPageKey != "12312312" {
				t.Errorf("page %+v", p)
			}
			checkPR(t, &p.Items[0])
		}, rules: shapeRules{
			mayOmit: map[string]string{"pageKey": "this example names the next page's key pageKey; the Pagination reference and the merchant activities example name it nextPageKey, which the client reads into Page.NextPageKey from either"},
			mayAdd:  map[string]string{"nextPageKey": "see pageKey"},
		}},
		{file: "void.response.json", call: func(c *centrapay.Client) (any, error) {
			a, _, err := c.Void(ctx, "MhocUmpxxmgdHjr7DgKoKw")
			return a, err
		}, check: checkActivity(centrapay.ActivityRefund)},
		{file: "refund.response.json", call: func(c *centrapay.Client) (any, error) {
			a, _, err := c.Refund(ctx, "MhocUmpxxmgdHjr7DgKoKw", &centrapay.RefundRequest{Value: centrapay.Cents(3600, "NZD"), ExternalRef: "r"})
			return a, err
		}, check: checkActivity(centrapay.ActivityRefund)},
		{file: "refund-farmlands.response.json", call: func(c *centrapay.Client) (any, error) {
			a, _, err := c.Refund(ctx, "MhocUmpxxmgdHjr7DgKoKw", &centrapay.RefundRequest{Value: centrapay.Cents(6000, "NZD"), ExternalRef: "r"})
			return a, err
		}, check: checkActivity(centrapay.ActivityRefund)},
		{file: "accept-condition.response.json", call: func(c *centrapay.Client) (any, error) {
			a, _, err := c.AcceptCondition(ctx, "MhocUmpxxmgdHjr7DgKoKw", "1")
			return a, err
		}, check: checkActivity(centrapay.ActivityAcceptCondition), rules: shapeRules{retype: amountAsNumber}},
		{file: "decline-condition.response.json", call: func(c *centrapay.Client) (any, error) {
			a, _, err := c.DeclineCondition(ctx, "MhocUmpxxmgdHjr7DgKoKw", "1")
			return a, err
		}, check: checkActivity(centrapay.ActivityDeclineCondition), rules: shapeRules{retype: amountAsNumber}},
		{file: "confirm.response.json", call: func(c *centrapay.Client) (any, error) {
			a, _, err := c.Confirm(ctx, "MhocUmpxxmgdHjr7DgKoKw", &centrapay.ConfirmRequest{IdempotencyKey: "k", InvoiceRef: "i", LineItems: []centrapay.LineItem{{Name: "x", Qty: "1", Price: "1"}}})
			return a, err
		}, check: checkActivity(centrapay.ActivityConfirmation)},
		{file: "release.response.json", call: func(c *centrapay.Client) (any, error) {
			a, _, err := c.Release(ctx, "MhocUmpxxmgdHjr7DgKoKw")
			return a, err
		}, check: checkActivity(centrapay.ActivityRelease)},
		{file: "pay.response.json", call: func(c *centrapay.Client) (any, error) {
			a, _, err := c.Pay(ctx, "MhocUmpxxmgdHjr7DgKoKw", &centrapay.PayRequest{AssetType: "centrapay.nzd.main", IdempotencyKey: "k", AssetID: "a"})
			return a, err
		}, check: checkActivity(centrapay.ActivityPayment)},
		{file: "activities.response.json", call: func(c *centrapay.Client) (any, error) {
			as, _, err := c.Activities(ctx, "MhocUmpxxmgdHjr7DgKoKw")
			return as, err
		}, check: func(t *testing.T, v any) {
			as := v.([]centrapay.Activity)
			if len(as) != 3 || as[0].Type != centrapay.ActivityRefund || as[2].Type != centrapay.ActivityRequest {
				t.Errorf("activities %+v", as)
			}
		}, wrap: func(v any) any { return map[string]any{"items": v} }},
		{file: "payment-activities.response.json", call: func(c *centrapay.Client) (any, error) {
			p, _, err := c.ListMerchantActivities(ctx, &centrapay.ActivityListOptions{MerchantID: "5ee0c486308f590260d9a07f"})
			return p, err
		}, check: func(t *testing.T, v any) {
			p := v.(*centrapay.Page[centrapay.Activity])
			if len(p.Items) != 5 || p.NextPageKey == "" || p.Items[3].Type != centrapay.ActivityAuthorization || !p.Items[4].PreAuth {
				t.Errorf("page %+v", p)
			}
		}, rules: shapeRules{revalue: map[string]string{"$.items[3].type": `the example spells it "Authorization"; the Payment Activity Types table "authorization", which the client normalises to`}}},
		{file: "decode.response.json", call: func(c *centrapay.Client) (any, error) {
			d, _, err := c.Decode(ctx, &centrapay.DecodeRequest{Code: "123456789", ScannedBy: "merchant", MerchantConfigID: "P9gm1s1Cu1Q5uooxs"})
			return d, err
		}, check: func(t *testing.T, v any) {
			if d := v.(*centrapay.DecodedCode); d.Provider != "farmlands" || d.DisplayName == "" {
				t.Errorf("decoded %+v", d)
			}
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			d := &docsServer{status: http.StatusOK, body: readFile(t, tt.file)}
			v, err := tt.call(newDocsClient(t, d))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, v)
			if tt.wrap != nil {
				v = tt.wrap(v)
			}
			tt.rules.values = true
			reportDiffs(t, "the client's re-encoding", shapeDiff("$", readDoc(t, tt.file), toJSON(t, v), tt.rules))
		})
	}
}

// TestDocsActivitiesBareArray keeps reading the bare array that earlier
// sandboxes answered, and refuses an object without items.
func TestDocsActivitiesBareArray(t *testing.T) {
	for _, tt := range []struct {
		body string
		n    int
		ok   bool
	}{
		{`[{"type":"request","value":{"amount":"1","currency":"NZD"},"paymentRequestId":"p"}]`, 1, true},
		{`{"items":[]}`, 0, true},
		{`{"things":[]}`, 0, false},
		{`null`, 0, false},
	} {
		d := &docsServer{status: http.StatusOK, body: []byte(tt.body)}
		as, _, err := newDocsClient(t, d).Activities(context.Background(), "p")
		if (err == nil) != tt.ok || len(as) != tt.n {
			t.Errorf("%s: %d activities, %v", tt.body, len(as), err)
		}
	}
}

func checkPR(t *testing.T, v any) {
	t.Helper()
	pr := v.(*centrapay.PaymentRequest)
	if pr.ID == "" || pr.URL == "" || pr.Value.Amount.IsZero() || pr.Value.Currency == "" || !pr.Status.Valid() ||
		pr.CreatedAt.IsZero() || pr.ExpiresAt.IsZero() || len(pr.PaymentOptions) == 0 || pr.PaymentOptions[0].AssetType == "" {
		t.Errorf("payment request %+v", pr)
	}
}

func checkActivity(typ string) func(t *testing.T, v any) {
	return func(t *testing.T, v any) {
		t.Helper()
		a := v.(*centrapay.Activity)
		if a.Type != typ || a.PaymentRequestID == "" || a.Value.Amount.IsZero() || a.CreatedAt.IsZero() {
			t.Errorf("activity %+v, want type %s", a, typ)
		}
		if _, err := a.Value.Amount.Int64(); err != nil {
			t.Errorf("amount: %v", err)
		}
	}
}

// TestDocsErrorBodies serves the error examples of Centrapay's HTTP status
// code page and error-handling guide: each is a known refusal carrying its
// message as the code.
func TestDocsErrorBodies(t *testing.T) {
	for _, tt := range []struct {
		file   string
		status int
		code   centrapay.ErrorCode
	}{
		{"error-400.response.json", 400, "amount is required"},
		{"error-401.response.json", 401, ""},
		{"error-403-business-rule.response.json", 403, "INSUFFICIENT_BALANCE"},
		{"error-403-with-reason.response.json", 403, "ERROR_MESSAGE"},
		{"error-404.response.json", 404, ""},
	} {
		t.Run(tt.file, func(t *testing.T) {
			d := &docsServer{status: tt.status, body: readFile(t, tt.file)}
			_, _, err := newDocsClient(t, d).Get(context.Background(), "p")
			var e *centrapay.Error
			if !errors.As(err, &e) || e.StatusCode != tt.status || e.Code == "" || (tt.code != "" && e.Code != tt.code) {
				t.Errorf("%v, want %d %s", err, tt.status, tt.code)
			}
		})
	}
}

// TestDocsRequestsEncode decodes each of Centrapay's request examples into
// the client's request type, sends it with the client method, and compares
// the body sent (field names, BigNumber strings, nesting and values) with
// the example.
func TestDocsRequestsEncode(t *testing.T) {
	ctx := context.Background()
	const id = "MhocUmpxxmgdHjr7DgKoKw"
	for _, tt := range []struct {
		file  string
		fix   func(m map[string]any) // makes the example decodable, for a docs contradiction
		send  func(c *centrapay.Client, body []byte) error
		rules shapeRules
	}{
		{file: "create-openapi.request.json", send: func(c *centrapay.Client, b []byte) error {
			var in centrapay.CreateRequest
			return sendDecoded(b, &in, func() error { _, _, err := c.Create(ctx, &in); return err })
		}},
		{file: "create.request.json", fix: func(m map[string]any) { m["expirySeconds"] = 120 }, send: func(c *centrapay.Client, b []byte) error {
			var in centrapay.CreateRequest
			return sendDecoded(b, &in, func() error { _, _, err := c.Create(ctx, &in); return err })
		}, rules: shapeRules{retype: map[string]string{"$.expirySeconds": `this example sends "120"; the model and the OpenAPI example a number, which the client sends`}}},
		{file: "refund.request.json", send: func(c *centrapay.Client, b []byte) error {
			var in centrapay.RefundRequest
			return sendDecoded(b, &in, func() error { _, _, err := c.Refund(ctx, id, &in); return err })
		}},
		{file: "refund-farmlands.request.json", send: func(c *centrapay.Client, b []byte) error {
			var in centrapay.RefundRequest
			return sendDecoded(b, &in, func() error { _, _, err := c.Refund(ctx, id, &in); return err })
		}},
		{file: "confirm.request.json", send: func(c *centrapay.Client, b []byte) error {
			var in centrapay.ConfirmRequest
			return sendDecoded(b, &in, func() error { _, _, err := c.Confirm(ctx, id, &in); return err })
		}},
		{file: "pay.request.json", send: func(c *centrapay.Client, b []byte) error {
			var in centrapay.PayRequest
			return sendDecoded(b, &in, func() error { _, _, err := c.Pay(ctx, id, &in); return err })
		}},
		{file: "decode.request.json", send: func(c *centrapay.Client, b []byte) error {
			var in centrapay.DecodeRequest
			return sendDecoded(b, &in, func() error { _, _, err := c.Decode(ctx, &in); return err })
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			example := readDoc(t, tt.file)
			fixed := toJSON(t, example).(map[string]any)
			if tt.fix != nil {
				tt.fix(fixed)
			}
			b, _ := json.Marshal(fixed)
			d := &docsServer{status: http.StatusOK, body: []byte(`{"id":"x","status":"new","type":"refund","code":"c","provider":"p"}`)}
			if err := tt.send(newDocsClient(t, d), b); err != nil {
				t.Fatal(err)
			}
			tt.rules.values = true
			reportDiffs(t, "the body the client sent", shapeDiff("$", example, toJSON(t, d.gotReq), tt.rules))
		})
	}
}

func sendDecoded(body []byte, in any, send func() error) error {
	if err := json.Unmarshal(body, in); err != nil {
		return err
	}
	return send()
}

// TestDocsQueriesEncode checks the query parameters the list calls send
// against the examples' query strings.
func TestDocsQueriesEncode(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		file string
		call func(c *centrapay.Client, q map[string]string) error
	}{
		{"list-by-external-ref.query.json", func(c *centrapay.Client, q map[string]string) error {
			_, _, err := c.ListByExternalRef(ctx, "e8df06e2-13a5-48b4-b670-3fd6d815fe0a", &centrapay.ListOptions{MerchantAccountID: q["merchantAccountId"]})
			return err
		}},
		{"payment-activities.query.json", func(c *centrapay.Client, q map[string]string) error {
			_, _, err := c.ListMerchantActivities(ctx, &centrapay.ActivityListOptions{MerchantID: q["merchantId"], PageKey: q["pageKey"]})
			return err
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			var q map[string]string
			if err := json.Unmarshal(readFile(t, tt.file), &q); err != nil {
				t.Fatal(err)
			}
			d := &docsServer{status: http.StatusOK, body: []byte(`{"items":[]}`)}
			if err := tt.call(newDocsClient(t, d), q); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k, v := range d.query {
				got[k] = v[0]
			}
			var w, g any = toJSON(t, q), toJSON(t, got)
			reportDiffs(t, "the query the client sent", shapeDiff("$", w, g, shapeRules{values: true}))
		})
	}
}
