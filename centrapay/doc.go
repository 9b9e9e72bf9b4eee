// Package centrapay is a client for Centrapay's Payment Request API as a
// merchant's point of sale uses it with one merchant-terminal API key.
//
// Every call returns one of three things: the answer; a *Error, when
// Centrapay refused the call with an error body (a known outcome: the call
// did not take effect; match its code with errors.Is(err, ErrRequestPaid));
// or an *UnknownOutcomeError (IsUnknownOutcome reports it), when the call
// may or may not have taken effect: a network error, a timeout, a 5xx, a
// malformed body. Centrapay's rules for an unknown outcome are to retry and,
// if the status still cannot be learned, void.
//
// Calls that are safe to repeat (reads, void, refund, confirm, condition
// answers, pay with an idempotency key) are retried with jittered
// exponential backoff; their body is encoded once so every retry sends the
// same refund externalRef or idempotencyKey. Create is never retried: it is
// not idempotent at Centrapay, so after an unknown create look the request
// up with ListByExternalRef.
//
// All calls of one API key share a rate Budget (200 requests a minute by
// default) in which live sales go before background work (WithPriority).
// The API key is never logged and never appears in an error or in the
// client's printed form; it is never sent to another host (redirects are not
// followed) nor in clear (plain http only to a loopback address). Amounts are BigNumber strings; nothing uses floats.
//
// Webhook calls from Centrapay are checked by WebhookVerifier (ES256 JWTs
// verified with go-jose against Centrapay's JWKS, with the claim rules
// Centrapay documents); SignWebhook makes them, for the sandbox.
//
//	c, err := centrapay.NewClient(centrapay.WithAPIKey(key))
//	pr, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: cfg, Value: centrapay.Cents(1000, "NZD"), ExternalRef: "INV-1"})
package centrapay
