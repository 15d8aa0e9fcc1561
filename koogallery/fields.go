package koogallery

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// Field limits. KooGallery documents 64 characters for its IDs and 512 for
// URLs; other fields get a generous bound so that an oversized value is
// refused rather than stored.
const (
	maxIDLen    = 64
	maxTextLen  = 256
	maxURLLen   = 512
	maxQueryIDs = 100
)

// Time layouts KooGallery uses.
const (
	// TimeLayout is yyyyMMddHHmmss (expireTime, createTime).
	TimeLayout = "20060102150405"
	// KitTimeLayout is yyyyMMddHHmmssSSS (the kit's timeStamp).
	KitTimeLayout = "20060102150405.000"
)

// fields reads typed values out of one JSON object, collecting every
// problem instead of stopping at the first.
type fields struct {
	obj    *jsonValue
	prefix string
	p      *apierror.Problems
	loc    *time.Location
}

func (f fields) name(key string) string { return f.prefix + key }

func (f fields) child(key string, v *jsonValue) fields {
	return fields{obj: v, prefix: f.prefix + key + ".", p: f.p, loc: f.loc}
}

// lookup returns the member, treating null as absent (the Java sample
// drops null members before anything reads them).
func (f fields) lookup(key string) (*jsonValue, bool) {
	v, ok := f.obj.get(key)
	if !ok || v.kind == jsonNull {
		return nil, false
	}
	return v, true
}

// str reads a string of at most max characters; required says whether it
// must be present and non-empty.
func (f fields) str(key string, required bool, max int) string {
	v, ok := f.lookup(key)
	if !ok {
		if required {
			f.p.Add(f.name(key), "is required")
		}
		return ""
	}
	if v.kind != jsonString {
		f.p.Add(f.name(key), "must be a string, not a %s", v.kind)
		return ""
	}
	switch {
	case required && strings.TrimSpace(v.s) == "":
		f.p.Add(f.name(key), "must not be empty")
	case utf8.RuneCountInString(v.s) > max:
		f.p.Add(f.name(key), "must be at most %d characters", max)
	}
	return v.s
}

func (f fields) id(key string, required bool) string { return f.str(key, required, maxIDLen) }

// flag reads a 0/1 flag given as "0"/"1" or 0/1 (the production interface
// sends strings, the kit numbers); absent is false.
func (f fields) flag(key string) bool {
	v, ok := f.lookup(key)
	if !ok {
		return false
	}
	switch {
	case (v.kind == jsonString || v.kind == jsonNumber) && v.s == "1":
		return true
	case (v.kind == jsonString || v.kind == jsonNumber) && v.s == "0":
		return false
	}
	f.p.Add(f.name(key), `must be "0" or "1"`)
	return false
}

// integer reads an integer given as a number or a string of digits.
func (f fields) integer(key string, required bool) (int, bool) {
	v, ok := f.lookup(key)
	if !ok {
		if required {
			f.p.Add(f.name(key), "is required")
		}
		return 0, false
	}
	if v.kind == jsonNumber || v.kind == jsonString {
		if n, err := strconv.Atoi(v.s); err == nil && len(v.s) <= 10 {
			return n, true
		}
	}
	f.p.Add(f.name(key), "must be an integer")
	return 0, false
}

// decimal reads a number given as a number or a numeric string, keeping
// its literal.
func (f fields) decimal(key string) json.Number {
	v, ok := f.lookup(key)
	if !ok {
		return ""
	}
	if v.kind == jsonNumber {
		return json.Number(v.s)
	}
	if v.kind == jsonString {
		if _, err := strconv.ParseFloat(v.s, 64); err == nil && len(v.s) <= maxNumberLiteral {
			return json.Number(v.s)
		}
	}
	f.p.Add(f.name(key), "must be a number")
	return ""
}

func (f fields) boolean(key string) bool {
	v, ok := f.lookup(key)
	if !ok {
		return false
	}
	switch {
	case v.kind == jsonBool:
		return v.b
	case v.kind == jsonString && (v.s == "true" || v.s == "false"):
		return v.s == "true"
	}
	f.p.Add(f.name(key), "must be true or false")
	return false
}

