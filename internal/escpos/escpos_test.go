package escpos_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/centrapos/centrapos/internal/escpos"
)

// TestEscposCommandBytes: each command is the byte sequence of Epson's
// ESC/POS command reference.
func TestEscposCommandBytes(t *testing.T) {
	for name, c := range map[string]struct {
		write func(w *escpos.Writer)
		want  []byte
	}{
		// ESC @ (1B 40), then ESC t n (1B 74 n): PC437 is page 0, PC858 page 19
		"init PC437": {func(w *escpos.Writer) { w.Init() }, []byte{0x1B, 0x40, 0x1B, 0x74, 0x00}},
		// ESC a n: 0 left, 1 centred, 2 right
		"align left":   {func(w *escpos.Writer) { w.Align(escpos.Left) }, []byte{0x1B, 0x61, 0x00}},
		"align centre": {func(w *escpos.Writer) { w.Align(escpos.Center) }, []byte{0x1B, 0x61, 0x01}},
		"align right":  {func(w *escpos.Writer) { w.Align(escpos.Right) }, []byte{0x1B, 0x61, 0x02}},
		// ESC E n: emphasised on when n's lowest bit is 1
		"bold on":  {func(w *escpos.Writer) { w.Bold(true) }, []byte{0x1B, 0x45, 0x01}},
		"bold off": {func(w *escpos.Writer) { w.Bold(false) }, []byte{0x1B, 0x45, 0x00}},
		// GS ! n: bits 4–6 width − 1, bits 0–2 height − 1; 0x11 double
		"double size": {func(w *escpos.Writer) { w.Size(2, 2) }, []byte{0x1D, 0x21, 0x11}},
		"double wide": {func(w *escpos.Writer) { w.Size(2, 1) }, []byte{0x1D, 0x21, 0x10}},
		"normal size": {func(w *escpos.Writer) { w.Size(1, 1) }, []byte{0x1D, 0x21, 0x00}},
		// ESC d n: print and feed n lines
		"feed 3": {func(w *escpos.Writer) { w.Feed(3) }, []byte{0x1B, 0x64, 0x03}},
		// text, then LF (0A)
		"line": {func(w *escpos.Writer) { w.Line("Hi") }, []byte{'H', 'i', 0x0A}},
		// GS V m n, function B: m = 66 feeds to the cutter and cuts partially
		"cut": {func(w *escpos.Writer) { w.Cut() }, []byte{0x1D, 0x56, 0x42, 0x00}},
		// GS ( k: cn 49; fn 65 model (n1 50 = model 2, n2 0), fn 67 module
		// size, fn 69 level (48 L … 51 H), fn 80 store (m 48, pL pH = k + 3),
		// fn 81 print (m 48)
		"qr": {func(w *escpos.Writer) { w.QR("ABC", 6, escpos.QRLevelM) }, []byte{
			0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00,
			0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06,
			0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31,
			0x1D, 0x28, 0x6B, 0x06, 0x00, 0x31, 0x50, 0x30, 'A', 'B', 'C',
			0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30}},
		// GS h n height, GS w n module width, GS H 0 no text, then
		// GS k m n d1…dn with m = 73 (CODE128): d1 d2 = "{B" selects code set
		// B, and n counts them; a "{" in the data is sent as "{{"
		"code 128": {func(w *escpos.Writer) { w.Code128("CP-{1", 80, 2) }, []byte{
			0x1D, 0x68, 80, 0x1D, 0x77, 2, 0x1D, 0x48, 0,
			0x1D, 0x6B, 0x49, 8, '{', 'B', 'C', 'P', '-', '{', '{', '1'}},
	} {
		w := escpos.NewWriter(escpos.PC437)
		c.write(w)
		if !bytes.Equal(w.Bytes(), c.want) {
			t.Errorf("%s: % X, want % X", name, w.Bytes(), c.want)
		}
	}
	w := escpos.NewWriter(escpos.PC858)
	w.Init()
	if want := []byte{0x1B, 0x40, 0x1B, 0x74, 19}; !bytes.Equal(w.Bytes(), want) {
		t.Errorf("init PC858: % X, want % X", w.Bytes(), want)
	}
}

// TestEscposQRLongData: the store function's length is two bytes, low
// first.
func TestEscposQRLongData(t *testing.T) {
	w := escpos.NewWriter(escpos.PC437)
	data := strings.Repeat("x", 300)
	if err := w.QR(data, 4, escpos.QRLevelL); err != nil {
		t.Fatal(err)
	}
	store := []byte{0x1D, 0x28, 0x6B, 0x2F, 0x01, 0x31, 0x50, 0x30} // 303 = 0x012F
	if !bytes.Contains(w.Bytes(), store) {
		t.Errorf("no store header % X in % X", store, w.Bytes()[:40])
	}
	cmds, err := escpos.Decode(w.Bytes())
	if err != nil || cmds[3].Name != "QR store" || cmds[3].Text != data {
		t.Errorf("decoded %v %+v", err, cmds)
	}
}

