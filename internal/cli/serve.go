package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// runServe runs the POS server against Centrapay.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := appConfig{}
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "address to serve the terminal API and UI on")
	fs.StringVar(&cfg.DB, "db", "centrapos.db", "the journal: a SQLite file, or a postgres:// URL")
	fs.StringVar(&cfg.CentrapayURL, "centrapay-url", "https://service.centrapay.com", "Centrapay's base URL")
	keyFile := fs.String("api-key-file", "", "file holding the merchant-terminal API key (else $CENTRAPAY_API_KEY)")
	fs.StringVar(&cfg.MerchantAccountID, "merchant-account-id", "", "the merchant's Centrapay account id (required)")
	fs.StringVar(&cfg.MerchantName, "merchant-name", "Merchant", "the name on receipts and the customer display")
	fs.StringVar(&cfg.Currency, "currency", "NZD", "the currency of sales")
	fs.StringVar(&cfg.TimeZone, "timezone", "", "the store's time zone for receipts, e.g. Pacific/Auckland (default: the machine's)")
	fs.IntVar(&cfg.ExpirySeconds, "expiry", 120, "seconds before a Payment Request expires")
	fs.DurationVar(&cfg.TimeoutMargin, "timeout-margin", 7*time.Second, "POS timeout after expiry (5s to 10s)")
	fs.IntVar(&cfg.RateLimit, "rate-limit", 200, "Centrapay calls a minute for this API key")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate file (with --tls-key)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS key file")
	cfg.CentrapayHooks.register(fs)
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return UsageError{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	key, err := apiKey(*keyFile)
	if err != nil {
		return err
	}
	cfg.APIKey = key
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	a, err := startApp(ctx, cfg)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(stdout, "centrapos serving on %s (journal %s)\n", a.url, cfg.DB)
	return a.run(ctx)
}

// apiKey reads the API key from file, else from $CENTRAPAY_API_KEY.
func apiKey(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read API key: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return strings.TrimSpace(os.Getenv("CENTRAPAY_API_KEY")), nil
}

// runTerminal adds, lists and revokes terminals in a journal.
func runTerminal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return UsageError{"terminal: add, list or revoke"}
	}
	verb := args[0]
	fs := flag.NewFlagSet("terminal "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "centrapos.db", "the journal: a SQLite file, or a postgres:// URL")
	var t pos.Terminal
	if verb == "add" {
		fs.StringVar(&t.ID, "id", "", "terminal id, sent to Centrapay as terminalId (required)")
		fs.StringVar(&t.DeviceID, "device-id", "", "device id sent to Centrapay (default: the id)")
		fs.StringVar(&t.Name, "name", "", "a name people recognise (default: the id)")
		fs.StringVar(&t.ConfigID, "config-id", "", "the Centrapay merchant config of its location (required)")
		fs.BoolVar(&t.Manager, "manager", false, "may see every terminal's sales and reports")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return flagError(err)
	}
	j, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer j.Close()
	switch verb {
	case "add":
		if t.ID == "" || t.ConfigID == "" {
			return UsageError{"terminal add: --id and --config-id are required"}
		}
		token, err := pos.AddTerminal(ctx, j, t)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "terminal %s added; its token (shown only now):\n%s\n", t.ID, token)
	case "list":
		ts, err := j.Terminals(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			state := "active"
			if t.Revoked {
				state = "revoked"
			}
			role := ""
			if t.Manager {
				role = " manager"
			}
			fmt.Fprintf(stdout, "%s\t%s\tdevice %s\tconfig %s\t%s%s\n", t.ID, t.Name, t.DeviceID, t.ConfigID, state, role)
		}
	case "revoke":
		if fs.NArg() != 1 {
			return UsageError{"terminal revoke: give the terminal id"}
		}
		if err := j.RevokeTerminal(ctx, fs.Arg(0), time.Now()); err != nil {
			if errors.Is(err, pos.ErrNotFound) {
				return fmt.Errorf("no active terminal %s", fs.Arg(0))
			}
			return err
		}
		fmt.Fprintf(stdout, "terminal %s revoked\n", fs.Arg(0))
	default:
		return UsageError{fmt.Sprintf("terminal: unknown action %q (add, list, revoke)", verb)}
	}
	return nil
}
