package server_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/centrapos/centrapos/pos"
)

// TestSalesPaging pages through 7 sales 3 at a time: each sale comes once,
// in the order newest first (createdAt, then id, descending), and the last
// page says there are no more. A cursor that names no sale is a 400.
func TestSalesPaging(t *testing.T) {
	e := setup(t)
	var want []string
	for i := range 7 {
		s := e.sale("till-1", map[string]any{"value": 100 + i})
		want = append([]string{s.ID}, want...)
		if i%3 != 1 { // some sales share a createdAt: the later journaled comes first
			e.fake.Advance(time.Second)
		}
	}
	type page struct {
		Items      []*pos.Sale `json:"items"`
		HasMore    bool        `json:"hasMore"`
		NextCursor string      `json:"nextCursor"`
	}
	var all page
	e.do("GET", "/api/v1/sales", "till-1", nil).json(t, &all)
	for i, s := range all.Items {
		if i < len(want) && s.ID != want[i] {
			t.Errorf("item %d is %s %v, want %s: newest first, the later journaled first on a tie", i, s.ID, s.CreatedAt, want[i])
		}
	}
	if len(all.Items) != 7 || all.HasMore || all.NextCursor != "" {
		t.Fatalf("all: %d items, hasMore %v, nextCursor %q", len(all.Items), all.HasMore, all.NextCursor)
	}
	var got []string
	cursor := ""
	for pages := 1; ; pages++ {
		q := "?limit=3"
		if cursor != "" {
			q += "&startingAfter=" + url.QueryEscape(cursor)
		}
		r := e.do("GET", "/api/v1/sales"+q, "till-1", nil)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.body)
		}
		var p page
		r.json(t, &p)
		for _, s := range p.Items {
			got = append(got, s.ID)
		}
		if !p.HasMore {
			if p.NextCursor != "" || pages != 3 || len(p.Items) != 1 {
				t.Errorf("last page %d: %d items, nextCursor %q", pages, len(p.Items), p.NextCursor)
			}
			break
		}
		if len(p.Items) != 3 || p.NextCursor != p.Items[2].ID {
			t.Fatalf("page %d: %d items, nextCursor %q", pages, len(p.Items), p.NextCursor)
		}
		cursor = p.NextCursor
	}
	var order []string
	for _, s := range all.Items {
		order = append(order, s.ID)
	}
	if strings.Join(got, " ") != strings.Join(order, " ") {
		t.Errorf("paged: %v\nwant:  %v", got, order)
	}
	seen := map[string]bool{}
	for _, id := range got {
		seen[id] = true
	}
	for _, id := range want {
		if !seen[id] {
			t.Errorf("sale %s never listed", id)
		}
	}
	// a cursor naming no sale, or a sale this terminal does not list
	other := e.sale("till-2", map[string]any{"value": 100})
	for _, c := range []string{"no-such-sale", other.ID, ""} {
		r := e.do("GET", "/api/v1/sales?startingAfter="+url.QueryEscape(c), "till-1", nil)
		if r.status != 400 || !strings.Contains(string(r.body), "startingAfter") {
			t.Errorf("cursor %q: %d %s", c, r.status, r.body)
		}
	}
	for _, l := range []string{"0", "201", "x"} {
		if r := e.do("GET", "/api/v1/sales?limit="+l, "till-1", nil); r.status != 400 || !strings.Contains(string(r.body), "limit") {
			t.Errorf("limit %s: %d %s", l, r.status, r.body)
		}
	}
	// the manager pages through every terminal's sales
	var m page
	e.do("GET", "/api/v1/sales?limit=200", "manager", nil).json(t, &m)
	if len(m.Items) != 8 {
		t.Errorf("manager sees %d sales, want 8", len(m.Items))
	}
}
