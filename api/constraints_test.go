package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/site"
)

// TestEveryConstraintRefused is generated from api/openapi.yaml: it walks
// every operation and, for every constraint the document states on it
// (required parameters and fields, types, null where nothing is nullable,
// minLength and maxLength, minimum and maximum, patterns, enums, formats,
// closed objects, the request's content type, the credentials its security
// names, path parameter limits) and every rule its text states that a
// schema cannot (unknown or repeated query parameters, duplicate JSON keys,
// trailing data, ...), sends a valid request with that one constraint
// broken. The document must refuse the request; the mock must answer the
// documented 4xx with the documented error code, in the documented error
// shape (validated against the operation), naming the field; and nothing
// may change: no state, no email sent, no verification code attempt
// counted, no idempotency record kept, which the valid request sent last
// (with the same Idempotency-Key) proves by succeeding without a replay.
//
// A constraint the generator does not know how to break fails the test, so
// the document cannot grow a rule that nobody checks.
func TestEveryConstraintRefused(t *testing.T) {
	h := newHarness(t, retry.Disabled())
	bases := newBaselines(t, h)
	ops := documentedOperations(h.c.doc)
	require.Len(t, ops, len(operationIDs(h.c.doc)))
	for _, op := range ops {
		base, ok := bases[op.op.OperationID]
		require.True(t, ok, "no valid baseline request for operation %s: add one to newBaselines", op.op.OperationID)
		require.Equal(t, []string{op.method, op.path}, []string{base().method, base().path}, "the baseline of %s", op.op.OperationID)
		g := &generator{t: t, doc: h.c.doc, op: op}
		vs := g.violations(base)
		require.NotEmpty(t, vs)
		t.Run(op.op.OperationID, func(t *testing.T) {
			for _, v := range vs {
				t.Run(v.name, func(t *testing.T) { h.checkRefused(t, op, base, v) })
			}
			// The valid request, with the Idempotency-Key every violation
			// carried, succeeds and is not a replay.
			resp := h.sendChecked(t, base())
			assert.Equal(t, 2, resp.status/100, "the valid request of %s: %d %s %s", op.op.OperationID, resp.status, resp.errorCode, resp.body)
			assert.Empty(t, resp.header.Get("Idempotent-Replayed"))
		})
	}
}

// operation is one operation of the document with its method, path and
// parameters (the path item's and its own).
type operation struct {
	method, path string
	op           *openapi3.Operation
	params       openapi3.Parameters
}

// documentedOperations lists every operation of the document, in path and
// method order.
func documentedOperations(doc *openapi3.T) []operation {
	var out []operation
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			params := slices.Concat(item.Parameters, op.Parameters)
			out = append(out, operation{method: method, path: path, op: op, params: params})
		}
	}
	slices.SortFunc(out, func(a, b operation) int { return strings.Compare(a.op.OperationID, b.op.OperationID) })
	return out
}

// request is one request as the generator edits it.
type request struct {
	method string
	server string            // the operation's server URL
	path   string            // the document's path template
	params map[string]string // path parameters
	query  url.Values
	header http.Header
	body   []byte // nil: none
}

func (r request) url() string {
	p := r.path
	for k, v := range r.params {
		p = strings.ReplaceAll(p, "{"+k+"}", url.PathEscape(v))
	}
	u := r.server + p
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	return u
}

func (r request) build(t testing.TB) *http.Request {
	t.Helper()
	var body *bytes.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(r.method, r.url(), body)
	} else {
		req, err = http.NewRequest(r.method, r.url(), nil)
	}
	require.NoError(t, err)
	req.Header = r.header.Clone()
	return req
}

// violation is one request that breaks one rule of the document, and the
// answer the document gives it.
type violation struct {
	name   string
	apply  func(*request)
	status int
	code   string
	// field is the problem that ft.ValidationFailed must name: the field
	// itself or one inside it ("company" for "company.name").
	field string
}

// generator derives an operation's violations from the document.
type generator struct {
	t   *testing.T
	doc *openapi3.T
	op  operation
	out []violation
}

