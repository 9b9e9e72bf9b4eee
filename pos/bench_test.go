package pos_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/sqlite"
)

// BenchmarkSaleLifecycle is one QR sale, created, polled, paid in the
// wallet and polled to paid: engine, journal, client and sandbox over
// loopback HTTP.
func BenchmarkSaleLifecycle(b *testing.B) {
	r := newRig(b)
	b.ReportAllocs()
	for b.Loop() {
		s, err := r.eng.StartSale(r.ctx, r.input(nil))
		if err != nil {
			b.Fatal(err)
		}
		r.fake.Advance(time.Second)
		r.settle()
		r.sb.PatronPay(s.PaymentRequest.ID, "", 0)
		r.fake.Advance(time.Second)
		r.settle()
	}
}

// BenchmarkJournalWrites is one journaled sale change (a sale update and
// its history row, in one synchronous WAL transaction).
func BenchmarkJournalWrites(b *testing.B) {
	j, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	s := &pos.Sale{ID: "s_bench", TerminalID: "t", ExternalRef: "r", Value: 1000, Currency: "NZD", Status: pos.StatusPending, CreatedAt: time.Now()}
	if err := j.Save(b.Context(), &pos.Change{Sale: s, NewSale: true, Note: "sale started"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		s.Version = i // one more than the journal's: each save is the next version
		if err := j.Save(b.Context(), &pos.Change{Sale: s, Note: fmt.Sprint("change ", i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPollTick is one engine tick with 100 sales in flight: every
// sale polled once, concurrently (per op: the whole tick).
func BenchmarkPollTick(b *testing.B) {
	r := newRig(b, func(c *pos.Config) { c.ExpirySeconds = 86400 })
	for range 100 {
		if _, err := r.eng.StartSale(r.ctx, r.input(nil)); err != nil {
			b.Fatal(err)
		}
	}
	r.settle()
	b.ReportAllocs()
	for b.Loop() {
		r.fake.Advance(time.Second)
		if n := r.eng.Step(r.ctx); n != 100 {
			b.Fatalf("%d sales polled, want 100", n)
		}
	}
}
