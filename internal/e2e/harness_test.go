package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// binPath is the centrapos binary TestMain built; "" under -short.
var binPath string

// TestMain builds cmd/centrapos once for every test of the package.
func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // each test skips itself
	}
	dir, err := os.MkdirTemp("", "centrapos-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	bin, err := build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build centrapos:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	binPath = bin
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build runs `go build -o dir/centrapos ./cmd/centrapos` at the module
// root (the test runs in internal/e2e).
func build(dir string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
		root = parent
	}
	bin := filepath.Join(dir, "centrapos")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/centrapos")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	return bin, nil
}

// needBinary skips t under -short.
func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() || binPath == "" {
		t.Skip("e2e: builds and runs the real centrapos processes; skipped with -short")
	}
}

// testDir is a new temporary directory for the test's journal, logs and
// sandbox files; with $CENTRAPOS_E2E_KEEP set it is made there and kept, so
// a failure can be looked into (sqlite3 journal.db, serve.log).
func testDir(t *testing.T) string {
	t.Helper()
	keep := os.Getenv("CENTRAPOS_E2E_KEEP")
	if keep == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(keep, 0o700); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(keep, t.Name()+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("keeping the journal and logs in %s", dir)
	return dir
}

// proc is a running centrapos process. Its stdout lines arrive on lines
// (closed at EOF); its stderr goes to a log file; done is closed once it
// has exited and been reaped.
type proc struct {
	name  string
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}
	log   string
}

// startProc starts the binary with args; env is added to the test's
// environment. The process is killed in t.Cleanup.
func startProc(t testing.TB, name, logPath string, env []string, args ...string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own descriptor
	fmt.Fprintf(f, "=== %s: %s %s\n", time.Now().Format(time.RFC3339Nano), name, strings.Join(args, " "))
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = f
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, lines: make(chan string, 64), done: make(chan struct{}), log: logPath}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody reads past the first lines
			}
		}
		io.Copy(io.Discard, out)
		close(p.lines)
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill(t) })
	return p, nil
}

// kill sends SIGKILL and waits (bounded) until the process is reaped.
func (p *proc) kill(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Errorf("%s (pid %d) did not exit 10 s after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// line waits for the next stdout line that has prefix.
func (p *proc) line(prefix string, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				<-p.done
				return "", fmt.Errorf("%s exited (%v) before printing %q; log:\n%s", p.name, p.cmd.ProcessState, prefix, tail(p.log, 15))
			}
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
		case <-timer.C:
			return "", fmt.Errorf("%s printed no %q in %v; log:\n%s", p.name, prefix, timeout, tail(p.log, 15))
		}
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// grepLog returns up to n lines of a file that contain s.
func grepLog(path, s string, n int) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for l := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(l, s) && len(out) < n {
			out = append(out, l)
		}
	}
	return out
}

// The second location's merchant config, and the demo merchant's.
const (
	configA = "mc_5efbe2fb96c08357bb2b9242"
	configB = "mc_e2e0000000000000000000b2"
)

// sandboxInfo is what `centrapos sandbox` prints on start.
type sandboxInfo struct {
	BaseURL           string `json:"baseUrl"`
	APIKey            string `json:"apiKey"`
	MerchantAccountID string `json:"merchantAccountId"`
	ConfigID          string `json:"configId"`
	Scenarios         map[string]struct {
		Barcode string `json:"barcode"`
	} `json:"scenarios"`
}

