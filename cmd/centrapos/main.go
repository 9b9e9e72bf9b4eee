// Command centrapos takes payment through Centrapay for a point of sale: a
// Centrapay client, a POS engine with a crash-safe journal, a POS server and
// a local Centrapay sandbox, in one binary. Run `centrapos help` for the
// commands.
//
// main only turns signals into a cancelled context and errors into exit
// codes; internal/cli owns the wiring so tests can run the real program.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/centrapos/centrapos/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &cli.Main{Stdout: os.Stdout, Stderr: os.Stderr}
	err := m.Run(ctx, os.Args[1:])
	stop()
	if err != nil {
		var usage cli.UsageError
		if errors.As(err, &usage) {
			fmt.Fprintln(os.Stderr, "centrapos:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "centrapos:", err)
		os.Exit(1)
	}
}
