package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// child is a running centrapos process (sandbox or serve). Its stdout and
// stderr go to a log file; the first lines are also kept, so the bench
// can read what it prints on start.
type child struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed once the process has exited and been reaped

	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced when a line arrives
}

// keptLines bounds the lines a child keeps in memory: what it prints on
// start is all the bench reads.
const keptLines = 500

// startChild starts bin with args in its own process group (killed as a
// group when ctx ends or stop is called), env added to the bench's.
func startChild(ctx context.Context, name, bin, logPath string, env []string, args ...string) (*child, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	fmt.Fprintf(f, "=== %s: %s %s\n", time.Now().Format(time.RFC3339Nano), name, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return killGroup(cmd.Process) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{}), changed: make(chan struct{})}
	var wg sync.WaitGroup
	var fmu sync.Mutex
	for _, r := range []io.Reader{stdout, stderr} {
		wg.Go(func() {
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				fmu.Lock()
				fmt.Fprintln(f, sc.Text())
				fmu.Unlock()
				c.keep(sc.Text())
			}
			io.Copy(io.Discard, r)
		})
	}
	go func() {
		wg.Wait()
		cmd.Wait()
		f.Close()
		close(c.done)
		c.keep("") // wake whoever waits for a line
	}()
	return c, nil
}

func (c *child) keep(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines) < keptLines && line != "" {
		c.lines = append(c.lines, line)
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitLine returns the first line the child printed (on stdout or
// stderr) that contains s, waiting up to timeout for it.
func (c *child) waitLine(ctx context.Context, s string, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		for _, l := range c.lines {
			if strings.Contains(l, s) {
				c.mu.Unlock()
				return l, nil
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-c.done:
			return "", fmt.Errorf("%s exited (%v) before printing %q; log %s:\n%s", c.name, c.cmd.ProcessState, s, c.log, tail(c.log, 15))
		case <-timer.C:
			return "", fmt.Errorf("%s printed no %q in %v; log %s:\n%s", c.name, s, timeout, c.log, tail(c.log, 15))
		case <-ctx.Done():
			return "", ctx.Err()
		case <-changed:
		}
	}
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// stop kills the child's process group and waits (bounded) until it is
// reaped; calling it again does nothing.
func (c *child) stop() error {
	select {
	case <-c.done:
		return nil
	default:
	}
	killGroup(c.cmd.Process)
	select {
	case <-c.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("stop %s: pid %d still running 10 s after SIGKILL", c.name, c.pid())
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
