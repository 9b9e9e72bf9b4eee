package pos

import (
	"context"
	"time"
)

// Journal is the durable record the engine writes before it acts. Every
// method is atomic; SaveSale and SaveOp replace the whole record.
// Implementations: store/sqlite (and its conformance suite, journaltest).
type Journal interface {
	// CreateSale records a new sale; ErrDuplicate if its id exists.
	CreateSale(ctx context.Context, s *Sale) error
	// SaveSale replaces a sale and appends note to its history.
	SaveSale(ctx context.Context, s *Sale, note string) error
	// Sale returns one sale; ErrNotFound if there is none.
	Sale(ctx context.Context, id string) (*Sale, error)
	// FindSale returns the newest sale matching q; ErrNotFound if none.
	FindSale(ctx context.Context, q SaleQuery) (*Sale, error)
	// Sales lists sales, newest first.
	Sales(ctx context.Context, f SaleFilter) ([]*Sale, error)
	// History returns a sale's state changes, oldest first.
	History(ctx context.Context, saleID string) ([]Event, error)

	// SaveOp inserts or replaces an op.
	SaveOp(ctx context.Context, op *Op) error
	// Op returns one op; ErrNotFound if there is none.
	Op(ctx context.Context, id string) (*Op, error)
	// Ops lists ops, oldest first.
	Ops(ctx context.Context, f OpFilter) ([]*Op, error)
	// KnownRequest reports whether any sale holds Payment Request id.
	KnownRequest(ctx context.Context, id string) (bool, error)
}

// SaleQuery finds a sale by one of its identifiers.
type SaleQuery struct {
	ExternalRef      string
	PaymentRequestID string
	ShortCode        string
}

// SaleFilter selects sales; zero fields select everything.
type SaleFilter struct {
	From, To   time.Time // CreatedAt in [From, To)
	TerminalID string
	Status     Status
	Open       bool // only sales whose status is not final
	Limit      int
}

// OpFilter selects ops; zero fields select everything.
type OpFilter struct {
	SaleID     string
	Kind       OpKind
	Pending    bool
	From, To   time.Time
	TerminalID string
}

// Event is one journaled change of a sale.
type Event struct {
	At     time.Time `json:"at"`
	Status Status    `json:"status"`
	Note   string    `json:"note"`
}
