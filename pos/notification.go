package pos

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Notifications remembers the Centrapay notifications (webhook calls)
// already processed, so that each is processed at most once. Centrapay
// delivers at least once, for two weeks, in any order; a replayed call is
// the same bytes again. A notification is the same one when both its id
// and the SHA-256 of its body match: a redelivery carries the same body,
// while an id reused with another body (a sender whose counter started
// again) is a new notification. Nothing keys on the call's signature,
// whose bytes anyone can change without making it invalid (see
// centrapay.WebhookVerifier). Implementations: store/sqlite and
// store/postgres, held to store/journaltest.Notifications.
type Notifications interface {
	// SeenNotification records notification id with the hex SHA-256 of
	// its body, received at at, and reports whether it was recorded
	// already. Of concurrent calls with the same id and hash, exactly
	// one reports false.
	SeenNotification(ctx context.Context, id, bodyHash string, at time.Time) (seen bool, err error)
	// PurgeNotifications forgets the notifications received before
	// before and says how many.
	PurgeNotifications(ctx context.Context, before time.Time) (int64, error)
}

// NotificationRetention is how long a processed notification is
// remembered: Centrapay retries one for up to two weeks.
const NotificationRetention = 15 * 24 * time.Hour

// PollRequest has the sale that holds Payment Request id driven now, as a
// hint that Centrapay has news of it (a webhook notification): the sale is
// put first in the engine's schedule, its request polled as soon as a
// worker takes it, and what Centrapay answers is applied, as at any poll.
// So a notification can never mark anything paid by itself: a forged or
// replayed one costs a poll and changes nothing Centrapay does not say.
// It does not wait for the poll, so Centrapay's call is answered at once
// (a slow Centrapay cannot hold its webhook). A request no sale holds,
// and a sale already final, are left alone (nil).
func (e *Engine) PollRequest(ctx context.Context, paymentRequestID string) error {
	if paymentRequestID == "" {
		return nil
	}
	s, err := e.j.FindSale(ctx, SaleQuery{PaymentRequestID: paymentRequestID})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("poll request %s: %w", paymentRequestID, err)
	}
	if s.Status.Final() {
		return nil
	}
	if e.nudge(ctx, s.ID) {
		return nil // another engine holds it: it polls
	}
	e.schedule(saleWork(s.ID), e.clk.Now())
	return nil
}

// PurgeNotifications forgets the notifications older than
// NotificationRetention, when the journal keeps them. Run calls it every
// hour.
func (e *Engine) PurgeNotifications(ctx context.Context) (int64, error) {
	ns, ok := e.j.(Notifications)
	if !ok {
		return 0, nil
	}
	n, err := ns.PurgeNotifications(ctx, e.clk.Now().Add(-NotificationRetention))
	if err != nil {
		return 0, fmt.Errorf("purge notifications: %w", err)
	}
	if n > 0 {
		e.log.Info("purged Centrapay notifications", "count", n, "older than", NotificationRetention)
	}
	return n, nil
}
