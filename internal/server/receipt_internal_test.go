package server

import (
	"bytes"
	"image"
	"image/draw"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/internal/escpos"
	"github.com/centrapos/centrapos/pos"
)

// receiptServer is a server with only what a receipt needs.
func receiptServer(t *testing.T) *Server {
	t.Helper()
	nz, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{MerchantName: "Centrapay Café", MerchantAddress: "12 Queen Street\nAuckland 1010",
		GSTNumber: "123-456-789", Location: nz}}
	if err := s.parseTemplates(); err != nil {
		t.Fatal(err)
	}
	return s
}

// receiptSale is a paid sale of two lines, paid by two asset types, the
// first for one of the lines.
func receiptSale() *pos.Sale {
	return &pos.Sale{ID: "s_1", ExternalRef: "R-1", Value: 1000, Currency: "NZD", Status: pos.StatusPaid,
		CreatedAt:      time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
		PaymentRequest: &pos.PaymentRequest{ID: "pr_1", ShortCode: "CP-C7F-ZS5"},
		LineItems: []centrapay.LineItem{{Name: "Coffee Grounds", Qty: "1", Price: "450", Tax: "15"},
			{Name: "Mug", Qty: "1", Price: "550"}},
		PaidBy: []pos.Payment{
			{AssetType: "centrapay.token.test", Description: "Centrapay Token", Amount: 450,
				LineItems: []centrapay.LineItem{{Name: "Coffee Grounds", Qty: "1", Price: "450"}}},
			{AssetType: "centrapay.nzd.test", Description: "Centrapay NZD wallet", Amount: 550}}}
}

// TestReceiptShowsWhatEachAssetPaidFor: the line items Centrapay says an
// asset paid for are on the receipt, HTML and text, under that asset.
func TestReceiptShowsWhatEachAssetPaidFor(t *testing.T) {
	s := receiptServer(t)
	d := s.receiptOf(receiptSale(), nil, paper80)
	text := d.text()
	want := "Paid by Centrapay Token                     4.50\n" +
		"  centrapay.token.test\n" +
		"  for Coffee Grounds x1                     4.50\n" +
		"Paid by Centrapay NZD wallet                5.50\n"
	if !strings.Contains(text, want) {
		t.Errorf("text receipt lacks\n%s\nin\n%s", want, text)
	}
	html := receiptHTML(t, s, d)
	if got := strings.Count(html, `r-paid-for"`); got != 1 || !strings.Contains(html, "for Coffee Grounds x1") {
		t.Errorf("HTML receipt: %d paid-for rows:\n%s", got, html)
	}
}

func receiptHTML(t *testing.T, s *Server, d receiptData) string {
	t.Helper()
	d, err := d.withCodes()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, "receipt.html", d); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// receiptOps are refunds of a 10.00 sale in each status: 1.00 refunded,
// 2.00 accepted by Centrapay and pending, 3.00 sent with no answer yet,
// 0.50 refused.
func receiptOps() []*pos.Op {
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	return []*pos.Op{
		{ID: "rf_done", Kind: pos.OpRefund, Amount: 100, State: pos.OpSucceeded, CompletedAt: at.Add(time.Hour), CreatedAt: at},
		{ID: "rf_pending", Kind: pos.OpRefund, Amount: 200, State: pos.OpSucceeded, CreatedAt: at.Add(time.Minute), Reason: "chipped mug"},
		{ID: "rf_sending", Kind: pos.OpRefund, Amount: 300, State: pos.OpPending, CreatedAt: at.Add(2 * time.Minute)},
		{ID: "rf_refused", Kind: pos.OpRefund, Amount: 50, State: pos.OpFailed, CreatedAt: at.Add(3 * time.Minute)},
	}
}

