package server

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/internal/escpos"
	"github.com/centrapos/centrapos/pos"
)

// A receipt is printed on 80 mm paper (72 mm printed: 48 columns of a
// thermal printer's font A) or 58 mm paper (48 mm: 32 columns).
const (
	paper80 = 80
	paper58 = 58
)

// columns is how many characters a line of paper holds.
func columns(paper int) int {
	if paper == paper58 {
		return 32
	}
	return 48
}

// printDots is how many dots a line of paper holds at 203 dpi: 576 on
// 80 mm paper (72 mm printed), 384 on 58 mm (48 mm).
func printDots(paper int) int {
	if paper == paper58 {
		return 384
	}
	return 576
}

// receiptCodePage is the code page of ESC/POS receipts: PC437, the one
// every ESC/POS printer starts in. NZ text it lacks (the macrons of te
// reo Māori) is printed without the marks.
const receiptCodePage = escpos.PC437

// ParseGSTNumber checks a New Zealand GST number (the business's IRD
// number: 8 or 9 digits, often written 123-456-789; spaces and hyphens
// are ignored) and returns it written that way ("12-345-678" for 8
// digits); "" stays "".
func ParseGSTNumber(s string) (string, error) {
	var d []byte
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			d = append(d, byte(r))
		case r == '-' || r == ' ':
		default:
			return "", fmt.Errorf("GST number %q: only digits, spaces and hyphens, e.g. 123-456-789", s)
		}
	}
	switch len(d) {
	case 0:
		if strings.TrimSpace(s) != "" {
			return "", fmt.Errorf("GST number %q has no digits: want 8 or 9, e.g. 123-456-789", s)
		}
		return "", nil
	case 8, 9:
		n := len(d)
		return string(d[:n-6]) + "-" + string(d[n-6:n-3]) + "-" + string(d[n-3:]), nil
	}
	return "", fmt.Errorf("GST number %q has %d digits: a New Zealand GST number has 8 or 9, e.g. 123-456-789", s, len(d))
}

// addressLines splits a merchant address into its lines, dropping empty
// ones.
func addressLines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// block is one part of a receipt, drawn the same way in every format:
// text, a row of text with an amount at the right, a rule, a gap, a QR
// code or a barcode.
type block struct {
	Kind   string // text, row, rule, gap, qr, barcode
	Align  escpos.Align
	Big    bool // the merchant's name: double size on a printer
	Bold   bool
	Small  bool          // a note: smaller in HTML (text and a printer have one size)
	Indent bool          // two columns in
	Label  string        // text before Text
	Text   string        // a row's left side; the data of a QR code or barcode
	Amount string        // a row's right side
	ID     string        // the HTML id of Text (or of Amount in a row)
	Class  string        // the HTML class
	SVG    template.HTML // a QR code or barcode drawn for HTML (withCodes)
}

func (b block) line() string { return b.Label + b.Text }

// receiptData is a receipt: what it shows, as blocks.
type receiptData struct {
	Merchant string
	Ref      string
	Paper    int
	Blocks   []block
}

