package certify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/png" // the server's QR codes
	"net/http"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
)

// failf is a failed check.
func failf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// readPR reads a Payment Request from Centrapay itself, to check what
// reached it.
func (c *Check) readPR(ctx context.Context, id string) (*centrapay.PaymentRequest, error) {
	pr, _, err := c.env.Centrapay.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read Payment Request %s from Centrapay: %w", id, err)
	}
	c.PaymentRequest(id)
	c.Step("GET %s/api/payment-requests/%s → status %s", c.env.CentrapayURL, id, pr.Status)
	return pr, nil
}

// activities reads a Payment Request's activities from Centrapay.
func (c *Check) activities(ctx context.Context, id string) ([]centrapay.Activity, error) {
	as, _, err := c.env.Centrapay.Activities(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read the activities of %s from Centrapay: %w", id, err)
	}
	types := make([]string, len(as))
	for i, a := range as {
		types[i] = a.Type
	}
	c.Step("GET %s/api/payment-requests/%s/activities → %v", c.env.CentrapayURL, id, types)
	return as, nil
}

// activitiesOf returns the activities of type typ.
func activitiesOf(as []centrapay.Activity, typ string) []centrapay.Activity {
	var out []centrapay.Activity
	for _, a := range as {
		if a.Type == typ {
			out = append(out, a)
		}
	}
	return out
}

// withPR waits until the sale's Payment Request is known.
func (c *Check) withPR(ctx context.Context, s *Sale) (*Sale, error) {
	if s.prID() != "" && !s.PaymentRequest.ExpiresAt.IsZero() {
		return s, nil
	}
	got, err := c.waitSale(ctx, s.ID, func(s *Sale) bool {
		return s.prID() != "" && !s.PaymentRequest.ExpiresAt.IsZero() || s.Status.Final()
	})
	if err != nil {
		return nil, err
	}
	if got.prID() == "" {
		return nil, failf("sale %s ended %s without a Payment Request", s.ID, where(got))
	}
	c.Step("sale %s has Payment Request %s, short code %s", got.ID, got.prID(), got.PaymentRequest.ShortCode)
	return got, nil
}

// qrSale starts a QR sale of value cents (with extra fields) and waits
// for its Payment Request.
func (c *Check) qrSale(ctx context.Context, value int64, extra map[string]any) (*Sale, error) {
	in := map[string]any{"value": value, "flow": "qr"}
	for k, v := range extra {
		in[k] = v
	}
	s, err := c.startSale(ctx, in)
	if err != nil {
		return nil, err
	}
	return c.withPR(ctx, s)
}

// barcodeSale starts a barcode sale with the sandbox scenario's barcode.
func (c *Check) barcodeSale(ctx context.Context, scenario string, value int64, extra map[string]any) (*Sale, error) {
	code, err := c.scenario(ctx, scenario)
	if err != nil {
		return nil, err
	}
	in := map[string]any{"value": value, "flow": "barcode", "barcode": code}
	for k, v := range extra {
		in[k] = v
	}
	return c.startSale(ctx, in)
}

// paidQR is a QR sale the patron pays in the sandbox.
func (c *Check) paidQR(ctx context.Context, value int64, extra map[string]any) (*Sale, error) {
	s, err := c.qrSale(ctx, value, extra)
	if err != nil {
		return nil, err
	}
	if err := c.patron(ctx, s.prID(), "pay", nil); err != nil {
		return nil, err
	}
	return c.waitStatus(ctx, s.ID, pos.StatusPaid)
}

// cancelSale cancels a sale at the till and waits for it to end.
func (c *Check) cancelSale(ctx context.Context, id string) (*Sale, error) {
	var s Sale
	if _, err := c.api(ctx, http.MethodPost, "/api/v1/sales/"+id+"/cancel", nil, &s); err != nil {
		return nil, fmt.Errorf("cancel sale %s: %w", id, err)
	}
	c.Step("POST /api/v1/sales/%s/cancel → %s", id, s.Status)
	return c.waitSale(ctx, id, func(s *Sale) bool { return s.Status.Final() })
}

// scanQR fetches the sale's QR code as the server draws it and reads it
// as a phone would: the image and what it decodes to.
func (c *Check) scanQR(ctx context.Context, id string) (image.Image, string, error) {
	var b []byte
	if _, err := c.api(ctx, http.MethodGet, "/api/v1/sales/"+id+"/qr.png", nil, &b); err != nil {
		return nil, "", fmt.Errorf("QR code of sale %s: %w", id, err)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, "", fmt.Errorf("QR code of sale %s: %w", id, err)
	}
	c.Step("GET /api/v1/sales/%s/qr.png → %d bytes, %dx%d px", id, len(b), img.Bounds().Dx(), img.Bounds().Dy())
	got, err := decodeQR(img)
	if err != nil {
		return nil, "", fmt.Errorf("QR code of sale %s: %w", id, err)
	}
	return img, got, nil
}

// decodeQR decodes a QR code image.
func decodeQR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		return "", fmt.Errorf("the QR code does not decode: %w", err)
	}
	return res.GetText(), nil
}