// TestReceiptRefundsInWords: each refund is on the receipt with its
// amount and where it stands in words; one Centrapay has not completed
// never reads as refunded, one it refused is not taken off; what is left
// to refund is what no refund holds.
func TestReceiptRefundsInWords(t *testing.T) {
	s := receiptServer(t)
	text := s.receiptOf(receiptSale(), receiptOps(), paper80).text()
	for _, want := range []string{
		"Refunds\n",
		"Refunded                                   -1.00\n  2026-11-25 22:30 rf_done\n",
		"Refund pending                             -2.00\n  2026-11-25 22:31 rf_pending\n  chipped mug\n",
		"Refund sent, awaiting Centrapay            -3.00\n",
		"Refund refused                              0.50\n  2026-11-25 22:33 rf_refused\n  nothing was refunded\n",
		"Left to refund                              4.00\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text receipt lacks\n%s\nin\n%s", want, text)
		}
	}
	if n := strings.Count(text, "Refunded"); n != 1 {
		t.Errorf("%d lines say Refunded, want only the completed refund's:\n%s", n, text)
	}
	// all of it refunded: nothing left, and nothing to pay either
	ops := []*pos.Op{{ID: "rf_all", Kind: pos.OpRefund, Amount: 1000, State: pos.OpSucceeded, CreatedAt: receiptSale().CreatedAt}}
	text = s.receiptOf(receiptSale(), ops, paper58).text()
	if !strings.Contains(text, "Refund pending"+strings.Repeat(" ", 12)+"-10.00\n") || !strings.Contains(text, "Nothing left to refund\n") {
		t.Errorf("a whole refund pending:\n%s", text)
	}
	html := receiptHTML(t, s, s.receiptOf(receiptSale(), receiptOps(), paper80))
	for _, want := range []string{`<span class="l">Refund pending</span> <span class="n">-2.00</span>`,
		`<span class="l">Refund refused</span> <span class="n">0.50</span>`, `id="r-left">4.00<`} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML receipt lacks %s", want)
		}
	}
}

// TestReceiptStatus: a receipt says whether the money was taken: part
// paid with what is still to pay, or not paid, with no "Paid by".
func TestReceiptStatus(t *testing.T) {
	s := receiptServer(t)
	part := receiptSale()
	part.Value, part.RemainingAmount = 2000, 1000
	text := s.receiptOf(part, nil, paper80).text()
	if !strings.Contains(text, "Status: Part paid\n") || !strings.Contains(text, "Still to pay                               10.00\n") {
		t.Errorf("part paid:\n%s", text)
	}
	for status, words := range map[pos.Status]string{pos.StatusCancelled: "Status: Not paid: cancelled\n  cancelled at the till\n",
		pos.StatusPending: "Status: Not paid yet\n", pos.StatusExpired: "Status: Not paid: expired\n"} {
		sale := receiptSale()
		sale.Status, sale.Reason = status, ""
		if status == pos.StatusCancelled {
			sale.Reason = "cancelled at the till"
		}
		text := s.receiptOf(sale, nil, paper80).text()
		if !strings.Contains(text, words) || strings.Contains(text, "Paid by") {
			t.Errorf("%s:\n%s", status, text)
		}
	}
}

// longSale has a line name and an asset description longer than a line
// of 58 mm paper, and a merchant name longer than a line of double size.
func longSale() *pos.Sale {
	sale := receiptSale()
	sale.LineItems[0].Name = "Single-origin Ethiopian Yirgacheffe whole beans, 1 kg bag"
	sale.PaidBy[1].Description = "Centrapay NZD wallet for the Tāmaki Makaurau loyalty programme"
	return sale
}

// TestReceiptTextFitsThePaper: no line of the text receipt is wider than
// its paper (48 columns on 80 mm, 32 on 58 mm); long names wrap and the
// amounts stay at the right edge.
func TestReceiptTextFitsThePaper(t *testing.T) {
	s := receiptServer(t)
	s.cfg.MerchantName = "The Tāmaki Makaurau Coffee Roasting Company"
	for _, paper := range []int{paper80, paper58} {
		width := columns(paper)
		text := s.receiptOf(longSale(), receiptOps(), paper).text()
		for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("%d mm: %d columns: %q", paper, n, l)
			}
		}
		for _, amount := range []string{"4.50", "5.50", "10.00", "-2.00", "4.00"} {
			found := false
			for _, l := range strings.Split(text, "\n") {
				if strings.HasSuffix(l, " "+amount) && utf8.RuneCountInString(l) == width {
					found = true
				}
			}
			if !found {
				t.Errorf("%d mm: %s is not at the right edge:\n%s", paper, amount, text)
			}
		}
		if !strings.Contains(text, "Yirgacheffe") || !strings.Contains(text, "loyalty") || !strings.Contains(text, "Tāmaki") {
			t.Errorf("%d mm: a long name is cut:\n%s", paper, text)
		}
	}
}

