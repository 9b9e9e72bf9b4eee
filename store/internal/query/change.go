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
}

// Save writes c in tx, in the one order both journals use: the key first
// (so a second request with it stops before anything else is written),
// then the sale and its history, then the ops.
func Save(ctx context.Context, tx Tx, c *pos.Change) error {
	if c.Key != nil {
		if err := tx.InsertKey(ctx, c.Key); err != nil {
			return err
		}
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
	return nil
}
