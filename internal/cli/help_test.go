package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// commandNames returns the commands `centrapos help` lists.
func commandNames(t *testing.T) []string {
	t.Helper()
	_, help, err := run(t, "help")
	if err != nil {
		t.Fatalf("help: %v", err)
	}
	_, list, _ := strings.Cut(help, "commands:\n")
	var names []string
	for _, line := range strings.Split(list, "\n") {
		if strings.HasPrefix(line, "  ") {
			names = append(names, strings.Fields(line)[0])
		}
	}
	if len(names) < 8 {
		t.Fatalf("help lists %q", names)
	}
	return names
}

// TestHelpOfEveryCommand: `centrapos help C` and `centrapos C -h` print
// C's summary and flags and succeed, for every command; a command that
// takes an action first (terminal, webhook) shows each action's flags, for
// `C help` too. No file is made.
func TestHelpOfEveryCommand(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	want := map[string][]string{ // beyond the command's name
		"terminal": {"usage: centrapos terminal <action> [flags]\nactions: add, list, rotate, revoke", "Usage of terminal add:", "-config-id", "Usage of terminal rotate:", "-grace", "-db"},
		"webhook":  {"Usage of webhook deliveries:", "-state", "Usage of webhook redeliver:"},
		"serve":    {"Usage of serve:", "-merchant-account-id", "-db"},
		"version":  {"print the version"},
	}
	for _, name := range commandNames(t) {
		cases := [][]string{{"help", name}, {name, "-h"}, {name, "--help"}}
		if name == "terminal" || name == "webhook" {
			cases = append(cases, []string{name, "help"})
		}
		for _, args := range cases {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				out, stderr, err := run(t, args...)
				if err != nil {
					t.Fatalf("error %v, want none; stderr %s", err, stderr)
				}
				help := out + stderr
				for _, w := range append(want[name], "centrapos "+name+": ") {
					if !strings.Contains(help, w) {
						t.Errorf("no %q in the help:\n%s", w, help)
					}
				}
			})
		}
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("help left %v in the working directory", left)
	}
	if _, stderr, err := run(t, "help", "frobnicate"); exitCode(err) != 2 || !strings.Contains(err.Error(), `unknown command "frobnicate"`) || !strings.Contains(stderr, "usage: centrapos") {
		t.Errorf("help of an unknown command: %v; stderr %s", err, stderr)
	}
}

// TestReadingCommandsCreateNoJournal: a command that works on what a
// journal holds says where it looked when there is none there, with --db
// or without (its default, centrapos.db in the working directory), and
// creates no file; `terminal add` still makes a new journal.
func TestReadingCommandsCreateNoJournal(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("CENTRAPAY_API_KEY", "k") // reconcile reaches the journal
	tests := [][]string{
		{"terminal", "list"},
		{"terminal", "rotate", "till-1"},
		{"terminal", "revoke", "till-1"},
		{"webhook", "list"},
		{"webhook", "deliveries"},
		{"webhook", "remove", "we_1"},
		{"webhook", "redeliver", "ev_1"},
		{"reconcile", "--merchant-account-id", "acc", "--from", "2026-11-25"},
	}
	for _, args := range tests {
		for _, db := range []string{"", "elsewhere.db"} {
			args, where := args, filepath.Join(dir, "centrapos.db")
			if db != "" {
				args, where = append(append([]string(nil), args...), "--db", db), filepath.Join(dir, db)
			}
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				_, _, err := run(t, args...)
				if err == nil || !strings.Contains(err.Error(), "no journal at "+where) || !strings.Contains(err.Error(), "--db") {
					t.Errorf("error %v, want one that says there is no journal at %s and names --db", err, where)
				}
				if left, _ := os.ReadDir(dir); len(left) > 0 {
					t.Fatalf("%v made %v", args, left)
				}
			})
		}
	}
	if _, _, err := run(t, "terminal", "add", "--id", "till-1", "--config-id", "mc_1"); err != nil {
		t.Fatalf("terminal add on a new journal: %v", err)
	}
	if out, _, err := run(t, "terminal", "list"); err != nil || !strings.HasPrefix(out, "till-1\t") {
		t.Errorf("terminal list after add: %q %v", out, err)
	}
}
