package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
)

// maxBody is the largest request body the API reads: far more than any
// sale, refund or confirmation needs.
const maxBody = 1 << 20

// eTooLarge is the code of a body larger than maxBody (413).
const eTooLarge = "too_large"

// readBody reads r's body, at most maxBody bytes. A larger body is a
// *pos.Error with code eTooLarge (answered 413), a body that cannot be read
// an EInvalid one. w may be nil; when it is not, the server closes the
// connection after answering a body that was too large instead of reading
// the rest of it.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, &pos.Error{Code: eTooLarge, Message: "body: larger than 1 MiB"}
	case err != nil:
		return nil, &pos.Error{Code: pos.EInvalid, Message: "body: could not be read"}
	}
	return b, nil
}

// decodeBody reads a JSON body into v, naming what is wrong in a bad one
// in a till developer's words: JSON's types, never Go's. A body larger
// than maxBody is answered 413, as readBody says.
func decodeBody(r *http.Request, v any) error {
	body, err := readBody(nil, r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if dec.More() {
			return &pos.Error{Code: pos.EInvalid, Message: "body: one JSON object expected"}
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		msg := fmt.Sprintf("must be %s, not %s", typeWords(te.Type, te.Field), valueWords(te.Value))
		if te.Field == "" {
			return &pos.Error{Code: pos.EInvalid, Message: "body: " + msg}
		}
		return &pos.Error{Code: pos.EInvalid, Field: te.Field, Message: msg}
	case errors.As(err, &se):
		return &pos.Error{Code: pos.EInvalid, Message: fmt.Sprintf("body: malformed JSON at byte %d", se.Offset)}
	case errors.Is(err, io.EOF):
		return &pos.Error{Code: pos.EInvalid, Message: "body: a JSON object is required"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &pos.Error{Code: pos.EInvalid, Message: "body: the JSON ends too early"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &pos.Error{Code: pos.EInvalid, Field: f, Message: "unknown field"}
	}
	// A type's own UnmarshalJSON refused a value (a line item's price that
	// is not a number, say). Its error names Go types and no field: find
	// the field and say what it takes instead.
	if field, t, raw, ok := locate(body, reflect.TypeOf(v), ""); ok {
		return &pos.Error{Code: pos.EInvalid, Field: field, Message: fmt.Sprintf("must be %s, not %s", typeWords(t, field), rawWords(raw))}
	}
	return &pos.Error{Code: pos.EInvalid, Message: "body: a value has the wrong type"}
}

// amountFields are the integer fields that are amounts in cents.
var amountFields = map[string]bool{"value": true, "basketAmount": true, "amount": true}

// centFields are the number fields of line items that are in cents.
var centFields = map[string]bool{"price": true, "discount": true, "amount": true}

var bigNumberType = reflect.TypeFor[centrapay.BigNumber]()

// lastName is the last name of a dotted field path.
func lastName(field string) string {
	return field[strings.LastIndexByte(field, '.')+1:]
}

// typeWords says what JSON a Go type takes: never the type's own name.
func typeWords(t reflect.Type, field string) string {
	if t == nil {
		return "another value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == bigNumberType {
		if centFields[lastName(field)] {
			return `a number of cents, such as 1250 or "1250"`
		}
		return `a number, such as 2 or "1.5"`
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if amountFields[lastName(field)] {
			return "a whole number of cents"
		}
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "text" // base64
		}
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another value"
}

// valueWords says what JSON value was sent, from json.UnmarshalTypeError's
// Value ("string", "number", "number 12.5", "bool", "array", "object").
func valueWords(v string) string {
	switch v {
	case "string":
		return "text"
	case "number":
		return "a number"
	case "bool":
		return "true or false"
	case "array":
		return "a list"
	case "object":
		return "an object"
	}
	if n, ok := strings.CutPrefix(v, "number "); ok {
		if isWhole(n) {
			return shorten(n) + ", which is out of range"
		}
		return shorten(n)
	}
	return "that value"
}

// rawWords says what a raw JSON value is.
func rawWords(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "that value"
	}
	switch raw[0] {
	case '"':
		return "text that is not a number"
	case 't', 'f':
		return "true or false"
	case '[':
		return "a list"
	case '{':
		return "an object"
	case 'n':
		return "null"
	}
	return shorten(string(raw))
}

// shorten keeps an echoed number short: a body may hold a megabyte of digits.
func shorten(s string) string {
	if len(s) > 24 {
		return s[:20] + "…"
	}
	return s
}

// isWhole reports whether s is an optionally signed run of digits.
func isWhole(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// locate finds the first value in raw, decoded as t, whose type's own
// UnmarshalJSON refuses it, and returns its dotted field path (list
// indexes left out, as encoding/json names fields), its type and its raw
// JSON. It follows encoding/json's field names: the json tag, else the Go
// name, matched exactly or else without regard to case.
func locate(raw []byte, t reflect.Type, path string) (string, reflect.Type, []byte, bool) {
	if t == nil {
		return "", nil, nil, false
	}
	if t.Kind() == reflect.Pointer {
		return locate(raw, t.Elem(), path)
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return "", nil, nil, false
		}
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return path, t, raw, true
		}
		return "", nil, nil, false
	}
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return "", nil, nil, false
		}
		for _, it := range items {
			if f, ft, fr, ok := locate(it, t.Elem(), path); ok {
				return f, ft, fr, true
			}
		}
	case reflect.Map:
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return "", nil, nil, false
		}
		for k, v := range m {
			if f, ft, fr, ok := locate(v, t.Elem(), join(k)); ok {
				return f, ft, fr, true
			}
		}
	case reflect.Struct:
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return "", nil, nil, false
		}
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() && !sf.Anonymous {
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if et := sf.Type; sf.Anonymous && name == "" && (et.Kind() == reflect.Struct || et.Kind() == reflect.Pointer && et.Elem().Kind() == reflect.Struct) {
				if f, ft, fr, ok := locate(raw, et, path); ok { // embedded: its fields are this object's
					return f, ft, fr, true
				}
				continue
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			v, ok := m[name]
			if !ok {
				for k, kv := range m {
					if strings.EqualFold(k, name) {
						v, ok = kv, true
						break
					}
				}
			}
			if !ok {
				continue
			}
			if f, ft, fr, ok := locate(v, sf.Type, join(name)); ok {
				return f, ft, fr, true
			}
		}
	}
	return "", nil, nil, false
}
