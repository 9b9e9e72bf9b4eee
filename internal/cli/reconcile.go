package cli

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/pos"
)

// `centrapos reconcile` and the daily reconciliation inside `serve`: the
// journal matched against Centrapay's merchant payment activities
// (pos.Engine.Reconcile; docs/operations.md, Reconciliation).

// DiscrepancyError is what reconcile returns when it found discrepancies:
// the command exits 1 (0 when clean, 2 on a usage error).
type DiscrepancyError struct{ Count int }

// Error says how many.
func (e DiscrepancyError) Error() string {
	return fmt.Sprintf("reconcile: %d discrepancies between the journal and Centrapay", e.Count)
}

// listFlag is a flag that may be given several times or as a
// comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// storeZone is the store's time zone: name, else the machine's.
func storeZone(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, UsageError{fmt.Sprintf("--timezone %q: %v", name, err)}
	}
	return loc, nil
}

// businessDay is the day of t in loc, as [start, end): midnight to
// midnight, 23 or 25 hours long on the days the clocks change.
func businessDay(t time.Time, loc *time.Location) (from, to time.Time) {
	y, m, d := t.In(loc).Date()
	from = time.Date(y, m, d, 0, 0, 0, 0, loc)
	return from, time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

// runReconcile reconciles the journal with Centrapay over whole days.
func runReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fromDay := fs.String("from", "", "first day to reconcile, YYYY-MM-DD in the store's time zone (default: yesterday)")
	toDay := fs.String("to", "", "last day to reconcile, included (default: --from)")
	zone := fs.String("timezone", "", "the store's time zone, e.g. Pacific/Auckland (default: the machine's)")
	db := fs.String("db", "centrapos.db", "the journal: a SQLite file, or a postgres:// URL")
	cpURL := fs.String("centrapay-url", "https://service.centrapay.com", "Centrapay's base URL")
	keyFile := fs.String("api-key-file", "", "file holding the merchant-terminal API key (else $CENTRAPAY_API_KEY)")
	account := fs.String("merchant-account-id", "", "the merchant's Centrapay account id (required)")
	var merchants listFlag
	fs.Var(&merchants, "merchant-id", "Centrapay merchant id whose activities are read; repeat or comma-separate (default: learned from the journal's requests)")
	asJSON := fs.Bool("json", false, "write the result as JSON")
	asCSV := fs.Bool("csv", false, "write the result as CSV")
	dryRun := fs.Bool("dry-run", false, "list requests found open without voiding them")
	rate := fs.Int("rate-limit", 30, "Centrapay calls a minute this command may make (a running serve shares the key's limit)")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return UsageError{fmt.Sprintf("reconcile: unexpected argument %q", fs.Arg(0))}
	}
	if *asJSON && *asCSV {
		return UsageError{"reconcile: --json or --csv, not both"}
	}
	if *rate <= 0 {
		return UsageError{"reconcile: --rate-limit must be positive"}
	}
	if *account == "" {
		return UsageError{"reconcile: --merchant-account-id is required"}
	}
	loc, err := storeZone(*zone)
	if err != nil {
		return err
	}
	from, to, err := period(*fromDay, *toDay, time.Now(), loc)
	if err != nil {
		return err
	}
	key, err := apiKey(*keyFile)
	if err != nil {
		return err
	}
	if key == "" {
		return UsageError{"reconcile: no Centrapay API key: set CENTRAPAY_API_KEY or --api-key-file (a merchant-terminal key)"}
	}
	j, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer j.Close()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client, err := centrapay.NewClient(centrapay.WithBaseURL(*cpURL), centrapay.WithAPIKey(key), centrapay.WithLogger(logger),
		centrapay.WithHTTPClient(&http.Client{Transport: centrapay.NewTransport()}), centrapay.WithUserAgent("centrapos"),
		centrapay.WithRateLimit(*rate))
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	eng, err := pos.New(pos.Config{Centrapay: client, Journal: j, MerchantAccountID: *account, Logger: logger})
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	res, err := eng.Reconcile(ctx, pos.ReconcileInput{From: from, To: to, MerchantIDs: merchants, DryRun: *dryRun})
	if pos.ErrorCode(err) == pos.EInvalid {
		return UsageError{"reconcile: " + strings.TrimPrefix(err.Error(), "pos: ")}
	}
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	switch {
	case *asJSON:
		err = writeReconciliationJSON(stdout, res)
	case *asCSV:
		err = writeReconciliationCSV(stdout, res, loc)
	default:
		err = writeReconciliationTable(stdout, res, loc)
	}
	if err != nil {
		return fmt.Errorf("reconcile: write: %w", err)
	}
	if !res.Clean() {
		return DiscrepancyError{Count: len(res.Discrepancies)}
	}
	return nil
}

