// Package escpos writes the ESC/POS command stream that thermal receipt
// printers (Epson TM series and the many printers that follow them)
// print: text in a single-byte code page, alignment, bold, double size,
// QR codes, Code 128 barcodes and the paper cut. Decode reads such a
// stream back, for tests.
//
// The byte sequences are those of Epson's ESC/POS command reference:
//
//	ESC @          1B 40                 initialise the printer
//	ESC t n        1B 74 n               code page (0 PC437, 19 PC858)
//	ESC a n        1B 61 n               align: 0 left, 1 centre, 2 right
//	ESC E n        1B 45 n               bold (emphasised): 1 on, 0 off
//	GS ! n         1D 21 n               size: (width-1)<<4 | (height-1)
//	ESC d n        1B 64 n               print and feed n lines
//	LF             0A                    print and feed one line
//	GS ( k ...     1D 28 6B pL pH cn fn  QR code (cn 49): model (fn 65),
//	                                     module size (67), error
//	                                     correction (69), store (80),
//	                                     print (81)
//	GS h n         1D 68 n               barcode height in dots
//	GS w n         1D 77 n               barcode module width
//	GS H n         1D 48 n               barcode text: 0 none, 2 below
//	GS k 73 n d..  1D 6B 49 n {B data    Code 128, code set B
//	GS V 66 n      1D 56 42 n            feed to the cutter and cut,
//	                                     leaving a hinge (partial cut)
package escpos

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// Command bytes.
const (
	ESC = 0x1B
	GS  = 0x1D
	LF  = 0x0A
)

// CodePage is a printer code page, by its ESC t number in Epson's table.
type CodePage byte

// The code pages the writer can print text in. PC437 is every ESC/POS
// printer's default; PC858 is PC850 (Western European) with the euro sign.
const (
	PC437 CodePage = 0
	PC858 CodePage = 19
)

func (cp CodePage) charmap() *charmap.Charmap {
	if cp == PC858 {
		return charmap.CodePage858
	}
	return charmap.CodePage437
}

// String names the code page.
func (cp CodePage) String() string {
	switch cp {
	case PC437:
		return "PC437"
	case PC858:
		return "PC858"
	}
	return fmt.Sprintf("code page %d", byte(cp))
}

// Align is a line's alignment.
type Align byte

// Alignments, as ESC a numbers them.
const (
	Left   Align = 0
	Center Align = 1
	Right  Align = 2
)

// QR error correction levels, as GS ( k function 169 numbers them.
const (
	QRLevelL byte = 48 // 7 %
	QRLevelM byte = 49 // 15 %
	QRLevelQ byte = 50 // 25 %
	QRLevelH byte = 51 // 30 %
)

// Writer builds a command stream. Its methods append to it; Bytes is the
// stream. The zero Writer writes PC437 text.
type Writer struct {
	buf []byte
	cp  CodePage
}

// NewWriter returns a writer whose text is in code page cp.
func NewWriter(cp CodePage) *Writer { return &Writer{cp: cp} }

// Bytes is the stream written so far.
func (w *Writer) Bytes() []byte { return w.buf }

// Init resets the printer to its defaults (ESC @) and selects the
// writer's code page (ESC t).
func (w *Writer) Init() {
	w.buf = append(w.buf, ESC, '@', ESC, 't', byte(w.cp))
}

// Align aligns the lines that follow (ESC a); it takes effect at the
// start of a line.
func (w *Writer) Align(a Align) { w.buf = append(w.buf, ESC, 'a', byte(a)) }

// Bold turns emphasised printing on or off (ESC E).
func (w *Writer) Bold(on bool) {
	n := byte(0)
	if on {
		n = 1
	}
	w.buf = append(w.buf, ESC, 'E', n)
}

// Size sets the character size (GS !): width and height multipliers from
// 1 (normal) to 8. Double width halves the characters a line holds.
func (w *Writer) Size(width, height int) {
	width, height = min(max(width, 1), 8), min(max(height, 1), 8)
	w.buf = append(w.buf, GS, '!', byte((width-1)<<4|(height-1)))
}

// Text writes s in the code page (Encode): what cannot be printed is
// transliterated, control characters are dropped.
func (w *Writer) Text(s string) { w.buf = append(w.buf, Encode(w.cp, s)...) }

// Line writes s and ends the line (LF), which prints it.
func (w *Writer) Line(s string) {
	w.Text(s)
	w.buf = append(w.buf, LF)
}

// Feed prints what is buffered and feeds n lines (ESC d).
func (w *Writer) Feed(n int) { w.buf = append(w.buf, ESC, 'd', byte(min(max(n, 0), 255))) }

