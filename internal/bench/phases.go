package bench

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// The server's metrics the bench reads.
const (
	pollIntervalMetric = "centrapos_poll_interval_seconds"
	callsMetric        = "centrapos_centrapay_calls_total"
	salesMetric        = "centrapos_sales"
	heapMetric         = "go_memstats_heap_inuse_bytes"
)

// pollCalls selects the server's polls among its calls to Centrapay.
var pollCalls = map[string]string{"method": "GET", "endpoint": "/api/payment-requests/{id}"}

// hammered is what a fixed-duration load run saw.
type hammered struct {
	elapsed   time.Duration
	ok        int
	errors    int
	latencies []time.Duration // of every call, failed ones included
	firstErr  error
}

// hammer calls fn from conc goroutines, each one call after another,
// until d has passed.
func hammer(ctx context.Context, conc int, d time.Duration, fn func(context.Context) error) hammered {
	var (
		mu  sync.Mutex
		out hammered
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range max(conc, 1) {
		wg.Go(func() {
			var lat []time.Duration
			ok, bad := 0, 0
			var first error
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				err := fn(ctx)
				lat = append(lat, time.Since(t))
				if err != nil {
					bad++
					if first == nil {
						first = err
					}
					continue
				}
				ok++
			}
			mu.Lock()
			defer mu.Unlock()
			out.ok += ok
			out.errors += bad
			out.latencies = append(out.latencies, lat...)
			if out.firstErr == nil {
				out.firstErr = first
			}
		})
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	return out
}

// createAndSandbox measures POST /sales at each concurrency, each against
// a fresh server and sandbox (no limits) so one run's sales are not
// polled during the next; then it stops the last server and measures its
// sandbox's own GET rate: the ceiling of the server's polls.
func (r *runner) createAndSandbox(ctx context.Context, rep *Report) error {
	var last *pair
	defer func() {
		if last != nil {
			last.stop()
		}
	}()
	for _, conc := range r.cfg.CreateConcurrency {
		if last != nil {
			if err := last.stop(); err != nil {
				return err
			}
		}
		p, err := r.pair(ctx, fmt.Sprintf("create-%d", conc), -1, 1)
		if err != nil {
			return err
		}
		last = p
		t := till{c: r.c, base: p.base, token: p.tokens[0]}
		h := hammer(ctx, conc, r.cfg.CreateFor, func(ctx context.Context) error {
			_, err := t.createSale(ctx)
			return err
		})
		if err := ctx.Err(); err != nil {
			return err
		}
		if h.ok == 0 {
			return fmt.Errorf("no sale created at concurrency %d: %w", conc, h.firstErr)
		}
		tp := Throughput{Concurrency: conc, Seconds: h.elapsed.Seconds(), Sales: h.ok, Errors: h.errors,
			PerSec: float64(h.ok) / h.elapsed.Seconds(), Latency: Summarize(h.latencies)}
		rep.Create = append(rep.Create, tp)
		r.progress("  concurrency %d: %.0f sales/s, p50 %.1f ms, p99 %.1f ms, %d errors", conc, tp.PerSec, tp.Latency.P50Ms, tp.Latency.P99Ms, tp.Errors)
	}
	if last == nil {
		return errors.New("no concurrency to measure POST /sales at")
	}
	p := last
	t := till{c: r.c, base: p.base, token: p.tokens[0]}
	s, err := t.pendingSale(ctx)
	if err != nil {
		return err
	}
	if err := p.serve.stop(); err != nil { // the sandbox alone, nobody else polling it
		return err
	}
	get := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.sb.BaseURL+"/api/payment-requests/"+s.PaymentRequest.ID, nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-Api-Key", p.sb.APIKey)
		return doJSON(r.c, req, http.StatusOK, nil)
	}
	h := hammer(ctx, r.cfg.SandboxConcurrency, r.cfg.SandboxFor, get)
	if err := ctx.Err(); err != nil {
		return err
	}
	if h.ok == 0 {
		return fmt.Errorf("sandbox answered no GET: %w", h.firstErr)
	}
	rep.Sandbox = SandboxCeiling{Concurrency: r.cfg.SandboxConcurrency, Seconds: h.elapsed.Seconds(),
		GetsPerSec: float64(h.ok) / h.elapsed.Seconds(), Errors: h.errors, Latency: Summarize(h.latencies)}
	r.progress("  sandbox: %.0f GETs/s", rep.Sandbox.GetsPerSec)
	return nil
}

