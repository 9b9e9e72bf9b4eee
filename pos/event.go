package pos

import (
	"encoding/json"
	"fmt"
	"time"
)

// EventType names an event reported to merchants' systems (webhooks out).
type EventType string

// The event catalogue. A sale event's data is the sale as it stands; a
// refund event's data is the refund (an Op of kind refund).
const (
	EventSalePaid        EventType = "sale.paid"        // the sale is paid (a pre-auth: authorized)
	EventSaleCancelled   EventType = "sale.cancelled"   // cancelled: at the till, declined, or voided
	EventSaleExpired     EventType = "sale.expired"     // the request expired unpaid
	EventSaleFailed      EventType = "sale.failed"      // no request could be made
	EventRefundPending   EventType = "refund.pending"   // a refund is journaled, before it is sent
	EventRefundSucceeded EventType = "refund.succeeded" // Centrapay accepted it (refund pending until complete)
	EventRefundCompleted EventType = "refund.completed" // Centrapay says it is complete: the money is back
	EventRefundFailed    EventType = "refund.failed"    // Centrapay refused it
)

// EventTypes is the catalogue, in the order the documentation lists it.
var EventTypes = []EventType{EventSalePaid, EventSaleCancelled, EventSaleExpired, EventSaleFailed,
	EventRefundPending, EventRefundSucceeded, EventRefundCompleted, EventRefundFailed}

// Valid reports whether t is in the catalogue.
func (t EventType) Valid() bool {
	for _, v := range EventTypes {
		if t == v {
			return true
		}
	}
	return false
}

// saleEvents is the event of each final sale status.
var saleEvents = map[Status]EventType{
	StatusPaid:      EventSalePaid,
	StatusCancelled: EventSaleCancelled,
	StatusExpired:   EventSaleExpired,
	StatusFailed:    EventSaleFailed,
}

// refundEvents is the event of each refund status.
var refundEvents = map[RefundStatus]EventType{
	RefundSending:   EventRefundPending,
	RefundPending:   EventRefundSucceeded,
	RefundCompleted: EventRefundCompleted,
	RefundFailed:    EventRefundFailed,
}

// OutboxEvent is one event for merchants' systems. It is written to the
// journal's outbox in the transaction of the change it reports, so that
// no change is journaled without its event nor an event without its
// change; the webhook package delivers it. Marshalled, it is the body
// every delivery of it carries: {id, type, createdAt, sequence, data}.
type OutboxEvent struct {
	// ID is evt_…, the same on every delivery and redelivery: receivers
	// dedupe on it.
	ID        string    `json:"id"`
	Type      EventType `json:"type"`
	CreatedAt time.Time `json:"createdAt"`
	// Sequence is 1, 2, 3 … for the events of one sale (Stream), in the
	// order they happened.
	Sequence int64 `json:"sequence"`
	// Data is the sale (sale.*) or the refund (refund.*) as it was when
	// the event happened.
	Data json.RawMessage `json:"data"`
	// Stream is what Sequence counts and deliveries keep in order: the
	// sale's id, or "pr:" and the Payment Request's id for a refund of a
	// payment no sale of this server took.
	Stream string `json:"-"`
}

// Before is what the journal held, just before a Change, of the records
// the Change writes: EventsFor compares the two.
type Before struct {
	Status Status                  // the sale's status; "" for a new sale
	Ops    map[string]RefundStatus // the status of each refund op of the Change already journaled
}

// EventsFor decides which events a Change emits, from what the journal
// held before it (b) and the Change itself. It is the one place that
// does: a sale that becomes paid, cancelled, expired or failed emits
// sale.<status>; a refund op newly journaled emits refund.pending, one
// that Centrapay accepts or refuses emits refund.succeeded or
// refund.failed, and one Centrapay completes emits refund.completed
// (after refund.succeeded, when both happen in one Change). Writing the
// same status again emits nothing. Sale events
// come first, then refund events in the order of c.Ops. IDs and sequence
// numbers are the journal's to give (query.Save, and the store).
func EventsFor(b Before, c *Change) ([]OutboxEvent, error) {
	var out []OutboxEvent
	if s := c.Sale; s != nil && s.Status != b.Status {
		if t, ok := saleEvents[s.Status]; ok {
			data, err := json.Marshal(s)
			if err != nil {
				return nil, fmt.Errorf("event %s: %w", t, err)
			}
			out = append(out, OutboxEvent{Type: t, CreatedAt: eventTime(s.UpdatedAt), Data: data, Stream: s.ID})
		}
	}
	for _, op := range c.Ops {
		if op.Kind != OpRefund {
			continue
		}
		now := op.RefundStatus()
		prev, known := b.Ops[op.ID]
		if known && (prev == now || now == RefundSending) {
			continue
		}
		types := []EventType{refundEvents[now]}
		if now == RefundCompleted && prev != RefundPending {
			types = []EventType{EventRefundSucceeded, EventRefundCompleted} // accepted and completed at once
		}
		data, err := json.Marshal(op)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", types[0], err)
		}
		for _, t := range types {
			out = append(out, OutboxEvent{Type: t, CreatedAt: eventTime(op.UpdatedAt), Data: data, Stream: op.Stream()})
		}
	}
	return out, nil
}

// Stream is what orders the op's events: its sale, or its Payment
// Request when no sale of ours made it.
func (op *Op) Stream() string {
	switch {
	case op.SaleID != "":
		return op.SaleID
	case op.PaymentRequestID != "":
		return "pr:" + op.PaymentRequestID
	}
	return "op:" + op.ID
}

// eventTime is t in UTC to the millisecond, as both journals keep it.
func eventTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// NewEventID returns a new event id, evt_ and 80 random bits.
func NewEventID() string { return newID("evt_") }
