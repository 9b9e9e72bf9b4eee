// Package bench is the load both SQL journals are measured under: the
// steps of a sale as the engine journals them, and, beside them, a raw
// single-row insert into the same database with the same durability, one
// transaction and one commit per row. Their ratio says how much of the
// database's commit rate the journal turns into journaled changes.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// Ratio is the outcome of Measure: each side ran for Duration from
// Concurrency goroutines.
type Ratio struct {
	Concurrency int
	Duration    time.Duration // how long each side ran
	Saves       int64         // pos.Changes journaled
	RawInserts  int64         // rows inserted, each in its own transaction
	SavesPerSec float64
	RawPerSec   float64
	// Ratio is SavesPerSec / RawPerSec, which is the raw insert's time per
	// row divided by the journal's time per change: 1 means a change costs
	// what the bare commit of one row costs.
	Ratio float64
}

func (r Ratio) String() string {
	return fmt.Sprintf("concurrency %d, %s each: %.0f saves/s, %.0f raw inserts/s, save/raw %.2f",
		r.Concurrency, r.Duration, r.SavesPerSec, r.RawPerSec, r.Ratio)
}

// SaveFunc journals one change (a journal's Save).
type SaveFunc func(ctx context.Context, c *pos.Change) error

// RawFunc inserts one row (id, data) in a transaction of its own and
// commits it.
type RawFunc func(ctx context.Context, r Row) error

// Row is what a raw insert writes: the columns of a sale a journal keeps
// beside its JSON, and the JSON of a sale as it is started.
type Row struct {
	ID, TerminalID, ExternalRef, Status string
	CreatedAt                           time.Time
	Data                                []byte
}

// RawTable is the scratch table raw inserts write to, in SQL both
// databases take.
const RawTable = `CREATE TABLE IF NOT EXISTS bench_raw (
	id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, external_ref TEXT NOT NULL,
	status TEXT NOT NULL, created_at BIGINT NOT NULL, data TEXT NOT NULL)`

// Workload is one till's stream of changes, as the engine journals a QR
// sale paid at the first poll: the sale started with its create intent
// and the till's Idempotency-Key; the Payment Request created; the sale
// paid (final, with its outbox event). A Workload is used by one
// goroutine; ids are unique to its prefix.
type Workload struct {
	prefix string
	start  time.Time // the workload's clock is fixed, so runs are alike
	n      int
	sale   *pos.Sale
	op     *pos.Op
	step   int
}

