// Package keyed provides a mutex per key, for serialising work on one
// sale or one idempotency key while others run. Keys are forgotten when
// no one holds or waits for them, so a long-running server does not
// accumulate one mutex per key it ever saw.
package keyed

import "sync"

// Mutex is a set of mutexes by key. The zero value is ready to use.
type Mutex struct {
	mu    sync.Mutex
	locks map[string]*entry
}

type entry struct {
	mu   sync.Mutex
	refs int // holders and waiters
}

// Lock locks key and returns the function that unlocks it.
func (m *Mutex) Lock(key string) (unlock func()) {
	m.mu.Lock()
	if m.locks == nil {
		m.locks = map[string]*entry{}
	}
	e, ok := m.locks[key]
	if !ok {
		e = &entry{}
		m.locks[key] = e
	}
	e.refs++
	m.mu.Unlock()
	e.mu.Lock()
	return m.unlocker(key, e)
}

// unlocker returns the function that unlocks key's entry e and forgets
// the key when no one else holds or waits for it.
func (m *Mutex) unlocker(key string, e *entry) func() {
	return func() {
		e.mu.Unlock()
		m.mu.Lock()
		defer m.mu.Unlock()
		e.refs--
		if e.refs == 0 {
			delete(m.locks, key)
		}
	}
}

// TryLock locks key if no one holds it, and returns the function that
// unlocks it; ok is false, and nothing is locked, when it is held.
func (m *Mutex) TryLock(key string) (unlock func(), ok bool) {
	m.mu.Lock()
	if m.locks == nil {
		m.locks = map[string]*entry{}
	}
	if _, held := m.locks[key]; held {
		m.mu.Unlock()
		return nil, false
	}
	e := &entry{refs: 1}
	e.mu.Lock()
	m.locks[key] = e
	m.mu.Unlock()
	return m.unlocker(key, e), true
}

// Len is how many keys are held or waited for.
func (m *Mutex) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.locks)
}
