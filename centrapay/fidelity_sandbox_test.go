package centrapay_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/sandbox"
)

// prModel and activityModel are the fields of Centrapay's Payment Request
// and Payment Activity models (payment-requests.mdoc): the sandbox may send
// one an example lacks, never a field outside them.
var (
	prModel = fieldSet("id shortCode url value paymentOptions merchantId merchantName configId status liveness createdAt updatedAt " +
		"expiresAt merchantConditions remainingAmount patronCodeId barcode barcodeType collectionId expirySeconds lineItems " +
		"purchaseOrderRef invoiceRef redirectCancelUrl redirectPaidUrl externalRef terminalId deviceId operatorId createdByAccountId " +
		"createdByAccountName conditionsEnabled patronNotPresent cancellationReason preAuth preAuthExpiresAt preAuthStatus taxNumber " +
		"partialAllowed paidBy basketAmount connectionId connectionStatus paymentLinkId")
	activityModel = fieldSet("id type value paymentRequestId merchantId merchantConfigId merchantAccountId merchantName createdAt " +
		"createdBy paymentRequestCreatedBy activityNumber shortCode assetType external cancellationReason conditionId idempotencyKey " +
		"confirmationIdempotencyKey preAuth paidBy strategy")
	// notApplicable are example fields the sandbox leaves out because what
	// they describe does not exist in it.
	notApplicable = map[string]string{
		"connectionId":        "the sandbox has no connections (create with one answers CONNECTION_NOT_FOUND)",
		"connectionStatus":    "the sandbox has no connections",
		"acceptedCollections": "only centrapay.token payment options have them; the sandbox has no token collections",
	}
)

func fieldSet(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(s) {
		m[f] = "a documented model field"
	}
	return m
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// sandboxRig is a sandbox served in-process on a fake clock, called with
// raw HTTP so that its bodies are compared as sent.
type sandboxRig struct {
	t    *testing.T
	url  string
	seed sandbox.Seed
	sb   *sandbox.Sandbox
}

func newSandboxRig(t *testing.T, rateLimit int) *sandboxRig {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{Clock: clock.NewFake(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)), RateLimit: rateLimit})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &sandboxRig{t: t, url: srv.URL, seed: sb.Seed(), sb: sb}
}

