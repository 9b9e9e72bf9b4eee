package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresJournal returns the URL of a PostgreSQL journal in a schema of
// the test's own, dropped after it: the machine's PostgreSQL
// ($CENTRAPOS_POSTGRES_URL, default the local test database). Without
// one the test is skipped, or fails when $CENTRAPOS_REQUIRE_POSTGRES is
// set (CI sets it).
func postgresJournal(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CENTRAPOS_POSTGRES_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CENTRAPOS_REQUIRE_POSTGRES") != "" {
			t.Fatalf("postgres: %v", err)
		}
		t.Skipf("no PostgreSQL at %s: %v", base, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "e2e_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close(context.Background())
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// sandboxCall is one call of the sandbox's log (GET /sandbox/calls).
type sandboxCall struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Status    int       `json:"status"`
	UserAgent string    `json:"userAgent"`
}

// sandboxCalls reads the whole call log of the sandbox.
func sandboxCalls(t *testing.T, sb sandboxInfo) []sandboxCall {
	t.Helper()
	c := newClient(t)
	var all []sandboxCall
	for {
		var page struct {
			Calls []sandboxCall `json:"calls"`
		}
		after := int64(0)
		if len(all) > 0 {
			after = all[len(all)-1].Seq
		}
		if err := getJSON(context.Background(), c, fmt.Sprintf("%s/sandbox/calls?after=%d", sb.BaseURL, after), "", &page); err != nil {
			t.Fatalf("sandbox calls: %v", err)
		}
		if len(page.Calls) == 0 {
			return all
		}
		all = append(all, page.Calls...)
	}
}

// pollPath is a poll of one Payment Request: GET /api/payment-requests/{id}.
var pollPath = regexp.MustCompile(`^/api/payment-requests/([^/]+)$`)

// instanceOf is the server a call came from: centrapos names it in its
// user agent, "centrapos (b)".
func instanceOf(c sandboxCall) string {
	_, name, ok := strings.Cut(c.UserAgent, "(")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(name, ")")
}

// leaseTTL is serve's lease: a dead server's sales are taken over within
// it, a claim round (0.5 s) and a poll.
const leaseTTL = 10 * time.Second

// TestInstancesShareOnePostgres runs the chaos of TestKillServeWhileTillsRetry
// against three serve processes sharing one PostgreSQL journal: each till
// call goes to one of them at random, and one at a time is killed with
// SIGKILL, restarted at once (it takes its own leases back) or left down
// 12 s (the others take its sales over). Besides the single server's checks
// against Centrapay's ledger — every sale final and equal to its Payment
// Request, one request per sale, refunds exactly once — the sandbox's call
// log must show no Payment Request polled by two servers in the same
// second, and every sale of a server left down polled again by another
// within the lease and a poll.
func TestInstancesShareOnePostgres(t *testing.T) {
	runChaos(t, chaosConfig{servers: 3, postgres: postgresJournal(t), kills: 6, minIntents: 200,
		down: func(i int) time.Duration {
			if i%2 == 0 {
				return leaseTTL + 2*time.Second
			}
			return 0
		},
		check: checkShared})
}

// checkShared checks the sandbox's call log of a chaos run of several
// servers: no request polled by two in one second, takeovers in time.
func checkShared(t *testing.T, run *chaosRun) {
	calls := sandboxCalls(t, run.sb)
	type second struct {
		pr string
		at int64
	}
	pollers := map[second]map[string]bool{}
	polls := map[string][]sandboxCall{} // by request, in order
	perInstance := map[string]int{}
	var rateLimited int
	for _, c := range calls {
		if c.Status == 429 {
			rateLimited++
		}
		m := pollPath.FindStringSubmatch(c.Path)
		if c.Method != "GET" || m == nil || m[1] == "short-code" || m[1] == "external-ref" {
			continue
		}
		in := instanceOf(c)
		perInstance[in]++
		k := second{m[1], c.At.Unix()}
		if pollers[k] == nil {
			pollers[k] = map[string]bool{}
		}
		pollers[k][in] = true
		polls[m[1]] = append(polls[m[1]], c)
	}
	var doubled []string
	for k, ins := range pollers {
		if len(ins) > 1 {
			doubled = append(doubled, fmt.Sprintf("%s at %s by %v", k.pr, time.Unix(k.at, 0).Format("15:04:05"), ins))
		}
	}
	slices.Sort(doubled)
	// takeovers: a request the killed server polled in the second before
	// its kill, and some other server polled after it
	var takeovers []time.Duration
	var late []string
	for _, k := range run.kills {
		name := string(rune('a' + k.server))
		if k.restartedAt.Sub(k.at) < leaseTTL {
			continue // back at once: it took its own leases back
		}
		for pr, ps := range polls {
			held := slices.ContainsFunc(ps, func(c sandboxCall) bool {
				return instanceOf(c) == name && !c.At.After(k.at) && k.at.Sub(c.At) < 1500*time.Millisecond
			})
			if !held {
				continue
			}
			i := slices.IndexFunc(ps, func(c sandboxCall) bool { return instanceOf(c) != name && c.At.After(k.at) })
			if i < 0 {
				continue // it had ended: nothing to take over
			}
			d := ps[i].At.Sub(k.at)
			takeovers = append(takeovers, d)
			if d > leaseTTL+time.Second {
				late = append(late, fmt.Sprintf("%s of %s taken over by %s after %v", pr, name, instanceOf(ps[i]), d.Round(time.Millisecond)))
			}
		}
	}
	slices.Sort(takeovers)
	var worst, median time.Duration
	if len(takeovers) > 0 {
		worst, median = takeovers[len(takeovers)-1], takeovers[len(takeovers)/2]
	}
	t.Logf("shared journal: %d Centrapay calls, polls by server %v, %d answered 429; %d sales taken over from a dead server "+
		"(median %v, worst %v, bound %v); %d request-seconds polled by two servers",
		len(calls), perInstance, rateLimited, len(takeovers), median.Round(time.Millisecond), worst.Round(time.Millisecond),
		leaseTTL+time.Second, len(doubled))
	for _, d := range doubled[:min(len(doubled), 10)] {
		t.Log("  polled twice: " + d)
	}
	for _, l := range late[:min(len(late), 10)] {
		t.Log("  late: " + l)
	}
	if len(doubled) > 0 || len(late) > 0 {
		t.Errorf("%d request-seconds polled by two servers, %d takeovers later than %v", len(doubled), len(late), leaseTTL+time.Second)
	}
	if len(takeovers) == 0 {
		t.Error("no sale was taken over from a killed server: the run proved nothing of takeovers")
	}
	if len(perInstance) < 3 {
		t.Errorf("polls by %v: want all three servers at work", perInstance)
	}
}

