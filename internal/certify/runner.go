package certify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Item is one entry of Centrapay's integration checklist and how it is
// checked.
type Item struct {
	ID      string // as in Centrapay's checklist, e.g. "103.1"
	Title   string // exactly as in Centrapay's checklist
	Section string // the checklist section, e.g. "103. Timeouts and Errors"
	Kind    Kind
	Needs   Needs
	Checks  string // what the program checks (automated items)
	Person  string // what a person has to do or provide
	// NotApplicable, when set, says why the item does not apply to a POS
	// integration; it is listed as skipped with this reason.
	NotApplicable string
	run           func(ctx context.Context, c *Check) error
}

// skipError ends an item as skipped; manualError as manual.
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

type manualError struct{ reason string }

func (e *manualError) Error() string { return e.reason }

// skip ends an item as skipped, for reason.
func skip(format string, args ...any) error { return &skipError{fmt.Sprintf(format, args...)} }

// manual ends an item as manual: the automated part held, a person has
// the rest to do.
func manual(format string, args ...any) error { return &manualError{fmt.Sprintf(format, args...)} }

// Check is one item's run: what it uses and what it records.
type Check struct {
	env     *Env
	res     *Result
	out     string // the evidence folder
	session *session
	summary string
}

// Step records what the item does now.
func (c *Check) Step(format string, args ...any) {
	c.res.Steps = append(c.res.Steps, Step{At: time.Now().UTC(), Text: fmt.Sprintf(format, args...)})
}

// Fact records a measured value.
func (c *Check) Fact(name, format string, args ...any) {
	c.res.Facts = append(c.res.Facts, Fact{Name: name, Value: fmt.Sprintf(format, args...)})
}

// PaymentRequest records a Centrapay Payment Request id, once.
func (c *Check) PaymentRequest(id string) {
	if id != "" && !slices.Contains(c.res.PaymentRequests, id) {
		c.res.PaymentRequests = append(c.res.PaymentRequests, id)
	}
}

// requestID records a POS server request id.
func (c *Check) requestID(id string) {
	if id != "" {
		c.res.RequestIDs = append(c.res.RequestIDs, id)
	}
}

// Run runs the checklist items and writes the evidence folder. The error
// is about the run itself (the folder cannot be written); the items'
// outcomes are in the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	items := opts.Items
	if items == nil {
		items = Checklist()
	}
	if err := checkOnly(items, opts.Only); err != nil {
		return nil, err
	}
	if opts.ItemTimeout == 0 {
		opts.ItemTimeout = 3 * time.Minute
	}
	for _, d := range []string{"", "screenshots", "logs"} {
		if err := os.MkdirAll(filepath.Join(opts.Out, d), 0o755); err != nil {
			return nil, fmt.Errorf("certify: evidence folder: %w", err)
		}
	}
	env := opts.Env
	rep := &Report{Target: opts.Target, CentrapayURL: env.CentrapayURL, Started: time.Now().UTC(), Fast: env.ManualClock, Dir: opts.Out}
	if env.Chromium == "" {
		rep.BrowserNote = "chromium not installed: the items that need a browser are skipped"
	}
	s := newSession(&env, opts.Out)
	defer s.close()
	for _, it := range items {
		res := runItem(ctx, it, &env, s, opts)
		if len(res.LogExcerpt) > 0 {
			name := "logs/" + fileName(it.ID) + ".log"
			if err := os.WriteFile(filepath.Join(opts.Out, name), []byte(strings.Join(res.LogExcerpt, "\n")+"\n"), 0o644); err != nil {
				return nil, fmt.Errorf("certify: write log: %w", err)
			}
			res.LogFile = name
		}
		rep.Results = append(rep.Results, res)
		switch res.State {
		case StatePass:
			rep.Counts.Pass++
		case StateFail:
			rep.Counts.Fail++
		case StateManual:
			rep.Counts.Manual++
		default:
			rep.Counts.Skipped++
		}
	}
	rep.Duration = time.Since(rep.Started)
	if err := writeReport(rep, env.APIKey); err != nil {
		return nil, err
	}
	return rep, nil
}

// checkOnly refuses --only ids that name no item.
func checkOnly(items []Item, only []string) error {
	for _, id := range only {
		if !slices.ContainsFunc(items, func(it Item) bool { return it.ID == id }) {
			return fmt.Errorf("certify: no checklist item %q", id)
		}
	}
	return nil
}

// runItem runs one item and says how it ended.
func runItem(ctx context.Context, it Item, env *Env, s *session, opts Options) Result {
	res := Result{ID: it.ID, Title: it.Title, Section: it.Section, Kind: it.Kind, Checks: it.Checks, Person: it.Person,
		Started: time.Now().UTC()}
	done := func(st State, summary string) Result {
		res.State, res.Summary, res.Duration = st, summary, time.Since(res.Started)
		return res
	}
	switch {
	case opts.Only != nil && !slices.Contains(opts.Only, it.ID):
		return done(StateSkipped, "not selected (--only)")
	case it.NotApplicable != "":
		return done(StateSkipped, "not applicable: "+it.NotApplicable)
	case it.run == nil:
		return done(StateManual, "needs a person: "+it.Person)
	case it.Needs&NeedsSandbox != 0 && env.SandboxURL == "":
		return done(StateSkipped, "needs the sandbox: its control API plays the patron, injects faults or moves the clock; Centrapay's test environment has none")
	case it.Needs&NeedsBrowser != 0 && env.Chromium == "":
		return done(StateSkipped, "skipped: chromium not installed")
	}
	var mark int
	if env.Logs != nil {
		mark = env.Logs.Mark()
	}
	c := &Check{env: env, res: &res, out: opts.Out, session: s}
	ictx, cancel := context.WithTimeout(ctx, opts.ItemTimeout)
	err := safeRun(ictx, it, c)
	timedOut := ictx.Err() == context.DeadlineExceeded
	cancel()
	s.cleanup(ctx, c) // ends what the item left open, so the next starts clean
	if env.Logs != nil {
		res.LogExcerpt = env.Logs.Since(mark)
	}
	var se *skipError
	var me *manualError
	switch {
	case err == nil:
		return done(StatePass, passSummary(c))
	case errors.As(err, &se):
		return done(StateSkipped, se.reason)
	case errors.As(err, &me):
		return done(StateManual, me.reason)
	case timedOut:
		return done(StateFail, fmt.Sprintf("timed out after %v: %v", opts.ItemTimeout, err))
	default:
		return done(StateFail, err.Error())
	}
}

// safeRun runs the item, turning a panic into a failure.
func safeRun(ctx context.Context, it Item, c *Check) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the check panicked: %v", p)
		}
	}()
	return it.run(ctx, c)
}

// Summary sets the one line the report gives a passing item.
func (c *Check) Summary(format string, args ...any) {
	c.summary = fmt.Sprintf(format, args...)
}

// passSummary is the item's summary, else its first fact.
func passSummary(c *Check) string {
	switch {
	case c.summary != "":
		return c.summary
	case len(c.res.Facts) > 0:
		return c.res.Facts[0].Name + ": " + c.res.Facts[0].Value
	}
	return "every check held"
}

// fileName makes an item id a file name: 103.1 stays 103.1.
func fileName(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, id)
}
