package cli_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/internal/cli"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/sqlite"
)

func TestWebhookCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "j.db")
	out, _, err := run(t, "webhook", "add", "--db", db, "https://erp.example/centrapos", "--events", "sale.paid,refund.succeeded")
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	id := regexp.MustCompile(`we_[0-9A-V]{16}`).FindString(out)
	secret := regexp.MustCompile(`(?m)^whsec_[0-9a-f]{48}$`).FindString(out)
	if id == "" || secret == "" || !strings.Contains(out, "(events: sale.paid,refund.succeeded)") {
		t.Fatalf("add printed %q", out)
	}
	if _, _, err := run(t, "webhook", "add", "--db", db, "--events", "*", "http://10.0.0.9:8000/in"); err != nil {
		t.Errorf("add with flags first: %v", err)
	}
	var usage cli.UsageError
	for _, bad := range [][]string{
		{"webhook", "add", "--db", db, "https://x.example/", "--events", "sale.refunded"},
		{"webhook", "add", "--db", db},
		{"webhook", "remove", "--db", db},
		{"webhook", "rename", "--db", db},
		{"webhook", "deliveries", "--db", db, "--state", "lost"},
		{"webhook", "list", "--db", db, "extra"},
	} {
		if _, _, err := run(t, bad...); !errors.As(err, &usage) {
			t.Errorf("%v: %v, want a usage error", bad[1:], err)
		}
	}
	if _, _, err := run(t, "webhook", "add", "--db", db, "ftp://x.example/"); err == nil {
		t.Error("an ftp:// endpoint was added")
	}
	out, _, _ = run(t, "webhook", "list", "--db", db)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 ||
		!strings.HasPrefix(lines[0], id+"\thttps://erp.example/centrapos\tevents: sale.paid,refund.succeeded\tenabled") ||
		!strings.Contains(lines[1], "events: all") || strings.Contains(out, "whsec_") {
		t.Errorf("list: %q", out)
	}

	// a paid sale in the journal: its event waits for delivery
	ctx := context.Background()
	j, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := &pos.Sale{ID: "s1", TerminalID: "till-1", ExternalRef: "R-1", Value: 500, Status: pos.StatusPaid, CreatedAt: now, UpdatedAt: now}
	if err := j.Save(ctx, &pos.Change{Sale: s, NewSale: true, Note: "paid"}); err != nil {
		t.Fatal(err)
	}
	evs, _ := j.Events(ctx, pos.EventFilter{})
	j.Close()
	if len(evs) != 1 {
		t.Fatalf("events: %+v", evs)
	}
	out, _, err = run(t, "webhook", "deliveries", "--db", db, "--endpoint", id)
	if err != nil || !regexp.MustCompile(`EVENT\s+TYPE\s+SALE\s+SEQ\s+ENDPOINT\s+STATE\s+ATTEMPTS\s+LAST\s+NEXT TRY\n`+evs[0].ID+`\s+sale.paid\s+s1\s+1\s+`+id+`\s+pending\s+0\s+-\s+\d{4}-`).MatchString(out) {
		t.Errorf("deliveries: %q %v", out, err)
	}
	if out, _, _ := run(t, "webhook", "deliveries", "--db", db); strings.Count(out, evs[0].ID) != 2 {
		t.Errorf("every delivery: %q", out)
	}
	if out, _, _ := run(t, "webhook", "deliveries", "--db", db, "--state", "failed"); strings.Contains(out, evs[0].ID) {
		t.Errorf("failed deliveries: %q", out)
	}
	out, _, err = run(t, "webhook", "redeliver", "--db", db, evs[0].ID, "--endpoint", id)
	if err != nil || !strings.Contains(out, "1 deliveries pending again") {
		t.Errorf("redeliver: %q %v", out, err)
	}
	if _, _, err := run(t, "webhook", "redeliver", "--db", db, "evt_nope"); err == nil || !strings.Contains(err.Error(), "no event evt_nope") {
		t.Errorf("redeliver of no event: %v", err)
	}
	if out, _, err := run(t, "webhook", "disable", "--db", db, id); err != nil || !strings.Contains(out, "disabled") {
		t.Errorf("disable: %q %v", out, err)
	}
	if out, _, _ := run(t, "webhook", "list", "--db", db); !strings.Contains(out, "\tdisabled\t") {
		t.Errorf("list after disable: %q", out)
	}
	if _, _, err := run(t, "webhook", "enable", "--db", db, id); err != nil {
		t.Error(err)
	}
	if out, _, err := run(t, "webhook", "remove", "--db", db, id); err != nil || !strings.Contains(out, "removed") {
		t.Errorf("remove: %q %v", out, err)
	}
	if _, _, err := run(t, "webhook", "remove", "--db", db, id); err == nil || !strings.Contains(err.Error(), "no webhook endpoint") {
		t.Errorf("second remove: %v", err)
	}
	out, _, _ = run(t, "webhook", "deliveries", "--db", db, "--endpoint", id)
	if !strings.Contains(out, "failed") || !strings.Contains(out, "the endpoint was removed") {
		t.Errorf("deliveries of a removed endpoint: %q", out)
	}
}
