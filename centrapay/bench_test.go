package centrapay

import (
	"context"
	"net/http"
	"testing"

	"github.com/centrapos/centrapos/clock"
)

// BenchmarkGet measures one poll round trip on loopback, decoding included.
// Its budget runs on the real clock at a rate no run can exhaust: on the
// test's fake clock a budget never refills, and the benchmark would stop
// for good once b.N passed its burst.
func BenchmarkGet(b *testing.B) {
	mux, c, _ := setup(b, WithBudget(NewBudget(1<<40, clock.Real{})))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, prJSON) })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Get(ctx, "PR1"); err != nil {
			b.Fatal(err)
		}
	}
}
