package cli_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/internal/cli"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
	"github.com/centrapos/centrapos/store/sqlite"
)

// exitCode is the code cmd/centrapos exits with for err.
func exitCode(err error) int {
	var usage cli.UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		return 2
	}
	return 1
}

// reconcileRig is a sandbox on a fake clock (25 Nov 2026, 09:00 UTC) and
// a journal holding one paid sale of 10.00 made through it.
type reconcileRig struct {
	sb     *sandbox.Sandbox
	url    string
	db     string
	client *centrapay.Client
}

func newReconcileRig(t *testing.T) *reconcileRig {
	t.Helper()
	ctx := context.Background()
	fake := clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	sb, err := sandbox.New(sandbox.Config{Clock: fake, RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	seed := sb.Seed()
	client, err := centrapay.NewClient(centrapay.WithBaseURL(srv.URL), centrapay.WithAPIKey(seed.APIKey), centrapay.WithClock(fake),
		centrapay.WithRetryPolicy(centrapay.RetryPolicy{MaxAttempts: 2, NoSleep: true}))
	if err != nil {
		t.Fatal(err)
	}
	r := &reconcileRig{sb: sb, url: srv.URL, db: filepath.Join(t.TempDir(), "journal.db"), client: client}
	j, err := sqlite.Open(ctx, r.db)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	eng, err := pos.New(pos.Config{Centrapay: client, Journal: j, MerchantAccountID: seed.MerchantAccountID, Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	s, err := eng.StartSale(ctx, pos.SaleInput{TerminalID: "till-1", DeviceID: "dev-1", ConfigID: seed.ConfigID, Value: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Approve(s.PaymentRequest.ID); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		fake.Advance(time.Second)
		eng.Step(ctx)
	}
	if s, _ = eng.Sale(ctx, s.ID); s.Status != pos.StatusPaid {
		t.Fatalf("sale is %s, want paid", s.Status)
	}
	t.Setenv("CENTRAPAY_API_KEY", seed.APIKey)
	return r
}

func (r *reconcileRig) reconcile(t *testing.T, extra ...string) (string, string, error) {
	t.Helper()
	args := append([]string{"reconcile", "--db", r.db, "--centrapay-url", r.url, "--merchant-account-id", r.sb.Seed().MerchantAccountID,
		"--timezone", "UTC", "--from", "2026-11-25"}, extra...)
	return run(t, args...)
}

// TestReconcileExitCodes: 0 when the journal and Centrapay agree, 1 when
// they do not (a payment at Centrapay by a request no sale made), 2 on a
// mistake in the command line.
func TestReconcileExitCodes(t *testing.T) {
	r := newReconcileRig(t)
	out, _, err := r.reconcile(t)
	if exitCode(err) != 0 || !strings.Contains(out, "No discrepancies.") || !strings.Contains(out, "10.00 NZD") {
		t.Fatalf("clean: exit %d (%v), out:\n%s", exitCode(err), err, out)
	}

	pr, _, err := r.client.Create(context.Background(), &centrapay.CreateRequest{ConfigID: r.sb.Seed().ConfigID, Value: centrapay.Cents(725, "NZD")})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.sb.Approve(pr.ID); err != nil {
		t.Fatal(err)
	}
	out, _, err = r.reconcile(t)
	var de cli.DiscrepancyError
	if exitCode(err) != 1 || !errors.As(err, &de) || de.Count != 1 {
		t.Fatalf("a stray payment: exit %d (%v), want 1", exitCode(err), err)
	}
	if !strings.Contains(out, "not-in-journal") || !strings.Contains(out, pr.ID) || !strings.Contains(out, "7.25 NZD") {
		t.Errorf("table:\n%s", out)
	}

	out, _, err = r.reconcile(t, "--json")
	if exitCode(err) != 1 {
		t.Errorf("--json: exit %d (%v)", exitCode(err), err)
	}
	var res struct {
		Clean         bool `json:"clean"`
		Discrepancies []struct {
			Kind             string `json:"kind"`
			PaymentRequestID string `json:"paymentRequestId"`
			CentrapayAmount  string `json:"centrapayAmount"`
		} `json:"discrepancies"`
		Totals []struct {
			Paid string `json:"paid"`
		} `json:"totals"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if res.Clean || len(res.Discrepancies) != 1 || res.Discrepancies[0].Kind != string(pos.DiscrepancyNotInJournal) ||
		res.Discrepancies[0].PaymentRequestID != pr.ID || res.Discrepancies[0].CentrapayAmount != "7.25" || len(res.Totals) != 1 || res.Totals[0].Paid != "10.00" {
		t.Errorf("--json: %+v", res)
	}

	out, _, err = r.reconcile(t, "--csv")
	if exitCode(err) != 1 {
		t.Errorf("--csv: exit %d (%v)", exitCode(err), err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("--csv: %v\n%s", err, out)
	}
	if len(rows) != 3 || rows[1][0] != "total" || rows[1][6] != "10.00" || rows[1][4] != "NZD" ||
		rows[2][0] != "discrepancy" || rows[2][1] != "not-in-journal" || rows[2][12] != pr.ID || rows[2][19] != "7.25" {
		t.Errorf("--csv rows: %q", rows)
	}

	// another day holds nothing of either
	if _, _, err := r.reconcile(t, "--from", "2026-11-20", "--to", "2026-11-21", "--merchant-id", r.sb.Seed().MerchantID); exitCode(err) != 0 {
		t.Errorf("an empty period: exit %d (%v)", exitCode(err), err)
	}

	for _, bad := range [][]string{
		{"--from", "25/11/2026"},
		{"--to", "2026-11-24"},
		{"--json", "--csv"},
		{"--timezone", "Nowhere/Special"},
		{"extra-argument"},
	} {
		if _, _, err := r.reconcile(t, bad...); exitCode(err) != 2 {
			t.Errorf("reconcile %q: exit %d (%v), want 2", bad, exitCode(err), err)
		}
	}
	if _, _, err := run(t, "reconcile", "--db", r.db, "--from", "2026-11-25"); exitCode(err) != 2 {
		t.Errorf("without --merchant-account-id: exit %d (%v), want 2", exitCode(err), err)
	}
}
