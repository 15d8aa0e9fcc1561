package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
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
//
// Its cost is linear in the body whatever its shape (the body is an
// attacker's): keys are checked for repeats against a set once an object
// has more than a few, paths for messages are made only when a message
// is, and the canonical form is written as the body is read, with each
// object's members put in order only at the end (canonical), so that no
// byte is copied once per level of nesting.
type jsonScan struct {
	b      []byte
	i      int
	noNull bool // null is a problem (the TrueWatch contract)
	// lenient lets unknown keys through (Lenient).
	lenient bool

	// problem is the first problem with the keys, in document order.
	problem string
	// broken ends the scan: malformed JSON, a key given twice, a refused
	// null. There is then no canonical form, nor when nocanon is set (a
	// null, which is never a strict object's member).
	broken, nocanon bool
	canon           bool // write out
	// out holds the canonical form of every scalar and key in document
	// order; objs and members say where each object's members are in it,
	// for canonical to put them in order.
	out     []byte
	objs    []scanObject
	members []scanMember
	// path holds the keys of the members being read, outermost first.
	path [][]byte
	// hashSeed hashes keys for the sets of large objects' keys.
	hashSeed maphash.Seed
}

// scanObject is an object with members, as written to out: its bytes are
// out[start:end], its members members[first:first+n], and the objects
// within it are objs up to next (objects are recorded in document order
// as they open, so those within one follow it).
type scanObject struct {
	start, end int
	first, n   int
	next       int
}

// pathName names the value being read, for messages, made only when one
// is: the keys of the members it is in, from the top, joined by dots
// ("company.name"); an array's elements have their array's name.
type pathName struct{ s *jsonScan }

func (p pathName) String() string {
	var name []byte
	for _, key := range p.s.path {
		if len(name) > 0 {
			name = append(name, '.')
		}
		name = append(name, key...)
	}
	return string(name)
}

// maxJSONDepth bounds nesting, as encoding/json does.
const maxJSONDepth = 10000

// secretField tells the top-level keys left out of the fingerprint.
func secretField(key []byte) bool {
	switch string(key) {
	case "password", "passwordConfirm", "emailCode":
		return true
	}
	return false
}

// setAfter is how many members an object has before its keys are checked
// for repeats against a set rather than one by one.
const setAfter = 16

// scanJSON scans body, which should be one JSON object decoding into a
// value of type t (nil: no field is known), and returns the problem with
// its keys ("" when none) and, when canon is set, the body's canonical
// form (nil when the body is not one strict JSON object: malformed,
// trailing data, a key given twice, a null).
func scanJSON(body []byte, t reflect.Type, noNull, canon bool) (problem string, canonical []byte) {
	return scanJSONFor(body, t, noNull, canon, false)
}