// TestEscposText: text is in the code page; what it lacks is spelt as
// near as it can be, never as a control byte.
func TestEscposText(t *testing.T) {
	for _, c := range []struct {
		cp   escpos.CodePage
		in   string
		want []byte
	}{
		{escpos.PC437, "Café", []byte("Caf\x82")},
		{escpos.PC858, "Café", []byte("Caf\x82")},
		{escpos.PC437, "Māori kai: Tāmaki Makaurau", []byte("Maori kai: Tamaki Makaurau")},
		{escpos.PC437, "Joe’s “best” – 2×", []byte(`Joe's "best" - 2x`)},
		{escpos.PC858, "2×€5", []byte("2\x9e\xd5" + "5")},
		{escpos.PC437, "€5", []byte("EUR5")},
		{escpos.PC437, "a\x1bb\x1dc\nd\te", []byte("abcd e")},
		{escpos.PC437, "日本", []byte("??")},
	} {
		if got := escpos.Encode(c.cp, c.in); !bytes.Equal(got, c.want) {
			t.Errorf("%s %q: %q, want %q", c.cp, c.in, got, c.want)
		}
		if got, want := escpos.Width(c.cp, c.in), len(c.want); got != want {
			t.Errorf("%s %q: width %d, want %d", c.cp, c.in, got, want)
		}
	}
}

// TestEscposDecodeRoundTrip: Decode reads back what the writer wrote.
func TestEscposDecodeRoundTrip(t *testing.T) {
	w := escpos.NewWriter(escpos.PC858)
	w.Init()
	w.Align(escpos.Center)
	w.Bold(true)
	w.Size(2, 2)
	w.Line("Centrapay Café")
	w.Size(1, 1)
	w.Bold(false)
	w.Align(escpos.Left)
	w.Line("Flat white x2          10.00")
	if err := w.QR("CP-C7F-ZS5", 6, escpos.QRLevelM); err != nil {
		t.Fatal(err)
	}
	if err := w.Code128("CP-C7F-ZS5", 80, 2); err != nil {
		t.Fatal(err)
	}
	w.Feed(4)
	w.Cut()
	cmds, err := escpos.Decode(w.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	want := []string{"ESC @", "ESC t", "ESC a", "ESC E", "GS !", "text", "GS !", "ESC E", "ESC a", "text",
		"QR model", "QR size", "QR level", "QR store", "QR print", "GS h", "GS w", "GS H", "Code 128", "ESC d", "GS V"}
	if !slices.Equal(names, want) {
		t.Errorf("commands %q\nwant %q", names, want)
	}
	if got := escpos.Lines(cmds); !slices.Equal(got, []string{"Centrapay Café", "Flat white x2          10.00"}) {
		t.Errorf("lines %q", got)
	}
	if cmds[13].Text != "CP-C7F-ZS5" || cmds[18].Text != "CP-C7F-ZS5" || cmds[10].Arg != 2 || cmds[12].Arg != 49 {
		t.Errorf("codes %+v", cmds[10:19])
	}
}

// TestEscposDecodeRefuses: Decode refuses what the writer never writes.
func TestEscposDecodeRefuses(t *testing.T) {
	for name, b := range map[string][]byte{
		"unknown command":  {0x1B, 0x40, 0x1B, 0x21, 0x00},
		"control byte":     {'a', 0x07, 0x0A},
		"unended text":     {'a', 'b'},
		"truncated":        {0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31},
		"code set A":       {0x1D, 0x6B, 0x49, 0x03, '{', 'A', 'x'},
		"other barcode":    {0x1D, 0x6B, 0x04, 0x02, 'A', 'B'},
		"align mid-line":   {'a', 0x1B, 0x61, 0x01, 0x0A},
		"qr model 1":       {0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x33, 0x00},
		"code page 16":     {0x1B, 0x74, 16},
		"single brace":     {0x1D, 0x6B, 0x49, 0x04, '{', 'B', '{', 'x'},
		"cut, function A?": {0x1D, 0x56, 0x00, 0x00},
	} {
		if _, err := escpos.Decode(b); err == nil {
			t.Errorf("%s: % X decoded", name, b)
		}
	}
}

// TestEscposCode128Refuses: Code 128 set B is printable ASCII.
func TestEscposCode128Refuses(t *testing.T) {
	w := escpos.NewWriter(escpos.PC437)
	for _, data := range []string{"", "café", "a\nb", strings.Repeat("x", 254)} {
		if err := w.Code128(data, 80, 2); err == nil {
			t.Errorf("%q encoded", data)
		}
	}
	if len(w.Bytes()) != 0 {
		t.Errorf("wrote % X", w.Bytes())
	}
}
