package pos

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

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
}

const maxValue = 100000000

// validate checks in before anything is written or sent.
func (in *SaleInput) validate() error {
	switch {
	case in.TerminalID == "":
		return invalid("terminalId", "required")
	case in.ConfigID == "":
		return invalid("configId", "required: the terminal's merchant config")
	case in.Value <= 0 || in.Value >= maxValue:
		return invalid("value", "must be between 1 and %d cents", maxValue-1)
	case utf8.RuneCountInString(in.ExternalRef) > 128:
		return invalid("externalRef", "at most 128 characters")
	case in.BasketAmount < 0 || in.BasketAmount > 0 && in.BasketAmount < in.Value:
		return invalid("basketAmount", "must not be below value (%d)", in.Value)
	case in.BasketAmount >= maxValue:
		return invalid("basketAmount", "must be below %d", maxValue)
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
			want := fmt.Sprint(in.Value)
			if in.BasketAmount > 0 {
				want += fmt.Sprintf(" or basketAmount %d", in.BasketAmount)
			}
			return invalid("lineItems", "prices sum to %d; they must sum to value %s", sum, want)
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
	if prev, err := e.j.FindSale(ctx, SaleQuery{ExternalRef: s.ExternalRef}); err == nil && !prev.Status.Final() {
		return nil, &Error{Code: EConflict, Field: "externalRef", Message: fmt.Sprintf("sale %s with this reference is still %s", prev.ID, prev.Status)}
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	op := &Op{ID: newID("op_"), SaleID: s.ID, Kind: OpCreate, Key: s.ExternalRef, Amount: s.Value, Currency: s.Currency,
		State: OpPending, TerminalID: s.TerminalID, CreatedAt: now}
	if err := e.j.CreateSale(ctx, s); err != nil {
		return nil, fmt.Errorf("journal new sale: %w", err)
	}
	if err := e.saveOp(ctx, op); err != nil {
		return nil, err
	}
	e.publish(s)
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
		if err := e.saveOp(ctx, op); err != nil {
			return err
		}
		e.apply(s, pr)
		if err := e.save(ctx, s, "payment request "+pr.ID+" created"); err != nil {
			return err
		}
		next := now.Add(e.cfg.PollInterval)
		if s.Flow == FlowBarcode {
			next = now // Centrapay takes a Quick Pay on the first poll
		}
		e.schedule("s:"+s.ID, next)
	case centrapay.IsUnknownOutcome(err):
		e.log.Warn("create outcome unknown", "sale", s.ID, "err", err)
		s.Status, s.Reason = StatusResolving, "checking whether the payment request was created"
		if err := e.save(ctx, s, "create outcome unknown: "+err.Error()); err != nil {
			return err
		}
		e.schedule("s:"+s.ID, now)
	default:
		code, msg := refusal(err)
		op.State, op.Error, op.Message = OpFailed, code, msg
		if err := e.saveOp(ctx, op); err != nil {
			return err
		}
		s.Status, s.Reason = StatusFailed, msg
		if err := e.save(ctx, s, "create refused: "+code); err != nil {
			return err
		}
		return &Error{Code: ERefused, Message: msg, Centrapay: code}
	}
	return nil
}
