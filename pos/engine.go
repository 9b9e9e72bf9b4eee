package pos

import (
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/internal/keyed"
)

// Centrapay is the part of Centrapay's API the engine calls;
// *centrapay.Client implements it.
type Centrapay interface {
	Create(ctx context.Context, r *centrapay.CreateRequest) (*centrapay.PaymentRequest, *centrapay.Response, error)
	Get(ctx context.Context, id string) (*centrapay.PaymentRequest, *centrapay.Response, error)
	GetByShortCode(ctx context.Context, code string) (*centrapay.PaymentRequest, *centrapay.Response, error)
	AllByExternalRef(ctx context.Context, ref string, opt *centrapay.ListOptions) iter.Seq2[*centrapay.PaymentRequest, error]
	Void(ctx context.Context, id string) (*centrapay.Activity, *centrapay.Response, error)
	Refund(ctx context.Context, id string, r *centrapay.RefundRequest) (*centrapay.Activity, *centrapay.Response, error)
	AcceptCondition(ctx context.Context, id, conditionID string) (*centrapay.Activity, *centrapay.Response, error)
	DeclineCondition(ctx context.Context, id, conditionID string) (*centrapay.Activity, *centrapay.Response, error)
	Confirm(ctx context.Context, id string, r *centrapay.ConfirmRequest) (*centrapay.Activity, *centrapay.Response, error)
	Release(ctx context.Context, id string) (*centrapay.Activity, *centrapay.Response, error)
}

// Config configures an Engine. Centrapay, Journal and MerchantAccountID
// are required.
type Config struct {
	Centrapay         Centrapay
	Journal           Journal
	MerchantAccountID string // for lookups by externalRef
	Currency          string // default NZD
	Clock             clock.Clock
	Logger            *slog.Logger
	ExpirySeconds     int                 // of each Payment Request; default 120
	TimeoutMargin     time.Duration       // POS timeout = expiry + margin; default 7 s, kept within 5–10 s
	PollInterval      time.Duration       // default 1 s
	MaxBackoff        time.Duration       // between retries of an unknown outcome; default 30 s
	ObserveLag        func(time.Duration) // optional: how late each piece of work starts (a metric)
	// ObservePollInterval, optional, is given the time between two
	// answered polls of the same sale: the real poll interval, which
	// grows past PollInterval when the rate budget is short (a metric).
	ObservePollInterval func(time.Duration)
	// ObserveEnded, optional, is told the final status of each sale the
	// engine drove to its end (a metric).
	ObserveEnded func(Status)
	// MaxInFlight caps the scheduled work (polls, voids, retries) run at
	// once; the rest waits its turn, oldest due first. Default 1024: at
	// 10,000 live sales polled once a second, calls of 100 ms keep about
	// 1,000 in flight.
	MaxInFlight int
	// OperatorWait is how long a cashier's call (create, cancel, refund,
	// condition, confirm, release) may wait for the rate budget before it
	// is refused, unsent, with words to try again. Default 3 s.
	OperatorWait time.Duration
	// StopGrace is how long, once Run's context ends, work already
	// started may go on to finish (its outcome journaled) before it is
	// cut off and left to the next start's recovery. Default 10 s.
	StopGrace time.Duration

	// Leases, when set, share the journal with other engines (servers):
	// this engine drives only the sales and ops whose lease it holds
	// (see Leases). Nil: it is the journal's only engine.
	Leases Leases
	// Instance names this engine among those of the journal: the owner
	// of its leases. Default: a random id.
	Instance string
	// LeaseTTL is how long a lease lasts unrenewed; it is renewed every
	// third of it. Default 10 s: an engine that dies has its sales taken
	// over within 10 s and a claim round.
	LeaseTTL time.Duration

	// Crash is for crash tests (store/journaltest): it is called at every
	// journal write (before and after it) and every Centrapay call
	// boundary (before the call, after its answer) with the point's name;
	// when it returns true the engine does nothing more, as if its process
	// had died there. Nil in production.
	Crash func(point string) bool
}

