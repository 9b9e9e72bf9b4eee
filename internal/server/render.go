package server

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/centrapos/centrapos/internal/qr"
	"github.com/centrapos/centrapos/pos"
)

// qrOf returns the QR code of a sale's request url.
func (s *Server) qrOf(r *http.Request) (*qr.Code, error) {
	sale, err := s.visibleSale(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if sale.PaymentRequest == nil || sale.PaymentRequest.URL == "" {
		return nil, &pos.Error{Code: pos.EConflict, Message: "the sale has no payment request yet"}
	}
	return qr.Encode(sale.PaymentRequest.URL)
}

func (s *Server) qrPNG(w http.ResponseWriter, r *http.Request) error {
	code, err := s.qrOf(r)
	if err != nil {
		return err
	}
	scale := 8
	if v := r.URL.Query().Get("scale"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 32 {
			scale = n
		}
	}
	var buf bytes.Buffer
	if err := code.PNG(&buf, scale); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Write(buf.Bytes())
	return nil
}

func (s *Server) qrSVG(w http.ResponseWriter, r *http.Request) error {
	code, err := s.qrOf(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := code.SVG(&buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Write(buf.Bytes())
	return nil
}

// Money formats minor units as 12.34 (pos.Cents).
func Money(cents int64) string { return pos.Cents(cents).String() }

// report answers the sales, payments, refunds and pre-auths of a period
// (day, or from and to; the store's today by default) as JSON or CSV. A
// till sees its own; a manager every terminal's, or the one it names.
func (s *Server) report(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, to, err := s.reportPeriod(q)
	if err != nil {
		return err
	}
	f := pos.ReportFilter{From: from, To: to}
	if f.TerminalID, err = reportTerminal(r); err != nil {
		return err
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return &pos.Error{Code: pos.EInvalid, Field: "format", Message: "json or csv"}
	}
	rep, err := s.eng.Report(r.Context(), f)
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="transactions.csv"`)
		return writeCSV(w, rep)
	}
	writeJSON(w, http.StatusOK, rep) // its lists are [] when empty, never null
	return nil
}

// reportTerminal is the terminal a report is of: the one asked for
// (?terminal=), "" for all; a till that is not a manager sees only its
// own, and asking for another's is refused.
func reportTerminal(r *http.Request) (string, error) {
	id := r.URL.Query().Get("terminal")
	if t := terminal(r.Context()); t != nil && !t.Manager {
		if id != "" && id != t.ID {
			return "", &pos.Error{Code: eForbidden, Field: "terminal", Message: "only a manager terminal sees other terminals' sales"}
		}
		id = t.ID
	}
	return id, nil
}

// reportPeriod is the period of a report: day, or from and to, where a
// missing from is the start of the store's today and a missing to its end
// (the server's Location and clock), so a report asked for with neither
// is today's.
func (s *Server) reportPeriod(q url.Values) (from, to time.Time, err error) {
	if from, to, err = s.period(q); err != nil {
		return from, to, err
	}
	now := s.clk.Now().In(s.cfg.Location)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.cfg.Location)
	switch {
	case from.IsZero() && to.IsZero():
		from, to = today, today.AddDate(0, 0, 1)
	case from.IsZero():
		if from = today; !from.Before(to) {
			return from, to, &pos.Error{Code: pos.EInvalid, Field: "from", Message: "required when to is today or earlier: from is today by default"}
		}
	case to.IsZero():
		if to = today.AddDate(0, 0, 1); !from.Before(to) {
			return from, to, &pos.Error{Code: pos.EInvalid, Field: "to", Message: "required when from is after today: to is the end of today by default"}
		}
	}
	return from, to, nil
}

// reportColumns is the CSV report's header. Each column means one thing
// on every row; a column that does not apply to a row's kind is empty.
var reportColumns = []string{
	"kind",               // payment, confirmation, refund, void, authorisation
	"id",                 // the record the row comes from: the sale, or the refund or confirmation
	"time",               // when the sale was made or the refund or confirmation asked for (RFC 3339, UTC)
	"terminal",           // the till that took the payment or asked for the refund
	"sale_id",            // the sale (empty for a refund of a payment no sale of ours took)
	"payment_request_id", // Centrapay's payment request
	"short_code",         // the request's short code, as on the receipt
	"external_ref",       // the sale's reference: the merchant's receipt number
	"status",             // the sale's status, the refund's or confirmation's state, the pre-auth's status
	"asset_type",         // what paid, or what the money went back to
	"asset_description",  // Centrapay's name for it
	"amount",             // the money the row moved, a decimal (12.50)
	"currency",           // of amount and outstanding
	"outstanding",        // a pre-auth: what it still holds, not taken
	"reason",             // why a refund was asked, or a sale voided
	"operator",           // the person at the till, when it said
}

// writeCSV writes one row per line of the report: payments, refunds and
// voids, then pre-auth authorisations.
//
// A spreadsheet runs a cell that begins with =, +, -, @, a tab or a
// carriage return as a formula, so every text cell — anything a till, a
// cashier, a patron or Centrapay wrote: references, terminal ids, short
// codes, asset types, descriptions, reasons — passes through csvText,
// which puts a single quote before such a first character (OWASP's "CSV
// injection" advice). Cells the server writes itself are left alone:
// kinds, ids, statuses, times and above all amounts, which pos.Cents
// formats as -?digits.cc; a negative amount such as -5.00 must stay a
// number that a spreadsheet can add up, and a number is no formula.
func writeCSV(w http.ResponseWriter, rep *pos.Report) error {
	c := csv.NewWriter(w)
	c.Write(reportColumns)
	for _, l := range rep.Lines() {
		outstanding := ""
		if l.Kind == pos.LineAuthorisation {
			outstanding = l.Outstanding.String()
		}
		c.Write([]string{string(l.Kind), l.ID, l.At.UTC().Format(time.RFC3339), csvText(l.TerminalID), l.SaleID, csvText(l.PaymentRequestID),
			csvText(l.ShortCode), csvText(l.ExternalRef), csvText(l.Status), csvText(l.AssetType), csvText(l.Description),
			l.Amount.String(), csvText(l.Currency), outstanding, csvText(l.Reason), csvText(l.OperatorID)})
	}
	c.Flush()
	return c.Error()
}

// csvText makes a text cell safe to open in a spreadsheet: one that begins
// with =, +, -, @, a tab or a carriage return gets a leading single quote,
// so that it is shown as the text it is and never run as a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// bigCents reads a line price for a template (0 if it is not whole cents).
func bigCents(b interface{ Int64() (int64, error) }) int64 {
	n, _ := b.Int64()
	return n
}
