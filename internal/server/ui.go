package server

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
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
}

// page is what every page template gets.
type page struct {
	Merchant string
	Terminal *pos.Terminal
	Error    string
	Zone     string // the store's IANA time zone, so pages show times as receipts do
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
	return s.render(w, http.StatusOK, "cashier.html", page{Merchant: s.cfg.MerchantName, Terminal: t, Zone: s.zone(), Alerts: s.alerts(t)})
}

// zone is the store's time zone name for a browser, "" when it is only
// the machine's unnamed local zone.
func (s *Server) zone() string {
	if z := s.cfg.Location.String(); z != "Local" {
		return z
	}
	return ""
}

func (s *Server) newSession(w http.ResponseWriter, terminalID string) {
	var b [24]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	s.mu.Lock()
	now := s.clk.Now()
	for k, v := range s.sessions { // forget expired ones
		if now.After(v.expires) {
			delete(s.sessions, k)
		}
	}
	s.sessions[id] = session{terminalID: terminalID, expires: now.Add(sessionTTL)}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.cfg.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL / time.Second)})
}

func (s *Server) session(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.sessions[id]
	if !ok || s.clk.Now().After(v.expires) {
		return "", false
	}
	return v.terminalID, true
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
	s.newSession(w, t.ID)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// LoginLink returns a path that signs a browser in as terminal id once,
// within an hour: what `centrapos demo` prints.
func (s *Server) LoginLink(terminalID string) string {
	var b [24]byte
	rand.Read(b[:])
	code := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.sessions["link:"+code] = session{terminalID: terminalID, expires: s.clk.Now().Add(time.Hour)}
	s.mu.Unlock()
	return "/login/" + code
}

func (s *Server) loginLink(w http.ResponseWriter, r *http.Request) error {
	key := "link:" + r.PathValue("code")
	s.mu.Lock()
	v, ok := s.sessions[key]
	delete(s.sessions, key)
	s.mu.Unlock()
	if !ok || s.clk.Now().After(v.expires) {
		return s.render(w, http.StatusUnauthorized, "login.html", page{Merchant: s.cfg.MerchantName, Error: "That sign-in link was used or has expired: sign in with the terminal token."})
	}
	s.newSession(w, v.terminalID)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
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
	return s.render(w, http.StatusOK, "display.html", page{Merchant: s.cfg.MerchantName, Terminal: shown})
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
