package pos

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// Cents is an amount of money in minor units (cents) of a currency named
// beside it. Reports carry it as a decimal string of major units, "12.50",
// so that no reader takes it for a float; it is never one here either.
type Cents int64

// String formats c as a decimal of major units: 1250 is "12.50".
func (c Cents) String() string {
	n, sign := int64(c), ""
	if n < 0 {
		n, sign = -n, "-"
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}

// MarshalJSON writes c as a decimal string, "12.50".
func (c Cents) MarshalJSON() ([]byte, error) { return []byte(`"` + c.String() + `"`), nil }

// UnmarshalJSON reads a decimal string of at most two places, "12.50" or
// "12".
func (c *Cents) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("an amount is a decimal string such as \"12.50\", not %s", b)
	}
	n, err := ParseCents(s)
	if err != nil {
		return err
	}
	*c = n
	return nil
}

// ParseCents reads a decimal amount of major units with at most two
// places ("12.50", "-3", "0.5") as cents.
func ParseCents(s string) (Cents, error) {
	bad := fmt.Errorf("amount %q: a decimal such as 12.50", s)
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" || len(frac) > 2 || strings.ContainsAny(whole+frac, "+-") {
		return 0, bad
	}
	frac += "00"[len(frac):]
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w > (1<<62)/100 {
		return 0, bad
	}
	n := Cents(w*100 + f)
	if neg {
		n = -n
	}
	return n, nil
}

// LineKind says what a report line records.
type LineKind string

// Report line kinds. Payments and confirmations are money taken; refunds
// and voids are money given back; an authorisation is money held on a
// pre-auth, which is not taken until it is confirmed.
const (
	LinePayment       LineKind = "payment"       // an asset type paid a sale (not a pre-auth)
	LineConfirmation  LineKind = "confirmation"  // a pre-auth confirmation: what is taken from a pre-auth
	LineAuthorisation LineKind = "authorisation" // a pre-auth authorised: held, not taken
	LineRefund        LineKind = "refund"        // a refund asked for (counted once Centrapay accepted it)
	LineVoid          LineKind = "void"          // a paid sale voided: Centrapay gave all of it back
	// LineTender is money the till took outside Centrapay (cash, card)
	// toward a part payment: listed, never in Centrapay's totals.
	LineTender LineKind = "tender"
)

// OutsideAssetType is the asset type of a tender line: "outside.cash",
// "outside.card" — no Centrapay asset type starts so.
func OutsideAssetType(m TenderMethod) string { return "outside." + string(m) }

// Takes reports whether a line of kind k is money taken.
func (k LineKind) Takes() bool { return k == LinePayment || k == LineConfirmation }

// GivesBack reports whether a line of kind k is money given back.
func (k LineKind) GivesBack() bool { return k == LineRefund || k == LineVoid }

// UnknownAssetType is the asset type of a refund of a payment this server
// did not take and whose asset type it cannot learn.
const UnknownAssetType = "unknown"

// Line is one movement of money in a report, with everything that names
// it. Every field means the same for every kind; a field that does not
// apply to a kind is empty.
type Line struct {
	Kind LineKind `json:"kind"`
	// ID is the record the line comes from: the sale for a payment, an
	// authorisation or a void; the op for a refund or a confirmation.
	ID               string `json:"id"`
	SaleID           string `json:"saleId,omitempty"` // "" for a refund of a payment no sale of ours took
	PaymentRequestID string `json:"paymentRequestId,omitempty"`
	ShortCode        string `json:"shortCode,omitempty"`
	ExternalRef      string `json:"externalRef,omitempty"` // the sale's reference (the merchant's receipt number)
	// AssetType is what paid, or for money given back, what it went back
	// to; Description is how Centrapay names it ("Centrapay NZD wallet").
	AssetType   string `json:"assetType"`
	Description string `json:"description,omitempty"`
	Amount      Cents  `json:"amount"`
	Currency    string `json:"currency"`
	// Outstanding is what an authorisation still holds: authorised, not
	// confirmed, not released.
	Outstanding Cents `json:"outstanding,omitempty"`
	// Status is the sale's status for a payment or a void, the refund's
	// status (RefundStatus: sending, pending, refunded, failed) for a
	// refund, the op's state for a confirmation, the pre-auth's status
	// (authorized, released) for an authorisation.
	Status     string    `json:"status"`
	TerminalID string    `json:"terminalId"`           // the till that took the payment or asked for the refund
	OperatorID string    `json:"operatorId,omitempty"` // the person at that till, when it said
	Reason     string    `json:"reason,omitempty"`     // a refund's reason, a voided sale's
	At         time.Time `json:"at"`                   // when the sale was made or the op asked for
}

