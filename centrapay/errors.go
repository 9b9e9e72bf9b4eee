package centrapay

import (
	"errors"
	"fmt"
	"time"
)

// ErrorCode is the machine code Centrapay puts in an error body's message,
// such as REQUEST_PAID. It implements error so that a returned *Error can be
// matched with errors.Is(err, centrapay.ErrRequestPaid).
type ErrorCode string

// Error returns the code.
func (c ErrorCode) Error() string { return string(c) }

// Documented error codes of the Payment Request, decode and rate-limit
// endpoints. Branch on these, never on an error's free-text reason.
const (
	ErrAlreadyRefunded           ErrorCode = "ALREADY_REFUNDED"
	ErrAssetRedemptionDenied     ErrorCode = "ASSET_REDEMPTION_DENIED"
	ErrChecksumFailed            ErrorCode = "CHECKSUM_FAILED"
	ErrConditionAlreadySet       ErrorCode = "CONDITION_ALREADY_SET"
	ErrConfirmationNotFound      ErrorCode = "CONFIRMATION_NOT_FOUND"
	ErrConnectionNotFound        ErrorCode = "CONNECTION_NOT_FOUND"
	ErrIdempotentOperationFailed ErrorCode = "IDEMPOTENT_OPERATION_FAILED"
	ErrInactiveAsset             ErrorCode = "INACTIVE_ASSET"
	ErrInsufficientAssetValue    ErrorCode = "INSUFFICIENT_ASSET_VALUE"
	ErrInvalidAmount             ErrorCode = "INVALID_AMOUNT"
	ErrInvalidAssetType          ErrorCode = "INVALID_ASSET_TYPE"
	ErrInvalidMerchantConfig     ErrorCode = "INVALID_MERCHANT_CONFIG"
	ErrInvalidPaymentRequestType ErrorCode = "INVALID_PAYMENT_REQUEST_TYPE"
	ErrLineItemsSumCheckFailed   ErrorCode = "LINE_ITEMS_SUM_CHECK_FAILED"
	ErrMerchantConfigNotFound    ErrorCode = "MERCHANT_CONFIG_NOT_FOUND"
	ErrMerchantNotAuthorized     ErrorCode = "MERCHANT_NOT_AUTHORIZED"
	ErrNoAvailablePaymentOptions ErrorCode = "NO_AVAILABLE_PAYMENT_OPTIONS"
	ErrNotPaid                   ErrorCode = "NOT_PAID"
	ErrPartialRefundsNotAllowed  ErrorCode = "PARTIAL_REFUNDS_NOT_ALLOWED"
	ErrPatronCodeInvalid         ErrorCode = "PATRON_CODE_INVALID"
	ErrPatronNotAuthorized       ErrorCode = "PATRON_NOT_AUTHORIZED"
	ErrPaymentDeclined           ErrorCode = "PAYMENT_DECLINED"
	ErrPaymentUnconfirmed        ErrorCode = "PAYMENT_UNCONFIRMED"
	ErrPreAuthAlreadyConfirmed   ErrorCode = "PRE_AUTH_ALREADY_CONFIRMED"
	ErrPreAuthPending            ErrorCode = "PRE_AUTH_PENDING"
	ErrPreAuthReleased           ErrorCode = "PRE_AUTH_RELEASED"
	ErrQuotaExceeded             ErrorCode = "QUOTA_EXCEEDED"
	ErrRateLimitExceeded         ErrorCode = "RATE_LIMIT_EXCEEDED"
	ErrRedirectURLInvalid        ErrorCode = "REDIRECT_URL_INVALID"
	ErrRefundDeclined            ErrorCode = "REFUND_DECLINED"
	ErrRefundNotSupported        ErrorCode = "REFUND_NOT_SUPPORTED"
	ErrRefundWindowExceeded      ErrorCode = "REFUND_WINDOW_EXCEEDED"
	ErrRepeatReference           ErrorCode = "REPEAT_REFERENCE"
	ErrRequestCancelled          ErrorCode = "REQUEST_CANCELLED"
	ErrRequestExpired            ErrorCode = "REQUEST_EXPIRED"
	ErrRequestPaid               ErrorCode = "REQUEST_PAID"
	ErrTokenCollectionNotFound   ErrorCode = "TOKEN_COLLECTION_NOT_FOUND"
	ErrUnknownCode               ErrorCode = "UNKNOWN_CODE"
	ErrVoidWindowExceeded        ErrorCode = "VOID_WINDOW_EXCEEDED"

	// ErrUnauthorized is the code given to a 401 whose body names no code.
	ErrUnauthorized ErrorCode = "UNAUTHORIZED"
)

