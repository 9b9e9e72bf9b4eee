package server

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// zReport answers the end-of-day close of a business day (?day=today, the
// default, or YYYY-MM-DD in the store's time zone) as JSON, CSV
// (?format=csv) or a page to print on 80 mm paper (?format=html). A
// manager sees the store and every terminal, or the one it names; a till
// sees only its own, as with the transactions report.
func (s *Server) zReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("from") != "" || q.Get("to") != "" {
		return &pos.Error{Code: pos.EInvalid, Field: "day", Message: "a Z-report is of one business day: give day, not from and to"}
	}
	day := q.Get("day")
	if day == "" || day == "today" {
		day = s.clk.Now().In(s.cfg.Location).Format(time.DateOnly)
	}
	f := pos.ZFilter{Day: day, Location: s.cfg.Location}
	var err error
	if f.TerminalID, err = reportTerminal(r); err != nil {
		return err
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" && format != "html" {
		return &pos.Error{Code: pos.EInvalid, Field: "format", Message: "json, csv or html"}
	}
	z, err := s.eng.ZReport(r.Context(), f)
	if err != nil {
		return err
	}
	switch format {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="z-report-`+z.Day+`.csv"`)
		return writeZCSV(w, z)
	case "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'")
		return s.tmpl.ExecuteTemplate(w, "zreport.html", s.zPage(z))
	}
	writeJSON(w, http.StatusOK, z)
	return nil
}

// zPage is what the printable Z-report shows.
type zPage struct {
	Merchant    string
	Z           *pos.ZReport
	Sections    []zPageSection
	GeneratedAt time.Time // in the store's zone
}

// zPageSection is the store's or one terminal's part of the page.
type zPageSection struct {
	Title string
	*pos.ZSection
}

func (s *Server) zPage(z *pos.ZReport) zPage {
	p := zPage{Merchant: s.cfg.MerchantName, Z: z, GeneratedAt: z.GeneratedAt.In(s.cfg.Location)}
	if z.Store != nil {
		p.Sections = append(p.Sections, zPageSection{"Store", z.Store})
	}
	for i := range z.Terminals {
		p.Sections = append(p.Sections, zPageSection{"Terminal " + z.Terminals[i].TerminalID, &z.Terminals[i]})
	}
	return p
}

// zColumns is the CSV Z-report's header: one figure a row, so that a
// spreadsheet can pivot it. scope is store or terminal; count and amount
// are empty when a figure has none.
var zColumns = []string{"day", "time_zone", "scope", "terminal", "figure", "asset_type", "asset_description", "count", "amount", "currency", "note"}

// Figures of the CSV Z-report.
const (
	zPayments    = "payments"              // per asset type: payments and confirmations, what they took
	zRefunds     = "refunds"               // per asset type: refunds that succeeded and voids, what they gave back
	zNet         = "net"                   // per asset type, and for all: taken less given back
	zOutstanding = "pre_auths_outstanding" // pre-auths still holding money, and how much
	zPending     = "refunds_pending"       // refunds not complete at Centrapay yet, and how much
	zOutside     = "taken_outside"         // the rest of part payments taken by cash or card, outside Centrapay
	zOpen        = "open_sales"            // sales not final, and their value
	zReconciled  = "reconciled"            // the note says whether the day is reconciled
	zAll         = ""                      // asset_type of a figure over every asset type
	zNoCount     = -1                      // a figure with no count
)

// writeZCSV writes z one figure a row: per section, each asset type's
// payments, refunds and net, then the section's net, pre-auths
// outstanding, refunds pending and open sales; last, whether the day is
// reconciled. Text that a till or Centrapay wrote goes through csvText.
func writeZCSV(w http.ResponseWriter, z *pos.ZReport) error {
	c := csv.NewWriter(w)
	c.Write(zColumns)
	row := func(scope, terminal, figure, assetType, desc string, count int, amount *pos.Cents, currency, note string) {
		n, a := "", ""
		if count != zNoCount {
			n = strconv.Itoa(count)
		}
		if amount != nil {
			a = amount.String()
		}
		c.Write([]string{z.Day, z.TimeZone, scope, csvText(terminal), figure, csvText(assetType), csvText(desc), n, a, csvText(currency), note})
	}
	sections := []*pos.ZSection{}
	if z.Store != nil {
		sections = append(sections, z.Store)
	}
	for i := range z.Terminals {
		sections = append(sections, &z.Terminals[i])
	}
	for _, sec := range sections {
		scope := "terminal"
		if sec == z.Store {
			scope = "store"
		}
		for _, t := range sec.Totals {
			row(scope, sec.TerminalID, zPayments, t.AssetType, t.Description, t.Payments, &t.Paid, t.Currency, "")
			row(scope, sec.TerminalID, zRefunds, t.AssetType, t.Description, t.Refunds, &t.Refunded, t.Currency, "")
			row(scope, sec.TerminalID, zNet, t.AssetType, t.Description, zNoCount, &t.Net, t.Currency, "")
		}
		row(scope, sec.TerminalID, zNet, zAll, "", zNoCount, &sec.Net, sec.Currency, "")
		row(scope, sec.TerminalID, zOutstanding, zAll, "", len(sec.PreAuthsOutstanding), &sec.Outstanding, sec.Currency, "")
		row(scope, sec.TerminalID, zPending, zAll, "", len(sec.RefundsPending), &sec.PendingRefunds, sec.Currency, "")
		row(scope, sec.TerminalID, zOutside, zAll, "", sec.Tenders, &sec.TakenOutside, sec.Currency, "not in Centrapay's figures")
		row(scope, sec.TerminalID, zOpen, zAll, "", len(sec.OpenSales), &sec.OpenValue, sec.Currency, "")
	}
	row("store", "", zReconciled, zAll, "", zNoCount, nil, "", z.ReconciledText())
	c.Flush()
	return c.Error()
}
