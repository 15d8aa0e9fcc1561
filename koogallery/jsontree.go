package koogallery

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The body of every KooGallery call is parsed once into this tree. It keeps
// what encoding/json throws away and the signature depends on: the order of
// members as received, each number's literal, and whether a key was given
// twice. The canonical forms, the verifier and the typed decoders all read
// the same tree, so what is verified is exactly what is decoded.

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

type jsonValue struct {
	kind jsonKind
	s    string // a string's decoded value, or a number's literal
	b    bool
	arr  []jsonValue
	obj  []jsonMember // in received order
}

type jsonMember struct {
	key string
	val jsonValue
}

// get returns the member named key (exact, case-sensitive match).
func (v *jsonValue) get(key string) (*jsonValue, bool) {
	for i := range v.obj {
		if v.obj[i].key == key {
			return &v.obj[i].val, true
		}
	}
	return nil, false
}

const (
	maxJSONDepth     = 32
	maxNumberLiteral = 100
)

// errJSON marks a body that is not one well-formed JSON value.
var errJSON = errors.New("malformed JSON")

type jsonParser struct {
	data  []byte
	pos   int
	depth int
}

// parseJSON parses one JSON value (RFC 8259, strictly: UTF-8 only, no
// comments, no trailing commas, no lone surrogates) and refuses an object
// that names a key twice: Jackson keeps the last value and Go's decoder
// matches keys case-insensitively, so a repeated key is the one place where
// what is signed and what is read could differ.
func parseJSON(data []byte) (jsonValue, error) {
	p := jsonParser{data: data}
	p.skipSpace()
	v, err := p.value()
	if err != nil {
		return jsonValue{}, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return jsonValue{}, p.errorf("data after the JSON value")
	}
	return v, nil
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errJSON, p.pos, fmt.Sprintf(format, args...))
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (jsonValue, error) {
	if p.pos >= len(p.data) {
		return jsonValue{}, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		return jsonValue{kind: jsonString, s: s}, err
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case p.literal("true"):
		return jsonValue{kind: jsonBool, b: true}, nil
	case p.literal("false"):
		return jsonValue{kind: jsonBool}, nil
	case p.literal("null"):
		return jsonValue{kind: jsonNull}, nil
	}
	return jsonValue{}, p.errorf("unexpected character %q", p.data[p.pos])
}

func (p *jsonParser) literal(word string) bool {
	if strings.HasPrefix(string(p.data[p.pos:min(len(p.data), p.pos+len(word))]), word) {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return p.errorf("nested deeper than %d levels", maxJSONDepth)
	}
	return nil
}

func (p *jsonParser) object() (jsonValue, error) {
	if err := p.enter(); err != nil {
		return jsonValue{}, err
	}
	p.pos++ // {
	v := jsonValue{kind: jsonObject, obj: []jsonMember{}}
	var seen map[string]struct{}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		return v, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return jsonValue{}, p.errorf("expected a member name")
		}
		key, err := p.str()
		if err != nil {
			return jsonValue{}, err
		}
		if seen == nil {
			seen = map[string]struct{}{}
		}
		if _, dup := seen[key]; dup {
			return jsonValue{}, p.errorf("key %q given more than once", key)
		}
		seen[key] = struct{}{}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return jsonValue{}, p.errorf("expected ':' after member name")
		}
		p.pos++
		p.skipSpace()
		val, err := p.value()
		if err != nil {
			return jsonValue{}, err
		}
		v.obj = append(v.obj, jsonMember{key: key, val: val})
		p.skipSpace()
		if p.pos >= len(p.data) {
			return jsonValue{}, p.errorf("unterminated object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.depth--
			return v, nil
		default:
			return jsonValue{}, p.errorf("expected ',' or '}'")
		}
	}
}

