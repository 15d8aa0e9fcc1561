package billing

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/internal/twcore"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// serviceName names this API in errors and retry events.
const serviceName = "billing"

// constructor names NewClient in option errors.
const constructor = "billing.NewClient"

// Client calls the Billing Center API. It is safe for concurrent use.
type Client struct {
	core     *httpcore.Client
	prover   OwnershipProver
	audience string
}

// Option configures a Client: the options of package twapi, which both
// TrueWatch clients share (re-exported below), and this package's
// WithBaseURL, WithOwnershipProver and WithAudience. Options report bad
// values through NewClient, which lists every bad option in one
// *apierror.OptionError.
type Option = twapi.Option

// RequestOption configures one call: WithIdempotencyKey and WithCallInfo,
// shared with the workspace client (twapi), and WithOwnershipProof.
type RequestOption = twapi.RequestOption

// options are the client's own settings.
type options struct {
	baseURL  string
	prover   OwnershipProver
	audience string
}

// own makes an option of this client only.
func own(name string, set func(*options) error) Option { return twcore.Own(constructor, name, set) }

// WithBaseURL sets the Billing Center base URL (absolute http or https,
// without the /api/v1 prefix and without credentials). It is required:
// there is no default.
func WithBaseURL(u string) Option {
	return own("WithBaseURL", func(o *options) error {
		if strings.TrimSpace(u) == "" {
			return httpcore.BadOption("WithBaseURL", "must not be empty")
		}
		o.baseURL = u
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

// NewClient builds a Client. WithBaseURL is required. It makes no network
// call. Bad options are reported together in an *apierror.OptionError
// (matching apierror.ErrValidation).
func NewClient(opts ...Option) (*Client, error) {
	var o options
	s, p := twcore.Apply(constructor, serviceName, &o, opts)
	if len(p) > 0 {
		return nil, httpcore.OptionErr(constructor, p)
	}
	if o.baseURL == "" {
		p.Add("WithBaseURL", "is required: the Billing Center has no default URL")
		return nil, httpcore.OptionErr(constructor, p)
	}
	s.HTTP.BaseURL = o.baseURL
	core, err := httpcore.New(s.HTTP)
	if err != nil {
		p = append(p, httpcore.AsProblem("WithBaseURL", err))
		return nil, httpcore.OptionErr(constructor, p)
	}
	c := &Client{core: core, prover: o.prover, audience: o.audience}
	if c.audience == "" {
		if c.audience, err = proof.Audience(core.BaseURL()); err != nil {
			return nil, httpcore.OptionErr(constructor, apierror.Problems{httpcore.AsProblem("WithBaseURL", err)})
		}
	}
	return c, nil
}

// BaseURL returns the Billing Center base URL the client sends to.
func (c *Client) BaseURL() string { return c.core.BaseURL() }

// callOptions are the client's own per-call settings: the call's ownership
// prover.
type callOptions struct {
	prover    OwnershipProver
	proverSet bool
}

// call applies the per-call options, attaches the ownership proof the call
// needs and sends req unless invalid is set.
func (c *Client) call(ctx context.Context, req httpcore.Request, need proofNeed, invalid error, out any, opts []RequestOption) (*twapi.PageInfo, error) {
	var o callOptions
	call := twcore.NewCall(&o, opts)
	invalid = c.attachProof(&req, need, &o, invalid)
	page, err := call.Send(ctx, c.core, req, invalid, out)
	return (*twapi.PageInfo)(page), err
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
	hr, invalid := twcore.Post(op, path, nil, req, func() any { return wireBody(req) })
	return send[Out](ctx, c, hr, need, invalid, opts)
}
