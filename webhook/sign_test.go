package webhook_test

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/webhook"
)

func TestSignVerify(t *testing.T) {
	const secret = "whsec_0123456789abcdef"
	body := []byte(`{"id":"evt_1","type":"sale.paid","data":{"id":"s1"}}`)
	at := time.Unix(1764061200, 0)
	good := webhook.Sign(secret, at, body)
	if !strings.HasPrefix(good, "t=1764061200,v1=") || len(good) != len("t=1764061200,v1=")+64 {
		t.Fatalf("header %q", good)
	}
	other := webhook.Sign("whsec_old", at, body)
	cases := []struct {
		name      string
		secret    string
		header    string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"good", secret, good, body, at, 0, nil},
		{"good, 4 minutes later", secret, good, body, at.Add(4 * time.Minute), 0, nil},
		{"good, spaces and unknown fields", secret, " t=1764061200 , v0=zz, " + strings.TrimPrefix(good, "t=1764061200,"), body, at, 0, nil},
		{"one of two signatures matches (a secret being rotated)", secret, other + "," + strings.Split(good, ",")[1], body, at, 0, nil},
		{"tampered body", secret, good, []byte(strings.Replace(string(body), "s1", "s2", 1)), at, 0, webhook.ErrSignature},
		{"a byte added", secret, good, append(append([]byte(nil), body...), '\n'), at, 0, webhook.ErrSignature},
		{"wrong secret", "whsec_other", good, body, at, 0, webhook.ErrSignature},
		{"timestamp changed", secret, strings.Replace(good, "t=1764061200", "t=1764061201", 1), body, at, 0, webhook.ErrSignature},
		{"old timestamp (a replay)", secret, good, body, at.Add(6 * time.Minute), 0, webhook.ErrTimestamp},
		{"old, within a longer tolerance", secret, good, body, at.Add(6 * time.Minute), 10 * time.Minute, nil},
		{"from the future", secret, good, body, at.Add(-6 * time.Minute), 0, webhook.ErrTimestamp},
		{"no header", secret, "", body, at, 0, webhook.ErrNoSignature},
		{"no signature", secret, "t=1764061200", body, at, 0, webhook.ErrNoSignature},
		{"no timestamp", secret, strings.Split(good, ",")[1], body, at, 0, webhook.ErrNoSignature},
		{"signature not hex", secret, "t=1764061200,v1=xyz", body, at, 0, webhook.ErrNoSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(tc.secret, tc.header, tc.body, tc.now, tc.tolerance)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

// shellVerify is the one-liner docs/operations.md gives receivers who
// check a delivery without Go: T is the header's t, body.json the raw
// body; it prints the v1 signature.
const shellVerify = `{ printf '%s.' "$T"; cat body.json; } | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= //'`

func TestShellOneLiner(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	dir := t.TempDir()
	body := []byte(`{"id":"evt_1","type":"sale.paid","createdAt":"2026-11-25T09:00:00Z","sequence":1,"data":{"id":"s1","note":"a \"quoted\" $word"}}`)
	if err := os.WriteFile(dir+"/body.json", body, 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1764061200, 0)
	const secret = "whsec_5e3f"
	cmd := exec.Command("sh", "-c", shellVerify)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "T="+strconv.FormatInt(at.Unix(), 10), "SECRET="+secret)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(webhook.Sign(secret, at, body), "v1=")[1]
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("the shell one-liner prints %q, want %q", got, want)
	}
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), shellVerify) {
		t.Errorf("docs/operations.md does not give the one-liner this test checks:\n%s", shellVerify)
	}
}