func (g *generator) add(name string, status int, code, field string, apply func(*request)) {
	g.out = append(g.out, violation{name: name, apply: apply, status: status, code: code, field: field})
}

// The answers the document gives (components/responses/BadRequest and the
// security schemes): a rule broken is 400 ft.ValidationFailed naming the
// field; a body that is not JSON, not one object, with a field of the
// wrong type (null included, nothing being nullable) or an unknown field
// is 400 ft.InvalidJSON; a body that is not application/json is 415
// ft.UnsupportedMediaType; a malformed proof of ownership is 401
// ft.OwnershipProofInvalid, a missing one 401 ft.OwnershipProofRequired; a
// missing or malformed bearer token 401 ft.Unauthorized.
const (
	codeRule  = apierror.CodeValidation
	codeJSON  = apierror.CodeInvalidJSON
	codeMedia = apierror.CodeUnsupportedMediaType
)

func (g *generator) violations(base func() request) []violation {
	b := base()
	g.security()
	g.parameters(b)
	g.operationRules(b)
	if rb := g.op.op.RequestBody; rb != nil {
		g.body(rb.Value, b)
	}
	return g.out
}

// security: every credential the operation requires, missing and
// malformed.
func (g *generator) security() {
	reqs := g.doc.Security
	if g.op.op.Security != nil {
		reqs = *g.op.op.Security
	}
	for _, r := range reqs {
		if len(r) == 0 {
			return // the operation may be called without credentials
		}
	}
	for _, r := range reqs {
		for name := range r {
			switch scheme := g.doc.Components.SecuritySchemes[name].Value; {
			case scheme.Type == "apiKey" && scheme.In == "header":
				g.add("security "+name+" missing", 401, apierror.CodeProofRequired, "",
					func(r *request) { r.header.Del(scheme.Name) })
			case scheme.Type == "http" && scheme.Scheme == "bearer":
				g.add("security "+name+" missing", 401, apierror.CodeUnauthorized, "",
					func(r *request) { r.header.Del("Authorization") })
				g.add("security "+name+" not bearer", 401, apierror.CodeUnauthorized, "",
					func(r *request) { r.header.Set("Authorization", "Basic Z2VuOmdlbg==") })
				g.add("security "+name+" malformed token", 401, apierror.CodeUnauthorized, "",
					func(r *request) { r.header.Set("Authorization", "Bearer not-a-token") })
			default:
				g.t.Errorf("%s: security scheme %s: the generator cannot break it", g.op.op.OperationID, name)
			}
		}
	}
}

// parameters: every constraint of every parameter.
func (g *generator) parameters(b request) {
	for _, pr := range g.op.params {
		p := pr.Value
		where := p.In + " " + p.Name
		status, code, field := 400, codeRule, p.Name
		if p.In == openapi3.ParameterInHeader && p.Name == proof.Header {
			status, code, field = 401, apierror.CodeProofInvalid, ""
		}
		get := func(r request) (string, bool) {
			switch p.In {
			case openapi3.ParameterInQuery:
				v, ok := r.query[p.Name]
				return strings.Join(v, ""), ok
			case openapi3.ParameterInHeader:
				v := r.header.Values(p.Name)
				return strings.Join(v, ""), len(v) > 0
			case openapi3.ParameterInPath:
				v, ok := r.params[p.Name]
				return v, ok
			}
			g.t.Fatalf("%s: parameter in %s: the generator cannot place it", g.op.op.OperationID, p.In)
			return "", false
		}
		set := func(r *request, v string) {
			switch p.In {
			case openapi3.ParameterInQuery:
				r.query.Set(p.Name, v)
			case openapi3.ParameterInHeader:
				r.header.Set(p.Name, v)
			case openapi3.ParameterInPath:
				r.params[p.Name] = v
			}
		}
		baseValue, present := get(b)
		if !present {
			g.t.Errorf("%s: the baseline request lacks %s: add it so that its constraints are exercised", g.op.op.OperationID, where)
			continue
		}
		if p.Required && p.In != openapi3.ParameterInPath {
			g.add(where+" required", status, code, field, func(r *request) {
				if p.In == openapi3.ParameterInQuery {
					r.query.Del(p.Name)
				} else {
					r.header.Del(p.Name)
				}
			})
		}
		if p.In == openapi3.ParameterInQuery && !p.AllowEmptyValue {
			g.add(where+" empty", status, code, field, func(r *request) { r.query.Set(p.Name, "") })
		}
		for _, bad := range g.badValues(where, p.Schema.Value, baseValue, false) {
			v := fmt.Sprint(bad.value)
			st, cd, fd := status, code, field
			if p.In == openapi3.ParameterInPath && v == "" {
				// An empty segment is another path, which names no
				// operation.
				st, cd, fd = 404, apierror.CodeRouteNotFound, ""
			}
			g.add(where+" "+bad.keyword, st, cd, fd, func(r *request) { set(r, v) })
		}
	}
}