// startSandbox runs `centrapos sandbox` on a free port, with the demo
// merchant given two configs (two locations), no rate limit.
func startSandbox(t *testing.T, dir string, extra ...string) sandboxInfo {
	t.Helper()
	merchants := `[{"id": "5efbe17d96c083633e2b9241", "accountId": "C4QnjXvj8At6SMsEN4LRi9", "name": "Centrapay Café",
  "configs": [
    {"id": "` + configA + `", "currency": "NZD", "assetTypes": ["centrapay.nzd.test", "farmlands.nzd.test", "external.test"]},
    {"id": "` + configB + `", "currency": "NZD", "assetTypes": ["centrapay.nzd.test", "farmlands.nzd.test", "external.test"]}],
  "apiKeys": ["sandbox-e2e-key"]}]`
	mf := filepath.Join(dir, "merchants.json")
	if err := os.WriteFile(mf, []byte(merchants), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := startProc(t, "sandbox", filepath.Join(dir, "sandbox.log"), nil,
		append([]string{"sandbox", "--listen", "127.0.0.1:0", "--rate-limit", "-1", "--merchants", mf}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.line("{", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var sb sandboxInfo
	if err := json.Unmarshal([]byte(l), &sb); err != nil {
		t.Fatalf("sandbox seed line %q: %v", l, err)
	}
	if sb.BaseURL == "" || sb.APIKey == "" || sb.MerchantAccountID == "" || sb.ConfigID != configA || sb.Scenarios["quick-pay"].Barcode == "" {
		t.Fatalf("sandbox seed line %q is missing what the test needs", l)
	}
	return sb
}

// addTerminal runs `centrapos terminal add` and returns the token.
func addTerminal(t testing.TB, db, id, configID string, manager bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"terminal", "add", "--db", db, "--id", id, "--config-id", configID}
	if manager {
		args = append(args, "--manager")
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("terminal add %s: %v\n%s", id, err, stderr.String())
	}
	for l := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "cpt_") {
			return strings.TrimSpace(l)
		}
	}
	t.Fatalf("terminal add %s printed no token:\n%s", id, out)
	return ""
}

// freePort returns a port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// server runs `centrapos serve` on a fixed port and journal, and restarts
// it after a kill.
type server struct {
	t      *testing.T
	dir    string
	db     string
	port   int
	sb     sandboxInfo
	url    string
	starts int
	extra  []string // more flags for serve (a flag given twice takes the last)
	log    string   // its log file in dir

	mu  sync.Mutex
	cur *proc
}

func newServer(t *testing.T, dir, db string, sb sandboxInfo) *server {
	return &server{t: t, dir: dir, db: db, port: freePort(t), sb: sb, log: "serve.log"}
}

// start starts serve and waits until it prints where it serves; a port
// still held by the killed process is retried for up to 10 s.
func (s *server) start() {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.starts++
		args := append([]string{"serve", "--db", s.db, "--centrapay-url", s.sb.BaseURL, "--merchant-account-id", s.sb.MerchantAccountID,
			"--listen", "127.0.0.1:" + strconv.Itoa(s.port), "--rate-limit", "60000", "--expiry", "10", "--timeout-margin", "5s",
			"--timezone", "UTC"}, s.extra...)
		p, err := startProc(s.t, fmt.Sprintf("serve #%d", s.starts), filepath.Join(s.dir, s.log),
			[]string{"CENTRAPAY_API_KEY=" + s.sb.APIKey}, args...)
		if err != nil {
			s.t.Fatal(err)
		}
		l, err := p.line("centrapos serving on ", 20*time.Second)
		if err == nil {
			u, _, _ := strings.Cut(strings.TrimPrefix(l, "centrapos serving on "), " ")
			s.mu.Lock()
			s.cur, s.url = p, u
			s.mu.Unlock()
			return
		}
		p.kill(s.t)
		if time.Now().After(deadline) || !strings.Contains(err.Error(), "address already in use") {
			s.t.Fatalf("start serve: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill kills serve with SIGKILL.
func (s *server) kill() {
	s.mu.Lock()
	p := s.cur
	s.mu.Unlock()
	if p != nil {
		p.kill(s.t)
	}
}

// base is the server's URL.
func (s *server) base() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// newClient returns an HTTP client for the tills; its idle connections
// are closed in t.Cleanup.
func newClient(t testing.TB) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// answer is an HTTP answer read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// problem is an application/problem+json body.
type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (a answer) problem() problem {
	var p problem
	json.Unmarshal(a.body, &p)
	return p
}

// do sends one request; token and key may be "".
func do(ctx context.Context, c *http.Client, method, target, token, key string, body []byte) (answer, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		return answer{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// getJSON GETs target into v, failing on anything but 200.
func getJSON(ctx context.Context, c *http.Client, target, token string, v any) error {
	a, err := do(ctx, c, "GET", target, token, "", nil)
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", target, a.status, a.body)
	}
	return json.Unmarshal(a.body, v)
}

// ledgerEntry is one Payment Request in GET /sandbox/ledger.
type ledgerEntry struct {
	ID          string   `json:"id"`
	ExternalRef string   `json:"externalRef"`
	Status      string   `json:"status"`
	Value       int64    `json:"value"`
	Paid        int64    `json:"paid"`
	Refunded    int64    `json:"refunded"`
	Activities  []string `json:"activities"`
}

func ledger(ctx context.Context, c *http.Client, sb sandboxInfo) ([]ledgerEntry, error) {
	var l struct {
		Requests []ledgerEntry `json:"requests"`
	}
	err := getJSON(ctx, c, sb.BaseURL+"/sandbox/ledger", "", &l)
	return l.Requests, err
}

// saleView is what the terminal API shows of a sale.
type saleView struct {
	ID             string `json:"id"`
	TerminalID     string `json:"terminalId"`
	ConfigID       string `json:"configId"`
	ExternalRef    string `json:"externalRef"`
	Value          int64  `json:"value"`
	Status         string `json:"status"`
	Reason         string `json:"reason"`
	Refunded       int64  `json:"refunded"`
	PaymentRequest *struct {
		ID        string `json:"id"`
		ShortCode string `json:"shortCode"`
		Status    string `json:"status"`
	} `json:"paymentRequest"`
	Refunds   []struct{ State string } `json:"refunds"`
	CreatedAt time.Time                `json:"createdAt"`
	TimeoutAt time.Time                `json:"timeoutAt"`
}

func (s saleView) final() bool {
	switch s.Status {
	case "paid", "cancelled", "expired", "failed":
		return true
	}
	return false
}

// allSales lists every sale of terminals through the manager's token,
// page by page with the API's cursor (startingAfter / nextCursor), as a
// till would.
func allSales(ctx context.Context, c *http.Client, base, token string, terminals []string) ([]saleView, error) {
	seen := map[string]bool{}
	var out []saleView
	for _, term := range terminals {
		cursor := ""
		for {
			u := base + "/api/v1/sales?limit=200&terminal=" + url.QueryEscape(term)
			if cursor != "" {
				u += "&startingAfter=" + url.QueryEscape(cursor)
			}
			var page struct {
				Items      []saleView `json:"items"`
				HasMore    bool       `json:"hasMore"`
				NextCursor string     `json:"nextCursor"`
			}
			if err := getJSON(ctx, c, u, token, &page); err != nil {
				return nil, err
			}
			for _, s := range page.Items {
				if seen[s.ID] {
					return nil, fmt.Errorf("list sales: sale %s on two pages", s.ID)
				}
				seen[s.ID] = true
				out = append(out, s)
			}
			if !page.HasMore {
				break
			}
			if page.NextCursor == "" {
				return nil, errors.New("list sales: more to come, but no cursor")
			}
			cursor = page.NextCursor
		}
	}
	return out, nil
}
