package pos_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
)

// counting counts the calls the engine makes to Centrapay.
type counting struct {
	pos.Centrapay
	n atomic.Int64
}

func (c *counting) Get(ctx context.Context, id string) (*centrapay.PaymentRequest, *centrapay.Response, error) {
	c.n.Add(1)
	return c.Centrapay.Get(ctx, id)
}

func (c *counting) Void(ctx context.Context, id string) (*centrapay.Activity, *centrapay.Response, error) {
	c.n.Add(1)
	return c.Centrapay.Void(ctx, id)
}

// TestRefusalIsNotALoop: Centrapay refuses the API key for ten minutes
// (a revoked key). The sale stays resolving with words the cashier can
// act on, one void is journaled, the calls back off, health says the key
// is refused; once the key works again, the sale ends and health clears.
func TestRefusalIsNotALoop(t *testing.T) {
	r := newRig(t)
	calls := &counting{Centrapay: r.client}
	r.cp = calls
	r.restart()
	s := r.start(nil)
	refuseKey(r)
	calls.n.Store(0)
	r.tick(600)
	got := r.sale(s.ID)
	if got.Status != pos.StatusResolving || !strings.Contains(got.Reason, "refused the API key") || !strings.Contains(got.Reason, "manager") {
		t.Errorf("while refused: %s %q", got.Status, got.Reason)
	}
	voids, _ := r.j.Ops(r.ctx, pos.OpFilter{SaleID: s.ID, Kind: pos.OpVoid})
	if len(voids) > 1 {
		t.Errorf("%d voids journaled for one sale while the key is refused, want at most 1", len(voids))
	}
	if n := calls.n.Load(); n > 40 {
		t.Errorf("%d calls to Centrapay in 10 minutes of refusals: no backoff", n)
	}
	if h := r.eng.Health(); !h.KeyRefused || h.Since.IsZero() {
		t.Errorf("health while refused: %+v", h)
	}
	r.sb.ClearFaults()
	r.tick(40) // at most one backoff (30 s, and a fifth more)
	if got := r.sale(s.ID); !got.Status.Final() {
		t.Errorf("once the key works: %s %q", got.Status, got.Reason)
	}
	if h := r.eng.Health(); h.KeyRefused {
		t.Errorf("health once the key works: %+v", h)
	}
	if l := r.ledger(s.PaymentRequest.ID); l.Status == "new" {
		t.Errorf("the request is still payable")
	}
}

// TestCheckCentrapay: the start-up check tells a refused key from no
// answer.
func TestCheckCentrapay(t *testing.T) {
	r := newRig(t)
	if err := r.eng.CheckCentrapay(r.ctx); err != nil {
		t.Errorf("a working key: %v", err)
	}
	refuseKey(r)
	if err := r.eng.CheckCentrapay(r.ctx); pos.ErrorCode(err) != pos.ERefused || !strings.Contains(err.Error(), "API key") {
		t.Errorf("a refused key: %v", err)
	}
	r.sb.ClearFaults()
	for _, p := range []string{"/api/*", "/api/*/*", "/api/*/*/*", "/api/*/*/*/*"} {
		r.fault(sandbox.Fault{Path: p, Kind: sandbox.FaultReset})
	}
	if err := r.eng.CheckCentrapay(r.ctx); pos.ErrorCode(err) != pos.EUnavailable {
		t.Errorf("no answer: %v", err)
	}
}

// refuseKey makes the sandbox answer every API call 401, as Centrapay does
// once a key is revoked.
func refuseKey(r *rig) {
	for _, p := range []string{"/api/*", "/api/*/*", "/api/*/*/*", "/api/*/*/*/*"} {
		r.fault(sandbox.Fault{Path: p, Kind: sandbox.FaultStatus, Status: 401, Code: string(centrapay.ErrUnauthorized)})
	}
}
