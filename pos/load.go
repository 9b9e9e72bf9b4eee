package pos

import (
	"context"
	"fmt"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// Load is what the live sales ask of Centrapay's rate budget. When they
// need more calls than it gives, every sale is still polled in turn (the
// budget serves the oldest due first), only less often than once a second,
// and the people who run the server are told so, in these words.
type Load struct {
	LiveSales   int `json:"liveSales"`
	CallsNeeded int `json:"callsPerMinuteNeeded"` // to poll each live sale every PollInterval
	Budget      int `json:"budgetPerMinute"`      // 0: not known
	// PollEverySeconds is how often each live sale can be polled within
	// the budget: the poll interval, or longer when the budget is short.
	PollEverySeconds float64 `json:"pollEverySeconds"`
	Short            bool    `json:"short"` // the budget is short of what the sales need
	Message          string  `json:"message,omitempty"`
}

// budgetContact is where Centrapay's docs send integrators with questions
// about their account, such as a higher rate limit.
const budgetContact = "integrations@centrapay.com"

// Load says what the live sales ask of the rate budget now.
func (e *Engine) Load() Load {
	n := e.live.count()
	l := Load{LiveSales: n, CallsNeeded: int(int64(n) * int64(time.Minute) / int64(e.cfg.PollInterval)),
		PollEverySeconds: e.cfg.PollInterval.Seconds()}
	if e.budget == nil {
		return l
	}
	l.Budget = e.budget.PerMinute()
	if l.CallsNeeded <= l.Budget {
		return l
	}
	l.Short = true
	l.PollEverySeconds = float64(n) * 60 / float64(l.Budget)
	l.Message = fmt.Sprintf("%d live sales need %d calls a minute to be polled every %g s; Centrapay's rate budget for this API key is %d a minute, "+
		"so each sale is polled about every %.1f s and payments show late. Ask Centrapay (%s) to raise the key's rate limit, and set --rate-limit to match.",
		n, l.CallsNeeded, e.cfg.PollInterval.Seconds(), l.Budget, l.PollEverySeconds, budgetContact)
	return l
}

// loadLog is what the engine last said of the budget's shortfall.
type loadLog struct {
	short  bool
	logged time.Time
}

// loadLogEvery is how often a lasting shortfall is logged again.
const loadLogEvery = 5 * time.Minute

// checkLoad logs when the budget becomes short of what the live sales
// need (again every loadLogEvery while it lasts) and when it suffices
// again. Run calls it every few seconds.
func (e *Engine) checkLoad(ctx context.Context) {
	l := e.Load()
	now := e.clk.Now()
	e.mu.Lock()
	was, logged := e.load.short, e.load.logged
	if l.Short && (!was || now.Sub(logged) >= loadLogEvery) {
		e.load.logged = now
	}
	e.load.short = l.Short
	e.mu.Unlock()
	switch {
	case l.Short && (!was || now.Sub(logged) >= loadLogEvery):
		e.log.WarnContext(ctx, l.Message, "live sales", l.LiveSales, "calls a minute needed", l.CallsNeeded, "budget a minute", l.Budget)
	case !l.Short && was:
		e.log.InfoContext(ctx, "the rate budget suffices again for the live sales", "live sales", l.LiveSales, "budget a minute", l.Budget)
	}
}

// operator readies ctx for a call a person at the till waits for: it
// takes the call's token from the rate budget now, ahead of polls, before
// the intent is journaled, and refuses with words to try again when none
// comes within OperatorWait — nothing is journaled or sent then, so the
// till can repeat the same request with the same Idempotency-Key.
func (e *Engine) operator(ctx context.Context) (context.Context, error) {
	ctx = centrapay.WithPriority(ctx, centrapay.PriorityOperator)
	if e.budget == nil {
		return ctx, nil
	}
	if err := e.budget.WaitWithin(ctx, centrapay.PriorityOperator, e.cfg.OperatorWait); err != nil {
		msg := fmt.Sprintf("Centrapay's rate budget (%d calls a minute) is taken by the sales in progress: nothing was sent; try again in a few seconds",
			e.budget.PerMinute())
		return nil, &Error{Code: EUnavailable, Message: msg}
	}
	return centrapay.WithTokenTaken(ctx), nil
}
