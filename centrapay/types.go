package centrapay

import (
	"encoding/json"
	"strings"
)

// Status is a Payment Request status.
type Status string

// Payment Request statuses. StatusNew is the only one that is not final.
const (
	StatusNew       Status = "new"
	StatusPaid      Status = "paid"
	StatusCancelled Status = "cancelled"
	StatusExpired   Status = "expired"
)

// Final reports whether the status can no longer change (a paid request can
// still be refunded, which does not change its status).
func (s Status) Final() bool {
	return s == StatusPaid || s == StatusCancelled || s == StatusExpired
}

// Valid reports whether s is one of the four documented statuses.
func (s Status) Valid() bool { return s == StatusNew || s.Final() }

// Monetary is an amount in a currency. Amount is in the currency's smallest
// unit (cents for NZD).
type Monetary struct {
	Amount   BigNumber `json:"amount"`
	Currency string    `json:"currency"`
}

// Cents returns m as a Monetary of n minor units of currency.
func Cents(n int64, currency string) Monetary {
	return Monetary{Amount: Int64BigNumber(n), Currency: currency}
}

// LineItem is an order item. Price is the line total in cents (unit price ×
// qty − discount + tax); Tax is a rate in percent; Discount is in cents, tax
// exclusive.
type LineItem struct {
	Name           string          `json:"name"`
	SKU            string          `json:"sku,omitempty"`
	Qty            BigNumber       `json:"qty"`
	Price          BigNumber       `json:"price"`
	Tax            BigNumber       `json:"tax,omitempty"`
	Discount       BigNumber       `json:"discount,omitempty"`
	ProductID      string          `json:"productId,omitempty"`
	Restricted     bool            `json:"restricted,omitempty"`
	Classification *Classification `json:"classification,omitempty"`
}

// Classification is a product classification; Type is "GS1" today.
type Classification struct {
	Type  string            `json:"type,omitempty"`
	Code  string            `json:"code,omitempty"`
	Name  string            `json:"name,omitempty"`
	Props map[string]string `json:"props,omitempty"`
}

// PaymentOption is an asset type a request may be paid with and the amount
// it needs in that asset's units.
type PaymentOption struct {
	AssetType           string               `json:"assetType"`
	Amount              BigNumber            `json:"amount,omitempty"`
	BitcoinAddress      string               `json:"bitcoinAddress,omitempty"`
	AcceptedCollections []AcceptedCollection `json:"acceptedCollections,omitempty"`
}

// AcceptedCollection is a token collection accepted for a request and the
// line items a token of it may buy.
type AcceptedCollection struct {
	ID        string     `json:"id"`
	LineItems []LineItem `json:"lineItems,omitempty"`
}

// Condition statuses.
const (
	ConditionAwaitingMerchant = "awaiting-merchant"
	ConditionAwaitingPatron   = "awaiting-patron"
	ConditionAccepted         = "accepted"
	ConditionDeclined         = "declined"
	ConditionVoid             = "void"
)

// Condition is a merchant payment condition, e.g. a photo-id check. Message
// is meant to be shown to the operator verbatim.
type Condition struct {
	ID      BigNumber `json:"id"`
	Name    string    `json:"name"`
	Message string    `json:"message,omitempty"`
	Status  string    `json:"status"`
}

// PaidBy summarises what paid a request, per asset type.
type PaidBy struct {
	AssetTotals []AssetTotal `json:"assetTotals"`
}

// AssetTotal is the sum paid with one asset type; Description names it for
// people ("Centrapay NZD Test").
type AssetTotal struct {
	Type           string     `json:"type"`
	Description    string     `json:"description,omitempty"`
	SettlementDate Timestamp  `json:"settlementDate,omitzero"`
	Total          Monetary   `json:"total"`
	LineItems      []LineItem `json:"lineItems,omitempty"`
	PayerAccountID string     `json:"payerAccountId,omitempty"`
}

// TaxNumber is the merchant business's value-added tax registration.
type TaxNumber struct {
	Value string `json:"value,omitempty"`
	Type  string `json:"type,omitempty"`
}

// Pre-auth statuses.
const (
	PreAuthAuthorized = "authorized"
	PreAuthReleased   = "released"
)

