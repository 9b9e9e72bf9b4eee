package pos

import (
	"time"
)

// KeyedRequest is a till's request sent with an Idempotency-Key. The key
// is recorded in the same transaction as the sale or refund intent the
// request starts, before any call to Centrapay, so a till that retries
// after the server died finds what its first attempt started instead of
// starting it again.
type KeyedRequest struct {
	TerminalID  string
	Key         string
	RequestHash string    // of method, path and body: the key may not be reused for another request
	SaleID      string    // the sale the request started, if it started one
	OpID        string    // the refund or confirmation it started, if any
	Status      int       // the HTTP status answered; 0 while no answer is kept
	Body        []byte    // the answer's body
	CreatedAt   time.Time // keys are kept at least KeyRetention after this
}

// KeyRetention is how long a till's Idempotency-Key is kept: a retry
// within it gets the first answer; after it the key may start anew.
const KeyRetention = 24 * time.Hour

// Started reports whether the request started a sale or an operation.
func (k *KeyedRequest) Started() bool { return k.SaleID != "" || k.OpID != "" }

// Answered reports whether an answer is kept.
func (k *KeyedRequest) Answered() bool { return k.Status != 0 }