// scanJSONFor is scanJSON, leniently (Lenient) when lenient: unknown keys
// are no problem, unless they match a known one case-insensitively.
func scanJSONFor(body []byte, t reflect.Type, noNull, canon, lenient bool) (problem string, canonical []byte) {
	s := &jsonScan{b: body, noNull: noNull, canon: canon, lenient: lenient}
	if canon {
		s.out = make([]byte, 0, len(body))
	}
	s.ws()
	if !s.eat('{') {
		return "request body must be a JSON object", nil
	}
	s.object(t, 0)
	if s.broken || s.nocanon {
		return s.problem, nil
	}
	s.ws()
	if s.i != len(s.b) {
		return s.problem, nil // trailing data: refused by the decoder; no canonical form
	}
	if canon {
		return s.problem, s.canonical()
	}
	return s.problem, nil
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

// scanMember is one key of an object and where its canonical form is in
// out: out[start:end], holding the objects within it from objs[obj].
type scanMember struct {
	key        []byte
	start, end int
	obj        int
}

// object reads the members of the object whose '{' was just read, and its
// '}'.
func (s *jsonScan) object(t reflect.Type, depth int) {
	if depth >= maxJSONDepth {
		s.malformed()
		return
	}
	fields := jsonFields(t)
	s.ws()
	if s.eat('}') {
		s.write('{')
		s.write('}')
		return
	}
	var buf [setAfter]scanMember
	members := buf[:0]
	var seen map[uint64]int
	self, at := len(s.objs), len(s.path)
	s.path = append(s.path, nil)
	if s.canon {
		s.objs = append(s.objs, scanObject{start: len(s.out)})
	}
	for {
		s.ws()
		key, ok := s.key()
		if !ok {
			s.malformed()
			return
		}
		s.path[at] = key
		name := pathName{s}
		if s.repeated(key, members, &seen) {
			s.fail(true, "field %q is given more than once", name)
			return
		}
		var ft reflect.Type
		if fields != nil {
			var known bool
			if ft, known = fields[string(key)]; !known && (!s.lenient || foldKnown(fields, key)) {
				s.fail(false, "unknown field %q", name)
			}
		}
		s.ws()
		if !s.eat(':') {
			s.malformed()
			return
		}
		m := scanMember{key: key, start: len(s.out), obj: len(s.objs)}
		if s.canon {
			s.out = appendCanonString(s.out, key)
			s.out = append(s.out, ':')
		}
		s.ws()
		if s.value(ft, depth+1); s.broken {
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
	s.path = s.path[:at]
	if s.canon {
		o := &s.objs[self]
		o.end, o.first, o.n, o.next = len(s.out), len(s.members), len(members), len(s.objs)
		s.members = append(s.members, members...)
	}
}

// repeated tells whether key is among the members read so far, looking
// one by one while there are few and, past setAfter, in seen (made then):
// the index of a member by its key's hash, keys compared on a match.
func (s *jsonScan) repeated(key []byte, members []scanMember, seen *map[uint64]int) bool {
	linear := func() bool {
		return slices.ContainsFunc(members, func(m scanMember) bool { return bytes.Equal(m.key, key) })
	}
	if len(members) < setAfter {
		return linear()
	}
	if *seen == nil {
		s.hashSeed = maphash.MakeSeed()
		*seen = make(map[uint64]int, 2*len(members))
		for i, m := range members {
			(*seen)[maphash.Bytes(s.hashSeed, m.key)] = i
		}
	}
	h := maphash.Bytes(s.hashSeed, key)
	i, ok := (*seen)[h]
	switch {
	case !ok:
		(*seen)[h] = len(members)
		return false
	case bytes.Equal(members[i].key, key):
		return true
	}
	return linear() // two keys of one hash: compare one by one
}

// canonical is the canonical form of the object scanned: out with every
// object's members sorted by key, separated by commas and braced, and the
// secret fields left out at the top level. Each byte of out is copied
// once.
func (s *jsonScan) canonical() []byte {
	if len(s.objs) == 0 {
		return s.out // "{}"
	}
	c := make([]byte, 0, len(s.out)+2*len(s.members)+2*len(s.objs))
	return s.appendObject(c, 0, true)
}

func (s *jsonScan) appendObject(c []byte, k int, top bool) []byte {
	o := s.objs[k]
	members := s.members[o.first : o.first+o.n]
	slices.SortFunc(members, func(a, b scanMember) int { return bytes.Compare(a.key, b.key) })
	c = append(c, '{')
	first := true
	for _, m := range members {
		if top && secretField(m.key) {
			continue
		}
		if !first {
			c = append(c, ',')
		}
		first = false
		c = s.appendSpan(c, m.start, m.end, m.obj)
	}
	return append(c, '}')
}

// appendSpan appends out[start:end], each object within it (from objs[k])
// in its canonical form.
func (s *jsonScan) appendSpan(c []byte, start, end, k int) []byte {
	for k < len(s.objs) && s.objs[k].start < end {
		c = append(c, s.out[start:s.objs[k].start]...)
		c = s.appendObject(c, k, false)
		start, k = s.objs[k].end, s.objs[k].next
	}
	return append(c, s.out[start:end]...)
}

// value reads one value; t is the Go type it decodes into, nil where the
// type says nothing about keys.
func (s *jsonScan) value(t reflect.Type, depth int) {
	if s.i >= len(s.b) {
		s.malformed()
		return
	}
	switch c := s.b[s.i]; {
	case c == '{':
		s.i++
		s.object(t, depth)
	case c == '[':
		s.i++
		s.array(t, depth)
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
			s.fail(true, "field %q must not be null: leave it out", pathName{s})
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

func (s *jsonScan) array(t reflect.Type, depth int) {
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
		if s.value(elem, depth+1); s.broken {
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