// TestReceiptEscpos decodes the ESC/POS receipt back: the commands are
// only those the printer is meant to get; the text lines are the text
// receipt's, as wide as the paper (half for the double-size name), in
// PC437 (macrons dropped); the QR code and the barcode carry the short
// code; the paper is cut at the end.
func TestReceiptEscpos(t *testing.T) {
	s := receiptServer(t)
	s.cfg.MerchantName = "Tāmaki Café"
	for _, paper := range []int{paper80, paper58} {
		width := columns(paper)
		d := s.receiptOf(longSale(), receiptOps(), paper)
		b, err := d.escpos()
		if err != nil {
			t.Fatal(err)
		}
		cmds, err := escpos.Decode(b)
		if err != nil {
			t.Fatalf("%d mm: %v", paper, err)
		}
		if cmds[0].Name != "ESC @" || cmds[1].Name != "ESC t" || cmds[1].Arg != 0 || cmds[len(cmds)-1].Name != "GS V" {
			t.Errorf("%d mm: starts %+v, ends %+v", paper, cmds[:2], cmds[len(cmds)-1])
		}
		// the merchant's name, centred, bold, double size
		if got := names(cmds[2:6]); !slices.Equal(got, []string{"ESC a", "ESC E", "GS !", "text"}) || cmds[2].Arg != 1 || cmds[3].Arg != 1 ||
			cmds[4].Arg != 0x11 || cmds[5].Text != "Tamaki Cafe" && cmds[5].Text != "Tamaki Café" {
			t.Errorf("%d mm: merchant %+v", paper, cmds[2:6])
		}
		lines := escpos.Lines(cmds)
		var want []string
		for _, l := range strings.Split(strings.TrimSuffix(d.text(), "\n"), "\n") {
			want = append(want, strings.TrimLeft(escpos.Transliterate(escpos.PC437, l), " "))
		}
		want = slices.Insert(want, slices.Index(want, "Centrapay code CP-C7F-ZS5"), "") // the line the barcode ends
		var got []string
		for _, l := range lines {
			got = append(got, strings.TrimLeft(l, " "))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%d mm: lines\n%s\nwant\n%s", paper, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		size := 0x00
		for _, c := range cmds {
			switch c.Name {
			case "GS !":
				size = c.Arg
			case "text":
				if w := width / (size>>4 + 1); utf8.RuneCountInString(c.Text) > w {
					t.Errorf("%d mm: %q is wider than %d", paper, c.Text, w)
				}
			}
		}
		for _, want := range []string{"TOTAL NZD", "GST No. 123-456-789", "12 Queen Street", "Refund pending", "Left to refund", "Centrapay code CP-C7F-ZS5", "Receipt R-1",
			"Paid by Centrapay NZD", "loyalty"} {
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, want) }) {
				t.Errorf("%d mm: no line has %q:\n%s", paper, want, strings.Join(lines, "\n"))
			}
		}
		var qr, bar []string
		for _, c := range cmds {
			switch c.Name {
			case "QR store":
				qr = append(qr, c.Text)
			case "Code 128":
				bar = append(bar, c.Text)
			}
		}
		if !slices.Equal(qr, []string{"CP-C7F-ZS5"}) || !slices.Equal(bar, []string{"CP-C7F-ZS5"}) {
			t.Errorf("%d mm: QR %q, barcode %q", paper, qr, bar)
		}
	}
}

func names(cmds []escpos.Cmd) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.Name)
	}
	return out
}

// TestReceiptWithoutPaymentRequest: a sale that never had a request has
// no code to scan, and says so by not printing one.
func TestReceiptWithoutPaymentRequest(t *testing.T) {
	s := receiptServer(t)
	sale := receiptSale()
	sale.PaymentRequest, sale.Status, sale.PaidBy = nil, pos.StatusFailed, nil
	d := s.receiptOf(sale, nil, paper80)
	b, err := d.escpos()
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := escpos.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(cmds, func(c escpos.Cmd) bool { return c.Name == "QR store" || c.Name == "Code 128" }) ||
		strings.Contains(d.text(), "Centrapay code") || !strings.Contains(d.text(), "Status: Not paid: failed") {
		t.Errorf("a failed sale's receipt:\n%s", d.text())
	}
}

