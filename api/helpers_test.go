package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/api"
	"github.com/truewatch-labs/marketplace-go/internal/ctlcontract"
	"github.com/truewatch-labs/marketplace-go/internal/exchlog"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// contract is the OpenAPI document loaded and routed for one base URL laid
// out as the mock server lays it out: the Billing Center at
// {base}/billing-center and each site at {base}/sites/{site}/console-api.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

var bearerToken = regexp.MustCompile(`^Bearer bctk_[0-9a-f]{32}$`)

// loadDoc parses and validates the embedded document.
func loadDoc(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.Spec())
	require.NoError(t, err, "parse api/openapi.yaml")
	require.NoError(t, doc.Validate(context.Background()), "validate api/openapi.yaml")
	return doc
}

// loadContract loads the document and points its servers at base with the
// mock's layout, so that the router finds operations on mock URLs.
func loadContract(t testing.TB, base string) *contract {
	t.Helper()
	doc := loadDoc(t)
	doc.Servers = openapi3.Servers{{URL: base + routes.MockBillingPrefix}}
	siteServer := &openapi3.Server{
		URL: base + routes.MockSitesPrefix + "{site}/console-api",
		Variables: map[string]*openapi3.ServerVariable{
			"site": {Default: "us1", Enum: []string{"us1", "eu1", "ap1", "za1", "id1"}},
		},
	}
	for _, item := range doc.Paths.Map() {
		if len(item.Servers) > 0 {
			item.Servers = openapi3.Servers{siteServer}
		}
	}
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	return &contract{doc: doc, router: router}
}

// options are the validation options of the contract: every status must be
// documented, every problem is reported, and the bearer token must have the
// documented shape.
func (c *contract) options() *openapi3filter.Options {
	o := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if in.SecuritySchemeName == "huaweiOwnershipProof" {
				v := in.RequestValidationInput.Request.Header.Get(proof.Header)
				if v == "" {
					return errors.New("no ownership proof")
				}
				if _, err := proof.Decode(v); err != nil {
					return fmt.Errorf("ownership proof: %w", err)
				}
				return nil
			}
			if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" || in.SecurityScheme.Scheme != "bearer" {
				return fmt.Errorf("unexpected security scheme %q", in.SecuritySchemeName)
			}
			if !bearerToken.MatchString(in.RequestValidationInput.Request.Header.Get("Authorization")) {
				return errors.New("Authorization is not \"Bearer bctk_<32 hex>\"")
			}
			return nil
		},
	}
	// The document's formats, as it defines them (kin-openapi checks none
	// of these by default).
	o.SchemaValidationOptions = []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("email", emailFormat{}),
		openapi3.WithStringFormatValidator("uri", uriFormat{}),
	}
	// One line per problem, with where it is, instead of the whole schema.
	o.WithCustomSchemaErrorFunc(ctlcontract.SchemaErrorLine)
	return o
}

// validateRequest finds the request's operation and validates the request
// against it. The request body is read and restored.
func (c *contract) validateRequest(req *http.Request) (*openapi3filter.RequestValidationInput, error) {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: no operation: %w", req.Method, req.URL.Path, err)
	}
	if site, ok := params["site"]; ok && !slices.Contains([]string{"us1", "eu1", "ap1", "za1", "id1"}, site) {
		return nil, fmt.Errorf("%s %s: unknown site %q", req.Method, req.URL.Path, site)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: c.options()}
	if err := ctlcontract.ValidateRouted(in); err != nil {
		return in, err
	}
	if err := closedRequest(req, slices.Concat(route.PathItem.Parameters, route.Operation.Parameters)); err != nil {
		return in, fmt.Errorf("%s %s: request: %w", req.Method, req.URL.Path, err)
	}
	return in, nil
}

