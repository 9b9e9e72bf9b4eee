package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/centrapos/centrapos/internal/bench"
)

func TestParseRamp(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{in: "500,1000,2000,5000,10000", want: []int{500, 1000, 2000, 5000, 10000}},
		{in: " 200 , 500", want: []int{200, 500}},
		{in: "7", want: []int{7}},
		{in: "", wantErr: true},
		{in: "500,x", wantErr: true},
		{in: "0,10", wantErr: true},
		{in: "1000,500", wantErr: true},
		{in: "500,500", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseRamp(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("parseRamp(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestBenchBadFlags(t *testing.T) {
	for _, args := range [][]string{{"bench", "--ramp", "10,5"}, {"bench", "extra"}, {"bench", "--nope"}} {
		var out, errOut bytes.Buffer
		err := (&Main{Stdout: &out, Stderr: &errOut}).Run(context.Background(), args)
		var usage UsageError
		if !errors.As(err, &usage) {
			t.Errorf("Run(%q) = %v, want a usage error", args, err)
		}
	}
}

// TestBenchQuick runs `centrapos bench --quick` end to end against a
// freshly built binary (the test binary cannot be re-executed as
// sandbox and serve) and checks every section of its JSON holds numbers
// a working run has.
func TestBenchQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("bench: builds centrapos and runs it for about 30 s; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "centrapos")
	build, cancelBuild := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelBuild()
	cmd := exec.CommandContext(build, "go", "build", "-o", bin, "github.com/centrapos/centrapos/cmd/centrapos")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build centrapos: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	file := filepath.Join(dir, "bench.json")
	start := time.Now()
	err := (&Main{Stdout: &out, Stderr: &errOut}).Run(ctx, []string{"bench", "--quick", "--bin", bin, "--json", "--out", file})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	t.Logf("bench --quick took %v", time.Since(start).Round(time.Second))
	var rep bench.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the report: %v\n%s", err, out.String())
	}
	saved, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(saved), bytes.TrimSpace(out.Bytes())) {
		t.Error("--out file differs from the JSON printed")
	}

	if rep.Machine.CPUs <= 0 || rep.Machine.GoVersion == "" || rep.Seconds <= 0 {
		t.Errorf("machine or duration missing: %+v, %v s", rep.Machine, rep.Seconds)
	}
	if len(rep.Ramp) != 2 || rep.Ramp[0].Live != 200 || rep.Ramp[1].Live != 500 {
		t.Fatalf("ramp = %+v, want steps at 200 and 500 live", rep.Ramp)
	}
	for _, s := range rep.Ramp {
		if s.PollMeanMs <= 0 || s.PollsPerSec <= 0 || s.CPUPercent <= 0 || s.RSSMB <= 0 || s.HoldSeconds <= 0 {
			t.Errorf("ramp step %+v: want positive poll interval, polls/s, CPU, RSS", s)
		}
		if s.PollSource == bench.SourceHistogram && (s.PollP50Ms <= 0 || s.PollP99Ms < s.PollP50Ms) {
			t.Errorf("ramp step %+v: histogram percentiles", s)
		}
	}
	if len(rep.Create) != 2 {
		t.Fatalf("create = %+v, want concurrency 1 and 16", rep.Create)
	}
	for _, c := range rep.Create {
		if c.PerSec <= 0 || c.Sales <= 0 || c.Latency.P50Ms <= 0 || c.Latency.P99Ms < c.Latency.P50Ms {
			t.Errorf("create %+v: want positive throughput and latencies", c)
		}
	}
	if l := rep.PaidTill.Latency; rep.PaidTill.Live != 500 || l.N != 20 || l.P50Ms <= 0 || l.MaxMs < l.P99Ms {
		t.Errorf("paid→till = %+v, want 20 samples at 500 live", rep.PaidTill)
	}
	if rep.Sandbox.GetsPerSec <= 0 || rep.Sandbox.Latency.N <= 0 {
		t.Errorf("sandbox = %+v", rep.Sandbox)
	}
	if b := rep.Budget; b.Creates+b.Errors != b.Tills*b.Rounds || b.Creates <= 0 || b.Latency.MaxMs <= 0 || len(b.RoundMaxMs) != b.Rounds {
		t.Errorf("budget = %+v, want every create answered", b)
	}
	if j := rep.Journal; j.Skipped != "" || (j.SavesPerSec <= 0 || j.RawInsertsPerSec <= 0 || j.Ratio <= 0) {
		t.Errorf("journal = %+v", j)
	}
	if len(rep.Targets) != 6 {
		t.Errorf("targets = %+v, want 6", rep.Targets)
	}
}
