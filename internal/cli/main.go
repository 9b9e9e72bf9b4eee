// Package cli is the wiring of the centrapos command: it parses the
// sub-command and its flags and runs it until its context is cancelled. The
// command's main only handles signals and exit codes, so tests start the
// real program here, on port 0 with temporary files.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Main runs centrapos sub-commands, writing to Stdout and Stderr.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
}

// UsageError is a mistake in the command line; the command exits with 2.
type UsageError struct{ Msg string }

// Error returns the message.
func (e UsageError) Error() string { return e.Msg }

// command is one sub-command.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands returns the sub-commands by name.
func (m *Main) commands() map[string]command {
	return map[string]command{
		"bench":     {"measure a sandbox and a server run as separate processes: live sales, throughput, paid→till (--quick: 30 s)", runBench},
		"certify":   {"run Centrapay's integration checklist against the sandbox (or --centrapay-url) and write an evidence report; exits 1 if an item fails", runCertify},
		"cluster":   {"run a sandbox and several servers (real processes) sharing one PostgreSQL journal: cluster --db postgres://… [--instances 2]", runCluster},
		"demo":      {"run the sandbox and the POS server together, with a signed-in demo till", runDemo},
		"reconcile": {"match the journal with Centrapay's payment activities: reconcile --from DAY [--to DAY] [--json|--csv]; exits 1 on discrepancies", runReconcile},
		"sandbox":   {"run a local Centrapay sandbox (prints one line of JSON: base URL, API key, ids)", runSandbox},
		"serve":     {"run the POS server against Centrapay (terminal API, cashier UI, customer display)", runServe},
		"terminal":  {"add, list, rotate the token of or revoke terminals: terminal add --id T --config-id C --db F", runTerminal},
		"version":   {"print the version and build information", runVersion},
		"webhook":   {"endpoints for events pushed to your systems: webhook add URL --events T,T --db F; list, remove, deliveries, redeliver", runWebhook},
	}
}

// actions are the sub-commands whose first argument is an action, and
// their actions: `centrapos terminal -h` shows each action's flags.
var actions = map[string][]string{
	"terminal": {"add", "list", "rotate", "revoke"},
	"webhook":  {"add", "list", "enable", "disable", "remove", "deliveries", "redeliver"},
}

// isHelp says whether arg asks for help: a help flag or the word help.
func isHelp(arg string) bool { return isHelpFlag(arg) || arg == "help" }

func isHelpFlag(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// Run runs the sub-command named by args[0] with the remaining arguments.
func (m *Main) Run(ctx context.Context, args []string) error {
	cmds := m.commands()
	if len(args) > 1 && isHelp(args[0]) {
		args = []string{args[1], "-h"} // `help serve` is `serve -h`
	}
	if len(args) == 0 || isHelp(args[0]) {
		m.usage(cmds)
		if len(args) == 0 {
			return UsageError{"no command given"}
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		m.usage(cmds)
		return UsageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	if len(args) > 1 && isHelp(args[1]) {
		if verbs := actions[args[0]]; verbs != nil {
			return m.actionsUsage(ctx, args[0], c, verbs)
		}
		if isHelpFlag(args[1]) {
			fmt.Fprintf(m.Stderr, "centrapos %s: %s\n\n", args[0], c.summary) // the flags follow
		}
	}
	if needsExistingJournal(args) {
		ctx = withExistingJournal(ctx)
	}
	err := c.run(ctx, args[1:], m.Stdout, m.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h printed the flags; that is not a failure
	}
	return err
}

// flagError turns a flag parsing error into a UsageError, keeping -h apart.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return flag.ErrHelp
	}
	return UsageError{err.Error()}
}

func (m *Main) usage(cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: centrapos <command> [flags]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nRun `centrapos help <command>` (or `centrapos <command> -h`) for a command's flags.\n")
	io.WriteString(m.Stderr, b.String())
}

// actionsUsage prints the usage of a command that takes an action first:
// its summary, then each action's flags (what `<command> <action> -h`
// prints).
func (m *Main) actionsUsage(ctx context.Context, name string, c command, verbs []string) error {
	fmt.Fprintf(m.Stderr, "centrapos %s: %s\n\nusage: centrapos %s <action> [flags]\nactions: %s\n", name, c.summary, name, strings.Join(verbs, ", "))
	for _, v := range verbs {
		io.WriteString(m.Stderr, "\n")
		if err := c.run(ctx, []string{v, "-h"}, m.Stdout, m.Stderr); !errors.Is(err, flag.ErrHelp) {
			return fmt.Errorf("%s %s -h: %v", name, v, err)
		}
	}
	return nil
}