// operationRules: rules every operation follows that its text states:
// query parameters it does not declare are refused, so are repeated ones,
// and one Idempotency-Key.
func (g *generator) operationRules(b request) {
	g.add("query unknown parameter", 400, codeRule, "unexpected", func(r *request) { r.query.Set("unexpected", "1") })
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range b.query {
			if !yield(k) {
				return
			}
		}
	}) {
		g.add("query "+name+" repeated", 400, codeRule, name, func(r *request) { r.query.Add(name, r.query.Get(name)) })
	}
	if len(b.header.Values(mockserver.IdempotencyKeyHeader)) > 0 {
		g.add("header Idempotency-Key repeated", 400, codeRule, mockserver.IdempotencyKeyHeader,
			func(r *request) { r.header.Add(mockserver.IdempotencyKeyHeader, "another-key") })
	}
}

// body: the content type, the body as a whole, and every constraint of
// every field, nested ones included.
func (g *generator) body(rb *openapi3.RequestBody, b request) {
	if len(rb.Content) != 1 || rb.Content.Get("application/json") == nil {
		g.t.Fatalf("%s: a request body other than application/json: teach the generator", g.op.op.OperationID)
	}
	g.add("content type missing", 415, codeMedia, "", func(r *request) { r.header.Del("Content-Type") })
	g.add("content type text/plain", 415, codeMedia, "", func(r *request) { r.header.Set("Content-Type", "text/plain") })
	g.add("content type form", 415, codeMedia, "", func(r *request) {
		r.header.Set("Content-Type", "application/x-www-form-urlencoded")
	})
	if rb.Required {
		g.add("body required", 400, codeJSON, "", func(r *request) { r.body = nil })
	}
	raw := func(name string, body string) {
		g.add("body "+name, 400, codeJSON, "", func(r *request) { r.body = []byte(body) })
	}
	raw("malformed", `{"email":`)
	raw("an array", `[]`)
	raw("null", `null`)
	raw("a string", `"x"`)
	trimmed := string(bytes.TrimSuffix(bytes.TrimSpace(b.body), []byte("}")))
	first, _, _ := strings.Cut(strings.TrimPrefix(trimmed, "{"), ",")
	raw("duplicate key", trimmed+","+first+"}")
	raw("trailing data", string(b.body)+"{}")
	g.add("body not UTF-8", 400, codeJSON, "", func(r *request) {
		r.body = bytes.Replace(r.body, []byte(`":"`), []byte("\":\"\xff"), 1)
	})

	var base obj
	require.NoError(g.t, json.Unmarshal(b.body, &base))
	schema := rb.Content.Get("application/json").Schema.Value
	g.object("", schema, base)
}

