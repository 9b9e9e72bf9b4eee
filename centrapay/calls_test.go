package centrapay

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"
)

const prJSON = `{"id":"VYowvZmuw3hbp1va9xqWx7","shortCode":"CP-X4V-6N","url":"https://app.centrapay.com/pay/VYowvZmuw3hbp1va9xqWx7",
"merchantId":"5efbe17d96c083633e2b9241","merchantName":"NZD Test Merchant","configId":"mc_5efbe2fb96c08357bb2b9242",
"value":{"amount":"9000","currency":"NZD"},"paymentOptions":[{"amount":"9000","assetType":"centrapay.nzd.test"}],
"status":"new","liveness":"test","createdAt":"2021-06-08T04:04:27.426Z","expiresAt":"2021-06-08T04:06:27.426Z",
"expirySeconds":120,"externalRef":"INV-1","somethingNew":{"x":1}}`

const activityJSON = `{"id":"94a564c9a66d4893b7edf8ccafe3c5fb","type":"refund","value":{"currency":"NZD","amount":"1000"},
"paymentRequestId":"MhocUmpxxmgdHjr7DgKoKw","activityNumber":"2","externalRef":"R-1","createdAt":"2021-06-08T04:04:27.426Z"}`

// want is what a handler checks of a request.
type want struct {
	method, path, query string
	body                string // JSON, compared structurally; "" means no body
}

