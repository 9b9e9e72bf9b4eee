package pos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Endpoint is a merchant's URL that events are pushed to (webhooks out).
type Endpoint struct {
	ID     string      `json:"id"` // we_…
	URL    string      `json:"url"`
	Events []EventType `json:"events,omitempty"` // the types it receives; none: every type
	// Secret signs every delivery (webhook.Sign); it is shown once, when
	// the endpoint is added, and never listed.
	Secret    string    `json:"-"`
	Enabled   bool      `json:"enabled"` // a disabled endpoint gets no new events; its pending ones wait
	CreatedAt time.Time `json:"createdAt"`
}

// Wants reports whether the endpoint receives events of type t.
func (e *Endpoint) Wants(t EventType) bool {
	if len(e.Events) == 0 {
		return true
	}
	for _, w := range e.Events {
		if w == t {
			return true
		}
	}
	return false
}

// DeliveryState is where the delivery of an event to an endpoint stands.
type DeliveryState string

// Delivery states. A pending delivery is tried at NextAt; one that has not
// succeeded by ExpiresAt is given up (failed), and may be redelivered by
// hand.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliverySucceeded DeliveryState = "succeeded"
	DeliveryFailed    DeliveryState = "failed"
)

// DeliveryWindow is how long a delivery is retried, from its event (or its
// manual redelivery), before it is given up.
const DeliveryWindow = 72 * time.Hour

// Delivery is one event for one endpoint, with what became of it: a row of
// the delivery log.
type Delivery struct {
	EventID    string        `json:"eventId"`
	EndpointID string        `json:"endpointId"`
	EventType  EventType     `json:"eventType"`
	Stream     string        `json:"stream"`   // the sale (see OutboxEvent.Stream)
	Sequence   int64         `json:"sequence"` // the event's number in its stream
	State      DeliveryState `json:"state"`
	Attempts   int           `json:"attempts"`
	LastAt     time.Time     `json:"lastAt,omitzero"`     // the last attempt
	LastStatus int           `json:"lastStatus,omitzero"` // its HTTP status; 0: no answer
	LastError  string        `json:"lastError,omitempty"` // why it failed
	NextAt     time.Time     `json:"nextAt"`              // the next try, while pending
	ExpiresAt  time.Time     `json:"expiresAt"`           // given up after this
	CreatedAt  time.Time     `json:"createdAt"`
}

// Attempt is the outcome of one try of a delivery.
type Attempt struct {
	EventID, EndpointID string
	At                  time.Time
	Status              int    // the HTTP status answered; 0 when none came
	Error               string // "" when it succeeded
	// State is DeliverySucceeded, DeliveryPending (tried again at NextAt)
	// or DeliveryFailed (given up).
	State  DeliveryState
	NextAt time.Time
}

// DeliveryFilter selects deliveries; zero fields select everything.
type DeliveryFilter struct {
	EndpointID string
	EventID    string
	State      DeliveryState
	Limit      int
}

// EventFilter selects outbox events; zero fields select everything.
type EventFilter struct {
	Stream string // a sale id (see OutboxEvent.Stream)
	Limit  int
}

// Outbox is the journal's side of events for merchants' systems: the
// endpoints, the events (written by Journal.Save, in the transaction of
// their change, with one pending delivery per enabled endpoint that wants
// the type) and the deliveries. Implementations: store/sqlite and
// store/postgres, held to store/journaltest.Outbox.
type Outbox interface {
	// AddEndpoint records an endpoint; ErrDuplicate if its id exists.
	AddEndpoint(ctx context.Context, e Endpoint) error
	// Endpoint returns an endpoint that was not removed, with its secret;
	// ErrNotFound if none.
	Endpoint(ctx context.Context, id string) (*Endpoint, error)
	// Endpoints lists the endpoints not removed, oldest first, with
	// their secrets.
	Endpoints(ctx context.Context) ([]Endpoint, error)
	// SetEndpointEnabled enables or disables an endpoint; ErrNotFound if
	// none.
	SetEndpointEnabled(ctx context.Context, id string, enabled bool) error
	// RemoveEndpoint removes an endpoint: it gets no more events and its
	// pending deliveries are given up (the log keeps them); ErrNotFound
	// if none.
	RemoveEndpoint(ctx context.Context, id string, at time.Time) error

	// Event returns one event; ErrNotFound if none.
	Event(ctx context.Context, id string) (*OutboxEvent, error)
	// Events lists events, oldest first.
	Events(ctx context.Context, f EventFilter) ([]OutboxEvent, error)

	// Due returns up to limit deliveries to endpoint that are pending
	// and due at now, soonest first, leaving out any that an earlier
	// pending event of the same stream to the same endpoint holds back:
	// event n+1 of a sale is not sent before n succeeded (or was given
	// up).
	Due(ctx context.Context, endpointID string, now time.Time, limit int) ([]Delivery, error)
	// RecordAttempt keeps the outcome of a try of a pending delivery (one
	// given up meanwhile, as by RemoveEndpoint, stays given up);
	// ErrNotFound if there is no such delivery.
	RecordAttempt(ctx context.Context, a Attempt) error
	// Deliveries lists the delivery log, newest event first.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// Redeliver makes event eventID pending again, due at, with a new
	// DeliveryWindow: to endpointID (adding the delivery if the endpoint
	// never had it), or to every endpoint that had it when endpointID is
	// "". It returns how many deliveries it made pending; ErrNotFound for
	// an unknown event or endpoint.
	Redeliver(ctx context.Context, eventID, endpointID string, at time.Time) (int, error)
}

// AddEndpoint checks and records a new endpoint, with a new id and
// signing secret, enabled; the secret is in the Endpoint returned, and is
// shown only this once.
func AddEndpoint(ctx context.Context, o Outbox, rawURL string, events []EventType) (*Endpoint, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("webhook endpoint: the URL must be absolute, http:// or https://")
	}
	if u.User != nil {
		return nil, errors.New("webhook endpoint: the URL must not carry a user or password (deliveries are signed instead)")
	}
	if err := checkText("url", rawURL, 2048); err != nil {
		return nil, fmt.Errorf("webhook endpoint: url: %s", err.(*Error).Message)
	}
	seen := map[EventType]bool{}
	var types []EventType
	for _, t := range events {
		if t == "*" {
			types = nil
			break
		}
		if !t.Valid() {
			return nil, fmt.Errorf("webhook endpoint: unknown event type %q (known: %s)", t, eventList())
		}
		if !seen[t] {
			seen[t] = true
			types = append(types, t)
		}
	}
	e := Endpoint{ID: newID("we_"), URL: rawURL, Events: types, Secret: NewSecret(), Enabled: true,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := o.AddEndpoint(ctx, e); err != nil {
		return nil, err
	}
	return &e, nil
}

// ParseEventTypes reads a comma-separated list of event types ("" or "*":
// every type).
func ParseEventTypes(list string) ([]EventType, error) {
	var out []EventType
	for f := range strings.SplitSeq(list, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			continue
		case f == "*":
			return nil, nil
		case !EventType(f).Valid():
			return nil, fmt.Errorf("unknown event type %q (known: %s)", f, eventList())
		}
		out = append(out, EventType(f))
	}
	return out, nil
}

func eventList() string {
	s := make([]string, len(EventTypes))
	for i, t := range EventTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// NewSecret returns a new signing secret: whsec_ and 192 random bits.
func NewSecret() string {
	var b [24]byte
	rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}
