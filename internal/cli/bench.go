package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/centrapos/centrapos/internal/bench"
	"github.com/centrapos/centrapos/store/sqlite"
)

// runBench measures a sandbox and a server started as separate processes
// on loopback, and prints the figures beside their targets. A missed
// target is a measurement, not a failure: only a run that cannot be made
// returns an error.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "", "the centrapos binary to start as sandbox and serve (default: this one)")
	quick := fs.Bool("quick", false, "a run of about 30 s with a small ramp (200,500), for a first look")
	ramp := fs.String("ramp", "", "live sales at each step of the ramp (default 500,1000,2000,5000,10000; with --quick 200,500)")
	hold := fs.Duration("hold", 0, "measured window at each ramp step (default 10s; with --quick 3s)")
	samples := fs.Int("paid-samples", 0, "paid→till samples (default 100; with --quick 20)")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of a table")
	out := fs.String("out", "", "also write the report as JSON to this file")
	dir := fs.String("dir", "", "where to make the temporary directory for the journals and logs (default: the system's; put it on the journal's disk)")
	keep := fs.Bool("keep", false, "keep the temporary directory (journals, serve.log, sandbox.log) and print where")
	timeout := fs.Duration("timeout", 8*time.Minute, "give up (and clean up) after this long")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return UsageError{fmt.Sprintf("bench: unexpected argument %q", fs.Arg(0))}
	}
	cfg := bench.DefaultConfig()
	if *quick {
		cfg = bench.QuickConfig()
	}
	if *ramp != "" {
		steps, err := parseRamp(*ramp)
		if err != nil {
			return UsageError{"bench: --ramp: " + err.Error()}
		}
		cfg.Ramp = steps
	}
	if *hold > 0 {
		cfg.Hold = *hold
	}
	if *samples > 0 {
		cfg.PaidSamples = *samples
	}
	cfg.Bin = *bin
	if cfg.Bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: find this binary: %w", err)
		}
		cfg.Bin = exe
	}
	cfg.Progress = stderr
	cfg.Dir, cfg.Keep = *dir, *keep
	cfg.Journal = sqliteJournalRatio
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *out != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("bench: encode report: %w", err)
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("bench: write report: %w", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("bench: print report: %w", err)
		}
		return nil
	}
	return bench.WriteTable(stdout, rep)
}

// sqliteJournalRatio is store/sqlite's saves-vs-raw-inserts measurement,
// in the bench's terms.
func sqliteJournalRatio(ctx context.Context, dir string, concurrency int, d time.Duration) (bench.JournalRatio, error) {
	r, err := sqlite.BenchRatio(ctx, dir, concurrency, d)
	if err != nil {
		return bench.JournalRatio{}, fmt.Errorf("journal ratio: %w", err)
	}
	return bench.JournalRatio{Concurrency: r.Concurrency, Seconds: r.Duration.Seconds(), SavesPerSec: r.SavesPerSec,
		RawInsertsPerSec: r.RawPerSec, Ratio: r.Ratio}, nil
}

// parseRamp reads "500,1000,2000": positive, strictly ascending counts.
func parseRamp(s string) ([]int, error) {
	var steps []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		if len(steps) > 0 && n <= steps[len(steps)-1] {
			return nil, fmt.Errorf("steps must ascend: %d after %d", n, steps[len(steps)-1])
		}
		steps = append(steps, n)
	}
	return steps, nil
}