func (p *jsonParser) array() (jsonValue, error) {
	if err := p.enter(); err != nil {
		return jsonValue{}, err
	}
	p.pos++ // [
	v := jsonValue{kind: jsonArray, arr: []jsonValue{}}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return v, nil
	}
	for {
		p.skipSpace()
		el, err := p.value()
		if err != nil {
			return jsonValue{}, err
		}
		v.arr = append(v.arr, el)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return jsonValue{}, p.errorf("unterminated array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			return v, nil
		default:
			return jsonValue{}, p.errorf("expected ',' or ']'")
		}
	}
}

func (p *jsonParser) number() (jsonValue, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return jsonValue{}, p.errorf("malformed number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return jsonValue{}, p.errorf("malformed number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return jsonValue{}, p.errorf("malformed number")
		}
	}
	if p.pos-start > maxNumberLiteral {
		return jsonValue{}, p.errorf("number longer than %d characters", maxNumberLiteral)
	}
	return jsonValue{kind: jsonNumber, s: string(p.data[start:p.pos])}, nil
}

func (p *jsonParser) str() (string, error) {
	p.pos++ // "
	// Fast path: no escapes, the common case.
	for i := p.pos; i < len(p.data); i++ {
		c := p.data[i]
		if c == '"' {
			if seg := p.data[p.pos:i]; utf8.Valid(seg) {
				p.pos = i + 1
				return string(seg), nil
			}
			break
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	var b strings.Builder
	for {
		if p.pos >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errorf("invalid UTF-8")
			}
			b.WriteRune(r)
			p.pos += size
		}
	}
}

func (p *jsonParser) escape(b *strings.Builder) error {
	if p.pos+1 >= len(p.data) {
		return p.errorf("unterminated escape")
	}
	c := p.data[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		b.WriteByte(c)
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		r, err := p.hex4()
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(r) {
			// Only a high surrogate followed by an escaped low one makes
			// a character; Jackson cannot write a lone surrogate back.
			if r >= 0xDC00 || p.pos+1 >= len(p.data) || p.data[p.pos] != '\\' || p.data[p.pos+1] != 'u' {
				return p.errorf("lone surrogate in string")
			}
			p.pos += 2
			lo, err := p.hex4()
			if err != nil {
				return err
			}
			r = utf16.DecodeRune(r, lo)
			if r == utf8.RuneError {
				return p.errorf("lone surrogate in string")
			}
		}
		b.WriteRune(r)
	default:
		return p.errorf("invalid escape \\%c", c)
	}
	return nil
}

func (p *jsonParser) hex4() (rune, error) {
	if p.pos+4 > len(p.data) {
		return 0, p.errorf("short \\u escape")
	}
	n, err := strconv.ParseUint(string(p.data[p.pos:p.pos+4]), 16, 16)
	if err != nil {
		return 0, p.errorf("malformed \\u escape")
	}
	p.pos += 4
	return rune(n), nil
}

// appendJackson writes v as Jackson's ObjectMapper writes the value it
// parsed from the same text with default settings: compact, members in the
// order given, strings escaped as Jackson escapes them, integers as
// Integer/Long/BigInteger and other numbers as Double.
func (v *jsonValue) appendJackson(dst []byte) []byte {
	switch v.kind {
	case jsonNull:
		return append(dst, "null"...)
	case jsonBool:
		return strconv.AppendBool(dst, v.b)
	case jsonNumber:
		return appendJacksonNumber(dst, v.s)
	case jsonString:
		return appendJacksonString(dst, v.s)
	case jsonArray:
		dst = append(dst, '[')
		for i := range v.arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = v.arr[i].appendJackson(dst)
		}
		return append(dst, ']')
	default:
		dst = append(dst, '{')
		for i := range v.obj {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJacksonString(dst, v.obj[i].key)
			dst = append(dst, ':')
			dst = v.obj[i].val.appendJackson(dst)
		}
		return append(dst, '}')
	}
}

