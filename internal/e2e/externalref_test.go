package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOneExternalRefOneSale sends 16 sales with one externalRef (the
// receipt number) at once, each with its own Idempotency-Key: exactly one
// is started, the others are refused with a 409 naming externalRef, and
// Centrapay has exactly one Payment Request with that reference. The race
// is run ten times, with ten references, so that a lost race shows.
func TestOneExternalRefOneSale(t *testing.T) {
	needBinary(t)
	dir := testDir(t)
	sb := startSandbox(t, dir)
	db := filepath.Join(dir, "journal.db")
	token := addTerminal(t, db, "till-1", configA, false)
	srv := newServer(t, dir, db, sb)
	srv.start()
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const rounds, n = 10, 16
	for round := 1; round <= rounds; round++ {
		ref := fmt.Sprintf("E2E-ONE-REF-%d", round)
		body := []byte(`{"value": 1250, "externalRef": "` + ref + `", "flow": "qr"}`)
		answers := make([]answer, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				answers[i], errs[i] = do(ctx, c, "POST", srv.base()+"/api/v1/sales", token, newKey(), body)
			})
		}
		close(start)
		wg.Wait()

		created, refused := 0, 0
		var other, saleIDs []string
		for i, a := range answers {
			switch {
			case errs[i] != nil:
				other = append(other, fmt.Sprintf("#%d: %v", i, errs[i]))
			case a.status == http.StatusCreated:
				created++
				var s saleView
				json.Unmarshal(a.body, &s)
				saleIDs = append(saleIDs, s.ID)
				if s.ExternalRef != ref {
					other = append(other, fmt.Sprintf("#%d: 201 with externalRef %q", i, s.ExternalRef))
				}
			case a.status == http.StatusConflict:
				p := a.problem()
				ct := a.header.Get("Content-Type")
				if strings.HasPrefix(ct, "application/problem+json") && (p.Field == "externalRef" || strings.Contains(p.Detail, "externalRef")) {
					refused++
				} else {
					other = append(other, fmt.Sprintf("#%d: 409 %s %s", i, ct, a.body))
				}
			default:
				other = append(other, fmt.Sprintf("#%d: %d %s", i, a.status, a.body))
			}
		}
		led, err := ledger(ctx, c, sb)
		if err != nil {
			t.Fatal(err)
		}
		var prs []string
		for _, e := range led {
			if e.ExternalRef == ref {
				prs = append(prs, e.ID+" "+e.Status)
			}
		}
		sales, err := allSales(ctx, c, srv.base(), token, []string{"till-1"})
		if err != nil {
			t.Fatal(err)
		}
		journaled := 0
		for _, s := range sales {
			if s.ExternalRef == ref {
				journaled++
			}
		}
		t.Logf("round %d: %d concurrent sales with externalRef %s: %d answered 201 %v, %d answered 409 naming externalRef, "+
			"%d otherwise; %d sales in the journal; %d payment requests at Centrapay %v",
			round, n, ref, created, saleIDs, refused, len(other), journaled, len(prs), prs)
		for _, o := range other {
			t.Log("  " + o)
		}
		if created != 1 || refused != n-1 || len(other) > 0 {
			t.Errorf("round %d: want exactly one 201 and %d 409s naming externalRef; got %d 201s, %d 409s and %d other answers",
				round, n-1, created, refused, len(other))
		}
		if journaled != 1 {
			t.Errorf("round %d: want one sale with externalRef %s in the journal, got %d", round, ref, journaled)
		}
		if len(prs) != 1 {
			t.Errorf("round %d: want one payment request with externalRef %s at Centrapay, got %d: %v", round, ref, len(prs), prs)
		}
	}
}