// Engine runs the payment protocol. It is safe for concurrent use. Call
// Recover once at start, then Run (or Step, in tests) to drive sales.
type Engine struct {
	cfg Config
	clk clock.Clock
	j   Journal
	cp  Centrapay
	log *slog.Logger

	mu      sync.Mutex
	due     map[workKey]time.Time // when to do each piece of work next
	queue   workQueue             // the same, as a min-heap by time
	running map[workKey]bool
	locks   keyed.Mutex // one per sale: its changes are serial
	subs    map[int]subscriber
	nextSub int
	wake    chan struct{}

	crash func(point string) bool // tests: abandon the engine at point
	dead  bool

	watch   *watch          // the Centrapay client, watched for a refused key
	strikes map[workKey]int // refusals or errors in a row, for backoff

	live     *liveSales        // open sales as journaled
	budget   *centrapay.Budget // Centrapay's rate budget, when the client shares it
	inFlight int               // scheduled work running (Run), at most MaxInFlight
	load     loadLog           // what was last said of the budget's shortfall
	recon    reconState        // the last reconciliation, and one run at a time

	leases Leases           // Config.Leases
	held   map[workKey]bool // the leases held, when leasing; under mu
}

type subscriber struct {
	saleID string // "" for every sale
	ch     chan *Sale
}

// New returns an engine configured by cfg.
func New(cfg Config) (*Engine, error) {
	if cfg.Centrapay == nil || cfg.Journal == nil {
		return nil, errors.New("pos: Centrapay and Journal are required")
	}
	if cfg.MerchantAccountID == "" {
		return nil, errors.New("pos: MerchantAccountID is required (lookups by externalRef need it)")
	}
	if cfg.Currency == "" {
		cfg.Currency = "NZD"
	}
	if cfg.ExpirySeconds == 0 {
		cfg.ExpirySeconds = 120
	}
	if cfg.ExpirySeconds < 10 || cfg.ExpirySeconds > 86400 {
		return nil, fmt.Errorf("pos: expiry %d s: must be between 10 and 86400", cfg.ExpirySeconds)
	}
	if cfg.TimeoutMargin == 0 {
		cfg.TimeoutMargin = 7 * time.Second
	}
	if cfg.TimeoutMargin < 5*time.Second || cfg.TimeoutMargin > 10*time.Second {
		return nil, fmt.Errorf("pos: timeout margin %v: Centrapay asks for 5 to 10 s after expiry", cfg.TimeoutMargin)
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1024
	}
	if cfg.OperatorWait <= 0 {
		cfg.OperatorWait = 3 * time.Second
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 10 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 10 * time.Second
	}
	if cfg.Instance == "" {
		cfg.Instance = newID("in_")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, clk: cfg.Clock, j: cfg.Journal, log: cfg.Logger,
		due: map[workKey]time.Time{}, running: map[workKey]bool{}, strikes: map[workKey]int{},
		subs: map[int]subscriber{}, wake: make(chan struct{}, 1), crash: cfg.Crash, live: newLiveSales(),
		leases: cfg.Leases, held: map[workKey]bool{}}
	if b, ok := cfg.Centrapay.(interface{ Budget() *centrapay.Budget }); ok {
		e.budget = b.Budget()
	}
	e.watch = &watch{cp: cfg.Centrapay, e: e}
	e.cp = e.watch
	return e, nil
}

// Journal returns the engine's journal, for reads.
func (e *Engine) Journal() Journal { return e.j }

// errAbandoned is returned once a test has abandoned the engine.
var errAbandoned = errors.New("pos: engine abandoned")

// at reports whether a test abandons the engine at point; from then on it
// does nothing more, as if the process had died.
func (e *Engine) at(point string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.dead && e.crash != nil && e.crash(point) {
		e.dead = true
	}
	return e.dead
}

// workKey names a piece of scheduled work: a sale to drive, an op to
// send again, a refund whose completion to check (workRefund).
type workKey string

// Kinds of work.
const (
	workSale = "s:" // drive a sale: poll it, void it, resolve its create
	workOp   = "o:" // send a pending op again
)

func saleWork(id string) workKey { return workKey(workSale + id) }
func opWork(id string) workKey   { return workKey(workOp + id) }

// split returns the kind of work and the id it is about.
func (k workKey) split() (kind, id string) { return string(k[:2]), string(k[2:]) }