// counted reports whether l is in the totals: money taken, or given back
// by a refund Centrapay accepted (complete or not: it cannot be taken
// back; one not yet answered is not counted, a refused one never); a
// confirmation takes money once it succeeded.
func (l *Line) counted() bool {
	switch l.Kind {
	case LineRefund:
		return RefundStatus(l.Status).Counted()
	case LineConfirmation:
		return l.Status == string(OpSucceeded)
	case LinePayment, LineVoid:
		return true
	}
	return false
}

// ReportFilter selects what a report covers: sales created and ops asked
// for in [From, To), optionally of one terminal and one sale status.
type ReportFilter struct {
	From, To   time.Time
	TerminalID string
	Status     Status
}

// Report is what the report page and the CSV export show: every payment,
// refund and pre-auth of a period, and what they add up to per asset type.
// Empty lists are empty, never nil, so JSON says [] rather than null.
type Report struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Currency string    `json:"currency"` // of Paid, Refunded, Net and Authorised

	Transactions   []*Sale `json:"transactions"`   // the sales made in the period
	Payments       []Line  `json:"payments"`       // payments and confirmations: money taken
	Refunds        []Line  `json:"refunds"`        // refunds (any state) and voids: money given back
	Authorisations []Line  `json:"authorisations"` // pre-auths: money held, not taken

	ByStatus map[Status]int   `json:"byStatus"` // sales by status
	Totals   []AssetTypeTotal `json:"totals"`   // per asset type, by asset type
	Paid     Cents            `json:"paid"`
	Refunded Cents            `json:"refunded"`
	Net      Cents            `json:"net"`
	// Authorised is what pre-auths of the period still hold: not money
	// taken, and not in Paid.
	Authorised Cents `json:"authorised"`
}

// Lines returns every line of the report: payments, refunds, then
// authorisations, each in the order of its list.
func (r *Report) Lines() []Line {
	out := make([]Line, 0, len(r.Payments)+len(r.Refunds)+len(r.Authorisations))
	out = append(out, r.Payments...)
	out = append(out, r.Refunds...)
	return append(out, r.Authorisations...)
}

// AssetTypeTotal is what one asset type took, gave back and holds.
type AssetTypeTotal struct {
	AssetType   string `json:"assetType"`
	Description string `json:"description"`
	Currency    string `json:"currency"`
	Payments    int    `json:"payments"` // payments and confirmations counted
	Paid        Cents  `json:"paid"`
	Refunds     int    `json:"refunds"` // refunds that succeeded, and voids of paid sales
	Refunded    Cents  `json:"refunded"`
	Net         Cents  `json:"net"`        // Paid - Refunded
	Authorised  Cents  `json:"authorised"` // held by pre-auths, not taken
}

// Report summarises the journal over f; see BuildReport.
func (e *Engine) Report(ctx context.Context, f ReportFilter) (*Report, error) {
	return BuildReport(ctx, e.j, f, e.cfg.Currency)
}

