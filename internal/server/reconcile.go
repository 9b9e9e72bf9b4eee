package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// The manager's page of the reconciliation with Centrapay
// (pos.Engine.Reconcile): the last result, kept by the engine in memory
// (so empty after a restart until the daily run or a manager runs one),
// and a form to run it for a chosen business day. The form is a plain
// same-origin POST: the server's http.CrossOriginProtection refuses it
// from another origin.

func (s *Server) reconcileRoutes(m *http.ServeMux) {
	m.Handle("GET /manager/reconcile", s.handle(s.managerReconcile))
	m.Handle("POST /manager/reconcile", s.handle(s.managerRunReconcile))
}

// reconcileTimeout bounds a run started from the page. It goes on when
// the browser gives up waiting (its result is on the page once done):
// Centrapay's listing is read from now back to the chosen day.
const reconcileTimeout = 10 * time.Minute

// reconcilePage is what manager-reconcile.html gets.
type reconcilePage struct {
	page
	Result *pos.Reconciliation
	Day    string // the day the form proposes, YYYY-MM-DD
	Period string // Result's days in the store's zone
	Ran    string // when Result ran, in the store's zone
	Kinds  []kindCount
}

// kindCount is how many discrepancies of one kind the result holds.
type kindCount struct {
	Kind  pos.DiscrepancyKind
	Count int
}

// reconcileManager returns the manager terminal the browser is signed in
// as; ok is false when the answer (a sign-in page or an error) is made.
func (s *Server) reconcileManager(w http.ResponseWriter, r *http.Request) (*pos.Terminal, bool, error) {
	t, err := s.terminalOf(r)
	if err != nil {
		return nil, false, s.render(w, http.StatusUnauthorized, "login.html", page{Merchant: s.cfg.MerchantName,
			Error: "Sign in with a manager terminal's token to reconcile with Centrapay."})
	}
	if !t.Manager {
		return nil, false, &pos.Error{Code: eForbidden, Message: "only a manager terminal reconciles with Centrapay"}
	}
	return t, true, nil
}

func (s *Server) managerReconcile(w http.ResponseWriter, r *http.Request) error {
	t, ok, err := s.reconcileManager(w, r)
	if !ok {
		return err
	}
	return s.reconcilePage(w, http.StatusOK, t, "", "")
}

// managerRunReconcile reconciles the business day the form names, then
// shows the result (a redirect, so a reload does not run it again).
func (s *Server) managerRunReconcile(w http.ResponseWriter, r *http.Request) error {
	t, ok, err := s.reconcileManager(w, r)
	if !ok {
		return err
	}
	day := strings.TrimSpace(r.PostFormValue("day"))
	from, err := time.ParseInLocation(time.DateOnly, day, s.cfg.Location)
	if err != nil {
		return s.reconcilePage(w, http.StatusBadRequest, t, day, "Choose the business day to reconcile (YYYY-MM-DD).")
	}
	to := time.Date(from.Year(), from.Month(), from.Day()+1, 0, 0, 0, 0, s.cfg.Location)
	in := pos.ReconcileInput{From: from, To: to, DryRun: r.PostFormValue("dry-run") != ""}
	if last := s.eng.LastReconciliation(); last != nil {
		in.MerchantIDs = last.MerchantIDs // as the daily run was told, or learned
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), reconcileTimeout)
	defer cancel()
	s.log.Info("reconciliation started by a manager", "terminal", t.ID, "day", day, "dryRun", in.DryRun)
	res, err := s.eng.Reconcile(ctx, in)
	switch pos.ErrorCode(err) {
	case "", pos.EInternal:
		if err != nil {
			s.log.Error("reconciliation", "day", day, "err", err)
			return s.reconcilePage(w, http.StatusBadGateway, t, day, "The reconciliation could not finish: "+err.Error())
		}
	case pos.EInProgress:
		return s.reconcilePage(w, http.StatusConflict, t, day, "A reconciliation is running: reload this page in a moment.")
	default:
		return s.reconcilePage(w, http.StatusBadRequest, t, day, strings.TrimPrefix(err.Error(), "pos: "))
	}
	s.log.Info("reconciliation by a manager", "terminal", t.ID, "day", day, "discrepancies", len(res.Discrepancies))
	http.Redirect(w, r, "/manager/reconcile", http.StatusSeeOther)
	return nil
}

// reconcilePage renders the page with the engine's last result; day is
// the form's day ("": the day before today), msg an error to show.
func (s *Server) reconcilePage(w http.ResponseWriter, status int, t *pos.Terminal, day, msg string) error {
	loc := s.cfg.Location
	if day == "" {
		today := s.clk.Now().In(loc)
		day = time.Date(today.Year(), today.Month(), today.Day()-1, 12, 0, 0, 0, loc).Format(time.DateOnly)
	}
	p := reconcilePage{page: page{Merchant: s.cfg.MerchantName, Terminal: t, Zone: s.zone(), Error: msg}, Day: day,
		Result: s.eng.LastReconciliation()}
	if res := p.Result; res != nil {
		p.Period = res.From.In(loc).Format(time.DateOnly)
		if last := res.To.Add(-time.Nanosecond).In(loc).Format(time.DateOnly); last != p.Period {
			p.Period += " to " + last
		}
		p.Ran = res.RanAt.In(loc).Format("2006-01-02 15:04:05 MST")
		for _, k := range pos.DiscrepancyKinds() {
			if n := res.Count(k); n > 0 {
				p.Kinds = append(p.Kinds, kindCount{k, n})
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return s.tmpl.ExecuteTemplate(w, "manager-reconcile.html", p)
}
