package centrapay

import (
	"net/http"
	"testing"

	"github.com/centrapos/centrapos/clock"
)

// FuzzDecodePaymentRequest feeds arbitrary bodies to the response
// classifier: it must never panic, and it must answer either a valid request
// or an unknown outcome — never a half-decoded success.
func FuzzDecodePaymentRequest(f *testing.F) {
	for _, s := range []string{prJSON, `{"id":"a","status":"paid","value":{"amount":1,"currency":"NZD"}}`, `{}`, `[]`, `null`, `<html>`, ``, `{"id":"a","status":"new","value":{"amount":"1e5"}}`} {
		f.Add(200, []byte(s))
	}
	f.Add(403, []byte(`{"statusCode":403,"message":"REQUEST_PAID"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		pr := new(PaymentRequest)
		c := call{op: "fuzz", out: pr, validate: validPR(pr)}
		err := classify(c, &http.Response{StatusCode: status, Header: http.Header{}}, body, clock.Real{})
		if err == nil {
			if pr.ID == "" || !pr.Status.Valid() {
				t.Fatalf("accepted %q as %+v", body, pr)
			}
			return
		}
		if _, ok := err.(*Error); !ok && !IsUnknownOutcome(err) {
			t.Fatalf("unclassified error %T %v", err, err)
		}
	})
}

// FuzzDecodeActivity does the same for payment activities.
func FuzzDecodeActivity(f *testing.F) {
	for _, s := range []string{activityJSON, `{"type":"refund"}`, `{"type":""}`, `{"type":"refund","value":{"amount":"-"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a := new(Activity)
		err := classify(call{op: "fuzz", out: a, validate: validActivity(a)}, &http.Response{StatusCode: 200, Header: http.Header{}}, body, clock.Real{})
		if err == nil && a.Type == "" {
			t.Fatalf("accepted %q", body)
		}
		if err != nil && !IsUnknownOutcome(err) {
			t.Fatalf("2xx failure not unknown: %v", err)
		}
	})
}
