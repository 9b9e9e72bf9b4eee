package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/sqlite"
)

// The journal's promise (docs/operations.md, "What a power cut can lose")
// is that a transaction whose COMMIT has returned survives a power cut,
// which in WAL mode takes synchronous=FULL: a sync of the WAL at every
// commit. No test can cut the power; this one keeps the settings true.
func TestWALAndSynchronousFull(t *testing.T) {
	ctx := context.Background()
	j, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if n := sqlite.MaxOpenConns(j); n != 1 {
		t.Fatalf("the journal may open %d connections: the pragmas below would be read on one of them only", n)
	}
	// after a write too: the pragmas hold on the connection Save used
	s := &pos.Sale{ID: "s1", TerminalID: "t", ExternalRef: "r", Value: 5, Status: pos.StatusPending}
	if err := j.Save(ctx, &pos.Change{Sale: s, NewSale: true, Note: "sale started"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"journal_mode": "wal", "synchronous": "2"} { // 2 is FULL
		if got, err := sqlite.Pragma(ctx, j, name); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", name, got, err, want)
		}
	}
}

// childEnv names the journal a re-executed test binary writes to before it
// is killed.
const childEnv = "CENTRAPOS_CHILD_JOURNAL"

// TestCommittedChangeSurvivesKill commits a sale with its create intent
// and its till's key in a child process, kills the child with SIGKILL as
// soon as Save has returned (no Close, no checkpoint), and finds all of
// it on reopening: the change lived in journal.db-wal only.
func TestCommittedChangeSurvivesKill(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		killedChild(path) // never returns
	}
	path := filepath.Join(t.TempDir(), "journal.db")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCommittedChangeSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	saved := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "saved" {
				saved <- "saved"
				return
			}
		}
		saved <- "the child ended without saving"
	}()
	select {
	case s := <-saved:
		if s != "saved" {
			cmd.Wait()
			t.Fatal(s)
		}
	case <-ctx.Done():
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the child did not save within 10 s")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("no WAL left by the killed child (%v): the test no longer shows recovery from it", err)
	}

	j, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	got, err := j.Sale(ctx, "s_killed")
	if err != nil || got.Value != 1250 || got.ExternalRef != "R-1042" {
		t.Fatalf("sale after the kill: %+v %v", got, err)
	}
	ops, err := j.Ops(ctx, pos.OpFilter{SaleID: "s_killed", Pending: true})
	if err != nil || len(ops) != 1 || ops[0].Kind != pos.OpCreate {
		t.Errorf("pending create after the kill: %+v %v", ops, err)
	}
	if k, err := j.Keyed(ctx, "till-1", "key-1"); err != nil || k.SaleID != "s_killed" {
		t.Errorf("till key after the kill: %+v %v", k, err)
	}
}

// killedChild commits one step, says so, and waits to be killed (it gives
// up after 10 s, failing, if nobody kills it).
func killedChild(path string) {
	ctx := context.Background()
	j, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s := &pos.Sale{ID: "s_killed", TerminalID: "till-1", ExternalRef: "R-1042", Value: 1250, Status: pos.StatusPending,
		CreatedAt: at, UpdatedAt: at}
	op := &pos.Op{ID: "op_killed", SaleID: s.ID, Kind: pos.OpCreate, Key: s.ExternalRef, Amount: s.Value,
		State: pos.OpPending, TerminalID: s.TerminalID, CreatedAt: at}
	key := &pos.KeyedRequest{TerminalID: "till-1", Key: "key-1", RequestHash: "h", SaleID: s.ID, CreatedAt: at}
	if err := j.Save(ctx, &pos.Change{Sale: s, NewSale: true, Note: "sale started", Ops: []*pos.Op{op}, Key: key}); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	fmt.Println("saved")
	time.Sleep(10 * time.Second)
	os.Exit(3)
}