// appendJacksonString escapes as Jackson's generator does by default: '"'
// and '\\', the short escapes \b \t \n \f \r, other control characters as
// \u00XX with upper-case hex, and nothing else: not '/', not '<', '>' or
// '&' (Go's HTML escaping), not U+2028/U+2029, not non-ASCII.
func appendJacksonString(dst []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// appendJacksonNumber re-emits a number literal the way Jackson does after
// parsing it into an Object: an integer literal comes back as its digits
// (only "-0" changes, to "0"); any literal with a fraction or exponent
// becomes a Double and is written by Double.toString.
func appendJacksonNumber(dst []byte, lit string) []byte {
	if !strings.ContainsAny(lit, ".eE") {
		if lit == "-0" {
			return append(dst, '0')
		}
		return append(dst, lit...)
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !math.IsInf(f, 0) {
		// The parser only admits JSON number literals, which always parse.
		return append(dst, lit...)
	}
	switch {
	case math.IsInf(f, 1):
		// Jackson quotes non-finite doubles by default.
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	return append(dst, javaDoubleString(f)...)
}

// javaDoubleString renders f as Java's Double.toString (JDK 19 and later,
// the shortest decimal that rounds to f): plain notation with at least one
// fraction digit for 1e-3 <= |f| < 1e7, otherwise d.dddE±n. Where the
// shortest decimal has one digit, Java picks the closest decimal of at most
// two digits (4.9E-324, not 5.0E-324).
func javaDoubleString(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	neg := f < 0
	abs := math.Abs(f)
	digits, exp := shortestDigits(abs, -1)
	if len(digits) == 1 {
		if d2, e2 := shortestDigits(abs, 1); parsesBack(d2, e2, abs) {
			digits, exp = strings.TrimRight(d2, "0"), e2
			if digits == "" {
				digits = "0"
			}
		}
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if abs >= 1e-3 && abs < 1e7 {
		if exp >= 0 {
			intPart := digits
			frac := ""
			if len(digits) > exp+1 {
				intPart, frac = digits[:exp+1], digits[exp+1:]
			} else {
				intPart += strings.Repeat("0", exp+1-len(digits))
			}
			if frac == "" {
				frac = "0"
			}
			b.WriteString(intPart)
			b.WriteByte('.')
			b.WriteString(frac)
		} else {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -exp-1))
			b.WriteString(digits)
		}
		return b.String()
	}
	b.WriteByte(digits[0])
	b.WriteByte('.')
	if len(digits) > 1 {
		b.WriteString(digits[1:])
	} else {
		b.WriteByte('0')
	}
	b.WriteByte('E')
	b.WriteString(strconv.Itoa(exp))
	return b.String()
}

// shortestDigits returns the significant digits of f (prec as in
// strconv.FormatFloat 'e') and the decimal exponent of the first one.
func shortestDigits(f float64, prec int) (string, int) {
	s := strconv.FormatFloat(f, 'e', prec, 64)
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	return strings.Replace(mant, ".", "", 1), exp
}

func parsesBack(digits string, exp int, f float64) bool {
	g, err := strconv.ParseFloat(digits[:1]+"."+digits[1:]+"e"+strconv.Itoa(exp), 64)
	return err == nil && g == f
}

// compareJavaStrings orders strings as Java's String.compareTo does (by
// UTF-16 code units), which is the order of Jackson's TreeMap. It differs
// from Go's byte order only between characters above U+FFFF and those in
// U+E000–U+FFFF.
func compareJavaStrings(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := utf16Units(ra), utf16Units(rb)
			for i := 0; i < len(ua) && i < len(ub); i++ {
				if ua[i] != ub[i] {
					return int(ua[i]) - int(ub[i])
				}
			}
			return len(ua) - len(ub)
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

func utf16Units(r rune) []uint16 {
	if r >= 0x10000 {
		r1, r2 := utf16.EncodeRune(r)
		return []uint16{uint16(r1), uint16(r2)}
	}
	return []uint16{uint16(r)}
}