// schedule asks for work on key at t (the earlier of t and any time
// already asked for).
func (e *Engine) schedule(key workKey, t time.Time) {
	e.mu.Lock()
	if old, ok := e.due[key]; !ok || t.Before(old) {
		e.due[key] = t
		if !e.running[key] { // running work is queued again when it ends
			heap.Push(&e.queue, dueWork{key, t})
		}
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// dueWork is an entry of the engine's queue: key, due at t. An entry is
// stale, and skipped, once due no longer holds t for key (the work was
// rescheduled, taken or done meanwhile).
type dueWork struct {
	key workKey
	t   time.Time
}

// workQueue is a min-heap of dueWork by time: taking what is due and
// finding the next due time cost O(log n), not a scan of every sale.
type workQueue []dueWork

func (q workQueue) Len() int           { return len(q) }
func (q workQueue) Less(i, j int) bool { return q[i].t.Before(q[j].t) }
func (q workQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *workQueue) Push(x any)        { *q = append(*q, x.(dueWork)) }
func (q *workQueue) Pop() any {
	old := *q
	w := old[len(old)-1]
	*q = old[:len(old)-1]
	return w
}

// current reports whether queue entry w is the current schedule of its work;
// the caller holds e.mu.
func (e *Engine) current(w dueWork) bool {
	t, ok := e.due[w.key]
	return ok && t.Equal(w.t) && !e.running[w.key]
}

// takeDue removes and returns the work due now that is not running, at
// most limit items (0: no limit), oldest due first.
func (e *Engine) takeDue(limit int) []workKey {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dead {
		return nil
	}
	now := e.clk.Now()
	var keys []workKey
	for len(e.queue) > 0 && !e.queue[0].t.After(now) && (limit == 0 || len(keys) < limit) {
		w := heap.Pop(&e.queue).(dueWork)
		if !e.current(w) {
			continue
		}
		if e.cfg.ObserveLag != nil {
			e.cfg.ObserveLag(now.Sub(w.t))
		}
		keys = append(keys, w.key)
		delete(e.due, w.key)
		e.running[w.key] = true
	}
	return keys
}

// nextDue is when the earliest scheduled work falls due.
func (e *Engine) nextDue() (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for len(e.queue) > 0 {
		if w := e.queue[0]; e.current(w) {
			return w.t, true
		}
		heap.Pop(&e.queue) // stale
	}
	return time.Time{}, false
}

func (e *Engine) work(ctx context.Context, key workKey) {
	defer func() {
		e.mu.Lock()
		delete(e.running, key)
		if t, ok := e.due[key]; ok { // asked for again while it ran
			heap.Push(&e.queue, dueWork{key, t})
		}
		e.mu.Unlock()
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}()
	kind, id := key.split()
	if !e.holds(key) {
		return // another engine holds it now
	}
	var next time.Time
	var err error
	switch kind {
	case workSale:
		next, err = e.drive(ctx, id)
	case workOp:
		next, err = e.resend(ctx, id)
	case workRefund:
		next, err = e.checkRefund(ctx, id)
	}
	if ctx.Err() != nil {
		return // stopping: what is unfinished is resumed from the journal at the next start
	}
	if errors.Is(err, ErrStale) {
		// changed meanwhile (at another server, or by a till): read it
		// again and go on at once
		e.log.Info("pos work: changed meanwhile, read again", "key", key)
		next, err = e.clk.Now(), nil
	}
	if err != nil && !errors.Is(err, errAbandoned) {
		n := e.strike("error " + key)
		if n == 1 || n%10 == 0 { // not a line a second while it lasts
			e.log.Error("pos work", "key", key, "err", err, "in a row", n)
		}
		next = e.clk.Now().Add(e.backoff(n))
	} else if err == nil {
		e.clear("error " + key)
	}
	if !next.IsZero() {
		e.schedule(key, next)
	}
}

// Step does all the work due now, concurrently, and returns how many items
// it did. Tests drive the engine with a fake clock and Step.
func (e *Engine) Step(ctx context.Context) int {
	keys := e.takeDue(0)
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Go(func() { e.work(ctx, k) })
	}
	wg.Wait()
	return len(keys)
}

// PurgeKeys forgets the tills' Idempotency-Keys older than KeyRetention.
// Run calls it every hour.
func (e *Engine) PurgeKeys(ctx context.Context) (int64, error) {
	n, err := e.j.PurgeKeys(ctx, e.clk.Now().Add(-KeyRetention))
	if err != nil {
		return 0, fmt.Errorf("purge keys: %w", err)
	}
	if n > 0 {
		e.log.Info("purged idempotency keys", "count", n, "older than", KeyRetention)
	}
	return n, nil
}

// purgeEvery is how often Run purges old Idempotency-Keys and Centrapay
// notifications.
const purgeEvery = time.Hour

// loadEvery is how often Run checks what the live sales ask of the rate
// budget.
const loadEvery = 10 * time.Second

// Run drives sales and retries until ctx is done. Then it takes no new
// work, lets the work already started finish for StopGrace and cuts off
// what is left: it is resumed from the journal at the next start (an
// unknown outcome caused by stopping is never taken for Centrapay's).
func (e *Engine) Run(ctx context.Context) error {
	workCtx, cut := context.WithCancel(context.WithoutCancel(ctx))
	defer cut()
	if e.leasing() {
		// leases are renewed until the work is done, then let go of, so
		// that the other engines take over at once; news of their sales
		// is heard as long
		leaseCtx, stopLeases := context.WithCancel(context.WithoutCancel(ctx))
		var lg sync.WaitGroup
		lg.Go(func() { e.leaseLoop(ctx, leaseCtx) })
		if news, ok := e.j.(SaleNews); ok {
			lg.Go(func() { e.listen(leaseCtx, news) })
		}
		defer func() {
			stopLeases()
			lg.Wait()
			e.release(context.Background())
		}()
	}
	var wg sync.WaitGroup
	nextPurge, nextLoad := e.clk.Now(), e.clk.Now()
	for {
		e.mu.Lock()
		free := e.cfg.MaxInFlight - e.inFlight
		e.mu.Unlock()
		if free > 0 {
			keys := e.takeDue(free)
			e.mu.Lock()
			e.inFlight += len(keys)
			e.mu.Unlock()
			for _, k := range keys {
				wg.Go(func() {
					defer func() {
						e.mu.Lock()
						defer e.mu.Unlock()
						e.inFlight--
					}()
					e.work(workCtx, k)
				})
			}
		}
		now := e.clk.Now()
		if !now.Before(nextPurge) {
			nextPurge = now.Add(purgeEvery)
			wg.Go(func() {
				if _, err := e.PurgeKeys(workCtx); err != nil && workCtx.Err() == nil {
					e.log.Error("purge keys", "err", err)
				}
				if _, err := e.PurgeNotifications(workCtx); err != nil && workCtx.Err() == nil {
					e.log.Error("purge notifications", "err", err)
				}
				if _, err := e.PurgeSessions(workCtx); err != nil && workCtx.Err() == nil {
					e.log.Error("purge sessions", "err", err)
				}
			})
		}
		if !now.Before(nextLoad) {
			nextLoad = now.Add(loadEvery)
			e.checkLoad(ctx)
		}
		d := max(min(nextPurge.Sub(now), nextLoad.Sub(now)), 0)
		if t, ok := e.nextDue(); ok && free > 0 {
			d = min(d, max(t.Sub(now), 0))
		}
		timer := e.clk.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			e.stop(&wg, cut)
			return ctx.Err()
		case <-e.wake: // work scheduled or finished
		case <-timer.C():
		}
		timer.Stop()
	}
}

