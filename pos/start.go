package pos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// SaleInput is what a till asks for. Value and BasketAmount are in minor
// units.
type SaleInput struct {
	TerminalID       string               `json:"terminalId"`
	DeviceID         string               `json:"deviceId"`
	ConfigID         string               `json:"configId"`
	OperatorID       string               `json:"operatorId,omitempty"`
	ExternalRef      string               `json:"externalRef,omitempty"` // generated when empty
	Value            int64                `json:"value"`
	Flow             string               `json:"flow"` // qr (default) or barcode
	Barcode          string               `json:"barcode,omitempty"`
	LineItems        []centrapay.LineItem `json:"lineItems,omitempty"`
	PatronNotPresent bool                 `json:"patronNotPresent,omitempty"`
	BasketAmount     int64                `json:"basketAmount,omitempty"` // > 0 turns partial payment on
	PreAuth          bool                 `json:"preAuth,omitempty"`

	// Key is the till's Idempotency-Key, recorded with the sale (nil: none).
	Key *KeyedRequest `json:"-"`
}

const maxValue = 100000000

// validate checks in, and puts it in the form sent to Centrapay, before
// anything is written or sent.
func (in *SaleInput) validate() error {
	for _, f := range []struct{ name, v string }{{"externalRef", in.ExternalRef}, {"operatorId", in.OperatorID}, {"deviceId", in.DeviceID}} {
		if err := checkText(f.name, f.v, 128); err != nil {
			return err
		}
	}
	in.Barcode = centrapay.NormalizeBarcode(in.Barcode) // scanned or typed with spaces or dashes
	switch {
	case in.TerminalID == "":
		return invalid("terminalId", "required")
	case in.ConfigID == "":
		return invalid("configId", "required: the terminal's merchant config")
	case in.Value <= 0 || in.Value >= maxValue:
		return invalid("value", "must be between 0.01 and %s", money(maxValue-1, ""))
	case in.BasketAmount < 0 || in.BasketAmount > 0 && in.BasketAmount < in.Value:
		return invalid("basketAmount", "must not be below the value (%s)", money(in.Value, ""))
	case in.BasketAmount >= maxValue:
		return invalid("basketAmount", "must be below %s", money(maxValue, ""))
	case in.PreAuth && len(in.LineItems) == 0:
		// Centrapay's integration checklist, 104.2: line items are
		// required for pre-auth requests
		return invalid("lineItems", "required for a pre-auth: say what is authorised")
	}
	switch in.Flow {
	case "", FlowQR:
		in.Flow = FlowQR
		if in.Barcode != "" {
			return invalid("barcode", "only with flow barcode")
		}
	case FlowBarcode:
		if in.Barcode == "" {
			return invalid("barcode", "required with flow barcode")
		}
		if err := centrapay.ValidateBarcode(in.Barcode); err != nil {
			return invalid("barcode", "%v", err)
		}
	default:
		return invalid("flow", "must be qr or barcode")
	}
	if len(in.LineItems) > 0 {
		sum, err := lineSum(in.LineItems)
		if err != nil {
			return err
		}
		if sum != in.Value && (in.BasketAmount == 0 || sum != in.BasketAmount) {
			want := money(in.Value, "")
			if in.BasketAmount > 0 {
				want += " or the basket amount " + money(in.BasketAmount, "")
			}
			return invalid("lineItems", "prices add up to %s; they must add up to the value %s", money(sum, ""), want)
		}
	}
	return nil
}

// lineSum adds up line prices (each line's total), checking each line.
func lineSum(items []centrapay.LineItem) (int64, error) {
	var sum int64
	for i, li := range items {
		field := fmt.Sprintf("lineItems[%d]", i)
		if li.Name == "" {
			return 0, invalid(field+".name", "required")
		}
		if err := checkText(field+".name", li.Name, 256); err != nil {
			return 0, err
		}
		if err := checkText(field+".sku", li.SKU, 128); err != nil {
			return 0, err
		}
		if _, ok := li.Qty.Rat(); !ok || li.Qty.IsZero() {
			return 0, invalid(field+".qty", "required, a number")
		}
		p, err := li.Price.Int64()
		if err != nil {
			return 0, invalid(field+".price", "a whole number of cents")
		}
		sum += p
	}
	return sum, nil
}

