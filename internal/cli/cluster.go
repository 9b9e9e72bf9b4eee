package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runCluster runs what a chain of stores runs, on one machine: a Centrapay
// sandbox and several `centrapos serve` processes (real ones: this binary
// started again) sharing one PostgreSQL journal, each with its own
// address, as a load balancer would see them. Ctrl-C stops the servers
// gracefully (each hands its leases over) and then the sandbox.
func runCluster(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "the shared journal: a postgres:// URL (required)")
	n := fs.Int("instances", 2, "how many servers")
	listen := fs.String("listen", "127.0.0.1:8080", "address of the first server; the next ones take the next ports (port 0: each a free one)")
	sbListen := fs.String("sandbox-listen", "127.0.0.1:8081", "address of the Centrapay sandbox")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	switch {
	case fs.NArg() > 0:
		return UsageError{fmt.Sprintf("cluster: unexpected argument %q", fs.Arg(0))}
	case !strings.HasPrefix(*db, "postgres://") && !strings.HasPrefix(*db, "postgresql://"):
		return UsageError{"cluster: --db must be a postgres:// URL: servers share a PostgreSQL journal (a SQLite file is one server's)"}
	case *n < 1 || *n > 16:
		return UsageError{"cluster: --instances must be 1 to 16"}
	}
	host, portText, err := net.SplitHostPort(*listen)
	port, perr := strconv.Atoi(portText)
	if err != nil || perr != nil {
		return UsageError{fmt.Sprintf("cluster: --listen %q: want host:port", *listen)}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	local, err := startLocalSandbox(*sbListen, logger)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	defer local.close()
	sbURL, seed := local.publicURL, local.sb.Seed()

	token, err := demoToken(ctx, *db, seed.ConfigID) // the demo's manager till
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	var procs []*clusterProc
	defer func() { stopAll(procs) }()
	var urls []string
	for i := range *n {
		addr := net.JoinHostPort(host, "0")
		if port != 0 {
			addr = net.JoinHostPort(host, strconv.Itoa(port+2*i)) // the sandbox may take the port after the first
		}
		name := fmt.Sprintf("node-%d", i+1)
		p, url, err := startClusterProc(ctx, self, stderr, name, []string{"serve", "--db", *db, "--instance", name, "--listen", addr,
			"--centrapay-url", local.apiURL, "--merchant-account-id", seed.MerchantAccountID, "--merchant-name", "Centrapay Café",
			"--timezone", "Pacific/Auckland"}, []string{"CENTRAPAY_API_KEY=" + seed.APIKey})
		if err != nil {
			return fmt.Errorf("cluster: %s: %w", name, err)
		}
		procs = append(procs, p)
		urls = append(urls, url)
	}
	fmt.Fprintf(stdout, "centrapos cluster is running: a Centrapay sandbox and %d servers sharing the journal %s\n", *n, redactURL(*db))
	for i, u := range urls {
		fmt.Fprintf(stdout, "  node-%d:          %s (cashier, terminal API; health at %s/healthz)\n", i+1, u, u)
	}
	fmt.Fprintf(stdout, `  Sandbox wallet:  %s/pay/{payment request id}
  Terminal token:  %s (a manager till; sign in at any node)
Put a load balancer in front of the nodes, or point tills at any of them: a sale made at one is
read, cancelled or refunded at another. Kill one (kill -9 its pid) and the others take its sales
over within 10 s. Press Ctrl-C to stop.
`, sbURL, token)
	// until asked to stop, or a server ends on its own
	ended := make(chan *clusterProc, len(procs))
	for _, p := range procs {
		go func() { <-p.done; ended <- p }()
	}
	select {
	case <-ctx.Done():
		return nil
	case p := <-ended:
		return fmt.Errorf("cluster: %s stopped on its own: %v", p.name, p.err)
	}
}

// clusterProc is one server of the cluster.
type clusterProc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startClusterProc starts this binary with args, its log lines prefixed
// with its name on stderr, and waits for it to say where it serves.
func startClusterProc(ctx context.Context, self string, stderr io.Writer, name string, args, env []string) (*clusterProc, string, error) {
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = childAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = &prefixWriter{w: stderr, prefix: name + ": "}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	p := &clusterProc{name: name, cmd: cmd, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "centrapos serving on "); ok {
				u, _, _ := strings.Cut(rest, " ")
				select {
				case urls <- u:
				default:
				}
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case u := <-urls:
		return p, u, nil
	case <-p.done:
		return nil, "", fmt.Errorf("it stopped before serving: %v", p.err)
	case <-ctx.Done():
		stopAll([]*clusterProc{p})
		return nil, "", ctx.Err()
	case <-time.After(30 * time.Second):
		stopAll([]*clusterProc{p})
		return nil, "", errors.New("it did not start serving within 30 s")
	}
}

// stopAll asks every server to stop (SIGTERM: each finishes its work and
// hands its leases over) and waits for them, killing one still running
// after 20 s.
func stopAll(procs []*clusterProc) {
	var wg sync.WaitGroup
	for _, p := range procs {
		p.cmd.Process.Signal(syscall.SIGTERM)
		wg.Go(func() {
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				p.cmd.Process.Kill()
				<-p.done
			}
		})
	}
	wg.Wait()
}

// prefixWriter writes each line with a prefix.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	rest   []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rest = append(p.rest, b...)
	for {
		i := strings.IndexByte(string(p.rest), '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.rest[:i]); err != nil {
			return len(b), err
		}
		p.rest = p.rest[i+1:]
	}
}

// redactURL is a database URL without its password, to print.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(the --db URL)"
	}
	return u.Redacted()
}
