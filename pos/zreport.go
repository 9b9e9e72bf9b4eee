package pos

import (
	"context"
	"sort"
	"time"
)

// ZFilter selects a Z-report: one business day of the store, whole or of
// one terminal.
type ZFilter struct {
	Day        string         // the business day, YYYY-MM-DD
	Location   *time.Location // the store's time zone, in which the day runs midnight to midnight
	TerminalID string         // "" for the whole store and every terminal in it
}

// BusinessDay returns the bounds [from, to) of day (YYYY-MM-DD) in loc:
// midnight to midnight, so 23 or 25 hours when daylight saving starts or
// ends that day.
func BusinessDay(day string, loc *time.Location) (from, to time.Time, err error) {
	if loc == nil {
		loc = time.Local
	}
	d, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return from, to, invalid("day", "today or a date such as 2026-11-25")
	}
	return d, time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc), nil
}

// ZReport is the end-of-day close: for one business day, what the store
// and each terminal took and gave back per asset type, and what is still
// unfinished — pre-auths holding money, refunds whose outcome is not known
// yet, sales not final.
type ZReport struct {
	Day      string    `json:"day"`
	TimeZone string    `json:"timeZone"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Currency string    `json:"currency"`
	// Store is the whole store; nil when the report is of one terminal.
	Store *ZSection `json:"store"`
	// Terminals are the terminals that did anything that day, by id.
	Terminals []ZSection `json:"terminals"`
	// Reconciled says whether the day was matched against Centrapay's
	// payment activities: true when the last reconciliation covering it
	// found nothing amiss, false when it found discrepancies, nil (null)
	// when none has covered it since the server started.
	Reconciled  *bool     `json:"reconciled"`
	GeneratedAt time.Time `json:"generatedAt"`
}

// ReconciledText says, for people, whether the day is reconciled.
func (z *ZReport) ReconciledText() string {
	if z.Reconciled != nil && *z.Reconciled {
		return "reconciled"
	}
	return "not reconciled"
}

// ZSection is the close of the store or of one terminal.
type ZSection struct {
	TerminalID string           `json:"terminalId,omitempty"` // "" for the whole store
	Currency   string           `json:"currency"`             // of the amounts beside it
	Totals     []AssetTypeTotal `json:"totals"`               // per asset type
	Payments   int              `json:"payments"`             // payments and confirmations
	Paid       Cents            `json:"paid"`
	Refunds    int              `json:"refunds"` // refunds that succeeded and voids of paid sales
	Refunded   Cents            `json:"refunded"`
	Net        Cents            `json:"net"`
	// PreAuthsOutstanding are the pre-auths of the day still holding
	// money (authorised, not all confirmed, not released) as the report
	// is made; Outstanding is what they hold.
	PreAuthsOutstanding []Line `json:"preAuthsOutstanding"`
	Outstanding         Cents  `json:"outstanding"`
	// RefundsPending are the refunds of the day not yet complete at
	// Centrapay: sent and not answered yet (status sending, not in
	// Refunded), or accepted and not completed yet (status pending, in
	// Refunded: it cannot be taken back). PendingRefunds is their sum.
	RefundsPending []Line `json:"refundsPending"`
	PendingRefunds Cents  `json:"pendingRefunds"`
	// Tenders are the amounts the tills took outside Centrapay (cash,
	// card) toward part payments; TakenOutside is their sum. Neither is
	// in the Centrapay figures above.
	Tenders      int   `json:"tenders"`
	TakenOutside Cents `json:"takenOutside"`
	// OpenSales are the sales of the day not final yet; OpenValue is
	// what they ask for.
	OpenSales []*Sale `json:"openSales"`
	OpenValue Cents   `json:"openValue"`
}

// ZReport makes the Z-report of f's day; see BuildZReport. The day is
// reconciled, or not, by the engine's last reconciliation when that
// covered the whole day: clean, it is; with discrepancies, it is not
// (they are on the reconciliation page). Otherwise it is not yet known.
func (e *Engine) ZReport(ctx context.Context, f ZFilter) (*ZReport, error) {
	z, err := BuildZReport(ctx, e.j, f, e.cfg.Currency, e.clk.Now())
	if err != nil {
		return nil, err
	}
	if r := e.LastReconciliation(); r != nil && !r.From.After(z.From) && !r.To.Before(z.To) {
		clean := r.Clean()
		z.Reconciled = &clean
	}
	return z, nil
}

// BuildZReport makes the Z-report of f's day from journal j, in the
// store's currency, at now. Its figures are those of BuildReport over the
// day: a payment counts for the terminal that took it, a refund for the
// terminal that asked for it. A terminal's report (f.TerminalID) has no
// store section.
func BuildZReport(ctx context.Context, j Journal, f ZFilter, currency string, now time.Time) (*ZReport, error) {
	loc := f.Location
	if loc == nil {
		loc = time.Local
	}
	from, to, err := BusinessDay(f.Day, loc)
	if err != nil {
		return nil, err
	}
	rep, err := BuildReport(ctx, j, ReportFilter{From: from, To: to, TerminalID: f.TerminalID}, currency)
	if err != nil {
		return nil, err
	}
	z := &ZReport{Day: f.Day, TimeZone: loc.String(), From: from, To: to, Currency: currency, Terminals: []ZSection{}, GeneratedAt: now}
	if f.TerminalID == "" {
		all := zSection(rep, "", func(string) bool { return true })
		z.Store = &all
	}
	ids := map[string]bool{}
	if f.TerminalID != "" {
		ids[f.TerminalID] = true // its own, even on a day it did nothing
	}
	for _, l := range rep.Lines() {
		ids[l.TerminalID] = true
	}
	for _, s := range rep.Transactions {
		ids[s.TerminalID] = true
	}
	delete(ids, "") // an engine embedded without terminals: in the store's figures only
	var terminals []string
	for id := range ids {
		terminals = append(terminals, id)
	}
	sort.Strings(terminals)
	for _, id := range terminals {
		z.Terminals = append(z.Terminals, zSection(rep, id, func(t string) bool { return t == id }))
	}
	return z, nil
}

// zSection adds up the lines and sales of rep whose terminal is in.
func zSection(rep *Report, id string, in func(terminalID string) bool) ZSection {
	sub := &Report{Currency: rep.Currency, Totals: []AssetTypeTotal{}}
	keep := func(ls []Line) []Line {
		out := []Line{}
		for _, l := range ls {
			if in(l.TerminalID) {
				out = append(out, l)
			}
		}
		return out
	}
	sub.Payments, sub.Refunds, sub.Authorisations = keep(rep.Payments), keep(rep.Refunds), keep(rep.Authorisations)
	sub.total()
	z := ZSection{TerminalID: id, Currency: rep.Currency, Totals: sub.Totals, Paid: sub.Paid, Refunded: sub.Refunded, Net: sub.Net,
		PreAuthsOutstanding: []Line{}, RefundsPending: []Line{}, OpenSales: []*Sale{}}
	for _, t := range sub.Totals {
		z.Payments += t.Payments
		z.Refunds += t.Refunds
	}
	for _, l := range sub.Payments {
		if l.Kind == LineTender {
			z.Tenders++
			z.TakenOutside += l.Amount
		}
	}
	for _, l := range sub.Authorisations {
		if l.Outstanding > 0 {
			z.PreAuthsOutstanding = append(z.PreAuthsOutstanding, l)
			z.Outstanding += l.Outstanding
		}
	}
	for _, l := range sub.Refunds {
		if st := RefundStatus(l.Status); l.Kind == LineRefund && (st == RefundSending || st == RefundPending) {
			z.RefundsPending = append(z.RefundsPending, l)
			z.PendingRefunds += l.Amount
		}
	}
	for _, s := range rep.Transactions {
		if in(s.TerminalID) && !s.Status.Final() {
			z.OpenSales = append(z.OpenSales, s)
			z.OpenValue += Cents(s.Value)
		}
	}
	return z
}