// Cancellation reasons, as documented.
const (
	CancelledByMerchant      = "CANCELLED_BY_MERCHANT"
	CancelledByPatron        = "CANCELLED_BY_PATRON"
	CancelPatronCodeInvalid  = "PATRON_CODE_INVALID"
	CancelPaymentFailed      = "PAYMENT_FAILED"
	CancelPatronCodeExpired  = "PATRON_CODE_EXPIRED"
	CancelDeclinedByPatron   = "DECLINED_BY_PATRON"
	CancelDeclinedByMerchant = "DECLINED_BY_MERCHANT"
	CancelPaymentDeclined    = "PAYMENT_DECLINED"
	CancelRequestExpired     = "PAYMENT_REQUEST_EXPIRED"
	CancelNoAvailableOptions = "NO_AVAILABLE_PAYMENT_OPTIONS"
	CancelInactiveAsset      = "INACTIVE_ASSET"
)

// PaymentRequest is Centrapay's Payment Request as returned by create, get,
// get by short code and list by external reference. Unknown fields are
// ignored.
type PaymentRequest struct {
	ID                   string          `json:"id"`
	ShortCode            string          `json:"shortCode,omitempty"`
	URL                  string          `json:"url,omitempty"`
	Value                Monetary        `json:"value"`
	PaymentOptions       []PaymentOption `json:"paymentOptions,omitempty"`
	MerchantID           string          `json:"merchantId,omitempty"`
	MerchantName         string          `json:"merchantName,omitempty"`
	ConfigID             string          `json:"configId,omitempty"`
	Status               Status          `json:"status"`
	Liveness             string          `json:"liveness,omitempty"`
	CreatedAt            Timestamp       `json:"createdAt,omitzero"`
	UpdatedAt            Timestamp       `json:"updatedAt,omitzero"`
	ExpiresAt            Timestamp       `json:"expiresAt,omitzero"`
	ExpirySeconds        int             `json:"expirySeconds,omitempty"`
	MerchantConditions   []Condition     `json:"merchantConditions,omitzero"` // Centrapay sends [] when none: kept, and sent back, as an empty non-nil slice
	RemainingAmount      BigNumber       `json:"remainingAmount,omitempty"`
	PatronCodeID         string          `json:"patronCodeId,omitempty"`
	Barcode              string          `json:"barcode,omitempty"`
	BarcodeType          string          `json:"barcodeType,omitempty"`
	CollectionID         string          `json:"collectionId,omitempty"`
	LineItems            []LineItem      `json:"lineItems,omitempty"`
	PurchaseOrderRef     string          `json:"purchaseOrderRef,omitempty"`
	InvoiceRef           string          `json:"invoiceRef,omitempty"`
	ExternalRef          string          `json:"externalRef,omitempty"`
	TerminalID           string          `json:"terminalId,omitempty"`
	DeviceID             string          `json:"deviceId,omitempty"`
	OperatorID           string          `json:"operatorId,omitempty"`
	CreatedByAccountID   string          `json:"createdByAccountId,omitempty"`
	CreatedByAccountName string          `json:"createdByAccountName,omitempty"`
	ConditionsEnabled    bool            `json:"conditionsEnabled,omitempty"`
	PatronNotPresent     bool            `json:"patronNotPresent,omitempty"`
	CancellationReason   string          `json:"cancellationReason,omitempty"`
	PreAuth              bool            `json:"preAuth,omitempty"`
	PreAuthExpiresAt     Timestamp       `json:"preAuthExpiresAt,omitzero"`
	PreAuthStatus        string          `json:"preAuthStatus,omitempty"`
	PartialAllowed       bool            `json:"partialAllowed,omitempty"`
	BasketAmount         BigNumber       `json:"basketAmount,omitempty"`
	PaidBy               *PaidBy         `json:"paidBy,omitempty"`
	TaxNumber            *TaxNumber      `json:"taxNumber,omitempty"`
	// Experimental fields.
	ConnectionID      string `json:"connectionId,omitempty"`
	ConnectionStatus  string `json:"connectionStatus,omitempty"`
	PaymentLinkID     string `json:"paymentLinkId,omitempty"`
	RedirectPaidURL   string `json:"redirectPaidUrl,omitempty"`
	RedirectCancelURL string `json:"redirectCancelUrl,omitempty"`
}

