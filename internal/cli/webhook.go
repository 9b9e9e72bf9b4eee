package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// runWebhook manages the endpoints events are pushed to, and their
// delivery log, in a journal (`serve` delivers).
func runWebhook(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const verbs = "add, list, enable, disable, remove, deliveries or redeliver"
	if len(args) == 0 {
		return UsageError{"webhook: " + verbs}
	}
	verb := args[0]
	fs := flag.NewFlagSet("webhook "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "centrapos.db", "the journal: a SQLite file, or a postgres:// URL")
	var events, endpoint, eventID, state *string
	var limit *int
	switch verb {
	case "add":
		events = fs.String("events", "*", "comma-separated event types it receives, or * for every type: "+typeList())
	case "deliveries":
		endpoint = fs.String("endpoint", "", "only the deliveries to this endpoint")
		eventID = fs.String("event", "", "only the deliveries of this event")
		state = fs.String("state", "", "only pending, succeeded or failed deliveries")
		limit = fs.Int("limit", 50, "at most this many, newest event first")
	case "redeliver":
		endpoint = fs.String("endpoint", "", "to this endpoint only (which need not have had it); default: every endpoint that had it")
	case "list", "enable", "disable", "remove":
	default:
		return UsageError{fmt.Sprintf("webhook: unknown action %q (%s)", verb, verbs)}
	}
	argv, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]string{"add": "URL", "enable": "ID", "disable": "ID", "remove": "ID", "redeliver": "EVENT_ID"}
	if name, ok := want[verb]; ok && len(argv) != 1 {
		return UsageError{fmt.Sprintf("webhook %s: give the %s", verb, name)}
	} else if !ok && len(argv) > 0 {
		return UsageError{fmt.Sprintf("webhook %s: unexpected argument %q", verb, argv[0])}
	}
	var types []pos.EventType
	if events != nil {
		if types, err = pos.ParseEventTypes(*events); err != nil {
			return UsageError{"webhook add: --events: " + err.Error()}
		}
	}
	j, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer j.Close()
	notFound := func(err error, what string) error {
		if errors.Is(err, pos.ErrNotFound) {
			return fmt.Errorf("no %s", what)
		}
		return err
	}
	switch verb {
	case "add":
		e, err := pos.AddEndpoint(ctx, j, argv[0], types)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "webhook endpoint %s added: %s (events: %s)\n", e.ID, e.URL, eventsOf(e))
		fmt.Fprintf(stdout, "its signing secret (shown only now; receivers check the Centrapos-Signature header with it):\n%s\n", e.Secret)
	case "list":
		eps, err := j.Endpoints(ctx)
		if err != nil {
			return err
		}
		for _, e := range eps {
			st := "enabled"
			if !e.Enabled {
				st = "disabled"
			}
			fmt.Fprintf(stdout, "%s\t%s\tevents: %s\t%s\tadded %s\n", e.ID, e.URL, eventsOf(&e), st, e.CreatedAt.Format(time.RFC3339))
		}
	case "enable", "disable":
		if err := j.SetEndpointEnabled(ctx, argv[0], verb == "enable"); err != nil {
			return notFound(err, "webhook endpoint "+argv[0])
		}
		fmt.Fprintf(stdout, "webhook endpoint %s %sd\n", argv[0], verb)
	case "remove":
		if err := j.RemoveEndpoint(ctx, argv[0], time.Now()); err != nil {
			return notFound(err, "webhook endpoint "+argv[0])
		}
		fmt.Fprintf(stdout, "webhook endpoint %s removed; its pending deliveries are given up\n", argv[0])
	case "deliveries":
		st := pos.DeliveryState(*state)
		if st != "" && st != pos.DeliveryPending && st != pos.DeliverySucceeded && st != pos.DeliveryFailed {
			return UsageError{"webhook deliveries: --state is pending, succeeded or failed"}
		}
		list, err := j.Deliveries(ctx, pos.DeliveryFilter{EndpointID: *endpoint, EventID: *eventID, State: st, Limit: *limit})
		if err != nil {
			return err
		}
		writeDeliveries(stdout, list)
	case "redeliver":
		n, err := j.Redeliver(ctx, argv[0], *endpoint, time.Now())
		if err != nil {
			if *endpoint != "" {
				return notFound(err, "event "+argv[0]+" or webhook endpoint "+*endpoint)
			}
			return notFound(err, "event "+argv[0])
		}
		if n == 0 {
			return fmt.Errorf("event %s was sent to no endpoint: give one with --endpoint", argv[0])
		}
		fmt.Fprintf(stdout, "event %s: %d deliveries pending again; a running serve sends them within a second\n", argv[0], n)
	}
	return nil
}

// writeDeliveries prints the delivery log as a table.
func writeDeliveries(w io.Writer, list []pos.Delivery) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tTYPE\tSALE\tSEQ\tENDPOINT\tSTATE\tATTEMPTS\tLAST\tNEXT TRY")
	for _, d := range list {
		last := "-"
		switch {
		case d.LastStatus != 0 && d.LastError == "":
			last = strconv.Itoa(d.LastStatus)
		case d.LastError != "":
			last = d.LastError
		}
		next := "-"
		if d.State == pos.DeliveryPending {
			next = d.NextAt.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\n", d.EventID, d.EventType, d.Stream, d.Sequence, d.EndpointID, d.State,
			d.Attempts, last, next)
	}
	tw.Flush()
}

func eventsOf(e *pos.Endpoint) string {
	if len(e.Events) == 0 {
		return "all"
	}
	s := make([]string, len(e.Events))
	for i, t := range e.Events {
		s[i] = string(t)
	}
	return strings.Join(s, ",")
}

func typeList() string {
	s := make([]string, len(pos.EventTypes))
	for i, t := range pos.EventTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// parseInterspersed parses flags wherever they are among the positional
// arguments (`webhook add URL --events …` as well as `webhook add
// --events … URL`) and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
