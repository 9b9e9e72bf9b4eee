package centrapay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// documentedErrors lists, per call, every error code Centrapay documents for it.
var documentedErrors = map[string][]ErrorCode{
	"create": {ErrLineItemsSumCheckFailed, ErrChecksumFailed, ErrPatronCodeInvalid, ErrNoAvailablePaymentOptions,
		ErrRedirectURLInvalid, ErrTokenCollectionNotFound, ErrConnectionNotFound},
	"get":        {},
	"short code": {ErrChecksumFailed},
	"void": {ErrVoidWindowExceeded, ErrAlreadyRefunded, ErrRepeatReference, ErrInactiveAsset, ErrRefundNotSupported,
		ErrRequestExpired, ErrPreAuthAlreadyConfirmed},
	"refund": {ErrLineItemsSumCheckFailed, ErrNotPaid, ErrAlreadyRefunded, ErrInvalidAmount, ErrRepeatReference,
		ErrPartialRefundsNotAllowed, ErrInactiveAsset, ErrRefundNotSupported, ErrRefundWindowExceeded, ErrPreAuthPending,
		ErrConfirmationNotFound, ErrRefundDeclined},
	"accept":  {ErrMerchantNotAuthorized, ErrPatronNotAuthorized, ErrConditionAlreadySet},
	"decline": {ErrMerchantNotAuthorized, ErrPatronNotAuthorized, ErrConditionAlreadySet},
	"confirm": {ErrInvalidPaymentRequestType, ErrPreAuthReleased, ErrPreAuthPending, ErrRequestCancelled, ErrInvalidAmount,
		ErrIdempotentOperationFailed},
	"release": {ErrInvalidPaymentRequestType, ErrPreAuthReleased},
	"decode":  {ErrUnknownCode, ErrMerchantConfigNotFound, ErrInvalidMerchantConfig},
	"pay": {ErrInvalidAssetType, ErrRequestExpired, ErrRequestPaid, ErrRequestCancelled, ErrInactiveAsset,
		ErrInvalidMerchantConfig, ErrQuotaExceeded, ErrInsufficientAssetValue, ErrAssetRedemptionDenied,
		ErrPaymentDeclined, ErrPaymentUnconfirmed},
}

// invoke makes the named call with valid arguments.
func invoke(c *Client, ctx context.Context, name string) (*Response, error) {
	var resp *Response
	var err error
	switch name {
	case "create":
		_, resp, err = c.Create(ctx, &CreateRequest{ConfigID: "mc1", Value: Cents(100, "NZD"), ExternalRef: "X"})
	case "get":
		_, resp, err = c.Get(ctx, "PR1")
	case "short code":
		_, resp, err = c.GetByShortCode(ctx, "CP-C7F-ZS5")
	case "void":
		_, resp, err = c.Void(ctx, "PR1")
	case "refund":
		_, resp, err = c.Refund(ctx, "PR1", &RefundRequest{Value: Cents(100, "NZD"), ExternalRef: "R1"})
	case "accept":
		_, resp, err = c.AcceptCondition(ctx, "PR1", "1")
	case "decline":
		_, resp, err = c.DeclineCondition(ctx, "PR1", "1")
	case "confirm":
		_, resp, err = c.Confirm(ctx, "PR1", &ConfirmRequest{IdempotencyKey: "K", InvoiceRef: "I", LineItems: []LineItem{{Name: "a", Qty: "1", Price: "1"}}})
	case "release":
		_, resp, err = c.Release(ctx, "PR1")
	case "decode":
		_, resp, err = c.Decode(ctx, &DecodeRequest{Code: "123", ScannedBy: "merchant"})
	case "pay":
		_, resp, err = c.Pay(ctx, "PR1", &PayRequest{AssetType: "external.test", IdempotencyKey: "K"})
	case "activities":
		_, resp, err = c.Activities(ctx, "PR1")
	case "list":
		_, resp, err = c.ListByExternalRef(ctx, "X", nil)
	default:
		panic(name)
	}
	return resp, err
}

func TestDocumentedErrorsAreKnown(t *testing.T) {
	for call, codes := range documentedErrors {
		for _, code := range append(codes, "SOME_FUTURE_CODE") {
			t.Run(call+"/"+string(code), func(t *testing.T) {
				mux, c, _ := setup(t)
				status := 403
				if code == ErrChecksumFailed || code == ErrLineItemsSumCheckFailed {
					status = 400
				}
				n := 0
				mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
					n++
					reply(w, status, fmt.Sprintf(`{"statusCode":%d,"error":"Forbidden","message":%q,"reason":"because"}`, status, code))
				})
				_, err := invoke(c, context.Background(), call)
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, code) || IsUnknownOutcome(err) {
					t.Fatalf("err = %v, want known %s", err, code)
				}
				if e.StatusCode != status || e.Reason != "because" || e.ErrorText != "Forbidden" {
					t.Errorf("error = %+v", e)
				}
				if n != 1 {
					t.Errorf("a known refusal was sent %d times", n)
				}
			})
		}
	}
}