// TestInstancesShareOneBudget: three servers on one PostgreSQL journal,
// one API key whose limit (120 calls a minute, enforced by the sandbox)
// is far below what their live sales want at a poll a second (12 sales:
// 720 a minute). Centrapay answers no 429: the servers share one budget,
// and polls slow down evenly instead. A cashier creating a sale meanwhile
// is served at once (the operators' reserve), at every server.
func TestInstancesShareOneBudget(t *testing.T) {
	needBinary(t)
	dir := testDir(t)
	sb := startSandbox(t, dir, "--record-calls", "100000", "--rate-limit", "120")
	db := postgresJournal(t)
	token := addTerminal(t, db, "till-1", configA, false)
	var srvs []*server
	for i := range 3 {
		s := newServer(t, dir, db, sb)
		name := string(rune('a' + i))
		s.log, s.extra = "serve-"+name+".log", []string{"--instance", name, "--rate-limit", "120", "--expiry", "60"}
		s.start()
		srvs = append(srvs, s)
	}
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	create := func(s *server, ref string) (time.Duration, error) {
		body, _ := json.Marshal(map[string]any{"value": 500, "externalRef": ref})
		start := time.Now()
		a, err := do(ctx, c, "POST", s.base()+"/api/v1/sales", token, newKey(), body)
		if err == nil && a.status != 201 {
			err = fmt.Errorf("%d %s", a.status, a.body)
		}
		return time.Since(start), err
	}
	var wg sync.WaitGroup
	for i := range 12 { // QR sales nobody pays: live until they expire
		wg.Go(func() {
			if _, err := create(srvs[i%3], fmt.Sprintf("LIVE-%02d", i)); err != nil {
				t.Errorf("live sale %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	sleep(ctx, 10*time.Second) // the polls use the budget up
	var waits []time.Duration
	for i, s := range srvs {
		d, err := create(s, fmt.Sprintf("CASHIER-%d", i))
		if err != nil {
			t.Errorf("a cashier at server %d while polls use the budget: %v", i, err)
		}
		waits = append(waits, d.Round(time.Millisecond))
	}
	sleep(ctx, 5*time.Second)
	calls := sandboxCalls(t, sb)
	var rateLimited, polls int
	first, last := calls[0].At, calls[len(calls)-1].At
	for _, c := range calls {
		switch {
		case c.Status == 429:
			rateLimited++
		case c.Method == "GET" && pollPath.MatchString(c.Path):
			polls++
		}
	}
	minutes := last.Sub(first).Minutes()
	t.Logf("3 servers, 12 live sales wanting 720 polls a minute, a limit of 120: %d calls in %.1f s (%.0f a minute), %d polls, "+
		"%d answered 429; cashiers' creates took %v", len(calls), minutes*60, float64(len(calls))/minutes, polls, rateLimited, waits)
	if rateLimited > 0 {
		t.Errorf("Centrapay answered 429 to %d calls: the servers do not share one budget", rateLimited)
	}
	if polls < 10 { // 10 s and more at 1.8 calls a second, less the creates and the cashiers' reserve
		t.Errorf("%d polls: the live sales were hardly polled", polls)
	}
	for _, w := range waits {
		if w > 2*time.Second {
			t.Errorf("a cashier waited %v: the operators' reserve is not kept", w)
		}
	}
	if errs := grepLog(filepath.Join(dir, "serve-a.log"), "level=ERROR", 5); len(errs) > 0 {
		t.Logf("serve a logged errors:\n%s", strings.Join(errs, "\n"))
	}
}
