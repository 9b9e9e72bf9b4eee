package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/centrapos/centrapos/internal/server"
	"github.com/centrapos/centrapos/pos"
)

// demoTerminal is the terminal the demo signs the cashier in as.
const demoTerminal = "till-1"

// runDemo runs the sandbox and the POS server in one process with a demo
// terminal, and prints where to point a browser.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address of the POS server")
	sbListen := fs.String("sandbox-listen", "127.0.0.1:8081", "address of the Centrapay sandbox")
	dir := fs.String("dir", "", "directory of the journal, kept when the demo stops (default: a new temporary one, removed when it stops)")
	verbose := fs.Bool("v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return UsageError{fmt.Sprintf("demo: unexpected argument %q", fs.Arg(0))}
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	keep := *dir != ""
	if !keep {
		d, err := os.MkdirTemp("", "centrapos-demo-")
		if err != nil {
			return err
		}
		*dir = d
		// deferred first, so run last: after the journal is closed
		defer func() {
			if err := os.RemoveAll(d); err != nil {
				logger.Warn("demo: could not remove its temporary journal", "dir", d, "err", err)
			}
		}()
	} else if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("demo: --dir: %w", err)
	}
	journal := filepath.Join(*dir, "centrapos.db")

	// the POS server reaches the sandbox over loopback, phones on the LAN
	// at --sandbox-listen
	local, err := startLocalSandbox(*sbListen, logger)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer local.close()
	sb, sbURL, apiURL := local.sb, local.publicURL, local.apiURL

	// the sandbox notifies the POS server by webhook, as Centrapay would:
	// a payment reaches the till at once (polling goes on beside it). The
	// server's listener is made first, since its URL is the subscriber and
	// the audience of every call.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("demo: listen on %s: %w", *listen, err)
	}
	hookURL := loopbackURL(ln) + server.DefaultWebhookPath
	sb.AddWebhook(hookURL)
	seed := sb.Seed()
	token, err := demoToken(ctx, journal, seed.ConfigID)
	if err != nil {
		ln.Close()
		return fmt.Errorf("demo: %w", err)
	}
	a, err := startApp(ctx, appConfig{DB: journal, Listen: *listen, CentrapayURL: apiURL,
		APIKey: seed.APIKey, MerchantAccountID: seed.MerchantAccountID, MerchantName: "Centrapay Café", Currency: "NZD",
		RateLimit: 200, TimeZone: "Pacific/Auckland", Logger: logger, listener: ln,
		CentrapayHooks: centrapayHooks{Audience: hookURL, Path: server.DefaultWebhookPath, JWKSURL: apiURL + "/.well-known/jwks.json"}})
	if err != nil {
		ln.Close()
		return fmt.Errorf("demo: %w", err)
	}
	link, err := a.srv.LoginLink(ctx, demoTerminal)
	if err != nil {
		stopped, stop := context.WithCancel(ctx)
		stop()
		a.run(stopped) // stops at once, closing the journal
		return fmt.Errorf("demo: %w", err)
	}
	kept := "removed when the demo stops; keep it with --dir"
	if keep {
		kept = "kept: run the demo with the same --dir to go on with it"
	}
	fmt.Fprintf(stdout, `centrapos demo is running: a Centrapay sandbox and a POS server, in one process.
  Cashier (signed in): %s%s
  Sign-in link:        the link above works once, within an hour; to sign in again, open %s/ and enter the terminal token below
  Customer display:    %s/display/%s
  Sandbox wallet:      %s/pay/{payment request id} (what the QR code opens)
  Sandbox scenarios:   %s/sandbox/scenarios
  Centrapay webhooks:  %s (the sandbox notifies the server there)
  Metrics:             %s/metrics (and /debug/pprof; on loopback only)
  Terminal token:      %s
  Journal:             %s (%s)
Press Ctrl-C to stop.
`, a.url, link, a.url, a.url, demoTerminal, sbURL, sbURL, hookURL, a.adURL, token, journal, kept)
	return a.run(ctx)
}

// demoToken adds the demo's terminal to the journal, a manager at the
// sandbox's merchant config, and returns its token. A journal kept from an
// earlier run (--dir) has it already: it gets a new token, the old one
// stopping at once, so that the token printed is always one to sign in
// with.
func demoToken(ctx context.Context, journal, configID string) (string, error) {
	j, err := openStore(ctx, journal)
	if err != nil {
		return "", err
	}
	defer j.Close()
	token, err := pos.AddTerminal(ctx, j, pos.Terminal{ID: demoTerminal, Name: "Till 1", ConfigID: configID, Manager: true})
	if err == nil {
		return token, nil
	}
	if _, gerr := j.Terminal(ctx, demoTerminal); gerr != nil {
		return "", errors.Join(err, gerr)
	}
	return pos.RotateToken(ctx, j, demoTerminal, 0, time.Now())
}
