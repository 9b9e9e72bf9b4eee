package bench

import (
	"math"
	"testing"
)

const page = `# HELP centrapos_centrapay_calls_total Calls to Centrapay by endpoint and outcome.
# TYPE centrapos_centrapay_calls_total counter
centrapos_centrapay_calls_total{endpoint="/api/payment-requests/{id}",method="GET",outcome="200"} 1500
centrapos_centrapay_calls_total{endpoint="/api/payment-requests/{id}",method="GET",outcome="error"} 2
centrapos_centrapay_calls_total{endpoint="/api/payment-requests",method="POST",outcome="200"} 40
# TYPE centrapos_poll_interval_seconds histogram
centrapos_poll_interval_seconds_bucket{le="0.5"} 0
centrapos_poll_interval_seconds_bucket{le="1"} 80
centrapos_poll_interval_seconds_bucket{le="2"} 100
centrapos_poll_interval_seconds_bucket{le="+Inf"} 100
centrapos_poll_interval_seconds_sum 95.5
centrapos_poll_interval_seconds_count 100
odd_labels{a="x,y",b="q\"uote",c="back\\slash"} 1.5e3 1712345678000
go_memstats_heap_inuse_bytes 8.192e+06
nan_metric NaN
`

func TestParseMetrics(t *testing.T) {
	m, err := ParseMetrics(page)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 12 {
		t.Fatalf("%d samples, want 12", len(m))
	}
	tests := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
		found  bool
	}{
		{"polls over outcomes", "centrapos_centrapay_calls_total", pollCalls, 1502, true},
		{"all calls", "centrapos_centrapay_calls_total", nil, 1542, true},
		{"one outcome", "centrapos_centrapay_calls_total", map[string]string{"outcome": "error"}, 2, true},
		{"no label", "go_memstats_heap_inuse_bytes", nil, 8192000, true},
		{"escaped labels, timestamp", "odd_labels", map[string]string{"a": "x,y", "b": `q"uote`, "c": `back\slash`}, 1500, true},
		{"absent", "nope", nil, 0, false},
		{"label absent", "go_memstats_heap_inuse_bytes", map[string]string{"x": "y"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := m.Sum(tt.metric, tt.labels)
			if got != tt.want || found != tt.found {
				t.Errorf("Sum = %v, %v; want %v, %v", got, found, tt.want, tt.found)
			}
		})
	}
	if v, _ := m.Sum("nan_metric", nil); !math.IsNaN(v) {
		t.Errorf("nan_metric = %v", v)
	}
}

func TestParseMetricsErrors(t *testing.T) {
	for _, in := range []string{
		"name_only",
		`x{a="1"`,
		`x{a=1} 2`,
		`x{a="1} 2`,
		"x one",
		"x 1 2 3",
	} {
		if _, err := ParseMetrics(in); err == nil {
			t.Errorf("ParseMetrics(%q) = nil error", in)
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	m, err := ParseMetrics(page)
	if err != nil {
		t.Fatal(err)
	}
	h, ok := m.Histogram("centrapos_poll_interval_seconds", nil)
	if !ok || h.Count != 100 || h.Sum != 95.5 || len(h.Buckets) != 4 {
		t.Fatalf("Histogram = %+v, %v", h, ok)
	}
	tests := []struct {
		name string
		h    Histogram
		q    float64
		want float64
	}{
		// rank 50 of 80 in (0.5, 1]: 0.5 + 0.5×50/80
		{"p50 interpolated", h, 0.5, 0.8125},
		// rank 99: 19 of 20 in (1, 2]
		{"p99 interpolated", h, 0.99, 1.95},
		{"in the +Inf bucket: the highest finite bound", Histogram{Buckets: []Bucket{{1, 10}, {math.Inf(1), 20}}}, 0.99, 1},
		{"first bucket from 0", Histogram{Buckets: []Bucket{{2, 10}, {math.Inf(1), 10}}}, 0.5, 1},
		{"empty", Histogram{Buckets: []Bucket{{1, 0}, {math.Inf(1), 0}}}, 0.5, math.NaN()},
		{"no buckets", Histogram{}, 0.5, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.h.Quantile(tt.q)
			if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tt.want) > 1e-9) {
				t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestHistogramSub(t *testing.T) {
	before := Histogram{Count: 10, Sum: 9, Buckets: []Bucket{{1, 8}, {2, 10}, {math.Inf(1), 10}}}
	after := Histogram{Count: 30, Sum: 40, Buckets: []Bucket{{1, 8}, {2, 25}, {math.Inf(1), 30}}}
	d := after.Sub(before)
	want := Histogram{Count: 20, Sum: 31, Buckets: []Bucket{{1, 0}, {2, 15}, {math.Inf(1), 20}}}
	if d.Count != want.Count || d.Sum != want.Sum || len(d.Buckets) != 3 {
		t.Fatalf("Sub = %+v, want %+v", d, want)
	}
	for i := range want.Buckets {
		if d.Buckets[i] != want.Buckets[i] {
			t.Errorf("bucket %d = %+v, want %+v", i, d.Buckets[i], want.Buckets[i])
		}
	}
	// all 20 new observations are in (1, 2], 15 of them ≤ 2 and 5 above:
	// the p50 is in (1, 2]
	if q := d.Quantile(0.5); q <= 1 || q > 2 {
		t.Errorf("p50 of the difference = %v, want in (1, 2]", q)
	}
}
