package pos

import (
	"errors"
	"fmt"
)

// Error codes. The server maps each to one HTTP status.
const (
	EInvalid     = "invalid"     // the input is wrong; nothing was done
	ENotFound    = "not_found"   // no such sale, refund or request
	EConflict    = "conflict"    // the sale is in a state that forbids this
	ERefused     = "refused"     // Centrapay refused, with a known reason
	EUnavailable = "unavailable" // Centrapay's answer is not known yet
	EForbidden   = "forbidden"   // this terminal may not do that
	EInProgress  = "in_progress" // the same request is still being carried out: retry later
	EInternal    = "internal"
)

// Error is an error whose Message is safe to show to a cashier or a till.
// Code is one of the E constants; Field names the input at fault, if any;
// Centrapay is Centrapay's error code when it refused.
type Error struct {
	Code      string
	Field     string
	Message   string
	Centrapay string
}

// Error returns the message, with the field at fault first.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("pos: %s: %s", e.Field, e.Message)
	}
	return "pos: " + e.Message
}

// ErrorCode returns err's code: EInternal for an error that is not an
// *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is what a Journal returns for a record it does not hold.
var ErrNotFound = &Error{Code: ENotFound, Message: "not found"}

// ErrDuplicate is what a Journal returns when a record it must hold once
// (a sale id, a terminal id) is saved twice.
var ErrDuplicate = &Error{Code: EConflict, Message: "already exists"}

// ErrOpenExternalRef is what a Journal returns for a new sale whose
// externalRef an open sale holds: one reference, one open sale.
var ErrOpenExternalRef = &Error{Code: EConflict, Field: "externalRef", Message: "another sale with this reference is still open: finish or cancel it first"}

// ErrStale is what a Journal returns for a changed sale whose Version is
// not one more than the journal's: it changed meanwhile (another server
// of the same journal, or a step that read it before another's write).
// Nothing of the Change is saved; read the sale again and redo the step.
var ErrStale = &Error{Code: EConflict, Message: "the sale changed meanwhile: try again"}

// ErrKeyUsed is what a Journal returns when a till's Idempotency-Key is
// recorded already.
var ErrKeyUsed = &Error{Code: EInProgress, Field: "Idempotency-Key", Message: "a request with this key is in progress: retry it later"}
