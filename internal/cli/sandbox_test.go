package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// TestSandboxCommand starts the real command on port 0, reads its JSON
// line, takes a quick-pay payment through it with the client, and stops it.
func TestSandboxCommand(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		m := &Main{Stdout: pw, Stderr: io.Discard}
		done <- m.Run(ctx, []string{"sandbox", "--listen", "127.0.0.1:0"})
		pw.Close()
	}()
	var line sandboxLine
	if err := json.NewDecoder(bufio.NewReader(pr)).Decode(&line); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	if line.BaseURL == "" || line.APIKey == "" || line.MerchantID == "" || line.MerchantAccountID == "" || line.ConfigID == "" {
		t.Fatalf("seed line %+v", line)
	}
	c, err := centrapay.NewClient(centrapay.WithBaseURL(line.BaseURL), centrapay.WithAPIKey(line.APIKey))
	if err != nil {
		t.Fatal(err)
	}
	req, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: line.ConfigID, Value: centrapay.Cents(450, "NZD"),
		Barcode: line.Scenarios["quick-pay"].Barcode, ExternalRef: "CLI-1"})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Get(ctx, req.ID)
	if err != nil || got.Status != centrapay.StatusPaid {
		t.Fatalf("quick pay: %+v %v", got, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSandboxCommandBadFlags(t *testing.T) {
	m := &Main{Stdout: io.Discard, Stderr: io.Discard}
	var usage UsageError
	if err := m.Run(context.Background(), []string{"sandbox", "--nope"}); !errors.As(err, &usage) {
		t.Errorf("bad flag: %v", err)
	}
	if err := m.Run(context.Background(), []string{"sandbox", "--listen", "256.0.0.1:1"}); err == nil || errors.As(err, &usage) {
		t.Errorf("bad address: %v", err)
	}
}

func TestSandboxFlags(t *testing.T) {
	m := &Main{Stdout: io.Discard, Stderr: io.Discard}
	ctx := context.Background()
	var usage UsageError
	if err := m.Run(ctx, []string{"sandbox", "--listen", "127.0.0.1:0", "--rate-limit", "0"}); !errors.As(err, &usage) {
		t.Errorf("--rate-limit 0: %v", err)
	}
	if err := m.Run(ctx, []string{"sandbox", "--listen", "127.0.0.1:0", "--refund-delay", "-1s"}); !errors.As(err, &usage) {
		t.Errorf("--refund-delay -1s: %v", err)
	}
	if err := m.Run(ctx, []string{"sandbox", "--webhook", "not a url"}); !errors.As(err, &usage) {
		t.Errorf("bad --webhook: %v", err)
	}
	dir := t.TempDir()
	file := dir + "/merchants.json"
	os.WriteFile(file, []byte(`[{"id":"m1","accountId":"acc1","name":"Kiwi Deli","configs":[{"id":"cfg1","currency":"NZD","assetTypes":["centrapay.nzd.test"]}],"apiKeys":["deli-key"]}]`), 0o600)
	pr, pw := io.Pipe()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		m := &Main{Stdout: pw, Stderr: io.Discard}
		done <- m.Run(runCtx, []string{"sandbox", "--listen", "127.0.0.1:0", "--merchants", file, "--state", dir + "/state.json"})
		pw.Close()
	}()
	var line sandboxLine
	if err := json.NewDecoder(pr).Decode(&line); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	if line.APIKey != "deli-key" || line.MerchantID != "m1" || line.ConfigID != "cfg1" {
		t.Errorf("seed of the merchants file: %+v", line)
	}
	cancel()
	<-done
	os.WriteFile(file, []byte(`[{"id":""}]`), 0o600)
	if err := m.Run(ctx, []string{"sandbox", "--listen", "127.0.0.1:0", "--merchants", file}); err == nil {
		t.Error("a merchant without ids was accepted")
	}
}

// TestSandboxManualClock starts the real command with --clock manual and
// drives its clock through the HTTP control API, as a test in any language
// would: a request expires only when the clock is advanced past it.
func TestSandboxManualClock(t *testing.T) {
	for _, tt := range []struct {
		mode       string
		advance    int // status of POST /sandbox/clock/advance
		expiredTo  centrapay.Status
		manualFlag bool
	}{
		{"manual", 200, centrapay.StatusExpired, true},
		{"real", 409, centrapay.StatusNew, false},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			pr, pw := io.Pipe()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				m := &Main{Stdout: pw, Stderr: io.Discard}
				done <- m.Run(ctx, []string{"sandbox", "--listen", "127.0.0.1:0", "--clock", tt.mode})
				pw.Close()
			}()
			var line sandboxLine
			if err := json.NewDecoder(bufio.NewReader(pr)).Decode(&line); err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, pr)
			if line.Clock != tt.mode {
				t.Errorf("seed line clock %q", line.Clock)
			}
			var clk struct {
				Now    time.Time `json:"now"`
				Manual bool      `json:"manual"`
			}
			resp, err := http.Get(line.BaseURL + "/sandbox/clock")
			if err != nil {
				t.Fatal(err)
			}
			json.NewDecoder(resp.Body).Decode(&clk)
			resp.Body.Close()
			if clk.Manual != tt.manualFlag || time.Since(clk.Now).Abs() > time.Minute {
				t.Errorf("clock %+v", clk)
			}
			c, err := centrapay.NewClient(centrapay.WithBaseURL(line.BaseURL), centrapay.WithAPIKey(line.APIKey))
			if err != nil {
				t.Fatal(err)
			}
			req, _, err := c.Create(ctx, &centrapay.CreateRequest{ConfigID: line.ConfigID, Value: centrapay.Cents(450, "NZD"), ExpirySeconds: 60})
			if err != nil {
				t.Fatal(err)
			}
			resp, err = http.Post(line.BaseURL+"/sandbox/clock/advance", "application/json", strings.NewReader(`{"seconds":61}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.advance {
				t.Errorf("advance: %d, want %d", resp.StatusCode, tt.advance)
			}
			got, _, err := c.Get(ctx, req.ID)
			if err != nil || got.Status != tt.expiredTo {
				t.Errorf("after advancing: %+v %v", got, err)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
	m := &Main{Stdout: io.Discard, Stderr: io.Discard}
	var usage UsageError
	if err := m.Run(context.Background(), []string{"sandbox", "--listen", "127.0.0.1:0", "--clock", "fast"}); !errors.As(err, &usage) {
		t.Errorf("--clock fast: %v", err)
	}
}