// timeIn parses a time in layout, in the handler's location.
func (f fields) timeIn(key, layout string, required bool, loc *time.Location) time.Time {
	s := f.str(key, required, 32)
	if s == "" {
		return time.Time{}
	}
	value := s
	if layout == KitTimeLayout && len(s) == 17 {
		value = s[:14] + "." + s[14:]
	}
	t, err := time.ParseInLocation(layout, value, loc)
	if err != nil {
		f.p.Add(f.name(key), "must be a time in the form %s", strings.ReplaceAll(layout, ".", ""))
		return time.Time{}
	}
	return t
}

func (f fields) time(key string, required bool) time.Time {
	return f.timeIn(key, TimeLayout, required, f.loc)
}

// object returns a nested object, also accepted as a string holding JSON
// (V1 and some V2 pages send nested data as strings).
func (f fields) object(key string, required bool) (*jsonValue, bool) {
	return f.nested(key, required, jsonObject)
}

// array returns a nested array's elements, also accepted as a string
// holding JSON.
func (f fields) array(key string, required bool) ([]jsonValue, bool) {
	v, ok := f.nested(key, required, jsonArray)
	if !ok {
		return nil, false
	}
	return v.arr, true
}

func (f fields) nested(key string, required bool, kind jsonKind) (*jsonValue, bool) {
	v, ok := f.lookup(key)
	if !ok {
		if required {
			f.p.Add(f.name(key), "is required")
		}
		return nil, false
	}
	if v.kind == jsonString {
		if inner, err := parseJSON([]byte(v.s)); err == nil {
			v = &inner
		}
	}
	if v.kind != kind {
		f.p.Add(f.name(key), "must be an %s", kind)
		return nil, false
	}
	return v, true
}

// each calls fn with a fields reader for each object element of an array.
func (f fields) each(key string, elems []jsonValue, fn func(fields)) {
	for i := range elems {
		name := fmt.Sprintf("%s[%d]", key, i)
		if elems[i].kind != jsonObject {
			f.p.Add(f.name(name), "must be an object")
			continue
		}
		fn(f.child(name, &elems[i]))
	}
}

// rawJSON returns the Jackson rendering of a value (compact, as received).
func rawJSON(v *jsonValue) json.RawMessage {
	if v == nil {
		return nil
	}
	return json.RawMessage(v.appendJackson(nil))
}

// --- building wire bodies -------------------------------------------------

// wire builds a JSON object member by member in a fixed order; empty
// optional values are left out.
type wire struct{ obj jsonValue }

func newWire(activity string) *wire {
	w := &wire{obj: jsonValue{kind: jsonObject}}
	if activity != "" {
		w.str("activity", activity)
	}
	return w
}

func (w *wire) add(key string, v jsonValue) *wire {
	w.obj.obj = append(w.obj.obj, jsonMember{key: key, val: v})
	return w
}

func (w *wire) str(key, s string) *wire { return w.add(key, jsonValue{kind: jsonString, s: s}) }

func (w *wire) opt(key, s string) *wire {
	if s == "" {
		return w
	}
	return w.str(key, s)
}

func (w *wire) num(key string, n int) *wire {
	return w.add(key, jsonValue{kind: jsonNumber, s: strconv.Itoa(n)})
}

func (w *wire) flagString(key string, b bool) *wire {
	if b {
		return w.str(key, "1")
	}
	return w.str(key, "0")
}

func (w *wire) flagNumber(key string, b bool) *wire {
	if b {
		return w.num(key, 1)
	}
	return w.num(key, 0)
}

func (w *wire) optTime(key string, t time.Time, layout string) *wire {
	if t.IsZero() {
		return w
	}
	return w.str(key, strings.ReplaceAll(t.Format(layout), ".", ""))
}

// rawValue adds a JSON value given as bytes (it must parse).
func (w *wire) rawValue(key string, raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	v, err := parseJSON(raw)
	if err != nil {
		return fmt.Errorf("koogallery: %s: %w", key, err)
	}
	w.add(key, v)
	return nil
}

func (w *wire) value() jsonValue { return w.obj }

func (w *wire) bytes() []byte { return w.obj.appendJackson(nil) }
