package bench

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestStepFigures(t *testing.T) {
	t0 := time.Unix(1000, 0)
	base := ProcSample{At: t0, CPU: time.Second, RSSBytes: 20 << 20}
	from := ProcSample{At: t0.Add(10 * time.Second), CPU: 2 * time.Second, RSSBytes: 29 << 20}
	to := ProcSample{At: t0.Add(20 * time.Second), CPU: 7 * time.Second, RSSBytes: 30 << 20}
	heap := func(v string) Metrics { return mustParse(t, "go_memstats_heap_inuse_bytes "+v+"\n") }
	calls := func(n string) string {
		return `centrapos_centrapay_calls_total{endpoint="/api/payment-requests/{id}",method="GET",outcome="200"} ` + n + "\n" +
			`centrapos_centrapay_calls_total{endpoint="/api/payment-requests",method="POST",outcome="200"} 99999` + "\n"
	}
	t.Run("from the GET count", func(t *testing.T) {
		s := StepFigures(StepInput{Live: 1000, Base: base, From: from, To: to, BaseMetrics: heap("1048576"),
			FromMetrics: mustParse(t, calls("5000")),
			ToMetrics:   mustParse(t, calls("15000")+"go_memstats_heap_inuse_bytes 11534336\n"+`centrapos_sales{status="pending"} 1000`+"\n")})
		want := RampStep{Live: 1000, Pending: 1000, HoldSeconds: 10, PollSource: SourceGETCount, PollMeanMs: 1000, PollsPerSec: 1000,
			CPUPercent: 50, RSSMB: 30, RSSPerSaleKB: 10.24, HeapPerSaleKB: 10.24}
		if !near(s, want) {
			t.Errorf("StepFigures = %+v\nwant %+v", s, want)
		}
	})
	t.Run("from the histogram", func(t *testing.T) {
		hist := func(le1, inf, sum string) string {
			return `centrapos_poll_interval_seconds_bucket{le="1"} ` + le1 + "\n" +
				`centrapos_poll_interval_seconds_bucket{le="2"} ` + inf + "\n" +
				`centrapos_poll_interval_seconds_bucket{le="+Inf"} ` + inf + "\n" +
				"centrapos_poll_interval_seconds_sum " + sum + "\ncentrapos_poll_interval_seconds_count " + inf + "\n"
		}
		s := StepFigures(StepInput{Live: 100, Base: base, From: from, To: to,
			FromMetrics: mustParse(t, hist("50", "50", "50")+calls("0")),
			ToMetrics:   mustParse(t, hist("50", "150", "160")+calls("1000"))})
		if s.PollSource != SourceHistogram || math.Abs(s.PollP50Ms-1500) > 1e-6 || math.Abs(s.PollP99Ms-1990) > 1e-6 ||
			math.Abs(s.PollMeanMs-1100) > 1e-6 || s.Pending != -1 || s.HeapPerSaleKB != 0 {
			t.Errorf("StepFigures = %+v", s)
		}
	})
}

