package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports (the kernel fixes it for
// user space whatever its internal HZ).
const clockTicks = 100

// ProcSample is one reading of a process's CPU time and resident memory.
type ProcSample struct {
	At       time.Time
	CPU      time.Duration // user + system time since the process started
	RSSBytes int64
}

// ParseStat returns utime + stime from the text of /proc/<pid>/stat. The
// command name (field 2) is in parentheses and may itself hold spaces and
// parentheses, so fields are counted from the last ')'.
func ParseStat(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse stat: no ')' in %q", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, fmt.Errorf("parse stat: %d fields after the command name", len(f))
	}
	u, err := strconv.ParseInt(f[utime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse stat utime: %w", err)
	}
	s, err := strconv.ParseInt(f[stime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse stat stime: %w", err)
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// ParseRSS returns VmRSS in bytes from the text of /proc/<pid>/status.
func ParseRSS(status string) (int64, error) {
	for line := range strings.SplitSeq(status, "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("parse status: VmRSS line %q", line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse status VmRSS: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("parse status: no VmRSS line")
}

// ReadProc reads pid's CPU time and RSS from /proc.
func ReadProc(pid int) (ProcSample, error) {
	now := time.Now()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcSample{}, fmt.Errorf("read proc: %w", err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcSample{}, fmt.Errorf("read proc: %w", err)
	}
	cpu, err := ParseStat(string(stat))
	if err != nil {
		return ProcSample{}, err
	}
	rss, err := ParseRSS(string(status))
	if err != nil {
		return ProcSample{}, err
	}
	return ProcSample{At: now, CPU: cpu, RSSBytes: rss}, nil
}

// CPUPercent is the CPU the process used between two samples as a
// percentage of one core: 200 means two cores busy all the time.
func CPUPercent(from, to ProcSample) float64 {
	wall := to.At.Sub(from.At)
	if wall <= 0 {
		return 0
	}
	return 100 * float64(to.CPU-from.CPU) / float64(wall)
}

// tcpTimeWait is the state number of TIME_WAIT in /proc/net/tcp.
const tcpTimeWait = "06"

// ParseTimeWait counts the sockets in TIME_WAIT with port at either end,
// from the text of /proc/net/tcp or /proc/net/tcp6: connections to the
// sandbox that were closed rather than kept for reuse.
func ParseTimeWait(table string, port int) int {
	hexPort := fmt.Sprintf(":%04X", port)
	n := 0
	for i, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 4 || f[3] != tcpTimeWait {
			continue
		}
		if strings.HasSuffix(f[1], hexPort) || strings.HasSuffix(f[2], hexPort) {
			n++
		}
	}
	return n
}

// TimeWait counts this machine's sockets in TIME_WAIT to or from port.
func TimeWait(port int) (int, error) {
	n := 0
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("time wait: %w", err)
		}
		n += ParseTimeWait(string(b), port)
	}
	return n, nil
}
