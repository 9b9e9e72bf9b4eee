package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// saleEvents streams a sale's snapshot on every change as Server-Sent
// Events, starting with the current one; the stream ends after a final
// snapshot.
func (s *Server) saleEvents(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ch, stop := s.eng.Subscribe(id)
	defer stop()
	sale, err := s.visibleSale(r, id)
	if err != nil {
		return err
	}
	return s.stream(w, r, sale, ch, func(sl *pos.Sale) bool { return true }, true)
}

// stream writes first, then every snapshot from ch that keep accepts,
// with a comment line every 15 s to keep proxies from closing the stream.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, first *pos.Sale, ch <-chan *pos.Sale, keep func(*pos.Sale) bool, endOnFinal bool) error {
	fl, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("events: response cannot be streamed")
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(sl *pos.Sale) {
		b, _ := json.Marshal(s.view(r.Context(), sl))
		fmt.Fprintf(w, "event: sale\nid: %d\ndata: %s\n\n", sl.Version, b)
		fl.Flush()
	}
	version := -1
	if first != nil {
		send(first)
		version = first.Version
		if endOnFinal && first.Status.Final() {
			return nil
		}
	} else {
		fmt.Fprint(w, ": waiting for a sale\n\n")
		fl.Flush()
	}
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-heartbeat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		case sl, ok := <-ch:
			if !ok {
				return nil
			}
			if !keep(sl) || first != nil && sl.ID == first.ID && sl.Version <= version {
				continue
			}
			send(sl)
			if endOnFinal && sl.Status.Final() {
				return nil
			}
		}
	}
}
