package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/centrapos/centrapos/pos"
)

// The manager's page of the events pushed to the merchant's systems
// (webhooks out): the endpoints (added here or with `centrapos webhook`,
// the signing secret shown once either way; enabled, disabled, removed),
// the delivery log, and a button to send an event again.

func (s *Server) eventsOutRoutes(m *http.ServeMux) {
	m.Handle("GET /manager/webhooks", s.handle(s.managerWebhooks))
	m.Handle("POST /manager/webhooks/redeliver", s.handle(s.managerRedeliver))
	m.Handle("POST /manager/webhooks/endpoints", s.handle(s.managerAddEndpoint))
	m.Handle("POST /manager/webhooks/endpoints/{id}/{action}", s.handle(s.managerEndpointAction))
}

// webhooksPage is what manager-webhooks.html gets.
type webhooksPage struct {
	page
	Endpoints   []pos.Endpoint
	Deliveries  []pos.Delivery
	Endpoint    string            // the log is of this endpoint only
	State       pos.DeliveryState // the log is of deliveries in this state only
	States      []pos.DeliveryState
	Redelivered string // the event just redelivered
	EventTypes  []pos.EventType
	Added       *pos.Endpoint // the endpoint just added, with its secret: shown this once
	Changed     string        // what was just done to an endpoint
}

// manager returns the manager terminal the browser is signed in as.
func (s *Server) manager(w http.ResponseWriter, r *http.Request) (*pos.Terminal, bool, error) {
	t, err := s.terminalOf(r)
	if err != nil {
		return nil, false, s.render(w, http.StatusUnauthorized, "login.html", page{Merchant: s.cfg.MerchantName,
			Error: "Sign in with a manager terminal's token to see the webhooks."})
	}
	if !t.Manager {
		return nil, false, &pos.Error{Code: eForbidden, Message: "only a manager terminal sees the webhooks"}
	}
	if s.cfg.Outbox == nil {
		return nil, false, &pos.Error{Code: pos.ENotFound, Message: "this server pushes no events"}
	}
	return t, true, nil
}

func (s *Server) managerWebhooks(w http.ResponseWriter, r *http.Request) error {
	t, ok, err := s.manager(w, r)
	if !ok {
		return err
	}
	return s.webhooksPage(w, r, t, nil)
}

// webhooksPage renders the page; added is an endpoint just added, whose
// secret the page shows this once (never in a URL, never stored in clear
// anywhere else).
func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request, t *pos.Terminal, added *pos.Endpoint) error {
	var err error
	q := r.URL.Query()
	p := webhooksPage{page: page{Merchant: s.cfg.MerchantName, Terminal: t, Zone: s.zone()}, Endpoint: q.Get("endpoint"),
		State: pos.DeliveryState(q.Get("state")), Redelivered: q.Get("redelivered"),
		States:     []pos.DeliveryState{pos.DeliveryPending, pos.DeliverySucceeded, pos.DeliveryFailed},
		EventTypes: pos.EventTypes, Added: added, Changed: q.Get("changed")}
	switch p.State {
	case "", pos.DeliveryPending, pos.DeliverySucceeded, pos.DeliveryFailed:
	default:
		return &pos.Error{Code: pos.EInvalid, Field: "state", Message: "pending, succeeded or failed"}
	}
	if p.Endpoints, err = s.cfg.Outbox.Endpoints(r.Context()); err != nil {
		return err
	}
	if p.Deliveries, err = s.cfg.Outbox.Deliveries(r.Context(), pos.DeliveryFilter{EndpointID: p.Endpoint, State: p.State, Limit: 200}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Cache-Control", "no-store")
	return s.tmpl.ExecuteTemplate(w, "manager-webhooks.html", p)
}

// managerRedeliver sends an event again: to one endpoint, or to every
// endpoint that had it.
func (s *Server) managerRedeliver(w http.ResponseWriter, r *http.Request) error {
	if _, ok, err := s.manager(w, r); !ok {
		return err
	}
	event, endpoint := strings.TrimSpace(r.PostFormValue("event")), strings.TrimSpace(r.PostFormValue("endpoint"))
	if event == "" {
		return &pos.Error{Code: pos.EInvalid, Field: "event", Message: "required"}
	}
	n, err := s.cfg.Outbox.Redeliver(r.Context(), event, endpoint, s.clk.Now())
	if errors.Is(err, pos.ErrNotFound) {
		return &pos.Error{Code: pos.ENotFound, Message: "no event " + event + " or no endpoint " + endpoint}
	}
	if err != nil {
		return err
	}
	s.log.Info("event redelivered by a manager", "event", event, "endpoint", endpoint, "deliveries", n)
	back := url.Values{"redelivered": {event}}
	if e := r.PostFormValue("back-endpoint"); e != "" {
		back.Set("endpoint", e)
	}
	http.Redirect(w, r, "/manager/webhooks?"+back.Encode(), http.StatusSeeOther)
	return nil
}

// managerAddEndpoint adds an endpoint from the page's form and shows its
// secret once.
func (s *Server) managerAddEndpoint(w http.ResponseWriter, r *http.Request) error {
	t, ok, err := s.manager(w, r)
	if !ok {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return &pos.Error{Code: pos.EInvalid, Message: "the form could not be read"}
	}
	var types []pos.EventType
	for _, v := range r.PostForm["event"] {
		types = append(types, pos.EventType(v))
	}
	ep, err := pos.AddEndpoint(r.Context(), s.cfg.Outbox, strings.TrimSpace(r.PostFormValue("url")), types)
	if err != nil {
		return &pos.Error{Code: pos.EInvalid, Field: "url", Message: strings.TrimPrefix(err.Error(), "webhook endpoint: ")}
	}
	s.log.Info("webhook endpoint added by a manager", "endpoint", ep.ID, "terminal", t.ID)
	return s.webhooksPage(w, r, t, ep)
}

// managerEndpointAction enables, disables or removes an endpoint.
func (s *Server) managerEndpointAction(w http.ResponseWriter, r *http.Request) error {
	t, ok, err := s.manager(w, r)
	if !ok {
		return err
	}
	id := r.PathValue("id")
	switch r.PathValue("action") {
	case "enable", "disable":
		err = s.cfg.Outbox.SetEndpointEnabled(r.Context(), id, r.PathValue("action") == "enable")
	case "remove":
		err = s.cfg.Outbox.RemoveEndpoint(r.Context(), id, s.clk.Now())
	default:
		return notFoundRoute(r)
	}
	if errors.Is(err, pos.ErrNotFound) {
		return &pos.Error{Code: pos.ENotFound, Message: "no endpoint " + id}
	}
	if err != nil {
		return err
	}
	s.log.Info("webhook endpoint changed by a manager", "endpoint", id, "action", r.PathValue("action"), "terminal", t.ID)
	http.Redirect(w, r, "/manager/webhooks?"+url.Values{"changed": {id + " " + pastTense[r.PathValue("action")]}}.Encode(), http.StatusSeeOther)
	return nil
}

var pastTense = map[string]string{"enable": "enabled", "disable": "disabled", "remove": "removed"}
