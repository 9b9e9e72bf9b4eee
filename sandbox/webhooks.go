package sandbox

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
)

// webhookKid names the sandbox's signing key in its JWKS.
const webhookKid = "sandbox-es256-1"

// webhookAttempts bounds the retries of one notification (Centrapay
// retries for two weeks; the sandbox for a few minutes of its clock).
const webhookAttempts = 8

// signer is the sandbox's webhook signing key.
type signer struct {
	key *ecdsa.PrivateKey
	jwk centrapay.JWK // its public half
}

func newSigner() (*signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sandbox: webhook key: %w", err)
	}
	jwk, err := centrapay.PublicJWK(&k.PublicKey, webhookKid)
	if err != nil {
		return nil, fmt.Errorf("sandbox: webhook key: %w", err)
	}
	return &signer{key: k, jwk: jwk}, nil
}

// JWKS is the sandbox's public key set, served at /.well-known/jwks.json
// and /api/.well-known/jwks.json.
func (s *Sandbox) JWKS() centrapay.JWKS {
	return centrapay.JWKS{Keys: []centrapay.JWK{s.signer.jwk}}
}

// AddWebhook subscribes url to the notifications from now on, as
// Config.Webhooks does from the start: for a subscriber whose URL is known
// only once the sandbox runs (the demo's POS server).
func (s *Sandbox) AddWebhook(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhooks = append(s.webhooks[:len(s.webhooks):len(s.webhooks)], url)
}

// notify sends a notification of activity a to every subscriber, at least
// once, from its own goroutine. s.mu is held by the caller.
func (s *Sandbox) notify(typ string, req *request, a centrapay.Activity) {
	if len(s.webhooks) == 0 {
		return
	}
	s.notified++
	n := centrapay.Notification{ID: fmt.Sprintf("ntf_%s_%d", req.pr.ID, s.notified), Type: typ, Data: a,
		AccountID: req.merchant.AccountID, Test: true, CreatedAt: centrapay.NewTimestamp(s.now())}
	body, err := json.Marshal(n)
	if err != nil {
		return
	}
	for _, url := range s.webhooks {
		s.deliveries.Add(1)
		go func() {
			defer s.deliveries.Done()
			s.deliver(url, body)
		}()
	}
}

// deliver posts body to url until it answers 2xx, with exponential
// backoff on the sandbox's wall clock.
func (s *Sandbox) deliver(url string, body []byte) {
	delay := time.Second
	for attempt := 1; attempt <= webhookAttempts; attempt++ {
		auth, err := centrapay.SignWebhook(s.signer.key, webhookKid, url, body, s.wall.Now())
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return
			}
		}
		s.logger.Warn("webhook delivery failed", "url", url, "attempt", attempt, "err", err)
		if !clock.Sleep(s.wall, delay, s.ctx.Done()) {
			return
		}
		delay *= 2
	}
}

// Close stops webhook deliveries and waits for them to end.
func (s *Sandbox) Close() {
	s.stop()
	s.deliveries.Wait()
}

func (s *Sandbox) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, s.JWKS())
}
