package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/centrapos/centrapos/internal/server"
)

// TestSessionsInTheJournal: a browser signed in at one server is signed in
// at another of the same journal (and after a restart, which is the same:
// nothing of a session is in a server's memory); a sign-in link made at
// one works once, at the other; signing out at one ends it at both.
func TestSessionsInTheJournal(t *testing.T) {
	e := setup(t)
	other, err := server.New(server.Config{Engine: e.eng, Terminals: e.j, MerchantName: "Centrapay Café", Clock: e.fake})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(other)
	defer ts.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(base, path, cookie string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	cookie := e.cookie("till-1") // signed in at the first server
	if r := get(ts.URL, "/api/v1/sales", cookie); r.StatusCode != http.StatusOK {
		t.Errorf("the first server's session at the second: %d", r.StatusCode)
	}
	link := e.loginLink("till-2")
	if r := get(ts.URL, link, ""); r.StatusCode != http.StatusSeeOther || len(r.Cookies()) != 1 {
		t.Errorf("a link made at the first server, used at the second: %d", r.StatusCode)
	}
	if r := get(e.baseURL, link, ""); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("the link used again at the first server: %d, want 401", r.StatusCode)
	}
	req, _ := http.NewRequest("POST", ts.URL+"/logout", strings.NewReader(""))
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", ts.URL)
	if resp, err := noRedirect.Do(req); err == nil {
		resp.Body.Close()
	}
	if r := get(e.baseURL, "/api/v1/sales", cookie); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed out at the second server, the first still takes the cookie: %d", r.StatusCode)
	}
}
