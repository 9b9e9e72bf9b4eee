package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// sandboxInfo is the line of JSON `centrapos sandbox` prints on start.
type sandboxInfo struct {
	BaseURL           string `json:"baseUrl"`
	APIKey            string `json:"apiKey"`
	MerchantAccountID string `json:"merchantAccountId"`
	ConfigID          string `json:"configId"`
}

// pairConfig says how to start a sandbox and a server.
type pairConfig struct {
	bin       string
	dir       string // for the journal and the logs
	rateLimit int    // calls a minute: serve's budget, and the sandbox's limit (-1: none)
	tills     int    // terminals to add
	adminFlag bool   // serve has --admin-listen
}

// pair is a running `centrapos sandbox` and `centrapos serve` wired to it.
type pair struct {
	sandbox, serve *child
	sb             sandboxInfo
	base           string   // the server's URL
	metricsURL     string   // its /metrics (on the admin listener when it has one)
	tokens         []string // one bearer token per till
}

// sandboxPort is the port the sandbox listens on (0 if its URL has none).
func (p *pair) sandboxPort() int {
	u, err := url.Parse(p.sb.BaseURL)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(u.Port())
	return n
}

// startPair starts a sandbox, adds the tills to a new journal and starts
// serve against the sandbox. The caller stops the pair.
func startPair(ctx context.Context, cfg pairConfig) (p *pair, err error) {
	p = &pair{}
	defer func() {
		if err != nil {
			p.stop()
		}
	}()
	p.sandbox, err = startChild(ctx, "sandbox", cfg.bin, filepath.Join(cfg.dir, "sandbox.log"), nil,
		"sandbox", "--listen", "127.0.0.1:0", "--rate-limit", strconv.Itoa(cfg.rateLimit))
	if err != nil {
		return p, err
	}
	l, err := p.sandbox.waitLine(ctx, "{", 20*time.Second)
	if err != nil {
		return p, fmt.Errorf("start sandbox: %w", err)
	}
	if err := json.Unmarshal([]byte(l), &p.sb); err != nil {
		return p, fmt.Errorf("start sandbox: its line %q: %w", l, err)
	}
	db := filepath.Join(cfg.dir, "journal.db")
	for i := range max(cfg.tills, 1) {
		token, err := addTerminal(ctx, cfg.bin, db, fmt.Sprintf("till-%d", i+1), p.sb.ConfigID)
		if err != nil {
			return p, err
		}
		p.tokens = append(p.tokens, token)
	}
	budget := cfg.rateLimit
	if budget < 0 {
		budget = 10_000_000
	}
	args := []string{"serve", "--db", db, "--centrapay-url", p.sb.BaseURL, "--merchant-account-id", p.sb.MerchantAccountID,
		"--listen", "127.0.0.1:0", "--rate-limit", strconv.Itoa(budget), "--expiry", "3600", "--timezone", "UTC"}
	if cfg.adminFlag {
		args = append(args, "--admin-listen", "127.0.0.1:0")
	}
	p.serve, err = startChild(ctx, "serve", cfg.bin, filepath.Join(cfg.dir, "serve.log"), []string{"CENTRAPAY_API_KEY=" + p.sb.APIKey}, args...)
	if err != nil {
		return p, err
	}
	l, err = p.serve.waitLine(ctx, "centrapos serving on ", 30*time.Second)
	if err != nil {
		return p, fmt.Errorf("start serve: %w", err)
	}
	_, after, _ := strings.Cut(l, "centrapos serving on ")
	p.base, _, _ = strings.Cut(after, " ")
	p.metricsURL = p.base + "/metrics"
	if cfg.adminFlag {
		l, err := p.serve.waitLine(ctx, "centrapos admin on", 10*time.Second)
		if err != nil {
			return p, fmt.Errorf("start serve: %w", err)
		}
		u := adminURL(l)
		if u == "" {
			return p, fmt.Errorf("start serve: no admin URL in %q", l)
		}
		p.metricsURL = u + "/metrics"
	}
	return p, nil
}

var adminRE = regexp.MustCompile(`centrapos admin on\b.*?(http://[0-9A-Za-z.:\[\]-]+)`)

// adminURL returns the URL in serve's "centrapos admin on http://…" line,
// printed plainly or as a log record (msg="centrapos admin on" url=…).
func adminURL(line string) string {
	m := adminRE.FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return strings.TrimRight(m[1], ".:")
}

// stop kills both processes.
func (p *pair) stop() error {
	var errs []error
	for _, c := range []*child{p.serve, p.sandbox} {
		if c != nil {
			errs = append(errs, c.stop())
		}
	}
	return errors.Join(errs...)
}

// addTerminal runs `centrapos terminal add` and returns the token.
func addTerminal(ctx context.Context, bin, db, id, configID string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "terminal", "add", "--db", db, "--id", id, "--config-id", configID)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("terminal add %s: %w: %s", id, err, stderr.String())
	}
	for l := range strings.SplitSeq(string(out), "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "cpt_") {
			return t, nil
		}
	}
	return "", fmt.Errorf("terminal add %s: no token in %q", id, out)
}

// hasAdminFlag reports whether bin's serve knows --admin-listen (another
// change adds it; until then /metrics is on the main listener).
func hasAdminFlag(ctx context.Context, bin string) bool {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, "serve", "-h").CombinedOutput()
	return bytes.Contains(out, []byte("-admin-listen"))
}