// Error is a known outcome: Centrapay answered a call with an error body
// (400, 401, 403 or 404). The call did not take effect.
type Error struct {
	Op         string        // the operation, e.g. "void request abc"
	StatusCode int           // HTTP status
	Code       ErrorCode     // the body's message: the code to branch on
	ErrorText  string        // the body's error, e.g. "Forbidden"
	Reason     string        // free text for people and logs, never for logic
	RetryAfter time.Duration // from a 429's Retry-After header
}

// Error describes the failure without any credential.
func (e *Error) Error() string {
	s := fmt.Sprintf("centrapay: %s: %d %s", e.Op, e.StatusCode, e.Code)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is reports whether target is this error's code, so that
// errors.Is(err, ErrRequestPaid) matches.
func (e *Error) Is(target error) bool {
	c, ok := target.(ErrorCode)
	return ok && c == e.Code
}

// ErrUnknownOutcome matches every UnknownOutcomeError with errors.Is.
var ErrUnknownOutcome = errors.New("centrapay: outcome unknown")

// UnknownOutcomeError is a call whose effect at Centrapay is not known: the
// request may or may not have taken effect. Causes: a network error, a
// timeout, a TLS failure, a reset connection, a 5xx, a 429 still refused
// after the retries, an empty, truncated, non-JSON or HTML body, a body
// lacking required fields, an unexpected status code, or a redirect (never
// followed: ErrRedirectNotFollowed). Centrapay's rules say: retry, and if
// the status still cannot be learned, void.
type UnknownOutcomeError struct {
	Op         string
	StatusCode int // 0 when no response was received
	Err        error
}

// Error describes the failure.
func (e *UnknownOutcomeError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("centrapay: %s: outcome unknown (HTTP %d): %v", e.Op, e.StatusCode, e.Err)
	}
	return fmt.Sprintf("centrapay: %s: outcome unknown: %v", e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *UnknownOutcomeError) Unwrap() error { return e.Err }

// Is matches ErrUnknownOutcome.
func (e *UnknownOutcomeError) Is(target error) bool { return target == ErrUnknownOutcome }

// IsUnknownOutcome reports whether err leaves the outcome of the call unknown.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }

// ErrRedirectNotFollowed matches, with errors.Is, a call answered with a 3xx
// redirect. The client never follows one, so the API key is never sent to
// another host. Centrapay's API does not redirect: one points at a wrong
// base URL or at something between the POS and Centrapay.
//
// It comes inside an *UnknownOutcomeError. A redirect is not a Centrapay
// refusal (no error body says the call did not take effect), and whatever
// answered may have forwarded the call first; so a create so answered may
// exist, and is looked up by externalRef like after any unknown create, and
// a void may have taken effect. Like every unknown outcome, it is retried
// only by calls that are safe to repeat, at most RetryPolicy.MaxAttempts
// times, and never for a create.
var ErrRedirectNotFollowed = errors.New("centrapay: redirect not followed")

// redirectError is the cause of an unknown outcome answered with a 3xx. It
// names only the target's host: its path or query may carry anything.
type redirectError struct {
	host string // "" when the Location header is not a usable URL
}

// Error says where the redirect pointed and that it was not followed.
func (e *redirectError) Error() string {
	to := "an unusable location"
	if e.host != "" {
		to = e.host
	}
	return "Centrapay answered with a redirect to " + to + "; not followed, so the API key is not sent elsewhere"
}

// Is matches ErrRedirectNotFollowed.
func (e *redirectError) Is(target error) bool { return target == ErrRedirectNotFollowed }