// receiptOf lays out the receipt of sale and its refund ops.
func (s *Server) receiptOf(sale *pos.Sale, refunds []*pos.Op, paper int) receiptData {
	d := receiptData{Merchant: s.cfg.MerchantName, Ref: sale.ExternalRef, Paper: paper}
	add := func(b block) { d.Blocks = append(d.Blocks, b) }
	text := func(b block) { b.Kind = "text"; add(b) }
	row := func(b block) { b.Kind = "row"; add(b) }
	loc := s.cfg.Location
	if loc == nil {
		loc = time.Local
	}

	text(block{Align: escpos.Center, Big: true, Bold: true, Text: s.cfg.MerchantName, ID: "r-merchant", Class: "merchant"})
	for _, l := range addressLines(s.cfg.MerchantAddress) {
		text(block{Align: escpos.Center, Text: l, Class: "address"})
	}
	if s.cfg.GSTNumber != "" {
		text(block{Align: escpos.Center, Label: "GST No. ", Text: s.cfg.GSTNumber, ID: "r-gst"})
	}
	add(block{Kind: "gap"})
	text(block{Text: sale.CreatedAt.In(loc).Format("2006-01-02 15:04 MST"), ID: "r-at"})
	text(block{Label: "Receipt ", Text: sale.ExternalRef, ID: "r-ref", Bold: true})
	add(block{Kind: "rule"})
	for _, li := range sale.LineItems {
		row(block{Text: lineName(li), Amount: lineAmount(li.Price), Class: "item"})
		var notes []string
		if !li.Discount.IsZero() && li.Discount != "0" {
			notes = append(notes, "discount "+lineAmount(li.Discount))
		}
		if !li.Tax.IsZero() && li.Tax != "0" {
			notes = append(notes, "incl. tax "+li.Tax.String()+"%")
		}
		if len(notes) > 0 {
			text(block{Indent: true, Small: true, Text: strings.Join(notes, ", ")})
		}
	}
	if len(sale.LineItems) > 0 {
		add(block{Kind: "rule"})
	}
	row(block{Bold: true, Text: "TOTAL " + sale.Currency, Amount: pos.Cents(sale.Value).String(), ID: "r-total", Class: "total"})

	words, paid := saleWords(sale)
	class := "status"
	if !paid || sale.StillToPay() > 0 {
		class += " status-warn"
	}
	text(block{Bold: true, Label: "Status: ", Text: words, ID: "r-status", Class: class})
	if sale.Reason != "" && sale.Status != pos.StatusPaid {
		text(block{Indent: true, Small: true, Text: sale.Reason})
	}
	if paid {
		for _, p := range sale.PaidBy {
			name := p.Description
			if name == "" {
				name = p.AssetType
			}
			row(block{Label: "Paid by ", Text: name, Amount: pos.Cents(p.Amount).String(), Class: "r-paid-by"})
			if p.Description != "" && p.AssetType != "" {
				text(block{Indent: true, Small: true, Text: p.AssetType})
			}
			for _, li := range p.LineItems {
				row(block{Indent: true, Small: true, Label: "for ", Text: lineName(li), Amount: lineAmount(li.Price), Class: "r-paid-for"})
			}
		}
		if sale.PreAuth {
			row(block{Text: "Confirmed so far", Amount: pos.Cents(sale.Confirmed).String()})
		}
		for _, t := range sale.Tenders {
			row(block{Label: "Paid by ", Text: t.Method.Words() + " (outside Centrapay)", Amount: pos.Cents(t.Amount).String(), Class: "r-paid-by"})
		}
		if left := sale.StillToPay(); left > 0 {
			row(block{Bold: true, Text: "Still to pay", Amount: pos.Cents(left).String(), ID: "r-still", Class: "status-warn"})
		}
	}

	if len(refunds) > 0 {
		add(block{Kind: "rule"})
		text(block{Bold: true, Text: "Refunds"})
		refunds = slices.Clone(refunds)
		slices.SortStableFunc(refunds, func(a, b *pos.Op) int { return a.CreatedAt.Compare(b.CreatedAt) })
		base := sale.Paid()
		if sale.PreAuth {
			base = sale.Confirmed
		}
		left := base
		for _, op := range refunds {
			st := op.RefundStatus()
			amount := pos.Cents(op.Amount).String()
			if st != pos.RefundFailed {
				left -= op.Amount // sending, pending and done: not to be refunded again
				amount = pos.Cents(-op.Amount).String()
			}
			cls := "r-refund refund-" + string(st)
			row(block{Text: st.Words(), Amount: amount, Class: cls})
			note := op.CreatedAt.In(loc).Format("2006-01-02 15:04") + " " + op.ID
			text(block{Indent: true, Small: true, Text: note})
			if op.Reason != "" {
				text(block{Indent: true, Small: true, Text: op.Reason})
			}
			if st == pos.RefundFailed {
				text(block{Indent: true, Small: true, Text: "nothing was refunded"})
			}
		}
		if left > 0 {
			row(block{Bold: true, Text: "Left to refund", Amount: pos.Cents(left).String(), ID: "r-left"})
		} else {
			text(block{Bold: true, Text: "Nothing left to refund", ID: "r-left"})
		}
	}

	if pr := sale.PaymentRequest; pr != nil && pr.ShortCode != "" {
		add(block{Kind: "rule"})
		text(block{Align: escpos.Center, Small: true, Text: "For a refund:"})
		add(block{Kind: "qr", Align: escpos.Center, Text: pr.ShortCode})
		add(block{Kind: "barcode", Align: escpos.Center, Text: pr.ShortCode})
		text(block{Align: escpos.Center, Bold: true, Label: "Centrapay code ", Text: pr.ShortCode, ID: "r-code", Class: "code"})
		text(block{Align: escpos.Center, Label: "Receipt ", Text: sale.ExternalRef})
	}
	text(block{Align: escpos.Center, Small: true, Text: "Keep this receipt: refunds start from its code or number.", Class: "hint"})
	return d
}

// saleWords is a sale's status as a receipt says it, and whether money
// was taken.
func saleWords(s *pos.Sale) (string, bool) {
	switch s.Status {
	case pos.StatusPaid:
		switch {
		case s.PreAuth:
			return "Pre-authorised", true
		case s.StillToPay() > 0:
			return "Part paid", true
		}
		return "Paid", true
	case pos.StatusPending:
		return "Not paid yet", false
	case pos.StatusResolving:
		return "Not known yet: checking with Centrapay", false
	}
	return "Not paid: " + string(s.Status), false
}

