package billing

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/retry"
)

// serviceName names this API in errors and retry events.
const serviceName = "billing"

// PageInfo is the paging block of a list response.
type PageInfo = httpcore.PageInfo

// CallInfo describes how a call went: final HTTP status, trace and request
// IDs, the Idempotency-Key sent, attempts, and whether the server replayed a
// stored response. Ask for it with WithCallInfo.
type CallInfo = httpcore.CallInfo

// Client calls the Billing Center API. It is safe for concurrent use.
type Client struct {
	core     *httpcore.Client
	prover   OwnershipProver
	audience string
}

// options collects what the Options set before NewClient builds the client.
type options struct {
	core     httpcore.Config
	prover   OwnershipProver
	audience string
}

// Option configures a Client. Options report bad values through NewClient,
// which lists every bad option in one *apierror.OptionError.
type Option func(*options) error

// WithBaseURL sets the Billing Center base URL (absolute http or https,
// without the /api/v1 prefix and without credentials). It is required:
// there is no default.
func WithBaseURL(u string) Option {
	return func(o *options) error {
		if strings.TrimSpace(u) == "" {
			return httpcore.BadOption("WithBaseURL", "must not be empty")
		}
		o.core.BaseURL = u
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

// NewClient builds a Client. WithBaseURL is required. It makes no network
// call. Bad options are reported together in an *apierror.OptionError
// (matching apierror.ErrValidation).
func NewClient(opts ...Option) (*Client, error) {
	o := options{core: httpcore.Config{Service: serviceName}}
	p := httpcore.ApplyOptions(&o, opts)
	if len(p) > 0 {
		return nil, httpcore.OptionErr("billing.NewClient", p)
	}
	if o.core.BaseURL == "" {
		p.Add("WithBaseURL", "is required: the Billing Center has no default URL")
		return nil, httpcore.OptionErr("billing.NewClient", p)
	}
	core, err := httpcore.New(o.core)
	if err != nil {
		p = append(p, httpcore.AsProblem("WithBaseURL", err))
		return nil, httpcore.OptionErr("billing.NewClient", p)
	}
	c := &Client{core: core, prover: o.prover, audience: o.audience}
	if c.audience == "" {
		if c.audience, err = proof.Audience(core.BaseURL()); err != nil {
			return nil, httpcore.OptionErr("billing.NewClient", apierror.Problems{httpcore.AsProblem("WithBaseURL", err)})
		}
	}
	return c, nil
}

// BaseURL returns the Billing Center base URL the client sends to.
func (c *Client) BaseURL() string { return c.core.BaseURL() }

// requestOptions holds the per-call options: the plumbing shared with the
// workspace client, and the call's ownership prover.
type requestOptions struct {
	httpcore.CallOptions
	prover    OwnershipProver
	proverSet bool
}

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

// call applies the per-call options, attaches the ownership proof the call
// needs and sends req unless invalid is set.
func (c *Client) call(ctx context.Context, req httpcore.Request, need proofNeed, invalid error, out any, opts []RequestOption) (*PageInfo, error) {
	var o requestOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	invalid = c.attachProof(&req, need, &o, invalid)
	return c.core.Call(ctx, req, out, invalid, o.CallOptions)
}

// send is call for calls that return one T.
func send[T any](ctx context.Context, c *Client, req httpcore.Request, need proofNeed, invalid error, opts []RequestOption) (*T, error) {
	out := new(T)
	if _, err := c.call(ctx, req, need, invalid, out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// post validates req and sends its wire form as the JSON body of a POST to
// path.
func post[Out, In any, P httpcore.Validator[In]](ctx context.Context, c *Client, op, path string, need proofNeed, req P, opts []RequestOption) (*Out, error) {
	invalid := httpcore.Check(op, nil, req)
	hr := httpcore.Request{Operation: op, Method: http.MethodPost, Path: path}
	if invalid == nil {
		hr.Body = wireBody(req)
	}
	return send[Out](ctx, c, hr, need, invalid, opts)
}
