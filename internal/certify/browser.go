package certify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is one headless Chromium for the run, signed in as the first
// till, with a cashier tab and a customer-display tab.
type browser struct {
	cancel  []context.CancelFunc
	dir     string
	cashier context.Context
	display context.Context
}

// browser starts Chromium the first time an item needs it, signs the
// cashier tab in and opens the customer display.
func (c *Check) browser() (*browser, error) {
	s := c.session
	if s.browser != nil || s.browserErr != nil {
		return s.browser, s.browserErr
	}
	b, err := c.startBrowser()
	s.browser, s.browserErr = b, err
	return b, err
}

// startBrowser starts Chromium with a cashier and a display tab.
func (c *Check) startBrowser() (*browser, error) {
	if c.env.Chromium == "" {
		return nil, errors.New("chromium not installed")
	}
	if c.env.LoginURL == nil {
		return nil, errors.New("the server gave no sign-in link for the browser")
	}
	dir, err := os.MkdirTemp("", "centrapos-certify-chromium-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(c.env.Chromium), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.UserDataDir(dir), chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	cashier, cancelCashier := chromedp.NewContext(alloc)
	b := &browser{cancel: []context.CancelFunc{cancelAlloc, cancelCashier}, dir: dir, cashier: cashier}
	fail := func(err error) (*browser, error) {
		b.close()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	// a tab's first action runs without a timeout, which would close it
	if _, err := chromedp.Run(cashier, chromedp.Navigate(c.env.LoginURL(c.till().ID))); err != nil {
		return fail(err)
	}
	display, cancelDisplay := chromedp.NewContext(cashier)
	b.cancel = append(b.cancel, cancelDisplay)
	if _, err := chromedp.Run(display, chromedp.Navigate(strings.TrimRight(c.env.POSURL, "/")+"/display/"+c.till().ID)); err != nil {
		return fail(err)
	}
	b.display = display
	c.Step("chromium %s started headless; cashier signed in as %s by a one-time link; customer display /display/%s open", c.env.Chromium, c.till().ID, c.till().ID)
	return b, nil
}

func (b *browser) close() {
	for i := len(b.cancel) - 1; i >= 0; i-- {
		b.cancel[i]()
	}
	os.RemoveAll(b.dir)
}

// do runs actions in tab within 20 s.
func do(tab context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	for _, a := range actions {
		if _, err := chromedp.Run(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// until waits (up to 20 s) for a JavaScript condition to hold in tab.
func until(tab context.Context, js string) error {
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	guarded := "(() => { try { return !!(" + js + "); } catch (e) { return false; } })()"
	var err error
	for range 50 { // a page that reloads itself is polled again
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](guarded, chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "(-32000)") {
			break
		}
	}
	if err != nil {
		tctx, cancel := context.WithTimeout(tab, 5*time.Second)
		defer cancel()
		text, _ := chromedp.Run(tctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		return fmt.Errorf("waiting in the browser for %s: %v; the page shows: %.300q", js, err, text)
	}
	return nil
}

// text is the innerText of the first element sel matches.
func text(tab context.Context, sel string) (string, error) {
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("(() => { const e = document.querySelector(%q); return e ? e.innerText : ''; })()", sel)))
}

// eval evaluates a boolean JavaScript expression.
func eval(tab context.Context, js string) (bool, error) {
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[bool](js))
}

// shot saves a screenshot of tab as screenshots/<item>-<name>.png and
// records it.
func (c *Check) shot(tab context.Context, name string) error {
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	rel := "screenshots/" + fileName(c.res.ID) + "-" + name + ".png"
	if err := os.WriteFile(filepath.Join(c.out, rel), buf, 0o644); err != nil {
		return err
	}
	c.res.Screenshots = append(c.res.Screenshots, rel)
	c.Step("screenshot %s", rel)
	return nil
}

// cashierHome opens the cashier page afresh (no sale in progress).
func (b *browser) cashierHome(posURL string) error {
	return do(b.cashier, chromedp.Navigate(strings.TrimRight(posURL, "/")+"/"), chromedp.WaitVisible(chromedp.CSS("#sale-form")))
}

// statusWords are the words a page may show for a sale status: the
// status itself or what the cashier page says of it.
var statusWords = map[string][]string{
	"pending":   {"pending", "waiting for payment", "check needed"},
	"paid":      {"paid"},
	"cancelled": {"cancelled", "declined"},
	"expired":   {"expired"},
}

// statusIs is a JavaScript condition: element id reads status, in one of
// its words.
func statusIs(id, status string) string {
	words := statusWords[status]
	if words == nil {
		words = []string{status}
	}
	b, _ := json.Marshal(words)
	return fmt.Sprintf("%s.includes(document.getElementById(%q).textContent.trim().toLowerCase())", b, id)
}