// NewWorkload returns a workload whose ids start with prefix.
func NewWorkload(prefix string) *Workload {
	return &Workload{prefix: prefix, start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
}

// Next returns the next change to journal.
func (w *Workload) Next() *pos.Change {
	defer func() { w.step = (w.step + 1) % 3 }()
	now := w.start.Add(time.Duration(w.n) * time.Millisecond)
	switch w.step {
	case 0:
		w.n++
		w.sale, w.op = w.newSale()
		key := &pos.KeyedRequest{TerminalID: w.sale.TerminalID, Key: w.sale.ID + "-key", RequestHash: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
			SaleID: w.sale.ID, CreatedAt: now}
		return &pos.Change{Sale: w.sale, NewSale: true, Note: "sale started", Ops: []*pos.Op{w.op}, Key: key}
	case 1:
		pr := "pr_" + w.sale.ID
		w.sale.PaymentRequest = &pos.PaymentRequest{ID: pr, ShortCode: "CP-" + w.sale.ID, URL: "https://app.centrapay.com/pay/" + pr,
			Status: "new", ExpiresAt: now.Add(2 * time.Minute)}
		w.sale.UpdatedAt, w.sale.Version = now, w.sale.Version+1
		w.op.State, w.op.PaymentRequestID, w.op.Attempts, w.op.UpdatedAt = pos.OpSucceeded, pr, 1, now
		return &pos.Change{Sale: w.sale, Note: "payment request " + pr + " created", Ops: []*pos.Op{w.op}}
	default:
		w.sale.Status, w.sale.RemainingAmount = pos.StatusPaid, 0
		w.sale.PaymentRequest.Status = "paid"
		w.sale.PaidBy = []pos.Payment{{AssetType: "centrapay.nzd.main", Description: "Centrapay wallet", Amount: w.sale.Value}}
		w.sale.UpdatedAt, w.sale.Version = now, w.sale.Version+1
		return &pos.Change{Sale: w.sale, Note: "paid"}
	}
}

func (w *Workload) newSale() (*pos.Sale, *pos.Op) {
	now := w.start.Add(time.Duration(w.n) * time.Millisecond)
	id := fmt.Sprintf("s_%s_%d", w.prefix, w.n)
	s := &pos.Sale{ID: id, TerminalID: "till-" + w.prefix, DeviceID: "device-" + w.prefix, ConfigID: "merchant-config-1",
		ExternalRef: "R-" + id, Value: 1250, Currency: "NZD", Flow: "qr", Status: pos.StatusPending, RemainingAmount: 1250,
		CreatedAt: now, UpdatedAt: now, TimeoutAt: now.Add(2*time.Minute + 10*time.Second), Version: 1}
	op := &pos.Op{ID: "op_" + id, SaleID: id, Kind: pos.OpCreate, Key: s.ExternalRef, Amount: s.Value, Currency: s.Currency,
		State: pos.OpPending, TerminalID: s.TerminalID, CreatedAt: now, UpdatedAt: now}
	return s, op
}

// Raw returns the next row to insert: a sale as it is started.
func (w *Workload) Raw() Row {
	w.n++
	s, _ := w.newSale()
	data, _ := json.Marshal(s) // a Sale always marshals
	return Row{ID: s.ID, TerminalID: s.TerminalID, ExternalRef: s.ExternalRef, Status: string(s.Status), CreatedAt: s.CreatedAt, Data: data}
}

// Prefixes hands out id prefixes unique to one run of a process: a random
// run id and a counter.
type Prefixes struct {
	run string
	n   atomic.Int64
}

// NewPrefixes returns prefixes for a new run.
func NewPrefixes() *Prefixes {
	var b [4]byte
	rand.Read(b[:])
	return &Prefixes{run: hex.EncodeToString(b[:])}
}

// Next returns a new prefix.
func (p *Prefixes) Next() string { return fmt.Sprintf("%s%d", p.run, p.n.Add(1)) }

// Run calls fn from concurrency goroutines, each with its own workload,
// at least once each and then until d has passed (or ctx ends), and
// returns how many calls succeeded. The first error stops every goroutine and is returned.
func Run(ctx context.Context, concurrency int, d time.Duration, prefixes *Prefixes, fn func(ctx context.Context, w *Workload) error) (int64, error) {
	if concurrency < 1 {
		return 0, errors.New("bench: concurrency must be at least 1")
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var done atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range concurrency {
		w := NewWorkload(prefixes.Next())
		wg.Go(func() {
			// at least one call each; a call runs to its end: a change cut
			// off at the deadline would count as a failure
			for {
				if err := fn(context.WithoutCancel(ctx), w); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				done.Add(1)
				if ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return done.Load(), first
}

// Measure runs raw inserts and saves, each for d in all from concurrency
// goroutines, and returns their rates and ratio. The two alternate in
// rounds, so that a change in the machine's load during the run weighs
// on both sides alike.
func Measure(ctx context.Context, concurrency int, d time.Duration, raw RawFunc, save SaveFunc) (Ratio, error) {
	r := Ratio{Concurrency: concurrency, Duration: d}
	p := NewPrefixes()
	var rawTook, saveTook time.Duration
	for range rounds {
		start := time.Now()
		n, err := Run(ctx, concurrency, d/rounds, p, func(ctx context.Context, w *Workload) error { return raw(ctx, w.Raw()) })
		if err != nil {
			return r, fmt.Errorf("raw insert: %w", err)
		}
		r.RawInserts, rawTook = r.RawInserts+n, rawTook+time.Since(start)
		start = time.Now()
		n, err = Run(ctx, concurrency, d/rounds, p, func(ctx context.Context, w *Workload) error { return save(ctx, w.Next()) })
		if err != nil {
			return r, fmt.Errorf("save: %w", err)
		}
		r.Saves, saveTook = r.Saves+n, saveTook+time.Since(start)
		if err := ctx.Err(); err != nil {
			return r, err
		}
	}
	r.RawPerSec = float64(r.RawInserts) / rawTook.Seconds()
	r.SavesPerSec = float64(r.Saves) / saveTook.Seconds()
	r.Ratio = r.SavesPerSec / r.RawPerSec
	return r, nil
}
