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

func TestTryLock(t *testing.T) {
	var m keyed.Mutex
	unlock, ok := m.TryLock("a")
	if !ok {
		t.Fatal("a free key was not locked")
	}
	if _, ok := m.TryLock("a"); ok {
		t.Error("a held key was locked twice")
	}
	other, ok := m.TryLock("b")
	if !ok {
		t.Error("another key was refused")
	}
	other()
	unlock()
	if again, ok := m.TryLock("a"); !ok {
		t.Error("a freed key was refused")
	} else {
		again()
	}
	held := m.Lock("c")
	if _, ok := m.TryLock("c"); ok {
		t.Error("TryLock took a key held by Lock")
	}
	held()
	if m.Len() != 0 {
		t.Errorf("%d keys kept", m.Len())
	}
}
