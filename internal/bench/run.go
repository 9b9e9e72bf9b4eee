package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// JournalRatioFunc measures the journal's saves against raw inserts in a
// scratch directory, with concurrency writers for d. It is a function
// value so the bench does not depend on the store it measures; the
// command wires store/sqlite's.
type JournalRatioFunc func(ctx context.Context, dir string, concurrency int, d time.Duration) (JournalRatio, error)

// Config is what to measure and for how long.
type Config struct {
	Bin  string // the centrapos binary to run as sandbox and serve
	Dir  string // where to make the temporary directory ("": the system's)
	Keep bool   // keep the temporary directory (journals, logs) for a look afterwards

	Ramp   []int         // live sales at each step, ascending
	Settle time.Duration // after a step's sales are created, before measuring
	Hold   time.Duration // the measured window of each step

	CreateConcurrency []int         // POST /sales runs, one per concurrency
	CreateFor         time.Duration // each

	PaidSamples     int // paid→till samples
	PaidLive        int // measured after the first ramp step with at least this many live
	PaidConcurrency int // samples in flight at once

	SandboxConcurrency int
	SandboxFor         time.Duration

	BudgetRateLimit int // calls a minute, for serve and the sandbox
	BudgetTills     int
	BudgetRounds    int
	BudgetEvery     time.Duration // between rounds: a till's checkout cycle

	JournalConcurrency int
	JournalFor         time.Duration
	Journal            JournalRatioFunc // nil: not measured, and the report says so

	Progress io.Writer // one line per phase; nil: none
}

// DefaultConfig is the full run: about four minutes.
func DefaultConfig() Config {
	return Config{
		Ramp: []int{500, 1000, 2000, 5000, 10000}, Settle: 3 * time.Second, Hold: 10 * time.Second,
		CreateConcurrency: []int{1, 16}, CreateFor: 5 * time.Second,
		PaidSamples: 100, PaidLive: 1000, PaidConcurrency: 8,
		SandboxConcurrency: 16, SandboxFor: 3 * time.Second,
		BudgetRateLimit: 200, BudgetTills: 8, BudgetRounds: 4, BudgetEvery: 10 * time.Second,
		JournalConcurrency: 16, JournalFor: 3 * time.Second,
	}
}

// QuickConfig is a run of about half a minute, with a small ramp: for
// tests and a first look.
func QuickConfig() Config {
	c := DefaultConfig()
	c.Ramp, c.Settle, c.Hold = []int{200, 500}, 2*time.Second, 3*time.Second
	c.CreateFor = 2 * time.Second
	c.PaidSamples, c.PaidLive = 20, 500
	c.SandboxFor = time.Second
	c.BudgetRounds, c.BudgetEvery = 2, 5*time.Second
	c.JournalFor = time.Second
	return c
}

// Run starts the processes, measures, stops them and returns the report.
// Every child is killed and the temporary directory removed (unless
// Keep) before it returns, also when ctx is cancelled or a step fails.
func Run(ctx context.Context, cfg Config) (rep Report, err error) {
	if cfg.Bin == "" {
		return Report{}, errors.New("bench: no centrapos binary")
	}
	if len(cfg.Ramp) == 0 {
		return Report{}, errors.New("bench: empty ramp")
	}
	dir, err := os.MkdirTemp(cfg.Dir, "centrapos-bench-")
	if err != nil {
		return Report{}, fmt.Errorf("bench: %w", err)
	}
	defer func() {
		if cfg.Keep {
			if cfg.Progress != nil {
				fmt.Fprintf(cfg.Progress, "bench: journals and logs kept in %s\n", dir)
			}
			return
		}
		if rmErr := os.RemoveAll(dir); rmErr != nil && err == nil {
			err = fmt.Errorf("bench: remove %s: %w", dir, rmErr)
		}
	}()
	r := &runner{cfg: cfg, dir: dir, c: newHTTPClient(), admin: hasAdminFlag(ctx, cfg.Bin)}
	defer r.c.CloseIdleConnections()
	rep = Report{StartedAt: time.Now(), Machine: ThisMachine()}
	if !r.admin {
		rep.Notes = append(rep.Notes, "serve has no --admin-listen: /metrics scraped from the main listener")
	}
	phases := []struct {
		name string
		run  func(context.Context, *Report) error
	}{
		{"POST /sales throughput and the sandbox's ceiling", r.createAndSandbox},
		{"creates under the rate budget", r.budget},
		{"journal vs raw inserts", r.journal},
		{"live sales ramp and paid→till", r.ramp},
	}
	for _, ph := range phases {
		r.progress("bench: %s", ph.name)
		if err := ph.run(ctx, &rep); err != nil {
			return rep, fmt.Errorf("bench: %s: %w", ph.name, err)
		}
	}
	rep.Seconds = time.Since(rep.StartedAt).Seconds()
	rep.Targets = Evaluate(rep)
	return rep, nil
}

// runner holds what the phases share.
type runner struct {
	cfg   Config
	dir   string
	c     *http.Client
	admin bool
}

func (r *runner) progress(format string, a ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, format+"\n", a...)
	}
}

// pair starts a sandbox and serve in a subdirectory of the run's.
func (r *runner) pair(ctx context.Context, name string, rateLimit, tills int) (*pair, error) {
	d := filepath.Join(r.dir, name)
	if err := os.Mkdir(d, 0o700); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return startPair(ctx, pairConfig{bin: r.cfg.Bin, dir: d, rateLimit: rateLimit, tills: tills, adminFlag: r.admin})
}