// QR prints a QR code (GS ( k, model 2) of data with modules of size dots
// (1–16) and error correction level (QRLevelL…QRLevelH). It prints on a
// line of its own, aligned as the current alignment says.
func (w *Writer) QR(data string, size int, level byte) error {
	if data == "" || len(data) > 7089 {
		return fmt.Errorf("escpos: QR data of %d bytes", len(data))
	}
	if level < QRLevelL || level > QRLevelH {
		return fmt.Errorf("escpos: QR error correction level %d", level)
	}
	size = min(max(size, 1), 16)
	w.buf = append(w.buf, GS, '(', 'k', 4, 0, 49, 65, 50, 0) // model 2
	w.buf = append(w.buf, GS, '(', 'k', 3, 0, 49, 67, byte(size))
	w.buf = append(w.buf, GS, '(', 'k', 3, 0, 49, 69, level)
	n := len(data) + 3
	w.buf = append(w.buf, GS, '(', 'k', byte(n), byte(n>>8), 49, 80, 48)
	w.buf = append(w.buf, data...)
	w.buf = append(w.buf, GS, '(', 'k', 3, 0, 49, 81, 48) // print
	return nil
}

// Code128 prints a Code 128 barcode of data (GS k 73, code set B: ASCII
// 32 to 126), height dots tall with modules width dots wide (2–6),
// without the printer's own text under it.
func (w *Writer) Code128(data string, height, width int) error {
	enc := "{B" + strings.ReplaceAll(data, "{", "{{") // a brace is sent twice in the data
	if data == "" || len(enc) > 255 {
		return fmt.Errorf("escpos: Code 128 data of %d bytes", len(data))
	}
	for _, r := range data {
		if r < 32 || r > 126 {
			return fmt.Errorf("escpos: Code 128 set B cannot encode %q", r)
		}
	}
	w.buf = append(w.buf, GS, 'h', byte(min(max(height, 1), 255)))
	w.buf = append(w.buf, GS, 'w', byte(min(max(width, 2), 6)))
	w.buf = append(w.buf, GS, 'H', 0)
	w.buf = append(w.buf, GS, 'k', 73, byte(len(enc)))
	w.buf = append(w.buf, enc...)
	return nil
}

// Cut feeds the paper to the cutter and cuts it, leaving a hinge (GS V 66
// 0: a partial cut, so the receipt does not fall).
func (w *Writer) Cut() { w.buf = append(w.buf, GS, 'V', 66, 0) }

// translit is what a character that no code page here has is printed as.
var translit = map[rune]string{
	'‘': "'", '’': "'", '‚': ",", '‛': "'", '′': "'",
	'“': `"`, '”': `"`, '„': `"`, '″': `"`,
	'–': "-", '—': "-", '‐': "-", '‑': "-", '−': "-",
	'…': "...", '•': "*", '·': ".", '€': "EUR", '×': "x",
	'\u00a0': " ", '\u2009': " ", '\u202f': " ",
	'Ł': "L", 'ł': "l", 'Đ': "D", 'đ': "d", 'Ø': "O", 'ø': "o",
	'Œ': "OE", 'œ': "oe", 'Æ': "AE", 'æ': "ae", 'ß': "ss", 'Þ': "Th", 'þ': "th",
	'\t': " ",
}

// Transliterate returns s as code page cp can print it, one character a
// column: a character cp has is kept; one with a diacritic it does not
// have loses the mark (the macrons of te reo Māori: ā → a); a few others
// are spelt out (’ → ', € → EUR in PC437); other control characters are
// dropped; anything else becomes ?.
func Transliterate(cp CodePage, s string) string {
	cm := cp.charmap()
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7F:
			b.WriteRune(r)
			continue
		case r == 0x7F || (r < 0x20 && r != '\t'):
			continue // control characters would be read as commands
		}
		if c, ok := cm.EncodeRune(r); ok && c >= 0x80 {
			b.WriteRune(r)
			continue
		}
		if t, ok := translit[r]; ok {
			if t == "EUR" && cp == PC858 {
				t = "€"
			}
			b.WriteString(t)
			continue
		}
		base := ""
		for _, d := range norm.NFD.String(string(r)) {
			if unicode.Is(unicode.Mn, d) {
				continue
			}
			if d >= 0x20 && d < 0x7F {
				base += string(d)
			} else if c, ok := cm.EncodeRune(d); ok && c >= 0x80 {
				base += string(d)
			}
		}
		if base == "" {
			base = "?"
		}
		b.WriteString(base)
	}
	return b.String()
}

// Encode returns s in code page cp's bytes, transliterated first
// (Transliterate): never a control byte.
func Encode(cp CodePage, s string) []byte {
	cm := cp.charmap()
	t := Transliterate(cp, s)
	out := make([]byte, 0, len(t))
	for _, r := range t {
		c, ok := cm.EncodeRune(r)
		if !ok {
			c = '?'
		}
		out = append(out, c)
	}
	return out
}

// Width is how many columns s takes when printed in cp at normal size.
func Width(cp CodePage, s string) int {
	return len([]rune(Transliterate(cp, s)))
}
