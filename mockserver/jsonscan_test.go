package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// The reference the one-pass scanner is held to: the checks and the
// canonical form as encoding/json's decoder makes them, token by token.

func refKeyProblem(body []byte, t reflect.Type, noNull bool) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "request body must be a JSON object"
	}
	return refWalker{dec: dec, noNull: noNull}.object(t, "")
}

type refWalker struct {
	dec    *json.Decoder
	noNull bool
}

func (w refWalker) object(t reflect.Type, path string) string {
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

func (w refWalker) value(t reflect.Type, path string) string {
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

// refCanon is the canonical form as json.Marshal of the decoded object
// writes it, or nil when the body is not one strict JSON object.
func refCanon(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil || refKeyProblem(body, nil, true) != "" {
		return nil
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil
	}
	delete(obj, "password")
	delete(obj, "passwordConfirm")
	delete(obj, "emailCode")
	b, err := json.Marshal(obj)
	if err != nil {
		return nil
	}
	return b
}

// remarshal is json.Marshal of canon decoded: the scanner's canonical form
// holds the same value as the reference's when remarshal(it) equals it.
func remarshal(canon []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(canon))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []byte("undecodable: " + err.Error())
	}
	b, _ := json.Marshal(v)
	return b
}

var scanTypes = []reflect.Type{nil, reflect.TypeFor[billing.RegisterRequest](), reflect.TypeFor[workspace.RegisterAndCreateRequest](),
	reflect.TypeFor[Fault](), reflect.TypeFor[[]Fault]()}

// checkScan compares the scanner with the reference on body.
func checkScan(t *testing.T, body []byte) {
	t.Helper()
	for _, typ := range scanTypes {
		for _, noNull := range []bool{true, false} {
			got, _ := scanJSON(body, typ, noNull, false)
			require.Equal(t, refKeyProblem(body, typ, noNull), got, "problem of %q as %v (noNull %v)", body, typ, noNull)
		}
	}
	_, canon := scanJSON(body, nil, true, true)
	ref := refCanon(body)
	require.Equal(t, ref == nil, canon == nil, "a canonical form of %q: %q, reference %q", body, canon, ref)
	if ref != nil {
		require.Equal(t, string(ref), string(remarshal(canon)), "the canonical form of %q, %q, holds another value", body, canon)
		require.True(t, json.Valid(canon))
	}
}

var scanCorpus = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":1,"a":2}`, `{"a":null}`, `{"a":{"b":null}}`, `{"a":[1,{"b":1,"b":2}]}`,
	`{"email":"ada@example.com","purpose":"register"}`, "{ \"purpose\" : \"register\",\n \"email\":\"ada@example.com\" }",
	`{"username":"ada","EMAIL":"x"}`, `{"company":{"name":"x","extra":1}}`, `{"company":{"name":"x"}}`,
	`{"a":"\u0041\n\"\\\/\b\f\r\t\ud83d\ude00"}`, `{"\u0061":1,"a":2}`, `{"a":1.0}`, `{"a":-0.5e+10}`, `{"a":-}`, `{"a":01}`,
	`{"a":1.}`, `{"a":1e}`, `{"a":tru}`, `{"a":true,"b":false}`, `[]`, `null`, `"x"`, ``, `{`, `{"a"`, `{"a":}`,
	`{"a":1,}`, `{,}`, `{"a":1}x`, `{"a":1} `, `{"a":1}{}`, `{"a":"x` + "\x01" + `"}`, `{"a":"\x"}`, `{"a":"\u12"}`,
	`{"password":"p","emailCode":"1","passwordConfirm":"p","x":1}`, `{"z":1,"a":{"y":[3,2,{"b":1,"a":0}]}}`,
	`{"a":"<>&` + "\u2028" + `é"}`, `{"a":"\ud800"}`, `{"a":` + strings.Repeat("[", 50) + strings.Repeat("]", 50) + `}`,
	`{"a":[1 2]}`, `{"a" 1}`, `{1:2}`, `{"a":[,]}`, `{"a":[]}`, `{"a":{}}`, `{"a":"` + "\xff" + `"}`,
	`{"operation":"billing.Register","times":2,"retryAfter":"1s"}`, `[{"path":"/x","path":"/y"}]`,
}