// period reads --from and --to (whole days in loc, both included) as
// [from, to); no --from is yesterday, as of now.
func period(fromDay, toDay string, now time.Time, loc *time.Location) (from, to time.Time, err error) {
	if fromDay == "" {
		from, _ = businessDay(now, loc)
		from, _ = businessDay(from.Add(-12*time.Hour), loc)
	} else if from, err = time.ParseInLocation(time.DateOnly, fromDay, loc); err != nil {
		return from, to, UsageError{fmt.Sprintf("reconcile: --from %q: want YYYY-MM-DD", fromDay)}
	}
	last := from
	if toDay != "" {
		if last, err = time.ParseInLocation(time.DateOnly, toDay, loc); err != nil {
			return from, to, UsageError{fmt.Sprintf("reconcile: --to %q: want YYYY-MM-DD", toDay)}
		}
	}
	if last.Before(from) {
		return from, to, UsageError{"reconcile: --to is before --from"}
	}
	_, to = businessDay(last, loc)
	return from, to, nil
}

func writeReconciliationJSON(w io.Writer, res *pos.Reconciliation) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*pos.Reconciliation
		Clean bool `json:"clean"`
	}{res, res.Clean()})
}

// writeReconciliationTable writes what matched and every discrepancy, for
// people.
func writeReconciliationTable(w io.Writer, res *pos.Reconciliation, loc *time.Location) error {
	days := res.From.In(loc).Format(time.DateOnly)
	if last := res.To.Add(-time.Nanosecond).In(loc).Format(time.DateOnly); last != days {
		days += " to " + last
	}
	fmt.Fprintf(w, "Reconciliation of %s (%s) with Centrapay merchant %s: sales %d, activities read %d\n",
		days, loc, strings.Join(res.MerchantIDs, ", "), res.Sales, res.Activities)
	if res.Live > 0 {
		fmt.Fprintf(w, "%d sales still live: not reconciled until they end\n", res.Live)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\nMatched, per asset type:")
	fmt.Fprintln(tw, "ASSET TYPE\tDESCRIPTION\tPAYMENTS\tPAID\tREFUNDS\tREFUNDED\tNET\tAUTHORISED\tSETTLEMENT")
	for _, t := range res.Totals {
		var settle []string
		for _, s := range t.Settlements {
			settle = append(settle, fmt.Sprintf("%s %s", s.Amount.String(), cmp.Or(s.Date, "undated")))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s %s\t%d\t%s\t%s\t%s\t%s\n", t.AssetType, cmp.Or(t.Description, "-"), t.Payments,
			t.Paid.String(), t.Currency, t.Refunds, t.Refunded.String(), t.Net.String(), t.Authorised.String(), cmp.Or(strings.Join(settle, "; "), "-"))
	}
	if len(res.Totals) == 0 {
		fmt.Fprintln(tw, "(nothing)")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.Clean() {
		_, err := fmt.Fprintln(w, "\nNo discrepancies.")
		return err
	}
	fmt.Fprintf(w, "\nDiscrepancies: %d\n", len(res.Discrepancies))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tABOUT\tAT\tREQUEST\tSALE\tJOURNAL\tCENTRAPAY\tDETAIL")
	for _, d := range res.Discrepancies {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Kind, d.About, d.At.In(loc).Format("2006-01-02 15:04:05"),
			d.PaymentRequestID, cmp.Or(d.SaleID, "-"), side(d.JournalAmount, d.JournalStatus, d.Currency),
			side(d.CentrapayAmount, d.CentrapayStatus, d.Currency), d.Detail)
	}
	return tw.Flush()
}

// side is one side of a discrepancy: its amount and status, "-" if none.
func side(cents pos.Cents, status, currency string) string {
	var parts []string
	if cents != 0 {
		parts = append(parts, pos.FormatCents(cents, currency))
	}
	if status != "" {
		parts = append(parts, status)
	}
	return cmp.Or(strings.Join(parts, " "), "-")
}

// writeReconciliationCSV writes one row per matched total and per
// discrepancy; the record column says which. Amounts are "12.50" with the
// currency in its own column. Text from tills or Centrapay goes through
// csvText, as the report's CSV does, so no cell runs as a formula.
func writeReconciliationCSV(w io.Writer, res *pos.Reconciliation, loc *time.Location) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"record", "kind", "about", "asset_type", "currency", "payments", "paid", "refunds", "refunded", "net", "authorised",
		"settlements", "payment_request_id", "sale_id", "external_ref", "terminal_id", "op_id", "activity_id",
		"journal_amount", "centrapay_amount", "journal_status", "centrapay_status", "at", "detail", "void_op_id"})
	for _, t := range res.Totals {
		var settle []string
		for _, s := range t.Settlements {
			settle = append(settle, cmp.Or(s.Date, "undated")+"="+s.Amount.String())
		}
		cw.Write([]string{"total", "", "", csvText(t.AssetType), csvText(t.Currency), strconv.Itoa(t.Payments), t.Paid.String(), strconv.Itoa(t.Refunds),
			t.Refunded.String(), t.Net.String(), t.Authorised.String(), strings.Join(settle, " "),
			"", "", "", "", "", "", "", "", "", "", "", "", ""})
	}
	for _, d := range res.Discrepancies {
		cw.Write([]string{"discrepancy", string(d.Kind), d.About, csvText(d.AssetType), csvText(d.Currency), "", "", "", "", "", "", "",
			csvText(d.PaymentRequestID), d.SaleID, csvText(d.ExternalRef), csvText(d.TerminalID), d.OpID, csvText(d.ActivityID),
			d.JournalAmount.String(), d.CentrapayAmount.String(), d.JournalStatus, d.CentrapayStatus,
			d.At.In(loc).Format(time.RFC3339), csvText(d.Detail), d.VoidOpID})
	}
	cw.Flush()
	return cw.Error()
}

