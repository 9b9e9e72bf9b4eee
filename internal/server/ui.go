package server

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/centrapos/centrapos/pos"
)

//go:embed ui/*.html ui/static
var uiFS embed.FS

//go:embed openapi.yaml
var openapi []byte

const sessionTTL = 12 * time.Hour

func (s *Server) parseTemplates() error {
	t, err := template.New("").Funcs(template.FuncMap{"money": Money, "cents": bigCents}).ParseFS(uiFS, "ui/*.html")
	if err != nil {
		return err
	}
	s.tmpl = t
	return nil
}

func (s *Server) uiRoutes(m *http.ServeMux) {
	static, _ := fs.Sub(uiFS, "ui/static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.Handle("GET /{$}", s.handle(s.cashier))
	m.Handle("POST /login", s.handle(s.login))
	m.Handle("GET /login/{code}", s.handle(s.loginLink))
	m.Handle("POST /logout", s.handle(s.logout))
	m.Handle("GET /display/{terminal}", s.handle(s.display))
	m.Handle("GET /display/{terminal}/events", s.handle(s.authed(s.displayEvents)))
	s.eventsOutRoutes(m)
	s.reconcileRoutes(m)
	s.terminalRoutes(m)
}

// page is what every page template gets.
type page struct {
	Merchant string
	Terminal *pos.Terminal
	Error    string
	Zone     string         // the store's IANA time zone, so pages show times as receipts do
	Offset   int            // the store's offset from UTC now, in seconds: for a zone with no name
	Today    string         // the store's date now (2026-11-25), by the server's clock
	Tills    []pos.Terminal // for a manager: every terminal, to filter the sales by
	Alerts   []string
}

func (s *Server) render(w http.ResponseWriter, status int, name string, p page) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	return s.tmpl.ExecuteTemplate(w, name, p)
}

func (s *Server) cashier(w http.ResponseWriter, r *http.Request) error {
	t, err := s.terminalOf(r)
	if err != nil {
		return s.render(w, http.StatusOK, "login.html", page{Merchant: s.cfg.MerchantName})
	}
	now := s.clk.Now().In(s.cfg.Location)
	_, offset := now.Zone()
	p := page{Merchant: s.cfg.MerchantName, Terminal: t, Zone: s.zone(), Offset: offset, Today: now.Format(time.DateOnly), Alerts: s.alerts(t)}
	if t.Manager {
		if p.Tills, err = s.cfg.Terminals.Terminals(r.Context()); err != nil {
			return err
		}
	}
	return s.render(w, http.StatusOK, "cashier.html", p)
}

// zone is the store's time zone name for a browser, "" when it is only
// the machine's unnamed local zone.
func (s *Server) zone() string {
	if z := s.cfg.Location.String(); z != "Local" {
		return z
	}
	return ""
}

// newSession signs the browser in as terminalID: a session in the
// journal (pos.Sessions), so that it outlives a restart and works at
// every server of a shared journal, its secret in the cookie.
func (s *Server) newSession(ctx context.Context, w http.ResponseWriter, terminalID string) error {
	secret, err := pos.StartSession(ctx, s.sessions, pos.SessionCookie, terminalID, s.clk.Now(), sessionTTL)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: s.cfg.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL / time.Second)})
	return nil
}

// session is the terminal a session cookie signs in ("", false when
// none: unknown, expired, or the journal cannot say).
func (s *Server) session(ctx context.Context, secret string) (string, bool) {
	id, ok, err := pos.SessionTerminal(ctx, s.sessions, pos.SessionCookie, secret, s.clk.Now())
	if err != nil {
		s.log.Warn("session", "err", err)
	}
	return id, ok
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	token := r.PostFormValue("token")
	now := s.clk.Now()
	t, err := s.cfg.Terminals.TerminalByToken(r.Context(), pos.HashToken(token), now)
	if errors.Is(err, pos.ErrNotFound) || token == "" {
		return s.render(w, http.StatusUnauthorized, "login.html", page{Merchant: s.cfg.MerchantName, Error: "That terminal token is not valid."})
	}
	if err != nil {
		return err
	}
	s.touch(r.Context(), t.ID, now)
	if err := s.newSession(r.Context(), w, t.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// LoginLink returns a path that signs a browser in as terminal id once,
// within an hour, at any server of the journal: what `centrapos demo`
// prints and a pairing QR code opens.
func (s *Server) LoginLink(ctx context.Context, terminalID string) (string, error) {
	code, err := pos.StartSession(ctx, s.sessions, pos.SessionLink, terminalID, s.clk.Now(), time.Hour)
	if err != nil {
		return "", err
	}
	return "/login/" + code, nil
}

func (s *Server) loginLink(w http.ResponseWriter, r *http.Request) error {
	id, ok, err := pos.SessionTerminal(r.Context(), s.sessions, pos.SessionLink, r.PathValue("code"), s.clk.Now())
	if err != nil {
		return err
	}
	if !ok {
		return s.render(w, http.StatusUnauthorized, "login.html", page{Merchant: s.cfg.MerchantName, Error: "That sign-in link was used or has expired: sign in with the terminal token."})
	}
	if err := s.newSession(r.Context(), w, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.sessions.DeleteSession(r.Context(), pos.HashToken(c.Value)); err != nil {
			s.log.Warn("sign out", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// display is the customer display of a terminal, for a browser signed in
// as that terminal (or a manager).
func (s *Server) display(w http.ResponseWriter, r *http.Request) error {
	t, err := s.terminalOf(r)
	if err != nil {
		return s.render(w, http.StatusUnauthorized, "login.html", page{Merchant: s.cfg.MerchantName, Error: "Sign in as this terminal to open its customer display."})
	}
	if t.ID != r.PathValue("terminal") && !t.Manager {
		return &pos.Error{Code: eForbidden, Message: "this browser is signed in as another terminal"}
	}
	shown, err := s.cfg.Terminals.Terminal(r.Context(), r.PathValue("terminal"))
	if err != nil {
		return &pos.Error{Code: pos.ENotFound, Message: "no terminal " + r.PathValue("terminal")}
	}
	_, offset := s.clk.Now().In(s.cfg.Location).Zone()
	return s.render(w, http.StatusOK, "display.html", page{Merchant: s.cfg.MerchantName, Terminal: shown, Zone: s.zone(), Offset: offset})
}

// displayEvents streams the terminal's latest sale and every change of its
// sales.
func (s *Server) displayEvents(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("terminal")
	if t := terminal(r.Context()); t.ID != id && !t.Manager {
		return &pos.Error{Code: eForbidden, Message: "another terminal's display"}
	}
	ch, stop := s.eng.Subscribe("")
	defer stop()
	latest, err := s.eng.Journal().Sales(r.Context(), pos.SaleFilter{TerminalID: id, Limit: 1})
	if err != nil {
		return err
	}
	var first *pos.Sale
	if len(latest) > 0 {
		first = latest[0]
	}
	return s.stream(w, r, first, ch, func(sl *pos.Sale) bool { return sl.TerminalID == id }, false)
}