func TestKnownStatuses(t *testing.T) {
	for _, tt := range []struct {
		status int
		body   string
		code   ErrorCode
	}{
		{400, `{"statusCode":400,"error":"Bad Request","message":"VALIDATION","reason":"value.amount: must be positive"}`, "VALIDATION"},
		{401, `{"statusCode":401,"error":"Unauthorized","message":"UNAUTHORIZED"}`, ErrUnauthorized},
		{401, ``, ErrUnauthorized},
		{404, `{"statusCode":404,"error":"Not Found","message":"NOT_FOUND"}`, "NOT_FOUND"},
	} {
		t.Run(fmt.Sprint(tt.status, tt.code), func(t *testing.T) {
			mux, c, _ := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { reply(w, tt.status, tt.body) })
			_, _, err := c.Get(context.Background(), "PR1")
			if !errors.Is(err, tt.code) || IsUnknownOutcome(err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestUnknownOutcomes(t *testing.T) {
	hijackClose := func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { reply(w, 500, `{"statusCode":500,"message":"INTERNAL"}`) }},
		{"502 html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			w.Write([]byte("<html><body>Bad Gateway</body></html>"))
		}},
		{"503", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }},
		{"429", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			reply(w, 429, `{"statusCode":429,"message":"RATE_LIMIT_EXCEEDED"}`)
		}},
		{"200 empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }},
		{"200 truncated", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, prJSON[:60]) }},
		{"200 not json", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, "OK") }},
		{"200 html", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, "<!doctype html><p>maintenance</p>") }},
		{"200 no id", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, `{"status":"paid"}`) }},
		{"200 no status", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, `{"id":"PR1"}`) }},
		{"200 bad status", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, `{"id":"PR1","status":"weird"}`) }},
		{"200 trailing", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, prJSON+"{}") }},
		{"204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }},
		{"302", func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Location", "/x"); w.WriteHeader(302) }},
		{"418", func(w http.ResponseWriter, r *http.Request) { reply(w, 418, `{"message":"TEAPOT"}`) }},
		{"403 html from a proxy", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(403)
			w.Write([]byte("<html>denied</html>"))
		}},
		{"connection reset", hijackClose},
		{"timeout", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux, c, fake := setup(t, WithTimeout(50*time.Millisecond), WithHTTPClient(&http.Client{
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}))
			var n atomic.Int32
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { n.Add(1); tt.handler(w, r) })
			done := make(chan struct{})
			defer close(done)
			go advanceWhileWaiting(fake, done)
			_, resp, err := c.Get(context.Background(), "PR1")
			if !IsUnknownOutcome(err) {
				t.Fatalf("err = %v, want unknown outcome", err)
			}
			var e *Error
			if errors.As(err, &e) && e.StatusCode != 429 {
				t.Errorf("unknown outcome also matches *Error: %v", err)
			}
			if n.Load() != 3 {
				t.Errorf("get sent %d times, want 3 (retried)", n.Load())
			}
			if resp != nil && resp.Attempts != 3 {
				t.Errorf("Attempts = %d", resp.Attempts)
			}
		})
	}
}

func TestUnknownOutcomeTransport(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c, _ := NewClient(WithBaseURL("http://"+addr), WithAPIKey(testKey), WithRetryPolicy(RetryPolicy{MaxAttempts: 2, NoSleep: true}))
		_, resp, err := c.Get(context.Background(), "PR1")
		if !IsUnknownOutcome(err) || resp != nil {
			t.Fatalf("err = %v resp = %v", err, resp)
		}
	})
	t.Run("tls failure", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reply(w, 200, prJSON) }))
		defer srv.Close()
		c, _ := NewClient(WithBaseURL(srv.URL), WithAPIKey(testKey), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}),
			WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}))
		_, _, err := c.Get(context.Background(), "PR1")
		if !IsUnknownOutcome(err) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		mux, c, _ := setup(t)
		ctx, cancel := context.WithCancel(context.Background())
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { cancel(); <-r.Context().Done() })
		_, _, err := c.Void(ctx, "PR1")
		if !IsUnknownOutcome(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}
