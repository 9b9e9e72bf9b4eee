package clock

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func TestFakeTimersFireInOrder(t *testing.T) {
	f := NewFake(t0)
	a := f.NewTimer(2 * time.Second)
	b := f.NewTimer(1 * time.Second)
	c := f.NewTimer(5 * time.Second)
	f.Advance(3 * time.Second)
	if got := <-b.C(); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("b fired at %v, want t0+1s", got)
	}
	if got := <-a.C(); !got.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("a fired at %v, want t0+2s", got)
	}
	select {
	case <-c.C():
		t.Fatal("c fired before its deadline")
	default:
	}
	if f.Waiters() != 1 {
		t.Errorf("Waiters = %d, want 1", f.Waiters())
	}
	if !f.Now().Equal(t0.Add(3 * time.Second)) {
		t.Errorf("Now = %v, want t0+3s", f.Now())
	}
}

func TestFakeStopAndReset(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer = false")
	}
	if tm.Stop() {
		t.Fatal("second Stop = true")
	}
	f.Advance(2 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	tm.Reset(time.Second)
	f.Advance(time.Second)
	select {
	case <-tm.C():
	default:
		t.Fatal("reset timer did not fire")
	}
}

func TestFakeBlockUntil(t *testing.T) {
	f := NewFake(t0)
	done := make(chan bool)
	go func() {
		done <- Sleep(f, time.Minute, nil)
	}()
	if !f.BlockUntil(1, nil) {
		t.Fatal("BlockUntil returned false")
	}
	f.Advance(time.Minute)
	if !<-done {
		t.Fatal("Sleep returned false")
	}
}

func TestSleepCancelled(t *testing.T) {
	f := NewFake(t0)
	stop := make(chan struct{})
	close(stop)
	if Sleep(f, time.Hour, stop) {
		t.Fatal("Sleep on a closed done = true")
	}
	if f.Waiters() != 0 {
		t.Fatalf("Waiters after cancelled Sleep = %d", f.Waiters())
	}
}
