package pos

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// Reconciliation matches the journal against Centrapay's merchant payment
// activities over a period (DESIGN.md, Reconciliation): every payment,
// refund, cancellation, pre-auth confirmation and release of the period is
// looked for on the other side, and what does not match is listed by kind.
// A request of ours that Centrapay still holds open while the journal says
// it is final is voided, the void journaled first like any other op.
//
// What belongs to a period is what the report counts (Report): a sale and
// its payments by the sale's CreatedAt, a refund, confirmation or release
// by its op's CreatedAt, and at Centrapay an activity by its createdAt.
// Centrapay lists a merchant's activities newest first and filters them by
// nothing but the merchant (its docs name merchantId and pageKey only), so
// the listing is read from now back to the start of the period.

// ActivityLister lists a merchant's payment activities, newest first,
// following Centrapay's pagination: *centrapay.Client implements it. It
// is not part of Centrapay (the interface), which holds only the calls the
// protocol makes.
type ActivityLister interface {
	AllMerchantActivities(ctx context.Context, opt *centrapay.ActivityListOptions) iter.Seq2[*centrapay.Activity, error]
}

// DiscrepancyKind names what does not match.
type DiscrepancyKind string

// Discrepancy kinds.
const (
	// DiscrepancyNotInJournal: Centrapay has it, the journal does not (a
	// payment by a request no sale made, a refund no op asked for).
	DiscrepancyNotInJournal DiscrepancyKind = "not-in-journal"
	// DiscrepancyNotAtCentrapay: the journal has it, Centrapay lists
	// nothing of it.
	DiscrepancyNotAtCentrapay DiscrepancyKind = "not-at-centrapay"
	// DiscrepancyAmount: both have it, for different amounts.
	DiscrepancyAmount DiscrepancyKind = "amount-differs"
	// DiscrepancyStatus: the request's status at Centrapay is not the
	// sale's final status in the journal.
	DiscrepancyStatus DiscrepancyKind = "status-differs"
	// DiscrepancyOpen: a request of ours is still new at Centrapay while
	// the journal says it is final; it is voided (unless a dry run).
	DiscrepancyOpen DiscrepancyKind = "open-at-centrapay"
)

// Words says what kind k means, for people: a page's headings and
// summaries.
func (k DiscrepancyKind) Words() string {
	switch k {
	case DiscrepancyNotInJournal:
		return "at Centrapay, not in the journal"
	case DiscrepancyNotAtCentrapay:
		return "in the journal, not at Centrapay"
	case DiscrepancyAmount:
		return "amounts differ"
	case DiscrepancyStatus:
		return "statuses differ"
	case DiscrepancyOpen:
		return "open at Centrapay, final in the journal"
	}
	return string(k)
}

// DiscrepancyKinds lists every kind, in the order reports group them.
func DiscrepancyKinds() []DiscrepancyKind {
	return []DiscrepancyKind{DiscrepancyNotInJournal, DiscrepancyNotAtCentrapay, DiscrepancyAmount, DiscrepancyStatus, DiscrepancyOpen}
}

// What a discrepancy is about: a request or one of its activities.
const (
	AboutRequest      = "request"
	AboutPayment      = "payment"
	AboutRefund       = "refund"
	AboutVoid         = "void"
	AboutConfirmation = "confirmation"
	AboutRelease      = "release"
	AboutStatus       = "status"
)

// ReconcileVoidReason is the reason of the void op journaled for a request
// found open at Centrapay that the journal says is final.
const ReconcileVoidReason = "reconciliation: open at Centrapay, final in the journal"

// reconcileSkew is how far before the period the journal and the listing
// are read, so that a sale journaled just before midnight matches its
// request created just after (clocks and the create's flight differ).
const reconcileSkew = 5 * time.Minute

// ReconcileInput asks for a reconciliation of [From, To).
type ReconcileInput struct {
	From, To time.Time
	// MerchantIDs are the Centrapay merchants whose activities are read;
	// empty: learned from the journal, reading one request per merchant
	// config its sales used (Centrapay lists activities by merchant, which
	// the merchant-terminal key's account may hold several of).
	MerchantIDs []string
	// Activities lists them; nil: the engine's Centrapay client, which
	// must implement ActivityLister.
	Activities ActivityLister
	// DryRun lists a request found open without voiding it.
	DryRun bool
}

// Reconciliation is the outcome of one reconciliation. Amounts are Cents:
// minor units, written "12.50" in JSON, their currency beside them.
type Reconciliation struct {
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	RanAt       time.Time `json:"ranAt"`
	MerchantIDs []string  `json:"merchantIds"`
	Activities  int       `json:"activities"` // read from Centrapay
	Sales       int       `json:"sales"`      // journaled sales of the period with a request
	// Live counts the sales of the period still being driven: not final,
	// so not reconciled yet (the next run takes them).
	Live          int               `json:"live"`
	Totals        []ReconciledTotal `json:"totals"` // what matched, per asset type
	Discrepancies []Discrepancy     `json:"discrepancies"`
}

