package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultWebhookPath is where Centrapay's webhook calls are received.
const DefaultWebhookPath = "/webhooks/centrapay"

// Webhooks configures the receiver of Centrapay's webhook calls
// (Config.Webhooks). A verified notification is a hint: the engine polls
// its Payment Request at once (pos.Engine.PollRequest), and only
// Centrapay's answer to that poll changes a sale. The one thing a
// notification records by itself is that a refund is complete
// (payment-request:refund-completed, pos.Engine.RefundCompleted): that is
// Centrapay's signed word, no poll can say it, and it moves no money.
type Webhooks struct {
	// Verifier checks each call's JWT; its audience is the URL Centrapay
	// calls. Required.
	Verifier *centrapay.WebhookVerifier
	// Notifications remembers the notifications processed, so that each
	// is processed once. Required.
	Notifications pos.Notifications
	// Path is the endpoint's path; "" is DefaultWebhookPath.
	Path string
	// Separate serves the endpoint only through WebhookHandler (a
	// listener of its own, the one open to the internet), not through
	// the server's main handler.
	Separate bool
}

// hookResults are the outcomes of a webhook call, the label values of
// centrapos_centrapay_notifications_total.
var hookResults = []string{"accepted", "duplicate", "rejected", "malformed", "too_large", "unavailable", "error"}

// initWebhooks checks cfg.Webhooks and registers its metric.
func (s *Server) initWebhooks() error {
	if s.cfg.Webhooks == nil {
		return nil
	}
	h := new(*s.cfg.Webhooks) // a copy: the caller's stays as it was
	s.cfg.Webhooks = h
	if h.Verifier == nil || h.Notifications == nil {
		return errors.New("server: webhooks need a Verifier and Notifications")
	}
	if h.Path == "" {
		h.Path = DefaultWebhookPath
	}
	if !strings.HasPrefix(h.Path, "/") || strings.ContainsAny(h.Path, "{} \t?#") || h.Path == "/" ||
		strings.HasPrefix(h.Path, "/api/") || strings.HasPrefix(h.Path, "/static/") {
		return fmt.Errorf("server: webhook path %q: want a path of its own, such as %s", h.Path, DefaultWebhookPath)
	}
	s.notifications = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "centrapos_centrapay_notifications_total",
		Help: "Centrapay webhook calls received, by result: accepted (the request was polled), duplicate, rejected " +
			"(not Centrapay's: bad signature or claims), malformed, too_large, unavailable (signing keys not to be had), error."},
		[]string{"result"})
	for _, r := range hookResults {
		s.notifications.WithLabelValues(r)
	}
	return s.cfg.Registry.Register(s.notifications)
}

// withWebhooks adds the webhook endpoint in front of h, the rest of the
// server, unless it has a listener of its own. It is outside the
// cross-origin protection, which is for browsers: Centrapay is a server.
func (s *Server) withWebhooks(h http.Handler) http.Handler {
	if s.cfg.Webhooks == nil || s.cfg.Webhooks.Separate {
		return h
	}
	m := http.NewServeMux()
	m.HandleFunc("POST "+s.cfg.Webhooks.Path, s.webhook)
	m.Handle("/", h)
	return m
}

// WebhookHandler serves the webhook endpoint alone (nothing else: no
// terminal API, no UI), for a listener of its own; nil when webhooks are
// off.
func (s *Server) WebhookHandler() http.Handler {
	if s.cfg.Webhooks == nil {
		return nil
	}
	m := http.NewServeMux()
	m.HandleFunc("POST "+s.cfg.Webhooks.Path, s.webhook)
	return s.logged(m)
}

// webhook receives a Centrapay webhook call: it reads the body (at most
// 1 MiB: 413), verifies the call (401 if it is not Centrapay's, with no
// word of which check failed; 400 if Centrapay's body is not a
// notification; 503 while the signing keys cannot be had), records the
// notification by id and body hash so that a redelivery or a replay is
// answered 200 and nothing more, and asks the engine to poll its Payment
// Request now. The answer is 200 once the notification is recorded,
// whatever the poll does: the engine goes on polling regardless.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	ctx, hooks, id := r.Context(), s.cfg.Webhooks, requestID(r.Context())
	answer := func(status int, result string) {
		s.notifications.WithLabelValues(result).Inc()
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "60")
		}
		writeJSON(w, status, map[string]string{"status": result})
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.log.Warn("Centrapay webhook: body too large", "id", id, "limit", maxBody)
			answer(http.StatusRequestEntityTooLarge, "too_large")
			return
		}
		answer(http.StatusBadRequest, "malformed")
		return
	}
	// the Authorization header is never logged: the reason is enough
	n, err := hooks.Verifier.Verify(ctx, r.Header.Get("Authorization"), body)
	switch {
	case errors.Is(err, centrapay.ErrWebhookMalformed):
		s.log.Warn("Centrapay webhook: signed, but not a notification", "id", id, "reason", err)
		answer(http.StatusBadRequest, "malformed")
		return
	case errors.Is(err, centrapay.ErrWebhookKeysUnavailable):
		s.log.Warn("Centrapay webhook: its signing key cannot be had now", "id", id, "reason", err)
		answer(http.StatusServiceUnavailable, "unavailable")
		return
	case err != nil:
		s.log.Warn("Centrapay webhook rejected", "id", id, "remote", r.RemoteAddr, "reason", err)
		answer(http.StatusUnauthorized, "rejected")
		return
	}
	if n.Type == centrapay.NotificationRefundCompleted {
		// Centrapay's signed word that a refund is complete, recorded
		// before the notification is (recording it again changes
		// nothing): a failure is answered 500, and Centrapay sends it
		// again
		if err := s.eng.RefundCompleted(ctx, &n.Data); err != nil {
			s.log.Error("Centrapay webhook: record a refund completed", "id", id, "notification", n.ID, "err", err)
			answer(http.StatusInternalServerError, "error")
			return
		}
	}
	sum := sha256.Sum256(body)
	seen, err := hooks.Notifications.SeenNotification(ctx, n.ID, hex.EncodeToString(sum[:]), s.clk.Now())
	if err != nil {
		s.log.Error("Centrapay webhook: record the notification", "id", id, "notification", n.ID, "err", err)
		answer(http.StatusInternalServerError, "error") // Centrapay sends it again
		return
	}
	if seen {
		s.log.Info("Centrapay notification already processed", "id", id, "notification", n.ID, "type", n.Type)
		answer(http.StatusOK, "duplicate")
		return
	}
	s.log.Info("Centrapay notification", "id", id, "notification", n.ID, "type", n.Type,
		"paymentRequest", n.Data.PaymentRequestID, "test", n.Test)
	if err := s.eng.PollRequest(ctx, n.Data.PaymentRequestID); err != nil {
		s.log.Warn("Centrapay notification: poll of its request", "id", id, "notification", n.ID, "err", err)
	}
	answer(http.StatusOK, "accepted")
}
