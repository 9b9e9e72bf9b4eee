package server

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"time"

	qrcode "github.com/yeqown/go-qrcode/v2"

	"github.com/centrapos/centrapos/pos"
)

// The manager's page of terminals: every till with when it was last used,
// a form to add one, and per live till a pairing QR code (a one-time
// sign-in link that a tablet's camera opens, instead of typing a token)
// and Revoke. The forms are plain same-origin POSTs: the server's
// http.CrossOriginProtection refuses them from another origin.

func (s *Server) terminalRoutes(m *http.ServeMux) {
	m.Handle("GET /manager/terminals", s.handle(s.managerTerminals))
	m.Handle("POST /manager/terminals", s.handle(s.managerAddTerminal))
	m.Handle("POST /manager/terminals/{id}/pair", s.handle(s.managerPairTerminal))
	m.Handle("POST /manager/terminals/{id}/revoke", s.handle(s.managerRevokeTerminal))
}

// terminalsPage is what manager-terminals.html gets.
type terminalsPage struct {
	page
	Terminals []terminalRow
	Notice    string
	// Pairing is the terminal just added or paired: its sign-in link, as
	// text and as a QR code, and its token when it was just made.
	Pairing *pairing
}

type terminalRow struct {
	pos.Terminal
	Created, LastUsed string // in the store's zone
}

type pairing struct {
	Terminal string
	Link     string
	QR       template.URL // a data: URL of an SVG
	Token    string
	Expires  string
}

// terminalsManager returns the manager terminal the browser is signed in as; ok
// is false when the answer (a sign-in page or an error) is made.
func (s *Server) terminalsManager(w http.ResponseWriter, r *http.Request, what string) (*pos.Terminal, bool, error) {
	t, err := s.terminalOf(r)
	if err != nil {
		return nil, false, s.render(w, http.StatusUnauthorized, "login.html", page{Merchant: s.cfg.MerchantName,
			Error: "Sign in with a manager terminal's token to " + what + "."})
	}
	if !t.Manager {
		return nil, false, &pos.Error{Code: eForbidden, Message: "only a manager terminal may " + what}
	}
	return t, true, nil
}

func (s *Server) managerTerminals(w http.ResponseWriter, r *http.Request) error {
	t, ok, err := s.terminalsManager(w, r, "manage terminals")
	if !ok {
		return err
	}
	return s.terminalsPage(w, r, http.StatusOK, t, r.URL.Query().Get("done"), "", nil)
}

var terminalID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (s *Server) managerAddTerminal(w http.ResponseWriter, r *http.Request) error {
	m, ok, err := s.terminalsManager(w, r, "manage terminals")
	if !ok {
		return err
	}
	id := strings.TrimSpace(r.PostFormValue("id"))
	name := strings.TrimSpace(r.PostFormValue("name"))
	config := strings.TrimSpace(r.PostFormValue("config"))
	if config == "" {
		config = m.ConfigID // the manager's location
	}
	if !terminalID.MatchString(id) {
		return s.terminalsPage(w, r, http.StatusBadRequest, m, "", "A terminal id is lower-case letters, digits and dashes, such as till-3.", nil)
	}
	if len(name) > 64 || len(config) > 128 {
		return s.terminalsPage(w, r, http.StatusBadRequest, m, "", "The name or the merchant config is too long.", nil)
	}
	if name == "" {
		name = id
	}
	if t, err := s.cfg.Terminals.Terminal(r.Context(), id); err == nil && !t.Revoked {
		return s.terminalsPage(w, r, http.StatusConflict, m, "", "A terminal "+id+" exists: revoke it first, or choose another id.", nil)
	}
	token, err := pos.AddTerminal(r.Context(), s.cfg.Terminals, pos.Terminal{ID: id, DeviceID: id, Name: name, ConfigID: config,
		Manager: r.PostFormValue("manager") != "", CreatedAt: s.clk.Now().UTC()})
	if err != nil {
		return s.terminalsPage(w, r, http.StatusBadRequest, m, "", err.Error(), nil)
	}
	s.log.Info("terminal added", "terminal", id, "by", m.ID)
	p, err := s.pair(r, id)
	if err != nil {
		return err
	}
	p.Token = token
	return s.terminalsPage(w, r, http.StatusOK, m, "Added "+id+".", "", p)
}

