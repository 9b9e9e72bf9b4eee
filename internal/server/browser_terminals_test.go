package server_test

import (
	"bytes"
	"image"
	_ "image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

// TestBrowserTerminals: a manager adds a till on the terminals page and
// gets its token once and a pairing QR code; a tablet that opens the
// code's link is signed in as the new till, once; the manager revokes
// another till, whose token stops working.
func TestBrowserTerminals(t *testing.T) {
	e := setup(t)
	manager := tab{t, browser(t)}
	signedIn(manager, e, "manager")
	manager.do(chromedp.Click(chromedp.CSS("#terminals-link")))
	manager.until(`document.getElementById("add-terminal") !== null && document.getElementById("terminal-till-2") !== null`)
	manager.do(chromedp.SendKeys(chromedp.CSS("#t-id"), "till-9"))
	manager.do(chromedp.SendKeys(chromedp.CSS("#t-name"), "Front counter"))
	manager.do(chromedp.Click(chromedp.CSS("#add")))
	manager.until(`document.getElementById("pairing-qr") !== null && document.getElementById("pairing-qr").naturalWidth > 0`)
	if tok := manager.text("#new-token"); !strings.HasPrefix(tok, "cpt_") {
		t.Errorf("token %q", tok)
	}
	link := manager.str(`document.getElementById("pairing-link").href`)
	if !strings.HasPrefix(link, e.baseURL+"/login/") {
		t.Fatalf("pairing link %q", link)
	}
	// the QR code, as the tablet's camera sees it on the screen, is the link
	png, err := chromedp.Run(manager.ctx, chromedp.Screenshot(chromedp.CSS("#pairing-qr")))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil || res.GetText() != link {
		t.Errorf("pairing QR decodes to %v (%v), want %s", res, err, link)
	}
	manager.until(`document.getElementById("terminal-till-9").innerText.includes("Front counter")`)
	manager.shot("manager-terminals")

	// the tablet, another browser, scans it
	tablet := tab{t, browser(t)}
	tablet.do(chromedp.Navigate(link))
	tablet.until(`document.getElementById("till") !== null && document.getElementById("till").textContent === "Front counter"`)
	tablet.do(chromedp.Navigate(link)) // once only
	tablet.until(`document.getElementById("login") !== null && document.body.innerText.includes("used or has expired")`)

	// revoke till-2: its token stops at once
	if r := e.do("GET", "/api/v1/sales", "till-2", nil); r.status != http.StatusOK {
		t.Fatalf("till-2 before: %d", r.status)
	}
	manager.do(chromedp.Click(chromedp.CSS("#terminal-till-2 .revoke")))
	manager.until(`document.getElementById("terminal-till-2").innerText.includes("revoked") && document.getElementById("notice").textContent.includes("till-2 revoked")`)
	if r := e.do("GET", "/api/v1/sales", "till-2", nil); r.status != http.StatusUnauthorized {
		t.Errorf("till-2 after revoke: %d", r.status)
	}
	// a till that is no manager may not see the page
	till := newTab(t, tablet.ctx)
	till.do(chromedp.Navigate(e.baseURL + "/manager/terminals"))
	till.until(`document.body.innerText.includes("only a manager terminal")`)
}