// object generates the violations of one JSON object at path.
func (g *generator) object(path string, s *openapi3.Schema, base obj) {
	s = flatten(s)
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	edit := func(r *request, f func(o obj)) {
		var body obj
		require.NoError(g.t, json.Unmarshal(r.body, &body))
		f(at(body, path))
		b, err := json.Marshal(body)
		require.NoError(g.t, err)
		r.body = b
	}
	for _, name := range s.Required {
		g.add("body "+join(name)+" required", 400, codeRule, join(name), func(r *request) {
			edit(r, func(o obj) { delete(o, name) })
		})
	}
	if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has {
		g.add("body "+join("*")+" unknown field", 400, codeJSON, "", func(r *request) {
			edit(r, func(o obj) { o["unexpectedField"] = true })
		})
		if len(base) > 0 {
			key := slices.Sorted(func(yield func(string) bool) {
				for k := range base {
					if !yield(k) {
						return
					}
				}
			})[0]
			g.add("body "+join(key)+" wrong case", 400, codeJSON, "", func(r *request) {
				edit(r, func(o obj) { o[strings.ToUpper(key)] = o[key]; delete(o, key) })
			})
		}
	} else if path == "" || s.AdditionalProperties.Schema != nil {
		g.t.Errorf("%s: object %q is open: the generator checks closed objects only", g.op.op.OperationID, path)
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range s.Properties {
			if !yield(k) {
				return
			}
		}
	}) {
		prop := flatten(s.Properties[name].Value)
		v, ok := base[name]
		if !ok {
			g.t.Errorf("%s: the baseline body lacks %s: add it so that its constraints are exercised", g.op.op.OperationID, join(name))
			continue
		}
		if prop.Type.Is(openapi3.TypeObject) {
			sub, _ := v.(map[string]any)
			g.object(join(name), prop, sub)
		}
		for _, bad := range g.badValues("body "+join(name), prop, v, true) {
			code := codeRule
			if bad.json {
				code = codeJSON
			}
			field := join(name)
			if code == codeJSON {
				field = ""
			}
			g.add("body "+join(name)+" "+bad.keyword, 400, code, field, func(r *request) {
				edit(r, func(o obj) { o[name] = bad.value })
			})
		}
	}
}

// at is the object at a dotted path of o.
func at(o obj, path string) obj {
	if path == "" {
		return o
	}
	for _, k := range strings.Split(path, ".") {
		o = o[k].(map[string]any)
	}
	return o
}

// flatten merges a schema with its allOf members (the document composes
// with allOf only to add a description).
func flatten(s *openapi3.Schema) *openapi3.Schema {
	if len(s.AllOf) == 0 {
		return s
	}
	out := *s
	out.AllOf = nil
	for _, sub := range s.AllOf {
		m := flatten(sub.Value)
		if out.Type == nil || len(out.Type.Slice()) == 0 {
			out.Type = m.Type
		}
		out.Enum = append(out.Enum, m.Enum...)
		out.Required = append(out.Required, m.Required...)
		if out.Pattern == "" {
			out.Pattern = m.Pattern
		}
		if out.Format == "" {
			out.Format = m.Format
		}
		if out.MinLength == 0 {
			out.MinLength = m.MinLength
		}
		if out.MaxLength == nil {
			out.MaxLength = m.MaxLength
		}
		if out.Min == nil {
			out.Min = m.Min
		}
		if out.Max == nil {
			out.Max = m.Max
		}
		if out.Properties == nil {
			out.Properties = m.Properties
		}
		if out.AdditionalProperties.Has == nil {
			out.AdditionalProperties = m.AdditionalProperties
		}
	}
	return &out
}

// bad is a value that breaks one keyword of a schema. json marks a value
// of the wrong JSON type, which the document answers with ft.InvalidJSON.
type bad struct {
	keyword string
	value   any
	json    bool
}

