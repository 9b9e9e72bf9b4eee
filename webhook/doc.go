// Package webhook pushes centrapos's events to merchants' systems, as
// Stripe does, and lets those systems check what they receive.
//
// The events (sale.paid, sale.cancelled, sale.expired, sale.failed,
// refund.pending, refund.succeeded, refund.failed: pos.EventTypes) are
// decided by pos.EventsFor and written by the journal to its outbox in
// the same transaction as the change they report, with one pending
// delivery for each enabled endpoint that wants the type. A Deliverer,
// run by `centrapos serve` beside the engine, POSTs them:
//
//   - at least once: a delivery is done when the endpoint answers 2xx;
//     anything else (another status, a redirect, no answer within the
//     timeout, a crash of the server in between) is tried again, with
//     the same event id and body;
//   - in order per sale per endpoint: event n+1 of a sale is not sent to
//     an endpoint before event n succeeded there (or was given up);
//   - with exponential backoff and jitter (Backoff) for up to three days
//     (pos.DeliveryWindow), then marked failed; `centrapos webhook
//     redeliver` sends it again;
//   - without ever slowing a sale: the engine only writes the outbox, and
//     each endpoint has its own few slots of POSTs in flight, each with a
//     timeout, so a hanging endpoint holds back nobody else.
//
// Each POST carries the event as JSON — {"id", "type", "createdAt",
// "sequence", "data"} — and the headers Centrapos-Event-Id,
// Centrapos-Event-Type and Centrapos-Signature:
// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the
// endpoint's secret>. Receivers check it with Verify, and drop the
// event ids they have handled already.
package webhook
