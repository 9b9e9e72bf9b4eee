package pos

import (
	"context"
	"time"
)

// Journal is the durable record the engine writes before it acts.
// Implementations: store/sqlite and store/postgres, both held to the
// conformance suite store/journaltest.
type Journal interface {
	// Save writes one step of the protocol in one transaction: a new or
	// changed sale with a note for its history, the ops it starts or
	// ends, and the till's Idempotency-Key that started it. All of it is
	// saved or none; ErrNotFound for a changed sale that is not there,
	// ErrStale for one whose Version is not one more than the journal's
	// (every update is conditional on the version it read),
	// ErrDuplicate for a new sale whose id exists, ErrOpenExternalRef when
	// another open sale holds the new sale's externalRef, ErrKeyUsed when
	// the till's key is recorded already. The events the change emits
	// (EventsFor) are written to the outbox in the same transaction, with
	// a delivery for each enabled endpoint that wants them (Outbox).
	Save(ctx context.Context, c *Change) error
	// Sale returns one sale; ErrNotFound if there is none.
	Sale(ctx context.Context, id string) (*Sale, error)
	// FindSale returns the newest sale matching q; ErrNotFound if none.
	FindSale(ctx context.Context, q SaleQuery) (*Sale, error)
	// Sales lists sales, newest first: CreatedAt descending, then ID
	// descending, an order that is stable across pages (SaleFilter.After).
	Sales(ctx context.Context, f SaleFilter) ([]*Sale, error)
	// History returns a sale's state changes, oldest first.
	History(ctx context.Context, saleID string) ([]Event, error)

	// Op returns one op; ErrNotFound if there is none.
	Op(ctx context.Context, id string) (*Op, error)
	// Ops lists ops, oldest first.
	Ops(ctx context.Context, f OpFilter) ([]*Op, error)
	// KnownRequest reports whether any sale holds Payment Request id.
	KnownRequest(ctx context.Context, id string) (bool, error)

	// Keyed returns what is recorded of a till's Idempotency-Key;
	// ErrNotFound if nothing is.
	Keyed(ctx context.Context, terminalID, key string) (*KeyedRequest, error)
	// SaveAnswer keeps the answer given to a keyed request: it is added
	// to the record its intent made, or recorded alone when the request
	// started nothing (it was refused). The first answer kept stands.
	SaveAnswer(ctx context.Context, k *KeyedRequest) error
	// PurgeKeys forgets the keys recorded before t and says how many.
	PurgeKeys(ctx context.Context, before time.Time) (int64, error)
}

// Change is one step of the protocol as the journal saves it: all or
// nothing, so that recovery never meets half a step.
type Change struct {
	Sale    *Sale         // the sale as it now stands; nil: no sale changes
	NewSale bool          // Sale is inserted, not replaced
	Note    string        // why the sale changed, for its history
	Ops     []*Op         // inserted or replaced
	Key     *KeyedRequest // the till's key, recorded with the intent it started
	// Leases are taken in the change's transaction (Leases): the engine
	// holds its new sale and new ops from the moment they exist.
	Leases []Lease
	// Origin names the engine that made the change, for the news the
	// other engines of the journal get of it (SaleNews).
	Origin string
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
	// After, a sale's id, selects only the sales that come after it in the
	// order Sales lists them — newest first, and sales of the same
	// millisecond in the reverse of the order they were journaled — so a
	// listing is paged without gaps or repeats (the next page of it).
	After string
}

// OpFilter selects ops; zero fields select everything.
type OpFilter struct {
	SaleID           string
	PaymentRequestID string
	Kind             OpKind
	Pending          bool // outcome not known yet
	// Incomplete selects the refunds Centrapay accepted and has not yet
	// said are complete (RefundPending).
	Incomplete bool
	From, To   time.Time
	TerminalID string
}

// Event is one journaled change of a sale.
type Event struct {
	At     time.Time `json:"at"`
	Status Status    `json:"status"`
	Note   string    `json:"note"`
}
