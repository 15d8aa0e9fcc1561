package koogallery

import (
	"errors"
	"slices"
)

// BodyForms says which renderings of a request body a signature may cover.
// KooGallery documents the hashed payload as the body "sorted by parameter
// name"; the official Java sample re-serialises the parsed body with
// Jackson, and a third-party implementation hashes the body as sent. A
// verifier that accepts several forms computes one HMAC per distinct
// rendering and accepts a match with any of them; all of them render the
// same parsed content, so what the vendor is handed is what was signed.
type BodyForms uint8

const (
	// FormSorted is the body as the Java sample renders it for the kit
	// interfaces: parsed into a TreeMap<String,Object> (top-level keys in
	// Java's String order, top-level nulls dropped), nested objects and
	// arrays in received order, written compact by Jackson. See Canonical.
	FormSorted BodyForms = 1 << iota
	// FormSortedStrings is the body as the Java sample renders it for the
	// production interface, which binds a Map<String,String>: as
	// FormSorted, but top-level numbers and booleans become strings of
	// their literal text ("testFlag":1 is hashed as "testFlag":"1"). It
	// does not exist for a body with a top-level object or array.
	FormSortedStrings
	// FormRaw is the body bytes exactly as received.
	FormRaw

	// AllBodyForms accepts any of the three.
	AllBodyForms = FormSorted | FormSortedStrings | FormRaw
)

// errNotObject: a body that is JSON but not an object.
var errNotObject = errors.New("body is not a JSON object")

// Canonical returns the canonical form of a JSON object body that
// KooGallery's signatures cover (FormSorted): the top-level members sorted
// by key in Java's String order with null members dropped, nested values
// exactly as received, compact, with Jackson's string escaping (no HTML
// escaping, non-ASCII kept as UTF-8) and numbers as Jackson writes them
// back (integers as given, others through Double.toString: 1.50 becomes
// 1.5, 1e2 becomes 100.0).
//
// It refuses anything that is not a single well-formed JSON object in
// UTF-8, and an object that names a key twice at any depth.
func Canonical(body []byte) ([]byte, error) {
	v, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	return canonicalSorted(&v), nil
}

func parseObject(body []byte) (jsonValue, error) {
	v, err := parseJSON(body)
	if err != nil {
		return jsonValue{}, err
	}
	if v.kind != jsonObject {
		return jsonValue{}, errNotObject
	}
	return v, nil
}

// sortedMembers returns the top-level members in TreeMap order without the
// null ones.
func sortedMembers(v *jsonValue) []jsonMember {
	ms := make([]jsonMember, 0, len(v.obj))
	for _, m := range v.obj {
		if m.val.kind != jsonNull {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b jsonMember) int { return compareJavaStrings(a.key, b.key) })
	return ms
}

func canonicalSorted(v *jsonValue) []byte {
	top := jsonValue{kind: jsonObject, obj: sortedMembers(v)}
	return top.appendJackson(nil)
}

// canonicalStrings renders FormSortedStrings; ok is false when the body has
// a top-level object or array, which a Map<String,String> cannot hold.
func canonicalStrings(v *jsonValue) ([]byte, bool) {
	ms := sortedMembers(v)
	for i, m := range ms {
		switch m.val.kind {
		case jsonObject, jsonArray:
			return nil, false
		case jsonNumber:
			ms[i].val = jsonValue{kind: jsonString, s: m.val.s}
		case jsonBool:
			s := "false"
			if m.val.b {
				s = "true"
			}
			ms[i].val = jsonValue{kind: jsonString, s: s}
		}
	}
	top := jsonValue{kind: jsonObject, obj: ms}
	return top.appendJackson(nil), true
}

// payloads returns the distinct renderings of a parsed body allowed by
// forms, in the order FormSorted, FormSortedStrings, FormRaw.
func payloads(forms BodyForms, raw []byte, v *jsonValue) [][]byte {
	var out [][]byte
	add := func(p []byte) {
		for _, q := range out {
			if string(q) == string(p) {
				return
			}
		}
		out = append(out, p)
	}
	if forms&FormSorted != 0 {
		add(canonicalSorted(v))
	}
	if forms&FormSortedStrings != 0 {
		if p, ok := canonicalStrings(v); ok {
			add(p)
		}
	}
	if forms&FormRaw != 0 {
		add(raw)
	}
	return out
}
