package server_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/centrapos/centrapos/pos"
)

// TestJSONListsNeverNull: every JSON answer that holds lists (the sales
// list, a sale, a refund, the transactions report, the Z-report), asked by
// a till and by a manager, says [] for an empty list, never null — first
// on an empty journal, then with a paid sale, a refund and an open sale: a
// till written in a language without nil slices would break on null.
func TestJSONListsNeverNull(t *testing.T) {
	e := setup(t)
	type salePage struct {
		Items      []*pos.Sale `json:"items"`
		HasMore    bool        `json:"hasMore"`
		NextCursor string      `json:"nextCursor"`
	}
	type saleView struct {
		*pos.Sale
		Refunds []map[string]any `json:"refunds"`
	}
	type answer struct {
		path string
		as   string
		typ  any // the Go type the answer is, which says which fields are lists
	}
	reports := []answer{
		{"/api/v1/sales", "till-1", salePage{}},
		{"/api/v1/sales", "manager", salePage{}},
		{"/api/v1/sales?status=paid", "manager", salePage{}},
		{"/api/v1/sales?open=true", "till-1", salePage{}},
		{"/api/v1/reports/transactions", "till-1", pos.Report{}},
		{"/api/v1/reports/transactions", "manager", pos.Report{}},
		{"/api/v1/reports/transactions?terminal=till-2", "manager", pos.Report{}},
		{"/api/v1/reports/transactions?day=2026-11-20", "manager", pos.Report{}},
		{"/api/v1/reports/z", "till-1", pos.ZReport{}},
		{"/api/v1/reports/z", "manager", pos.ZReport{}},
		{"/api/v1/reports/z?terminal=till-2", "manager", pos.ZReport{}},
		{"/api/v1/reports/z?day=2026-11-20&format=json", "manager", pos.ZReport{}},
	}
	check := func(t *testing.T, answers []answer) {
		for _, a := range answers {
			t.Run(a.as+" "+a.path, func(t *testing.T) {
				r := e.do("GET", a.path, a.as, nil)
				if r.status != http.StatusOK {
					t.Fatalf("%d %s", r.status, r.body)
				}
				var v any
				r.json(t, &v)
				for _, path := range nullLists(reflect.TypeOf(a.typ), v, "$") {
					t.Errorf("%s is null, want a list ([] when empty): %s", path, r.body)
				}
			})
		}
	}
	t.Run("empty journal", func(t *testing.T) { check(t, reports) })

	paid := e.sale("till-1", map[string]any{"value": 1500, "flow": "barcode", "barcode": e.sb.Scenarios()["quick-pay"].Barcode})
	if got := e.get("till-1", paid.ID); got.Status != pos.StatusPaid {
		t.Fatalf("quick pay: %s", got.Status)
	}
	ref := e.do("POST", "/api/v1/refunds", "till-1", map[string]any{"saleId": paid.ID, "value": 500})
	var op pos.Op
	ref.json(t, &op)
	open := e.sale("till-2", map[string]any{"value": 700})
	t.Run("sales and a refund", func(t *testing.T) {
		check(t, append(reports,
			answer{"/api/v1/sales/" + paid.ID, "till-1", saleView{}},
			answer{"/api/v1/sales/" + open.ID, "manager", saleView{}},
			answer{"/api/v1/refunds/" + op.ID, "till-1", map[string]any{}},
		))
	})
}

// TestNullListsCatches makes sure the check has teeth: a null list is
// found, a null object is not.
func TestNullListsCatches(t *testing.T) {
	for body, want := range map[string]string{
		`{"items":null,"hasMore":false}`:                  "$.items",
		`{"store":{"totals":null},"terminals":[]}`:        "$.store.totals",
		`{"store":null,"terminals":[{"openSales":null}]}`: "$.terminals[0].openSales",
		`{"store":null,"terminals":[],"reconciled":null}`: "",
	} {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		typ := reflect.TypeFor[pos.ZReport]()
		if strings.HasPrefix(body, `{"items"`) {
			typ = reflect.TypeFor[struct {
				Items []*pos.Sale `json:"items"`
			}]()
		}
		if got := strings.Join(nullLists(typ, v, "$"), " "); got != want {
			t.Errorf("nullLists(%s) = %q, want %q", body, got, want)
		}
	}
}

// nullLists returns the JSON paths in v where a list or map of typ is
// null. typ is the Go type v was encoded from; null objects (pointers) are
// not lists and pass.
func nullLists(typ reflect.Type, v any, path string) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if v == nil {
		if typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			return []string{path}
		}
		return nil
	}
	var out []string
	switch typ.Kind() {
	case reflect.Slice, reflect.Array:
		if list, ok := v.([]any); ok {
			for i, el := range list {
				out = append(out, nullLists(typ.Elem(), el, path+"["+strconv.Itoa(i)+"]")...)
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for k, el := range m {
				out = append(out, nullLists(typ.Elem(), el, path+"."+k)...)
			}
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for name, f := range jsonFields(typ) {
			if el, ok := m[name]; ok {
				out = append(out, nullLists(f, el, path+"."+name)...)
			}
		}
	}
	return out
}

// jsonFields returns the types of a struct's JSON fields by name, those
// of embedded structs included.
func jsonFields(typ reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			for n, t := range jsonFields(ft) {
				if _, ok := out[n]; !ok {
					out[n] = t
				}
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
