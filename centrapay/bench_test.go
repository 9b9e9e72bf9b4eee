package centrapay

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkGet measures one poll round trip on loopback, decoding included.
func BenchmarkGet(b *testing.B) {
	mux, c, _ := setup(b)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, prJSON) })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Get(ctx, "PR1"); err != nil {
			b.Fatal(err)
		}
	}
}