// Clean reports whether nothing was found that does not match.
func (r *Reconciliation) Clean() bool { return len(r.Discrepancies) == 0 }

// Count returns how many discrepancies are of kind k.
func (r *Reconciliation) Count(k DiscrepancyKind) int {
	n := 0
	for _, d := range r.Discrepancies {
		if d.Kind == k {
			n++
		}
	}
	return n
}

// ReconciledTotal is what one asset type took and gave back, as both the
// journal and Centrapay have it.
type ReconciledTotal struct {
	AssetType   string `json:"assetType"`
	Description string `json:"description,omitempty"`
	Currency    string `json:"currency"`
	Payments    int    `json:"payments"` // payments and pre-auth confirmations
	Paid        Cents  `json:"paid"`
	// Authorised is what pre-auths held, matched; what they took is
	// counted in Paid as they are confirmed (as the report does).
	Authorisations int          `json:"authorisations"`
	Authorised     Cents        `json:"authorised"`
	Refunds        int          `json:"refunds"`
	Refunded       Cents        `json:"refunded"`
	Net            Cents        `json:"net"`
	Settlements    []Settlement `json:"settlements,omitempty"` // the payments by settlement date
}

// paid counts a payment of amount, settled on settlement (zero: not
// given).
func (t *ReconciledTotal) paid(amount Cents, settlement time.Time) {
	t.Payments++
	t.Paid += amount
	date := ""
	if !settlement.IsZero() {
		date = settlement.UTC().Format(time.DateOnly)
	}
	i := slices.IndexFunc(t.Settlements, func(x Settlement) bool { return x.Date == date })
	if i < 0 {
		t.Settlements = append(t.Settlements, Settlement{Date: date})
		i = len(t.Settlements) - 1
	}
	t.Settlements[i].Payments++
	t.Settlements[i].Amount += amount
}

// Settlement is what one asset type paid that Centrapay settles on Date
// (YYYY-MM-DD; "" when Centrapay gave no settlement date).
type Settlement struct {
	Date     string `json:"date"`
	Payments int    `json:"payments"`
	Amount   Cents  `json:"amount"`
}

// Discrepancy is one thing the journal and Centrapay do not agree on.
type Discrepancy struct {
	Kind             DiscrepancyKind `json:"kind"`
	About            string          `json:"about"` // AboutRequest, AboutPayment, ...
	PaymentRequestID string          `json:"paymentRequestId"`
	SaleID           string          `json:"saleId,omitempty"`
	ExternalRef      string          `json:"externalRef,omitempty"`
	TerminalID       string          `json:"terminalId,omitempty"`
	OpID             string          `json:"opId,omitempty"`
	ActivityID       string          `json:"activityId,omitempty"`
	AssetType        string          `json:"assetType,omitempty"`
	Currency         string          `json:"currency,omitempty"`
	JournalAmount    Cents           `json:"journalAmount"`   // 0: none
	CentrapayAmount  Cents           `json:"centrapayAmount"` // 0: none
	JournalStatus    string          `json:"journalStatus,omitempty"`
	CentrapayStatus  string          `json:"centrapayStatus,omitempty"`
	At               time.Time       `json:"at"`
	Detail           string          `json:"detail"`
	// VoidOpID and VoidState are the void journaled for a request found
	// open (DiscrepancyOpen); empty in a dry run.
	VoidOpID  string  `json:"voidOpId,omitempty"`
	VoidState OpState `json:"voidState,omitempty"`
}

// FormatCents writes an amount of minor units with its currency, as the
// reconciliation's outputs show money: "12.50 NZD".
func FormatCents(cents Cents, currency string) string {
	s := cents.String()
	if currency != "" {
		s += " " + currency
	}
	return s
}

// reconState is what an engine keeps of reconciliation: the last result,
// in memory only, and a lock so that two runs (the daily one and a
// manager's) do not overlap.
type reconState struct {
	running sync.Mutex
	last    atomic.Pointer[Reconciliation]
}

// LastReconciliation returns the last reconciliation this engine ran; nil
// if none has run since it started (results are kept in memory only).
func (e *Engine) LastReconciliation() *Reconciliation { return e.recon.last.Load() }