// dailyReconcile is serve's daily reconciliation of the previous business
// day: its flags and its run.
type dailyReconcile struct {
	at        string   // HH:MM in the store's time zone; "off": none
	merchants listFlag // --merchant-id
	hour, min int
	loc       *time.Location // the store's
}

// register adds the daily run's flags to serve's.
func (d *dailyReconcile) register(fs *flag.FlagSet) {
	fs.StringVar(&d.at, "reconcile-at", "02:30", `time of day (HH:MM, the store's time zone) to reconcile the previous day with Centrapay; "off": never`)
	fs.Var(&d.merchants, "merchant-id", "Centrapay merchant id whose activities are reconciled; repeat or comma-separate (default: learned from the journal's requests)")
}

// check reads --reconcile-at and the store's time zone.
func (d *dailyReconcile) check(zone string) error {
	if d.at == "off" || d.at == "" {
		d.at = "off"
		return nil
	}
	t, err := time.Parse("15:04", d.at)
	if err != nil {
		return UsageError{fmt.Sprintf("--reconcile-at %q: want HH:MM (24-hour) or off", d.at)}
	}
	d.hour, d.min = t.Hour(), t.Minute()
	d.loc, err = storeZone(zone)
	return err
}

// start runs the daily reconciliation beside the server until ctx ends.
func (d *dailyReconcile) start(ctx context.Context, eng *pos.Engine, logger *slog.Logger) {
	if d.at == "off" {
		return
	}
	go d.run(ctx, clock.Real{}, eng, logger)
	logger.Info("daily reconciliation with Centrapay", "at", d.at, "zone", d.loc.String())
}

// next is when the daily run is next due after now.
func (d *dailyReconcile) next(now time.Time, loc *time.Location) time.Time {
	n := now.In(loc)
	t := time.Date(n.Year(), n.Month(), n.Day(), d.hour, d.min, 0, 0, loc)
	if !t.After(n) {
		t = time.Date(n.Year(), n.Month(), n.Day()+1, d.hour, d.min, 0, 0, loc)
	}
	return t
}

// run reconciles the previous business day at the time of day d.at,
// every day, until ctx ends. A run that fails is logged and tried again
// at the next day's time; the manager's page can run it sooner.
func (d *dailyReconcile) run(ctx context.Context, clk clock.Clock, eng *pos.Engine, logger *slog.Logger) {
	loc := d.loc
	for {
		due := d.next(clk.Now(), loc)
		timer := clk.NewTimer(due.Sub(clk.Now()))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
		today, _ := businessDay(due, loc)
		from, to := businessDay(today.Add(-12*time.Hour), loc)
		res, err := eng.Reconcile(ctx, pos.ReconcileInput{From: from, To: to, MerchantIDs: d.merchants})
		switch {
		case err != nil:
			logger.Error("daily reconciliation", "day", from.Format(time.DateOnly), "err", err)
		case res.Clean():
			logger.Info("daily reconciliation: clean", "day", from.Format(time.DateOnly), "sales", res.Sales, "activities", res.Activities)
		default:
			logger.Warn("daily reconciliation: discrepancies with Centrapay (see /manager/reconcile)", "day", from.Format(time.DateOnly),
				"discrepancies", len(res.Discrepancies), "sales", res.Sales)
		}
	}
}

// csvText makes a text cell safe to open in a spreadsheet: one that begins
// with =, +, -, @, a tab or a carriage return gets a leading single quote
// (OWASP's "CSV injection" advice), as internal/server's report CSV does.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
