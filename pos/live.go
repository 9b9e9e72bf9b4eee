package pos

import (
	"context"
	"sync"
	"time"
)

// liveSales holds the open sales the engine drives, each as last journaled
// (write-through: the journal stays the truth, and a restarted engine reads
// them back from it). A poll that changes nothing reads nothing from disk,
// and a till asking after its sale reads memory.
type liveSales struct {
	mu    sync.Mutex
	sales map[string]*liveSale
}

type liveSale struct {
	sale   *Sale     // as journaled; never handed out, only copies of it
	polled time.Time // when Centrapay last answered a poll of it
}

func newLiveSales() *liveSales { return &liveSales{sales: map[string]*liveSale{}} }

// get returns a copy of open sale id, or nil when it is not held.
func (l *liveSales) get(id string) *Sale {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ls, ok := l.sales[id]; ok {
		return ls.sale.clone()
	}
	return nil
}

// put holds a copy of s as journaled, or lets it go once it is final; it
// reports whether s was held and has now ended.
func (l *liveSales) put(s *Sale) (ended bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.Status.Final() {
		_, held := l.sales[s.ID]
		delete(l.sales, s.ID)
		return held
	}
	if ls, ok := l.sales[s.ID]; ok {
		ls.sale = s.clone()
		return false
	}
	l.sales[s.ID] = &liveSale{sale: s.clone()}
	return false
}

// drop forgets sale id: the next read goes to the journal.
func (l *liveSales) drop(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.sales, id)
}

// polled records that a poll of sale id was answered at t and returns when
// the one before was (zero if none).
func (l *liveSales) polled(id string, t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	ls, ok := l.sales[id]
	if !ok {
		return time.Time{}
	}
	prev := ls.polled
	ls.polled = t
	return prev
}

// count is how many open sales are held.
func (l *liveSales) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sales)
}

// sale returns a copy of sale id to change: from memory while it is open,
// else from the journal (and held from then on if it is open).
func (e *Engine) sale(ctx context.Context, id string) (*Sale, error) {
	if s := e.live.get(id); s != nil {
		return s, nil
	}
	s, err := e.j.Sale(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.holds(saleWork(id)) {
		e.live.put(s)
	}
	return s, nil
}
