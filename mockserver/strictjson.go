package mockserver

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// keyProblem refuses what encoding/json lets through but the contracts do
// not: a body that is not a JSON object (null), a key given twice (the
// decoder keeps the last; which one did the client mean?), a key that
// matches a field only case-insensitively ("EMAIL" for "email", which
// would also slip past the idempotency fingerprint's secret fields) and,
// with noNull (the TrueWatch contract), null for any field (it makes
// nothing nullable; the decoder would read null as absent; Huawei reads a
// null field as absent, as BSS documents). body decodes into a value of
// type t; with t nil only duplicates and nulls are checked. It describes
// the first problem, or returns "" when there is none, reading body once
// (scanJSON); the TrueWatch POSTs get it from the scan that also makes
// their fingerprint.
func keyProblem(body []byte, t reflect.Type, noNull bool) string {
	problem, _ := scanJSON(body, t, noNull, false)
	return problem
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