func TestParseGSTNumber(t *testing.T) {
	for in, want := range map[string]string{"123-456-789": "123-456-789", "123456789": "123-456-789", " 123 456 789 ": "123-456-789",
		"12345678": "12-345-678", "12-345-678": "12-345-678", "": ""} {
		if got, err := ParseGSTNumber(in); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"1234567", "1234567890", "GST 123-456-789", "123.456.789", "---"} {
		if got, err := ParseGSTNumber(in); err == nil || !strings.Contains(err.Error(), "123-456-789") {
			t.Errorf("%q: %q %v, want an error with an example", in, got, err)
		}
	}
}

// TestReceiptHTMLCodesScan draws the HTML receipt's QR code and barcode
// from their SVG and decodes them: both carry the short code.
func TestReceiptHTMLCodesScan(t *testing.T) {
	s := receiptServer(t)
	for _, paper := range []int{paper80, paper58} {
		html := receiptHTML(t, s, s.receiptOf(receiptSale(), nil, paper))
		if !strings.Contains(html, `<body class="paper paper-`+strconv.Itoa(paper)+`">`) {
			t.Errorf("%d mm: no paper class", paper)
		}
		svgs := regexp.MustCompile(`<svg [^>]*class="(qr|barcode)" viewBox="0 0 (\d+) (\d+)"[^>]*>.*?<path fill="#000" d="([^"]*)"/></svg>`).FindAllStringSubmatch(html, -1)
		if len(svgs) != 2 {
			t.Fatalf("%d mm: %d codes in\n%s", paper, len(svgs), html)
		}
		for _, m := range svgs {
			w, _ := strconv.Atoi(m[2])
			h, _ := strconv.Atoi(m[3])
			const scale = 4
			img := image.NewGray(image.Rect(0, 0, w*scale, h*scale))
			draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
			for _, r := range regexp.MustCompile(`M(\d+) (\d+)h(\d+)v(\d+)h-\d+z`).FindAllStringSubmatch(m[4], -1) {
				x, _ := strconv.Atoi(r[1])
				y, _ := strconv.Atoi(r[2])
				dx, _ := strconv.Atoi(r[3])
				dy, _ := strconv.Atoi(r[4])
				draw.Draw(img, image.Rect(x*scale, y*scale, (x+dx)*scale, (y+dy)*scale), image.Black, image.Point{}, draw.Src)
			}
			bmp, err := gozxing.NewBinaryBitmapFromImage(img)
			if err != nil {
				t.Fatal(err)
			}
			var reader gozxing.Reader = qrcode.NewQRCodeReader()
			if m[1] == "barcode" {
				reader = oned.NewCode128Reader()
			}
			res, err := reader.Decode(bmp, nil)
			if err != nil || res.GetText() != "CP-C7F-ZS5" {
				t.Errorf("%d mm: the %s reads %v %v", paper, m[1], res, err)
			}
		}
	}
}

// TestReceiptEscposLongCode: a barcode too wide for 58 mm paper is left
// out (the QR code and the text carry the code); 80 mm paper has room.
func TestReceiptEscposLongCode(t *testing.T) {
	s := receiptServer(t)
	sale := receiptSale()
	sale.PaymentRequest.ShortCode = "CP-ABC-DEF-GHJ-KMN"
	for paper, want := range map[int]int{paper80: 1, paper58: 0} {
		b, err := s.receiptOf(sale, nil, paper).escpos()
		if err != nil {
			t.Fatal(err)
		}
		cmds, err := escpos.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		bars, qrs := 0, 0
		for _, c := range cmds {
			bars += map[bool]int{true: 1}[c.Name == "Code 128"]
			qrs += map[bool]int{true: 1}[c.Name == "QR store" && c.Text == sale.PaymentRequest.ShortCode]
		}
		if bars != want || qrs != 1 || !slices.ContainsFunc(escpos.Lines(cmds), func(l string) bool { return strings.HasSuffix(l, "CP-ABC-DEF-GHJ-KMN") }) {
			t.Errorf("%d mm: %d barcodes, %d QR codes:\n%s", paper, bars, qrs, strings.Join(escpos.Lines(cmds), "\n"))
		}
	}
}
