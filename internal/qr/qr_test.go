package qr_test

import (
	"bytes"
	"encoding/xml"
	"image"
	_ "image/png"
	"io"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/centrapos/centrapos/internal/qr"
)

// TestRoundTrip encodes urls of several lengths (so several QR versions)
// and decodes the PNG, mark included; the SVG must be well-formed XML.
func TestRoundTrip(t *testing.T) {
	for _, url := range []string{
		"https://app.centrapay.com/pay/1",
		"https://app.centrapay.com/pay/MhocUmpxxmgdHjr7DgKoKw",
		"http://127.0.0.1:8081/pay/pr0000000000000000000042?" + strings.Repeat("x", 120),
	} {
		code, err := qr.Encode(url)
		if err != nil {
			t.Fatal(err)
		}
		var png bytes.Buffer
		if err := code.PNG(&png, 4); err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(&png)
		if err != nil {
			t.Fatal(err)
		}
		bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
		res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
		if err != nil || res.GetText() != url {
			t.Errorf("%d-character url: decoded %v, %v", len(url), res, err)
		}
		var svg bytes.Buffer
		if err := code.SVG(&svg); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(&svg)
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("svg: %v", err)
			}
		}
	}
}
