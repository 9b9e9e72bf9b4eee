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
//	POST /sandbox/clock/advance                   {"seconds": N} (fake clock only)
//	POST /sandbox/reset                           forget every request
//	GET  /sandbox/ledger                          every request with paid and refunded amounts
package sandbox
