package certify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/centrapos/centrapos/pos"
)

// 101.2: the payment method shown is paidBy's description.
func check1012(ctx context.Context, c *Check) error {
	b, berr := c.browser() // optional here: the customer display follows the sale when it is open
	s, err := c.qrSale(ctx, 1250, nil)
	if err != nil {
		return err
	}
	if b != nil {
		// the patron pays once the display shows the code, as in a store
		if err := until(b.display, qrShown(s.ID)); err != nil {
			return failf("the customer display does not show the sale: %v", err)
		}
	}
	if err := c.patron(ctx, s.prID(), "pay", nil); err != nil {
		return err
	}
	if s, err = c.waitStatus(ctx, s.ID, pos.StatusPaid); err != nil {
		return err
	}
	if len(s.PaidBy) == 0 || s.PaidBy[0].Description == "" {
		return failf("the paid sale names no payment method (paidBy %+v)", s.PaidBy)
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	if pr.PaidBy == nil || len(pr.PaidBy.AssetTotals) == 0 {
		return failf("Centrapay's Payment Request has no paidBy")
	}
	want := pr.PaidBy.AssetTotals[0].Description
	c.Fact("paidBy description at Centrapay", "%s (%s)", want, pr.PaidBy.AssetTotals[0].Type)
	c.Fact("payment method the POS shows", "%s", s.PaidBy[0].Description)
	if s.PaidBy[0].Description != want {
		return failf("the POS shows %q, Centrapay's paidBy says %q", s.PaidBy[0].Description, want)
	}
	r, err := c.receiptText(ctx, s.ID)
	if err != nil {
		return err
	}
	if !strings.Contains(r, want) {
		return failf("the receipt does not name the payment method %q:\n%s", want, r)
	}
	c.Fact("receipt line", "%s", lineWith(r, want))
	c.Summary("the POS shows %q, the description in Centrapay's paidBy, on the receipt (customer display: no browser)", want)
	if b == nil {
		c.Step("customer display not shown (%v): the receipt is the customer-facing evidence", berr)
		return nil
	}
	if err := until(b.display, fmt.Sprintf("document.getElementById('paid-by') && document.getElementById('paid-by').innerText.includes(%q)", want)); err != nil {
		return failf("the customer display does not show the payment method: %v", err)
	}
	if err := c.shot(b.display, "customer-display"); err != nil {
		return err
	}
	c.Summary("the POS shows %q, the description in Centrapay's paidBy, on the receipt and the customer display (screenshots)", want)
	if err := do(b.cashier, chromedp.Navigate(strings.TrimRight(c.env.POSURL, "/")+"/api/v1/sales/"+s.ID+"/receipt"),
		chromedp.WaitVisible(chromedp.CSS("#r-code"))); err != nil {
		return failf("receipt page: %v", err)
	}
	return c.shot(b.cashier, "receipt")
}

// qrShown is a JavaScript condition: the customer display shows sale id's
// QR code.
func qrShown(id string) string {
	return fmt.Sprintf("(() => { const q = document.getElementById('qr'); return q && !q.hidden && q.naturalWidth > 0 && q.src.includes(%q); })()", id)
}

// lineWith is the first line of text holding s.
func lineWith(text, s string) string {
	for l := range strings.SplitSeq(text, "\n") {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// 101.3: the option reads Centrapay, with the mark.
func check1013(ctx context.Context, c *Check) error {
	b, err := c.browser()
	if err != nil {
		return err
	}
	if err := b.cashierHome(c.env.POSURL); err != nil {
		return failf("cashier page: %v", err)
	}
	label, err := text(b.cashier, "#pay-qr")
	if err != nil {
		return err
	}
	c.Fact("payment option label", "%q", strings.TrimSpace(label))
	if strings.TrimSpace(label) != "Centrapay" {
		return failf(`the payment option reads %q, not "Centrapay"`, strings.TrimSpace(label))
	}
	ok, err := eval(b.cashier, `(() => { const m = document.querySelector("#pay-qr img.mark"); return !!m && m.complete && m.naturalWidth > 0; })()`)
	if err != nil || !ok {
		return failf("the Centrapay mark is not shown on the payment option (%v)", err)
	}
	c.Fact("mark", "img.mark loaded in the Centrapay button")
	c.Summary(`the cashier's payment option reads "Centrapay", with the Centrapay mark (screenshot)`)
	return c.shot(b.cashier, "cashier")
}

// 101.5: the QR code decodes and carries the mark.
func check1015(ctx context.Context, c *Check) error {
	b, berr := c.browser()
	s, err := c.qrSale(ctx, 990, nil)
	if err != nil {
		return err
	}
	img, got, err := c.scanQR(ctx, s.ID)
	if err != nil {
		return err
	}
	c.Fact("QR code decodes to", "%s", got)
	c.Fact("Payment Request url", "%s", s.PaymentRequest.URL)
	if got != s.PaymentRequest.URL {
		return failf("the QR code decodes to %q, not the Payment Request url %q", got, s.PaymentRequest.URL)
	}
	ok, n := markInCentre(img)
	c.Fact("coloured pixels in the centre (the mark)", "%d", n)
	if !ok {
		return failf("no Centrapay mark in the centre of the QR code")
	}
	c.Summary("the QR code carries the Centrapay mark and decodes to the Payment Request url %s", got)
	if b == nil {
		c.Step("screenshots not taken: %v", berr)
		return nil
	}
	if err := until(b.display, qrShown(s.ID)); err != nil {
		return failf("the customer display does not show the sale's QR code: %v", err)
	}
	return c.shot(b.display, "customer-display-qr")
}

// 102.1: the key is nowhere a client or a log sees it.
func check1021(ctx context.Context, c *Check) error {
	if c.env.APIKey == "" {
		return failf("no API key to look for")
	}
	key := c.env.APIKey
	var places []string
	look := func(what string, body []byte) error {
		places = append(places, what)
		if strings.Contains(string(body), key) {
			return failf("the API key appears in %s", what)
		}
		return nil
	}
	s, err := c.qrSale(ctx, 500, nil)
	if err != nil {
		return err
	}
	var body []byte
	for _, p := range []string{"/api/v1/sales/" + s.ID, "/api/v1/sales?limit=50", "/api/v1/sales/" + s.ID + "/receipt", "/api/v1/openapi.yaml", "/api/v1/reports/transactions"} {
		if _, err := c.api(ctx, http.MethodGet, p, nil, &body); err != nil {
			return err
		}
		if err := look("GET "+p, body); err != nil {
			return err
		}
	}
	// the pages and their scripts, as a browser gets them
	for _, p := range []string{"/", "/display/" + c.till().ID} {
		page, err := c.get(ctx, p)
		if err != nil {
			return err
		}
		if err := look("page "+p, page); err != nil {
			return err
		}
		for _, m := range regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllSubmatch(page, -1) {
			asset, err := c.get(ctx, string(m[1]))
			if err != nil {
				return err
			}
			if err := look(string(m[1]), asset); err != nil {
				return err
			}
		}
	}
	if n := c.env.Logs.Redacted(); n > 0 {
		return failf("the server wrote the API key into its log %d time(s) (redacted in this evidence)", n)
	}
	places = append(places, fmt.Sprintf("the server log so far (%d lines)", c.env.Logs.Mark()))
	c.Fact("looked for the key in", "%s", strings.Join(places, "; "))
	c.Fact("evidence folder", "checked for the key when the report is written (the run fails if it is there)")
	return manual("the key is exposed in none of %d places checked; a person documents its storage, access and rotation", len(places))
}

// get fetches a page of the server as an anonymous browser would.
func (c *Check) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.env.POSURL, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.session.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	c.requestID(resp.Header.Get("X-Request-Id"))
	return io.ReadAll(io.LimitReader(resp.Body, 8<<20))
}

// 102.3: the request was made with the configured key.
func check1023(ctx context.Context, c *Check) error {
	s, err := c.qrSale(ctx, 700, nil)
	if err != nil {
		return err
	}
	as, err := c.activities(ctx, s.prID())
	if err != nil {
		return err
	}
	req := activitiesOf(as, "request")
	if len(req) == 0 {
		return failf("Centrapay lists no request activity for %s", s.prID())
	}
	c.Fact("Payment Request", "%s", s.prID())
	c.Fact("created by (Centrapay's request activity)", "%s", orNone(req[0].CreatedBy))
	if !strings.Contains(req[0].CreatedBy, ":api-key:") {
		return failf("the request was not created by an API key (createdBy %q)", req[0].CreatedBy)
	}
	if c.env.SandboxURL == "" {
		return manual("Payment Request %s was created with the configured key (%s); confirm in the Business Portal that its role is merchant-terminal", s.prID(), req[0].CreatedBy)
	}
	c.Step("the sandbox issues only merchant-terminal keys; the server has no other key to use")
	return nil
}

// 102.4: each location's requests carry its config.
func check1024(ctx context.Context, c *Check) error {
	if len(c.env.Terminals) < 2 || c.env.Terminals[1].ConfigID == c.env.Terminals[0].ConfigID {
		return skip("needs two tills with different merchant configs (against Centrapay: --config-id A,B)")
	}
	seen := map[string]string{}
	for _, t := range c.env.Terminals[:2] {
		s, err := c.startSaleAs(ctx, t, map[string]any{"value": 300, "flow": "qr"})
		if err != nil {
			return err
		}
		if s, err = c.withPR(ctx, s); err != nil {
			return err
		}
		pr, err := c.readPR(ctx, s.prID())
		if err != nil {
			return err
		}
		c.Fact("till "+t.ID, "Payment Request %s, configId %s (till's config %s)", pr.ID, pr.ConfigID, t.ConfigID)
		if pr.ConfigID != t.ConfigID {
			return failf("Payment Request %s has configId %s; till %s is in config %s", pr.ID, pr.ConfigID, t.ID, t.ConfigID)
		}
		seen[pr.ConfigID] = pr.ID
	}
	if len(seen) != 2 {
		return failf("the two tills' requests share one config")
	}
	c.Summary("each till's Payment Request carries its own merchant config: %d configs, %d requests", len(seen), len(seen))
	return nil
}

// 103.1: the POS timeout is 5–10 s after Centrapay's expiry.
func check1031(ctx context.Context, c *Check) error {
	if err := c.syncClock(ctx); err != nil {
		return err
	}
	s, err := c.qrSale(ctx, 1500, nil)
	if err != nil {
		return err
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	expires, timeout := pr.ExpiresAt.Time, s.TimeoutAt
	diff := timeout.Sub(expires)
	c.Fact("Payment Request createdAt (Centrapay)", "%s", ts(pr.CreatedAt.Time))
	c.Fact("expirySeconds (Centrapay)", "%d", pr.ExpirySeconds)
	c.Fact("expiresAt (Centrapay)", "%s", ts(expires))
	c.Fact("POS timeout (timeoutAt)", "%s", ts(timeout))
	c.Fact("POS timeout − expiresAt", "%s", diff)
	if !s.PaymentRequest.ExpiresAt.Equal(expires) {
		return failf("the POS holds expiresAt %s, Centrapay says %s", ts(s.PaymentRequest.ExpiresAt), ts(expires))
	}
	if diff < 5*time.Second || diff > 10*time.Second {
		return failf("the POS times out %s after the request expires; Centrapay asks for 5–10 s", diff)
	}
	// the sale waits for Centrapay's expiry, and ends expired, not voided
	switch {
	case c.env.SandboxURL != "" && c.env.ManualClock:
		now, _, err := c.clockNow(ctx)
		if err != nil {
			return err
		}
		if err := c.advance(ctx, int64(expires.Sub(now)/time.Second)-1); err != nil {
			return err
		}
		cur, err := c.sale(ctx, s.ID)
		if err != nil {
			return err
		}
		c.Step("1 s before expiresAt the sale is %s", cur.Status)
		if cur.Status != pos.StatusPending {
			return failf("1 s before the request expires the sale is already %s", where(cur))
		}
		if err := c.advance(ctx, 2); err != nil {
			return err
		}
	default:
		c.Step("waiting in real time for the request to expire at %s (%s from now)", ts(expires), time.Until(expires).Round(time.Second))
	}
	end, err := c.waitSale(ctx, s.ID, func(s *Sale) bool { return s.Status.Final() })
	if err != nil {
		return err
	}
	c.Step("sale %s ended %s (Payment Request %s)", end.ID, where(end), prStatus(end))
	c.Fact("sale ended", "%s at %s", end.Status, ts(end.UpdatedAt))
	if end.Status != pos.StatusExpired {
		return failf("the sale ended %s, not expired", where(end))
	}
	if pr, err = c.readPR(ctx, s.prID()); err != nil {
		return err
	}
	if pr.Status != "expired" {
		return failf("Centrapay shows the request %s, not expired: the POS voided it before it expired", pr.Status)
	}
	c.Summary("POS timeout %s after Centrapay's expiresAt (%s → %s); the sale waited and ended expired with Centrapay", diff, ts(expires), ts(timeout))
	return nil
}

// 103.2: unknown errors are retried.
func check1032(ctx context.Context, c *Check) error {
	// a poll answered 503 once
	s, err := c.qrSale(ctx, 2200, nil)
	if err != nil {
		return err
	}
	path := "/api/payment-requests/" + s.prID()
	mark := c.env.Logs.Mark()
	if err := c.addFault(ctx, fault{Method: http.MethodGet, Path: path, Kind: "status", Status: 503, Count: 1}); err != nil {
		return err
	}
	first := c.env.Logs.Wait(ctx, mark, "centrapay call", "path="+path, "status=503", "attempt=1")
	retry := c.env.Logs.Wait(ctx, mark, "centrapay call", "path="+path, "status=200", "attempt=2")
	if first == "" || retry == "" {
		return failf("no retry of the poll answered 503 in the server log")
	}
	c.Fact("poll answered 503", "%s", first)
	c.Fact("retried", "%s", retry)
	if err := c.patron(ctx, s.prID(), "pay", nil); err != nil {
		return err
	}
	if _, err := c.waitStatus(ctx, s.ID, pos.StatusPaid); err != nil {
		return err
	}
	// a create whose answer is lost: found by externalRef, not made twice
	ref := c.session.ref("1032")
	mark = c.env.Logs.Mark()
	if err := c.addFault(ctx, fault{Method: http.MethodPost, Path: "/api/payment-requests", Kind: "drop-after-commit", Count: 1}); err != nil {
		return err
	}
	s2, err := c.startSale(ctx, map[string]any{"value": 2300, "flow": "qr", "externalRef": ref})
	if err != nil {
		e, ok := asAPIError(err)
		if !ok || e.Status != http.StatusServiceUnavailable {
			return err
		}
		c.Step("the till was told %s; it looks the sale up", e)
		if s2, err = c.saleByRef(ctx, ref); err != nil {
			return err
		}
		c.session.open[s2.ID] = c.till().Token
	}
	if s2, err = c.withPR(ctx, s2); err != nil {
		return err
	}
	if l := c.env.Logs.Wait(ctx, mark, "create outcome unknown"); l != "" {
		c.Fact("create answer lost", "%s", l)
	}
	l, err := c.ledger(ctx)
	if err != nil {
		return err
	}
	var made []string
	for _, e := range l {
		if e.ExternalRef == ref {
			made = append(made, e.ID)
		}
	}
	c.Fact("Payment Requests at Centrapay with externalRef "+ref, "%v", made)
	if len(made) != 1 || made[0] != s2.prID() {
		return failf("after the lost create answer Centrapay has %d requests with externalRef %s (%v); the sale holds %s", len(made), ref, made, s2.prID())
	}
	c.Summary("a poll answered 503 was retried at once and the sale was paid; a create whose answer was lost was found by externalRef (one Payment Request, %s)", s2.prID())
	return nil
}

// saleByRef finds this till's sale by its externalRef.
func (c *Check) saleByRef(ctx context.Context, ref string) (*Sale, error) {
	var page struct {
		Items []Sale `json:"items"`
	}
	if _, err := c.api(ctx, http.MethodGet, "/api/v1/sales?limit=20", nil, &page); err != nil {
		return nil, err
	}
	for i := range page.Items {
		if page.Items[i].ExternalRef == ref {
			return &page.Items[i], nil
		}
	}
	return nil, failf("no sale with externalRef %s", ref)
}

// 103.3: a status that cannot be learned is voided.
func check1033(ctx context.Context, c *Check) error {
	s, err := c.qrSale(ctx, 3300, nil)
	if err != nil {
		return err
	}
	path := "/api/payment-requests/" + s.prID()
	mark := c.env.Logs.Mark()
	// every attempt of one poll fails (the client makes 4)
	if err := c.addFault(ctx, fault{Method: http.MethodGet, Path: path, Kind: "html", Status: 502, Count: 4}); err != nil {
		return err
	}
	end, err := c.waitSale(ctx, s.ID, func(s *Sale) bool { return s.Status.Final() })
	if err != nil {
		return err
	}
	failed := c.env.Logs.Count(mark, "centrapay call", "path="+path, "status=502")
	void := c.env.Logs.Wait(ctx, mark, "centrapay call", "path="+path+"/void")
	c.Fact("failed attempts of the poll", "%d", failed)
	c.Fact("void call", "%s", orNone(void))
	c.Fact("sale", "%s; voidReason %q", where(end), end.VoidReason)
	if failed < 2 {
		return failf("the poll was not retried before giving up (%d failed attempts)", failed)
	}
	if void == "" {
		return failf("no void was sent after the status could not be learned")
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	c.Fact("at Centrapay", "%s %s", pr.Status, pr.CancellationReason)
	if pr.Status != "cancelled" || end.Status != pos.StatusCancelled {
		return failf("the request is %s at Centrapay and the sale %s: not voided", pr.Status, end.Status)
	}
	c.Summary("%d failed attempts of the poll, then the POS voided %s: %s %s at Centrapay", failed, pr.ID, pr.Status, pr.CancellationReason)
	return nil
}

// 103.4: malformed and unexpected answers are survived.
func check1034(ctx context.Context, c *Check) error {
	s, err := c.qrSale(ctx, 4400, nil)
	if err != nil {
		return err
	}
	path := "/api/payment-requests/" + s.prID()
	kinds := []fault{
		{Kind: "html", Status: 502}, {Kind: "truncated"}, {Kind: "empty"},
		{Kind: "status", Status: 500}, {Kind: "status", Status: 503}, {Kind: "status", Status: 504},
	}
	for _, f := range kinds {
		f.Method, f.Path, f.Count = http.MethodGet, path, 1
		mark := c.env.Logs.Mark()
		if err := c.addFault(ctx, f); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		bad := c.env.Logs.Wait(wctx, mark, "centrapay call", "path="+path, "attempt=1", "err=\"")
		good := c.env.Logs.Wait(wctx, mark, "centrapay call", "path="+path, "attempt=2", "status=200")
		cancel()
		name := f.Kind
		if f.Status != 0 {
			name = fmt.Sprintf("%s %d", f.Kind, f.Status)
		}
		if bad == "" || good == "" {
			return failf("%s: the poll was not seen failing and then retried in the server log", name)
		}
		c.Fact(name, "%s", excerpt(bad))
		cur, err := c.sale(ctx, s.ID)
		if err != nil {
			return err
		}
		if cur.Status != pos.StatusPending {
			return failf("after %s the sale is %s, not still pending", name, where(cur))
		}
	}
	c.Fact("not injected", "missing fields and TLS failures: the sandbox cannot produce them (the client's checks are in centrapay's tests)")
	if err := c.patron(ctx, s.prID(), "pay", nil); err != nil {
		return err
	}
	if _, err := c.waitStatus(ctx, s.ID, pos.StatusPaid); err != nil {
		return err
	}
	// an abrupt disconnect: on a poll Go's transport retries by itself, so
	// it is shown on a refund, which the client retries with its reference
	refundPath := path + "/refund"
	mark := c.env.Logs.Mark()
	if err := c.addFault(ctx, fault{Method: http.MethodPost, Path: refundPath, Kind: "reset", Count: 1}); err != nil {
		return err
	}
	if _, err := c.refund(ctx, map[string]any{"saleId": s.ID, "value": 400, "reason": "certify: refund across a reset connection"}); err != nil {
		return err
	}
	reset := c.env.Logs.Wait(ctx, mark, "centrapay call", "path="+refundPath, "attempt=1", "err=\"")
	if reset == "" {
		return failf("reset: the refund was not seen failing on the reset connection in the server log")
	}
	c.Fact("reset (refund)", "%s", excerpt(reset))
	as, err := c.activities(ctx, s.prID())
	if err != nil {
		return err
	}
	if n := len(activitiesOf(as, "refund")); n != 1 {
		return failf("after the reset Centrapay lists %d refunds, not 1", n)
	}
	h, err := c.get(ctx, "/healthz")
	if err != nil {
		return err
	}
	c.Fact("GET /healthz afterwards", "%s", strings.TrimSpace(string(h)))
	if !strings.Contains(string(h), `"ok"`) {
		return failf("the server is not healthy afterwards: %s", h)
	}
	c.Summary("%d bad poll answers (HTML, truncated, empty, 500/503/504) and a reset connection were retried; the sale was paid and refunded once; the server stayed healthy", len(kinds))
	return nil
}

// excerpt shortens a log line to its message and fields.
func excerpt(l string) string {
	if i := strings.Index(l, "msg="); i >= 0 {
		return l[i:]
	}
	return l
}

// 103.5: ids and short codes are kept.
func check1035(ctx context.Context, c *Check) error {
	if _, err := c.qrSale(ctx, 1100, nil); err != nil {
		return err
	}
	var page struct {
		Items []Sale `json:"items"`
	}
	if _, err := c.api(ctx, http.MethodGet, "/api/v1/sales?limit=200", nil, &page); err != nil {
		return err
	}
	prefix := "CERT-" + c.session.runID + "-"
	journaled := map[string]string{} // request id → short code
	for _, s := range page.Items {
		if strings.HasPrefix(s.ExternalRef, prefix) && s.PaymentRequest != nil {
			journaled[s.PaymentRequest.ID] = s.PaymentRequest.ShortCode
		}
	}
	c.Fact("sales of this run in the journal", "%d", len(journaled))
	if len(journaled) == 0 {
		return failf("the journal lists none of this run's sales")
	}
	// each short code finds its request at Centrapay (a few, to spare the rate limit)
	ids := make([]string, 0, len(journaled))
	for id := range journaled {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids[:min(3, len(ids))] {
		code := journaled[id]
		if code == "" {
			return failf("request %s is journaled without its short code", id)
		}
		pr, _, err := c.env.Centrapay.GetByShortCode(ctx, code)
		if err != nil {
			return fmt.Errorf("look up short code %s at Centrapay: %w", code, err)
		}
		c.Step("GET %s/api/payment-requests/short-code/%s → %s", c.env.CentrapayURL, code, pr.ID)
		c.PaymentRequest(id)
		if pr.ID != id {
			return failf("short code %s finds %s at Centrapay; the journal says %s", code, pr.ID, id)
		}
		c.Fact(id, "short code %s", code)
	}
	if c.env.SandboxURL == "" {
		return nil
	}
	l, err := c.ledger(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, e := range l {
		if !strings.HasPrefix(e.ExternalRef, prefix) {
			continue
		}
		n++
		if code, ok := journaled[e.ID]; !ok || code != e.ShortCode {
			return failf("Payment Request %s (%s) made by this run is not in the journal with its short code", e.ID, e.ShortCode)
		}
	}
	c.Fact("requests of this run at Centrapay, all journaled", "%d", n)
	c.Summary("all %d Payment Requests of this run are journaled with their short codes; each short code looked up finds its request at Centrapay", n)
	return nil
}

// 104.1: terminalId and deviceId.
func check1041(ctx context.Context, c *Check) error {
	s, err := c.qrSale(ctx, 800, nil)
	if err != nil {
		return err
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	t := c.till()
	c.Fact("terminalId", "%s (till %s)", orNone(pr.TerminalID), t.ID)
	c.Fact("deviceId", "%s (till's device %s)", orNone(pr.DeviceID), t.DeviceID)
	if pr.TerminalID != t.ID || pr.DeviceID != t.DeviceID {
		return failf("Payment Request %s has terminalId %q and deviceId %q; the till is %q on device %q", pr.ID, pr.TerminalID, pr.DeviceID, t.ID, t.DeviceID)
	}
	c.Summary("Payment Request %s carries terminalId %s and deviceId %s", pr.ID, pr.TerminalID, pr.DeviceID)
	return nil
}

// 104.2: line items on create (and refund).
func check1042(ctx context.Context, c *Check) error {
	lines := []map[string]any{
		{"name": "Flat white", "sku": "COF-FW", "qty": "2", "price": "1100"},
		{"name": "Blueberry muffin", "sku": "BAK-MUF", "qty": "1", "price": "650"},
	}
	s, err := c.qrSale(ctx, 1750, map[string]any{"lineItems": lines})
	if err != nil {
		return err
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	if len(pr.LineItems) != len(lines) {
		return failf("Payment Request %s has %d line items, the sale %d", pr.ID, len(pr.LineItems), len(lines))
	}
	for i, l := range pr.LineItems {
		want := lines[i]
		got := fmt.Sprintf("%s sku %s qty %s price %s", l.Name, l.SKU, l.Qty, l.Price)
		c.Fact(fmt.Sprintf("line %d at Centrapay", i+1), "%s", got)
		if l.Name != want["name"] || l.SKU != want["sku"] || l.Qty.String() != want["qty"] || l.Price.String() != want["price"] {
			return failf("line %d at Centrapay is %s; the till sent %v", i+1, got, want)
		}
	}
	if c.env.SandboxURL == "" {
		c.Step("refund with line items not tried: it needs a payment, which needs the sandbox")
		return nil
	}
	if err := c.patron(ctx, s.prID(), "pay", nil); err != nil {
		return err
	}
	if _, err := c.waitStatus(ctx, s.ID, pos.StatusPaid); err != nil {
		return err
	}
	refundLines := []map[string]any{{"name": "Blueberry muffin", "sku": "BAK-MUF", "qty": "1", "price": "650"}}
	if _, err := c.refund(ctx, map[string]any{"saleId": s.ID, "value": 650, "reason": "certify: line item refund", "lineItems": refundLines}); err != nil {
		return err
	}
	as, err := c.activities(ctx, s.prID())
	if err != nil {
		return err
	}
	refunds := activitiesOf(as, "refund")
	if len(refunds) != 1 || len(refunds[0].LineItems) != 1 || refunds[0].LineItems[0].Name != "Blueberry muffin" {
		return failf("Centrapay's refund activity does not carry the refunded line item: %+v", refunds)
	}
	c.Fact("refund at Centrapay", "line %s sku %s price %s", refunds[0].LineItems[0].Name, refunds[0].LineItems[0].SKU, refunds[0].LineItems[0].Price)
	c.Summary("Payment Request %s and its refund carry their line items (name, sku, qty, price) at Centrapay", s.prID())
	return nil
}

// 104.3: refund by the short code on the receipt.
func check1043(ctx context.Context, c *Check) error {
	s, err := c.paidQR(ctx, 2500, nil)
	if err != nil {
		return err
	}
	code := s.PaymentRequest.ShortCode
	r, err := c.receiptText(ctx, s.ID)
	if err != nil {
		return err
	}
	if !strings.Contains(r, code) {
		return failf("the receipt does not show the short code %s:\n%s", code, r)
	}
	c.Fact("receipt", "%s", lineWith(r, code))
	op, err := c.refund(ctx, map[string]any{"shortCode": code, "value": 1000, "reason": "certify: refund by short code"})
	if err != nil {
		return err
	}
	c.Fact("refund", "%s of %d cents, Payment Request %s, Centrapay activity %s", op.ID, op.Amount, op.PaymentRequestID, orNone(op.ActivityID))
	if op.PaymentRequestID != s.prID() {
		return failf("the short code %s refunded %s, not %s", code, op.PaymentRequestID, s.prID())
	}
	as, err := c.activities(ctx, s.prID())
	if err != nil {
		return err
	}
	if rs := activitiesOf(as, "refund"); len(rs) != 1 {
		return failf("Centrapay lists %d refund activities for %s", len(rs), s.prID())
	}
	c.Summary("refunded %d cents of %s by the short code %s printed on its receipt", op.Amount, s.prID(), code)
	if b, _ := c.browser(); b != nil {
		if err := do(b.cashier, chromedp.Navigate(strings.TrimRight(c.env.POSURL, "/")+"/api/v1/sales/"+s.ID+"/receipt"),
			chromedp.WaitVisible(chromedp.CSS("#r-code"))); err != nil {
			return failf("receipt page: %v", err)
		}
		return c.shot(b.cashier, "receipt")
	}
	return nil
}

// 104.4: the sale follows Centrapay's status.
func check1044(ctx context.Context, c *Check) error {
	mark := c.env.Logs.Mark()
	paid, err := c.qrSale(ctx, 1200, nil)
	if err != nil {
		return err
	}
	if err := c.patron(ctx, paid.prID(), "approve", nil); err != nil {
		return err
	}
	if paid, err = c.waitStatus(ctx, paid.ID, pos.StatusPaid); err != nil {
		return err
	}
	polls := c.env.Logs.Count(mark, "centrapay call", "method=GET", "path=/api/payment-requests/"+paid.prID())
	c.Fact("paid", "sale %s, Payment Request %s, %d poll(s) while pending", paid.ID, paid.prID(), polls)

	declined, err := c.qrSale(ctx, 1300, nil)
	if err != nil {
		return err
	}
	if err := c.patron(ctx, declined.prID(), "decline", nil); err != nil {
		return err
	}
	if declined, err = c.waitStatus(ctx, declined.ID, pos.StatusCancelled); err != nil {
		return err
	}
	c.Fact("cancelled (patron declined)", "sale %s: %s", declined.ID, where(declined))

	failed, err := c.barcodeSale(ctx, "insufficient-funds", 1400, nil)
	if err != nil {
		return err
	}
	if failed, err = c.waitStatus(ctx, failed.ID, pos.StatusCancelled); err != nil {
		return err
	}
	c.Fact("cancelled (payment declined)", "sale %s: %s, Centrapay %s", failed.ID, where(failed), prStatus(failed))
	if failed.PaymentRequest == nil || failed.PaymentRequest.CancellationReason != "PAYMENT_DECLINED" {
		return failf("the declined payment's reason is not Centrapay's PAYMENT_DECLINED (%s)", prStatus(failed))
	}

	if !c.env.ManualClock {
		c.Fact("expired", "see 103.1 (waits for a real expiry)")
		return nil
	}
	exp, err := c.qrSale(ctx, 1500, nil)
	if err != nil {
		return err
	}
	now, _, err := c.clockNow(ctx)
	if err != nil {
		return err
	}
	if err := c.advance(ctx, int64(exp.PaymentRequest.ExpiresAt.Sub(now)/time.Second)+1); err != nil {
		return err
	}
	if exp, err = c.waitStatus(ctx, exp.ID, pos.StatusExpired); err != nil {
		return err
	}
	c.Fact("expired", "sale %s: %s", exp.ID, where(exp))
	c.Summary("sales followed Centrapay: paid, cancelled (declined by the patron), cancelled (PAYMENT_DECLINED), expired")
	return nil
}

// 104.5: every status on the cashier page.
func check1045(ctx context.Context, c *Check) error {
	b, err := c.browser()
	if err != nil {
		return err
	}
	ring := func(amount string) (*Sale, error) {
		if err := b.cashierHome(c.env.POSURL); err != nil {
			return nil, err
		}
		if err := do(b.cashier, chromedp.SendKeys(chromedp.CSS("#amount"), amount), chromedp.Click(chromedp.CSS("#pay-qr"))); err != nil {
			return nil, err
		}
		if err := until(b.cashier, statusIs("sale-status", "pending")); err != nil {
			return nil, err
		}
		s, err := c.latest(ctx)
		if err != nil {
			return nil, err
		}
		c.session.open[s.ID] = c.till().Token
		c.Step("rang up $%s by QR in the cashier page: sale %s", amount, s.ID)
		return c.withPR(ctx, s)
	}
	s, err := ring("12.00")
	if err != nil {
		return err
	}
	c.label(b, "pending")
	if err := c.shot(b.cashier, "pending"); err != nil {
		return err
	}
	if err := c.patron(ctx, s.prID(), "pay", nil); err != nil {
		return err
	}
	if err := until(b.cashier, statusIs("sale-status", "paid")); err != nil {
		return err
	}
	c.label(b, "paid")
	if err := c.shot(b.cashier, "paid"); err != nil {
		return err
	}
	if _, err = ring("6.50"); err != nil {
		return err
	}
	if err := do(b.cashier, chromedp.Click(chromedp.CSS("#cancel"))); err != nil {
		return err
	}
	if err := until(b.cashier, statusIs("sale-status", "cancelled")); err != nil {
		return err
	}
	c.label(b, "cancelled")
	if err := c.shot(b.cashier, "cancelled"); err != nil {
		return err
	}
	if s, err = ring("7.25"); err != nil {
		return err
	}
	if c.env.ManualClock {
		now, _, err := c.clockNow(ctx)
		if err != nil {
			return err
		}
		if err := c.advance(ctx, int64(s.PaymentRequest.ExpiresAt.Sub(now)/time.Second)+1); err != nil {
			return err
		}
	} else {
		c.Step("waiting in real time for the request to expire at %s", ts(s.PaymentRequest.ExpiresAt))
		if _, err := c.waitStatus(ctx, s.ID, pos.StatusExpired); err != nil {
			return err
		}
	}
	if err := until(b.cashier, statusIs("sale-status", "expired")); err != nil {
		return err
	}
	c.label(b, "expired")
	c.Summary("the cashier page showed pending, paid, cancelled and expired as they happened (4 screenshots)")
	return c.shot(b.cashier, "expired")
}

// label records what the cashier page shows for status.
func (c *Check) label(b *browser, status string) {
	l, _ := text(b.cashier, "#sale-status")
	c.Fact("cashier page, "+status, "%q", strings.TrimSpace(l))
}

// latest is the till's newest sale.
func (c *Check) latest(ctx context.Context) (*Sale, error) {
	var page struct {
		Items []Sale `json:"items"`
	}
	if _, err := c.api(ctx, http.MethodGet, "/api/v1/sales?limit=1&terminal="+c.till().ID, nil, &page); err != nil {
		return nil, err
	}
	if len(page.Items) == 0 {
		return nil, failf("the till has no sale")
	}
	return &page.Items[0], nil
}

// 104.6: externalRef.
func check1046(ctx context.Context, c *Check) error {
	ref := c.session.ref("R")
	s, err := c.qrSale(ctx, 950, map[string]any{"externalRef": ref})
	if err != nil {
		return err
	}
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	c.Fact("externalRef at Centrapay", "%s (the till's receipt number %s)", orNone(pr.ExternalRef), ref)
	if pr.ExternalRef != ref {
		return failf("Payment Request %s has externalRef %q, the till gave %q", pr.ID, pr.ExternalRef, ref)
	}
	_, err = c.startSale(ctx, map[string]any{"value": 950, "flow": "qr", "externalRef": ref})
	e, ok := asAPIError(err)
	if err == nil || !ok || e.Status >= 500 {
		return failf("a second open sale with externalRef %s was not refused (%v)", ref, err)
	}
	c.Step("a second open sale with the same externalRef is refused: %s", e)
	c.Fact("duplicate externalRef", "refused: %s", e)
	return nil
}

// voidWithin is how soon after a cancel at the till the request must be
// voided (104.7: "as soon as").
const voidWithin = 5 * time.Second

// 104.7: cancel voids at once.
func check1047(ctx context.Context, c *Check) error {
	s, err := c.qrSale(ctx, 1600, nil)
	if err != nil {
		return err
	}
	asked := time.Now().UTC()
	// "at once": the void is sent with the cancel; a few seconds is ample
	wctx, cancel := context.WithTimeout(ctx, voidWithin)
	end, err := c.cancelSale(wctx, s.ID)
	cancel()
	if err != nil {
		if pr, perr := c.readPR(ctx, s.prID()); perr == nil {
			c.Fact("at Centrapay", "%s %s", pr.Status, pr.CancellationReason)
		}
		return fmt.Errorf("not voided within %v of the cancel: %w", voidWithin, err)
	}
	c.Fact("cancel asked at the till", "%s", ts(asked))
	c.Fact("sale", "%s at %s", where(end), ts(end.UpdatedAt))
	pr, err := c.readPR(ctx, s.prID())
	if err != nil {
		return err
	}
	c.Fact("at Centrapay", "%s %s, updatedAt %s", pr.Status, pr.CancellationReason, ts(pr.UpdatedAt.Time))
	if pr.Status != "cancelled" || pr.CancellationReason != "CANCELLED_BY_MERCHANT" {
		return failf("Payment Request %s is %s %s at Centrapay, not voided by the merchant", pr.ID, pr.Status, pr.CancellationReason)
	}
	if end.Status != pos.StatusCancelled {
		return failf("the sale is %s", where(end))
	}
	c.Summary("cancelled at the till: %s is %s %s at Centrapay", pr.ID, pr.Status, pr.CancellationReason)
	return nil
}
