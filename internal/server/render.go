package server

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	texttemplate "text/template"
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

// Money formats minor units as 12.34.
func Money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// receiptData is what a receipt shows.
type receiptData struct {
	Merchant string
	Sale     *pos.Sale
	At       time.Time
	Refunds  []*pos.Op
}

var receiptText = texttemplate.Must(texttemplate.New("receipt.txt").Funcs(texttemplate.FuncMap{"money": Money, "cents": bigCents}).Parse(
	`{{.Merchant}}
{{.At.Format "2006-01-02 15:04 MST"}}
Receipt {{.Sale.ExternalRef}}
{{range .Sale.LineItems}}{{.Name}} x{{.Qty}}  {{money (cents .Price)}}
{{end}}TOTAL {{.Sale.Currency}} {{money .Sale.Value}}
Status: {{.Sale.Status}}{{if .Sale.Reason}} ({{.Sale.Reason}}){{end}}
{{range .Sale.PaidBy}}Paid by {{.Description}} ({{.AssetType}}) {{money .Amount}}
{{end}}{{if .Sale.RemainingAmount}}{{if eq .Sale.Status "paid"}}Still to pay {{money .Sale.RemainingAmount}}
{{end}}{{end}}{{range .Refunds}}{{if eq .State "succeeded"}}Refunded {{money .Amount}} ({{.ID}})
{{end}}{{end}}{{with .Sale.PaymentRequest}}Centrapay code {{.ShortCode}}
{{end}}Reference {{.Sale.ExternalRef}}
`))

func (s *Server) receipt(w http.ResponseWriter, r *http.Request) error {
	sale, err := s.visibleSale(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	refunds, err := s.eng.Journal().Ops(r.Context(), pos.OpFilter{SaleID: sale.ID, Kind: pos.OpRefund})
	if err != nil {
		return err
	}
	d := receiptData{Merchant: s.cfg.MerchantName, Sale: sale, At: sale.CreatedAt.In(s.cfg.Location), Refunds: refunds}
	if r.URL.Query().Get("format") == "text" || strings.Contains(r.Header.Get("Accept"), "text/plain") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		return receiptText.Execute(w, d)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return s.tmpl.ExecuteTemplate(w, "receipt.html", d)
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, to, err := s.period(q)
	if err != nil {
		return err
	}
	f := pos.ReportFilter{From: from, To: to, TerminalID: q.Get("terminal")}
	if t := terminal(r.Context()); !t.Manager {
		if f.TerminalID != "" && f.TerminalID != t.ID {
			return &pos.Error{Code: eForbidden, Field: "terminal", Message: "only a manager terminal sees other terminals' sales"}
		}
		f.TerminalID = t.ID
	}
	rep, err := s.eng.Report(r.Context(), f)
	if err != nil {
		return err
	}
	switch q.Get("format") {
	case "", "json":
		// empty lists are [], as openapi.yaml says, never null
		if rep.Transactions == nil {
			rep.Transactions = []*pos.Sale{}
		}
		if rep.Refunds == nil {
			rep.Refunds = []*pos.Op{}
		}
		if rep.Totals == nil {
			rep.Totals = []pos.AssetTypeTotal{}
		}
		writeJSON(w, http.StatusOK, rep)
		return nil
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="transactions.csv"`)
		return writeCSV(w, rep)
	}
	return &pos.Error{Code: pos.EInvalid, Field: "format", Message: "json or csv"}
}

// writeCSV writes one row per sale and one per refund.
//
// A spreadsheet runs a cell that begins with =, +, -, @, a tab or a
// carriage return as a formula, so every text cell — anything a till, a
// cashier, a patron or Centrapay wrote: references, terminal ids, short
// codes, asset types, descriptions, reasons — passes through csvText,
// which puts a single quote before such a first character (OWASP's "CSV
// injection" advice). Cells the server writes itself are left alone:
// kinds, ids, statuses, times and above all amounts, which Money formats
// as -?digits.cc; a negative amount such as -5.00 must stay a number that
// a spreadsheet can add up, and a number is no formula.
func writeCSV(w http.ResponseWriter, rep *pos.Report) error {
	c := csv.NewWriter(w)
	c.Write([]string{"kind", "id", "created_at", "terminal", "external_ref", "short_code", "status", "value", "currency", "paid", "asset_types", "paid_by", "refunded", "reason", "operator"})
	for _, s := range rep.Transactions {
		var types, descs []string
		for _, p := range s.PaidBy {
			types, descs = append(types, p.AssetType), append(descs, p.Description)
		}
		code := ""
		if s.PaymentRequest != nil {
			code = s.PaymentRequest.ShortCode
		}
		c.Write([]string{"sale", s.ID, s.CreatedAt.UTC().Format(time.RFC3339), csvText(s.TerminalID), csvText(s.ExternalRef), csvText(code), string(s.Status),
			Money(s.Value), csvText(s.Currency), Money(s.Paid()), csvText(strings.Join(types, " ")), csvText(strings.Join(descs, "; ")), Money(s.Refunded), csvText(s.Reason), csvText(s.OperatorID)})
	}
	for _, op := range rep.Refunds {
		c.Write([]string{"refund", op.ID, op.CreatedAt.UTC().Format(time.RFC3339), csvText(op.TerminalID), op.SaleID, csvText(op.PaymentRequestID), string(op.State),
			Money(op.Amount), csvText(op.Currency), "", "", "", Money(op.Amount), csvText(op.Reason), csvText(op.OperatorID)})
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
