package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a Clock for tests: time stands still until Advance moves it, and
// timers fire in order as it passes them. Waiters tells how many timers are
// pending, so a test can wait for the code under test to start waiting
// (BlockUntil) instead of sleeping.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	changed chan struct{} // closed and replaced whenever timers change
}

// NewFake returns a Fake clock that reads t.
func NewFake(t time.Time) *Fake {
	return &Fake{now: t, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After returns a channel that receives once the fake time has moved d on.
func (f *Fake) After(d time.Duration) <-chan time.Time { return f.NewTimer(d).C() }

// NewTimer returns a timer that fires once the fake time has moved d on.
// A timer of d <= 0 fires at once.
func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	t.schedule(d)
	return t
}

// Advance moves the fake time on by d, firing every timer it passes, in
// order of their deadlines.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	end := f.now.Add(d)
	for {
		sort.Slice(f.timers, func(i, j int) bool { return f.timers[i].at.Before(f.timers[j].at) })
		if len(f.timers) == 0 || f.timers[0].at.After(end) {
			break
		}
		t := f.timers[0]
		if t.at.After(f.now) {
			f.now = t.at
		}
		f.removeLocked(t)
		t.fire(f.now)
	}
	f.now = end
}

// Set moves the fake time to t (forwards only) and fires the timers passed.
func (f *Fake) Set(t time.Time) {
	if d := t.Sub(f.Now()); d > 0 {
		f.Advance(d)
	}
}

// Waiters returns the number of pending timers.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// BlockUntil waits until at least n timers are pending, or done is closed;
// it reports whether n were reached. It never sleeps: it wakes on each
// change of the timer set.
func (f *Fake) BlockUntil(n int, done <-chan struct{}) bool {
	for {
		f.mu.Lock()
		if len(f.timers) >= n {
			f.mu.Unlock()
			return true
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-done:
			return false
		}
	}
}

// NextDeadline returns the earliest pending timer's deadline; ok is false
// when no timer is pending.
func (f *Fake) NextDeadline() (t time.Time, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, tm := range f.timers {
		if i == 0 || tm.at.Before(t) {
			t = tm.at
		}
	}
	return t, len(f.timers) > 0
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *Fake) removeLocked(t *fakeTimer) bool {
	for i, x := range f.timers {
		if x == t {
			f.timers = append(f.timers[:i], f.timers[i+1:]...)
			f.notifyLocked()
			return true
		}
	}
	return false
}

type fakeTimer struct {
	f  *Fake
	c  chan time.Time
	at time.Time
}

// schedule arms the timer; the caller holds f.mu.
func (t *fakeTimer) schedule(d time.Duration) {
	t.at = t.f.now.Add(d)
	if d <= 0 {
		t.fire(t.f.now)
		return
	}
	t.f.timers = append(t.f.timers, t)
	t.f.notifyLocked()
}

func (t *fakeTimer) fire(now time.Time) {
	select {
	case t.c <- now:
	default:
	}
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	return t.f.removeLocked(t)
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.f.removeLocked(t)
	select {
	case <-t.c:
	default:
	}
	t.schedule(d)
	return was
}
