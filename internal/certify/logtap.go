package certify

import (
	"bytes"
	"context"
	"strings"
	"sync"
)

// LogTap is an io.Writer for the server's log (a slog handler writes to
// it): it keeps the lines, with secrets redacted as they arrive, so that
// each item's excerpt can be cut from it and an item can wait for a line
// (a retry, a void) to appear. It is safe for concurrent use.
type LogTap struct {
	mu      sync.Mutex
	secrets []string
	lines   []string
	partial []byte
	changed chan struct{} // closed and replaced on every new line
	hits    int           // secrets redacted
}

// NewLogTap returns a tap that replaces every secret with [redacted].
func NewLogTap(secrets ...string) *LogTap {
	t := &LogTap{changed: make(chan struct{})}
	for _, s := range secrets {
		if s != "" {
			t.secrets = append(t.secrets, s)
		}
	}
	return t
}

// Write keeps p's complete lines.
func (t *LogTap) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, t.redact(string(t.partial[:i])))
		t.partial = t.partial[i+1:]
		added = true
	}
	if added {
		close(t.changed)
		t.changed = make(chan struct{})
	}
	return len(p), nil
}

func (t *LogTap) redact(s string) string {
	for _, k := range t.secrets {
		if n := strings.Count(s, k); n > 0 {
			t.hits += n
			s = strings.ReplaceAll(s, k, "[redacted]")
		}
	}
	return s
}

// Redacted is how many times a secret was written to the log (and
// redacted here): any is a leak.
func (t *LogTap) Redacted() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hits
}

// Mark is the number of lines so far: pass it to Since.
func (t *LogTap) Mark() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.lines)
}

// Since returns the lines written after mark.
func (t *LogTap) Since(mark int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if mark > len(t.lines) {
		return nil
	}
	return append([]string(nil), t.lines[mark:]...)
}

// Wait waits until a line after mark holds every one of parts, and
// returns it; "" when ctx ends first.
func (t *LogTap) Wait(ctx context.Context, mark int, parts ...string) string {
	for {
		t.mu.Lock()
		for _, l := range t.lines[min(mark, len(t.lines)):] {
			if containsAll(l, parts) {
				t.mu.Unlock()
				return l
			}
		}
		ch := t.changed
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ""
		}
	}
}

// Count returns how many lines after mark hold every one of parts.
func (t *LogTap) Count(mark int, parts ...string) int {
	n := 0
	for _, l := range t.Since(mark) {
		if containsAll(l, parts) {
			n++
		}
	}
	return n
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
