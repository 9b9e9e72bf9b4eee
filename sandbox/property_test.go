package sandbox_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// TestStateMachineProperties plays random sequences of what a POS, a
// patron and the clock can do to a few requests, and after every step
// checks: no payment after expiry or cancellation; refunds never exceed
// what was paid; a void of a paid request refunds it; the ledger's totals
// equal the activities' totals.
func TestStateMachineProperties(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			sb, c, fake, s := start(t)
			ctx := context.Background()
			rnd := rand.New(rand.NewPCG(seed, 99))
			var ids []string
			final := map[string]centrapay.Status{} // status once it left new
			for step := range 60 {
				if len(ids) == 0 || rnd.IntN(6) == 0 {
					pr, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: s.ConfigID, Value: centrapay.Cents(int64(100+rnd.IntN(2000)), "NZD"),
						ExpirySeconds: 30 + rnd.IntN(120), PartialAllowed: true, BasketAmount: "99999999"})
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, pr.ID)
					continue
				}
				id := ids[rnd.IntN(len(ids))]
				var what string
				switch rnd.IntN(7) {
				case 0:
					what = "pay"
					sb.PatronPay(id, "", int64(rnd.IntN(3)*100))
				case 1:
					what = "decline"
					sb.Decline(id)
				case 2:
					what = "void"
					c.Void(ctx, id)
				case 3, 4:
					what = "refund"
					c.Refund(ctx, id, &centrapay.RefundRequest{Value: centrapay.Cents(int64(1+rnd.IntN(800)), "NZD"), ExternalRef: fmt.Sprint("r", rnd.IntN(4))})
				case 5:
					what = "advance"
					fake.Advance(time.Duration(rnd.IntN(90)) * time.Second)
				case 6:
					what = "poll"
					c.Get(ctx, id)
				}
				for _, e := range sb.Ledger().Requests {
					where := fmt.Sprintf("step %d (%s on %s): request %s", step, what, id, e.ID)
					if prev, ok := final[e.ID]; ok && prev != centrapay.StatusPaid && e.Status != prev {
						t.Fatalf("%s moved from %s to %s", where, prev, e.Status)
					}
					if e.Status != centrapay.StatusNew {
						if _, ok := final[e.ID]; !ok || e.Status != centrapay.StatusPaid {
							final[e.ID] = e.Status
						}
					}
					if e.Refunded > e.Paid {
						t.Fatalf("%s refunded %d of %d paid", where, e.Refunded, e.Paid)
					}
					if e.Status == centrapay.StatusExpired && e.Paid > 0 {
						t.Fatalf("%s expired with %d paid", where, e.Paid)
					}
					if e.Status == centrapay.StatusCancelled && e.Refunded != e.Paid {
						t.Fatalf("%s cancelled (voided) with %d paid, %d refunded", where, e.Paid, e.Refunded)
					}
					acts, _, err := c.Activities(ctx, e.ID)
					if err != nil {
						t.Fatal(err)
					}
					var paid, refunded int64
					for _, a := range acts {
						n, _ := a.Value.Amount.Int64()
						switch a.Type {
						case centrapay.ActivityPayment:
							paid += n
						case centrapay.ActivityRefund:
							refunded += n
						}
					}
					if paid != e.Paid || refunded != e.Refunded {
						t.Fatalf("%s: ledger paid %d refunded %d, activities %d and %d", where, e.Paid, e.Refunded, paid, refunded)
					}
				}
			}
		})
	}
}

// TestConcurrentClients runs many tills against one sandbox at once
// (run with -race).
func TestConcurrentClients(t *testing.T) {
	sb, c, _, s := start(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			pr, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: s.ConfigID, Value: centrapay.Cents(500, "NZD"), ExternalRef: fmt.Sprint("till-", i)})
			if err != nil {
				errs <- err
				return
			}
			sb.PatronPay(pr.ID, "", 0)
			for j := range 3 {
				if _, _, err := c.Refund(ctx, pr.ID, &centrapay.RefundRequest{Value: centrapay.Cents(100, "NZD"), ExternalRef: fmt.Sprint("r", j)}); err != nil {
					errs <- err
				}
			}
			c.Get(ctx, pr.ID)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, e := range sb.Ledger().Requests {
		if e.Paid != 500 || e.Refunded != 300 {
			t.Errorf("request %s: paid %d refunded %d", e.ID, e.Paid, e.Refunded)
		}
	}
	if n := len(sb.Ledger().Requests); n != 16 {
		t.Errorf("%d requests", n)
	}
}