// lineName is a line item as a receipt names it: "Flat white x2".
func lineName(li centrapay.LineItem) string {
	if li.Qty.IsZero() {
		return li.Name
	}
	return li.Name + " x" + li.Qty.String()
}

// lineAmount is a line's price or discount (cents) as money; "" when it
// is not whole cents.
func lineAmount(b centrapay.BigNumber) string {
	n, err := b.Int64()
	if err != nil {
		return ""
	}
	return pos.Cents(n).String()
}

// wrap breaks s into lines of at most width columns (characters), at
// spaces where it can, within words where it must.
func wrap(s string, width int) []string {
	if width < 1 {
		width = 1
	}
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		for utf8.RuneCountInString(w) > width {
			if line != "" {
				out, line = append(out, line), ""
			}
			r := []rune(w)
			out, w = append(out, string(r[:width])), string(r[width:])
		}
		switch {
		case line == "":
			line = w
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) <= width:
			line += " " + w
		default:
			out, line = append(out, line), w
		}
	}
	if line != "" || len(out) == 0 {
		out = append(out, line)
	}
	return out
}

// textLines lays out a text, row, rule or gap block in width columns
// (half as many for a double-size block), unpadded: alignment is the
// caller's. A row's amount is at the right edge of its first line.
func (b block) textLines(width int) []string {
	indent := ""
	if b.Indent {
		indent = "  "
	}
	if b.Big {
		width /= 2
	}
	switch b.Kind {
	case "rule":
		return []string{strings.Repeat("-", width)}
	case "gap":
		return []string{""}
	case "row":
		// the lines after the first are indented more, so that they do not
		// read as rows of their own
		aw := utf8.RuneCountInString(b.Amount)
		lines := wrap(b.line(), max(width-len(indent)-aw-3, 8))
		for i := range lines {
			if i > 0 {
				lines[i] = "  " + lines[i]
			}
			lines[i] = indent + lines[i]
		}
		first := lines[0]
		if pad := width - utf8.RuneCountInString(first) - aw; pad >= 1 {
			lines[0] = first + strings.Repeat(" ", pad) + b.Amount
		} else {
			lines = append(lines, strings.Repeat(" ", max(width-aw, 0))+b.Amount)
		}
		return lines
	}
	lines := wrap(b.line(), width-len(indent))
	for i := range lines {
		lines[i] = indent + lines[i]
	}
	return lines
}

// transliterated is b with its text as the ESC/POS code page prints it,
// so that it is laid out by the columns it takes on paper.
func (b block) transliterated() block {
	b.Label = escpos.Transliterate(receiptCodePage, b.Label)
	b.Text = escpos.Transliterate(receiptCodePage, b.Text)
	b.Amount = escpos.Transliterate(receiptCodePage, b.Amount)
	return b
}