// Reconcile matches the journal against Centrapay's merchant payment
// activities over [in.From, in.To) and returns what matched, per asset
// type, and every discrepancy. A request of ours found open that the
// journal says is final is voided, journaled (unless in.DryRun). Its calls
// to Centrapay wait behind live sales in the rate budget. One
// reconciliation runs at a time: another asked meanwhile is refused with
// EInProgress.
func (e *Engine) Reconcile(ctx context.Context, in ReconcileInput) (*Reconciliation, error) {
	if in.From.IsZero() || in.To.IsZero() || !in.From.Before(in.To) {
		return nil, invalid("from", "the period needs a start before its end")
	}
	lister := in.Activities
	if lister == nil {
		l, ok := e.cfg.Centrapay.(ActivityLister)
		if !ok {
			return nil, errors.New("reconcile: the Centrapay client does not list merchant activities")
		}
		lister = l
	}
	st := &e.recon
	if !st.running.TryLock() {
		return nil, &Error{Code: EInProgress, Message: "a reconciliation is running: try again when it ends"}
	}
	defer st.running.Unlock()
	ctx = centrapay.WithPriority(ctx, centrapay.PriorityBackground)
	rc := &reconciler{e: e, in: in, list: lister, totals: map[string]*ReconciledTotal{}, opened: map[string]bool{},
		res: &Reconciliation{From: in.From, To: in.To, RanAt: e.clk.Now(), Totals: []ReconciledTotal{}, Discrepancies: []Discrepancy{}}}
	if err := rc.run(ctx); err != nil {
		return nil, err
	}
	if !in.DryRun {
		for _, id := range rc.completed {
			if err := e.completeRefund(ctx, id, e.clk.Now()); err != nil {
				return nil, err
			}
		}
	}
	st.last.Store(rc.res)
	e.log.Info("reconciled", "from", in.From, "to", in.To, "activities", rc.res.Activities, "sales", rc.res.Sales,
		"discrepancies", len(rc.res.Discrepancies))
	return rc.res, nil
}

// reconciler is one run of Reconcile.
type reconciler struct {
	e    *Engine
	in   ReconcileInput
	list ActivityLister
	res  *Reconciliation

	sales  map[string]*Sale                 // journaled since the period's start (less the skew), by request id
	ops    map[string][]*Op                 // likewise, by request id
	acts   map[string][]*centrapay.Activity // listed since then, by request id
	totals map[string]*ReconciledTotal      // by asset type
	opened map[string]bool                  // requests found open (and voided) already
	seen   map[*centrapay.Activity]bool     // activities matched to an op
	// completed are the refunds pending in the journal that Centrapay
	// lists: recorded complete once matched (unless DryRun)
	completed []string
}

func (rc *reconciler) inPeriod(t time.Time) bool { return !t.Before(rc.in.From) && t.Before(rc.in.To) }

func (rc *reconciler) run(ctx context.Context) error {
	e := rc.e
	since := rc.in.From.Add(-reconcileSkew)
	sales, err := e.j.Sales(ctx, SaleFilter{From: since})
	if err != nil {
		return fmt.Errorf("reconcile: read sales: %w", err)
	}
	ops, err := e.j.Ops(ctx, OpFilter{From: since})
	if err != nil {
		return fmt.Errorf("reconcile: read ops: %w", err)
	}
	merchants, err := rc.merchants(ctx, sales)
	if err != nil {
		return err
	}
	rc.res.MerchantIDs = merchants
	rc.sales, rc.ops, rc.acts = map[string]*Sale{}, map[string][]*Op{}, map[string][]*centrapay.Activity{}
	rc.seen = map[*centrapay.Activity]bool{}
	for _, s := range sales {
		if s.PaymentRequest != nil {
			rc.sales[s.PaymentRequest.ID] = s
		}
	}
	for _, op := range ops {
		if op.PaymentRequestID != "" {
			rc.ops[op.PaymentRequestID] = append(rc.ops[op.PaymentRequestID], op)
		}
	}
	for _, m := range merchants {
		for a, err := range rc.list.AllMerchantActivities(ctx, &centrapay.ActivityListOptions{MerchantID: m}) {
			if err != nil {
				return fmt.Errorf("reconcile: list activities of merchant %s: %w", m, err)
			}
			if !a.CreatedAt.IsZero() && a.CreatedAt.Before(since) {
				break // newest first: the rest is older still
			}
			rc.res.Activities++
			rc.acts[a.PaymentRequestID] = append(rc.acts[a.PaymentRequestID], a)
		}
	}
	scope := map[string]bool{}
	for id, s := range rc.sales {
		if rc.inPeriod(s.CreatedAt) {
			scope[id] = true
		}
	}
	for id, as := range rc.acts {
		for _, a := range as {
			if rc.inPeriod(a.CreatedAt.Time) && id != "" {
				scope[id] = true
			}
		}
	}
	for id, os := range rc.ops {
		for _, op := range os {
			if rc.inPeriod(op.CreatedAt) && reconciledOp(op.Kind) {
				scope[id] = true
			}
		}
	}
	ids := make([]string, 0, len(scope))
	for id := range scope {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := rc.request(ctx, id); err != nil {
			return err
		}
	}
	for _, t := range rc.totals {
		t.Net = t.Paid - t.Refunded
		slices.SortFunc(t.Settlements, func(a, b Settlement) int { return cmp.Compare(a.Date, b.Date) })
		rc.res.Totals = append(rc.res.Totals, *t)
	}
	slices.SortFunc(rc.res.Totals, func(a, b ReconciledTotal) int { return cmp.Compare(a.AssetType, b.AssetType) })
	slices.SortStableFunc(rc.res.Discrepancies, func(a, b Discrepancy) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.PaymentRequestID, b.PaymentRequestID))
	})
	return nil
}

