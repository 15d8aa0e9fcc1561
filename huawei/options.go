package huawei

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// Environment variables read by WithCredentialsFromEnv. They are the
// official SDK's names.
const (
	EnvAccessKey     = "HUAWEICLOUD_SDK_AK"
	EnvSecretKey     = "HUAWEICLOUD_SDK_SK"
	EnvSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
	EnvDomainID      = "HUAWEICLOUD_SDK_DOMAIN_ID"
)

// Defaults.
const (
	// DefaultRegion is where Huawei Cloud international accounts live.
	DefaultRegion = "ap-southeast-1"
	// DefaultChineseMainlandRegion is the region used with
	// WithChineseMainland when no region is given.
	DefaultChineseMainlandRegion = "cn-north-4"
	// TrueWatchProductID is the KooGallery product ID of the TrueWatch SaaS
	// edition, the default of WithProductIDs.
	TrueWatchProductID = "OFFI845592654693900288"
	// DefaultTimeout bounds each HTTP attempt.
	DefaultTimeout = 30 * time.Second
)

var regionPattern = regexp.MustCompile(`^[a-z]{2,4}(-[a-z0-9]{1,16}){1,3}$`)

// Option configures a Client. Options validate their input; NewClient lists
// every bad option in one *apierror.OptionError.
type Option func(*config) error

type config struct {
	ak              string
	sk, token       secret.String // redacted if a Client is ever printed
	region          string
	regionSet       bool
	domainID        string
	endpoint        string
	iamEndpoint     string
	stsEndpoint     string
	bssEndpoint     string
	chineseMainland bool
	productIDs      []string
	policy          retry.Policy
	transport       http.RoundTripper
	logger          *slog.Logger
	timeout         time.Duration
	instanceID      func(Purchase) string
	now             func() time.Time // OwnershipProof's clock
	telemetry       telemetry.Providers
}

// WithCredentials sets the AK/SK pair. Both are required.
func WithCredentials(ak string, sk secret.String) Option {
	return func(c *config) error {
		if err := checkAK(ak); err != nil {
			return httpcore.BadOption("WithCredentials", "%v", err)
		}
		if sk == "" {
			return httpcore.BadOption("WithCredentials", "secret key is empty")
		}
		c.ak, c.sk = ak, sk
		return nil
	}
}

func checkAK(ak string) error {
	if ak == "" {
		return errors.New("access key is empty")
	}
	if len(ak) > 128 || strings.ContainsFunc(ak, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return errors.New("access key must be printable ASCII without spaces")
	}
	return nil
}

// WithSecurityToken sets the security token of a temporary AK/SK pair
// (sent as X-Security-Token).
func WithSecurityToken(token secret.String) Option {
	return func(c *config) error {
		if token == "" {
			return httpcore.BadOption("WithSecurityToken", "security token is empty")
		}
		c.token = token
		return nil
	}
}

// WithCredentialsFromEnv reads HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and,
// when set, HUAWEICLOUD_SDK_SECURITY_TOKEN and HUAWEICLOUD_SDK_DOMAIN_ID,
// when the option is applied. AK and SK must both be set.
func WithCredentialsFromEnv() Option {
	return func(c *config) error {
		const name = "WithCredentialsFromEnv"
		ak, sk := os.Getenv(EnvAccessKey), os.Getenv(EnvSecretKey)
		if ak == "" || sk == "" {
			return httpcore.BadOption(name, "%s and %s must both be set", EnvAccessKey, EnvSecretKey)
		}
		if err := checkAK(ak); err != nil {
			return httpcore.BadOption(name, "%s: %v", EnvAccessKey, err)
		}
		c.ak, c.sk = ak, secret.String(sk)
		if t := os.Getenv(EnvSecurityToken); t != "" {
			c.token = secret.String(t)
		}
		if d := os.Getenv(EnvDomainID); d != "" {
			if !rules.IsHuaweiAccountID(d) {
				return httpcore.BadOption(name, "%s %q must be 32 lower-case hexadecimal characters", EnvDomainID, d)
			}
			c.domainID = d
		}
		return nil
	}
}

// WithRegion sets the region whose IAM and STS endpoints are used (default
// ap-southeast-1). BSS is a global service and uses its site's endpoint.
func WithRegion(region string) Option {
	return func(c *config) error {
		if !regionPattern.MatchString(region) {
			return httpcore.BadOption("WithRegion", "invalid region %q", region)
		}
		c.region, c.regionSet = region, true
		return nil
	}
}

// WithDomainID gives the account (domain) ID, so BSS calls need no lookup.
func WithDomainID(id string) Option {
	return func(c *config) error {
		if !rules.IsHuaweiAccountID(id) {
			return httpcore.BadOption("WithDomainID", "domain ID %q must be 32 lower-case hexadecimal characters", id)
		}
		c.domainID = id
		return nil
	}
}

// checkEndpoint accepts an http(s) URL without a path: the SDK replaces
// any path with the API's, so a path would be silently ignored.
func checkEndpoint(option, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", httpcore.BadOption(option, "endpoint %q must be an http or https URL", redactedURL(raw))
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", httpcore.BadOption(option, "endpoint %q must have no path, query or user info (the APIs are served at the root)", u.Redacted())
	}
	return u.Scheme + "://" + u.Host, nil
}

