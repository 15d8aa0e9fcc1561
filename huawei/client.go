package huawei

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	sdkconfig "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	bssregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/region"
	bssintl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2"
	bssintlregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2/region"
	iam "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iamregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/region"
	sts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sts/v1"
	stsregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sts/v1/region"

	marketplace "github.com/truewatch-labs/marketplace-go"
	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
)

// Service names reported in apierror.Error.Service and retry events.
const (
	ServiceIAM = "huawei-iam"
	ServiceSTS = "huawei-sts"
	ServiceBSS = "huawei-bss"
)

// userAgent is appended to the SDK's own User-Agent.
const userAgent = marketplace.UserAgent

// Client calls Huawei Cloud IAM, STS and BSS through the official SDK. It
// is safe for concurrent use. Build it with NewClient.
type Client struct {
	cfg      config
	log      *slog.Logger
	iamRetry *httpcore.Retrier
	stsRetry *httpcore.Retrier
	bssRetry *httpcore.Retrier
	iamEP    string
	stsEP    string
	bssEP    string
	products []string

	mu      sync.Mutex
	account *Account                    // set by the first successful AccountID
	creds   map[string]auth.ICredential // by kind and domain ID, see credential
}

// NewClient builds a Client. It validates the options (listing every bad
// one in an *apierror.OptionError, matching apierror.ErrValidation) and resolves
// endpoints but makes no network call. Credentials are required: leaving
// both AK and SK empty is an error, never a silent fallback to the ECS
// metadata service.
func NewClient(opts ...Option) (*Client, error) {
	const constructor = "huawei.NewClient"
	cfg := config{region: DefaultRegion, timeout: DefaultTimeout, productIDs: []string{TrueWatchProductID}, now: time.Now}
	p := httpcore.ApplyOptions(&cfg, opts)
	if cfg.ak == "" || cfg.sk == "" {
		if !slices.ContainsFunc(p, func(pr apierror.Problem) bool { return strings.HasPrefix(pr.Field, "WithCredentials") }) {
			p.Add("", "credentials are required: use WithCredentials or WithCredentialsFromEnv")
		}
	}
	if cfg.chineseMainland && !cfg.regionSet {
		cfg.region = DefaultChineseMainlandRegion
	}
	c := &Client{cfg: cfg, log: cfg.logger, products: cfg.productIDs}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	base := cfg.transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	// Each attempt is bounded by the timeout; redirects are not followed,
	// as the SDK's own client does not follow them.
	hc := &http.Client{Transport: base, Timeout: cfg.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	rules := httpcore.Rules{InternalServerErrors: true}
	c.iamRetry = httpcore.NewRetrier(ServiceIAM, hc, cfg.policy, c.log, rules, cfg.telemetry)
	c.stsRetry = httpcore.NewRetrier(ServiceSTS, hc, cfg.policy, c.log, rules, cfg.telemetry)
	c.bssRetry = httpcore.NewRetrier(ServiceBSS, hc, cfg.policy, c.log, rules, cfg.telemetry)
	var err error
	if c.iamEP, err = pick(cfg.iamEndpoint, cfg.endpoint, func() (string, error) {
		r, err := iamregion.SafeValueOf(cfg.region)
		return firstEndpoint(r, err)
	}); err != nil {
		p.Add("WithRegion", "no IAM endpoint for region %s (use WithIAMEndpoint): %v", cfg.region, err)
	}
	// STS is only needed when IAM lists no domain; a missing endpoint is
	// reported then.
	c.stsEP, _ = pick(cfg.stsEndpoint, cfg.endpoint, func() (string, error) {
		r, err := stsregion.SafeValueOf(cfg.region)
		return firstEndpoint(r, err)
	})
	if c.bssEP, err = pick(cfg.bssEndpoint, cfg.endpoint, func() (string, error) {
		if cfg.chineseMainland {
			return firstEndpoint(bssregion.CN_NORTH_1, nil)
		}
		if r, err := bssintlregion.SafeValueOf(cfg.region); err == nil {
			return firstEndpoint(r, nil)
		}
		return firstEndpoint(bssintlregion.AP_SOUTHEAST_1, nil)
	}); err != nil {
		p.Add("WithBSSEndpoint", "no BSS endpoint: %v", err)
	}
	if err := httpcore.OptionErr(constructor, p); err != nil {
		return nil, err
	}
	return c, nil
}

func pick(specific, shared string, resolve func() (string, error)) (string, error) {
	if specific != "" {
		return specific, nil
	}
	if shared != "" {
		return shared, nil
	}
	return resolve()
}

func firstEndpoint(r *region.Region, err error) (string, error) {
	if err != nil {
		return "", err
	}
	if r == nil || len(r.Endpoints) == 0 {
		return "", errors.New("no endpoint")
	}
	return r.Endpoints[0], nil
}

// service describes how to build an SDK client for one API family.
type service struct {
	name     string
	endpoint string
	builder  func() *core.HcHttpClientBuilder
	// cred returns the credentials for one call; global credentials carry
	// the domain ID for BSS.
	cred    func() (auth.ICredential, error)
	retrier *httpcore.Retrier
}

func (c *Client) iamService() service {
	return service{name: ServiceIAM, endpoint: c.iamEP, builder: iam.IamClientBuilder, retrier: c.iamRetry,
		cred: func() (auth.ICredential, error) { return c.credential("iam", "") }}
}

func (c *Client) stsService() service {
	return service{name: ServiceSTS, endpoint: c.stsEP, builder: sts.StsClientBuilder, retrier: c.stsRetry,
		cred: func() (auth.ICredential, error) { return c.credential("sts", "") }}
}

func (c *Client) bssService(domainID string) service {
	b := bssintl.BssintlClientBuilder
	if c.cfg.chineseMainland {
		b = bss.BssClientBuilder
	}
	return service{name: ServiceBSS, endpoint: c.bssEP, builder: b, retrier: c.bssRetry,
		cred: func() (auth.ICredential, error) { return c.credential("bss", domainID) }}
}

// credential returns the SDK credentials for kind ("iam" and "bss": global,
// with domainID when set; "sts": basic), built once per Client and domain
// ID. Built with endpoints and neither an IdP nor a region, the SDK's
// credentials are only read when signing, so calls may share them.
func (c *Client) credential(kind, domainID string) (auth.ICredential, error) {
	key := kind + "|" + domainID
	c.mu.Lock()
	defer c.mu.Unlock()
	if cred, ok := c.creds[key]; ok {
		return cred, nil
	}
	var cred auth.ICredential
	var err error
	if kind == "sts" {
		b := basic.NewCredentialsBuilder().WithAk(c.cfg.ak).WithSk(c.cfg.sk.Reveal())
		if c.cfg.token != "" {
			b = b.WithSecurityToken(c.cfg.token.Reveal())
		}
		cred, err = b.SafeBuild()
	} else {
		b := global.NewCredentialsBuilder().WithAk(c.cfg.ak).WithSk(c.cfg.sk.Reveal())
		if c.cfg.token != "" {
			b = b.WithSecurityToken(c.cfg.token.Reveal())
		}
		if domainID != "" {
			b = b.WithDomainId(domainID)
		}
		cred, err = b.SafeBuild()
	}
	if err != nil {
		return nil, err
	}
	if c.creds == nil {
		c.creds = make(map[string]auth.ICredential)
	}
	c.creds[key] = cred
	return cred, nil
}

// How retries and signatures meet. The SDK signs each request once, before
// it reaches the transport (X-Sdk-Date, SDK-HMAC-SHA256), and the retries
// happen in the transport (httpcore.Retrier.Transport), so every attempt
// re-sends the request exactly as signed. Huawei's gateway accepts a
// signature within 15 minutes of its X-Sdk-Date; no retry starts later than
// RetrySignatureWindow after signing, which leaves 5 minutes for the
// clocks' skew, and a call refused then returns its last failure. (Signing
// each attempt again would need the SDK's signer on an *http.Request, which
// the SDK does not expose.) Every call this package makes is a query,
// including BSS's POST .../resources/query, so every call is marked
// repeatable; a call that changes state must not be.

// RetrySignatureWindow is how long after a request was signed a retry of it
// may start.
const RetrySignatureWindow = 10 * time.Minute

// signatureExpiry is when retries of a signed request must stop (zero for a
// request without X-Sdk-Date).
func signatureExpiry(r *http.Request) time.Time {
	t, err := time.Parse("20060102T150405Z", r.Header.Get("X-Sdk-Date"))
	if err != nil {
		return time.Time{}
	}
	return t.Add(RetrySignatureWindow)
}

// invoke runs one SDK call: an SDK client bound to this call's transport
// (the SDK takes no context, so the transport carries ctx) sends the
// request with the client's retry policy, shared with the TrueWatch
// clients, and SDK failures become *apierror.Error.
func invoke[T any](ctx context.Context, c *Client, svc service, op string, call func(*core.HcHttpClient) (T, error)) (T, error) {
	var zero T
	if ctx == nil {
		var p apierror.Problems
		p.Add("ctx", "must not be nil")
		return zero, p.Err(op)
	}
	if svc.endpoint == "" {
		return zero, &apierror.Error{Service: svc.name, Operation: op,
			Message: fmt.Sprintf("no %s endpoint known for region %s", svc.name, c.cfg.region)}
	}
	if err := ctx.Err(); err != nil {
		return zero, &apierror.Error{Service: svc.name, Operation: op, Err: err}
	}
	tr := svc.retrier.Transport(ctx, op, httpcore.TransportOptions{Repeatable: true, RetryUntil: signatureExpiry})
	res, err := runCall(c, svc, tr, call)
	attempts := max(tr.Attempts(), 1)
	if err != nil {
		err = wrapErr(ctx, svc.name, op, attempts, tr.RetryAfter(), err)
		c.log.LogAttrs(ctx, slog.LevelWarn, "huawei call failed", slog.String("service", svc.name),
			slog.String("op", op), slog.Int("attempts", attempts), slog.String("error", err.Error()))
		return zero, err
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "huawei call", slog.String("service", svc.name),
		slog.String("op", op), slog.Int("attempts", attempts))
	return res, nil
}

// errSDKPanic marks a panic inside the SDK, turned into an error.
var errSDKPanic = errors.New("huawei SDK panicked")

// runCall builds the SDK client for one call on tr and makes the call.
func runCall[T any](c *Client, svc service, tr http.RoundTripper, call func(*core.HcHttpClient) (T, error)) (res T, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v", errSDKPanic, v)
		}
	}()
	cred, err := svc.cred()
	if err != nil {
		return res, err
	}
	hc, err := svc.builder().
		WithEndpoints([]string{svc.endpoint}).
		WithCredential(cred).
		WithHttpConfig(sdkconfig.DefaultHttpConfig().WithTimeout(0).WithUserAgent(userAgent).WithHttpRoundTripper(tr)).
		SafeBuild()
	if err != nil {
		return res, err
	}
	return call(hc)
}

// String describes the client without its credentials' secrets, so that
// printing a Client (%v, %+v) never reveals the secret key or token.
func (c *Client) String() string {
	if c == nil {
		return "huawei.Client(nil)"
	}
	site := "international"
	if c.cfg.chineseMainland {
		site = "chinese-mainland"
	}
	return fmt.Sprintf("huawei.Client{ak: %s, region: %s, bss: %s}", c.cfg.ak, c.cfg.region, site)
}

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }
