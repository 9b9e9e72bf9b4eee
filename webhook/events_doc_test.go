package webhook_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// docsEvents is the catalogue with an example body per event type,
// rendered from the real types by renderEvents; TestEventsDoc keeps it
// current (CENTRAPOS_UPDATE_DOCS=1 rewrites it).
const docsEvents = "../docs/events.md"

// what each event means, for the catalogue.
var eventMeaning = map[pos.EventType]string{
	pos.EventSalePaid: "The sale is paid: Centrapay collected the amount (`data.paidBy` says by which asset types). " +
		"For a pre-auth sale (`data.preAuth`), the amount is authorized, to be confirmed later.",
	pos.EventSaleCancelled: "The sale is cancelled: at the till, declined by the patron or the wallet (`data.reason`), " +
		"or voided by the engine (`data.voidReason`). A paid request that was voided is refunded in full by Centrapay.",
	pos.EventSaleExpired:   "The Payment Request expired before the patron paid.",
	pos.EventSaleFailed:    "No Payment Request could be made (`data.reason`); nothing was charged.",
	pos.EventRefundPending: "A refund is journaled and about to be sent to Centrapay (`data` is the refund; `data.key` is the reference Centrapay dedupes it on).",
	pos.EventRefundSucceeded: "Centrapay accepted the refund. The sale's `refunded` grows by `data.amount`; the refund is pending " +
		"(`refundStatus` on the API) until Centrapay completes it, asynchronously (`refund.completed`).",
	pos.EventRefundCompleted: "Centrapay completed the refund: the money is back with the patron (`data.completedAt`). " +
		"Centrapay said so by its `payment-request:refund-completed` notification, or by listing the refund among the request's activities.",
	pos.EventRefundFailed: "Centrapay refused the refund: `data.error` is Centrapay's code, `data.message` says why.",
}

// eventWhen is the catalogue table's column.
var eventWhen = map[pos.EventType]string{
	pos.EventSalePaid:        "a sale is paid (a pre-auth: authorized)",
	pos.EventSaleCancelled:   "a sale is cancelled, declined or voided",
	pos.EventSaleExpired:     "a sale's Payment Request expired unpaid",
	pos.EventSaleFailed:      "no Payment Request could be made for a sale",
	pos.EventRefundPending:   "a refund is journaled, before it is sent",
	pos.EventRefundSucceeded: "Centrapay accepted it (pending until complete)",
	pos.EventRefundCompleted: "Centrapay completed it: the money is back",
	pos.EventRefundFailed:    "Centrapay refused it",
}

// examples returns one event of each type, made by pos.EventsFor from a
// plausible story of two sales.
func examples(t *testing.T) []pos.OutboxEvent {
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	sale := func(id, ref string, st pos.Status, seconds int) *pos.Sale {
		return &pos.Sale{ID: id, TerminalID: "till-1", DeviceID: "till-1", ConfigID: "mc_5efbe2fb96c08357bb2b9242", ExternalRef: ref,
			Value: 1250, Currency: "NZD", Flow: pos.FlowQR, Status: st, RemainingAmount: 1250,
			PaymentRequest: &pos.PaymentRequest{ID: "pr_" + strings.TrimPrefix(id, "s_"), ShortCode: "CP-4QK-8M", URL: "https://app.centrapay.com/pay/" + ref,
				Status: "new", ExpiresAt: at.Add(2 * time.Minute)},
			CreatedAt: at, UpdatedAt: at.Add(time.Duration(seconds) * time.Second), TimeoutAt: at.Add(2*time.Minute + 7*time.Second), Version: 3}
	}
	paid := sale("s_6G1Q5M0JH2K8T3PA", "R-1042", pos.StatusPaid, 14)
	paid.PaymentRequest.Status, paid.RemainingAmount = "paid", 0
	paid.PaidBy = []pos.Payment{{AssetType: "centrapay.nzd.main", Description: "Centrapay NZD", Amount: 1250}}
	cancelled := sale("s_8RT2C4VV0N3M1B7E", "R-1043", pos.StatusCancelled, 9)
	cancelled.PaymentRequest.Status, cancelled.PaymentRequest.CancellationReason = "cancelled", "PAYMENT_DECLINED"
	cancelled.Reason = "the patron's payment was declined"
	expired := sale("s_2KD9F7S3Q0M5X1ZA", "R-1044", pos.StatusExpired, 127)
	expired.PaymentRequest.Status, expired.Reason = "expired", "the payment request expired"
	failed := sale("s_0B4N6T8W2Y1C3E5G", "R-1045", pos.StatusFailed, 1)
	failed.PaymentRequest, failed.Reason = nil, "Centrapay refused: MERCHANT_CONFIG_NOT_FOUND"
	refund := func(id string, st pos.OpState, minutes int) *pos.Op {
		op := &pos.Op{ID: id, SaleID: paid.ID, PaymentRequestID: paid.PaymentRequest.ID, Kind: pos.OpRefund, Key: id, Amount: 500,
			Currency: "NZD", Reason: "returned item", State: st, TerminalID: "till-1", OperatorID: "alice",
			CreatedAt: at.Add(20 * time.Minute), UpdatedAt: at.Add(time.Duration(minutes) * time.Minute)}
		return op
	}
	rfOK := refund("rf_1J3L5N7P9R0T2V4X", pos.OpSucceeded, 21)
	rfOK.Attempts, rfOK.ActivityID = 1, "act_5dS9m2Hq7TnK"
	rfOK.ActivityNumber = "4"
	rfDone := *rfOK
	rfDone.UpdatedAt = at.Add(23 * time.Minute)
	rfDone.CompletedAt = rfDone.UpdatedAt
	rfBad := refund("rf_3M5O7Q9S1U3W5Y7A", pos.OpFailed, 25)
	rfBad.Attempts, rfBad.Error, rfBad.Message = 1, "REFUND_DECLINED", "the refund was declined"
	rfBad.CreatedAt = rfBad.UpdatedAt
	steps := []struct {
		before pos.Before
		c      *pos.Change
		seq    int64
	}{
		{pos.Before{Status: pos.StatusPending}, &pos.Change{Sale: paid}, 1},
		{pos.Before{Status: pos.StatusPending}, &pos.Change{Sale: cancelled}, 1},
		{pos.Before{Status: pos.StatusPending}, &pos.Change{Sale: expired}, 1},
		{pos.Before{Status: pos.StatusPending}, &pos.Change{Sale: failed}, 1},
		{pos.Before{}, &pos.Change{Ops: []*pos.Op{refund("rf_1J3L5N7P9R0T2V4X", pos.OpPending, 20)}}, 2},
		{pos.Before{Ops: map[string]pos.RefundStatus{rfOK.ID: pos.RefundSending}}, &pos.Change{Ops: []*pos.Op{rfOK}}, 3},
		{pos.Before{Ops: map[string]pos.RefundStatus{rfOK.ID: pos.RefundPending}}, &pos.Change{Ops: []*pos.Op{&rfDone}}, 4},
		{pos.Before{Ops: map[string]pos.RefundStatus{rfBad.ID: pos.RefundSending}}, &pos.Change{Ops: []*pos.Op{rfBad}}, 6},
	}
	var out []pos.OutboxEvent
	for i, s := range steps {
		evs, err := pos.EventsFor(s.before, s.c)
		if err != nil || len(evs) != 1 {
			t.Fatalf("step %d: %v %v", i, evs, err)
		}
		evs[0].ID, evs[0].Sequence = fmt.Sprintf("evt_%016X", 0x5C1A7E0000000000+i*0x1F3B), s.seq
		out = append(out, evs[0])
	}
	return out
}

func renderEvents(t *testing.T) string {
	var b strings.Builder
	b.WriteString(`# Events for your systems: the catalogue

<!-- Generated from the real types by webhook/events_doc_test.go; do not edit:
     CENTRAPOS_UPDATE_DOCS=1 go test ./webhook -run TestEventsDoc rewrites it. -->

Every delivery is a POST of one event, as JSON: ` + "`id`" + ` (the same on every delivery and
redelivery of the event: dedupe on it), ` + "`type`" + `, ` + "`createdAt`" + `, ` + "`sequence`" + ` (1, 2, 3 … for
the events of one sale, in the order they happened) and ` + "`data`" + `: the sale as it stood
(` + "`sale.*`" + `) or the refund (` + "`refund.*`" + `). Deliveries send it on one line; it is indented here.
Fields may be added to ` + "`data`" + `; none is removed or renamed. How to add an endpoint, check
signatures and redeliver: [operations.md](operations.md#events-for-your-systems-webhooks-out).

| type | when |
|---|---|
`)
	for _, typ := range pos.EventTypes {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s |\n", typ, strings.ReplaceAll(string(typ), ".", ""), eventWhen[typ])
	}
	for _, ev := range examples(t) {
		body, err := json.MarshalIndent(ev, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n```json\n%s\n```\n", ev.Type, eventMeaning[ev.Type], body)
	}
	return b.String()
}

func TestEventsDoc(t *testing.T) {
	want := renderEvents(t)
	for _, typ := range pos.EventTypes {
		if !strings.Contains(want, "\n## "+string(typ)+"\n") {
			t.Errorf("no example of %s", typ)
		}
	}
	if os.Getenv("CENTRAPOS_UPDATE_DOCS") != "" {
		if err := os.WriteFile(docsEvents, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docsEvents)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is not what the types render: run CENTRAPOS_UPDATE_DOCS=1 go test ./webhook -run TestEventsDoc", docsEvents)
	}
	// the example in operations.md is the catalogue's sale.paid
	ops, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	paid, _ := json.MarshalIndent(examples(t)[0], "", "  ")
	if !strings.Contains(string(ops), "```json\n"+string(paid)+"\n```") {
		t.Errorf("docs/operations.md does not show the sale.paid example as the types render it:\n%s", paid)
	}
}
