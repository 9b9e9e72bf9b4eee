package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/centrapos/centrapos/pos"
)

const sessionCookie = "centrapos_session"

// terminalOf returns the terminal a request acts as: by its bearer token,
// or by the UI session cookie.
func (s *Server) terminalOf(r *http.Request) (*pos.Terminal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			return nil, &pos.Error{Code: eUnauthorized, Message: "Authorization must be Bearer <terminal token>"}
		}
		now := s.clk.Now()
		t, err := s.cfg.Terminals.TerminalByToken(r.Context(), pos.HashToken(token), now)
		if errors.Is(err, pos.ErrNotFound) {
			return nil, &pos.Error{Code: eUnauthorized, Message: "unknown, revoked or expired terminal token"}
		}
		if err != nil {
			return nil, err
		}
		s.touch(r.Context(), t.ID, now)
		return t, nil
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if id, ok := s.session(r.Context(), c.Value); ok {
			t, err := s.cfg.Terminals.Terminal(r.Context(), id)
			if err == nil && !t.Revoked {
				return t, nil
			}
		}
	}
	return nil, &pos.Error{Code: eUnauthorized, Message: "a terminal token is required (Authorization: Bearer …)"}
}

// touch records that terminal id's token was used at now, at most once a
// pos.TouchInterval per terminal: a map look-up spares the journal a
// write for every poll of a till.
func (s *Server) touch(ctx context.Context, id string, now time.Time) {
	if last, ok := s.touched.Load(id); ok && now.Sub(last.(time.Time)) < pos.TouchInterval && !now.Before(last.(time.Time)) {
		return
	}
	s.touched.Store(id, now)
	if err := s.cfg.Terminals.TouchTerminal(ctx, id, now); err != nil {
		s.log.Warn("record terminal use", "terminal", id, "err", err)
	}
}

func (s *Server) authed(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, err := s.terminalOf(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="centrapos"`)
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), keyTerminal, t)))
	}
}

func terminal(ctx context.Context) *pos.Terminal {
	t, _ := ctx.Value(keyTerminal).(*pos.Terminal)
	return t
}

// visibleSale returns sale id if the request's terminal may see it: its
// own, or any for a manager terminal. Others are "not found", so sale ids
// of other tills are not confirmed.
func (s *Server) visibleSale(r *http.Request, id string) (*pos.Sale, error) {
	sale, err := s.eng.Sale(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if t := terminal(r.Context()); !t.Manager && sale.TerminalID != t.ID {
		return nil, &pos.Error{Code: pos.ENotFound, Message: "no sale " + id}
	}
	return sale, nil
}
