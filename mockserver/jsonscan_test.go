package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
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