func (s *Server) managerPairTerminal(w http.ResponseWriter, r *http.Request) error {
	m, ok, err := s.terminalsManager(w, r, "manage terminals")
	if !ok {
		return err
	}
	id := r.PathValue("id")
	if t, err := s.cfg.Terminals.Terminal(r.Context(), id); err != nil || t.Revoked {
		return s.terminalsPage(w, r, http.StatusNotFound, m, "", "No live terminal "+id+".", nil)
	}
	p, err := s.pair(r, id)
	if err != nil {
		return err
	}
	return s.terminalsPage(w, r, http.StatusOK, m, "", "", p)
}

func (s *Server) managerRevokeTerminal(w http.ResponseWriter, r *http.Request) error {
	m, ok, err := s.terminalsManager(w, r, "manage terminals")
	if !ok {
		return err
	}
	id := r.PathValue("id")
	if id == m.ID {
		return s.terminalsPage(w, r, http.StatusConflict, m, "", "This browser is signed in as "+id+": revoke it from another manager terminal.", nil)
	}
	if err := s.cfg.Terminals.RevokeTerminal(r.Context(), id, s.clk.Now()); errors.Is(err, pos.ErrNotFound) {
		return s.terminalsPage(w, r, http.StatusNotFound, m, "", "No live terminal "+id+".", nil)
	} else if err != nil {
		return err
	}
	s.log.Info("terminal revoked", "terminal", id, "by", m.ID)
	http.Redirect(w, r, "/manager/terminals?done="+id+"+revoked", http.StatusSeeOther)
	return nil
}

// pair makes a one-time sign-in link for terminal id, absolute (a tablet
// opens it from the QR code), with its QR code.
func (s *Server) pair(r *http.Request, id string) (*pairing, error) {
	scheme := "http"
	if s.cfg.Secure || r.TLS != nil {
		scheme = "https"
	}
	path, err := s.LoginLink(r.Context(), id)
	if err != nil {
		return nil, err
	}
	link := scheme + "://" + r.Host + path
	svg, err := plainQR(link)
	if err != nil {
		return nil, err
	}
	return &pairing{Terminal: id, Link: link, QR: template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svg)),
		Expires: s.clk.Now().Add(time.Hour).In(s.cfg.Location).Format("15:04 MST")}, nil
}

func (s *Server) terminalsPage(w http.ResponseWriter, r *http.Request, status int, m *pos.Terminal, notice, msg string, p *pairing) error {
	ts, err := s.cfg.Terminals.Terminals(r.Context())
	if err != nil {
		return err
	}
	loc := s.cfg.Location
	tp := terminalsPage{page: page{Merchant: s.cfg.MerchantName, Terminal: m, Zone: s.zone(), Error: msg}, Notice: notice, Pairing: p}
	for _, t := range ts {
		row := terminalRow{Terminal: t, Created: t.CreatedAt.In(loc).Format("2006-01-02 15:04")}
		if !t.LastUsedAt.IsZero() {
			row.LastUsed = t.LastUsedAt.In(loc).Format("2006-01-02 15:04")
		}
		tp.Terminals = append(tp.Terminals, row)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Cache-Control", "no-store") // a token or a sign-in link may be on it
	w.WriteHeader(status)
	return s.tmpl.ExecuteTemplate(w, "manager-terminals.html", tp)
}

// plainQR draws text as a QR code in SVG, without the Centrapay mark: a
// sign-in link is no payment.
func plainQR(text string) ([]byte, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("pairing qr: %w", err)
	}
	var m matrix
	if err := q.Save(&m); err != nil {
		return nil, err
	}
	const quiet = 4
	n := len(m.bits)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n+2*quiet, n+2*quiet)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n+2*quiet, n+2*quiet)
	for x := range n {
		for y := range n {
			if m.bits[x][y] {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}

// matrix is a qrcode.Writer that keeps the modules.
type matrix struct{ bits [][]bool }

func (m *matrix) Write(mat qrcode.Matrix) error { m.bits = mat.Bitmap(); return nil }
func (m *matrix) Close() error                  { return nil }
