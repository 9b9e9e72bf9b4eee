package pos

import (
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// OpKind names a side effect at Centrapay.
type OpKind string

// Op kinds.
const (
	OpCreate  OpKind = "create"
	OpVoid    OpKind = "void"
	OpRefund  OpKind = "refund"
	OpConfirm OpKind = "confirm"
	OpRelease OpKind = "release"
	OpAccept  OpKind = "accept-condition"
	OpDecline OpKind = "decline-condition"
	// OpVoidExtra voids a request of a sale beside the one it adopted
	// (found by externalRef after an unknown create): never payable.
	OpVoidExtra OpKind = "void-extra"
)

// OpState is where an Op stands.
type OpState string

// Op states. Pending means the outcome is not known: Recover sends it
// again with the same Key.
const (
	OpPending   OpState = "pending"
	OpSucceeded OpState = "succeeded"
	OpFailed    OpState = "failed" // Centrapay refused; Error says why
)

// names reports whether activity a is the one Centrapay's answer to op
// gave: by its id, or by its number (an answer need not carry an id).
func (op *Op) names(a *centrapay.Activity) bool {
	return op.ActivityID != "" && a.ID == op.ActivityID || op.ActivityNumber != "" && string(a.ActivityNumber) == op.ActivityNumber
}

// Op is a side effect at Centrapay: journaled with its idempotency
// material before the call, and with its outcome after it. Refunds and
// pre-auth confirmations are Ops too.
type Op struct {
	ID               string               `json:"id"`
	SaleID           string               `json:"saleId,omitempty"` // "" for a refund of a request no local sale made
	PaymentRequestID string               `json:"paymentRequestId,omitempty"`
	Kind             OpKind               `json:"kind"`
	Key              string               `json:"key,omitempty"` // externalRef of a create or refund, idempotencyKey of a confirm, condition id
	Amount           int64                `json:"amount,omitempty"`
	Currency         string               `json:"currency,omitempty"`
	Reason           string               `json:"reason,omitempty"`     // refund reason
	InvoiceRef       string               `json:"invoiceRef,omitempty"` // confirm, refund
	LineItems        []centrapay.LineItem `json:"lineItems,omitempty"`
	ConfirmationKey  string               `json:"confirmationKey,omitempty"`  // refund of a pre-auth confirmation
	MerchantConfigID string               `json:"merchantConfigId,omitempty"` // refund of a Farmlands payment: the config that took it
	State            OpState              `json:"state"`
	Error            string               `json:"error,omitempty"` // Centrapay's code when it refused
	Message          string               `json:"message,omitempty"`
	ActivityID       string               `json:"activityId,omitempty"`
	// ActivityNumber is the number of the activity Centrapay answered
	// with (its answer to a refund need not carry an id): how a
	// refund-completed notification is matched to the refund.
	ActivityNumber string `json:"activityNumber,omitempty"`
	// CompletedAt is when Centrapay said a succeeded refund is complete
	// (zero until then): see RefundStatus.
	CompletedAt time.Time `json:"completedAt,omitzero"`
	Attempts    int       `json:"attempts"`
	TerminalID  string    `json:"terminalId,omitempty"` // the till that asked for it
	OperatorID  string    `json:"operatorId,omitempty"` // the person at that till, when it says
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}
