package bench

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Parallelism is the b.SetParallelism of the parallel benchmarks: 8
// goroutines per GOMAXPROCS, as many tills as a busy store has.
const Parallelism = 8

// Open opens a new journal for a benchmark and returns its Save and the
// raw insert it is compared with.
type Open func(b *testing.B) (SaveFunc, RawFunc)

// load is one of the benchmarks' concurrencies.
type load struct {
	name        string
	parallelism int // 0: one goroutine
}

// loads are one till ("seq"), and Parallelism goroutines per GOMAXPROCS
// ("par").
func loads() []load { return []load{{"seq", 0}, {"par", Parallelism}} }

// Saves is BenchmarkSave: Saves of the workload, a journal per load.
func Saves(b *testing.B, open Open) {
	for _, l := range loads() {
		b.Run(l.name, func(b *testing.B) {
			save, _ := open(b)
			p := NewPrefixes()
			loop(b, l.parallelism, func(ctx context.Context, w *Workload) error { return save(ctx, w.Next()) }, p)
		})
	}
}

// RawInserts is BenchmarkRawInsert: raw single-row inserts, a journal
// per load.
func RawInserts(b *testing.B, open Open) {
	for _, l := range loads() {
		b.Run(l.name, func(b *testing.B) {
			_, raw := open(b)
			p := NewPrefixes()
			loop(b, l.parallelism, func(ctx context.Context, w *Workload) error { return raw(ctx, w.Raw()) }, p)
		})
	}
}

// Ratios is BenchmarkRatio: Compare, a journal per load.
func Ratios(b *testing.B, open Open) {
	for _, l := range loads() {
		b.Run(l.name, func(b *testing.B) {
			save, raw := open(b)
			Compare(b, l.parallelism, raw, save)
		})
	}
}

// Compare runs b.N raw inserts and b.N saves, alike, and reports the time
// of each and their ratio (raw ns per row ÷ save ns per change,
// "save/raw": 1 means a change costs what a bare one-row commit costs).
// The two alternate in rounds, so that a change in the machine's load
// during the run weighs on both sides alike.
func Compare(b *testing.B, parallelism int, raw RawFunc, save SaveFunc) {
	goroutines := 1
	if parallelism > 0 {
		goroutines = parallelism * runtime.GOMAXPROCS(0)
	}
	p := NewPrefixes()
	workloads := func() []*Workload {
		w := make([]*Workload, goroutines)
		for i := range w {
			w[i] = NewWorkload(p.Next())
		}
		return w
	}
	rawW, saveW := workloads(), workloads()
	var rawTook, saveTook time.Duration
	for i := range rounds {
		n := b.N/rounds + min(1, max(0, b.N%rounds-i)) // b.N in all
		start := time.Now()
		if err := each(n, rawW, func(ctx context.Context, w *Workload) error { return raw(ctx, w.Raw()) }); err != nil {
			b.Fatal(err)
		}
		rawTook += time.Since(start)
		start = time.Now()
		if err := each(n, saveW, func(ctx context.Context, w *Workload) error { return save(ctx, w.Next()) }); err != nil {
			b.Fatal(err)
		}
		saveTook += time.Since(start)
	}
	rawNs := float64(rawTook.Nanoseconds()) / float64(b.N)
	saveNs := float64(saveTook.Nanoseconds()) / float64(b.N)
	b.ReportMetric(rawNs, "raw-ns/row")
	b.ReportMetric(saveNs, "save-ns/change")
	b.ReportMetric(rawNs/saveNs, "save/raw")
}

// rounds is how many times Compare and Measure alternate the two sides.
const rounds = 4

// each makes n calls of fn in all, from a goroutine per workload; the
// first error stops them.
func each(n int, workloads []*Workload, fn func(context.Context, *Workload) error) error {
	ctx := context.Background()
	var left atomic.Int64
	left.Store(int64(n))
	errs := make([]error, len(workloads))
	var wg sync.WaitGroup
	for i, w := range workloads {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if errs[i] = fn(ctx, w); errs[i] != nil {
					left.Store(0)
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// loop calls fn b.N times in all, from one goroutine or in parallel.
func loop(b *testing.B, parallelism int, fn func(context.Context, *Workload) error, p *Prefixes) {
	ctx := context.Background()
	if parallelism == 0 {
		w := NewWorkload(p.Next())
		for range b.N {
			if err := fn(ctx, w); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.SetParallelism(parallelism)
	b.RunParallel(func(pb *testing.PB) {
		w := NewWorkload(p.Next())
		for pb.Next() {
			if err := fn(ctx, w); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
