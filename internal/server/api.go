package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
)

// saleRequest is the body of POST /sales: a SaleInput without the
// terminal's own fields, which come from its token.
type saleRequest struct {
	Value            int64                `json:"value"`
	ExternalRef      string               `json:"externalRef"`
	Flow             string               `json:"flow"`
	Barcode          string               `json:"barcode"`
	LineItems        []centrapay.LineItem `json:"lineItems"`
	PatronNotPresent bool                 `json:"patronNotPresent"`
	BasketAmount     int64                `json:"basketAmount"`
	PreAuth          bool                 `json:"preAuth"`
	OperatorID       string               `json:"operatorId"`
}

func (s *Server) createSale(w http.ResponseWriter, r *http.Request) error {
	var in saleRequest
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	t := terminal(r.Context())
	sale, err := s.eng.StartSale(r.Context(), pos.SaleInput{TerminalID: t.ID, DeviceID: t.DeviceID, ConfigID: t.ConfigID,
		OperatorID: in.OperatorID, ExternalRef: in.ExternalRef, Value: in.Value, Flow: in.Flow, Barcode: in.Barcode,
		LineItems: in.LineItems, PatronNotPresent: in.PatronNotPresent, BasketAmount: in.BasketAmount, PreAuth: in.PreAuth,
		Key: tillKey(r.Context())})
	if err != nil {
		s.metrics.sales.WithLabelValues("rejected").Inc()
		return err
	}
	s.metrics.sales.WithLabelValues("started").Inc()
	w.Header().Set("Location", "/api/v1/sales/"+sale.ID)
	writeJSON(w, http.StatusCreated, s.view(r.Context(), sale))
	return nil
}

func (s *Server) getSale(w http.ResponseWriter, r *http.Request) error {
	sale, err := s.visibleSale(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(r.Context(), sale))
	return nil
}

// parseTime reads an RFC 3339 time, or a date: midnight starting that day
// in the store's time zone.
func parseTime(field, v string, loc *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		return t, nil
	}
	return time.Time{}, &pos.Error{Code: pos.EInvalid, Field: field, Message: "an RFC 3339 time or a date (2026-11-25)"}
}

// period reads the from and to query parameters, or day: "today" or a
// date, the whole day in the store's time zone by the server's clock (so
// a till's "today" never depends on its browser's date or zone).
func (s *Server) period(q url.Values) (from, to time.Time, err error) {
	loc := s.cfg.Location
	if day := q.Get("day"); day != "" {
		if q.Get("from") != "" || q.Get("to") != "" {
			return from, to, &pos.Error{Code: pos.EInvalid, Field: "day", Message: "give day, or from and to, not both"}
		}
		var d time.Time
		if day == "today" {
			now := s.clk.Now().In(loc)
			d = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
		} else if d, err = time.ParseInLocation(time.DateOnly, day, loc); err != nil {
			return from, to, &pos.Error{Code: pos.EInvalid, Field: "day", Message: "today or a date (2026-11-25)"}
		}
		return d, d.AddDate(0, 0, 1), nil // a calendar day: 23 or 25 hours across a DST change
	}
	if from, err = parseTime("from", q.Get("from"), loc); err != nil {
		return
	}
	to, err = parseTime("to", q.Get("to"), loc)
	return
}