// CreateRequest is the body of create. ConfigID and Value are required.
// A POS should always set ExternalRef, TerminalID and DeviceID.
type CreateRequest struct {
	ConfigID          string     `json:"configId"`
	Value             Monetary   `json:"value"`
	Barcode           string     `json:"barcode,omitempty"`
	BarcodeType       string     `json:"barcodeType,omitempty"`
	CollectionID      string     `json:"collectionId,omitempty"`
	ExpirySeconds     int        `json:"expirySeconds,omitempty"`
	LineItems         []LineItem `json:"lineItems,omitempty"`
	PurchaseOrderRef  string     `json:"purchaseOrderRef,omitempty"`
	InvoiceRef        string     `json:"invoiceRef,omitempty"`
	ExternalRef       string     `json:"externalRef,omitempty"`
	TerminalID        string     `json:"terminalId,omitempty"`
	DeviceID          string     `json:"deviceId,omitempty"`
	OperatorID        string     `json:"operatorId,omitempty"`
	ConditionsEnabled bool       `json:"conditionsEnabled,omitempty"`
	PatronNotPresent  bool       `json:"patronNotPresent,omitempty"`
	PreAuth           bool       `json:"preAuth,omitempty"`
	PartialAllowed    bool       `json:"partialAllowed,omitempty"`
	BasketAmount      BigNumber  `json:"basketAmount,omitempty"`
	ConnectionID      string     `json:"connectionId,omitempty"`
	PaymentLinkID     string     `json:"paymentLinkId,omitempty"`
	RedirectPaidURL   string     `json:"redirectPaidUrl,omitempty"`
	RedirectCancelURL string     `json:"redirectCancelUrl,omitempty"`
}

// RefundRequest is the body of refund. Value and ExternalRef are required;
// ExternalRef identifies this refund and must be reused on every retry.
type RefundRequest struct {
	Value                      Monetary   `json:"value"`
	ExternalRef                string     `json:"externalRef"`
	InvoiceRef                 string     `json:"invoiceRef,omitempty"`
	ConfirmationIdempotencyKey string     `json:"confirmationIdempotencyKey,omitempty"`
	LineItems                  []LineItem `json:"lineItems,omitempty"`
	MerchantConfigID           string     `json:"merchantConfigId,omitempty"`
}

// ConfirmRequest is the body of a pre-auth confirmation. IdempotencyKey,
// InvoiceRef and LineItems are required; the same IdempotencyKey must be
// reused on every retry.
type ConfirmRequest struct {
	IdempotencyKey string     `json:"idempotencyKey"`
	InvoiceRef     string     `json:"invoiceRef"`
	LineItems      []LineItem `json:"lineItems"`
	Value          *Monetary  `json:"value,omitempty"`
}

// Payment modes for PayRequest.Mode.
const (
	ModePartialPayment    = "partial-payment"
	ModeMultiAssetPayment = "multi-asset-payment"
)

// PayRequest is the body of pay. AssetType and IdempotencyKey are required,
// with one of AssetID, TransactionID or Authorization. A POS uses it only to
// record an external payment (asset type external.main or external.test).
type PayRequest struct {
	AssetType          string     `json:"assetType"`
	IdempotencyKey     string     `json:"idempotencyKey"`
	AssetID            string     `json:"assetId,omitempty"`
	TransactionID      string     `json:"transactionId,omitempty"`
	Authorization      string     `json:"authorization,omitempty"`
	Mode               string     `json:"mode,omitempty"`
	Amount             BigNumber  `json:"amount,omitempty"`
	ExternalPaymentRef string     `json:"externalPaymentRef,omitempty"`
	LineItems          []LineItem `json:"lineItems,omitempty"`
}

// DecodeRequest is the body of decode. ScannedBy is "merchant" for a POS.
type DecodeRequest struct {
	Code             string `json:"code"`
	ScannedBy        string `json:"scannedBy"`
	MerchantConfigID string `json:"merchantConfigId,omitempty"`
}

// DecodedCode is what decode answers: who issued a scanned code.
type DecodedCode struct {
	Code             string `json:"code"`
	ScannedBy        string `json:"scannedBy,omitempty"`
	MerchantConfigID string `json:"merchantConfigId,omitempty"`
	Provider         string `json:"provider"`
	DisplayName      string `json:"displayName,omitempty"`
}

// Activity types, as documented. Centrapay's own merchant activities
// example also shows "Authorization" capitalised: decoding an Activity turns
// any case of a documented type into the documented spelling, so comparing
// with these constants is enough.
const (
	ActivityRequest          = "request"
	ActivityPreAuthRequest   = "preAuthRequest"
	ActivityPaid             = "paid"
	ActivityPayment          = "payment"
	ActivityRefund           = "refund"
	ActivityCancellation     = "cancellation"
	ActivityExpiry           = "expiry"
	ActivityAcceptCondition  = "accept-condition"
	ActivityDeclineCondition = "decline-condition"
	ActivityAuthorization    = "authorization"
	ActivityConfirmation     = "confirmation"
	ActivityRelease          = "release"
)

