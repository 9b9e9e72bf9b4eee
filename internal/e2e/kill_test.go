package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Kinds of till intent.
const (
	kindQuickPay  = "barcode quick-pay" // paid on the first poll
	kindDeclined  = "barcode declined"  // insufficient-funds: cancelled on the first poll
	kindQRPaid    = "qr paid"           // paid through the sandbox's control API
	kindQRAbandon = "qr abandoned"      // never paid: expires (--expiry 10)
)

// intent is one sale a till asked for, with its one Idempotency-Key and
// its own externalRef, and what the till heard back.
type intent struct {
	till, kind, key, ref string
	value                int64
	answer               int             // status of the final answer; 0: none came
	problem              problem         // the final answer's problem, if it is one
	err                  error           // why there was no final answer
	saleIDs              map[string]bool // sale ids in 2xx answers to this key
	seen                 string          // last status the till saw while following the sale
	refunds              []*refundIntent
}

// refundIntent is one refund a till asked for, with its own key.
type refundIntent struct {
	key, saleID string
	amount      int64
	answer      int
	err         error
}

// record is what every till did; tills add to it concurrently.
type record struct {
	mu      sync.Mutex
	intents []*intent

	retries, connErrors, status5xx, status409, status429 atomic.Int64
	replayed                                             atomic.Int64 // final answers marked Idempotent-Replayed

	inflight atomic.Int64 // POSTs to serve sent and not yet answered
}

func (r *record) add(in *intent) {
	r.mu.Lock()
	r.intents = append(r.intents, in)
	r.mu.Unlock()
}

// till is one terminal driving the terminal API of one server, or of
// any of several sharing one journal (each call to one picked at
// random, as a load balancer would).
type till struct {
	id, token string
	srvs      []*server
	sb        sandboxInfo
	c         *http.Client
	rec       *record
}

// base is the URL of the server the till's next call goes to.
func (tl *till) base() string { return tl.srvs[mrand.IntN(len(tl.srvs))].base() }

func newKey() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// run does intents one after another until stop is closed.
func (tl *till) run(ctx context.Context, stop <-chan struct{}) {
	for n := 1; ; n++ {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		tl.intent(ctx, n)
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// retryable says whether a till sends the same request again: a 5xx, a
// 429, or a 409 that says the request (or, on a retry, the till's own
// earlier attempt at this intent) is still in progress. An answer the
// server replays for the key (Idempotent-Replayed) is its final answer.
func retryable(a answer, attempt int) bool {
	switch {
	case a.status >= 500 || a.status == http.StatusTooManyRequests:
		return true
	case a.status != http.StatusConflict:
		return false
	case a.header.Get("Retry-After") != "":
		return true
	case a.header.Get("Idempotent-Replayed") == "true":
		return false
	}
	p := a.problem()
	detail := strings.ToLower(p.Detail)
	switch {
	case p.Field == "Idempotency-Key" && (strings.Contains(detail, "progress") || strings.Contains(detail, "pending")):
		return true
	case attempt > 0 && p.Field == "externalRef" && strings.Contains(detail, "still"):
		// only this intent uses the reference: the sale still open is
		// the one an earlier attempt started
		return true
	}
	return false
}

// backoff is the wait before the next attempt: Retry-After (at most 2 s)
// if the server gave one, else 50–200 ms.
func backoff(a answer) time.Duration {
	if s, err := strconv.Atoi(a.header.Get("Retry-After")); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, 2*time.Second) + 50*time.Millisecond
	}
	return time.Duration(50+mrand.IntN(150)) * time.Millisecond
}

// post sends the same key and body until a final answer (2xx, or 4xx other
// than an in-progress 409) or until ctx is done.
func (tl *till) post(ctx context.Context, path, key string, body []byte) (answer, error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			tl.rec.retries.Add(1)
		}
		tl.rec.inflight.Add(1)
		a, err := do(ctx, tl.c, "POST", tl.base()+path, tl.token, key, body)
		tl.rec.inflight.Add(-1)
		wait := backoff(answer{header: http.Header{}})
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return answer{}, fmt.Errorf("no final answer after %d attempts: %w", attempt+1, err)
			}
			tl.rec.connErrors.Add(1)
		case !retryable(a, attempt):
			if a.header.Get("Idempotent-Replayed") == "true" {
				tl.rec.replayed.Add(1)
			}
			return a, nil
		default:
			switch {
			case a.status >= 500:
				tl.rec.status5xx.Add(1)
			case a.status == http.StatusConflict:
				tl.rec.status409.Add(1)
			default:
				tl.rec.status429.Add(1)
			}
			wait = backoff(a)
		}
		if !sleep(ctx, wait) {
			last := "no answer"
			if err == nil {
				last = fmt.Sprintf("last answer %d %s", a.status, strings.TrimSpace(string(a.body)))
			}
			return answer{}, fmt.Errorf("no final answer after %d attempts (%s): %w", attempt+1, last, ctx.Err())
		}
	}
}