// reconciledOp reports whether ops of kind k are matched with activities:
// those that move money or end a request. Creates are matched through
// their sales; condition answers are not reconciled.
func reconciledOp(k OpKind) bool {
	switch k {
	case OpRefund, OpVoid, OpVoidExtra, OpConfirm, OpRelease:
		return true
	}
	return false
}

// merchants returns the merchant ids whose activities are read: the
// input's, or those of the requests the journal's sales made, learned by
// reading one request per merchant config (the next one when Centrapay
// refuses to read it: a journaled request it does not know).
func (rc *reconciler) merchants(ctx context.Context, sales []*Sale) ([]string, error) {
	if len(rc.in.MerchantIDs) > 0 {
		ids := slices.Clone(rc.in.MerchantIDs)
		slices.Sort(ids)
		return slices.Compact(ids), nil
	}
	found := map[string]string{} // config id → its merchant id
	tries := map[string]int{}    // requests of a config read: a few at most
	learn := func(sales []*Sale) error {
		for _, s := range sales {
			if s.PaymentRequest == nil || found[s.ConfigID] != "" || tries[s.ConfigID] >= 3 {
				continue
			}
			tries[s.ConfigID]++
			pr, _, err := rc.e.cp.Get(ctx, s.PaymentRequest.ID)
			switch {
			case err == nil && pr.MerchantID != "":
				found[s.ConfigID] = pr.MerchantID
			case err != nil && centrapay.IsUnknownOutcome(err):
				return fmt.Errorf("reconcile: learn the merchant id of config %s: %w", s.ConfigID, err)
			}
		}
		return nil
	}
	if err := learn(sales); err != nil {
		return nil, err
	}
	if len(found) == 0 {
		recent, err := rc.e.j.Sales(ctx, SaleFilter{Limit: 100})
		if err != nil {
			return nil, fmt.Errorf("reconcile: read sales: %w", err)
		}
		if err := learn(recent); err != nil {
			return nil, err
		}
	}
	var ids []string
	for _, m := range found {
		ids = append(ids, m)
	}
	if len(ids) == 0 {
		return nil, invalid("merchantId", "no request in the journal tells the Centrapay merchant id: give it")
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// add lists a discrepancy.
func (rc *reconciler) add(d Discrepancy) { rc.res.Discrepancies = append(rc.res.Discrepancies, d) }

// total returns the matched total of assetType.
func (rc *reconciler) total(assetType, currency string) *ReconciledTotal {
	if assetType == "" {
		assetType = "unknown"
	}
	t, ok := rc.totals[assetType]
	if !ok {
		t = &ReconciledTotal{AssetType: assetType, Currency: currency}
		rc.totals[assetType] = t
	}
	if t.Currency == "" {
		t.Currency = currency
	}
	return t
}

// request reconciles one Payment Request: its sale, its payments and
// status, and the ops sent for it.
func (rc *reconciler) request(ctx context.Context, id string) error {
	e := rc.e
	s := rc.sales[id]
	if s == nil {
		found, err := e.j.FindSale(ctx, SaleQuery{PaymentRequestID: id})
		switch {
		case err == nil:
			s = found
		case !errors.Is(err, ErrNotFound):
			return fmt.Errorf("reconcile: find the sale of request %s: %w", id, err)
		}
	}
	ops := slices.Clone(rc.ops[id])
	if s != nil { // its ops of any date: a refund journaled long before its answer
		saleOps, err := e.j.Ops(ctx, OpFilter{SaleID: s.ID})
		if err != nil {
			return fmt.Errorf("reconcile: read ops of sale %s: %w", s.ID, err)
		}
		for _, op := range saleOps {
			if op.PaymentRequestID == id && !slices.ContainsFunc(ops, func(o *Op) bool { return o.ID == op.ID }) {
				ops = append(ops, op)
			}
		}
	}
	acts := rc.acts[id]
	ours := s != nil || slices.ContainsFunc(ops, func(o *Op) bool { return o.Kind == OpVoidExtra || o.Kind == OpCreate })
	if !ours {
		known, err := e.j.KnownRequest(ctx, id)
		if err != nil {
			return fmt.Errorf("reconcile: look up request %s: %w", id, err)
		}
		ours = known
	}
	if s != nil && s.PaymentRequest.ID == id && rc.inPeriod(s.CreatedAt) {
		if err := rc.sale(ctx, s, acts); err != nil {
			return err
		}
	}
	if !ours {
		rc.stranger(id, acts)
	}
	return rc.matchOps(ctx, id, s, ops, acts)
}

// cpPayment is what one asset type paid a request at Centrapay.
type cpPayment struct {
	amount      Cents
	currency    string
	description string
	settlement  time.Time
	activityID  string
}

// paymentsOf sums a request's payments by asset type: its payment
// activities (one per asset that paid), else its pre-auth authorizations,
// else the paidBy of its paid activity; settlement dates and descriptions
// come from paidBy.assetTotals, where Centrapay gives them.
func paymentsOf(acts []*centrapay.Activity) map[string]cpPayment {
	m := map[string]cpPayment{}
	sum := func(typ string) {
		for _, a := range acts {
			if a.Type == typ {
				p := m[a.AssetType]
				p.amount += cents(a.Value)
				p.currency, p.activityID = a.Value.Currency, a.ID
				m[a.AssetType] = p
			}
		}
	}
	sum(centrapay.ActivityPayment)
	if len(m) == 0 {
		sum(centrapay.ActivityAuthorization)
	}
	var paidBy *centrapay.PaidBy
	for _, a := range acts { // the newest paid activity says it all
		if a.Type == centrapay.ActivityPaid && a.PaidBy != nil && paidBy == nil {
			paidBy = a.PaidBy
		}
	}
	if paidBy == nil {
		return m
	}
	fill := len(m) == 0
	for _, t := range paidBy.AssetTotals {
		p, ok := m[t.Type]
		if !ok && !fill {
			continue
		}
		if fill {
			p.amount += cents(t.Total)
			p.currency = t.Total.Currency
		}
		p.description, p.settlement = t.Description, t.SettlementDate.Time
		m[t.Type] = p
	}
	return m
}

// cents reads a Monetary's amount; one that is not a whole number of
// minor units reads as 0, which then shows as a discrepancy.
func cents(m centrapay.Monetary) Cents {
	n, err := m.Amount.Int64()
	if err != nil {
		return 0
	}
	return Cents(n)
}

// statusOf is a request's status as its activities tell it: new until a
// payment, a cancellation or an expiry.
func statusOf(acts []*centrapay.Activity) centrapay.Status {
	st := centrapay.StatusNew
	for _, a := range acts {
		switch a.Type {
		case centrapay.ActivityCancellation:
			return centrapay.StatusCancelled
		case centrapay.ActivityExpiry:
			return centrapay.StatusExpired
		case centrapay.ActivityPayment, centrapay.ActivityPaid, centrapay.ActivityAuthorization:
			st = centrapay.StatusPaid
		}
	}
	return st
}

// journalStatus is the Centrapay status a final sale stands for; "" for
// a sale whose request status says nothing (failed: no request was made).
func journalStatus(s *Sale) centrapay.Status {
	switch s.Status {
	case StatusPaid:
		return centrapay.StatusPaid
	case StatusCancelled:
		return centrapay.StatusCancelled
	case StatusExpired:
		return centrapay.StatusExpired
	}
	return ""
}

// saleBase is a discrepancy about sale s's request.
func saleBase(s *Sale) Discrepancy {
	return Discrepancy{PaymentRequestID: s.PaymentRequest.ID, SaleID: s.ID, ExternalRef: s.ExternalRef, TerminalID: s.TerminalID,
		Currency: s.Currency, At: s.CreatedAt, JournalStatus: string(s.Status)}
}

// sale reconciles a final sale of the period: its request, its payments
// per asset type and its status.
func (rc *reconciler) sale(ctx context.Context, s *Sale, acts []*centrapay.Activity) error {
	rc.res.Sales++
	if !s.Status.Final() {
		rc.res.Live++
		return nil
	}
	base := saleBase(s)
	if len(acts) == 0 {
		d := base
		d.Kind, d.About, d.JournalAmount = DiscrepancyNotAtCentrapay, AboutRequest, Cents(s.Value)
		d.Detail = "Centrapay lists no activity of the sale's request"
		rc.add(d)
		return nil
	}
	for _, a := range acts {
		if a.Type == centrapay.ActivityRequest || a.Type == centrapay.ActivityPreAuthRequest {
			if v := cents(a.Value); v != Cents(s.Value) {
				d := base
				d.Kind, d.About, d.ActivityID, d.JournalAmount, d.CentrapayAmount = DiscrepancyAmount, AboutRequest, a.ID, Cents(s.Value), v
				d.Detail = fmt.Sprintf("the sale is for %s, its request for %s", FormatCents(Cents(s.Value), s.Currency), FormatCents(v, a.Value.Currency))
				rc.add(d)
			}
		}
	}
	cp := paymentsOf(acts)
	type paid struct {
		amount      Cents
		description string
	}
	jp := map[string]paid{}
	for _, p := range s.PaidBy {
		q := jp[p.AssetType]
		q.amount += Cents(p.Amount)
		q.description = cmp.Or(q.description, p.Description)
		jp[p.AssetType] = q
	}
	assets := make([]string, 0, len(cp)+len(jp))
	for a := range cp {
		assets = append(assets, a)
	}
	for a := range jp {
		assets = append(assets, a)
	}
	slices.Sort(assets)
	for _, asset := range slices.Compact(assets) {
		c, j := cp[asset], jp[asset]
		d := base
		d.About, d.AssetType, d.ActivityID, d.JournalAmount, d.CentrapayAmount = AboutPayment, asset, c.activityID, j.amount, c.amount
		switch {
		case c.amount == j.amount:
			t := rc.total(asset, s.Currency)
			if t.Description == "" {
				t.Description = cmp.Or(j.description, c.description)
			}
			if s.PreAuth { // held, not taken: its confirmations are
				t.Authorisations++
				t.Authorised += c.amount
				continue
			}
			t.paid(c.amount, c.settlement)
			continue
		case j.amount == 0:
			d.Kind, d.Detail = DiscrepancyNotInJournal, "Centrapay took a payment the sale does not record"
		case c.amount == 0:
			d.Kind, d.Detail = DiscrepancyNotAtCentrapay, "the sale records a payment Centrapay does not list"
		default:
			d.Kind = DiscrepancyAmount
			d.Detail = fmt.Sprintf("the sale records %s paid, Centrapay %s", FormatCents(j.amount, s.Currency), FormatCents(c.amount, s.Currency))
		}
		rc.add(d)
	}
	return rc.status(ctx, s, acts)
}

// status compares a final sale's status with its request's. The listing
// may lag behind the request, so a difference is read again from the
// request itself before it is listed.
func (rc *reconciler) status(ctx context.Context, s *Sale, acts []*centrapay.Activity) error {
	want := journalStatus(s)
	if want == "" || statusOf(acts) == want {
		return nil
	}
	id := s.PaymentRequest.ID
	pr, ok, err := rc.read(ctx, id, saleBase(s))
	if err != nil || !ok || pr.Status == want {
		return err
	}
	d := saleBase(s)
	d.CentrapayStatus, d.JournalAmount = string(pr.Status), Cents(s.Value)
	if pr.Status == centrapay.StatusNew {
		rc.open(ctx, d, s)
		return nil
	}
	d.Kind, d.About = DiscrepancyStatus, AboutStatus
	d.Detail = fmt.Sprintf("the sale is %s, its request %s", s.Status, pr.Status)
	rc.add(d)
	return nil
}

// read reads request id for a status check. A request Centrapay refuses
// to read is listed as not at Centrapay (ok false); no answer is an error:
// the run stops rather than report what it could not check.
func (rc *reconciler) read(ctx context.Context, id string, base Discrepancy) (*centrapay.PaymentRequest, bool, error) {
	pr, _, err := rc.e.cp.Get(ctx, id)
	if err == nil {
		return pr, true, nil
	}
	if centrapay.IsUnknownOutcome(err) {
		return nil, false, fmt.Errorf("reconcile: read request %s: %w", id, err)
	}
	code, msg := refusal(err)
	d := base
	d.Kind, d.About = DiscrepancyNotAtCentrapay, AboutRequest
	d.Detail = "Centrapay refused to read the request: " + cmp.Or(code, msg)
	rc.add(d)
	return nil, false, nil
}

// open lists request d.PaymentRequestID as open at Centrapay and voids it,
// journaled, unless this is a dry run.
func (rc *reconciler) open(ctx context.Context, d Discrepancy, s *Sale) {
	d.Kind, d.About = DiscrepancyOpen, AboutStatus
	d.CentrapayStatus = string(centrapay.StatusNew)
	d.Detail = "the request is still open at Centrapay though the journal says it is final"
	rc.opened[d.PaymentRequestID] = true
	if rc.in.DryRun {
		d.Detail += "; not voided (dry run)"
		rc.add(d)
		return
	}
	op, err := rc.e.voidOpenRequest(ctx, d.PaymentRequestID, s)
	if op != nil {
		d.VoidOpID, d.VoidState = op.ID, op.State
	}
	switch {
	case err != nil:
		d.Detail += "; the void failed: " + err.Error()
	case op.State == OpSucceeded:
		d.Detail += "; voided"
	default:
		d.Detail += "; void sent, its outcome not known yet: it is sent again until Centrapay answers"
	}
	rc.add(d)
}

// voidOpenRequest voids request prID, found open at Centrapay though the
// journal says it is final: an OpVoidExtra op (the kind the engine voids
// a request beside a sale's own with) is journaled with
// ReconcileVoidReason before the call, then sent and its outcome journaled
// by finish, like any op; an unknown outcome leaves it pending, sent again
// by the engine (and by Recover after a restart). s is the sale whose
// request it is, nil if none.
func (e *Engine) voidOpenRequest(ctx context.Context, prID string, s *Sale) (*Op, error) {
	ctx = context.WithoutCancel(ctx) // once begun, an operation is journaled to its end
	op := &Op{ID: newID("op_"), PaymentRequestID: prID, Kind: OpVoidExtra, Reason: ReconcileVoidReason, State: OpPending,
		CreatedAt: e.clk.Now()}
	if s != nil {
		op.SaleID, op.TerminalID = s.ID, s.TerminalID
		unlock := e.lock(s.ID)
		defer unlock()
	}
	if err := e.saveOp(ctx, op); err != nil {
		return nil, fmt.Errorf("journal void of request %s: %w", prID, err)
	}
	return e.finish(ctx, op)
}

// stranger lists what Centrapay did in the period for a request no sale
// and no op of ours made: each payment, or the request itself when it
// was not paid.
func (rc *reconciler) stranger(id string, acts []*centrapay.Activity) {
	var req *centrapay.Activity
	n := 0
	for _, a := range acts {
		if !rc.inPeriod(a.CreatedAt.Time) {
			continue
		}
		d := Discrepancy{Kind: DiscrepancyNotInJournal, PaymentRequestID: id, ActivityID: a.ID, AssetType: a.AssetType,
			Currency: a.Value.Currency, CentrapayAmount: cents(a.Value), At: a.CreatedAt.Time}
		switch a.Type {
		case centrapay.ActivityPayment, centrapay.ActivityAuthorization:
			d.About, d.Detail = AboutPayment, "a payment of a request no sale of ours made"
			rc.add(d)
			n++
		case centrapay.ActivityRequest, centrapay.ActivityPreAuthRequest:
			req = a
		}
	}
	if n == 0 && req != nil {
		rc.add(Discrepancy{Kind: DiscrepancyNotInJournal, About: AboutRequest, PaymentRequestID: id, ActivityID: req.ID,
			Currency: req.Value.Currency, CentrapayAmount: cents(req.Value), At: req.CreatedAt.Time,
			Detail: "a request no sale of ours made"})
	}
}

// opAbout is what an op's discrepancy is about.
func opAbout(k OpKind) string {
	switch k {
	case OpRefund:
		return AboutRefund
	case OpConfirm:
		return AboutConfirmation
	case OpRelease:
		return AboutRelease
	}
	return AboutVoid
}

// answers reports whether activity a is what op asked for.
func answers(op *Op, a *centrapay.Activity) bool {
	switch op.Kind {
	case OpRefund:
		return a.Type == centrapay.ActivityRefund
	case OpConfirm:
		return a.Type == centrapay.ActivityConfirmation
	case OpRelease:
		return a.Type == centrapay.ActivityRelease || a.Type == centrapay.ActivityCancellation
	case OpVoid:
		if op.Amount > 0 { // a paid request, voided: refunded
			return a.Type == centrapay.ActivityRefund
		}
		return a.Type == centrapay.ActivityCancellation || a.Type == centrapay.ActivityExpiry
	case OpVoidExtra:
		return a.Type == centrapay.ActivityCancellation || a.Type == centrapay.ActivityExpiry || a.Type == centrapay.ActivityRefund
	}
	return false
}

// moves reports whether an activity moves money: the journal must hold
// an op for it.
func moves(a *centrapay.Activity) bool {
	switch a.Type {
	case centrapay.ActivityRefund, centrapay.ActivityConfirmation, centrapay.ActivityRelease:
		return true
	}
	return false
}

// once reports whether an activity answers one op only: a refund or a
// confirmation. A cancellation answers every void of its request, and a
// release every release (a void or release repeated is answered with the
// first one's outcome).
func once(a *centrapay.Activity) bool {
	return a.Type == centrapay.ActivityRefund || a.Type == centrapay.ActivityConfirmation
}

// amountOf is what an op moved, -1 when it does not say.
func amountOf(op *Op) Cents {
	switch {
	case op.Kind == OpRefund || op.Kind == OpConfirm:
		return Cents(op.Amount)
	case op.Kind == OpVoid && op.Amount > 0:
		return Cents(op.Amount)
	}
	return -1
}

// matchOps pairs the succeeded ops of request id with its activities: by
// the activity id or number the op's answer gave, then by kind and amount, then by
// kind alone (an amount that differs). What is left of the period on
// either side is listed.
func (rc *reconciler) matchOps(ctx context.Context, id string, s *Sale, ops []*Op, acts []*centrapay.Activity) error {
	var todo []*Op
	for _, op := range ops {
		if op.State == OpSucceeded && reconciledOp(op.Kind) {
			todo = append(todo, op)
		}
	}
	free := func(op *Op, a *centrapay.Activity) bool { return answers(op, a) && (!once(a) || !rc.seen[a]) }
	pass := func(todo []*Op, fits func(*Op, *centrapay.Activity) bool) []*Op {
		var left []*Op
		for _, op := range todo {
			i := slices.IndexFunc(acts, func(a *centrapay.Activity) bool { return free(op, a) && fits(op, a) })
			if i < 0 {
				left = append(left, op)
				continue
			}
			rc.matched(op, acts[i], s)
		}
		return left
	}
	todo = pass(todo, (*Op).names)
	todo = pass(todo, func(op *Op, a *centrapay.Activity) bool { n := amountOf(op); return n < 0 || cents(a.Value) == n })
	todo = pass(todo, func(*Op, *centrapay.Activity) bool { return true })
	for _, op := range todo {
		if !rc.inPeriod(op.CreatedAt) {
			continue
		}
		if op.RefundStatus() == RefundPending && rc.e.clk.Now().Sub(op.CreatedAt) < refundCheckFor {
			continue // accepted, not yet completed: Centrapay lists it once it completes
		}
		d := Discrepancy{Kind: DiscrepancyNotAtCentrapay, About: opAbout(op.Kind), PaymentRequestID: id, SaleID: op.SaleID,
			TerminalID: op.TerminalID, OpID: op.ID, Currency: op.Currency, JournalAmount: max(amountOf(op), 0), At: op.CreatedAt,
			Detail: fmt.Sprintf("the journal's %s succeeded; Centrapay lists no %s of the request", op.Kind, opAbout(op.Kind))}
		if s != nil {
			d.ExternalRef, d.JournalStatus = s.ExternalRef, string(s.Status)
		}
		if op.Kind == OpVoid || op.Kind == OpVoidExtra {
			if rc.opened[id] {
				continue
			}
			// a void whose activity is not listed: what matters is that
			// the request is no longer open
			pr, ok, err := rc.read(ctx, id, d)
			if err != nil || !ok {
				return err
			}
			if pr.Status.Final() {
				continue
			}
			d.CentrapayStatus = string(pr.Status)
			rc.open(ctx, d, s)
			continue
		}
		rc.add(d)
	}
	for _, a := range acts {
		if !moves(a) || rc.seen[a] || !rc.inPeriod(a.CreatedAt.Time) {
			continue
		}
		d := Discrepancy{Kind: DiscrepancyNotInJournal, About: a.Type, PaymentRequestID: id, ActivityID: a.ID, AssetType: a.AssetType,
			Currency: a.Value.Currency, CentrapayAmount: cents(a.Value), At: a.CreatedAt.Time,
			Detail: fmt.Sprintf("Centrapay lists a %s the journal has no op for", a.Type)}
		if s != nil {
			d.SaleID, d.ExternalRef, d.TerminalID, d.JournalStatus = s.ID, s.ExternalRef, s.TerminalID, string(s.Status)
		}
		rc.add(d)
	}
	return nil
}

// matched records op as answered by activity a: an amount that differs is
// listed, a refund or confirmation that matches is counted in its asset
// type's total.
func (rc *reconciler) matched(op *Op, a *centrapay.Activity, s *Sale) {
	rc.seen[a] = true
	if op.RefundStatus() == RefundPending && a.Type == centrapay.ActivityRefund {
		rc.completed = append(rc.completed, op.ID) // listed: complete
	}
	if !rc.inPeriod(op.CreatedAt) {
		return
	}
	n, got := amountOf(op), cents(a.Value)
	if n >= 0 && n != got {
		d := Discrepancy{Kind: DiscrepancyAmount, About: opAbout(op.Kind), PaymentRequestID: op.PaymentRequestID, SaleID: op.SaleID,
			TerminalID: op.TerminalID, OpID: op.ID, ActivityID: a.ID, AssetType: a.AssetType, Currency: op.Currency,
			JournalAmount: n, CentrapayAmount: got, At: op.CreatedAt,
			Detail: fmt.Sprintf("the journal's %s is for %s, Centrapay's for %s", op.Kind, FormatCents(n, op.Currency), FormatCents(got, a.Value.Currency))}
		if s != nil {
			d.ExternalRef, d.JournalStatus = s.ExternalRef, string(s.Status)
		}
		rc.add(d)
		return
	}
	if a.Type != centrapay.ActivityRefund && a.Type != centrapay.ActivityConfirmation {
		return
	}
	asset := a.AssetType
	if asset == "" && s != nil && len(s.PaidBy) > 0 {
		asset = s.PaidBy[0].AssetType
	}
	t := rc.total(asset, a.Value.Currency)
	if a.Type == centrapay.ActivityConfirmation {
		t.paid(got, time.Time{}) // a confirmation gives no settlement date
		return
	}
	t.Refunds++
	t.Refunded += got
}
