package keyed_test

import (
	"sync"
	"testing"

	"github.com/centrapos/centrapos/internal/keyed"
)

func TestMutex(t *testing.T) {
	var m keyed.Mutex
	counts := map[string]*int{"a": new(int), "b": new(int), "c": new(int)} // read only: each key's int is its own
	var wg sync.WaitGroup
	for i := range 200 {
		key := []string{"a", "b", "c"}[i%3]
		wg.Go(func() {
			unlock := m.Lock(key)
			*counts[key]++ // a race here if one key's holders overlapped (go test -race)
			unlock()
		})
	}
	wg.Wait()
	if *counts["a"]+*counts["b"]+*counts["c"] != 200 {
		t.Errorf("counts %d %d %d", *counts["a"], *counts["b"], *counts["c"])
	}
	if m.Len() != 0 {
		t.Errorf("%d keys kept after every unlock", m.Len())
	}
}