// Activity is a Payment Activity: one thing that happened to a request.
// Void, refund, condition answers, confirm, release and pay return one.
type Activity struct {
	ID                         string     `json:"id,omitempty"`
	Type                       string     `json:"type"`
	Value                      Monetary   `json:"value"`
	PaymentRequestID           string     `json:"paymentRequestId"`
	MerchantID                 string     `json:"merchantId,omitempty"`
	MerchantConfigID           string     `json:"merchantConfigId,omitempty"`
	MerchantAccountID          string     `json:"merchantAccountId,omitempty"`
	MerchantName               string     `json:"merchantName,omitempty"`
	CreatedAt                  Timestamp  `json:"createdAt,omitzero"`
	UpdatedAt                  Timestamp  `json:"updatedAt,omitzero"`
	CreatedBy                  string     `json:"createdBy,omitempty"`
	PaymentRequestCreatedBy    string     `json:"paymentRequestCreatedBy,omitempty"`
	CreatedByAccountID         string     `json:"createdByAccountId,omitempty"`
	CreatedByAccountName       string     `json:"createdByAccountName,omitempty"`
	ActivityNumber             BigNumber  `json:"activityNumber,omitempty"`
	ShortCode                  string     `json:"shortCode,omitempty"`
	AssetType                  string     `json:"assetType,omitempty"`
	External                   bool       `json:"external,omitempty"`
	CancellationReason         string     `json:"cancellationReason,omitempty"`
	ConditionID                BigNumber  `json:"conditionId,omitempty"`
	IdempotencyKey             string     `json:"idempotencyKey,omitempty"`
	ConfirmationIdempotencyKey string     `json:"confirmationIdempotencyKey,omitempty"`
	PreAuth                    bool       `json:"preAuth,omitempty"`
	PaidBy                     *PaidBy    `json:"paidBy,omitempty"`
	Strategy                   *Strategy  `json:"strategy,omitempty"`
	ExternalRef                string     `json:"externalRef,omitempty"`
	InvoiceRef                 string     `json:"invoiceRef,omitempty"`
	LineItems                  []LineItem `json:"lineItems,omitempty"`
	Mode                       string     `json:"mode,omitempty"`
	ExternalPaymentRef         string     `json:"externalPaymentRef,omitempty"`
}

// activityTypes are the documented activity types, for normalising case.
func activityTypes() []string {
	return []string{ActivityRequest, ActivityPreAuthRequest, ActivityPaid, ActivityPayment, ActivityRefund, ActivityCancellation,
		ActivityExpiry, ActivityAcceptCondition, ActivityDeclineCondition, ActivityAuthorization, ActivityConfirmation, ActivityRelease}
}

// UnmarshalJSON decodes an activity, spelling its type as documented when
// Centrapay sends a documented type in another case ("Authorization" in the
// docs' merchant activities example). An undocumented type is kept as sent.
func (a *Activity) UnmarshalJSON(data []byte) error {
	type plain Activity // no methods: no recursion
	if err := json.Unmarshal(data, (*plain)(a)); err != nil {
		return err
	}
	for _, t := range activityTypes() {
		if a.Type != t && strings.EqualFold(a.Type, t) {
			a.Type = t
			break
		}
	}
	return nil
}

// Strategy details how a refund will be processed.
type Strategy struct {
	Refunds []StrategyRefund `json:"refunds,omitempty"`
}

// StrategyRefund is one asset's share of a refund.
type StrategyRefund struct {
	AssetID            string    `json:"assetId,omitempty"`
	AssetType          string    `json:"assetType,omitempty"`
	CompletedPaymentID string    `json:"completedPaymentId,omitempty"`
	Amount             BigNumber `json:"amount,omitempty"`
	CollectionID       string    `json:"collectionId,omitempty"`
}

// Page is one page of a paginated list. NextPageKey is empty on the last
// page.
type Page[T any] struct {
	Items       []T    `json:"items"`
	NextPageKey string `json:"nextPageKey,omitempty"`
}

// ErrorBody is Centrapay's error response body. Message is the machine code
// to branch on; Reason is free text for people and logs only.
type ErrorBody struct {
	StatusCode int    `json:"statusCode,omitempty"`
	Error      string `json:"error,omitempty"`
	Message    string `json:"message,omitempty"`
	Reason     string `json:"reason,omitempty"`
}
