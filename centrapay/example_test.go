package centrapay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/centrapos/centrapos/centrapay"
)

// Example shows a create and the three kinds of answer a call can give.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost && r.URL.Path == "/api/payment-requests/PR1/void" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"statusCode":403,"error":"Forbidden","message":"REQUEST_PAID"}`)
			return
		}
		fmt.Fprint(w, `{"id":"PR1","shortCode":"CP-C7F-ZS5","status":"new","value":{"amount":"1000","currency":"NZD"}}`)
	}))
	defer srv.Close()

	c, err := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey("merchant-terminal-key"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	pr, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: "mc1", Value: centrapay.Cents(1000, "NZD"), ExternalRef: "INV-1"})
	if err != nil {
		panic(err)
	}
	fmt.Println(pr.ID, pr.ShortCode, pr.Status)

	_, _, err = c.Void(ctx, pr.ID)
	switch {
	case errors.Is(err, centrapay.ErrRequestPaid):
		fmt.Println("already paid: refund instead")
	case centrapay.IsUnknownOutcome(err):
		fmt.Println("unknown: poll, then void again")
	}
	// Output:
	// PR1 CP-C7F-ZS5 new
	// already paid: refund instead
}