// redactedURL hides a password in a URL that may not even parse.
func redactedURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		return "…" + raw[at:]
	}
	return raw
}

func endpointOption(option string, dst func(*config) *string) func(string) Option {
	return func(raw string) Option {
		return func(c *config) error {
			ep, err := checkEndpoint(option, raw)
			if err != nil {
				return err
			}
			*dst(c) = ep
			return nil
		}
	}
}

// WithEndpoint sends every call (IAM, STS, BSS) to one URL, e.g. the mock
// server's HuaweiEndpoint(). Service-specific options win over it.
func WithEndpoint(url string) Option {
	return endpointOption("WithEndpoint", func(c *config) *string { return &c.endpoint })(url)
}

// WithIAMEndpoint overrides the IAM endpoint.
func WithIAMEndpoint(url string) Option {
	return endpointOption("WithIAMEndpoint", func(c *config) *string { return &c.iamEndpoint })(url)
}

// WithSTSEndpoint overrides the STS endpoint (used when IAM lists no
// domain). Unlike HUAWEICLOUD_SDK_STS_ENDPOINT, http:// URLs work.
func WithSTSEndpoint(url string) Option {
	return endpointOption("WithSTSEndpoint", func(c *config) *string { return &c.stsEndpoint })(url)
}

// WithBSSEndpoint overrides the BSS (or BSS international) endpoint.
func WithBSSEndpoint(url string) Option {
	return endpointOption("WithBSSEndpoint", func(c *config) *string { return &c.bssEndpoint })(url)
}

// WithChineseMainland queries BSS for Chinese mainland accounts
// (bss.myhuaweicloud.com) instead of BSS international; an account exists
// on one site only. Without WithRegion the region becomes cn-north-4.
func WithChineseMainland() Option {
	return func(c *config) error { c.chineseMainland = true; return nil }
}

// WithProductIDs sets the KooGallery product IDs that count as TrueWatch
// (default TrueWatchProductID).
func WithProductIDs(ids ...string) Option {
	return func(c *config) error {
		if len(ids) == 0 {
			return httpcore.BadOption("WithProductIDs", "at least one product ID is required")
		}
		for _, id := range ids {
			if !rules.IsInstanceID(id) {
				return httpcore.BadOption("WithProductIDs", "invalid product ID %q", id)
			}
		}
		c.productIDs = append([]string(nil), ids...)
		return nil
	}
}

// WithRetryPolicy sets how calls are retried on throttling, 5xx and
// connection errors (default retry.Default()).
func WithRetryPolicy(p retry.Policy) Option {
	return func(c *config) error {
		if p.WaitMin < 0 || p.WaitMax < 0 || p.RetryAfterMax < 0 {
			return httpcore.BadOption("WithRetryPolicy", "durations must not be negative")
		}
		c.policy = p
		return nil
	}
}

// WithHTTPTransport sets the transport every call uses (proxies, TLS,
// connection pools).
func WithHTTPTransport(t *http.Transport) Option {
	return func(c *config) error {
		if t == nil {
			return httpcore.BadOption("WithHTTPTransport", "must not be nil")
		}
		c.transport = t
		return nil
	}
}

// WithHTTPRoundTripper sets any RoundTripper as the transport, e.g. an
// instrumented one or httpmock's MockTransport in tests.
func WithHTTPRoundTripper(rt http.RoundTripper) Option {
	return func(c *config) error {
		if rt == nil {
			return httpcore.BadOption("WithHTTPRoundTripper", "must not be nil")
		}
		c.transport = rt
		return nil
	}
}

// WithLogger logs calls (debug) and retries (info). Secrets are never
// logged. Nil disables logging (the default).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithTimeout bounds each HTTP attempt (default 30s). The context bounds
// the whole call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return httpcore.BadOption("WithTimeout", "must be positive")
		}
		c.timeout = d
		return nil
	}
}

// WithInstanceIDFunc changes how a purchase's marketplace instance ID is
// derived from what BSS reports. By default it is the BSS resource_id (see
// the package documentation for why that is an assumption).
func WithInstanceIDFunc(fn func(Purchase) string) Option {
	return func(c *config) error {
		if fn == nil {
			return httpcore.BadOption("WithInstanceIDFunc", "must not be nil")
		}
		c.instanceID = fn
		return nil
	}
}

// WithTracerProvider traces every HTTP attempt the SDK makes (a CLIENT span
// each, retries included, under the span in the call's context) and sends
// W3C trace context on it, added after the SDK signed the request, so
// outside the signed headers (Huawei's gateway ignores unsigned headers).
// Default: the global provider, a no-op until the application sets one.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) error {
		if tp == nil {
			return httpcore.BadOption("WithTracerProvider", "must not be nil")
		}
		c.telemetry.Tracer = tp
		return nil
	}
}

// WithMeterProvider records http.client.request.duration for every HTTP
// attempt and counts retries (marketplace.client.retries). Default: the
// global provider, a no-op until the application sets one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) error {
		if mp == nil {
			return httpcore.BadOption("WithMeterProvider", "must not be nil")
		}
		c.telemetry.Meter = mp
		return nil
	}
}
