// Package pos is the payment protocol of a point of sale taking payment
// through Centrapay: sales, conditions, cancel and void, POS timeouts,
// unknown outcomes, refunds, pre-auth, crash recovery and reports.
//
// It holds no HTTP handlers and no SQL. It declares what it needs — the
// Centrapay calls (Centrapay) and a durable record (Journal) — and the
// packages centrapay and store/sqlite provide them.
//
// Every side effect at Centrapay is journaled as an Op (an intent with its
// idempotency material) before the call and its outcome after it, so a
// process that dies at any instant is resumed by Recover without a
// Payment Request left open, a payment left unrecorded, or a refund made
// twice.
//
// The engine's operations (StartSale, Cancel, Refund, …) do not stop when
// their caller's context is cancelled: a till that hangs up mid-call must
// not leave an intent without its outcome. Each Centrapay call is bounded
// by the client's own timeout.
package pos
