package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantUsage  bool
		wantErr    bool
		wantStdout string
		wantStderr string
	}{
		{name: "version", args: []string{"version"}, wantStdout: "centrapos "},
		{name: "version with argument", args: []string{"version", "x"}, wantErr: true, wantUsage: true},
		{name: "no command", args: nil, wantErr: true, wantUsage: true, wantStderr: "usage: centrapos"},
		{name: "help", args: []string{"help"}, wantStderr: "version"},
		{name: "unknown", args: []string{"frobnicate"}, wantErr: true, wantUsage: true, wantStderr: "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errOut}
			err := m.Run(context.Background(), tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Run(%q) error = %v, want error %v", tt.args, err, tt.wantErr)
			}
			var usage UsageError
			if errors.As(err, &usage) != tt.wantUsage {
				t.Errorf("Run(%q) error %v: usage error = %v, want %v", tt.args, err, !tt.wantUsage, tt.wantUsage)
			}
			if !strings.Contains(out.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", out.String(), tt.wantStdout)
			}
			if !strings.Contains(errOut.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), tt.wantStderr)
			}
		})
	}
}