func mustParse(t *testing.T, text string) Metrics {
	t.Helper()
	m, err := ParseMetrics(text)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// near compares steps, floats to a millionth.
func near(a, b RampStep) bool {
	f := func(x, y float64) bool { return math.Abs(x-y) < 1e-6 }
	return a.Live == b.Live && a.Pending == b.Pending && a.PollSource == b.PollSource && f(a.HoldSeconds, b.HoldSeconds) &&
		f(a.PollP50Ms, b.PollP50Ms) && f(a.PollP99Ms, b.PollP99Ms) && f(a.PollMeanMs, b.PollMeanMs) && f(a.PollsPerSec, b.PollsPerSec) &&
		f(a.CPUPercent, b.CPUPercent) && f(a.RSSMB, b.RSSMB) && f(a.RSSPerSaleKB, b.RSSPerSaleKB) && f(a.HeapPerSaleKB, b.HeapPerSaleKB)
}

func TestEvaluate(t *testing.T) {
	good := Report{
		Ramp:     []RampStep{{Live: 500, PollSource: SourceHistogram, PollP99Ms: 3000}, {Live: 10000, PollSource: SourceHistogram, PollP99Ms: 1100, RSSPerSaleKB: 4}},
		Create:   []Throughput{{Concurrency: 1, PerSec: 300}, {Concurrency: 16, PerSec: 1200}},
		PaidTill: PaidToTill{Live: 1000, Latency: Latency{N: 100, P99Ms: 900}},
		Budget:   BudgetRun{RateLimit: 200, Tills: 8, Latency: Latency{N: 40, MaxMs: 1500}},
	}
	for _, tg := range Evaluate(good) {
		if !tg.Pass || strings.Contains(tg.Got, "(at") {
			t.Errorf("%+v: want a pass at the target's own load", tg)
		}
	}
	if n := len(Evaluate(good)); n != 6 {
		t.Errorf("%d targets, want 6", n)
	}
	bad := Report{
		Ramp:     []RampStep{{Live: 500, PollSource: SourceGETCount, PollMeanMs: 1300, RSSPerSaleKB: 12, TimeWait: 13395}},
		Create:   []Throughput{{Concurrency: 16, PerSec: 999}},
		PaidTill: PaidToTill{Live: 500, Latency: Latency{N: 20, P99Ms: 1101}},
		Budget:   BudgetRun{RateLimit: 200, Tills: 8, Errors: 1, Latency: Latency{N: 40, MaxMs: 100}},
	}
	for _, tg := range Evaluate(bad) {
		if tg.Pass || tg.Unknown {
			t.Errorf("%+v: want a FAIL", tg)
		}
	}
	ts := Evaluate(bad)
	if !strings.Contains(ts[0].Got, "no p99; mean 1.30 s (at 500 live)") {
		t.Errorf("poll target %q does not say it is a mean at 500 live", ts[0].Got)
	}
	bad.Ramp[0].PollMeanMs = 1000
	if tg := Evaluate(bad)[0]; tg.Pass || !tg.Unknown {
		t.Errorf("%+v: a mean within the target decides nothing", tg)
	}
	if !strings.Contains(ts[4].Got, "(at 500 live)") {
		t.Errorf("paid→till target %q does not say 500 live", ts[3].Got)
	}
}

func TestWriteTable(t *testing.T) {
	r := Report{
		StartedAt: time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC), Seconds: 240,
		Machine:  Machine{CPUs: 2, CPUModel: "AMD EPYC", GoVersion: "go1.26.8", OS: "linux/amd64"},
		Ramp:     []RampStep{{Live: 500, PollSource: SourceGETCount, PollMeanMs: 1001, PollsPerSec: 500, CPUPercent: 15, RSSMB: 30.5, RSSPerSaleKB: 3.2}},
		Create:   []Throughput{{Concurrency: 16, PerSec: 533, Sales: 1079, Latency: Latency{P50Ms: 27.1, P99Ms: 75.1, MaxMs: 100}}},
		PaidTill: PaidToTill{Live: 500, Latency: Latency{N: 20, P50Ms: 387, P99Ms: 978, MaxMs: 978}},
		Journal:  JournalRatio{Skipped: "not wired"},
		Sandbox:  SandboxCeiling{Concurrency: 16, GetsPerSec: 34420},
		Budget:   BudgetRun{RateLimit: 200, Tills: 8, Rounds: 2, Latency: Latency{N: 16, MaxMs: 480}, RoundMaxMs: []float64{480, 20}},
		Notes:    []string{"a note"},
	}
	r.Targets = Evaluate(r)
	var b bytes.Buffer
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"2026-11-26T05:00:00Z", "2 CPUs, AMD EPYC; go1.26.8", "1001 ms", "34420/s", "skipped: not wired",
		"POST /sales, concurrency 16", "533/s", "FAIL", "pass", "note: a note", "p99 978 ms", "slowest by round: 480 ms, 20.0 ms",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestMsOrDash(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{{0, "-"}, {-1, "-"}, {4.44, "4.4 ms"}, {978.4, "978 ms"}, {12345, "12.3 s"}}
	for _, tt := range tests {
		if got := msOrDash(tt.v); got != tt.want {
			t.Errorf("msOrDash(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestAdminURL(t *testing.T) {
	tests := []struct{ line, want string }{
		{"centrapos admin on http://127.0.0.1:40123 (metrics, pprof)", "http://127.0.0.1:40123"},
		{`time=2026-11-26T05:00:00Z level=INFO msg="centrapos admin on http://127.0.0.1:40123"`, "http://127.0.0.1:40123"},
		{"centrapos admin on http://127.0.0.1:40123.", "http://127.0.0.1:40123"},
		{`level=INFO msg="centrapos admin on" url=http://127.0.0.1:40123`, "http://127.0.0.1:40123"},
		{"centrapos serving on http://127.0.0.1:8080", ""},
		{"centrapos admin on nothing", ""},
	}
	for _, tt := range tests {
		if got := adminURL(tt.line); got != tt.want {
			t.Errorf("adminURL(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	if got := CPUModel(info); got != "AMD EPYC 7B13" {
		t.Errorf("CPUModel = %q", got)
	}
	if got := CPUModel("processor: 0\n"); got != "" {
		t.Errorf("CPUModel without a model = %q", got)
	}
	if got := osRelease("NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"); got != "Debian GNU/Linux 12 (bookworm)" {
		t.Errorf("osRelease = %q", got)
	}
}