// closedRequest checks the rules of the document that its schemas cannot
// state and kin-openapi does not check: an operation refuses query
// parameters it does not declare, and any given more than once; the
// Idempotency-Key and the proof of ownership are given once; a JSON body
// is UTF-8, one value, and gives no key twice.
func closedRequest(req *http.Request, params openapi3.Parameters) error {
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("malformed query: %w", err)
	}
	for name, vals := range q {
		if p := params.GetByInAndName(openapi3.ParameterInQuery, name); p == nil {
			return fmt.Errorf("unknown query parameter %q", name)
		}
		if len(vals) > 1 {
			return fmt.Errorf("query parameter %q given %d times", name, len(vals))
		}
	}
	for _, name := range []string{"Idempotency-Key", proof.Header} {
		if n := len(req.Header.Values(name)); n > 1 {
			return fmt.Errorf("header %s given %d times", name, n)
		}
	}
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	body, err := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil || len(body) == 0 {
		return err
	}
	return strictJSON(body)
}

// strictJSON refuses what encoding/json (and so kin-openapi) lets through
// in a JSON body: bytes that are not UTF-8, a key given twice in an
// object, and data after the value.
func strictJSON(body []byte) error {
	if !utf8.Valid(body) {
		return errors.New("the body is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var value func() error
	value = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				if seen[k.(string)] {
					return fmt.Errorf("key %q given twice", k)
				}
				seen[k.(string)] = true
				if err := value(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := value(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	if err := value(); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// uriFormat is what the document's format uri means: an absolute http or
// https URL.
type uriFormat struct{}

func (uriFormat) Validate(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("not an absolute http(s) URL")
	}
	return nil
}

// validateResponse validates a response to a routed request, and checks
// what a schema cannot: the envelope's code equals the HTTP status.
func (c *contract) validateResponse(in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                c.options(),
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s %s: response %d: %w", in.Request.Method, in.Request.URL.Path, status, err)
	}
	var env struct {
		Code int `json:"code"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s %s: response %d: %w", in.Request.Method, in.Request.URL.Path, status, err)
	}
	if env.Code != status {
		return fmt.Errorf("%s %s: envelope code %d != HTTP status %d", in.Request.Method, in.Request.URL.Path, env.Code, status)
	}
	return nil
}

// exchange is one request and response seen by the recorder.
type exchange struct {
	Operation string // operationId, "" when the request matched none
	Method    string
	Path      string
	Status    int
	ErrorCode string
	Replayed  bool
}

// recorder is an http.RoundTripper that validates every request and every
// response passing through it against the contract, and records which
// operations, statuses and error codes were exercised.
type recorder struct {
	c    *contract
	next http.RoundTripper
	exchlog.Log[exchange]
}

func newRecorder(c *contract, next http.RoundTripper) *recorder {
	return &recorder{c: c, next: next}
}

// RoundTrip validates the request, sends it, and validates the response.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	in, reqErr := r.c.validateRequest(req)
	resp, body, ok, err := r.Send(r.next, req, reqErr)
	if !ok {
		return resp, err
	}
	ex := exchange{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode,
		Replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
	var env struct {
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal(body, &env)
	ex.ErrorCode = env.ErrorCode
	if in != nil && in.Route != nil && in.Route.Operation != nil {
		ex.Operation = in.Route.Operation.OperationID
	}
	switch {
	case reqErr != nil:
		r.Fail(reqErr)
	default:
		r.Fail(r.c.validateResponse(in, resp.StatusCode, resp.Header, body))
	}
	r.Add(ex)
	return resp, nil
}

// Exchanges returns every exchange seen so far.
func (r *recorder) Exchanges() []exchange { return r.Entries() }

// operationIDs lists every operationId of the document, sorted.
func operationIDs(doc *openapi3.T) []string {
	var ids []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ids = append(ids, op.OperationID)
		}
	}
	slices.Sort(ids)
	return ids
}

// summary renders exchanges for failure messages.
func summary(exs []exchange) string {
	var b strings.Builder
	for _, e := range exs {
		fmt.Fprintf(&b, "%s %s %s -> %d %s\n", e.Operation, e.Method, e.Path, e.Status, e.ErrorCode)
	}
	return b.String()
}
