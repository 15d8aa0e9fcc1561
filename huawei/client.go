package huawei

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
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

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/retry"
)

// Service names reported in apierror.Error.Service and retry events.
const (
	ServiceIAM = "huawei-iam"
	ServiceSTS = "huawei-sts"
	ServiceBSS = "huawei-bss"
)

const userAgent = "truewatch-marketplace-go"

// Client calls Huawei Cloud IAM, STS and BSS through the official SDK. It
// is safe for concurrent use. Build it with NewClient.
type Client struct {
	cfg      config
	policy   retry.Policy
	log      *slog.Logger
	base     http.RoundTripper
	iamEP    string
	stsEP    string
	bssEP    string
	products []string

	mu      sync.Mutex
	account *Account // set by the first successful AccountID
}

// NewClient builds a Client. It validates the options and resolves
// endpoints but makes no network call. Credentials are required: leaving
// both AK and SK empty is an error, never a silent fallback to the ECS
// metadata service.
func NewClient(opts ...Option) (*Client, error) {
	cfg := config{region: DefaultRegion, timeout: DefaultTimeout, productIDs: []string{TrueWatchProductID}}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.ak == "" || cfg.sk == "" {
		return nil, errors.New("huawei: credentials are required: use WithCredentials or WithCredentialsFromEnv")
	}
	if cfg.chineseMainland && !cfg.regionSet {
		cfg.region = DefaultChineseMainlandRegion
	}
	c := &Client{cfg: cfg, policy: cfg.policy.Normalize(), log: cfg.logger, base: cfg.transport, products: cfg.productIDs}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.base == nil {
		c.base = http.DefaultTransport.(*http.Transport).Clone()
	}
	var err error
	if c.iamEP, err = pick(cfg.iamEndpoint, cfg.endpoint, func() (string, error) {
		r, err := iamregion.SafeValueOf(cfg.region)
		return firstEndpoint(r, err)
	}); err != nil {
		return nil, fmt.Errorf("huawei: no IAM endpoint for region %s (use WithIAMEndpoint): %w", cfg.region, err)
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
		return nil, fmt.Errorf("huawei: no BSS endpoint (use WithBSSEndpoint): %w", err)
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
	// cred returns the credentials for one attempt; global credentials
	// carry the domain ID for BSS.
	cred func() (auth.ICredential, error)
}

func (c *Client) iamService() service {
	return service{name: ServiceIAM, endpoint: c.iamEP, builder: iam.IamClientBuilder, cred: c.globalCred("")}
}

func (c *Client) stsService() service {
	return service{name: ServiceSTS, endpoint: c.stsEP, builder: sts.StsClientBuilder, cred: func() (auth.ICredential, error) {
		b := basic.NewCredentialsBuilder().WithAk(c.cfg.ak).WithSk(c.cfg.sk.Reveal())
		if c.cfg.token != "" {
			b = b.WithSecurityToken(c.cfg.token.Reveal())
		}
		return b.SafeBuild()
	}}
}

func (c *Client) bssService(domainID string) service {
	b := bssintl.BssintlClientBuilder
	if c.cfg.chineseMainland {
		b = bss.BssClientBuilder
	}
	return service{name: ServiceBSS, endpoint: c.bssEP, builder: b, cred: c.globalCred(domainID)}
}

func (c *Client) globalCred(domainID string) func() (auth.ICredential, error) {
	return func() (auth.ICredential, error) {
		b := global.NewCredentialsBuilder().WithAk(c.cfg.ak).WithSk(c.cfg.sk.Reveal())
		if c.cfg.token != "" {
			b = b.WithSecurityToken(c.cfg.token.Reveal())
		}
		if domainID != "" {
			b = b.WithDomainId(domainID)
		}
		return b.SafeBuild()
	}
}

// attemptTransport binds one attempt's context to the SDK's requests (the
// SDK takes no context) and remembers the response's Retry-After.
type attemptTransport struct {
	ctx        context.Context
	base       http.RoundTripper
	retryAfter time.Duration
}

func (t *attemptTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r.WithContext(t.ctx))
	if err == nil {
		t.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	}
	return resp, err
}

func parseRetryAfter(v string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// invoke runs one SDK call with the client's retry policy: each attempt
// gets a fresh SDK client bound to a per-attempt context (the SDK builds
// clients without I/O when given endpoints), failures are classified, and
// waits go through retry.Policy so they honour ctx and test sleepers.
func invoke[T any](ctx context.Context, c *Client, svc service, op string, call func(*core.HcHttpClient) (T, error)) (T, error) {
	var zero T
	if ctx == nil {
		return zero, &apierror.Error{Service: svc.name, Operation: op, Err: errors.New("nil context")}
	}
	if svc.endpoint == "" {
		return zero, &apierror.Error{Service: svc.name, Operation: op,
			Err: fmt.Errorf("no %s endpoint known for region %s", svc.name, c.cfg.region)}
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return zero, &apierror.Error{Service: svc.name, Operation: op, Attempts: attempt - 1, Err: err}
		}
		res, rt, err := runAttempt(ctx, c, svc, call)
		if err == nil {
			c.log.LogAttrs(ctx, slog.LevelDebug, "huawei call", slog.String("service", svc.name),
				slog.String("op", op), slog.Int("attempts", attempt))
			return res, nil
		}
		reason, retryable := classify(ctx, err)
		if !retryable || attempt > c.policy.MaxRetries {
			c.log.LogAttrs(ctx, slog.LevelWarn, "huawei call failed", slog.String("service", svc.name),
				slog.String("op", op), slog.Int("attempts", attempt), slog.String("reason", reason))
			return zero, wrapErr(ctx, svc.name, op, attempt, err)
		}
		wait := c.policy.Backoff(attempt, rt)
		c.policy.Notify(ctx, retry.Event{Service: svc.name, Operation: op, Attempt: attempt, Reason: reason, Wait: wait})
		c.log.LogAttrs(ctx, slog.LevelInfo, "retrying", slog.String("service", svc.name), slog.String("op", op),
			slog.Int("attempt", attempt), slog.String("reason", reason), slog.Duration("wait", wait))
		if werr := c.policy.Wait(ctx, wait); werr != nil {
			return zero, &apierror.Error{Service: svc.name, Operation: op, Attempts: attempt, Err: werr}
		}
	}
}

// errSDKPanic marks a panic inside the SDK, turned into an error.
var errSDKPanic = errors.New("huawei SDK panicked")

// runAttempt makes one HTTP attempt under its own timeout.
func runAttempt[T any](ctx context.Context, c *Client, svc service, call func(*core.HcHttpClient) (T, error)) (res T, retryAfter time.Duration, err error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.timeout)
	defer cancel()
	rt := &attemptTransport{ctx: actx, base: c.base}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v", errSDKPanic, v)
		}
	}()
	cred, err := svc.cred()
	if err != nil {
		return res, 0, err
	}
	hc, err := svc.builder().
		WithEndpoints([]string{svc.endpoint}).
		WithCredential(cred).
		WithHttpConfig(sdkconfig.DefaultHttpConfig().WithTimeout(0).WithUserAgent(userAgent).WithHttpRoundTripper(rt)).
		SafeBuild()
	if err != nil {
		return res, 0, err
	}
	res, err = call(hc)
	return res, rt.retryAfter, err
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
