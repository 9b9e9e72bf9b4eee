// Package qr draws the QR code a customer display shows: high error
// correction, so the Centrapay mark in its centre does not stop it from
// decoding, as PNG or SVG.
package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// Centrapay's brand colours as used on the mark.
var (
	navy  = color.RGBA{0x0b, 0x1f, 0x4d, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
	dark  = color.RGBA{0x10, 0x10, 0x10, 0xff}
)

// Code is an encoded QR code.
type Code struct {
	bits [][]bool // [x][y], true is dark
	n    int
}

const quiet = 4 // modules of white border, as the standard asks

// Encode encodes text with the highest error correction (30 %).
func Encode(text string) (*Code, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionHighest))
	if err != nil {
		return nil, fmt.Errorf("qr: encode: %w", err)
	}
	var c Code
	if err := q.Save(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Write and Close make Code a qrcode.Writer that keeps the matrix.
func (c *Code) Write(m qrcode.Matrix) error {
	c.bits = m.Bitmap()
	c.n = len(c.bits)
	return nil
}

// Close is a no-op.
func (c *Code) Close() error { return nil }

// logoBox is the centre square, in modules, that the mark covers: about
// 6 % of the symbol, well within what error correction restores.
func (c *Code) logoBox() (lo, hi int) {
	size := c.n / 4
	if size%2 != c.n%2 {
		size++
	}
	lo = (c.n - size) / 2
	return lo, lo + size
}

func (c *Code) dark(x, y int) bool {
	lo, hi := c.logoBox()
	if x >= lo && x < hi && y >= lo && y < hi {
		return false
	}
	return c.bits[x][y]
}

// PNG writes the code with scale pixels a module and the mark drawn in.
func (c *Code) PNG(w io.Writer, scale int) error {
	if scale < 1 {
		scale = 8
	}
	size := (c.n + 2*quiet) * scale
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for x := 0; x < c.n; x++ {
		for y := 0; y < c.n; y++ {
			if c.dark(x, y) {
				fill(img, (x+quiet)*scale, (y+quiet)*scale, scale, scale, dark)
			}
		}
	}
	lo, hi := c.logoBox()
	cx := float64((lo+hi)/2+quiet) * float64(scale)
	if (hi-lo)%2 == 1 {
		cx += float64(scale) / 2
	}
	r := float64(hi-lo) * float64(scale) / 2
	for px := 0; px < size; px++ {
		for py := 0; py < size; py++ {
			dx, dy := float64(px)+.5-cx, float64(py)+.5-cx
			d := math.Sqrt(dx*dx + dy*dy)
			if d > r {
				continue
			}
			col := navy
			if d >= 0.45*r && d <= 0.8*r && !(dx > 0 && math.Abs(dy) < 0.6*dx) {
				col = white // the "C" of the mark
			}
			img.SetRGBA(px, py, col)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func fill(img *image.RGBA, x, y, w, h int, c color.RGBA) {
	for i := x; i < x+w; i++ {
		for j := y; j < y+h; j++ {
			img.SetRGBA(i, j, c)
		}
	}
}

// SVG writes the code as a scalable SVG with the mark in its centre.
func (c *Code) SVG(w io.Writer) error {
	size := c.n + 2*quiet
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR code to pay with Centrapay">`, size, size)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#101010" d="`, size, size)
	for y := 0; y < c.n; y++ {
		for x := 0; x < c.n; x++ {
			if c.dark(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	lo, hi := c.logoBox()
	mid := float64(lo+hi)/2 + quiet
	r := float64(hi-lo) / 2
	fmt.Fprintf(&b, `"/><circle cx="%.2f" cy="%.2f" r="%.2f" fill="#0b1f4d"/>`, mid, mid, r)
	fmt.Fprintf(&b, `<path d="M%.2f %.2f A%.2f %.2f 0 1 0 %.2f %.2f" fill="none" stroke="#fff" stroke-width="%.2f"/>`,
		mid+r*0.5, mid-r*0.45, r*0.68, r*0.68, mid+r*0.5, mid+r*0.45, r*0.3)
	b.WriteString(`</svg>`)
	_, err := w.Write(b.Bytes())
	return err
}
