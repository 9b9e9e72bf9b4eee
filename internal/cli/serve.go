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

	"github.com/centrapos/centrapos/internal/server"
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
	fs.Var((*addressLines)(&cfg.MerchantAddress), "merchant-address", "a `line` of the address on receipts (repeat the flag for more lines)")
	fs.StringVar(&cfg.GSTNumber, "gst-number", "", "the GST number on receipts (8 or 9 digits, e.g. 123-456-789)")
	fs.StringVar(&cfg.Currency, "currency", "NZD", "the currency of sales")
	fs.StringVar(&cfg.TimeZone, "timezone", "", "the store's time zone for receipts, e.g. Pacific/Auckland (default: the machine's)")
	fs.IntVar(&cfg.ExpirySeconds, "expiry", 120, "seconds before a Payment Request expires")
	fs.DurationVar(&cfg.TimeoutMargin, "timeout-margin", 7*time.Second, "POS timeout after expiry (5s to 10s)")
	fs.IntVar(&cfg.RateLimit, "rate-limit", 200, "Centrapay calls a minute for this API key")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate file (with --tls-key)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS key file")
	fs.DurationVar(&cfg.Drain, "drain", 0, "at a stop (SIGTERM), how long /healthz answers 503 stopping before the listener closes: a load balancer's health-check interval or two (e.g. 10s)")
	fs.StringVar(&cfg.Instance, "instance", "", "this server's name among those sharing a PostgreSQL journal, in its logs and leases (default: host name and process id)")
	fs.StringVar(&cfg.AdminListen, "admin-listen", "127.0.0.1:0", "address of /metrics and /debug/pprof (keep it private; port 0 picks a free one, printed at start)")
	cfg.CentrapayHooks.register(fs)
	daily := dailyReconcile{} // reconciliation of the previous day (reconcile.go)
	daily.register(fs)
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if err := daily.check(cfg.TimeZone); err != nil {
		return err
	}
	gst, err := server.ParseGSTNumber(cfg.GSTNumber)
	if err != nil {
		return UsageError{fmt.Sprintf("serve: --gst-number: %v", err)}
	}
	cfg.GSTNumber = gst
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
	fmt.Fprintf(stdout, "centrapos admin on %s (metrics, pprof: keep it private)\n", a.adURL)
	daily.start(ctx, a.eng, cfg.Logger)
	return a.run(ctx)
}

// addressLines is the value of --merchant-address: each use of the flag
// adds a line (a value with newlines adds each).
type addressLines string

func (a *addressLines) String() string { return strings.ReplaceAll(string(*a), "\n", ", ") }

func (a *addressLines) Set(v string) error {
	if *a != "" {
		*a += "\n"
	}
	*a += addressLines(v)
	return nil
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

// runTerminal adds, lists, rotates the tokens of and revokes terminals in
// a journal.
func runTerminal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return UsageError{"terminal: add, list, rotate or revoke"}
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
	grace := new(time.Duration)
	if verb == "rotate" {
		fs.DurationVar(grace, "grace", 24*time.Hour, "how long the old token keeps working (0: it stops at once)")
	}
	// flags may come before or after the terminal id
	var ids []string
	for rest := args[1:]; ; {
		if err := fs.Parse(rest); err != nil {
			return flagError(err)
		}
		if fs.NArg() == 0 {
			break
		}
		ids, rest = append(ids, fs.Arg(0)), fs.Args()[1:]
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
		now := time.Now()
		for _, t := range ts {
			state := "active"
			if t.Revoked {
				state = "revoked"
			}
			role := ""
			if t.Manager {
				role = " manager"
			}
			used := "never used"
			if !t.LastUsedAt.IsZero() {
				used = "last used " + t.LastUsedAt.UTC().Format(time.RFC3339)
			}
			old := ""
			if !t.Revoked && t.PreviousValidUntil.After(now) {
				old = "\told token valid until " + t.PreviousValidUntil.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\t%s\tdevice %s\tconfig %s\t%s%s\t%s%s\n", t.ID, t.Name, t.DeviceID, t.ConfigID, state, role, used, old)
		}
	case "rotate":
		if len(ids) != 1 {
			return UsageError{"terminal rotate: give the terminal id"}
		}
		if *grace < 0 {
			return UsageError{"terminal rotate: --grace cannot be negative"}
		}
		now := time.Now()
		token, err := pos.RotateToken(ctx, j, ids[0], *grace, now)
		if err != nil {
			return err
		}
		if *grace == 0 {
			fmt.Fprintf(stdout, "terminal %s has a new token; the old one no longer works. The new token (shown only now):\n%s\n", ids[0], token)
		} else {
			fmt.Fprintf(stdout, "terminal %s has a new token; the old one works until %s. The new token (shown only now):\n%s\n",
				ids[0], now.Add(*grace).UTC().Format(time.RFC3339), token)
		}
	case "revoke":
		if len(ids) != 1 {
			return UsageError{"terminal revoke: give the terminal id"}
		}
		if err := j.RevokeTerminal(ctx, ids[0], time.Now()); err != nil {
			if errors.Is(err, pos.ErrNotFound) {
				return fmt.Errorf("no active terminal %s", ids[0])
			}
			return err
		}
		fmt.Fprintf(stdout, "terminal %s revoked\n", ids[0])
	default:
		return UsageError{fmt.Sprintf("terminal: unknown action %q (add, list, rotate, revoke)", verb)}
	}
	return nil
}