func TestScanJSONMatchesTheDecoder(t *testing.T) {
	for _, body := range scanCorpus {
		checkScan(t, []byte(body))
	}
	deep := []byte(`{"a":` + strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1) + `}`)
	problem, canon := scanJSON(deep, nil, true, true)
	assert.Equal(t, "malformed JSON", problem, "nesting is bounded as encoding/json bounds it")
	assert.Nil(t, canon)
}

func FuzzScanJSON(f *testing.F) {
	for _, body := range scanCorpus {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if bytes.Count(body, []byte("[")) > 1000 || bytes.Count(body, []byte("{")) > 1000 {
			return // deep nesting is bounded differently (the reference's recursion is unbounded)
		}
		checkScan(t, body)
	})
}

// wideBody is one object of n members "0":0, "1":0, ..., then extra.
func wideBody(n int, extra string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%d":0`, i)
	}
	b.WriteString(extra)
	b.WriteByte('}')
	return b.Bytes()
}

// deepBody nests depth objects, each with its keys out of order, the
// value of its "a" the next.
func deepBody(depth int) []byte {
	return []byte(strings.Repeat(`{"z":[1,{"y":2,"x":3}],"a":`, depth) + "0" + strings.Repeat("}", depth))
}

// allocated is what f allocates, in bytes.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A body is an attacker's: however it is shaped, the scan costs in
// proportion to its size. A megabyte of keys used to be compared each
// with every other (seconds per request), and a deeply nested body's
// path names and canonical form copied once per level (a gigabyte
// allocated for 130 KB).
func TestScanJSONLinearInItsBody(t *testing.T) {
	wide := wideBody(100_000, `,"99999":1`)
	problem, canon := scanJSON(wide, nil, true, true)
	assert.Equal(t, `field "99999" is given more than once`, problem, "a repeat after many members is still caught")
	assert.Nil(t, canon)
	problem, _ = scanJSON(wideBody(100_000, `,"17":1`), nil, true, false)
	assert.Equal(t, `field "17" is given more than once`, problem)
	for _, n := range []int{setAfter - 1, setAfter, setAfter + 1} {
		problem, _ = scanJSON(wideBody(n, `,"0":1`), nil, true, false)
		assert.Equal(t, `field "0" is given more than once`, problem, "around the switch to a set (%d members)", n)
		problem, _ = scanJSON(wideBody(n, ""), nil, true, false)
		assert.Empty(t, problem)
	}

	checkScan(t, deepBody(300)) // the reference's recursion is unbounded, so not too deep
	checkScan(t, wideBody(3*setAfter, ""))

	deep := deepBody(maxJSONDepth/2 - 1)
	var got []byte
	n := allocated(func() { _, got = scanJSON(deep, scanTypes[1], true, true) })
	require.NotNil(t, got)
	assert.Less(t, n, uint64(64*len(deep)), "a %d-byte body nested %d deep allocated %d bytes", len(deep), maxJSONDepth/2-1, n)
	wide = wideBody(100_000, "")
	n = allocated(func() { _, got = scanJSON(wide, nil, true, true) })
	require.NotNil(t, got)
	assert.Less(t, n, uint64(64*len(wide)), "a %d-byte body of 100,000 keys allocated %d bytes", len(wide), n)
}

// BenchmarkScanJSON scans bodies of several shapes for their problems and
// canonical form, beside the floor of any check of a JSON body in the
// same run: json.Valid, one linear pass over it.
//
//	go test -run '^$' -bench ScanJSON -benchmem ./mockserver/
func BenchmarkScanJSON(b *testing.B) {
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"shape=register", []byte(`{"username":"ada","email":"ada@example.com","password":"pw-1234567","passwordConfirm":"pw-1234567","emailCode":"123456","huaweiAccountId":"0a1b2c3d4e5f","instanceId":"inst-1","company":{"name":"Acme"}}`)},
		{"shape=wide-1MiB", wideBody(100_000, "")},
		{"shape=deep", deepBody(maxJSONDepth/2 - 1)},
	} {
		b.Run(c.name, func(b *testing.B) {
			testkit.Paired(b, func() error {
				if !json.Valid(c.body) {
					return fmt.Errorf("invalid body")
				}
				return nil
			}, func() error {
				if problem, canon := scanJSON(c.body, nil, true, true); problem != "" || canon == nil {
					return fmt.Errorf("scan: %q", problem)
				}
				return nil
			})
		})
	}
}