// sale reads sale id, through restarts; ok is false once ctx is done.
func (tl *till) sale(ctx context.Context, id string) (saleView, bool) {
	for {
		var s saleView
		if err := getJSON(ctx, tl.c, tl.base()+"/api/v1/sales/"+id, tl.token, &s); err == nil {
			return s, true
		}
		if !sleep(ctx, 100*time.Millisecond) {
			return saleView{}, false
		}
	}
}

// follow polls sale id until done(s) or ctx is done.
func (tl *till) follow(ctx context.Context, id string, done func(saleView) bool) saleView {
	var last saleView
	for {
		s, ok := tl.sale(ctx, id)
		if !ok {
			return last
		}
		last = s
		if done(s) || !sleep(ctx, 100*time.Millisecond) {
			return last
		}
	}
}

// intent is one sale: started with one key, retried until answered,
// followed to its end, paid through the sandbox if it is a QR sale, and
// sometimes refunded (by a third, once or twice).
func (tl *till) intent(ctx context.Context, n int) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	in := &intent{till: tl.id, key: newKey(), ref: fmt.Sprintf("E2E-%s-%04d", tl.id, n),
		value: 300 + mrand.Int64N(4700), saleIDs: map[string]bool{}}
	req := map[string]any{"value": in.value, "externalRef": in.ref}
	switch r := mrand.IntN(100); {
	case r < 55:
		in.kind = kindQuickPay
		req["flow"], req["barcode"] = "barcode", tl.sb.Scenarios["quick-pay"].Barcode
	case r < 65:
		in.kind = kindDeclined
		req["flow"], req["barcode"] = "barcode", tl.sb.Scenarios["insufficient-funds"].Barcode
	case r < 90:
		in.kind = kindQRPaid
		req["flow"] = "qr"
	default:
		in.kind = kindQRAbandon
		req["flow"] = "qr"
	}
	body, _ := json.Marshal(req)
	tl.rec.add(in)
	a, err := tl.post(ctx, "/api/v1/sales", in.key, body)
	tl.rec.mu.Lock()
	in.answer, in.err = a.status, err
	if a.status >= 400 {
		in.problem = a.problem()
	}
	tl.rec.mu.Unlock()
	if err != nil || a.status/100 != 2 {
		return
	}
	var s saleView
	if err := json.Unmarshal(a.body, &s); err != nil || s.ID == "" {
		tl.rec.mu.Lock()
		in.err = fmt.Errorf("2xx answer without a sale: %s", a.body)
		tl.rec.mu.Unlock()
		return
	}
	tl.rec.mu.Lock()
	in.saleIDs[s.ID] = true
	tl.rec.mu.Unlock()
	switch in.kind {
	case kindQRAbandon:
		return
	case kindQRPaid:
		if s.PaymentRequest == nil {
			s = tl.follow(ctx, s.ID, func(s saleView) bool { return s.PaymentRequest != nil || s.final() })
		}
		if s.PaymentRequest != nil {
			// the patron pays in the wallet (the sandbox is never killed)
			for {
				pa, err := do(ctx, tl.c, "POST", tl.sb.BaseURL+"/sandbox/payment-requests/"+s.PaymentRequest.ID+"/pay", "", "", nil)
				if err == nil && pa.status < 500 || !sleep(ctx, 100*time.Millisecond) {
					break
				}
			}
		}
	}
	s = tl.follow(ctx, s.ID, saleView.final)
	tl.rec.mu.Lock()
	in.seen = s.Status
	tl.rec.mu.Unlock()
	if s.Status != "paid" || mrand.IntN(100) >= 40 {
		return
	}
	times := 1
	if mrand.IntN(4) == 0 {
		times = 2
	}
	for range times {
		ri := &refundIntent{key: newKey(), saleID: s.ID, amount: max(in.value/3, 1)}
		tl.rec.mu.Lock()
		in.refunds = append(in.refunds, ri)
		tl.rec.mu.Unlock()
		body, _ := json.Marshal(map[string]any{"saleId": s.ID, "value": ri.amount, "reason": "e2e " + in.ref})
		a, err := tl.post(ctx, "/api/v1/refunds", ri.key, body)
		tl.rec.mu.Lock()
		ri.answer, ri.err = a.status, err
		tl.rec.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// TestKillServeWhileTillsRetry runs fourteen tills (twelve at one location,
// two at another) against the real server while the server is killed with
// SIGKILL again and again and restarted on the same journal. Tills retry
// each POST with the same Idempotency-Key and body until they get a final
// answer. Afterwards Centrapay's ledger (the sandbox) must show no intent
// charged twice, no refund made twice, and every sale's status must be its
// Payment Request's.
func TestKillServeWhileTillsRetry(t *testing.T) {
	runChaos(t, chaosConfig{servers: 1, kills: 15, minIntents: 50})
}

// chaosConfig shapes a chaos run: tills against one server, or several
// sharing a PostgreSQL journal, killed with SIGKILL again and again.
type chaosConfig struct {
	servers    int    // serve processes on the journal
	postgres   string // the journal's URL when several servers share one; "": a SQLite file
	kills      int    // SIGKILLs, 300–900 ms after the last restart
	minIntents int    // fewer sales than this prove nothing
	// down is how long kill i leaves its server down (0: restarted at
	// once); the others take over its sales meanwhile
	down func(i int) time.Duration
	// check, if set, checks more once the run has settled
	check func(t *testing.T, run *chaosRun)
}

// chaosRun is what a chaos run did, for its checks.
type chaosRun struct {
	dir     string
	sb      sandboxInfo
	servers []*server
	kills   []chaosKill
}

// chaosKill is one SIGKILL: of which server, when, and when it came back.
type chaosKill struct {
	server          int
	at, restartedAt time.Time
}

// runChaos runs fourteen tills (twelve at one location, two at another)
// against the real server(s) while a server is killed with SIGKILL again
// and again and restarted on the same journal. Tills retry each POST with
// the same Idempotency-Key and body until they get a final answer.
// Afterwards Centrapay's ledger (the sandbox) must show no intent charged
// twice, no refund made twice, and every sale's status must be its
// Payment Request's.
func runChaos(t *testing.T, cfg chaosConfig) {
	needBinary(t)
	const (
		tillsA = 12 // tills at the first location
		tillsB = 2  // tills at the second
	)
	kills := cfg.kills
	began := time.Now()
	dir := testDir(t)
	var sbFlags []string
	if cfg.servers > 1 {
		sbFlags = []string{"--record-calls", "300000"} // who polled what, when
	}
	sb := startSandbox(t, dir, sbFlags...)
	db := filepath.Join(dir, "journal.db")
	if cfg.postgres != "" {
		db = cfg.postgres
	}
	type term struct{ id, config string }
	var terms []term
	for i := 1; i <= tillsA; i++ {
		terms = append(terms, term{fmt.Sprintf("till-%d", i), configA})
	}
	for i := 1; i <= tillsB; i++ {
		terms = append(terms, term{fmt.Sprintf("till-b%d", i), configB})
	}
	location := map[string]string{}
	for _, tm := range terms {
		location[tm.id] = tm.config
	}
	tokens := map[string]string{}
	for _, tm := range terms {
		tokens[tm.id] = addTerminal(t, db, tm.id, tm.config, false)
	}
	manager := addTerminal(t, db, "manager", configA, true)
	var srvs []*server
	for i := range max(cfg.servers, 1) {
		srv := newServer(t, dir, db, sb)
		if cfg.servers > 1 {
			name := string(rune('a' + i))
			srv.log, srv.extra = "serve-"+name+".log", []string{"--instance", name}
		}
		srv.start()
		srvs = append(srvs, srv)
	}
	srv := srvs[0] // for reads after the run
	run := &chaosRun{dir: dir, sb: sb, servers: srvs}
	c := newClient(t)
	rec := &record{}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	stop := make(chan struct{})
	var stopOnce sync.Once
	var wg sync.WaitGroup
	// runs before the processes are killed (cleanups run last first)
	t.Cleanup(func() { stopOnce.Do(func() { close(stop) }); cancel(); wg.Wait() })
	for _, tm := range terms {
		tl := &till{id: tm.id, token: tokens[tm.id], srvs: srvs, sb: sb, c: c, rec: rec}
		wg.Go(func() { tl.run(ctx, stop) })
	}

	// The chaos: SIGKILL at random moments, restart on the same journal.
	// Each kill comes 300–900 ms after the last restart, at a moment when
	// POSTs are in flight (waiting at most 500 ms for two of them, then a
	// random 0–20 ms, to land inside a request as often as between them).
	// Centrapay misbehaves too while serve is killed: answers lost after
	// the change was made, HTML 502s on polls
	faults := []string{
		`{"method": "POST", "path": "/api/payment-requests", "kind": "drop-after-commit", "probability": 0.05}`,
		`{"method": "POST", "path": "/api/payment-requests/*/refund", "kind": "drop-after-commit", "probability": 0.1}`,
		`{"method": "POST", "path": "/api/payment-requests/*/void", "kind": "drop-after-commit", "probability": 0.1}`,
		`{"method": "GET", "path": "/api/payment-requests/*", "kind": "html", "status": 502, "probability": 0.05}`,
	}
	for _, f := range faults {
		if a, err := do(ctx, c, "POST", sb.BaseURL+"/sandbox/faults", "", "", []byte(f)); err != nil || a.status >= 300 {
			t.Fatalf("fault %s: %v %d %s", f, err, a.status, a.body)
		}
	}
	var atKill []int64
	sleep(ctx, 500*time.Millisecond)
	for i := range kills {
		sleep(ctx, time.Duration(300+mrand.IntN(600))*time.Millisecond)
		for wait := time.Now().Add(500 * time.Millisecond); rec.inflight.Load() < 2 && time.Now().Before(wait); {
			sleep(ctx, time.Millisecond)
		}
		sleep(ctx, time.Duration(mrand.IntN(20))*time.Millisecond)
		atKill = append(atKill, rec.inflight.Load())
		k := chaosKill{server: mrand.IntN(len(srvs)), at: time.Now()}
		srvs[k.server].kill()
		if cfg.down != nil {
			sleep(ctx, cfg.down(i))
		}
		srvs[k.server].start()
		k.restartedAt = time.Now()
		run.kills = append(run.kills, k)
	}
	chaos := time.Since(began)
	if a, err := do(ctx, c, "DELETE", sb.BaseURL+"/sandbox/faults", "", "", nil); err != nil || a.status >= 300 {
		t.Fatalf("clear faults: %v %d", err, a.status)
	}
	sleep(ctx, 500*time.Millisecond)
	stopOnce.Do(func() { close(stop) })
	tillsDone := make(chan struct{})
	go func() { wg.Wait(); close(tillsDone) }()
	select {
	case <-tillsDone:
	case <-time.After(60 * time.Second):
		t.Fatal("the tills did not finish their last intents within 60 s")
	}
	drained := time.Since(began)

	// settle: every sale final and no refund pending; or 45 s; or every
	// open sale 20 s past its POS timeout, by which the engine must have
	// ended it (it is stuck, and waiting longer proves nothing)
	var terminals []string
	for _, tm := range terms {
		terminals = append(terminals, tm.id)
	}
	terminals = append(terminals, "manager")
	refundSales := map[string]bool{}
	for _, in := range rec.intents {
		for _, ri := range in.refunds {
			refundSales[ri.saleID] = true
		}
	}
	sctx, scancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer scancel()
	settleBy := time.Now().Add(45 * time.Second)
	var sales []saleView
	open, pendingRefunds := 0, 0
	for {
		var err error
		sales, err = allSales(sctx, c, srv.base(), manager, terminals)
		if err != nil {
			t.Fatalf("list sales: %v", err)
		}
		open, pendingRefunds = 0, 0
		stuck := true
		for _, s := range sales {
			if !s.final() {
				open++
				stuck = stuck && time.Since(s.TimeoutAt) > 20*time.Second
			}
		}
		if open > 0 && stuck {
			break
		}
		if open == 0 {
			for id := range refundSales {
				var s saleView
				if err := getJSON(sctx, c, srv.base()+"/api/v1/sales/"+id, manager, &s); err != nil {
					t.Fatalf("sale %s: %v", id, err)
				}
				for _, r := range s.Refunds {
					if r.State == "pending" {
						pendingRefunds++
					}
				}
			}
		}
		if open == 0 && pendingRefunds == 0 || time.Now().After(settleBy) {
			break
		}
		sleep(sctx, 500*time.Millisecond)
	}
	settled := time.Since(began)
	led, err := ledger(sctx, c, sb)
	if err != nil {
		t.Fatalf("ledger: %v", err)
	}

	// the checks
	var examples []string
	example := func(format string, args ...any) {
		if len(examples) < 60 {
			examples = append(examples, fmt.Sprintf(format, args...))
		}
	}
	byRef := map[string][]ledgerEntry{}
	byPR := map[string]ledgerEntry{}
	for _, e := range led {
		byRef[e.ExternalRef] = append(byRef[e.ExternalRef], e)
		byPR[e.ID] = e
	}
	salesByRef := map[string][]saleView{}
	saleByID := map[string]saleView{}
	referenced := map[string]bool{}
	for _, s := range sales {
		salesByRef[s.ExternalRef] = append(salesByRef[s.ExternalRef], s)
		saleByID[s.ID] = s
		if s.PaymentRequest != nil {
			referenced[s.PaymentRequest.ID] = true
		}
	}

	var gaveUp, selfConflicts, lost, doubleCharges, extraCharges, dupSales, dupPRs, refundIntents int
	refundAllowed := map[string]int64{}
	refundAsked := map[string]int{}
	kinds, saleAnswers, refundAnswers := map[string]int{}, map[int]int{}, map[int]int{}
	for _, in := range rec.intents {
		kinds[in.kind]++
		saleAnswers[in.answer]++
		for _, ri := range in.refunds {
			refundAnswers[ri.answer]++
		}
		if in.answer == http.StatusConflict {
			// nothing else uses the intent's key or reference: the till
			// is refused because of its own earlier attempt, and never
			// learns that sale's id or outcome
			selfConflicts++
			example("%s %s (%s, key %s): final answer 409 against its own earlier attempt: %s", in.till, in.ref, in.kind, in.key[:8], in.problem.Detail)
		}
		if in.answer == 0 {
			gaveUp++
			example("%s %s (%s): no final answer: %v", in.till, in.ref, in.kind, in.err)
		}
		for id := range in.saleIDs {
			if _, ok := saleByID[id]; !ok {
				lost++
				example("%s: the till was answered with sale %s, which is not in the journal", in.ref, id)
			}
		}
		paid := 0
		var prs []string
		for _, e := range byRef[in.ref] {
			if e.Paid > 0 {
				paid++
			}
			prs = append(prs, e.ID+" "+e.Status)
		}
		if paid > 1 {
			doubleCharges++
			extraCharges += paid - 1
			example("DOUBLE CHARGE %s (%s, key %s): %d paid payment requests: %v", in.ref, in.kind, in.key[:8], paid, prs)
		}
		if len(byRef[in.ref]) > 1 {
			dupPRs++
		}
		if n := max(len(salesByRef[in.ref]), len(in.saleIDs)); n > 1 {
			dupSales++
			var ids []string
			for _, s := range salesByRef[in.ref] {
				ids = append(ids, s.ID+" "+s.Status)
			}
			example("key %s (%s) made %d sales: %v", in.key[:8], in.ref, n, ids)
		}
		for _, ri := range in.refunds {
			refundIntents++
			if ri.answer == 0 {
				gaveUp++
				example("%s: refund of %s got no final answer: %v", in.ref, ri.saleID, ri.err)
			}
			if s, ok := saleByID[ri.saleID]; ok && s.PaymentRequest != nil {
				refundAllowed[s.PaymentRequest.ID] += ri.amount
				refundAsked[s.PaymentRequest.ID]++
			}
		}
	}

	var doubleRefunds, mismatches, refundMismatches, unsettled, orphans, wrongLocation int
	for _, e := range led {
		refunds := 0
		for _, a := range e.Activities {
			if a == "refund" {
				refunds++
			}
		}
		if e.Refunded > refundAllowed[e.ID] || refunds > refundAsked[e.ID] {
			doubleRefunds++
			example("DOUBLE REFUND %s (%s): refunded %d in %d refunds; the tills asked %d in %d intents", e.ID, e.ExternalRef,
				e.Refunded, refunds, refundAllowed[e.ID], refundAsked[e.ID])
		}
		if !referenced[e.ID] {
			orphans++
			live := e.Status == "new" || e.Paid > 0
			if live {
				mismatches++
			}
			example("payment request %s (%s) is %s (paid %d) and no sale has it (live: %v)", e.ID, e.ExternalRef, e.Status, e.Paid, live)
		}
	}
	for _, s := range sales {
		if s.ConfigID != location[s.TerminalID] {
			wrongLocation++
			example("sale %s of %s has config %s", s.ID, s.TerminalID, s.ConfigID)
		}
		if !s.final() {
			unsettled++
			example("sale %s (%s) is still %s %.0fs after its POS timeout: %s", s.ID, s.ExternalRef, s.Status,
				time.Since(s.TimeoutAt).Seconds(), s.Reason)
			continue
		}
		if s.PaymentRequest == nil {
			if s.Status != "failed" {
				mismatches++
				example("sale %s (%s) is %s without a payment request", s.ID, s.ExternalRef, s.Status)
			}
			continue
		}
		e, ok := byPR[s.PaymentRequest.ID]
		switch {
		case !ok:
			mismatches++
			example("sale %s (%s) is %s with payment request %s, which Centrapay does not have", s.ID, s.ExternalRef, s.Status, s.PaymentRequest.ID)
			continue
		case s.Status == "failed" && (e.Status == "new" || e.Paid > 0),
			s.Status != "failed" && s.Status != e.Status:
			mismatches++
			example("sale %s (%s) is %s; its payment request %s is %s (paid %d)", s.ID, s.ExternalRef, s.Status, e.ID, e.Status, e.Paid)
		}
		if s.Refunded != e.Refunded {
			refundMismatches++
			example("sale %s (%s) shows %d refunded; Centrapay refunded %d", s.ID, s.ExternalRef, s.Refunded, e.Refunded)
		}
	}
	mismatches += wrongLocation

	statuses := map[string]int{}
	for _, s := range sales {
		statuses[s.Status]++
	}
	t.Logf("timing: chaos %.1fs, tills drained at %.1fs, settled at %.1fs (open sales %d, pending refunds %d)",
		chaos.Seconds(), drained.Seconds(), settled.Seconds(), open, pendingRefunds)
	t.Logf("tills %d, intents %d %v, answered %v (0: none); refund intents %d, answered %v; journal sales %d %v; payment requests %d",
		len(terms), len(rec.intents), kinds, saleAnswers, refundIntents, refundAnswers, len(sales), statuses, len(led))
	t.Logf("kills %d (POSTs in flight at each: %v), serve starts %d; till retries %d (connection errors %d, 5xx %d, 409 %d, 429 %d), "+
		"replayed final answers %d", kills, atKill, starts(srvs), rec.retries.Load(), rec.connErrors.Load(), rec.status5xx.Load(),
		rec.status409.Load(), rec.status429.Load(), rec.replayed.Load())
	t.Logf("double charges %d (extra paid requests %d), keys that made two sales %d, intents with two payment requests %d, "+
		"double refunds %d, status mismatches %d, refund mismatches %d, unsettled %d, unanswered %d, refused by their own attempt %d, "+
		"lost %d, orphan requests %d",
		doubleCharges, extraCharges, dupSales, dupPRs, doubleRefunds, mismatches, refundMismatches, unsettled, gaveUp, selfConflicts,
		lost, orphans)
	slices.Sort(examples)
	for _, e := range examples {
		t.Log("  " + e)
	}
	for _, s := range srvs {
		if errs := grepLog(filepath.Join(dir, s.log), "level=ERROR", 10); len(errs) > 0 {
			t.Logf("%s logged errors, e.g.:\n%s", s.log, strings.Join(errs, "\n"))
		}
	}
	if doubleCharges+dupSales+dupPRs+doubleRefunds+mismatches+refundMismatches+unsettled+gaveUp+selfConflicts+lost > 0 {
		t.Errorf("%d double charges, %d keys with two sales, %d intents with two payment requests, %d double refunds, "+
			"%d status mismatches, %d refund mismatches, %d unsettled sales, %d unanswered intents, "+
			"%d intents refused because of their own earlier attempt, %d lost sales in %d kills",
			doubleCharges, dupSales, dupPRs, doubleRefunds, mismatches, refundMismatches, unsettled, gaveUp, selfConflicts, lost, kills)
	}
	if len(rec.intents) < cfg.minIntents || starts(srvs) < kills+len(srvs) {
		t.Errorf("the run was too small to prove anything: %d intents, %d serve starts", len(rec.intents), starts(srvs))
	}
	if cfg.check != nil {
		cfg.check(t, run)
	}
}

// starts counts the starts of servers.
func starts(srvs []*server) int {
	n := 0
	for _, s := range srvs {
		n += s.starts
	}
	return n
}
