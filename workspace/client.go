package workspace

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/internal/twcore"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// serviceName names this API in errors and retry events.
const serviceName = "workspace"

// constructor names NewClient in option errors.
const constructor = "workspace.NewClient"

// Client calls the workspace API of every site. It is safe for concurrent
// use.
type Client struct {
	endpoints site.Endpoints
	sites     map[site.Code]*httpcore.Client
}

// Option configures a Client: the options of package twapi, which both
// TrueWatch clients share (re-exported below), and WithEndpoints. Options
// report bad values through NewClient, which lists every bad option in one
// *apierror.OptionError.
type Option = twapi.Option

// RequestOption configures one call: WithIdempotencyKey and WithCallInfo,
// shared with the billing client (twapi).
type RequestOption = twapi.RequestOption

// options are the client's own settings.
type options struct {
	endpoints site.Endpoints
}

// WithEndpoints sets where each site's console API is (default: the public
// hosts, https://{site}-console-api.truewatch.com).
func WithEndpoints(e site.Endpoints) Option {
	return twcore.Own(constructor, "WithEndpoints", func(o *options) error {
		o.endpoints = e
		return nil
	})
}

// WithHTTPClient is twapi.WithHTTPClient: the HTTP client used for every
// attempt. Retries are done by this package, so the client should not retry
// on its own.
func WithHTTPClient(hc *http.Client) Option { return twapi.WithHTTPClient(hc) }

// WithLogger is twapi.WithLogger: requests are logged at debug level,
// retries at info, failures at warn; secrets are never logged. The default
// discards.
func WithLogger(l *slog.Logger) Option { return twapi.WithLogger(l) }

// WithRetryPolicy is twapi.WithRetryPolicy (default retry.Default()).
func WithRetryPolicy(p retry.Policy) Option { return twapi.WithRetryPolicy(p) }

// WithUserAgent is twapi.WithUserAgent: ua is appended to the User-Agent of
// every request.
func WithUserAgent(ua string) Option { return twapi.WithUserAgent(ua) }

// WithIdempotencyKey is twapi.WithIdempotencyKey: key is sent as the call's
// Idempotency-Key instead of a generated one, so that a call repeated later
// (for example after a crash) is recognised by the server and not done
// twice. An empty key makes the call fail with a validation error before
// anything is sent.
func WithIdempotencyKey(key string) RequestOption { return twapi.WithIdempotencyKey(key) }

// WithCallInfo is twapi.WithCallInfo: *info is filled when the call
// returns, whether it succeeded or failed.
func WithCallInfo(info *twapi.CallInfo) RequestOption { return twapi.WithCallInfo(info) }

// NewClient builds a Client with one HTTP core per site. It makes no
// network call. Bad options are reported together in an
// *apierror.OptionError (matching apierror.ErrValidation).
func NewClient(opts ...Option) (*Client, error) {
	var o options
	s, p := twcore.Apply(constructor, serviceName, &o, opts)
	c := &Client{endpoints: o.endpoints, sites: make(map[site.Code]*httpcore.Client)}
	for _, code := range site.Codes() {
		u, err := o.endpoints.URL(code, site.ConsoleAPI)
		if err != nil {
			p.Add("WithEndpoints", "%v", err)
			continue
		}
		cfg := s.HTTP
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

// send applies the per-call options and, unless invalid is set, sends req
// to the console API of the site code and decodes one T.
func send[T any](ctx context.Context, c *Client, code site.Code, req httpcore.Request, invalid error, opts []RequestOption) (*T, error) {
	core := c.sites[code]
	if core == nil {
		// Validation normally refuses an unknown site first; whichever way
		// we got here, invalid is set and any core refuses without sending.
		if invalid == nil {
			var p apierror.Problems
			rules.Site(&p, "site", code)
			invalid = p.Err(req.Operation)
		}
		core = c.sites[site.Codes()[0]]
	}
	out := new(T)
	if _, err := twcore.NewCall(nil, opts).Send(ctx, core, req, invalid, out); err != nil {
		return nil, err
	}
	return out, nil
}