// badValues breaks, one by one, every constraint of a scalar schema,
// starting from a valid value. inBody says the value is JSON (a parameter
// is a string whatever its type).
func (g *generator) badValues(where string, s *openapi3.Schema, valid any, inBody bool) []bad {
	s = flatten(s)
	var out []bad
	fail := func(keyword string) {
		g.t.Errorf("%s %s: %s: the generator cannot break this constraint; teach it", g.op.op.OperationID, where, keyword)
	}
	for _, unsupported := range []struct {
		name string
		set  bool
	}{
		{"oneOf", len(s.OneOf) > 0}, {"anyOf", len(s.AnyOf) > 0}, {"not", s.Not != nil},
		{"items", s.Items != nil}, {"minItems", s.MinItems > 0}, {"maxItems", s.MaxItems != nil},
		{"uniqueItems", s.UniqueItems}, {"multipleOf", s.MultipleOf != nil},
		{"exclusiveMinimum", s.ExclusiveMin.IsSet()}, {"exclusiveMaximum", s.ExclusiveMax.IsSet()},
		{"minProperties", s.MinProps > 0}, {"maxProperties", s.MaxProps != nil},
	} {
		if unsupported.set {
			fail(unsupported.name)
		}
	}
	str, _ := valid.(string)
	switch {
	case s.Type.Is(openapi3.TypeString):
		if inBody {
			out = append(out, bad{"type", 12345, true})
		}
	case s.Type.Is(openapi3.TypeBoolean):
		out = append(out, bad{"type", "true", inBody})
	case s.Type.Is(openapi3.TypeInteger):
		if inBody {
			out = append(out, bad{"type", "1", true})
		} else {
			out = append(out, bad{"type", "one", false})
		}
	case s.Type.Is(openapi3.TypeObject):
		out = append(out, bad{"type", "x", true})
	default:
		fail(fmt.Sprintf("type %v", s.Type))
	}
	if inBody && !s.Nullable {
		out = append(out, bad{"null", nil, true})
	}
	if len(s.Enum) > 0 {
		switch v := valid.(type) {
		case bool:
			out = append(out, bad{"enum", !v, false})
		case string:
			out = append(out, bad{"enum", "not-a-member", false})
		default:
			fail("enum")
		}
	}
	if s.MinLength > 0 {
		r := []rune(str)
		out = append(out, bad{"minLength", string(r[:s.MinLength-1]), false})
	}
	if s.MaxLength != nil {
		r := []rune(str)
		out = append(out, bad{"maxLength", str + strings.Repeat(string(r[len(r)-1]), int(*s.MaxLength)+1-len(r)), false})
	}
	if s.Min != nil {
		out = append(out, bad{"minimum", strconv.FormatFloat(*s.Min-1, 'f', -1, 64), false})
	}
	if s.Max != nil {
		out = append(out, bad{"maximum", strconv.FormatFloat(*s.Max+1, 'f', -1, 64), false})
	}
	var re *regexp.Regexp
	if s.Pattern != "" {
		re = regexp.MustCompile(s.Pattern)
		found := false
		r := []rune(str)
		// A space inside (header values lose spaces at their ends on the
		// wire), then at the start, then nothing but spaces.
		mid := len(r) / 2
		for _, c := range []string{string(r[:mid]) + " " + string(r[mid+1:]), " " + string(r[1:]), strings.Repeat(" ", len(r)), "!"} {
			if !re.MatchString(c) {
				out = append(out, bad{"pattern", c, false})
				found = true
				break
			}
		}
		if !found {
			fail("pattern")
		}
	}
	switch s.Format {
	case "":
	case "password":
		// An annotation (mask the value), not a constraint.
	case "email":
		// Matches the pattern, and is no RFC 5322 address.
		c := "a..b@example.com"
		require.True(g.t, re == nil || re.MatchString(c))
		require.Error(g.t, emailFormat{}.Validate(c))
		out = append(out, bad{"format", c, false})
	default:
		fail("format " + s.Format)
	}
	return out
}

