package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// The document, loaded once, and a router over it that finds a request's
// operation. Its server is a fixed host: checkResponse rewrites each
// request's URL to it, whatever port the test server listens on.
const docServer = "http://centrapos.test/api/v1"

var (
	docOnce   sync.Once
	docErr    error
	apiDoc    *openapi3.T
	apiRouter routers.Router
)

func loadDoc() (*openapi3.T, routers.Router, error) {
	docOnce.Do(func() {
		data, err := os.ReadFile("openapi.yaml")
		if err != nil {
			docErr = err
			return
		}
		apiDoc, docErr = openapi3.NewLoader().LoadFromData(data)
		if docErr != nil {
			return
		}
		if docErr = apiDoc.Validate(context.Background()); docErr != nil {
			return
		}
		// the router needs an absolute server; the document's is /api/v1
		routed := *apiDoc
		routed.Servers = openapi3.Servers{{URL: docServer}}
		apiRouter, docErr = legacy.NewRouter(&routed)
	})
	return apiDoc, apiRouter, docErr
}

// jsonBodies are the media types whose bodies are validated against their
// schemas; of the others (SSE, PNG, SVG, HTML and text receipts, CSV, the
// document itself) only the status and content type are.
func jsonBody(mediaType string) bool {
	return mediaType == "application/json" || mediaType == "application/problem+json"
}

// checkResponse fails the test when an /api/v1 response is not one
// openapi.yaml documents for the request's operation (responseProblem).
func checkResponse(t *testing.T, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if msg := responseProblem(req, status, header, body); msg != "" {
		t.Fatal(msg)
	}
}

// responseProblem says what is wrong with an /api/v1 response by
// openapi.yaml, "" if nothing: its status, its content type, its headers
// and, for JSON, its body against the schema must be the ones documented
// for the request's operation. A request to a path and method the
// document does not have must be answered 404 problem+json, or 405
// problem+json with an Allow header when the path is served for other
// methods.
func responseProblem(req *http.Request, status int, header http.Header, body []byte) string {
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return ""
	}
	_, router, err := loadDoc()
	if err != nil {
		return "openapi.yaml: " + err.Error()
	}
	r := req.Clone(context.Background())
	r.URL.Scheme, r.URL.Host, r.Host = "http", "centrapos.test", "centrapos.test"
	what := req.Method + " " + req.URL.RequestURI()
	ct := header.Get("Content-Type")
	route, params, err := router.FindRoute(r)
	if err != nil {
		wrongMethod := status == http.StatusMethodNotAllowed && header.Get("Allow") != ""
		if status != http.StatusNotFound && !wrongMethod || ct != "application/problem+json" {
			return fmt.Sprintf("openapi: %s is no operation of openapi.yaml, yet answered %d %s: %s", what, status, ct, body)
		}
		return ""
	}
	name := route.Operation.OperationID
	resp := route.Operation.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return fmt.Sprintf("openapi: %s (%s) answered %d, which openapi.yaml does not document for it: %s", what, name, status, body)
	}
	mt, _, _ := mime.ParseMediaType(ct)
	if len(resp.Value.Content) > 0 && resp.Value.Content.Get(ct) == nil {
		return fmt.Sprintf("openapi: %s (%s) answered %d with Content-Type %q, which openapi.yaml does not document for it", what, name, status, ct)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			ExcludeResponseBody:   !jsonBody(mt),
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Sprintf("openapi: %s (%s) answered %d %s not as openapi.yaml says: %v\nbody: %s", what, name, status, ct, err, body)
	}
	return ""
}

// TestOpenAPIDocument loads and validates openapi.yaml, and each of its
// examples against the schema beside it.
func TestOpenAPIDocument(t *testing.T) {
	doc, _, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	check := func(where string, schema *openapi3.SchemaRef, value any) {
		t.Helper()
		n++
		if schema == nil || schema.Value == nil {
			t.Errorf("%s: an example without a schema", where)
			return
		}
		// examples are YAML; the schema sees them as JSON would
		b, err := json.Marshal(value)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		var v any
		json.Unmarshal(b, &v)
		if err := schema.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
			t.Errorf("%s: the example does not fit its schema: %v", where, err)
		}
	}
	media := func(where string, content openapi3.Content) {
		for mtName, mt := range content {
			if mt.Example != nil {
				check(where+" "+mtName+" example", mt.Schema, mt.Example)
			}
			for exName, ex := range mt.Examples {
				if ex.Value == nil {
					t.Errorf("%s %s example %s: unresolved", where, mtName, exName)
					continue
				}
				check(where+" "+mtName+" example "+exName, mt.Schema, ex.Value.Value)
			}
		}
	}
	ops := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops++
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s: no operationId or summary", where)
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				media(where+" request", op.RequestBody.Value.Content)
			}
			for code, r := range op.Responses.Map() {
				media(where+" "+code, r.Value.Content)
			}
			for _, p := range op.Parameters {
				if p.Value.Example != nil {
					check(where+" parameter "+p.Value.Name, p.Value.Schema, p.Value.Example)
				}
			}
		}
	}
	if ops < 16 || n < 20 {
		t.Errorf("only %d operations and %d examples", ops, n)
	}
}

// TestOpenAPIValidatorCatches makes sure the check is not toothless: a
// response the document does not describe is caught, one it does is not.
func TestOpenAPIValidatorCatches(t *testing.T) {
	get := httptest.NewRequest("GET", "/api/v1/sales/s1", nil)
	conflict := `{"type":"t","title":"Conflict","status":409,"detail":"d","code":"conflict"}`
	for name, c := range map[string]struct {
		req    *http.Request
		status int
		header http.Header
		body   string
		ok     bool
	}{
		"a sale":              {get, 200, http.Header{"Content-Type": {"application/json"}}, `{"id":"s1","terminalId":"t","externalRef":"r","value":1,"currency":"NZD","status":"paid","createdAt":"2026-11-25T09:00:00Z","updatedAt":"2026-11-25T09:00:00Z","version":1}`, true},
		"undocumented status": {get, 418, http.Header{"Content-Type": {"application/json"}}, `{}`, false},
		"content type":        {get, 200, http.Header{"Content-Type": {"text/plain"}}, `hello`, false},
		"body":                {get, 200, http.Header{"Content-Type": {"application/json"}}, `{"id":1}`, false},
		"no Retry-After":      {httptest.NewRequest("POST", "/api/v1/sales/s1/cancel", nil), 409, http.Header{"Content-Type": {"application/problem+json"}}, conflict, false},
		"Retry-After":         {httptest.NewRequest("POST", "/api/v1/sales/s1/cancel", nil), 409, http.Header{"Content-Type": {"application/problem+json"}, "Retry-After": {"1"}}, conflict, true},
		"no route, 200":       {httptest.NewRequest("DELETE", "/api/v1/sales/s1", nil), 200, http.Header{"Content-Type": {"application/json"}}, `{}`, false},
	} {
		msg := responseProblem(c.req, c.status, c.header, []byte(c.body))
		if (msg == "") != c.ok {
			t.Errorf("%s: ok %v, want %v: %s", name, msg == "", c.ok, msg)
		}
	}
}
