package pos

import (
	"reflect"
	"slices"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// Status is where a sale stands, as the till sees it.
type Status string

// Sale statuses. Paid, Cancelled, Expired and Failed are final (a paid sale
// may still be refunded).
const (
	StatusPending   Status = "pending"   // a request is (being) created or waits for the patron
	StatusResolving Status = "resolving" // Centrapay's answer is not known; the engine keeps asking
	StatusPaid      Status = "paid"
	StatusCancelled Status = "cancelled"
	StatusExpired   Status = "expired"
	StatusFailed    Status = "failed" // no request could be made
)

// Statuses lists every sale status, in the order a sale moves through
// them: the one list of them.
func Statuses() []Status {
	return []Status{StatusPending, StatusResolving, StatusPaid, StatusCancelled, StatusExpired, StatusFailed}
}

// Final reports whether the sale's payment can no longer change (refunds
// aside).
func (s Status) Final() bool {
	return s == StatusPaid || s == StatusCancelled || s == StatusExpired || s == StatusFailed
}

// Flows by which a sale connects with the patron.
const (
	FlowQR      = "qr"
	FlowBarcode = "barcode"
)

// Sale is one attempt to take a payment, and everything known of it.
// Amounts are in minor units (cents) of Currency.
type Sale struct {
	ID               string               `json:"id"`
	TerminalID       string               `json:"terminalId"`
	DeviceID         string               `json:"deviceId"`
	ConfigID         string               `json:"configId"`
	OperatorID       string               `json:"operatorId,omitempty"`
	ExternalRef      string               `json:"externalRef"`
	Value            int64                `json:"value"`
	Currency         string               `json:"currency"`
	Flow             string               `json:"flow"`
	Barcode          string               `json:"barcode,omitempty"`
	LineItems        []centrapay.LineItem `json:"lineItems,omitempty"`
	PatronNotPresent bool                 `json:"patronNotPresent,omitempty"`
	BasketAmount     int64                `json:"basketAmount,omitempty"`
	PreAuth          bool                 `json:"preAuth,omitempty"`

	Status          Status          `json:"status"`
	Reason          string          `json:"reason,omitempty"` // why it is cancelled, expired, failed or resolving, for people
	PaymentRequest  *PaymentRequest `json:"paymentRequest,omitempty"`
	Conditions      []Condition     `json:"conditions,omitempty"`
	RemainingAmount int64           `json:"remainingAmount"`
	PaidBy          []Payment       `json:"paidBy,omitempty"`
	Refunded        int64           `json:"refunded"`
	Confirmed       int64           `json:"confirmed,omitempty"` // pre-auth: drawn down so far
	// Tenders are what the till took outside Centrapay toward a part
	// payment (TakeTender).
	Tenders         []Tender `json:"tenders,omitempty"`
	CancelRequested bool     `json:"cancelRequested,omitempty"`
	VoidReason      string   `json:"voidReason,omitempty"` // why the engine voided the request

	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	TimeoutAt time.Time `json:"timeoutAt"` // request expiry + margin: the sale is voided if still new
	Version   int       `json:"version"`   // bumped on every journaled change
}

// PaymentRequest is what the sale knows of its Centrapay Payment Request.
type PaymentRequest struct {
	ID                 string    `json:"id"`
	ShortCode          string    `json:"shortCode"`
	URL                string    `json:"url"`
	Status             string    `json:"status"`
	ExpiresAt          time.Time `json:"expiresAt"`
	CancellationReason string    `json:"cancellationReason,omitempty"`
	PreAuthStatus      string    `json:"preAuthStatus,omitempty"`
	PreAuthExpiresAt   time.Time `json:"preAuthExpiresAt,omitzero"`
}

// Condition is a merchant condition; Message is shown verbatim.
type Condition struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Message string `json:"message,omitempty"`
	Status  string `json:"status"`
}

// Payment is what one asset type paid.
type Payment struct {
	AssetType   string `json:"assetType"`
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
	// LineItems are the lines this asset paid for, when Centrapay says
	// (an asset redeemable only for some products, a patron who chose):
	// shown to the merchant and the patron, and not to be sold again by
	// another tender.
	LineItems []centrapay.LineItem `json:"lineItems,omitempty"`
}

// samePayment reports whether a and b say the same.
func samePayment(a, b Payment) bool {
	return a.AssetType == b.AssetType && a.Description == b.Description && a.Amount == b.Amount &&
		slices.EqualFunc(a.LineItems, b.LineItems, sameLine)
}

// sameLine reports whether two line items say the same, field by field.
func sameLine(a, b centrapay.LineItem) bool {
	return reflect.DeepEqual(a, b)
}

// clone returns a deep copy, so snapshots handed out never change.
func (s *Sale) clone() *Sale {
	c := *s
	if s.PaymentRequest != nil {
		pr := *s.PaymentRequest
		c.PaymentRequest = &pr
	}
	c.LineItems = append([]centrapay.LineItem(nil), s.LineItems...)
	c.Conditions = append([]Condition(nil), s.Conditions...)
	c.PaidBy = append([]Payment(nil), s.PaidBy...)
	c.Tenders = append([]Tender(nil), s.Tenders...)
	for i := range c.PaidBy {
		c.PaidBy[i].LineItems = append([]centrapay.LineItem(nil), c.PaidBy[i].LineItems...)
	}
	return &c
}

// Paid is what Centrapay collected for the sale (before refunds).
func (s *Sale) Paid() int64 {
	var n int64
	for _, p := range s.PaidBy {
		n += p.Amount
	}
	return n
}