// stop waits up to StopGrace for the work started to finish, then cuts it
// off and waits for it to return.
func (e *Engine) stop(wg *sync.WaitGroup, cut context.CancelFunc) {
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	grace := e.clk.NewTimer(e.cfg.StopGrace)
	defer grace.Stop()
	select {
	case <-finished:
		return
	case <-grace.C():
	}
	e.mu.Lock()
	n := e.inFlight
	e.mu.Unlock()
	e.log.Warn("stopping: work still waiting on Centrapay is cut off; the next start resumes it from the journal", "running", n, "after", e.cfg.StopGrace)
	cut()
	<-finished
}

// lock serialises changes to one sale.
func (e *Engine) lock(saleID string) func() { return e.locks.Lock(saleID) }

// Subscribe returns a channel of snapshots of sale saleID ("" for every
// sale) after each journaled change, and a func that ends the subscription.
// A slow reader misses intermediate snapshots, never the latest.
func (e *Engine) Subscribe(saleID string) (<-chan *Sale, func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := e.nextSub
	e.nextSub++
	ch := make(chan *Sale, 8)
	e.subs[id] = subscriber{saleID: saleID, ch: ch}
	return ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if _, ok := e.subs[id]; ok {
			delete(e.subs, id)
			close(ch)
		}
	}
}