// text is the receipt as plain text, lines of at most its paper's
// columns, centred where a printer would centre.
func (d receiptData) text() string {
	width := columns(d.Paper)
	var sb strings.Builder
	for _, b := range d.Blocks {
		if b.Kind == "qr" || b.Kind == "barcode" {
			continue // their data is on the receipt as text
		}
		for _, l := range b.textLines(width) {
			if b.Align == escpos.Center {
				l = strings.Repeat(" ", max(width-utf8.RuneCountInString(l), 0)/2) + l
			}
			sb.WriteString(strings.TrimRight(l, " "))
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// escpos is the receipt as ESC/POS commands for a thermal printer: its
// text in PC437, a QR code and a Code 128 barcode of the short code, and
// a cut.
func (d receiptData) escpos() ([]byte, error) {
	width := columns(d.Paper)
	w := escpos.NewWriter(receiptCodePage)
	w.Init()
	align := escpos.Left
	for _, b := range d.Blocks {
		b = b.transliterated()
		if b.Align != align {
			w.Align(b.Align)
			align = b.Align
		}
		switch b.Kind {
		case "qr":
			if err := w.QR(b.Text, 6, escpos.QRLevelM); err != nil {
				return nil, err
			}
			continue
		case "barcode":
			// Code 128 set B: 11 modules a character, the start and check
			// characters, a 13-module stop and 10 quiet modules a side, 2
			// dots a module; a code too long for the paper is left to the
			// QR code and the text
			if modules := 11*(len(b.Text)+2) + 13 + 20; 2*modules <= printDots(d.Paper) {
				if err := w.Code128(b.Text, 80, 2); err != nil {
					return nil, err
				}
				w.Line("")
			}
			continue
		}
		if b.Bold {
			w.Bold(true)
		}
		if b.Big {
			w.Size(2, 2)
		}
		for _, l := range b.textLines(width) {
			w.Line(strings.TrimRight(l, " "))
		}
		if b.Big {
			w.Size(1, 1)
		}
		if b.Bold {
			w.Bold(false)
		}
	}
	w.Feed(3)
	w.Cut()
	return w.Bytes(), nil
}

// withCodes draws the receipt's QR codes and barcodes as SVG, for HTML.
func (d receiptData) withCodes() (receiptData, error) {
	d.Blocks = slices.Clone(d.Blocks)
	for i, b := range d.Blocks {
		var m *gozxing.BitMatrix
		var err error
		switch b.Kind {
		case "qr":
			m, err = qrcode.NewQRCodeWriter().Encode(b.Text, gozxing.BarcodeFormat_QR_CODE, 0, 0,
				map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_ERROR_CORRECTION: decoder.ErrorCorrectionLevel_M, gozxing.EncodeHintType_MARGIN: 4})
		case "barcode":
			m, err = oned.NewCode128Writer().Encode(b.Text, gozxing.BarcodeFormat_CODE_128, 0, 1,
				map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_MARGIN: 10})
		default:
			continue
		}
		if err != nil {
			return d, fmt.Errorf("receipt %s of %q: %w", b.Kind, b.Text, err)
		}
		d.Blocks[i].SVG = matrixSVG(m, b.Kind, b.Text)
	}
	return d, nil
}

// matrixSVG draws m's dark modules as an SVG, one unit a module; a
// barcode's one row is stretched to a bar a fifth as tall as it is wide.
func matrixSVG(m *gozxing.BitMatrix, kind, label string) template.HTML {
	w, h := m.GetWidth(), m.GetHeight()
	barH := h
	if kind == "barcode" {
		barH = max(w/5, 1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="%s" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="%s">`,
		kind, w, barH, template.HTMLEscapeString(label))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, w, barH)
	for y := range h {
		for x := 0; x < w; {
			if !m.Get(x, y) {
				x++
				continue
			}
			run := 0
			for x+run < w && m.Get(x+run, y) {
				run++
			}
			if kind == "barcode" {
				fmt.Fprintf(&b, "M%d 0h%dv%dh-%dz", x, run, barH, run)
			} else {
				fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, run, run)
			}
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()) // built from numbers and an escaped label only
}

// receiptPaper reads ?paper=: 80 (the default) or 58.
func receiptPaper(r *http.Request) (int, error) {
	switch r.URL.Query().Get("paper") {
	case "", "80":
		return paper80, nil
	case "58":
		return paper58, nil
	}
	return 0, &pos.Error{Code: pos.EInvalid, Field: "paper", Message: "80 or 58 (mm)"}
}

// receiptFor reads the sale a receipt request names, its refunds and the
// paper, and lays out the receipt.
func (s *Server) receiptFor(r *http.Request) (receiptData, error) {
	paper, err := receiptPaper(r)
	if err != nil {
		return receiptData{}, err
	}
	sale, err := s.visibleSale(r, r.PathValue("id"))
	if err != nil {
		return receiptData{}, err
	}
	refunds, err := s.eng.Journal().Ops(r.Context(), pos.OpFilter{SaleID: sale.ID, Kind: pos.OpRefund})
	if err != nil {
		return receiptData{}, err
	}
	return s.receiptOf(sale, refunds, paper), nil
}

// receipt answers a sale's receipt: HTML (for 80 or 58 mm paper, ?paper=),
// or plain text with ?format=text or Accept: text/plain.
func (s *Server) receipt(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format != "" && format != "html" && format != "text" {
		return &pos.Error{Code: pos.EInvalid, Field: "format", Message: "html or text (ESC/POS is at receipt.escpos)"}
	}
	d, err := s.receiptFor(r)
	if err != nil {
		return err
	}
	if format == "text" || (format == "" && strings.Contains(r.Header.Get("Accept"), "text/plain")) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := w.Write([]byte(d.text()))
		return err
	}
	if d, err = d.withCodes(); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, "receipt.html", d); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'none'")
	_, err = w.Write(buf.Bytes())
	return err
}

// receiptESCPOS answers a sale's receipt as ESC/POS bytes for a thermal
// printer (80 or 58 mm, ?paper=): send them to the printer as they are.
func (s *Server) receiptESCPOS(w http.ResponseWriter, r *http.Request) error {
	d, err := s.receiptFor(r)
	if err != nil {
		return err
	}
	b, err := d.escpos()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="receipt.escpos"`)
	_, err = w.Write(b)
	return err
}