func checkRequest(t *testing.T, r *http.Request, w want) {
	t.Helper()
	if r.Method != w.method || r.URL.Path != w.path || r.URL.RawQuery != w.query {
		t.Errorf("request %s %s?%s, want %s %s?%s", r.Method, r.URL.Path, r.URL.RawQuery, w.method, w.path, w.query)
	}
	if got := r.Header.Get("X-Api-Key"); got != testKey {
		t.Errorf("X-Api-Key = %q", got)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if r.Header.Get("User-Agent") == "" {
		t.Error("no User-Agent")
	}
	data, _ := io.ReadAll(r.Body)
	if w.body == "" {
		if len(data) != 0 || r.Header.Get("Content-Type") != "" {
			t.Errorf("unexpected body %q (Content-Type %q)", data, r.Header.Get("Content-Type"))
		}
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var got, exp any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("body %q: %v", data, err)
	}
	if err := json.Unmarshal([]byte(w.body), &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("body\n got %s\nwant %s", data, w.body)
	}
}

func TestCalls(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		want     want
		response string
		call     func(c *Client) (any, error)
		check    func(t *testing.T, v any)
	}{
		{"create", want{"POST", "/api/payment-requests", "",
			`{"configId":"mc_5efbe2fb96c08357bb2b9242","value":{"amount":"10000","currency":"NZD"},"expirySeconds":120,
			"lineItems":[{"name":"Hard Hat","sku":"GH1234","qty":"1","price":"4000","tax":"15","discount":"400"},
			{"name":"Tool Belt","sku":"GH1234","qty":"1","price":"6000","tax":"15","discount":"600"}],
			"externalRef":"INV-1","terminalId":"T1","deviceId":"D1","conditionsEnabled":true}`}, prJSON,
			func(c *Client) (any, error) {
				pr, _, err := c.Create(ctx, &CreateRequest{ConfigID: "mc_5efbe2fb96c08357bb2b9242", Value: Cents(10000, "NZD"), ExpirySeconds: 120,
					LineItems: []LineItem{{Name: "Hard Hat", SKU: "GH1234", Qty: "1", Price: "4000", Tax: "15", Discount: "400"},
						{Name: "Tool Belt", SKU: "GH1234", Qty: "1", Price: "6000", Tax: "15", Discount: "600"}},
					ExternalRef: "INV-1", TerminalID: "T1", DeviceID: "D1", ConditionsEnabled: true})
				return pr, err
			}, checkPR},
		{"get", want{"GET", "/api/payment-requests/VYowvZmuw3hbp1va9xqWx7", "", ""}, prJSON,
			func(c *Client) (any, error) { pr, _, err := c.Get(ctx, "VYowvZmuw3hbp1va9xqWx7"); return pr, err }, checkPR},
		{"short code normalised", want{"GET", "/api/payment-requests/short-code/CP-X4V-6N", "", ""}, prJSON,
			func(c *Client) (any, error) { pr, _, err := c.GetByShortCode(ctx, "cp x4v 6n"); return pr, err }, checkPR},
		{"list by external ref", want{"GET", "/api/payment-requests/external-ref/INV-1", "merchantAccountId=acc1&pageKey=k1&paginationLimit=10", ""},
			`{"items":[` + prJSON + `],"pageKey":"k2"}`,
			func(c *Client) (any, error) {
				p, _, err := c.ListByExternalRef(ctx, "INV-1", &ListOptions{MerchantAccountID: "acc1", PageKey: "k1", Limit: 10})
				return p, err
			}, func(t *testing.T, v any) {
				p := v.(*Page[PaymentRequest])
				if len(p.Items) != 1 || p.NextPageKey != "k2" {
					t.Errorf("page = %+v", p)
				}
			}},
		{"void", want{"POST", "/api/payment-requests/PR1/void", "", ""}, activityJSON,
			func(c *Client) (any, error) { a, _, err := c.Void(ctx, "PR1"); return a, err }, checkActivity},
		{"refund", want{"POST", "/api/payment-requests/PR1/refund", "", `{"value":{"amount":"1000","currency":"NZD"},"externalRef":"R-1"}`}, activityJSON,
			func(c *Client) (any, error) {
				a, _, err := c.Refund(ctx, "PR1", &RefundRequest{Value: Cents(1000, "NZD"), ExternalRef: "R-1"})
				return a, err
			}, checkActivity},
		{"accept condition", want{"POST", "/api/payment-requests/PR1/conditions/1/accept", "", ""},
			`{"type":"accept-condition","value":{"amount":100,"currency":"NZD"},"paymentRequestId":"PR1","conditionId":"1"}`,
			func(c *Client) (any, error) { a, _, err := c.AcceptCondition(ctx, "PR1", "1"); return a, err }, nil},
		{"decline condition", want{"POST", "/api/payment-requests/PR1/conditions/1/decline", "", ""},
			`{"type":"decline-condition","value":{"amount":"100","currency":"NZD"},"paymentRequestId":"PR1"}`,
			func(c *Client) (any, error) { a, _, err := c.DeclineCondition(ctx, "PR1", "1"); return a, err }, nil},
		{"confirm", want{"POST", "/api/payment-requests/PR1/confirm", "",
			`{"idempotencyKey":"K1","invoiceRef":"INV-9","value":{"amount":"6190","currency":"NZD"},"lineItems":[{"name":"Mug","qty":"1","price":"6190"}]}`},
			`{"type":"confirmation","value":{"amount":"6190","currency":"NZD"},"paymentRequestId":"PR1","idempotencyKey":"K1"}`,
			func(c *Client) (any, error) {
				v := Cents(6190, "NZD")
				a, _, err := c.Confirm(ctx, "PR1", &ConfirmRequest{IdempotencyKey: "K1", InvoiceRef: "INV-9", Value: &v,
					LineItems: []LineItem{{Name: "Mug", Qty: "1", Price: "6190"}}})
				return a, err
			}, nil},
		{"release", want{"POST", "/api/payment-requests/PR1/release", "", ""},
			`{"type":"release","value":{"amount":"0","currency":"NZD"},"paymentRequestId":"PR1"}`,
			func(c *Client) (any, error) { a, _, err := c.Release(ctx, "PR1"); return a, err }, nil},
		{"activities", want{"GET", "/api/payment-requests/PR1/activities", "", ""}, `[` + activityJSON + `]`,
			func(c *Client) (any, error) { a, _, err := c.Activities(ctx, "PR1"); return a, err }, nil},
		{"merchant activities", want{"GET", "/api/payment-activities", "merchantId=M1&pageKey=p", ""},
			`{"items":[` + activityJSON + `],"nextPageKey":"q"}`,
			func(c *Client) (any, error) {
				p, _, err := c.ListMerchantActivities(ctx, &ActivityListOptions{MerchantID: "M1", PageKey: "p"})
				return p, err
			}, nil},
		{"decode", want{"POST", "/api/decode", "", `{"code":"1234567890123456","scannedBy":"merchant","merchantConfigId":"mc1"}`},
			`{"code":"1234567890123456","provider":"centrapay","displayName":"Centrapay"}`,
			func(c *Client) (any, error) {
				d, _, err := c.Decode(ctx, &DecodeRequest{Code: "1234567890123456", ScannedBy: "merchant", MerchantConfigID: "mc1"})
				return d, err
			}, nil},
		{"pay", want{"POST", "/api/payment-requests/PR1/pay", "", `{"assetType":"external.test","idempotencyKey":"P1","amount":"200"}`},
			`{"type":"payment","value":{"amount":"200","currency":"NZD"},"paymentRequestId":"PR1","assetType":"external.test"}`,
			func(c *Client) (any, error) {
				a, _, err := c.Pay(ctx, "PR1", &PayRequest{AssetType: "external.test", IdempotencyKey: "P1", Amount: "200"})
				return a, err
			}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux, c, _ := setup(t)
			calls := 0
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				calls++
				checkRequest(t, r, tt.want)
				reply(w, 200, tt.response)
			})
			v, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Errorf("%d calls", calls)
			}
			if tt.check != nil {
				tt.check(t, v)
			}
		})
	}
}

func checkPR(t *testing.T, v any) {
	pr := v.(*PaymentRequest)
	if pr.ID != "VYowvZmuw3hbp1va9xqWx7" || pr.Status != StatusNew || pr.ShortCode != "CP-X4V-6N" ||
		pr.Value.Amount != "9000" || pr.ExpirySeconds != 120 || pr.CreatedAt.IsZero() {
		t.Errorf("payment request = %+v", pr)
	}
}

func checkActivity(t *testing.T, v any) {
	a := v.(*Activity)
	if a.Type != ActivityRefund || a.Value.Amount != "1000" || a.ActivityNumber != "2" {
		t.Errorf("activity = %+v", a)
	}
}
