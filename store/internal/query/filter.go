package query

import (
	"strconv"
	"strings"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// Dialect is what differs between the journals' SQL where a filter is
// written: placeholders, how a time is stored, the row order column and
// how a sale row says it is not final.
type Dialect struct {
	Param    func(n int) string  // the n-th placeholder (from 1): "?" or "$n"
	Time     func(time.Time) any // a time as its column holds it
	Seq      string              // the insertion-order column: "rowid", "seq"
	NotFinal string              // the condition of a sale row not final
}

// SQLite and Postgres are the journals' dialects.
var (
	SQLite   = Dialect{Param: func(int) string { return "?" }, Time: func(t time.Time) any { return t.UnixMilli() }, Seq: "rowid", NotFinal: "final = 0"}
	Postgres = Dialect{Param: func(n int) string { return "$" + strconv.Itoa(n) }, Time: func(t time.Time) any { return t }, Seq: "seq", NotFinal: "NOT final"}
)

// Where is a WHERE clause being built, with its arguments.
type Where struct {
	d     Dialect
	conds []string
	Args  []any
}

// add appends cond, whose one "?" stands for arg.
func (w *Where) add(cond string, arg any) {
	w.Args = append(w.Args, arg)
	w.conds = append(w.conds, strings.Replace(cond, "?", w.d.Param(len(w.Args)), 1))
}

// String is the clause, " WHERE …", or "" when nothing is selected.
func (w *Where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Ops is the WHERE clause of an ops query for f.
func Ops(d Dialect, f pos.OpFilter) *Where {
	w := &Where{d: d}
	if f.SaleID != "" {
		w.add("sale_id = ?", f.SaleID)
	}
	if f.PaymentRequestID != "" {
		w.add("pr_id = ?", f.PaymentRequestID)
	}
	if f.Kind != "" {
		w.add("kind = ?", string(f.Kind))
	}
	if f.Pending {
		w.conds = append(w.conds, "state = 'pending'")
	}
	if f.Incomplete {
		w.conds = append(w.conds, "kind = 'refund' AND state = 'succeeded' AND completed_at IS NULL")
	}
	if !f.From.IsZero() {
		w.add("created_at >= ?", d.Time(f.From))
	}
	if !f.To.IsZero() {
		w.add("created_at < ?", d.Time(f.To))
	}
	if f.TerminalID != "" {
		w.add("terminal_id = ?", f.TerminalID)
	}
	return w
}

// Sales is the WHERE clause of a sales query for f, and its ORDER BY and
// LIMIT: newest first.
func Sales(d Dialect, f pos.SaleFilter) (where *Where, orderLimit string) {
	w := &Where{d: d}
	if !f.From.IsZero() {
		w.add("created_at >= ?", d.Time(f.From))
	}
	if !f.To.IsZero() {
		w.add("created_at < ?", d.Time(f.To))
	}
	if f.TerminalID != "" {
		w.add("terminal_id = ?", f.TerminalID)
	}
	if f.Status != "" {
		w.add("status = ?", string(f.Status))
	}
	if f.Open {
		w.conds = append(w.conds, d.NotFinal)
	}
	if f.After != "" {
		w.add("(created_at, "+d.Seq+") < (SELECT created_at, "+d.Seq+" FROM sales WHERE id = ?)", f.After)
	}
	orderLimit = " ORDER BY created_at DESC, " + d.Seq + " DESC"
	if f.Limit > 0 {
		orderLimit += " LIMIT " + strconv.Itoa(f.Limit)
	}
	return w, orderLimit
}

// Events is the WHERE clause of an outbox events query for f.
func Events(d Dialect, f pos.EventFilter) *Where {
	w := &Where{d: d}
	if f.Stream != "" {
		w.add("stream = ?", f.Stream)
	}
	return w
}

// Deliveries is the WHERE clause of a delivery log query for f, on
// webhook_deliveries d.
func Deliveries(d Dialect, f pos.DeliveryFilter) *Where {
	w := &Where{d: d}
	if f.EndpointID != "" {
		w.add("d.endpoint_id = ?", f.EndpointID)
	}
	if f.EventID != "" {
		w.add("d.event_id = ?", f.EventID)
	}
	if f.State != "" {
		w.add("d.state = ?", string(f.State))
	}
	return w
}