// listSales answers a page of sales, newest first (createdAt, then id,
// descending): limit of them (default 50, at most 200) after the sale
// startingAfter names, with hasMore and the nextCursor to pass as
// startingAfter for the next page. Each sale comes with its refunds and
// their status, as GET /sales/{id} shows it, so a till's list tells a
// pending refund from a completed one.
func (s *Server) listSales(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, to, err := s.period(q)
	if err != nil {
		return err
	}
	f := pos.SaleFilter{From: from, To: to, Status: pos.Status(q.Get("status")), TerminalID: q.Get("terminal"), Limit: defaultPage}
	switch q.Get("open") {
	case "", "false":
	case "true":
		f.Open = true // not final: what a till reloading mid-sale takes up again
	default:
		return &pos.Error{Code: pos.EInvalid, Field: "open", Message: "true or false"}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxPage {
			return &pos.Error{Code: pos.EInvalid, Field: "limit", Message: "1 to " + strconv.Itoa(maxPage)}
		}
		f.Limit = n
	}
	if f.Status != "" && !slices.Contains(pos.Statuses(), f.Status) {
		var names []string
		for _, st := range pos.Statuses() {
			names = append(names, string(st))
		}
		return &pos.Error{Code: pos.EInvalid, Field: "status", Message: "one of " + strings.Join(names, ", ")}
	}
	t := terminal(r.Context())
	if !t.Manager {
		if f.TerminalID != "" && f.TerminalID != t.ID {
			return &pos.Error{Code: eForbidden, Field: "terminal", Message: "only a manager terminal sees other terminals' sales"}
		}
		f.TerminalID = t.ID
	}
	if id, ok := q["startingAfter"]; ok {
		// the cursor is a sale this terminal may see; any other is refused
		// alike, so that a cursor tells nothing of others' sales
		after, err := s.eng.Journal().Sale(r.Context(), id[0])
		if err != nil && !errors.Is(err, pos.ErrNotFound) {
			return err
		}
		if after == nil || id[0] == "" || !t.Manager && after.TerminalID != t.ID {
			return &pos.Error{Code: pos.EInvalid, Field: "startingAfter", Message: "not the id of a sale this terminal lists: pass the nextCursor of the previous page"}
		}
		f.After = after.ID
	}
	limit := f.Limit
	f.Limit++ // one more than the page says whether there are more
	sales, err := s.eng.Journal().Sales(r.Context(), f)
	if err != nil {
		return err
	}
	page := salePage{Items: []saleView{}}
	if len(sales) > limit {
		sales, page.HasMore = sales[:limit], true
		page.NextCursor = sales[limit-1].ID
	}
	for _, sl := range sales { // each with its refunds, as GET /sales/{id} shows it
		page.Items = append(page.Items, s.view(r.Context(), sl))
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// The page sizes of GET /sales.
const (
	defaultPage = 50
	maxPage     = 200
)

// salePage is one page of GET /sales.
type salePage struct {
	Items      []saleView `json:"items"`
	HasMore    bool       `json:"hasMore"`
	NextCursor string     `json:"nextCursor,omitempty"`
}

func (s *Server) cancelSale(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.visibleSale(r, r.PathValue("id")); err != nil {
		return err
	}
	sale, err := s.eng.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(r.Context(), sale))
	return nil
}

func (s *Server) answerCondition(w http.ResponseWriter, r *http.Request) error {
	verb := r.PathValue("verb")
	if verb != "accept" && verb != "decline" {
		return notFoundRoute(r)
	}
	if _, err := s.visibleSale(r, r.PathValue("id")); err != nil {
		return err
	}
	sale, err := s.eng.AnswerCondition(r.Context(), r.PathValue("id"), r.PathValue("cid"), verb == "accept")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(r.Context(), sale))
	return nil
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) error {
	var in pos.ConfirmInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if _, err := s.visibleSale(r, r.PathValue("id")); err != nil {
		return err
	}
	in.Key = tillKey(r.Context())
	op, err := s.eng.Confirm(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeOp(w, op)
}

// takeTender records money the till took outside Centrapay (cash, card)
// toward a part-paid sale, and answers the sale.
func (s *Server) takeTender(w http.ResponseWriter, r *http.Request) error {
	var in pos.TenderInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if _, err := s.visibleSale(r, r.PathValue("id")); err != nil {
		return err
	}
	in.Terminal, in.Key = terminal(r.Context()), tillKey(r.Context())
	sale, err := s.eng.TakeTender(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.view(r.Context(), sale))
	return nil
}

func (s *Server) release(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.visibleSale(r, r.PathValue("id")); err != nil {
		return err
	}
	op, err := s.eng.Release(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, op)
	return nil
}

func (s *Server) refund(w http.ResponseWriter, r *http.Request) error {
	var in pos.RefundInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	// who may refund what is the engine's rule (pos.Terminal.MayRefund),
	// whichever identifier names the payment
	in.Terminal, in.Key = terminal(r.Context()), tillKey(r.Context())
	op, err := s.eng.Refund(r.Context(), in)
	if err != nil {
		return err
	}
	return writeOp(w, op)
}

func (s *Server) getRefund(w http.ResponseWriter, r *http.Request) error {
	op, err := s.eng.Op(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if t := terminal(r.Context()); op.Kind != pos.OpRefund || !t.Manager && op.TerminalID != t.ID {
		return &pos.Error{Code: pos.ENotFound, Message: "no refund " + r.PathValue("id")}
	}
	writeJSON(w, http.StatusOK, viewOp(op))
	return nil
}

// opView is an op as the API shows it: a refund says where it stands.
type opView struct {
	*pos.Op
	RefundStatus pos.RefundStatus `json:"refundStatus,omitempty"`
}

func viewOp(op *pos.Op) opView { return opView{Op: op, RefundStatus: op.RefundStatus()} }

// saleView is a sale as the API shows it: the snapshot, its refunds, and
// what the patron still owes of a part payment (Centrapay's
// remainingAmount less what the till took outside Centrapay).
type saleView struct {
	*pos.Sale
	Refunds    []refundView `json:"refunds"`
	StillToPay int64        `json:"stillToPay"`
}

// refundView is one refund of a sale. State is the op's (pending until
// Centrapay answers); Status is the refund's as a merchant reads it
// (sending, pending until Centrapay completes it, refunded, failed).
type refundView struct {
	ID          string           `json:"id"`
	Amount      int64            `json:"amount"`
	State       pos.OpState      `json:"state"`
	Status      pos.RefundStatus `json:"status"`
	Reason      string           `json:"reason,omitempty"`
	Error       string           `json:"error,omitempty"`
	CreatedAt   time.Time        `json:"createdAt"`
	CompletedAt time.Time        `json:"completedAt,omitzero"`
}

// view adds the sale's refunds to its snapshot.
func (s *Server) view(ctx context.Context, sale *pos.Sale) saleView {
	v := saleView{Sale: sale, Refunds: []refundView{}, StillToPay: sale.StillToPay()}
	ops, err := s.eng.Journal().Ops(ctx, pos.OpFilter{SaleID: sale.ID, Kind: pos.OpRefund})
	if err != nil {
		s.log.Warn("sale refunds", "sale", sale.ID, "err", err)
	}
	for _, op := range ops {
		v.Refunds = append(v.Refunds, refundView{ID: op.ID, Amount: op.Amount, State: op.State, Status: op.RefundStatus(),
			Reason: op.Reason, Error: op.Error, CreatedAt: op.CreatedAt, CompletedAt: op.CompletedAt})
	}
	return v
}
