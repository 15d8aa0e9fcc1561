package mockserver

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// checkKeys refuses what encoding/json lets through but the contract does
// not: a body that is not a JSON object (null), a key given twice (the
// decoder keeps the last; which one did the client mean?) and a key that
// matches a field only case-insensitively ("EMAIL" for "email", which
// would also slip past the idempotency fingerprint's secret fields). body
// has already decoded into a value of type t.
func checkKeys(body []byte, t reflect.Type) *twError {
	if msg := keyProblem(body, t); msg != "" {
		return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "%s", msg)
	}
	return nil
}

// keyProblem is checkKeys for both halves: it describes what is wrong
// with body's keys, or returns "" when nothing is.
func keyProblem(body []byte, t reflect.Type) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "request body must be a JSON object"
	}
	return walkObject(dec, t, "")
}

// walkObject checks the keys of the object whose '{' was just read, then
// reads its '}'. t is the Go type it decodes into.
func walkObject(dec *json.Decoder, t reflect.Type, path string) string {
	fields := jsonFields(t)
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "malformed JSON"
		}
		key, _ := tok.(string)
		name := key
		if path != "" {
			name = path + "." + key
		}
		if seen[key] {
			return fmt.Sprintf("field %q is given more than once", name)
		}
		seen[key] = true
		var ft reflect.Type
		if fields != nil {
			var ok bool
			if ft, ok = fields[key]; !ok {
				return fmt.Sprintf("unknown field %q", name)
			}
		}
		if msg := walkValue(dec, ft, name); msg != "" {
			return msg
		}
	}
	if _, err := dec.Token(); err != nil {
		return "malformed JSON"
	}
	return ""
}

// walkValue reads one value; objects and arrays are checked recursively.
// t is nil where the Go type says nothing about keys.
func walkValue(dec *json.Decoder, t reflect.Type, path string) string {
	tok, err := dec.Token()
	if err != nil {
		return "malformed JSON"
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(dec, t, path)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if msg := walkValue(dec, elem, path); msg != "" {
				return msg
			}
		}
		if _, err := dec.Token(); err != nil {
			return "malformed JSON"
		}
	}
	return ""
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	fieldCache          sync.Map // reflect.Type -> map[string]reflect.Type
)

// jsonFields maps the exact JSON names of a struct's fields (embedded
// structs' fields promoted) to their types; nil when t is not a plain
// struct, so that its keys are not checked.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct ||
		reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return nil
	}
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	addFields(m, t)
	fieldCache.Store(t, m)
	return m
}

func addFields(m map[string]reflect.Type, t reflect.Type) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-":
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			embedded = append(embedded, f.Type)
		case f.IsExported():
			if name == "" {
				name = f.Name
			}
			m[name] = f.Type
		}
	}
	for _, e := range embedded { // the shallower field wins, as in encoding/json
		sub := map[string]reflect.Type{}
		addFields(sub, e)
		for k, v := range sub {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
	}
}