// budget has BudgetTills tills create a sale at the same moment,
// BudgetRounds times BudgetEvery apart (a checkout: the patron scans and
// pays, the next comes), against a server and sandbox held to
// BudgetRateLimit calls a minute, and times each answer. The sales stay
// live, so their polls take every call the budget has left: the creates
// must get theirs ahead of them.
func (r *runner) budget(ctx context.Context, rep *Report) error {
	cfg := r.cfg
	p, err := r.pair(ctx, "budget", cfg.BudgetRateLimit, cfg.BudgetTills)
	if err != nil {
		return err
	}
	defer p.stop()
	b := BudgetRun{RateLimit: cfg.BudgetRateLimit, Tills: cfg.BudgetTills, Rounds: cfg.BudgetRounds}
	var (
		mu    sync.Mutex
		waits []time.Duration
	)
	for round := range cfg.BudgetRounds {
		if round > 0 {
			if err := sleep(ctx, cfg.BudgetEvery); err != nil {
				return err
			}
		}
		var (
			wg      sync.WaitGroup
			slowest time.Duration
		)
		for _, token := range p.tokens {
			wg.Go(func() {
				t := till{c: r.c, base: p.base, token: token}
				ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				start := time.Now()
				_, err := t.createSale(ctx)
				d := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				waits = append(waits, d)
				slowest = max(slowest, d)
				if err != nil {
					b.Errors++
					r.progress("  create: %v", err)
					return
				}
				b.Creates++
			})
		}
		wg.Wait()
		b.RoundMaxMs = append(b.RoundMaxMs, ms(slowest))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.Latency = Summarize(waits)
	rep.Budget = b
	r.progress("  %d creates, max %.0f ms, %d errors", b.Creates, b.Latency.MaxMs, b.Errors)
	return nil
}

// journal runs the journal's own saves-vs-raw-inserts measurement.
func (r *runner) journal(ctx context.Context, rep *Report) error {
	if r.cfg.Journal == nil {
		rep.Journal = JournalRatio{Skipped: "no journal measurement wired in"}
		return nil
	}
	d := filepath.Join(r.dir, "journal")
	if err := os.Mkdir(d, 0o700); err != nil {
		return err
	}
	j, err := r.cfg.Journal(ctx, d, r.cfg.JournalConcurrency, r.cfg.JournalFor)
	if err != nil {
		return err
	}
	rep.Journal = j
	r.progress("  %.0f saves/s, %.0f raw inserts/s, ratio %.2f", j.SavesPerSec, j.RawInsertsPerSec, j.Ratio)
	return nil
}

// ramp raises the live sales step by step on one server and measures it
// at each step; paid→till is measured at the first step with PaidLive.
func (r *runner) ramp(ctx context.Context, rep *Report) error {
	cfg := r.cfg
	p, err := r.pair(ctx, "ramp", -1, 1)
	if err != nil {
		return err
	}
	defer p.stop()
	t := till{c: r.c, base: p.base, token: p.tokens[0]}
	if err := sleep(ctx, cfg.Settle); err != nil {
		return err
	}
	baseM, err := scrape(ctx, r.c, p.metricsURL)
	if err != nil {
		return err
	}
	base, err := ReadProc(p.serve.pid())
	if err != nil {
		return err
	}
	live, paid := 0, false
	for _, n := range cfg.Ramp {
		start := time.Now()
		made, err := createMany(ctx, t, n-live, 16)
		live += made
		if err != nil {
			return fmt.Errorf("ramp to %d: %w", n, err)
		}
		created := time.Since(start)
		if err := sleep(ctx, cfg.Settle); err != nil {
			return err
		}
		m0, err := scrape(ctx, r.c, p.metricsURL)
		if err != nil {
			return err
		}
		s0, err := ReadProc(p.serve.pid())
		if err != nil {
			return err
		}
		sb0, err := ReadProc(p.sandbox.pid())
		if err != nil {
			return err
		}
		if err := sleep(ctx, cfg.Hold); err != nil {
			return err
		}
		s1, err := ReadProc(p.serve.pid())
		if err != nil {
			return err
		}
		sb1, err := ReadProc(p.sandbox.pid())
		if err != nil {
			return err
		}
		m1, err := scrape(ctx, r.c, p.metricsURL)
		if err != nil {
			return err
		}
		step := StepFigures(StepInput{Live: live, Base: base, BaseMetrics: baseM, From: s0, To: s1, FromMetrics: m0, ToMetrics: m1})
		step.CreateSeconds = created.Seconds()
		step.SandboxCPUPercent = CPUPercent(sb0, sb1)
		if step.TimeWait, err = TimeWait(p.sandboxPort()); err != nil {
			return err
		}
		rep.Ramp = append(rep.Ramp, step)
		r.progress("  %d live: poll interval p50 %s p99 %s mean %s (%s), %.0f polls/s, CPU serve %.0f %% sandbox %.0f %%, %.1f KB/sale, %d in TIME_WAIT",
			live, msOrDash(step.PollP50Ms), msOrDash(step.PollP99Ms), msOrDash(step.PollMeanMs), step.PollSource, step.PollsPerSec,
			step.CPUPercent, step.SandboxCPUPercent, step.RSSPerSaleKB, step.TimeWait)
		if !paid && live >= cfg.PaidLive {
			if rep.PaidTill, err = r.paidToTill(ctx, t, p, live); err != nil {
				return err
			}
			paid = true
		}
	}
	if !paid {
		rep.PaidTill, err = r.paidToTill(ctx, t, p, live)
	}
	return err
}

// StepInput is what one ramp step observed of serve.
type StepInput struct {
	Live                                int
	Base, From, To                      ProcSample // at 0 sales; the window's start and end
	BaseMetrics, FromMetrics, ToMetrics Metrics
}

// StepFigures turns a step's readings into its figures: the per-sale
// poll interval from the histogram's growth over the window (or, without
// the histogram, the mean implied by the polls made: live ÷ polls a
// second), CPU over the window, and memory above the 0-sale baseline per
// live sale.
func StepFigures(in StepInput) RampStep {
	wall := in.To.At.Sub(in.From.At).Seconds()
	s := RampStep{Live: in.Live, Pending: -1, HoldSeconds: wall, CPUPercent: CPUPercent(in.From, in.To),
		RSSMB: float64(in.To.RSSBytes) / (1 << 20)}
	if v, ok := in.ToMetrics.Sum(salesMetric, map[string]string{"status": "pending"}); ok {
		s.Pending = int(v)
	}
	if in.Live > 0 {
		s.RSSPerSaleKB = float64(in.To.RSSBytes-in.Base.RSSBytes) / 1024 / float64(in.Live)
		h0, ok0 := in.BaseMetrics.Sum(heapMetric, nil)
		h1, ok1 := in.ToMetrics.Sum(heapMetric, nil)
		if ok0 && ok1 {
			s.HeapPerSaleKB = (h1 - h0) / 1024 / float64(in.Live)
		}
	}
	g0, _ := in.FromMetrics.Sum(callsMetric, pollCalls)
	g1, _ := in.ToMetrics.Sum(callsMetric, pollCalls)
	if wall > 0 {
		s.PollsPerSec = (g1 - g0) / wall
	}
	h0, _ := in.FromMetrics.Histogram(pollIntervalMetric, nil)
	h1, ok := in.ToMetrics.Histogram(pollIntervalMetric, nil)
	if d := h1.Sub(h0); ok && d.Count > 0 {
		s.PollSource = SourceHistogram
		s.PollP50Ms = 1000 * d.Quantile(0.50)
		s.PollP99Ms = 1000 * d.Quantile(0.99)
		s.PollMeanMs = 1000 * d.Sum / d.Count
		return s
	}
	s.PollSource = SourceGETCount
	if s.PollsPerSec > 0 && in.Live > 0 {
		s.PollMeanMs = 1000 * float64(in.Live) / s.PollsPerSec
	}
	return s
}

// createMany creates n sales from conc goroutines and returns how many
// were created. A few failures are retried; more than 1 % (plus ten) is
// an error.
func createMany(ctx context.Context, t till, n, conc int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	var (
		made, failed atomic.Int64
		claimed      atomic.Int64
		first        atomic.Pointer[error]
		wg           sync.WaitGroup
	)
	limit := int64(n/100 + 10)
	for range conc {
		wg.Go(func() {
			for ctx.Err() == nil && failed.Load() <= limit {
				if claimed.Add(1) > int64(n) {
					return
				}
				if _, err := t.createSale(ctx); err != nil {
					claimed.Add(-1) // someone makes it again
					failed.Add(1)
					first.CompareAndSwap(nil, &err)
					continue
				}
				made.Add(1)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return int(made.Load()), err
	}
	if failed.Load() > limit {
		return int(made.Load()), fmt.Errorf("%d creates failed: %w", failed.Load(), *first.Load())
	}
	return int(made.Load()), nil
}

// paidToTill pays PaidSamples new sales through the sandbox, PaidConcurrency
// at a time, each at a random moment within a second of its stream
// opening, and times until the till's stream says paid.
func (r *runner) paidToTill(ctx context.Context, t till, p *pair, live int) (PaidToTill, error) {
	r.progress("  paid→till with %d live", live)
	var (
		mu    sync.Mutex
		waits []time.Duration
		errs  []error
		next  atomic.Int64
		wg    sync.WaitGroup
	)
	for range max(r.cfg.PaidConcurrency, 1) {
		wg.Go(func() {
			for next.Add(1) <= int64(r.cfg.PaidSamples) && ctx.Err() == nil {
				s, err := t.pendingSale(ctx)
				var d time.Duration
				if err == nil {
					delay := time.Duration(mrand.Int64N(int64(time.Second)))
					d, err = t.watchPaid(ctx, s.ID, delay, func(ctx context.Context) error {
						return payRequest(ctx, r.c, p.sb.BaseURL, s.PaymentRequest.ID)
					})
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					waits = append(waits, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return PaidToTill{}, err
	}
	if len(errs) > 0 {
		return PaidToTill{}, fmt.Errorf("paid→till: %d of %d samples failed: %w", len(errs), r.cfg.PaidSamples, errors.Join(errs[:min(3, len(errs))]...))
	}
	out := PaidToTill{Live: live, Latency: Summarize(waits)}
	r.progress("  paid→till: p50 %.0f ms, p99 %.0f ms, max %.0f ms", out.Latency.P50Ms, out.Latency.P99Ms, out.Latency.MaxMs)
	return out, nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