// checkRefused sends the baseline with v applied and checks the answer.
func (h *harness) checkRefused(t *testing.T, op operation, base func() request, v violation) {
	r := base()
	v.apply(&r)
	req := r.build(t)
	in, err := h.c.validateRequest(req)
	require.Error(t, err, "the document must refuse %s", v.name)

	documented := documentedCodes(op.op, v.status)
	if v.code != apierror.CodeRouteNotFound {
		require.Contains(t, documented, v.code, "%s %d: the document lists %v", op.op.OperationID, v.status, documented)
	}

	before, outbox := h.srv.Snapshot(), len(h.srv.Outbox())
	resp := h.send(h.srv.HTTPClient().Transport, r.method, r.url(), "", nil, func(out *http.Request) {
		out.Header = r.header.Clone()
		if r.body != nil {
			out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(r.body)), int64(len(r.body))
		}
	})
	assert.Equal(t, []any{v.status, v.code}, []any{resp.status, resp.errorCode}, "%s", resp.body)
	if in != nil && in.Route != nil && v.code != apierror.CodeRouteNotFound {
		assert.NoError(t, h.c.validateResponse(in, resp.status, resp.header, resp.body))
	} else {
		var env any
		require.NoError(t, json.Unmarshal(resp.body, &env))
		assert.NoError(t, h.c.doc.Components.Schemas["ErrorEnvelope"].Value.VisitJSON(env))
	}
	if v.code == codeRule {
		var env struct {
			Content struct{ Problems []apierror.Problem }
		}
		require.NoError(t, json.Unmarshal(resp.body, &env))
		var fields []string
		for _, p := range env.Content.Problems {
			fields = append(fields, p.Field)
		}
		assert.True(t, slices.ContainsFunc(fields, func(f string) bool { return f == v.field || strings.HasPrefix(f, v.field+".") }),
			"the problems name %v, not %s", fields, v.field)
	}
	assert.Equal(t, before, h.srv.Snapshot(), "a refused request changes nothing")
	assert.Equal(t, outbox, len(h.srv.Outbox()), "a refused request sends no email")
}

// sendChecked sends r through the recorder, which validates request and
// response.
func (h *harness) sendChecked(t *testing.T, r request) rawResponse {
	t.Helper()
	resp := h.send(h.rec, r.method, r.url(), "", nil, func(out *http.Request) {
		out.Header = r.header.Clone()
		if r.body != nil {
			out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(r.body)), int64(len(r.body))
		}
	})
	if p := h.rec.Problems(); len(p) > 0 {
		t.Errorf("contract violations:\n%s", strings.Join(p, "\n"))
	}
	return resp
}