// BuildReport summarises journal j over f in currency (the store's):
//
//   - each asset type that paid a sale is a payment line; a pre-auth is
//     an authorisation line instead, and each confirmation of it asked
//     for in the period is a payment (confirmation) line: what is
//     confirmed is what is taken, never what was authorised;
//   - each refund asked for in the period is a refund line, in its state;
//     only one that succeeded is counted. It is counted against the asset
//     type that paid its sale (the first, when several did), found
//     through the sale or, for a refund by request id, the sale that holds
//     that request; "unknown" when no sale of ours does;
//   - a sale voided after it was paid is a void line per asset type that
//     paid it: Centrapay gave it all back.
func BuildReport(ctx context.Context, j Journal, f ReportFilter, currency string) (*Report, error) {
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, invalid("from", "must be before to")
	}
	sales, err := j.Sales(ctx, SaleFilter{From: f.From, To: f.To, TerminalID: f.TerminalID, Status: f.Status})
	if err != nil {
		return nil, err
	}
	var ops []*Op
	for _, kind := range []OpKind{OpRefund, OpConfirm} {
		o, err := j.Ops(ctx, OpFilter{Kind: kind, From: f.From, To: f.To, TerminalID: f.TerminalID})
		if err != nil {
			return nil, err
		}
		ops = append(ops, o...)
	}
	r := &Report{From: f.From, To: f.To, Currency: currency, Transactions: make([]*Sale, 0, len(sales)),
		Payments: []Line{}, Refunds: []Line{}, Authorisations: []Line{}, ByStatus: map[Status]int{}, Totals: []AssetTypeTotal{}}
	known := map[string]*Sale{}
	for _, s := range sales {
		known[s.ID] = s
		r.Transactions = append(r.Transactions, s)
		r.ByStatus[s.Status]++
		r.addSale(s)
	}
	for _, op := range ops {
		s, err := saleOfOp(ctx, j, op, known)
		if err != nil {
			return nil, err
		}
		if f.Status != "" && (s == nil || s.Status != f.Status) {
			continue // the filter names sales of one status
		}
		r.addOp(op, s)
	}
	r.total()
	return r, nil
}

// saleOfOp finds the sale op refunds or confirms (nil: none of ours),
// remembering what it read.
func saleOfOp(ctx context.Context, j Journal, op *Op, known map[string]*Sale) (*Sale, error) {
	if s, ok := known[op.SaleID]; ok && op.SaleID != "" {
		return s, nil
	}
	var s *Sale
	var err error
	switch {
	case op.SaleID != "":
		s, err = j.Sale(ctx, op.SaleID)
	case op.PaymentRequestID != "":
		s, err = j.FindSale(ctx, SaleQuery{PaymentRequestID: op.PaymentRequestID})
	default:
		return nil, nil
	}
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	known[s.ID] = s
	return s, nil
}

// saleLine is a line of kind for sale s, with what names it.
func saleLine(kind LineKind, s *Sale) Line {
	l := Line{Kind: kind, ID: s.ID, SaleID: s.ID, ExternalRef: s.ExternalRef, Currency: s.Currency, Status: string(s.Status),
		TerminalID: s.TerminalID, OperatorID: s.OperatorID, At: s.CreatedAt}
	if s.PaymentRequest != nil {
		l.PaymentRequestID, l.ShortCode = s.PaymentRequest.ID, s.PaymentRequest.ShortCode
	}
	if len(s.PaidBy) > 0 {
		l.AssetType, l.Description = s.PaidBy[0].AssetType, s.PaidBy[0].Description
	}
	return l
}

