package bench

import (
	"math"
	"slices"
	"time"
)

// Latency summarises durations in milliseconds, the unit the report
// prints and the targets are written in.
type Latency struct {
	N     int     `json:"n"`
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

// Summarize returns the p50, p99 and max of ds (nearest rank); the zero
// Latency for none. ds is not modified.
func Summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Latency{N: len(s), P50Ms: ms(Percentile(s, 0.50)), P99Ms: ms(Percentile(s, 0.99)), MaxMs: ms(s[len(s)-1])}
}

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted by the
// nearest-rank method: the smallest value with at least q of the values
// at or below it, so p99 of 100 samples is the 99th, not the largest.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(q*float64(n) - 1e-9)) // 0.99×100 is 99, not 100, despite float rounding
	rank = max(1, min(n, rank))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
