package bench

import (
	"bufio"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Sample is one line of the Prometheus text exposition format.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Metrics is one scrape of a /metrics page.
type Metrics []Sample

// ParseMetrics reads the Prometheus text exposition format (version
// 0.0.4): comments and blank lines are skipped, each other line is
// name{label="value",...} value [timestamp]. It is a small parser rather
// than prometheus/common/expfmt so the bench needs nothing beyond what the
// server's /metrics prints.
func ParseMetrics(text string) (Metrics, error) {
	var out Metrics
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("parse metrics line %d: %w", n, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return out, nil
}

func parseSample(line string) (Sample, error) {
	end := strings.IndexAny(line, "{ \t")
	if end <= 0 {
		return Sample{}, fmt.Errorf("no value in %q", line)
	}
	s := Sample{Name: line[:end], Labels: map[string]string{}}
	rest := line[end:]
	if rest[0] == '{' {
		var err error
		if rest, err = parseLabels(rest[1:], s.Labels); err != nil {
			return Sample{}, err
		}
	}
	f := strings.Fields(rest)
	if len(f) < 1 || len(f) > 2 {
		return Sample{}, fmt.Errorf("want a value and an optional timestamp in %q", line)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return Sample{}, fmt.Errorf("value of %s: %w", s.Name, err)
	}
	s.Value = v
	return s, nil
}

// parseLabels reads label="value" pairs up to the closing brace into
// labels and returns what follows it. Values are quoted with \\, \" and
// \n escapes.
func parseLabels(in string, labels map[string]string) (string, error) {
	for {
		in = strings.TrimLeft(in, " \t,")
		if in == "" {
			return "", fmt.Errorf("unterminated labels")
		}
		if in[0] == '}' {
			return in[1:], nil
		}
		eq := strings.IndexByte(in, '=')
		if eq <= 0 || len(in) < eq+2 || in[eq+1] != '"' {
			return "", fmt.Errorf("bad label at %q", in)
		}
		name := strings.TrimSpace(in[:eq])
		var v strings.Builder
		i := eq + 2
		for ; i < len(in) && in[i] != '"'; i++ {
			c := in[i]
			if c == '\\' && i+1 < len(in) {
				i++
				switch in[i] {
				case 'n':
					c = '\n'
				default:
					c = in[i]
				}
			}
			v.WriteByte(c)
		}
		if i >= len(in) {
			return "", fmt.Errorf("unterminated value of label %s", name)
		}
		labels[name] = v.String()
		in = in[i+1:]
	}
}

// matches reports whether s carries every label of want.
func (s Sample) matches(want map[string]string) bool {
	for k, v := range want {
		if s.Labels[k] != v {
			return false
		}
	}
	return true
}

// Sum adds the values of the samples named name that carry the labels of
// want (all of them for a nil want), and reports whether there was any.
func (m Metrics) Sum(name string, want map[string]string) (float64, bool) {
	var sum float64
	found := false
	for _, s := range m {
		if s.Name == name && s.matches(want) {
			sum += s.Value
			found = true
		}
	}
	return sum, found
}

// Bucket is a histogram bucket: how many observations were ≤ UpperBound.
type Bucket struct {
	UpperBound float64
	Count      float64
}

// Histogram is a cumulative Prometheus histogram.
type Histogram struct {
	Buckets []Bucket // by UpperBound, the last one +Inf
	Count   float64
	Sum     float64
}

// Histogram collects the histogram name (its _bucket, _count and _sum
// series) among the samples that carry the labels of want, adding the
// series of different label sets together; ok is false when there is
// none.
func (m Metrics) Histogram(name string, want map[string]string) (h Histogram, ok bool) {
	byLE := map[float64]float64{}
	for _, s := range m {
		if !s.matches(want) {
			continue
		}
		switch s.Name {
		case name + "_bucket":
			le, err := strconv.ParseFloat(s.Labels["le"], 64)
			if err != nil {
				continue
			}
			byLE[le] += s.Value
			ok = true
		case name + "_count":
			h.Count += s.Value
		case name + "_sum":
			h.Sum += s.Value
		}
	}
	for le, c := range byLE {
		h.Buckets = append(h.Buckets, Bucket{UpperBound: le, Count: c})
	}
	slices.SortFunc(h.Buckets, func(a, b Bucket) int { return compareFloat(a.UpperBound, b.UpperBound) })
	return h, ok
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Sub returns the observations made between prev and h, two scrapes of
// the same histogram: bucket by bucket, h minus prev.
func (h Histogram) Sub(prev Histogram) Histogram {
	before := map[float64]float64{}
	for _, b := range prev.Buckets {
		before[b.UpperBound] = b.Count
	}
	out := Histogram{Count: h.Count - prev.Count, Sum: h.Sum - prev.Sum}
	for _, b := range h.Buckets {
		out.Buckets = append(out.Buckets, Bucket{UpperBound: b.UpperBound, Count: b.Count - before[b.UpperBound]})
	}
	return out
}

// Quantile estimates the q-quantile the way PromQL's histogram_quantile
// does: find the bucket holding rank q×count and interpolate linearly
// within it (from 0 for the first bucket). A quantile in the +Inf bucket
// is the highest finite bound. NaN for an empty histogram.
func (h Histogram) Quantile(q float64) float64 {
	if len(h.Buckets) == 0 {
		return math.NaN()
	}
	total := h.Buckets[len(h.Buckets)-1].Count
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	prevBound, prevCount := 0.0, 0.0
	for i, b := range h.Buckets {
		if b.Count >= rank {
			if math.IsInf(b.UpperBound, 1) {
				if i == 0 {
					return math.NaN()
				}
				return prevBound
			}
			if b.Count == prevCount {
				return b.UpperBound
			}
			return prevBound + (b.UpperBound-prevBound)*(rank-prevCount)/(b.Count-prevCount)
		}
		prevBound, prevCount = b.UpperBound, b.Count
	}
	return prevBound
}