// addSale adds the lines of sale s: its payments, or its authorisation
// when it is a pre-auth, and the void that gave back a paid sale.
func (r *Report) addSale(s *Sale) {
	if len(s.PaidBy) == 0 {
		return
	}
	if s.PreAuth {
		l := saleLine(LineAuthorisation, s)
		l.Amount = Cents(s.Paid())
		if s.PaymentRequest != nil {
			l.Status = s.PaymentRequest.PreAuthStatus
			if l.Status == centrapay.PreAuthAuthorized && s.Status == StatusPaid && s.Paid() > s.Confirmed {
				l.Outstanding = Cents(s.Paid() - s.Confirmed)
			}
		}
		r.Authorisations = append(r.Authorisations, l)
		return
	}
	for _, p := range s.PaidBy {
		l := saleLine(LinePayment, s)
		l.AssetType, l.Description, l.Amount = p.AssetType, p.Description, Cents(p.Amount)
		r.Payments = append(r.Payments, l)
	}
	for _, t := range s.Tenders {
		l := saleLine(LineTender, s)
		l.ID, l.AssetType, l.Description, l.Amount = t.ID, OutsideAssetType(t.Method), t.Method.Words()+", outside Centrapay", Cents(t.Amount)
		l.TerminalID, l.OperatorID, l.At = t.TerminalID, t.OperatorID, t.At
		r.Payments = append(r.Payments, l)
	}
	if s.Status == StatusCancelled {
		// voided after it was paid: the void gave each payment back to
		// the asset type that made it
		for _, p := range s.PaidBy {
			l := saleLine(LineVoid, s)
			l.AssetType, l.Description, l.Amount, l.Reason = p.AssetType, p.Description, Cents(p.Amount), s.Reason
			r.Refunds = append(r.Refunds, l)
		}
	}
}

// addOp adds the line of a refund or confirmation op; s is its sale, nil
// when no sale of ours took the payment.
func (r *Report) addOp(op *Op, s *Sale) {
	l := Line{Kind: LineRefund, ID: op.ID, SaleID: op.SaleID, PaymentRequestID: op.PaymentRequestID, AssetType: UnknownAssetType,
		Amount: Cents(op.Amount), Currency: op.Currency, Status: string(op.State), TerminalID: op.TerminalID, OperatorID: op.OperatorID,
		Reason: op.Reason, At: op.CreatedAt}
	if op.Kind == OpRefund {
		l.Status = string(op.RefundStatus())
	}
	if s != nil {
		sl := saleLine(LineRefund, s)
		l.SaleID, l.ShortCode, l.ExternalRef = s.ID, sl.ShortCode, sl.ExternalRef
		if sl.AssetType != "" {
			l.AssetType, l.Description = sl.AssetType, sl.Description
		}
		if l.Currency == "" {
			l.Currency = s.Currency
		}
	}
	if op.Kind == OpConfirm {
		l.Kind = LineConfirmation
		r.Payments = append(r.Payments, l)
		return
	}
	r.Refunds = append(r.Refunds, l)
}

// total adds up the lines per asset type and currency, and overall.
func (r *Report) total() {
	type key struct{ assetType, currency string }
	totals := map[key]*AssetTypeTotal{}
	for _, l := range r.Lines() {
		if !l.counted() && l.Outstanding == 0 {
			continue
		}
		k := key{l.AssetType, l.Currency}
		t, ok := totals[k]
		if !ok {
			t = &AssetTypeTotal{AssetType: l.AssetType, Currency: l.Currency}
			totals[k] = t
		}
		if t.Description == "" {
			t.Description = l.Description
		}
		switch {
		case l.Kind == LineAuthorisation:
			t.Authorised += l.Outstanding
			r.Authorised += l.Outstanding
		case l.Kind.Takes():
			t.Payments++
			t.Paid += l.Amount
			r.Paid += l.Amount
		case l.Kind.GivesBack():
			t.Refunds++
			t.Refunded += l.Amount
			r.Refunded += l.Amount
		}
	}
	for _, t := range totals {
		t.Net = t.Paid - t.Refunded
		r.Totals = append(r.Totals, *t)
	}
	sort.Slice(r.Totals, func(i, j int) bool {
		a, b := r.Totals[i], r.Totals[j]
		return a.AssetType < b.AssetType || a.AssetType == b.AssetType && a.Currency < b.Currency
	})
	r.Net = r.Paid - r.Refunded
}