func (e *Engine) publish(s *Sale) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, sub := range e.subs {
		if sub.saleID != "" && sub.saleID != s.ID {
			continue
		}
		snap := s.clone()
		for {
			select {
			case sub.ch <- snap:
			default:
				select { // full: drop the oldest
				case <-sub.ch:
				default:
				}
				continue
			}
			break
		}
	}
}

// commit journals one step (a Change: the sale, its ops and the till's
// key together, or nothing) and then publishes the sale it changed.
func (e *Engine) commit(ctx context.Context, c *Change) error {
	now := e.clk.Now()
	if c.Sale != nil {
		c.Sale.UpdatedAt = now
		c.Sale.Version++
	}
	if e.leasing() {
		c.Origin = e.cfg.Instance
	}
	taken := e.leasesFor(c)
	for _, op := range c.Ops {
		op.UpdatedAt = now
	}
	if c.Key != nil && c.Key.CreatedAt.IsZero() {
		c.Key.CreatedAt = now
	}
	if e.at("journal:" + c.point()) { // a crash before the write
		return errAbandoned
	}
	if err := e.j.Save(ctx, c); err != nil {
		e.unhold(taken...)
		c.Leases = nil
		if c.Sale != nil {
			c.Sale.Version--
			if !c.NewSale {
				// what the journal holds is read again: a failed save
				// may have been committed all the same
				e.live.drop(c.Sale.ID)
			}
		}
		return fmt.Errorf("journal: %w", err)
	}
	if c.Sale != nil {
		if !e.holds(saleWork(c.Sale.ID)) {
			e.live.drop(c.Sale.ID) // another engine's to drive
		} else if e.live.put(c.Sale) && e.cfg.ObserveEnded != nil {
			e.cfg.ObserveEnded(c.Sale.Status)
		}
	}
	if e.at("journaled:" + c.point()) { // a crash after it
		return errAbandoned
	}
	if c.Sale != nil {
		e.publish(c.Sale)
	}
	return nil
}

// point names a change for crash tests: the kinds and states of its ops.
func (c *Change) point() string {
	p := "sale"
	for _, op := range c.Ops {
		p = string(op.Kind) + "-" + string(op.State)
	}
	return p
}

// save journals a change of s alone.
func (e *Engine) save(ctx context.Context, s *Sale, note string) error {
	return e.commit(ctx, &Change{Sale: s, Note: note})
}

// saveOp journals a change of op alone.
func (e *Engine) saveOp(ctx context.Context, op *Op) error {
	return e.commit(ctx, &Change{Ops: []*Op{op}})
}

// newID returns a random id with prefix: 16 base32 characters, 80 bits.
func newID(prefix string) string {
	var b [10]byte
	rand.Read(b[:])
	return prefix + base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

// backoff is the wait before retry n (0-based) of an unknown outcome or
// a refusal: exponential from the poll interval, at most MaxBackoff, and
// up to a fifth longer at random, so sales refused together are not
// retried together.
func (e *Engine) backoff(n int) time.Duration {
	d := min(e.cfg.PollInterval<<min(n, 10), e.cfg.MaxBackoff)
	return d + time.Duration(mrand.Int64N(int64(d)/5+1))
}

// strike counts one more refusal or error in a row for work key.
func (e *Engine) strike(key workKey) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.strikes[key]++
	return e.strikes[key]
}

// clear forgets work key's refusals: it went well.
func (e *Engine) clear(key workKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.strikes, key)
}
