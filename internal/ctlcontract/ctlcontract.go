// Package ctlcontract loads the control plane's OpenAPI document
// (api/control.openapi.yaml) with kin-openapi and validates traffic
// against it, for the tests of the api and mockclient packages. Only test
// files import it, so kin-openapi enters no build of this module's users.
package ctlcontract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/truewatch-labs/marketplace-go/api"
	"github.com/truewatch-labs/marketplace-go/internal/exchlog"
)

// Load parses and validates the embedded document.
func Load() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.ControlSpec())
	if err != nil {
		return nil, fmt.Errorf("parse api/control.openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate api/control.openapi.yaml: %w", err)
	}
	return doc, nil
}

// Contract is the document routed for one mock's base URL.
type Contract struct {
	Doc    *openapi3.T
	router routers.Router
	token  string
}

// New loads the document with its server set to base (the mock's URL);
// token is the mock's control token, "" for none.
func New(base, token string) (*Contract, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	doc.Servers = openapi3.Servers{{URL: strings.TrimSuffix(base, "/")}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &Contract{Doc: doc, router: router, token: token}, nil
}

func (c *Contract) options() *openapi3filter.Options {
	o := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			h := in.RequestValidationInput.Request.Header
			switch in.SecuritySchemeName {
			case "controlHeader":
				if h.Get("X-Mock-Control") != "1" {
					return errors.New("no X-Mock-Control: 1")
				}
				return nil
			case "controlToken":
				if c.token == "" || h.Get("Authorization") != "Bearer "+c.token {
					return errors.New("no control token")
				}
				return nil
			}
			return fmt.Errorf("unexpected security scheme %q", in.SecuritySchemeName)
		},
	}
	o.WithCustomSchemaErrorFunc(SchemaErrorLine)
	return o
}

// SchemaErrorLine renders a schema error as one line saying where it is,
// instead of kin-openapi's dump of the whole schema.
func SchemaErrorLine(err *openapi3.SchemaError) string {
	for inner := (*openapi3.SchemaError)(nil); errors.As(err.Origin, &inner); {
		err = inner
	}
	return fmt.Sprintf("at /%s: %s (schema %s)", strings.Join(err.JSONPointer(), "/"), err.Reason, err.SchemaField)
}

// ValidateRouted validates a request against its route (in), reading
// its body and putting it back for the request to be sent.
func ValidateRouted(in *openapi3filter.RequestValidationInput) error {
	req := in.Request
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		defer func() { req.Body = io.NopCloser(bytes.NewReader(body)) }()
	}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		return fmt.Errorf("%s %s: request: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// ValidateRequest finds req's operation and validates req against it: its
// parameters, its body, its security, and what the schemas cannot say
// (no query parameter the operation does not declare, none twice). The
// body is read and restored.
func (c *Contract) ValidateRequest(req *http.Request) (*openapi3filter.RequestValidationInput, error) {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: no operation: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: c.options()}
	if err := ValidateRouted(in); err != nil {
		return in, err
	}
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return in, fmt.Errorf("%s %s: malformed query: %w", req.Method, req.URL.Path, err)
	}
	declared := slices.Concat(route.PathItem.Parameters, route.Operation.Parameters)
	for name, vals := range q {
		if declared.GetByInAndName(openapi3.ParameterInQuery, name) == nil {
			return in, fmt.Errorf("%s %s: unknown query parameter %q", req.Method, req.URL.Path, name)
		}
		if len(vals) > 1 {
			return in, fmt.Errorf("%s %s: query parameter %q given %d times", req.Method, req.URL.Path, name, len(vals))
		}
	}
	return in, nil
}

// ValidateResponse validates a response to a routed request.
func (c *Contract) ValidateResponse(in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
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
	return nil
}

// Exchange is one request and its answer as the recorder saw it.
type Exchange struct {
	Operation string // operationId; "" when the request matched none
	Method    string
	Path      string
	Status    int
}

// Recorder is an http.RoundTripper that validates every request and every
// response passing through it against the contract and records the
// operations and statuses exercised. A request the document refuses must
// be refused by the mock too, with a 4xx the operation documents (as when
// a test sends a bad request on purpose); one the document allows must be
// answered as the document says.
type Recorder struct {
	c    *Contract
	next http.RoundTripper
	exchlog.Log[Exchange]
}

// NewRecorder records c's traffic sent through next.
func NewRecorder(c *Contract, next http.RoundTripper) *Recorder {
	return &Recorder{c: c, next: next}
}

// RoundTrip validates the request, sends it, and validates the answer.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	in, reqErr := r.c.ValidateRequest(req)
	resp, body, ok, err := r.Send(r.next, req, reqErr)
	if !ok {
		return resp, err
	}
	ex := Exchange{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode}
	refused := resp.StatusCode >= 400 && resp.StatusCode < 500
	switch {
	case in == nil && (!strings.HasPrefix(req.URL.Path, "/_mock/") ||
		resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed):
		// Not the control plane, or a path the mux does not serve either.
	case in == nil:
		r.Fail(fmt.Errorf("%s %s answered %d but is not in the document: %w", req.Method, req.URL.Path, resp.StatusCode, reqErr))
	case reqErr != nil && !refused:
		r.Fail(fmt.Errorf("the mock answered %d to a request the document refuses: %w", resp.StatusCode, reqErr))
	default:
		ex.Operation = in.Route.Operation.OperationID
		r.Fail(r.c.ValidateResponse(in, resp.StatusCode, resp.Header, body))
	}
	r.Add(ex)
	return resp, nil
}

// Exchanges returns every exchange seen so far.
func (r *Recorder) Exchanges() []Exchange { return r.Entries() }

// Unexercised lists, sorted, every documented operation and status (as
// "operationId status") that no exchange of the recorders exercised.
func Unexercised(doc *openapi3.T, recs ...*Recorder) []string {
	seen := map[string]bool{}
	for _, r := range recs {
		for _, e := range r.Exchanges() {
			seen[fmt.Sprintf("%s %d", e.Operation, e.Status)] = true
		}
	}
	var out []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for code := range op.Responses.Map() {
				if k := op.OperationID + " " + code; !seen[k] {
					out = append(out, k)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// Operation is a documented operation: its method, path and ID.
type Operation struct {
	Method, Path, ID string
	Op               *openapi3.Operation
}

// Operations lists the document's operations, sorted by path and method.
func Operations(doc *openapi3.T) []Operation {
	var out []Operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out = append(out, Operation{Method: method, Path: path, ID: op.OperationID, Op: op})
		}
	}
	slices.SortFunc(out, func(a, b Operation) int {
		return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method)
	})
	return out
}