// documentedCodes lists the error codes an operation documents for a
// status: the errorCode values its response's schema allows, that is the
// intersection of every errorCode enum its allOf branches state (the
// envelope's, every code of the API, and the response's own).
func documentedCodes(op *openapi3.Operation, status int) []string {
	resp := op.Responses.Status(status)
	if resp == nil {
		resp = op.Responses.Value(strconv.Itoa(status/100) + "XX")
	}
	if resp == nil || resp.Value == nil {
		return nil
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil {
		return nil
	}
	var codes []string
	first := true
	var walk func(s *openapi3.Schema)
	walk = func(s *openapi3.Schema) {
		if p := s.Properties["errorCode"]; p != nil && len(p.Value.Enum) > 0 {
			var these []string
			for _, v := range p.Value.Enum {
				if c, _ := v.(string); c != "" && (first || slices.Contains(codes, c)) {
					these = append(these, c)
				}
			}
			codes, first = these, false
		}
		for _, sub := range s.AllOf {
			walk(sub.Value)
		}
	}
	walk(mt.Schema.Value)
	return codes
}

// baselines are, per operation, a valid request that succeeds on the
// harness's state. Each call builds it afresh (a new proof of ownership,
// which is good for one call).
func newBaselines(t *testing.T, h *harness) map[string]func() request {
	demo := mockserver.DemoHuaweiAccountID
	for _, inst := range []string{"tw-inst-gen-register", "tw-inst-gen-bind"} {
		_, err := h.srv.AddPurchase(mockserver.Purchase{AccountID: demo, InstanceID: inst})
		require.NoError(t, err)
	}
	owner, err := h.srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "gen_owner", Email: "owner@example.com"})
	require.NoError(t, err)
	_, err = h.srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "gen_binder", Email: "binder@example.com"})
	require.NoError(t, err)
	console, err := h.srv.SeedAccount(mockserver.AccountSeed{Site: site.ZA1, Username: "gen_console", Email: "console@example.com"})
	require.NoError(t, err)
	ws, err := h.srv.SeedWorkspace(mockserver.WorkspaceSeed{OwnerAccountID: console.ID, Name: "Seeded", BillingAccountID: owner.ID})
	require.NoError(t, err)
	token, err := h.srv.SeedBinding(owner.ID, demo, mockserver.DemoInstanceID)
	require.NoError(t, err)
	code := func(email string, p billing.Purpose) string { return h.code(email, p).Reveal() }
	regCode := code("reg@example.com", billing.PurposeRegister)
	bindCode := code("binder@example.com", billing.PurposeBindBillingAccount)
	createCode := code("console@example.com", billing.PurposeCreateWorkspace)
	newbieCode := code("newbie@example.com", billing.PurposeCreateWorkspace)

	bc, za1 := h.srv.BillingURL(), h.srv.SiteEndpoints()
	siteURL, err := za1.URL(site.ZA1, site.ConsoleAPI)
	require.NoError(t, err)
	aud, sk := h.srv.Audience(), mockserver.DemoSecretKey
	mk := func(method, server, path string, body obj, hdr ...string) func() request {
		return func() request {
			r := request{method: method, server: server, path: path, params: map[string]string{}, query: url.Values{}, header: http.Header{}}
			if body != nil {
				b, err := json.Marshal(body)
				require.NoError(t, err)
				r.body = b
				r.header.Set("Content-Type", "application/json;charset=UTF-8")
			}
			for i := 0; i+1 < len(hdr); i += 2 {
				switch v := hdr[i+1]; v {
				case "<proof>":
					r.header.Set(hdr[i], h.proof(aud, sk, 0, ""))
				default:
					r.header.Set(hdr[i], v)
				}
			}
			return r
		}
	}
	bearer := "Bearer " + token.Reveal()
	with := func(f func() request, edit func(*request)) func() request {
		return func() request { r := f(); edit(&r); return r }
	}
	return map[string]func() request{
		"sendVerificationCode": mk(http.MethodPost, bc, "/api/v1/verification_code/send",
			obj{"email": "sender@example.com", "purpose": "register"}, "Idempotency-Key", "gen-send"),
		"getSubscription": with(mk(http.MethodGet, bc, "/api/v1/subscription/get", nil, proof.Header, "<proof>"), func(r *request) {
			r.query.Set("huaweiAccountId", demo)
			r.query.Set("instanceId", mockserver.DemoInstanceID)
		}),
		"register": mk(http.MethodPost, bc, "/api/v1/account/register", obj{
			"site": "za1", "username": "gen_register", "password": "Analytical-Engine-1843", "email": "reg@example.com",
			"emailCode": regCode, "mobile": "+27115550100",
			"company":       obj{"name": "Generated Ltd", "industry": "software", "size": "10", "country": "ZA", "website": "https://generated.example"},
			"workspaceName": "Generated", "workspaceLanguage": "en", "huaweiAccountId": demo,
			"instanceId": "tw-inst-gen-register", "termsAccepted": true,
		}, proof.Header, "<proof>", "Idempotency-Key", "gen-register"),
		"bindBillingAccount": mk(http.MethodPost, bc, "/api/v1/billing_account/bind", obj{
			"username": "gen_binder", "email": "binder@example.com", "emailCode": bindCode,
			"huaweiAccountId": demo, "instanceId": "tw-inst-gen-bind",
		}, proof.Header, "<proof>", "Idempotency-Key", "gen-bind"),
		"listWorkspaces": with(mk(http.MethodGet, bc, "/api/v1/billing_account/workspace/list", nil, "Authorization", bearer), func(r *request) {
			r.query.Set("pageIndex", "1")
			r.query.Set("pageSize", "20")
			r.query.Set("site", "za1")
		}),
		"bindWorkspace": mk(http.MethodPost, bc, "/api/v1/billing_account/workspace/bind", obj{"workspaceUUID": ws.ID},
			"Authorization", bearer, "Idempotency-Key", "gen-bind-workspace"),
		"getBinding": mk(http.MethodGet, bc, "/api/v1/billing_account/binding/get", nil, "Authorization", bearer),
		"createWorkspace": mk(http.MethodPost, siteURL, "/api/v1/workspace/create", obj{
			"name": "Generated", "language": "en", "site": "za1", "email": "console@example.com",
			"emailCode": createCode, "termsAccepted": true,
		}, "Authorization", bearer, "Idempotency-Key", "gen-create"),
		"registerAndCreateWorkspace": mk(http.MethodPost, siteURL, "/api/v1/workspace/register_and_create", obj{
			"name": "Generated", "language": "zh", "site": "za1", "username": "gen_newbie", "password": "Cobol-1959!",
			"passwordConfirm": "Cobol-1959!", "email": "newbie@example.com", "emailCode": newbieCode,
			"mobile": "+27115550101", "termsAccepted": true,
		}, "Authorization", bearer, "Idempotency-Key", "gen-register-and-create"),
		"getWorkspace": with(mk(http.MethodGet, siteURL, "/api/v1/workspace/{uuid}/get", nil, "Authorization", bearer), func(r *request) {
			r.params["uuid"] = ws.ID
		}),
	}
}

