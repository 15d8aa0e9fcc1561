// Package mockclient is a client for the control plane of the standalone
// mock (cmd/truewatch-mock): the endpoints under /_mock/ that seed state,
// move the clock, script faults and read back the outbox, the request
// journal and the marketplace's deliveries. They are described in
// api/control.openapi.yaml, which the mock serves at
// GET /_mock/control.openapi.yaml; this client's traffic is validated
// against that document in its tests.
//
//	mc, err := mockclient.New("http://127.0.0.1:8080")
//	ba, err := mc.SeedBillingAccount(ctx, mockserver.BillingAccountSeed{Username: "acme", Email: "ops@acme.example"})
//	code, ok, err := mc.LatestCode(ctx, "ops@acme.example", billing.PurposeBindBillingAccount)
//
// A suite sharing the mock with others works in a namespace of its own:
//
//	mine := mc.InNamespace("ci-42") // X-Mock-Namespace: ci-42 on every call
//
// In a Go test in the same process, use the mockserver.Server itself
// (mockserver.Start) instead: its methods are the same without HTTP.
//
// Bodies and answers are mockserver's own exported types (Purchase, Fault,
// HuaweiAccount, Snapshot, ...), not copies: their JSON is the control
// plane's wire format by definition (Fault's durations, Email's code in
// clear, RecordedRequest's latencyMs), so a copy could only drift from it,
// and a Go user of the binary has this module already. The cost is that
// importing mockclient links the mock's package into the test binary.
//
// Every call sends X-Mock-Control: 1 (and the control token, if given), as
// the mock's guard requires, and JSON bodies as application/json. A 4xx
// or 5xx answer is an *Error with the status and the mock's message.
package mockclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/secret"
)

// ControlHeader is the header every control request carries (value "1"):
// mockserver.ControlHeader.
const ControlHeader = "X-Mock-Control"

// maxAnswer bounds an answer read from the mock: the journal and the
// delivery log are bounded, but not small.
const maxAnswer = 256 << 20

// Client calls one mock's control plane. It is safe for concurrent use.
type Client struct {
	base  string // scheme://host[:port][/prefix], without a trailing slash
	hc    *http.Client
	token secret.String
	ns    string // the namespace (InNamespace); "" for the default
}

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient sends the requests through hc (default: a client with a
// 30-second timeout).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("mockclient: nil HTTP client")
		}
		c.hc = hc
		return nil
	}
}

// WithControlToken sends token as "Authorization: Bearer <token>" on every
// request, for a mock started with -control-token. The token is never
// printed: it is a secret.String, and the Client's String hides it.
func WithControlToken(token secret.String) Option {
	return func(c *Client) error {
		t := token.Reveal()
		if t == "" || strings.ContainsAny(t, " \t\r\n") {
			return errors.New("mockclient: the control token must be non-empty and without spaces")
		}
		c.token = token
		return nil
	}
}

// New returns a client of the mock at baseURL, an absolute http or https
// URL such as "http://127.0.0.1:8080" (the binary's banner prints it). It
// makes no request.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("mockclient: the base URL must be an absolute http(s) URL without user, query or fragment, not %q", baseURL)
	}
	c := &Client{base: strings.TrimSuffix(u.String(), "/"), hc: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// String names the mock the client calls (and its namespace), never the
// token.
func (c *Client) String() string {
	if c.ns != "" {
		return "mockclient.Client(" + c.base + ", namespace " + c.ns + ")"
	}
	return "mockclient.Client(" + c.base + ")"
}

// GoString is String, so that %#v does not print the token either (fmt
// prints unexported fields without their methods).
func (c *Client) GoString() string { return c.String() }

// BaseURL returns the mock's URL the client was made with.
func (c *Client) BaseURL() string { return c.base }

// Error is an error answer of the control plane: its HTTP status and the
// mock's message ({"error": "..."}). Use errors.As to read it.
type Error struct {
	// Method and Path are the request's.
	Method, Path string
	// StatusCode is the HTTP status, 400 or more.
	StatusCode int
	// Message is the mock's "error" text (or the start of a body that had
	// none).
	Message string
	// Pointer, on a fault or fault script the mock refused (InjectFault,
	// InjectFaults), is the JSON pointer of what is wrong in what was
	// sent: "/2/probability" for the third fault of a script,
	// "/probability" for a single fault (mockserver.FaultError's Pointer).
	// It is empty for every other error.
	Pointer string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("mockclient: %s %s: %d %s: %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// IsStatus reports whether err is an *Error with the given status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == status
}

// do sends one request: in, when not nil, as its JSON body; the answer, when
// it has the status want, is decoded into out (unless out is nil or a
// *[]byte, which gets the raw body).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any, want int) error {
	if ctx == nil {
		return errors.New("mockclient: nil context")
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("mockclient: %s %s: encode the body: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("mockclient: %s %s: %w", method, path, err)
	}
	req.Header.Set(ControlHeader, "1")
	req.Header.Set("Accept", "application/json")
	if c.ns != "" {
		req.Header.Set(NamespaceHeader, c.ns)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := c.token.Reveal(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("mockclient: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("mockclient: %s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		e := &Error{Method: method, Path: path, StatusCode: resp.StatusCode}
		var msg struct {
			Error   string `json:"error"`
			Pointer string `json:"pointer"`
		}
		if json.Unmarshal(b, &msg) == nil && msg.Error != "" {
			e.Message, e.Pointer = msg.Error, msg.Pointer
		} else {
			e.Message = strings.TrimSpace(string(b[:min(len(b), 512)]))
		}
		return e
	}
	if resp.StatusCode != want {
		return fmt.Errorf("mockclient: %s %s: unexpected status %d (want %d)", method, path, resp.StatusCode, want)
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = b
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("mockclient: %s %s: decode the answer: %w", method, path, err)
	}
	return nil
}

func (c *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	return c.do(ctx, http.MethodGet, path, query, nil, out, http.StatusOK)
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

func itoa(n int) string { return strconv.Itoa(n) }
