// Package sandbox is a local Centrapay: an http.Handler that answers the
// Payment Request calls a point of sale makes, with the same paths, X-Api-Key
// auth, JSON field names, status codes and error bodies, so a POS can be
// developed and tested with no network and no Centrapay account.
//
// Time comes from an injected clock, so a test moves a request past its
// expiry in microseconds. Patron behaviour is chosen by test barcodes
// (Scenarios) or driven through the control API under /sandbox/, which needs
// no key:
//
//	GET  /sandbox/scenarios                       test barcodes by name
//	POST /sandbox/payment-requests/{id}/pay       {"assetType", "amount"} (both optional)
//	POST /sandbox/payment-requests/{id}/approve   the patron approves
//	POST /sandbox/payment-requests/{id}/decline   the patron declines
//	POST /sandbox/clock/advance                   {"seconds": N} (manual clock only); answers the clock
//	GET  /sandbox/clock                           {"now", "manual"}
//	POST /sandbox/reset                           forget every request
//	GET  /sandbox/ledger                          every request with paid and refunded amounts
//
// # Manual clock
//
// A sandbox whose Config.Clock is a *clock.Fake runs on a manual clock:
// business time (createdAt, expiries, void and refund windows, pre-auth
// lapses) stands still until advanced, by Sandbox.Advance in Go or by
// POST /sandbox/clock/advance from any language. On the real clock that
// endpoint answers 409. The command `centrapos sandbox --clock manual`
// starts one at the real time of its start; Config.WallClock (the real
// clock there) keeps rate limits refilling and webhooks flowing.
//
// # Fidelity
//
// Response shapes follow the examples of Centrapay's docs (repository
// centrapay/centrapay-docs), which the client's tests keep as test data in
// centrapay/testdata/docs and compare this sandbox against. Rules the docs
// give that the sandbox enforces include: a payment of less than what
// remains only on a request created with partialAllowed, paid with mode
// partial-payment (else 403 INSUFFICIENT_ASSET_VALUE); and a refund of a
// farmlands.nzd payment only with the refunding merchant's
// merchantConfigId (else 400).
package sandbox
