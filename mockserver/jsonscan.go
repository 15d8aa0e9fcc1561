package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"unicode/utf8"
)

// jsonScan reads a request body once, byte by byte, for what the mock
// checks beyond encoding/json (see keyProblem) and, in the same pass, for
// the body's canonical form, which the idempotency fingerprint hashes:
// keys sorted, no white space, strings spelled one way, numbers as
// written, and at the top level none of the one-time secret fields (a
// retry after a lost response may carry a fresh verification code and
// re-typed passwords). It allocates only for what it writes.
type jsonScan struct {
	b      []byte
	i      int
	noNull bool // null is a problem (the TrueWatch contract)

	// problem is the first problem with the keys, in document order.
	problem string
	// broken ends the scan: malformed JSON, a key given twice, a refused
	// null. There is then no canonical form, nor when nocanon is set (a
	// null, which is never a strict object's member).
	broken, nocanon bool
	canon           bool // write out
	out             []byte
}

// path names a value for messages, made only when one is needed: a key
// under a parent path ("company.name"), or, with key nil, parent as is.
type jsonPath struct {
	parent string
	key    []byte
}

func (p jsonPath) String() string {
	switch {
	case p.key == nil:
		return p.parent
	case p.parent == "":
		return string(p.key)
	}
	return p.parent + "." + string(p.key)
}

// maxJSONDepth bounds nesting, as encoding/json does.
const maxJSONDepth = 10000

// secretFields are left out of the fingerprint.
var secretFields = [][]byte{[]byte("password"), []byte("passwordConfirm"), []byte("emailCode")}

// scanJSON scans body, which should be one JSON object decoding into a
// value of type t (nil: no field is known), and returns the problem with
// its keys ("" when none) and, when canon is set, the body's canonical
// form (nil when the body is not one strict JSON object: malformed,
// trailing data, a key given twice, a null).
func scanJSON(body []byte, t reflect.Type, noNull, canon bool) (problem string, canonical []byte) {
	s := &jsonScan{b: body, noNull: noNull, canon: canon}
	if canon {
		s.out = make([]byte, 0, len(body))
	}
	s.ws()
	if !s.eat('{') {
		return "request body must be a JSON object", nil
	}
	s.object(t, "", 0)
	if s.broken || s.nocanon {
		return s.problem, nil
	}
	s.ws()
	if s.i != len(s.b) {
		return s.problem, nil // trailing data: refused by the decoder; no canonical form
	}
	return s.problem, s.out
}

// fail records a problem; structural ones also break the canonical form
// and end the scan.
func (s *jsonScan) fail(structural bool, format string, args ...any) {
	if s.problem == "" {
		s.problem = fmt.Sprintf(format, args...)
	}
	if structural {
		s.broken = true
	}
}

func (s *jsonScan) malformed() { s.fail(true, "malformed JSON") }

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// write writes c to the canonical form, when one is made.
func (s *jsonScan) write(c byte) {
	if s.canon {
		s.out = append(s.out, c)
	}
}

func (s *jsonScan) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// scanMember is one key of an object and where its canonical form is in out.
type scanMember struct {
	key        []byte
	start, end int
}

// object reads the members of the object whose '{' was just read, and its
// '}'.
func (s *jsonScan) object(t reflect.Type, at string, depth int) {
	if depth >= maxJSONDepth {
		s.malformed()
		return
	}
	fields := jsonFields(t)
	start := len(s.out)
	var buf [16]scanMember
	members := buf[:0]
	s.ws()
	if s.eat('}') {
		s.write('{')
		s.write('}')
		return
	}
	for {
		s.ws()
		key, ok := s.key()
		if !ok {
			s.malformed()
			return
		}
		name := jsonPath{parent: at, key: key}
		for _, m := range members {
			if bytes.Equal(m.key, key) {
				s.fail(true, "field %q is given more than once", name)
				return
			}
		}
		var ft reflect.Type
		if fields != nil {
			var known bool
			if ft, known = fields[string(key)]; !known {
				s.fail(false, "unknown field %q", name)
			}
		}
		s.ws()
		if !s.eat(':') {
			s.malformed()
			return
		}
		m := scanMember{key: key, start: len(s.out)}
		if s.canon {
			s.out = appendCanonString(s.out, key)
			s.out = append(s.out, ':')
		}
		s.ws()
		if s.value(ft, name, depth+1); s.broken {
			return
		}
		m.end = len(s.out)
		members = append(members, m)
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			break
		}
		s.malformed()
		return
	}
	if s.canon {
		s.sortMembers(start, members, depth == 0)
	}
}

