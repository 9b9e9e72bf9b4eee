package centrapay

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestAPIKeyNeverShown(t *testing.T) {
	var logs bytes.Buffer
	mux, c, _ := setup(t, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/void") {
			reply(w, 403, `{"statusCode":403,"message":"REQUEST_PAID"}`)
			return
		}
		w.WriteHeader(502)
	})
	_, _, err1 := c.Get(context.Background(), "PR1")
	_, _, err2 := c.Void(context.Background(), "PR1")
	var out strings.Builder
	for _, v := range []any{c, *c, err1, err2} {
		fmt.Fprintf(&out, "%v %+v %#v %s\n", v, v, v, v)
	}
	out.Write(logs.Bytes())
	if strings.Contains(out.String(), testKey) {
		t.Fatalf("API key shown in:\n%s", out.String())
	}
	if !strings.Contains(logs.String(), "attempt=3") {
		t.Errorf("attempts not logged:\n%s", logs.String())
	}
}

func TestNewClientValidates(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []Option
		want string
	}{
		{"no key", nil, "API key is required"},
		{"empty key", []Option{WithAPIKey(" ")}, "API key is empty"},
		{"relative URL", []Option{WithAPIKey("k"), WithBaseURL("/api")}, "absolute http or https"},
		{"ftp URL", []Option{WithAPIKey("k"), WithBaseURL("ftp://x")}, "absolute http or https"},
		{"zero timeout", []Option{WithAPIKey("k"), WithTimeout(0)}, "must be positive"},
		{"zero attempts", []Option{WithAPIKey("k"), WithRetryPolicy(RetryPolicy{})}, "MaxAttempts"},
		{"negative rate", []Option{WithAPIKey("k"), WithRateLimit(-1)}, "rate limit"},
		{"nil http client", []Option{WithAPIKey("k"), WithHTTPClient(nil)}, "nil"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient(tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestArgumentsCheckedBeforeSending(t *testing.T) {
	mux, c, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("sent %s", r.URL) })
	ctx := context.Background()
	for name, err := range map[string]error{
		"create without config": second(c.Create(ctx, &CreateRequest{})),
		"get without id":        second(c.Get(ctx, "")),
		"bad short code":        second(c.GetByShortCode(ctx, "XX-1")),
		"refund without ref":    second(c.Refund(ctx, "PR1", &RefundRequest{Value: Cents(1, "NZD")})),
		"refund without value":  second(c.Refund(ctx, "PR1", &RefundRequest{ExternalRef: "R"})),
		"confirm without key":   second(c.Confirm(ctx, "PR1", &ConfirmRequest{InvoiceRef: "I"})),
		"pay without asset":     second(c.Pay(ctx, "PR1", &PayRequest{})),
		"activities without id": second(c.ListMerchantActivities(ctx, nil)),
	} {
		if err == nil || IsUnknownOutcome(err) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func second[T any](_ T, _ *Response, err error) error { return err }
