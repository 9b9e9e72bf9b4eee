package centrapay_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// docsDir holds Centrapay's own examples (see its README.md).
const docsDir = "testdata/docs"

// readDoc returns a docs example decoded into plain JSON values.
func readDoc(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(docsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// toJSON turns v (a Go value or raw JSON bytes) into plain JSON values.
func toJSON(t *testing.T, v any) any {
	t.Helper()
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return out
}

// shapeRules says which differences from a docs example are expected, and
// why. Field names apply at any depth; paths look like $.items[].value.amount.
type shapeRules struct {
	values  bool              // compare scalar values too, not only shapes
	mayOmit map[string]string // field name: why got may lack it
	mayAdd  map[string]string // field name: why got may have it though the example does not
	retype  map[string]string // path: why got's JSON type differs from the example's
	revalue map[string]string // path: why got's value differs (values only)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return fmt.Sprintf("%T", v)
}

// shapeDiff compares got with the example want and returns one line per
// difference, each naming its JSON path: a field missing from got, a field
// got adds, a different JSON type, and (with rules.values) a different
// scalar value. An example array's elements are merged into one shape (a
// field some elements lack is optional), against which every element of
// got is checked.
func shapeDiff(path string, want, got any, r shapeRules) []string {
	return shapeDiffOpt(path, want, got, r, nil)
}

func shapeDiffOpt(path string, want, got any, r shapeRules, optional map[string]bool) []string {
	wt, gt := jsonType(want), jsonType(got)
	if wt != gt {
		if _, ok := r.retype[path]; ok {
			return nil
		}
		return []string{fmt.Sprintf("%s: %s in the docs, %s here", path, wt, gt)}
	}
	var diffs []string
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(w)) {
			gv, ok := g[k]
			if !ok {
				if _, allowed := r.mayOmit[k]; !allowed && !optional[k] {
					diffs = append(diffs, fmt.Sprintf("%s.%s: missing (the docs have %s)", path, k, jsonType(w[k])))
				}
				continue
			}
			diffs = append(diffs, shapeDiffOpt(path+"."+k, w[k], gv, r, nil)...)
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			if _, ok := w[k]; !ok && !optional[k] {
				if _, allowed := r.mayAdd[k]; !allowed {
					diffs = append(diffs, fmt.Sprintf("%s.%s: not in the docs example (%s here)", path, k, jsonType(g[k])))
				}
			}
		}
	case []any:
		g := got.([]any)
		if len(w) == 0 || len(g) == 0 {
			return nil // nothing to compare an element with
		}
		if r.values {
			if len(w) != len(g) {
				return []string{fmt.Sprintf("%s: %d elements in the docs, %d here", path, len(w), len(g))}
			}
			for i := range w {
				diffs = append(diffs, shapeDiffOpt(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], r, nil)...)
			}
			return diffs
		}
		merged, opt := mergeElements(w)
		for i, e := range g {
			for _, d := range shapeDiffOpt(path+"[]", merged, e, r, opt) {
				diffs = append(diffs, fmt.Sprintf("[%d] %s", i, d))
			}
		}
	default:
		if r.values && want != got {
			if _, ok := r.revalue[path]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: %v in the docs, %v here", path, want, got))
			}
		}
	}
	return diffs
}

// mergeElements merges an example array's elements into one: for objects,
// the union of their fields (first occurrence wins), with the fields not in
// every element optional.
func mergeElements(elems []any) (any, map[string]bool) {
	objs := make([]map[string]any, 0, len(elems))
	for _, e := range elems {
		o, ok := e.(map[string]any)
		if !ok {
			return elems[0], nil
		}
		objs = append(objs, o)
	}
	merged, count := map[string]any{}, map[string]int{}
	for _, o := range objs {
		for k, v := range o {
			if _, ok := merged[k]; !ok {
				merged[k] = v
			}
			count[k]++
		}
	}
	opt := map[string]bool{}
	for k, n := range count {
		if n < len(objs) {
			opt[k] = true
		}
	}
	return merged, opt
}

// TestShapeDiff checks the comparer itself.
func TestShapeDiff(t *testing.T) {
	for _, tt := range []struct {
		name, want, got string
		rules           shapeRules
		diffs           []string
	}{
		{name: "same", want: `{"a":{"b":"1"},"c":[1]}`, got: `{"a":{"b":"2"},"c":[2,3]}`},
		{name: "missing", want: `{"a":{"b":"1","c":true}}`, got: `{"a":{"b":"1"}}`, diffs: []string{"$.a.c: missing (the docs have bool)"}},
		{name: "missing allowed", want: `{"a":{"c":true}}`, got: `{"a":{}}`, rules: shapeRules{mayOmit: map[string]string{"c": "why"}}},
		{name: "added", want: `{"a":[{"b":1}]}`, got: `{"a":[{"b":1,"x":"y"}]}`, diffs: []string{"[0] $.a[].x: not in the docs example (string here)"}},
		{name: "added allowed", want: `{}`, got: `{"x":1}`, rules: shapeRules{mayAdd: map[string]string{"x": "why"}}},
		{name: "type", want: `{"v":{"amount":"1"}}`, got: `{"v":{"amount":1}}`, diffs: []string{"$.v.amount: string in the docs, number here"}},
		{name: "retype allowed", want: `{"v":{"amount":1}}`, got: `{"v":{"amount":"1"}}`, rules: shapeRules{retype: map[string]string{"$.v.amount": "why"}}},
		{name: "nesting", want: `{"items":[]}`, got: `[]`, diffs: []string{"$: object in the docs, array here"}},
		{name: "merged elements", want: `[{"a":1,"b":2},{"a":1}]`, got: `[{"a":1}]`},
		{name: "values", want: `{"a":"x"}`, got: `{"a":"y"}`, rules: shapeRules{values: true}, diffs: []string{"$.a: x in the docs, y here"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var w, g any
			json.Unmarshal([]byte(tt.want), &w)
			json.Unmarshal([]byte(tt.got), &g)
			got := shapeDiff("$", w, g, tt.rules)
			if strings.Join(got, "\n") != strings.Join(tt.diffs, "\n") {
				t.Errorf("diffs\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.diffs, "\n"))
			}
		})
	}
}

// reportDiffs fails t with every difference, one per line.
func reportDiffs(t *testing.T, what string, diffs []string) {
	t.Helper()
	if len(diffs) > 0 {
		t.Errorf("%s differs from Centrapay's docs:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}
