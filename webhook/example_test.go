package webhook_test

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/centrapos/centrapos/webhook"
)

// A merchant's receiver: it checks the signature on the raw body, skips
// the events it has handled already, and answers 2xx at once.
func ExampleVerify() {
	secret := "whsec_…"  // printed once by `centrapos webhook add`
	var handled sync.Map // a real receiver keeps the ids in its database, with what it does
	http.HandleFunc("POST /centrapos/events", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute) != nil {
			http.Error(w, "not signed by centrapos", http.StatusBadRequest)
			return
		}
		if _, seen := handled.LoadOrStore(r.Header.Get(webhook.EventIDHeader), true); !seen {
			// … decode body: {"id", "type", "createdAt", "sequence", "data"}, and act on it
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
