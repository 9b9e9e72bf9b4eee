// Package certify runs the point-of-sale items of Centrapay's integration
// checklist as scripted scenarios against a running centrapos server and a
// Centrapay base URL (the sandbox, or Centrapay's test environment), and
// writes the evidence an integrator sends to Centrapay: one report, as
// Markdown and HTML from the same data, with a row per checklist item
// (pass, fail, manual or skipped; what was done; Payment Request and POS
// request ids; timestamps; log excerpts; screenshots).
//
// The package drives the server only over its terminal REST API and its
// web pages (through headless Chromium), and the sandbox only over its
// control API, as an integrator's own scripts would. The command
// `centrapos certify` (internal/cli) starts the pieces and calls Run.
package certify

import (
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// State is the outcome of one checklist item.
type State string

// Outcome states.
const (
	StatePass    State = "pass"    // automated, and every check held
	StateFail    State = "fail"    // automated, and a check did not hold (or could not be made)
	StateManual  State = "manual"  // a person has to provide or confirm the evidence
	StateSkipped State = "skipped" // not run: needs the sandbox or Chromium, not applicable, or not selected
)

// Kind says whether an item is checked by the program or by a person.
type Kind string

// Item kinds.
const (
	KindAutomated Kind = "automated"
	KindManual    Kind = "manual"
)

// Needs are what an item requires beyond a server and a Centrapay base URL.
type Needs uint8

// What items may need.
const (
	NeedsSandbox Needs = 1 << iota // the sandbox's control API: patron actions, faults, clock
	NeedsBrowser                   // headless Chromium, for what the cashier and customer see
)

// Terminal is a till signed up on the server, with its bearer token.
type Terminal struct {
	ID       string
	DeviceID string
	ConfigID string
	Token    string
}

// Env is what the items run against. The command that starts the server
// and the sandbox fills it in.
type Env struct {
	POSURL string // the centrapos server's base URL
	// Terminals are the tills: the first is a manager till; a second one
	// with another merchant config, if any, serves checklist item 102.4.
	Terminals []Terminal
	// LoginURL returns an absolute URL that signs a browser in as the
	// terminal (a one-time link); nil when there is none.
	LoginURL func(terminalID string) string

	CentrapayURL string            // the Centrapay base URL the server uses
	Centrapay    *centrapay.Client // reads Payment Requests to check what reached Centrapay
	// SandboxURL is the sandbox's base URL, whose control API scripts the
	// patron, faults and the clock; "" against Centrapay's test
	// environment, where items that need it are skipped.
	SandboxURL string
	// ManualClock: the sandbox's business clock moves only when advanced
	// (fast mode), so a 120 s expiry takes no real time.
	ManualClock bool
	// APIKey is used only to prove it appears nowhere it should not (item
	// 102.1); it is never written into the evidence.
	APIKey string
	// Logs receives the server's log; each item's excerpt is cut from it.
	Logs *LogTap
	// Chromium is the path of the browser for UI items; "" when none is
	// installed (those items are skipped, and say so).
	Chromium string
}

// Options configure Run.
type Options struct {
	Env    Env
	Out    string   // the evidence folder, created if missing
	Only   []string // item ids to run; nil runs them all (the others are listed as skipped)
	Target string   // how the report names what was tested, e.g. "sandbox (fast mode)"
	// ItemTimeout bounds one item; 0 means 3 minutes (an expiry waited for
	// in real time takes a little over 2).
	ItemTimeout time.Duration
	// Items replaces the checklist (tests inject a failing check); nil
	// means Checklist().
	Items []Item
}

// Step is one thing an item did, and when.
type Step struct {
	At   time.Time
	Text string
}

// Fact is a named value an item measured: a timestamp, a difference, an
// amount, a status.
type Fact struct {
	Name  string
	Value string
}

// Result is one row of the report.
type Result struct {
	ID      string
	Title   string
	Section string
	Kind    Kind
	State   State
	Summary string // one line: why it passed, failed, is manual or was skipped
	Checks  string // what the item checks
	Person  string // what a person still has to do or provide, if anything
	Steps   []Step
	// PaymentRequests are the Centrapay Payment Request ids the item made
	// or looked at; RequestIDs are the POS server's X-Request-Id of each
	// terminal API call.
	PaymentRequests []string
	RequestIDs      []string
	Facts           []Fact
	LogFile         string   // logs/<id>.log, relative to the evidence folder; "" if none
	LogExcerpt      []string // the log lines of the item, the key redacted (the report shows the last few)
	Screenshots     []string // screenshots/*.png, relative to the evidence folder
	Started         time.Time
	Duration        time.Duration
}

// Counts are how many items ended in each state.
type Counts struct {
	Pass, Fail, Manual, Skipped int
}

// Report is the whole run: what the evidence folder holds.
type Report struct {
	Target       string
	CentrapayURL string
	Started      time.Time
	Duration     time.Duration
	Fast         bool
	BrowserNote  string // why UI items were skipped, if they were
	Results      []Result
	Counts       Counts
	Dir          string // the evidence folder
}

// Failed reports whether any automated item failed.
func (r *Report) Failed() bool { return r.Counts.Fail > 0 }