// call makes a call and returns its status and body.
func (r *sandboxRig) call(method, path string, body any) (int, []byte) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, r.url+path, rd)
	req.Header.Set("X-Api-Key", r.seed.APIKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// ok makes a call that must answer 200 and returns the body as JSON.
func (r *sandboxRig) ok(method, path string, body any) map[string]any {
	r.t.Helper()
	status, b := r.call(method, path, body)
	if status != http.StatusOK {
		r.t.Fatalf("%s %s: %d %s", method, path, status, b)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// example returns a request example with the sandbox's merchant config.
func (r *sandboxRig) example(file string, edit func(m map[string]any)) map[string]any {
	m := toJSON(r.t, readDoc(r.t, file)).(map[string]any)
	for _, k := range []string{"configId", "merchantConfigId"} {
		if _, ok := m[k]; ok {
			m[k] = r.seed.ConfigID
		}
	}
	if edit != nil {
		edit(m)
	}
	return m
}

// create makes a request of value cents with edit applied, returning its id.
func (r *sandboxRig) create(value int, edit func(m map[string]any)) string {
	m := map[string]any{"configId": r.seed.ConfigID, "value": map[string]any{"amount": itoa(value), "currency": "NZD"}}
	if edit != nil {
		edit(m)
	}
	return r.ok("POST", "/api/payment-requests", m)["id"].(string)
}

func (r *sandboxRig) barcode(name string) string { return r.sb.Scenarios()[name].Barcode }

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// paid creates a request of value cents paid on its first poll by the
// scenario's patron.
func (r *sandboxRig) paid(value int, scenario string) string {
	id := r.create(value, func(m map[string]any) { m["barcode"] = r.barcode(scenario); m["conditionsEnabled"] = true })
	r.ok("GET", "/api/payment-requests/"+id, nil)
	return id
}

// TestSandboxMatchesDocs makes, against the sandbox, the call each docs
// response example answers, and compares the sandbox's answer with the
// example structurally: the same field names at every level (the sandbox
// may lack a field only where it does not apply, and may add only fields of
// the documented models), the same JSON types and nesting.
func TestSandboxMatchesDocs(t *testing.T) {
	prRules := shapeRules{mayOmit: notApplicable, mayAdd: prModel}
	actRules := shapeRules{mayAdd: activityModel}
	for _, tt := range []struct {
		name, file string
		status     int
		answer     func(r *sandboxRig) (int, []byte)
		rules      shapeRules
	}{
		{"create", "create.response.json", 200, func(r *sandboxRig) (int, []byte) {
			return r.call("POST", "/api/payment-requests", r.example("create.request.json", func(m map[string]any) { delete(m, "connectionId") }))
		}, prRules},
		{"create (OpenAPI example)", "create-openapi.response.json", 200, func(r *sandboxRig) (int, []byte) {
			return r.call("POST", "/api/payment-requests", r.example("create-openapi.request.json", func(m map[string]any) { delete(m, "connectionId") }))
		}, prRules},
		{"get, paid", "get.response.json", 200, func(r *sandboxRig) (int, []byte) {
			id := r.create(8991, func(m map[string]any) {
				m["barcode"], m["purchaseOrderRef"], m["invoiceRef"] = r.barcode("quick-pay"), "po-1", "inv-1"
				m["lineItems"] = []any{map[string]any{"name": "Coffee", "sku": "GH1234", "qty": "1", "price": "8991", "tax": "15.00", "discount": "199"}}
			})
			return r.call("GET", "/api/payment-requests/"+id, nil)
		}, prRules},
		{"get, awaiting a condition", "get.response.json", 200, func(r *sandboxRig) (int, []byte) {
			id := r.create(8991, func(m map[string]any) {
				m["barcode"], m["purchaseOrderRef"], m["invoiceRef"], m["conditionsEnabled"] = r.barcode("photo-id"), "po-1", "inv-1", true
				m["lineItems"] = []any{map[string]any{"name": "Coffee", "sku": "GH1234", "qty": "1", "price": "8991", "tax": "15.00"}}
			})
			return r.call("GET", "/api/payment-requests/"+id, nil)
		}, shapeRules{mayAdd: prModel, mayOmit: merge(notApplicable, map[string]string{"paidBy": "the request is unpaid; the example shows paidBy on a new request"})}},
		{"get by short code", "get-by-short-code.response.json", 200, func(r *sandboxRig) (int, []byte) {
			id := r.create(100, func(m map[string]any) { m["barcode"] = r.barcode("patron-approval") })
			code := r.ok("GET", "/api/payment-requests/"+id, nil)["shortCode"].(string)
			return r.call("GET", "/api/payment-requests/short-code/"+code, nil)
		}, prRules},
		{"list by external ref", "list-by-external-ref.response.json", 200, func(r *sandboxRig) (int, []byte) {
			for range 2 {
				r.create(8991, func(m map[string]any) { m["externalRef"] = "ref-1" })
			}
			return r.call("GET", "/api/payment-requests/external-ref/ref-1?paginationLimit=1&merchantAccountId="+r.seed.MerchantAccountID, nil)
		}, shapeRules{mayOmit: merge(notApplicable, map[string]string{"pageKey": "docs contradiction: the Pagination reference names it nextPageKey"}),
			mayAdd: merge(prModel, map[string]string{"nextPageKey": "the Pagination reference"})}},
		{"void of a paid request", "void.response.json", 200, func(r *sandboxRig) (int, []byte) {
			return r.call("POST", "/api/payment-requests/"+r.paid(1000, "quick-pay")+"/void", nil)
		}, actRules},
		{"refund", "refund.response.json", 200, func(r *sandboxRig) (int, []byte) {
			id := r.paid(10000, "quick-pay")
			return r.call("POST", "/api/payment-requests/"+id+"/refund", r.example("refund.request.json", func(m map[string]any) { m["invoiceRef"] = "inv-1" }))
		}, actRules},
		{"refund of a Farmlands payment", "refund-farmlands.response.json", 200, func(r *sandboxRig) (int, []byte) {
			id := r.paid(10000, "farmlands-card")
			return r.call("POST", "/api/payment-requests/"+id+"/refund", r.example("refund-farmlands.request.json", func(m map[string]any) { m["invoiceRef"] = "inv-1" }))
		}, shapeRules{mayAdd: merge(activityModel, map[string]string{"lineItems": "docs contradiction: this example drops the refund's line items, the refund reference example echoes them"})}},
		{"accept condition", "accept-condition.response.json", 200, func(r *sandboxRig) (int, []byte) {
			return r.call("POST", "/api/payment-requests/"+r.paid(100, "photo-id")+"/conditions/1/accept", nil)
		}, shapeRules{mayAdd: activityModel, retype: amountAsNumber}},
		{"decline condition", "decline-condition.response.json", 200, func(r *sandboxRig) (int, []byte) {
			return r.call("POST", "/api/payment-requests/"+r.paid(100, "photo-id")+"/conditions/1/decline", nil)
		}, shapeRules{mayAdd: activityModel, retype: amountAsNumber}},
		{"confirm", "confirm.response.json", 200, func(r *sandboxRig) (int, []byte) {
			id := r.create(10000, func(m map[string]any) { m["barcode"], m["preAuth"] = r.barcode("pre-auth"), true })
			r.ok("GET", "/api/payment-requests/"+id, nil)
			return r.call("POST", "/api/payment-requests/"+id+"/confirm", r.example("confirm.request.json", nil))
		}, shapeRules{mayAdd: merge(activityModel, fieldSet("productId restricted classification"))}}, // Line Item model fields the example's echo drops
		{"release", "release.response.json", 200, func(r *sandboxRig) (int, []byte) {
			id := r.create(10000, func(m map[string]any) { m["barcode"], m["preAuth"] = r.barcode("pre-auth"), true })
			r.ok("GET", "/api/payment-requests/"+id, nil)
			return r.call("POST", "/api/payment-requests/"+id+"/release", nil)
		}, actRules},
		{"pay", "pay.response.json", 200, func(r *sandboxRig) (int, []byte) {
			id := r.create(1000, func(m map[string]any) { m["partialAllowed"], m["basketAmount"] = true, "1000" })
			return r.call("POST", "/api/payment-requests/"+id+"/pay", r.example("pay.request.json", func(m map[string]any) { m["assetType"] = "centrapay.nzd.test" }))
		}, actRules},
		{"activities", "activities.response.json", 200, func(r *sandboxRig) (int, []byte) {
			id := r.paid(10000, "quick-pay")
			r.ok("POST", "/api/payment-requests/"+id+"/refund", r.example("refund.request.json", nil))
			return r.call("GET", "/api/payment-requests/"+id+"/activities", nil)
		}, shapeRules{mayAdd: merge(activityModel, map[string]string{"lineItems": "the refund example echoes them"})}},
		{"merchant activities", "payment-activities.response.json", 200, func(r *sandboxRig) (int, []byte) {
			id := r.create(100, func(m map[string]any) { m["barcode"], m["preAuth"] = r.barcode("pre-auth"), true })
			r.ok("GET", "/api/payment-requests/"+id, nil)
			r.paid(100, "quick-pay")
			return r.call("GET", "/api/payment-activities?paginationLimit=4&merchantId="+r.seed.MerchantID, nil)
		}, actRules},
		{"decode", "decode.response.json", 200, func(r *sandboxRig) (int, []byte) {
			return r.call("POST", "/api/decode", r.example("decode.request.json", nil))
		}, shapeRules{}},
		{"error 403", "error-403-with-reason.response.json", 403, func(r *sandboxRig) (int, []byte) {
			return r.call("POST", "/api/payment-requests/"+r.paid(100, "quick-pay")+"/pay",
				map[string]any{"assetType": "external.test", "idempotencyKey": "k", "transactionId": "t"})
		}, shapeRules{}},
		{"error 400", "error-400.response.json", 400, func(r *sandboxRig) (int, []byte) {
			return r.call("POST", "/api/payment-requests", map[string]any{"configId": r.seed.ConfigID})
		}, shapeRules{mayAdd: map[string]string{"error": "the 401, 403, 404 and 429 examples and the error-handling guide have it", "reason": "the error-handling guide"}}},
		{"error 404", "error-404.response.json", 404, func(r *sandboxRig) (int, []byte) { return r.call("GET", "/api/nowhere", nil) },
			shapeRules{mayAdd: map[string]string{"reason": "the error-handling guide"}}},
		{"error 401", "error-401.response.json", 401, func(r *sandboxRig) (int, []byte) {
			req, _ := http.NewRequest("GET", r.url+"/api/payment-requests/x", nil)
			req.Header.Set("X-Api-Key", "wrong")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				r.t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, b
		}, shapeRules{mayAdd: map[string]string{"reason": "the error-handling guide"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newSandboxRig(t, -1)
			status, body := tt.answer(r)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			reportDiffs(t, "the sandbox's answer", shapeDiff("$", readDoc(t, tt.file), toJSON(t, body), tt.rules))
		})
	}
	t.Run("error 429", func(t *testing.T) {
		r := newSandboxRig(t, 1)
		r.call("GET", "/api/payment-requests/x", nil)
		status, body := r.call("GET", "/api/payment-requests/x", nil)
		if status != http.StatusTooManyRequests {
			t.Fatalf("status %d", status)
		}
		reportDiffs(t, "the sandbox's answer", shapeDiff("$", readDoc(t, "error-429.response.json"), toJSON(t, body),
			shapeRules{mayAdd: map[string]string{"reason": "the error-handling guide"}}))
	})
}
