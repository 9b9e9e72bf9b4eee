package certify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCertifyChecklistCoversThePOSItems: every item the POS must show evidence
// for is listed once, in order, with a title and a way to be decided.
func TestCertifyChecklistCoversThePOSItems(t *testing.T) {
	want := strings.Fields(`101.1 101.2 101.3 101.4 101.5 102.1 102.2 102.3 102.4 102.5 103.1 103.2 103.3 103.4 103.5
		104.1 104.2 104.3 104.4 104.5 104.6 104.7 105.1 105.2 105.3 201.1 201.2 201.3 202.1 202.2 202.3
		301.1 301.2 301.3 301.4 301.5 301.6 302.1 302.2 302.3 303.1 305.1 305.2 305.3`)
	items := Checklist()
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d", len(items), len(want))
	}
	for i, it := range items {
		if it.ID != want[i] {
			t.Errorf("item %d is %s, want %s", i, it.ID, want[i])
		}
		if it.Title == "" || it.Section == "" || !strings.HasPrefix(it.Section, it.ID[:3]+". ") {
			t.Errorf("%s: title %q, section %q", it.ID, it.Title, it.Section)
		}
		switch {
		case it.Kind == KindManual && it.Person == "":
			t.Errorf("%s: a manual item must say what a person does", it.ID)
		case it.Kind == KindAutomated && it.run == nil && it.NotApplicable == "":
			t.Errorf("%s: an automated item without a check", it.ID)
		case it.Kind == KindAutomated && it.run != nil && it.Checks == "":
			t.Errorf("%s: say what is checked", it.ID)
		}
	}
}

// TestCertifyRunDecidesEachItem runs made-up items through the runner: a check
// that holds passes, a broken expectation fails (and so does a panic),
// what needs the sandbox or Chromium is skipped and says so, a manual item
// is listed as such; the report is written in both forms, and the key is
// redacted from the log and found nowhere in the folder.
func TestCertifyRunDecidesEachItem(t *testing.T) {
	const key = "k-secret-123"
	tap := NewLogTap(key)
	out := t.TempDir()
	items := []Item{
		{ID: "9.1", Title: "Holds", Section: "9. Test", Kind: KindAutomated, Checks: "holds", run: func(ctx context.Context, c *Check) error {
			c.PaymentRequest("pr_1")
			c.Fact("expiresAt", "2026-11-26T00:02:00.000Z")
			c.Step("did it")
			tap.Write([]byte("level=INFO msg=\"call\" key=" + key + "\n"))
			return nil
		}},
		{ID: "9.2", Title: "Broken expectation", Section: "9. Test", Kind: KindAutomated, Checks: "breaks", run: func(ctx context.Context, c *Check) error {
			c.PaymentRequest("pr_2")
			return failf("the POS times out %s after the request expires; Centrapay asks for 5–10 s", "3s")
		}},
		{ID: "9.3", Title: "Panics", Section: "9. Test", Kind: KindAutomated, Checks: "panics", run: func(ctx context.Context, c *Check) error {
			panic("a check that panics")
		}},
		{ID: "9.4", Title: "Needs the sandbox", Section: "9. Test", Kind: KindAutomated, Needs: NeedsSandbox, Checks: "x", run: func(ctx context.Context, c *Check) error { return nil }},
		{ID: "9.5", Title: "Needs a browser", Section: "9. Test", Kind: KindAutomated, Needs: NeedsBrowser, Checks: "x", run: func(ctx context.Context, c *Check) error { return nil }},
		{ID: "9.6", Title: "Brand sign-off", Section: "9. Test", Kind: KindManual, Person: "send the logo"},
		{ID: "9.7", Title: "Not for a POS", Section: "9. Test", Kind: KindAutomated, NotApplicable: "Asset Program only"},
	}
	rep, err := Run(context.Background(), Options{Env: Env{APIKey: key, Logs: tap, Terminals: []Terminal{{ID: "t"}}}, Out: out, Items: items, Target: "test"})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]State{"9.1": StatePass, "9.2": StateFail, "9.3": StateFail, "9.4": StateSkipped, "9.5": StateSkipped, "9.6": StateManual, "9.7": StateSkipped}
	for _, r := range rep.Results {
		if r.State != states[r.ID] {
			t.Errorf("%s: %s (%s), want %s", r.ID, r.State, r.Summary, states[r.ID])
		}
	}
	if !rep.Failed() || rep.Counts != (Counts{Pass: 1, Fail: 2, Manual: 1, Skipped: 3}) {
		t.Errorf("counts %+v", rep.Counts)
	}
	if s := rep.Results[4].Summary; s != "skipped: chromium not installed" {
		t.Errorf("9.5 says %q", s)
	}
	if s := rep.Results[3].Summary; !strings.HasPrefix(s, "needs the sandbox") {
		t.Errorf("9.4 says %q", s)
	}
	if tap.Redacted() != 1 {
		t.Errorf("redacted %d times", tap.Redacted())
	}
	for _, name := range []string{"report.md", "report.html", "logs/9.1.log"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"pr_1"} {
			if name != "logs/9.1.log" && !strings.Contains(string(b), s) {
				t.Errorf("%s lacks %q", name, s)
			}
		}
		if strings.Contains(string(b), key) {
			t.Errorf("%s holds the key", name)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(md), "| [9.2](#item-9-2) | Broken expectation | automated | ❌ fail | the POS times out 3s after") {
		t.Errorf("report.md does not show the broken expectation:\n%s", md)
	}
	if !strings.Contains(string(md), "[redacted]") {
		t.Error("the log excerpt lost its line")
	}
}

// TestCertifyRunRefusesAKeyInTheEvidence: an item that writes the key into a
// fact makes the run fail rather than leave it in the folder.
func TestCertifyRunRefusesAKeyInTheEvidence(t *testing.T) {
	items := []Item{{ID: "9.1", Title: "Leaks", Section: "9. Test", Kind: KindAutomated, Checks: "x", run: func(ctx context.Context, c *Check) error {
		c.Fact("key", "k-secret-123")
		return nil
	}}}
	out := t.TempDir()
	if _, err := Run(context.Background(), Options{Env: Env{APIKey: "k-secret-123", Terminals: []Terminal{{ID: "t"}}}, Out: out, Items: items}); err == nil {
		t.Fatal("a key in the evidence was not refused")
	}
	if b, err := os.ReadFile(filepath.Join(out, "report.md")); err == nil && strings.Contains(string(b), "k-secret-123") {
		t.Error("report.md still holds the key")
	}
}

// TestCertifyOnlyNamesItems: --only with an unknown id is refused.
func TestCertifyOnlyNamesItems(t *testing.T) {
	if _, err := Run(context.Background(), Options{Out: t.TempDir(), Only: []string{"999.1"}}); err == nil {
		t.Error("an unknown item id was accepted")
	}
}
