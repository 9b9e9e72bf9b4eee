package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// streamWriteTimeout bounds each write of an event stream. A stream
// outlives the HTTP server's WriteTimeout, which would fail its first write
// after it (over HTTP/2, reset the stream), so stream moves the write
// deadline to now + streamWriteTimeout before every write: a live client is
// never cut, one that stopped reading is dropped after this long. It is
// longer than the 15 s heartbeat. stream also clears the read deadline of
// the server's ReadTimeout: the stream reads nothing, and no read deadline
// may end it.
const streamWriteTimeout = 30 * time.Second

// stream writes first, then every snapshot from ch that keep accepts,
// with a comment line every 15 s to keep proxies from closing the stream.
// It ends when the client goes or a write fails.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, first *pos.Sale, ch <-chan *pos.Sale, keep func(*pos.Sale) bool, endOnFinal bool) error {
	if _, ok := w.(http.Flusher); !ok {
		return fmt.Errorf("events: response cannot be streamed")
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil // the connection is gone
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// write sends text and flushes it, within streamWriteTimeout
	write := func(text string) bool {
		if err := rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		if _, err := io.WriteString(w, text); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	send := func(sl *pos.Sale) bool {
		b, _ := json.Marshal(s.view(r.Context(), sl))
		return write(fmt.Sprintf("event: sale\nid: %d\ndata: %s\n\n", sl.Version, b))
	}
	version := -1
	if first != nil {
		if !send(first) {
			return nil
		}
		version = first.Version
		if endOnFinal && first.Status.Final() {
			return nil
		}
	} else if !write(": waiting for a sale\n\n") {
		return nil
	}
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	// the stream's credential is checked again and again: a terminal
	// revoked (by `centrapos terminal revoke`, in another process) loses
	// its open streams within one check
	recheck := time.NewTicker(s.cfg.CredentialCheck)
	defer recheck.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-recheck.C:
			if _, err := s.terminalOf(r); err != nil {
				write("event: revoked\ndata: {}\n\n")
				return nil
			}
		case <-heartbeat.C:
			if !write(": keep-alive\n\n") {
				return nil
			}
		case sl, ok := <-ch:
			if !ok {
				return nil
			}
			if !keep(sl) || first != nil && sl.ID == first.ID && sl.Version <= version {
				continue
			}
			if !send(sl) {
				return nil
			}
			if endOnFinal && sl.Status.Final() {
				return nil
			}
		}
	}
}
