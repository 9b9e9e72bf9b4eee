package group

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestQueue: items queued while the committers are held share one
// commit, each answered its own error; an item whose writer gives up
// before it is taken is dropped, unwritten; after Close, Submit refuses.
func TestQueue(t *testing.T) {
	var mu sync.Mutex
	var batches [][]string
	q := New(1, 3, func(batch []*Request[string]) []error {
		mu.Lock()
		defer mu.Unlock()
		var items []string
		errs := make([]error, len(batch))
		for i, r := range batch {
			items = append(items, r.Item)
			if r.Item == "bad" {
				errs[i] = errors.New("refused")
			}
		}
		batches = append(batches, items)
		return errs
	})
	queued := make(chan int, 8)
	q.Queued = func(n int) { queued <- n }
	resume := q.Pause()
	answers := map[string]chan error{}
	ctx, giveUp := context.WithCancel(context.Background())
	for _, item := range []string{"a", "bad", "gone", "b", "c"} {
		answers[item] = make(chan error, 1)
		c := context.Background()
		if item == "gone" {
			c = ctx
		}
		go func() { answers[item] <- q.Submit(c, item) }()
		<-queued
	}
	giveUp()
	if err := <-answers["gone"]; !errors.Is(err, context.Canceled) {
		t.Fatalf("an item given up before it was taken: %v", err)
	}
	resume()
	for item, want := range map[string]string{"a": "<nil>", "bad": "refused", "b": "<nil>", "c": "<nil>"} {
		if err := <-answers[item]; fmt.Sprint(err) != want {
			t.Errorf("%s answered %v, want %s", item, err, want)
		}
	}
	q.Close()
	if got := fmt.Sprint(batches); got != "[[a bad b] [c]]" {
		t.Errorf("batches %s, want [[a bad b] [c]] (at most 3 a commit, in the order queued, nothing given up)", got)
	}
	if err := q.Submit(context.Background(), "late"); !errors.Is(err, ErrClosed) {
		t.Errorf("submit after close: %v", err)
	}
}
