package bench

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{name: "plain", stat: "1234 (centrapos) S 1 1234 1234 0 -1 4194560 5163 0 0 0 250 75 0 0 20 0 9 0 12345 1000 500",
			want: 3250 * time.Millisecond},
		{name: "command with spaces and parentheses", stat: "99 (a (b) c) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 1 1 1",
			want: 30 * time.Millisecond},
		{name: "no parenthesis", stat: "99 a R 1", wantErr: true},
		{name: "truncated", stat: "99 (a) R 1 1 1", wantErr: true},
		{name: "not a number", stat: "1 (a) S 1 1 1 0 -1 0 0 0 0 0 x 2 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat(tt.stat)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseStat error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseStat = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseRSS(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    int64
		wantErr bool
	}{
		{name: "found", status: "Name:\tcentrapos\nVmPeak:\t  900 kB\nVmRSS:\t   31240 kB\nThreads:\t9\n", want: 31240 * 1024},
		{name: "missing (a zombie)", status: "Name:\tx\nState:\tZ (zombie)\n", wantErr: true},
		{name: "odd unit", status: "VmRSS:\t 12 MB\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRSS(tt.status)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseRSS error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseRSS = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCPUPercent(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name     string
		from, to ProcSample
		want     float64
	}{
		{"one core", ProcSample{At: t0, CPU: time.Second}, ProcSample{At: t0.Add(2 * time.Second), CPU: 3 * time.Second}, 100},
		{"two cores", ProcSample{At: t0}, ProcSample{At: t0.Add(time.Second), CPU: 2 * time.Second}, 200},
		{"idle", ProcSample{At: t0, CPU: time.Second}, ProcSample{At: t0.Add(time.Second), CPU: time.Second}, 0},
		{"no time", ProcSample{At: t0}, ProcSample{At: t0, CPU: time.Second}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CPUPercent(tt.from, tt.to); got != tt.want {
				t.Errorf("CPUPercent = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReadProc reads the test's own process: the parsers agree with the
// kernel's real files.
func TestReadProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	s, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSBytes <= 0 || s.CPU < 0 {
		t.Errorf("ReadProc = %+v, want a positive RSS", s)
	}
}

func TestParseTimeWait(t *testing.T) {
	// two sockets in TIME_WAIT (06) to port 8081 (1F91), one ESTABLISHED
	// (01) to it, one in TIME_WAIT to another port
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:C350 0100007F:1F91 06 00000000:00000000 03:00000F1B 00000000     0        0 0 3 0000000000000000
   1: 0100007F:1F91 0100007F:C351 06 00000000:00000000 03:00000F1B 00000000     0        0 0 3 0000000000000000
   2: 0100007F:C352 0100007F:1F91 01 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:C353 0100007F:1F90 06 00000000:00000000 03:00000F1B 00000000     0        0 0 3 0000000000000000
`
	for _, c := range []struct {
		port int
		want int
	}{{8081, 2}, {8080, 1}, {9000, 0}} {
		if got := ParseTimeWait(table, c.port); got != c.want {
			t.Errorf("port %d: %d in TIME_WAIT, want %d", c.port, got, c.want)
		}
	}
	if got := ParseTimeWait("", 8081); got != 0 {
		t.Errorf("empty table: %d", got)
	}
}
