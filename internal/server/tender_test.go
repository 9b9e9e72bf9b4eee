package server_test

import (
	"net/http"
	"testing"
)

// TestTenderAPI: POST /api/v1/sales/{id}/tenders takes the rest of a part
// payment by cash or card: once per Idempotency-Key (a retry gets the
// first answer), never beyond what is still to pay, with the fields named
// when wrong; every answer as openapi.yaml documents it.
func TestTenderAPI(t *testing.T) {
	e := setup(t)
	s := e.sale("till-1", map[string]any{"value": 2000, "basketAmount": 2000, "flow": "barcode", "barcode": e.sb.Scenarios()["partial"].Barcode})
	e.settle()
	var v struct {
		Status     string `json:"status"`
		StillToPay int64  `json:"stillToPay"`
		Tenders    []struct {
			Method string `json:"method"`
			Amount int64  `json:"amount"`
		} `json:"tenders"`
	}
	e.do("GET", "/api/v1/sales/"+s.ID, "till-1", nil).json(t, &v)
	if v.Status != "paid" || v.StillToPay != 1000 {
		t.Fatalf("part paid: %+v", v)
	}
	path := "/api/v1/sales/" + s.ID + "/tenders"
	for _, tc := range []struct {
		body  string
		field string
	}{
		{`{"method": "cheque", "amount": 100}`, "method"},
		{`{"method": "cash", "amount": 0}`, "amount"},
		{`{"method": "cash", "amount": 1001}`, "amount"},
	} {
		r := e.do("POST", path, "till-1", tc.body)
		var p struct{ Field string }
		r.json(t, &p)
		if r.status != http.StatusBadRequest || p.Field != tc.field {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.body, r.status, r.body, tc.field)
		}
	}
	for i := range 2 { // the same key twice: one tender
		r := e.do("POST", path, "till-1", `{"method": "card", "amount": 1000}`, "Idempotency-Key", "tender-1")
		r.json(t, &v)
		if r.status != http.StatusCreated || v.StillToPay != 0 || len(v.Tenders) != 1 {
			t.Fatalf("try %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := e.do("POST", path, "till-1", `{"method": "cash", "amount": 1}`); r.status != http.StatusConflict {
		t.Errorf("nothing still to pay: %d %s, want 409", r.status, r.body)
	}
	if r := e.do("POST", path, "elsewhere", `{"method": "cash", "amount": 1}`); r.status != http.StatusNotFound {
		t.Errorf("a till of another location: %d, want 404", r.status)
	}
}