// StartSale validates in, journals the sale and the intent to create its
// Payment Request, creates it, and returns the sale. An unknown create
// outcome is no error: the sale is resolving and the engine finds the
// request by externalRef before doing anything else.
func (e *Engine) StartSale(ctx context.Context, in SaleInput) (*Sale, error) {
	ctx = context.WithoutCancel(ctx) // once begun, an operation is journaled to its end
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := e.clk.Now()
	s := &Sale{ID: newID("s_"), TerminalID: in.TerminalID, DeviceID: in.DeviceID, ConfigID: in.ConfigID,
		OperatorID: in.OperatorID, ExternalRef: in.ExternalRef, Value: in.Value, Currency: e.cfg.Currency,
		Flow: in.Flow, Barcode: in.Barcode, LineItems: in.LineItems, PatronNotPresent: in.PatronNotPresent,
		BasketAmount: in.BasketAmount, PreAuth: in.PreAuth, Status: StatusPending, RemainingAmount: in.Value,
		CreatedAt: now, UpdatedAt: now,
		TimeoutAt: now.Add(time.Duration(e.cfg.ExpirySeconds)*time.Second + e.cfg.TimeoutMargin)}
	if s.ExternalRef == "" {
		s.ExternalRef = "R-" + s.ID[2:10] // short enough to read out or type at a refund
	}
	op := &Op{ID: newID("op_"), SaleID: s.ID, Kind: OpCreate, Key: s.ExternalRef, Amount: s.Value, Currency: s.Currency,
		State: OpPending, TerminalID: s.TerminalID, CreatedAt: now}
	if in.Key != nil {
		in.Key.SaleID = s.ID
	}
	// the create's token is taken before its intent is journaled: a till
	// refused for want of budget has started nothing and may try again
	ctx, err := e.operator(ctx)
	if err != nil {
		return nil, err
	}
	// the sale, its create intent and the till's key, in one transaction;
	// an open sale with the same externalRef is refused by the journal's
	// constraint, not by a read that a concurrent request could race
	if err := e.commit(ctx, &Change{Sale: s, NewSale: true, Note: "sale started", Ops: []*Op{op}, Key: in.Key}); err != nil {
		for _, known := range []*Error{ErrOpenExternalRef, ErrKeyUsed} {
			if errors.Is(err, known) {
				return nil, known
			}
		}
		return nil, err
	}
	unlock := e.lock(s.ID)
	defer unlock()
	if e.at("create:journaled") {
		return nil, errAbandoned
	}
	pr, _, err := e.cp.Create(ctx, e.createRequest(s))
	if e.at("create:answered") {
		return nil, errAbandoned
	}
	if err := e.createAnswered(ctx, s, op, pr, err); err != nil {
		if !errors.Is(err, errAbandoned) && ErrorCode(err) != ERefused {
			// the outcome is not journaled: the sale is driven from its
			// journaled intent (its request found by externalRef)
			e.schedule(saleWork(s.ID), e.clk.Now())
		}
		return nil, err
	}
	return s.clone(), nil
}

func (e *Engine) createRequest(s *Sale) *centrapay.CreateRequest {
	r := &centrapay.CreateRequest{ConfigID: s.ConfigID, Value: centrapay.Cents(s.Value, s.Currency),
		ExpirySeconds: e.cfg.ExpirySeconds, ExternalRef: s.ExternalRef, TerminalID: s.TerminalID, DeviceID: s.DeviceID,
		OperatorID: s.OperatorID, Barcode: s.Barcode, LineItems: s.LineItems, ConditionsEnabled: true,
		PatronNotPresent: s.PatronNotPresent, PreAuth: s.PreAuth}
	if s.BasketAmount > 0 {
		r.PartialAllowed, r.BasketAmount = true, centrapay.Int64BigNumber(s.BasketAmount)
	}
	return r
}

// createAnswered journals the outcome of a create and schedules what
// follows.
func (e *Engine) createAnswered(ctx context.Context, s *Sale, op *Op, pr *centrapay.PaymentRequest, err error) error {
	now := e.clk.Now()
	op.Attempts++
	switch {
	case err == nil:
		op.State = OpSucceeded
		op.PaymentRequestID = pr.ID
		e.apply(s, pr)
		if err := e.commit(ctx, &Change{Sale: s, Note: "payment request " + pr.ID + " created", Ops: []*Op{op}}); err != nil {
			return err
		}
		next := now.Add(e.cfg.PollInterval)
		if s.Flow == FlowBarcode {
			next = now // Centrapay takes a Quick Pay on the first poll
		}
		e.schedule(saleWork(s.ID), next)
	case centrapay.IsUnknownOutcome(err):
		e.log.Warn("create outcome unknown", "sale", s.ID, "err", err)
		s.Status, s.Reason = StatusResolving, "checking whether the payment request was created"
		if err := e.commit(ctx, &Change{Sale: s, Note: "create outcome unknown: " + err.Error(), Ops: []*Op{op}}); err != nil {
			return err
		}
		e.schedule(saleWork(s.ID), now)
	default:
		code, msg := refusal(err)
		op.State, op.Error, op.Message = OpFailed, code, msg
		s.Status, s.Reason = StatusFailed, msg
		if err := e.commit(ctx, &Change{Sale: s, Note: "create refused: " + code, Ops: []*Op{op}}); err != nil {
			return err
		}
		return &Error{Code: ERefused, Message: msg, Centrapay: code}
	}
	return nil
}