// emailFormat is what the document's format email means: one RFC 5322
// address (an addr-spec, no display name), as net/mail parses it.
type emailFormat struct{}

func (emailFormat) Validate(v string) error {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || !utf8.ValidString(v) {
		return fmt.Errorf("not one RFC 5322 address without a display name")
	}
	return nil
}

// TestTokenRoutesAfterRelease: a token whose binding is gone gets 401
// ft.Unauthorized on every operation the document secures with the
// billing token, reads included, and changes nothing: after its
// subscription is released, and after the released subscription is back
// in use and bound to another Billing Center account.
func TestTokenRoutesAfterRelease(t *testing.T) {
	for _, rebound := range []bool{false, true} {
		t.Run(map[bool]string{false: "released", true: "bound to another account"}[rebound], func(t *testing.T) {
			h := newHarness(t, retry.Disabled(), mockserver.WithTokenTTL(30*24*time.Hour))
			bases := newBaselines(t, h)
			// The binding goes when the release's grace period ends.
			_, err := h.srv.ReleasePurchase(context.Background(), mockserver.DemoInstanceID)
			require.NoError(t, err)
			_, err = h.srv.AdvanceClock(context.Background(), mockserver.DefaultGracePeriod)
			require.NoError(t, err)
			if rebound {
				require.NoError(t, h.srv.SetPurchaseStatus(mockserver.DemoInstanceID, mockserver.PurchaseInUse))
				other, err := h.srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "gen_other", Email: "other@example.com"})
				require.NoError(t, err)
				_, err = h.srv.SeedBinding(other.ID, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
				require.NoError(t, err)
			}
			n := 0
			for _, op := range documentedOperations(h.c.doc) {
				if op.op.Security == nil || !slices.ContainsFunc(*op.op.Security, func(r openapi3.SecurityRequirement) bool {
					_, ok := r["billingToken"]
					return ok
				}) {
					continue
				}
				n++
				t.Run(op.op.OperationID, func(t *testing.T) {
					require.Contains(t, documentedCodes(op.op, 401), apierror.CodeUnauthorized)
					before, outbox := h.srv.Snapshot(), len(h.srv.Outbox())
					resp := h.sendChecked(t, bases[op.op.OperationID]())
					assert.Equal(t, []any{401, apierror.CodeUnauthorized}, []any{resp.status, resp.errorCode}, "%s", resp.body)
					assert.Equal(t, before, h.srv.Snapshot())
					assert.Equal(t, outbox, len(h.srv.Outbox()))
				})
			}
			assert.Equal(t, 6, n, "the document's token operations")
		})
	}
}