// sortMembers rewrites the members written from start as a canonical
// object: sorted by key, the secret fields left out at the top level.
func (s *jsonScan) sortMembers(start int, members []scanMember, top bool) {
	written := slices.Clone(s.out[start:])
	slices.SortFunc(members, func(a, b scanMember) int { return bytes.Compare(a.key, b.key) })
	s.out = append(s.out[:start], '{')
	first := true
	for _, m := range members {
		if top && slices.ContainsFunc(secretFields, func(f []byte) bool { return bytes.Equal(f, m.key) }) {
			continue
		}
		if !first {
			s.out = append(s.out, ',')
		}
		first = false
		s.out = append(s.out, written[m.start-start:m.end-start]...)
	}
	s.out = append(s.out, '}')
}

// value reads one value; t is the Go type it decodes into, nil where the
// type says nothing about keys.
func (s *jsonScan) value(t reflect.Type, name jsonPath, depth int) {
	if s.i >= len(s.b) {
		s.malformed()
		return
	}
	switch c := s.b[s.i]; {
	case c == '{':
		s.i++
		s.object(t, name.String(), depth)
	case c == '[':
		s.i++
		s.array(t, name.String(), depth)
	case c == '"':
		str, ok := s.str()
		if !ok {
			s.malformed()
			return
		}
		if s.canon {
			s.out = appendCanonString(s.out, str)
		}
	case c == 'n':
		if !s.literal("null") {
			return
		}
		s.nocanon = true
		if s.noNull {
			s.fail(true, "field %q must not be null: leave it out", name)
		}
	case c == 't':
		s.literal("true")
	case c == 'f':
		s.literal("false")
	case c == '-' || c >= '0' && c <= '9':
		s.number()
	default:
		s.malformed()
	}
}

func (s *jsonScan) array(t reflect.Type, at string, depth int) {
	if depth >= maxJSONDepth {
		s.malformed()
		return
	}
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		elem = t.Elem()
	}
	s.write('[')
	s.ws()
	if s.eat(']') {
		s.write(']')
		return
	}
	for {
		s.ws()
		if s.value(elem, jsonPath{parent: at}, depth+1); s.broken {
			return
		}
		s.ws()
		if s.eat(',') {
			s.write(',')
			continue
		}
		if s.eat(']') {
			s.write(']')
			return
		}
		s.malformed()
		return
	}
}

func (s *jsonScan) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		s.malformed()
		return false
	}
	s.i += len(lit)
	if s.canon {
		s.out = append(s.out, lit...)
	}
	return true
}

// number reads a number as JSON spells it, and keeps that spelling.
func (s *jsonScan) number() {
	start := s.i
	s.eat('-')
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	switch {
	case s.eat('0'):
	case digits() == 0:
		s.malformed()
		return
	}
	if s.eat('.') && digits() == 0 {
		s.malformed()
		return
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if digits() == 0 {
			s.malformed()
			return
		}
	}
	if s.canon {
		s.out = append(s.out, s.b[start:s.i]...)
	}
}

// key reads an object key: a string.
func (s *jsonScan) key() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	return s.str()
}

// str reads a string and returns its value: a slice of the body when it
// has no escape, else the decoded bytes.
func (s *jsonScan) str() ([]byte, bool) {
	s.i++ // the opening quote
	start := s.i
	ascii := true
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			if v := s.b[start : s.i-1]; ascii || utf8.Valid(v) {
				return v, true
			}
			// encoding/json reads invalid UTF-8 as U+FFFD: so does the scanner.
			return s.unquote(start)
		case c >= utf8.RuneSelf:
			ascii = false
			s.i++
		case c == '\\':
			return s.escaped(start)
		case c < 0x20:
			return nil, false
		default:
			s.i++
		}
	}
	return nil, false
}

// escaped finishes a string with escapes, from start (after its quote),
// by encoding/json's rules.
func (s *jsonScan) escaped(start int) ([]byte, bool) {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.unquote(start)
		case c == '\\':
			s.i += 2
		case c < 0x20:
			return nil, false
		default:
			s.i++
		}
	}
	return nil, false
}

// unquote decodes the string from start (after its quote) to s.i (after
// its closing quote) as encoding/json does.
func (s *jsonScan) unquote(start int) ([]byte, bool) {
	var v string
	if err := json.Unmarshal(s.b[start-1:s.i], &v); err != nil {
		return nil, false
	}
	return []byte(v), true
}

// appendCanonString writes v as a JSON string one way: quote, backslash
// and control characters escaped, everything else as is.
func appendCanonString(out, v []byte) []byte {
	out = append(out, '"')
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
			i++
		case c < 0x20:
			out = fmt.Appendf(out, `\u%04x`, c)
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			_, n := utf8.DecodeRune(v[i:])
			out = append(out, v[i:i+n]...)
			i += n
		}
	}
	return append(out, '"')
}
