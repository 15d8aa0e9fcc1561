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
// decoder keeps the last; which one did the client mean?), a key that
// matches a field only case-insensitively ("EMAIL" for "email", which
// would also slip past the idempotency fingerprint's secret fields) and,
// in the TrueWatch contract, null for any field (it makes nothing
// nullable; the decoder would read null as absent). body has already
// decoded into a value of type t; with t nil only duplicates and nulls are
// checked.
func checkKeys(body []byte, t reflect.Type) *twError {
	if msg := keyProblem(body, t, true); msg != "" {
		return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "%s", msg)
	}
	return nil
}

// keyProblem is checkKeys for both halves and the control plane: it
// describes what is wrong with body's keys, or returns "" when nothing
// is. noNull refuses null values (the TrueWatch contract); Huawei reads a
// null field as absent, as BSS documents.
func keyProblem(body []byte, t reflect.Type, noNull bool) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "request body must be a JSON object"
	}
	return keyWalker{dec: dec, noNull: noNull}.object(t, "")
}

// keyWalker reads a JSON value token by token, checking its keys.
type keyWalker struct {
	dec    *json.Decoder
	noNull bool
}

// object checks the keys of the object whose '{' was just read, then
// reads its '}'. t is the Go type it decodes into.
func (w keyWalker) object(t reflect.Type, path string) string {
	dec := w.dec
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
		if msg := w.value(ft, name); msg != "" {
			return msg
		}
	}
	if _, err := dec.Token(); err != nil {
		return "malformed JSON"
	}
	return ""
}

// value reads one value; objects and arrays are checked recursively. t is
// nil where the Go type says nothing about keys.
func (w keyWalker) value(t reflect.Type, path string) string {
	dec := w.dec
	tok, err := dec.Token()
	if err != nil {
		return "malformed JSON"
	}
	switch tok {
	case nil:
		if w.noNull {
			return fmt.Sprintf("field %q must not be null: leave it out", path)
		}
	case json.Delim('{'):
		return w.object(t, path)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if msg := w.value(elem, path); msg != "" {
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
