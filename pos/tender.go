package pos

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TenderMethod is how a patron paid, outside Centrapay, what a part
// payment left to pay.
type TenderMethod string

// Tender methods.
const (
	TenderCash TenderMethod = "cash"
	TenderCard TenderMethod = "card" // the store's own card terminal
)

// Words is how a screen or receipt names m.
func (m TenderMethod) Words() string {
	switch m {
	case TenderCash:
		return "Cash"
	case TenderCard:
		return "Card"
	}
	return string(m)
}

// valid reports whether m is one of the methods.
func (m TenderMethod) valid() bool { return m == TenderCash || m == TenderCard }

// Tender is money the till took outside Centrapay toward a sale Centrapay
// part paid (Centrapay's partial payment guide: "prompt the user to pay
// the difference using another method (e.g. cash or card)"). Centrapay
// knows nothing of it: it is the journal's record of what the patron
// paid, so the sale reads paid in full and the day's close adds it up.
type Tender struct {
	ID         string       `json:"id"`
	Method     TenderMethod `json:"method"`
	Amount     int64        `json:"amount"`
	TerminalID string       `json:"terminalId,omitempty"`
	OperatorID string       `json:"operatorId,omitempty"`
	At         time.Time    `json:"at"`
}

// TenderInput asks to record money taken outside Centrapay toward a
// part-paid sale: Amount (minor units) by Method.
type TenderInput struct {
	Method     TenderMethod `json:"method"`
	Amount     int64        `json:"amount"`
	OperatorID string       `json:"operatorId,omitempty"`
	// Terminal is the till that takes it; Key its Idempotency-Key,
	// recorded with the tender.
	Terminal *Terminal     `json:"-"`
	Key      *KeyedRequest `json:"-"`
}

// Tendered is what was taken outside Centrapay toward s.
func (s *Sale) Tendered() int64 {
	var n int64
	for _, t := range s.Tenders {
		n += t.Amount
	}
	return n
}

// StillToPay is what the patron of a part-paid sale still owes:
// Centrapay's remainingAmount less what was taken outside Centrapay. 0 for
// any sale not part paid.
func (s *Sale) StillToPay() int64 {
	if s.Status != StatusPaid || s.PreAuth {
		return 0
	}
	return max(s.RemainingAmount-s.Tendered(), 0)
}

// TakeTender records money taken outside Centrapay toward part-paid sale
// id, with the till's key in the same step: a retry or a second press
// with the key records nothing more, and no amount beyond what is still
// to pay is taken.
func (e *Engine) TakeTender(ctx context.Context, id string, in TenderInput) (*Sale, error) {
	ctx = context.WithoutCancel(ctx) // once begun, it is journaled to its end
	if !in.Method.valid() {
		return nil, invalid("method", "cash or card")
	}
	if in.Amount <= 0 {
		return nil, invalid("amount", "must be more than 0.00")
	}
	if err := checkText("operatorId", in.OperatorID, 128); err != nil {
		return nil, err
	}
	unlock := e.lock(id)
	defer unlock()
	for attempt := 0; ; attempt++ {
		s, err := e.sale(ctx, id)
		if err != nil {
			return nil, err
		}
		left := s.StillToPay()
		if left <= 0 {
			return nil, &Error{Code: EConflict, Message: fmt.Sprintf("the sale is %s with nothing still to pay", s.Status)}
		}
		if in.Amount > left {
			return nil, invalid("amount", "at most %s is still to pay", money(left, s.Currency))
		}
		t := Tender{ID: newID("td_"), Method: in.Method, Amount: in.Amount, OperatorID: in.OperatorID, At: e.clk.Now()}
		if in.Terminal != nil {
			t.TerminalID = in.Terminal.ID
		}
		s.Tenders = append(s.Tenders, t)
		if in.Key != nil {
			in.Key.SaleID = s.ID
		}
		note := fmt.Sprintf("%s of %s taken by %s, outside Centrapay", money(in.Amount, s.Currency), money(left, s.Currency), in.Method)
		err = e.commit(ctx, &Change{Sale: s, Note: note, Key: in.Key})
		switch {
		case err == nil:
			return s, nil
		case errors.Is(err, ErrStale) && attempt < 3:
			continue // a refund at another server meanwhile: read it again
		case errors.Is(err, ErrKeyUsed):
			return nil, ErrKeyUsed
		}
		return nil, err
	}
}
