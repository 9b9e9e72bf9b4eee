package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHammer(t *testing.T) {
	var calls atomic.Int64
	h := hammer(context.Background(), 4, 50*time.Millisecond, func(context.Context) error {
		time.Sleep(time.Millisecond)
		if calls.Add(1)%3 == 0 {
			return errors.New("every third fails")
		}
		return nil
	})
	if h.ok+h.errors != int(calls.Load()) || h.ok == 0 || h.errors == 0 || len(h.latencies) != h.ok+h.errors {
		t.Errorf("hammer = %d ok, %d errors, %d latencies; %d calls", h.ok, h.errors, len(h.latencies), calls.Load())
	}
	if h.elapsed < 50*time.Millisecond || h.firstErr == nil {
		t.Errorf("elapsed %v, first error %v", h.elapsed, h.firstErr)
	}
}

// fakeSales is a terminal API that creates sales, failing the first
// fail creates with 503, and checks what a till must send.
func fakeSales(t *testing.T, fail int64) (*httptest.Server, *atomic.Int64) {
	var created, seen atomic.Int64
	keys := make(chan string, 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/sales" || r.Header.Get("Authorization") != "Bearer tok" ||
			len(r.Header.Get("Idempotency-Key")) != 32 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		keys <- r.Header.Get("Idempotency-Key")
		if seen.Add(1) <= fail {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		n := created.Add(1)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id": "s%d", "status": "pending", "paymentRequest": {"id": "pr%d"}}`, n, n)
	}))
	t.Cleanup(func() {
		srv.Close()
		close(keys)
		uniq := map[string]bool{}
		for k := range keys {
			if uniq[k] {
				t.Errorf("Idempotency-Key %s sent twice", k)
			}
			uniq[k] = true
		}
	})
	return srv, &created
}

func TestCreateMany(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		fail    int64
		wantErr bool
	}{
		{name: "all created", n: 300},
		{name: "a few failures are made up", n: 300, fail: 5},
		{name: "too many failures", n: 300, fail: 100, wantErr: true},
		{name: "none wanted", n: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, created := fakeSales(t, tt.fail)
			tl := till{c: srv.Client(), base: srv.URL, token: "tok"}
			got, err := createMany(context.Background(), tl, tt.n, 8)
			if (err != nil) != tt.wantErr {
				t.Fatalf("createMany error = %v, want error %v", err, tt.wantErr)
			}
			if got != int(created.Load()) {
				t.Errorf("createMany = %d, server created %d", got, created.Load())
			}
			if !tt.wantErr && got != tt.n {
				t.Errorf("createMany = %d, want %d", got, tt.n)
			}
		})
	}
}

func TestWatchPaid(t *testing.T) {
	paid := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/sales/s1/events" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"status\":\"pending\"}\n\n")
		w.(http.Flusher).Flush()
		<-paid
		time.Sleep(20 * time.Millisecond)
		fmt.Fprint(w, "event: sale\ndata: {\"id\":\"s1\",\"status\":\"paid\"}\n\n")
		w.(http.Flusher).Flush()
	}))
	defer srv.Close()
	tl := till{c: srv.Client(), base: srv.URL, token: "tok"}
	d, err := tl.watchPaid(context.Background(), "s1", 10*time.Millisecond, func(context.Context) error {
		close(paid)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d < 20*time.Millisecond || d > 5*time.Second {
		t.Errorf("watchPaid = %v, want the 20 ms the stream took after the payment", d)
	}
	_, err = tl.watchPaid(context.Background(), "nope", 0, func(context.Context) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("watchPaid of an unknown sale: %v", err)
	}
}
