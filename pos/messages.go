package pos

import (
	"errors"
	"unicode"
	"unicode/utf8"

	"github.com/centrapos/centrapos/centrapay"
)

// messages says in a cashier's words what Centrapay's codes mean.
var messages = map[centrapay.ErrorCode]string{
	centrapay.ErrPatronCodeInvalid:            "the patron's code is not valid: ask for another one",
	centrapay.ErrChecksumFailed:               "the code's check digit does not match: scan or type it again",
	centrapay.ErrLineItemsSumCheckFailed:      "the line items do not add up to the amount",
	centrapay.ErrNoAvailablePaymentOptions:    "no payment option of this merchant can pay this request",
	centrapay.ErrNotPaid:                      "the payment was not made, so there is nothing to refund",
	centrapay.ErrAlreadyRefunded:              "the payment has already been refunded in full",
	centrapay.ErrInvalidAmount:                "the amount is more than can be refunded or confirmed",
	centrapay.ErrRepeatReference:              "this refund reference was already used for another amount",
	centrapay.ErrPartialRefundsNotAllowed:     "this payment can only be refunded in full",
	centrapay.ErrRefundNotSupported:           "the asset type that paid does not support refunds",
	centrapay.ErrRefundWindowExceeded:         "the refund window for this payment has closed",
	centrapay.ErrRefundDeclined:               "the refund was declined",
	centrapay.ErrInactiveAsset:                "the patron's asset is no longer active",
	centrapay.ErrVoidWindowExceeded:           "the request is more than 24 hours old and can no longer be voided: refund it",
	centrapay.ErrRequestExpired:               "the payment request has expired",
	centrapay.ErrRequestPaid:                  "the payment request is already paid",
	centrapay.ErrRequestCancelled:             "the payment request was cancelled",
	centrapay.ErrPreAuthPending:               "the pre-auth has not been authorized yet",
	centrapay.ErrPreAuthReleased:              "the pre-auth was released or has lapsed",
	centrapay.ErrPreAuthAlreadyConfirmed:      "the pre-auth has confirmations: refund them instead",
	centrapay.ErrConfirmationNotFound:         "no confirmation with that key on this request",
	centrapay.ErrInvalidPaymentRequestType:    "the payment request is not a pre-auth",
	centrapay.ErrIdempotentOperationFailed:    "that confirmation key was already used for other content",
	centrapay.ErrConditionAlreadySet:          "the condition was already answered",
	centrapay.ErrMerchantNotAuthorized:        "this terminal may not answer that condition",
	centrapay.ErrPatronNotAuthorized:          "the patron must answer that condition",
	centrapay.ErrorCode("RESOURCE_NOT_FOUND"): "Centrapay has no such payment request for this merchant",
	centrapay.ErrUnauthorized:                 "Centrapay refused the API key: call the manager (the server needs a working key)",
}

// refusal returns Centrapay's code and a cashier's message for a known
// error.
func refusal(err error) (string, string) {
	var ce *centrapay.Error
	if errors.As(err, &ce) {
		if m, ok := messages[ce.Code]; ok {
			return string(ce.Code), m
		}
		return string(ce.Code), "Centrapay refused: " + string(ce.Code)
	}
	return "", err.Error()
}

// cancelReasons says why a request was cancelled, in a cashier's words.
var cancelReasons = map[string]string{
	centrapay.CancelledByMerchant:      "cancelled at the till",
	centrapay.CancelDeclinedByMerchant: "declined at the till",
	centrapay.CancelDeclinedByPatron:   "declined by the patron",
	centrapay.CancelPaymentDeclined:    "the patron's payment was declined",
	centrapay.CancelledByPatron:        "cancelled by the patron",
	centrapay.CancelPatronCodeInvalid:  "the patron's code is not valid",
	centrapay.CancelPatronCodeExpired:  "the patron's code has expired",
	centrapay.CancelPaymentFailed:      "the payment failed",
	centrapay.CancelRequestExpired:     "the payment request expired",
	centrapay.CancelNoAvailableOptions: "no payment option could pay",
	centrapay.CancelInactiveAsset:      "the patron's asset is not active",
}

func cancelReason(code string) string {
	if m, ok := cancelReasons[code]; ok {
		return m
	}
	if code == "" {
		return "cancelled"
	}
	return "cancelled: " + code
}

// money writes an amount in minor units as people read it: $12.50 for
// the dollar currencies, 12.50 EUR for others.
func money(cents int64, currency string) string {
	c, sign := Cents(cents), ""
	if c < 0 {
		c, sign = -c, "-"
	}
	n := c.String()
	switch currency {
	case "", "NZD", "AUD", "USD", "CAD", "SGD", "HKD", "FJD":
		return sign + "$" + n
	}
	return sign + n + " " + currency
}

// checkText refuses text a person could not see or type: control
// characters (which also break receipts, logs and CSV files) and text
// longer than max characters.
func checkText(field, v string, max int) error {
	if utf8.RuneCountInString(v) > max {
		return invalid(field, "at most %d characters", max)
	}
	if !utf8.ValidString(v) {
		return invalid(field, "must be valid UTF-8 text")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalid(field, "must not contain control characters (such as tabs or line breaks)")
		}
	}
	return nil
}