// markInCentre reports whether the centre of a QR code holds a coloured
// mark (pixels that are neither black, white nor grey), and how many.
func markInCentre(img image.Image) (bool, int) {
	b := img.Bounds()
	cx, cy, r := b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()/2, b.Dx()/10
	coloured := 0
	for y := cy - r; y <= cy+r; y++ {
		for x := cx - r; x <= cx+r; x++ {
			R, G, B, _ := img.At(x, y).RGBA()
			hi, lo := max(R, G, B)>>8, min(R, G, B)>>8
			if hi-lo > 40 {
				coloured++
			}
		}
	}
	return coloured > (2*r+1)*(2*r+1)/20, coloured
}

// receiptText is the sale's receipt as plain text.
func (c *Check) receiptText(ctx context.Context, id string) (string, error) {
	var b []byte
	if _, err := c.api(ctx, http.MethodGet, "/api/v1/sales/"+id+"/receipt?format=text", nil, &b); err != nil {
		return "", fmt.Errorf("receipt of sale %s: %w", id, err)
	}
	c.Step("GET /api/v1/sales/%s/receipt?format=text (%d bytes)", id, len(b))
	return string(b), nil
}

// refund asks the server for a refund.
func (c *Check) refund(ctx context.Context, in map[string]any) (*pos.Op, error) {
	var op pos.Op
	status, err := c.api(ctx, http.MethodPost, "/api/v1/refunds", in, &op)
	if err != nil {
		return nil, fmt.Errorf("refund: %w", err)
	}
	c.PaymentRequest(op.PaymentRequestID)
	c.Step("POST /api/v1/refunds %s → %d, refund %s %s", compact(in), status, op.ID, op.State)
	if op.State != pos.OpSucceeded {
		return &op, failf("refund %s is %s (%s %s), not succeeded", op.ID, op.State, op.Error, op.Message)
	}
	return &op, nil
}

// syncClock brings a manual sandbox clock up to the real time (it only
// moves forward), so that Centrapay's expiresAt and the POS's clock agree
// as they would in production.
func (c *Check) syncClock(ctx context.Context) error {
	if c.env.SandboxURL == "" || !c.env.ManualClock {
		return nil
	}
	now, _, err := c.clockNow(ctx)
	if err != nil {
		return err
	}
	// a second ahead at least, so that it is not behind by the time the
	// next request is made (its clock stands still meanwhile)
	if behind := time.Until(now); behind < time.Second {
		return c.advance(ctx, int64((time.Second-behind+time.Second-1)/time.Second))
	}
	return nil
}

// authorisedPreAuth starts a pre-auth sale with the sandbox's pre-auth
// scenario and waits until it is authorised.
func (c *Check) authorisedPreAuth(ctx context.Context, value int64) (*Sale, error) {
	lines := []map[string]any{{"name": "Fuel (authorised)", "sku": "FUEL-91", "qty": "1", "price": fmt.Sprint(value)}}
	s, err := c.barcodeSale(ctx, "pre-auth", value, map[string]any{"preAuth": true, "lineItems": lines})
	if err != nil {
		return nil, err
	}
	got, err := c.waitSale(ctx, s.ID, func(s *Sale) bool {
		return s.PaymentRequest != nil && s.PaymentRequest.PreAuthStatus == "authorized" || s.Status.Final() && s.Status != pos.StatusPaid
	})
	if err != nil {
		return nil, err
	}
	if got.PaymentRequest == nil || got.PaymentRequest.PreAuthStatus != "authorized" {
		return nil, failf("pre-auth sale %s ended %s, not authorised", s.ID, where(got))
	}
	c.Step("pre-auth sale %s authorised: Payment Request %s, preAuthStatus %s, status %s", got.ID, got.prID(), got.PaymentRequest.PreAuthStatus, got.Status)
	return got, nil
}

// confirm confirms part of an authorised pre-auth and waits until the
// sale shows it confirmed.
func (c *Check) confirm(ctx context.Context, s *Sale, amount int64, invoice, key string) (*pos.Op, error) {
	in := map[string]any{"invoiceRef": invoice,
		"lineItems": []map[string]any{{"name": "Fuel", "sku": "FUEL-91", "qty": "1", "price": fmt.Sprint(amount)}}}
	if key != "" {
		in["idempotencyKey"] = key
	}
	var op pos.Op
	status, err := c.api(ctx, http.MethodPost, "/api/v1/sales/"+s.ID+"/confirmations", in, &op)
	if err != nil {
		return nil, fmt.Errorf("confirm: %w", err)
	}
	c.Step("POST /api/v1/sales/%s/confirmations %s → %d, %s %s (idempotency key %s, %d attempt(s))", s.ID, compact(in), status, op.ID, op.State, op.Key, op.Attempts)
	if op.State == pos.OpFailed {
		return &op, failf("confirmation refused: %s %s", op.Error, op.Message)
	}
	if _, err := c.waitSale(ctx, s.ID, func(s *Sale) bool { return s.Confirmed >= amount }); err != nil {
		return &op, fmt.Errorf("the sale never showed %d confirmed: %w", amount, err)
	}
	c.Step("sale %s shows %d cents confirmed", s.ID, amount)
	return &op, nil
}

// asAPIError is errors.As for an *apiError.
func asAPIError(err error) (*apiError, bool) {
	var e *apiError
	ok := errors.As(err, &e)
	return e, ok
}
