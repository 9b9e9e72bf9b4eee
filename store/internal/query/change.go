package query

import (
	"context"
	"errors"

	"github.com/centrapos/centrapos/pos"
)

// Tx is one journal transaction, as Save needs it.
type Tx interface {
	// InsertSale adds a new sale: pos.ErrDuplicate if its id exists,
	// pos.ErrOpenExternalRef if an open sale holds its externalRef.
	InsertSale(ctx context.Context, s *pos.Sale) error
	// UpdateSale replaces a sale: pos.ErrNotFound if it is not there.
	UpdateSale(ctx context.Context, s *pos.Sale) error
	// Event appends a note to a sale's history.
	Event(ctx context.Context, s *pos.Sale, note string) error
	// SaveOp inserts or replaces an op.
	SaveOp(ctx context.Context, op *pos.Op) error
	// InsertKey records a till's key: pos.ErrKeyUsed if it is recorded.
	InsertKey(ctx context.Context, k *pos.KeyedRequest) error

	// SaleState reads a sale's status and version in the transaction,
	// locking its row where the database can; status "" when there is
	// no such sale.
	SaleState(ctx context.Context, id string) (SaleState, error)
	// RefundStatus reads a refund op's status likewise; "" when there is
	// no such op.
	RefundStatus(ctx context.Context, id string) (pos.RefundStatus, error)
	// Subscribers lists the enabled endpoints (without their secrets).
	Subscribers(ctx context.Context) ([]pos.Endpoint, error)
	// InsertEvent adds an event to the outbox, numbering it in its
	// stream (it sets e.Sequence), with a pending delivery, due at once,
	// for each of endpoints.
	InsertEvent(ctx context.Context, e *pos.OutboxEvent, endpoints []string) error
}

// SaleState is what a journal holds of a sale's status and version.
type SaleState struct {
	Status  pos.Status
	Version int
}

// Save writes c in tx, in the one order both journals use: the key first
// (so a second request with it stops before anything else is written),
// then what the journal held of the sale and refunds before the change
// (read, not written), the sale and its history, the ops, and last the
// events the change emits (pos.EventsFor) with their deliveries: an event
// is in the outbox if and only if its change is in the journal.
func Save(ctx context.Context, tx Tx, c *pos.Change) error {
	if c.Key != nil {
		if err := tx.InsertKey(ctx, c.Key); err != nil {
			return err
		}
	}
	before, version, err := readBefore(ctx, tx, c)
	if err != nil {
		return err
	}
	if c.Sale != nil && !c.NewSale && before.Status != "" && version != c.Sale.Version-1 {
		return pos.ErrStale // every update is conditional on the version it read
	}
	if c.Sale != nil {
		write := tx.UpdateSale
		if c.NewSale {
			write = tx.InsertSale
		}
		if err := write(ctx, c.Sale); err != nil {
			return err
		}
		if err := tx.Event(ctx, c.Sale, c.Note); err != nil {
			return err
		}
	} else if c.NewSale {
		return errors.New("save: NewSale without a sale")
	}
	for _, op := range c.Ops {
		if err := tx.SaveOp(ctx, op); err != nil {
			return err
		}
	}
	if len(c.Leases) > 0 || c.Sale != nil {
		if err := share(ctx, tx, c); err != nil {
			return err
		}
	}
	return emit(ctx, tx, before, c)
}

// SharedTx is the side of a Tx that shares its journal between engines
// (pos.Leases, pos.SaleNews).
type SharedTx interface {
	// TakeLease takes lease l in the transaction.
	TakeLease(ctx context.Context, l pos.Lease) error
	// NewsOfSale tells the other engines, once the transaction commits,
	// that origin changed sale id.
	NewsOfSale(ctx context.Context, origin, id string) error
}

// share takes c's leases and tells the other engines of its sale, in tx;
// a journal that no engines share has no leases to take.
func share(ctx context.Context, tx Tx, c *pos.Change) error {
	st, ok := tx.(SharedTx)
	if !ok {
		if len(c.Leases) > 0 {
			return errors.New("save: this journal has no leases: it is one server's")
		}
		return nil
	}
	for _, l := range c.Leases {
		if err := st.TakeLease(ctx, l); err != nil {
			return err
		}
	}
	if c.Sale != nil {
		return st.NewsOfSale(ctx, c.Origin, c.Sale.ID)
	}
	return nil
}

// readBefore reads the sale's status and version and the refunds' states
// as the journal holds them before c.
func readBefore(ctx context.Context, tx Tx, c *pos.Change) (b pos.Before, version int, err error) {
	if c.Sale != nil && !c.NewSale {
		st, err := tx.SaleState(ctx, c.Sale.ID)
		if err != nil {
			return b, 0, err
		}
		b.Status, version = st.Status, st.Version
	}
	for _, op := range c.Ops {
		if op.Kind != pos.OpRefund {
			continue
		}
		st, err := tx.RefundStatus(ctx, op.ID)
		if err != nil {
			return b, 0, err
		}
		if st != "" {
			if b.Ops == nil {
				b.Ops = map[string]pos.RefundStatus{}
			}
			b.Ops[op.ID] = st
		}
	}
	return b, version, nil
}

// emit writes the events c emits, each with a delivery to every enabled
// endpoint that wants its type: the endpoints are decided when the event
// happens, in its transaction.
func emit(ctx context.Context, tx Tx, before pos.Before, c *pos.Change) error {
	events, err := pos.EventsFor(before, c)
	if err != nil || len(events) == 0 {
		return err
	}
	subs, err := tx.Subscribers(ctx)
	if err != nil {
		return err
	}
	for i := range events {
		e := &events[i]
		e.ID = pos.NewEventID()
		var to []string
		for _, s := range subs {
			if s.Enabled && s.Wants(e.Type) {
				to = append(to, s.ID)
			}
		}
		if err := tx.InsertEvent(ctx, e, to); err != nil {
			return err
		}
	}
	return nil
}
