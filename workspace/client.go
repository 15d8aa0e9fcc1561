package workspace

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/site"
)

// serviceName names this API in errors and retry events.
const serviceName = "workspace"

// CallInfo describes how a call went: final HTTP status, trace and request
// IDs, the Idempotency-Key sent, attempts, and whether the server replayed a
// stored response. Ask for it with WithCallInfo.
type CallInfo = httpcore.CallInfo

// Client calls the workspace API of every site. It is safe for concurrent
// use.
type Client struct {
	endpoints site.Endpoints
	sites     map[site.Code]*httpcore.Client
}

// options collects what the Options set before NewClient builds the client.
type options struct {
	core      httpcore.Config
	endpoints site.Endpoints
}

// Option configures a Client. Options report bad values through NewClient,
// which lists every bad option in one *apierror.OptionError.
type Option func(*options) error

// WithEndpoints sets where each site's console API is (default: the public
// hosts, https://{site}-console-api.truewatch.com).
func WithEndpoints(e site.Endpoints) Option {
	return func(o *options) error {
		o.endpoints = e
		return nil
	}
}

// WithHTTPClient sets the HTTP client used for every attempt. Retries are
// done by this package, so the client should not retry on its own.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error { return o.core.SetHTTPClient(hc) }
}

// WithLogger sets the logger. Requests are logged at debug level, retries at
// info, failures at warn; secrets are never logged. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return o.core.SetLogger(l) }
}

// WithRetryPolicy sets the retry policy (default retry.Default()).
func WithRetryPolicy(p retry.Policy) Option {
	return func(o *options) error { return o.core.SetRetryPolicy(p) }
}

// WithUserAgent appends ua to the User-Agent of every request.
func WithUserAgent(ua string) Option {
	return func(o *options) error { return o.core.SetUserAgent(ua) }
}

// NewClient builds a Client with one HTTP core per site. It makes no
// network call. Bad options are reported together in an
// *apierror.OptionError (matching apierror.ErrValidation).
func NewClient(opts ...Option) (*Client, error) {
	const constructor = "workspace.NewClient"
	o := options{core: httpcore.Config{Service: serviceName}}
	p := httpcore.ApplyOptions(&o, opts)
	c := &Client{endpoints: o.endpoints, sites: make(map[site.Code]*httpcore.Client)}
	for _, code := range site.Codes() {
		u, err := o.endpoints.URL(code, site.ConsoleAPI)
		if err != nil {
			p.Add("WithEndpoints", "%v", err)
			continue
		}
		cfg := o.core
		cfg.BaseURL = u
		core, err := httpcore.New(cfg)
		if err != nil {
			p.Add("WithEndpoints", "site %s: %v", code, err)
			continue
		}
		c.sites[code] = core
	}
	if err := httpcore.OptionErr(constructor, p); err != nil {
		return nil, err
	}
	return c, nil
}

// Endpoints returns the endpoints the client resolves sites with.
func (c *Client) Endpoints() site.Endpoints { return c.endpoints }

// BaseURL returns the console-API base URL of a site, or an error for an
// unknown site.
func (c *Client) BaseURL(code site.Code) (string, error) {
	core, ok := c.sites[code]
	if !ok {
		return "", &site.UnknownError{Code: code}
	}
	return core.BaseURL(), nil
}

// requestOptions holds the per-call options; the plumbing is shared with the
// billing client.
type requestOptions = httpcore.CallOptions

// RequestOption configures one call.
type RequestOption func(*requestOptions)

// WithIdempotencyKey sends key as the call's Idempotency-Key instead of a
// generated one, so that a call repeated later (for example after a crash)
// is recognised by the server and not done twice. An empty key makes the
// call fail with a validation error before anything is sent.
func WithIdempotencyKey(key string) RequestOption {
	return func(o *requestOptions) { o.SetIdempotencyKey(key) }
}

// WithCallInfo asks for the call's CallInfo: *info is filled when the call
// returns, whether it succeeded or failed.
func WithCallInfo(info *CallInfo) RequestOption {
	return func(o *requestOptions) { o.SetCallInfo(info) }
}

// send applies the per-call options and, unless invalid is set, sends req
// to the console API of the site code and decodes one T.
func send[T any](ctx context.Context, c *Client, code site.Code, req httpcore.Request, invalid error, opts []RequestOption) (*T, error) {
	var o requestOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	core := c.sites[code]
	if core == nil {
		// Validation normally refuses an unknown site first; whichever way
		// we got here, invalid is set and any core refuses without sending.
		if invalid == nil {
			var p apierror.Problems
			ValidateSite(&p, "site", code)
			invalid = p.Err(req.Operation)
		}
		core = c.sites[site.Codes()[0]]
	}
	out := new(T)
	if _, err := core.Call(ctx, req, out, invalid, o); err != nil {
		return nil, err
	}
	return out, nil
}
