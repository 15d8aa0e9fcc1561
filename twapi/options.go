package twapi

import (
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/twcore"
	"github.com/truewatch-labs/marketplace-go/retry"
)

// Option configures a billing or workspace client. Options report bad
// values through NewClient, which lists every bad option in one
// *apierror.OptionError. The options here apply to both clients; each
// client adds its own (billing.WithBaseURL, workspace.WithEndpoints).
type Option func(*twcore.Settings) error

// RequestOption configures one call of a billing or workspace client.
type RequestOption func(*twcore.Call)

// WithHTTPClient sets the HTTP client used for every attempt. Retries are
// done by the client, so hc should not retry on its own.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *twcore.Settings) error { return s.HTTP.SetHTTPClient(hc) }
}

// WithLogger sets the logger. Requests are logged at debug level, retries at
// info, failures at warn; secrets are never logged. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(s *twcore.Settings) error { return s.HTTP.SetLogger(l) }
}

// WithRetryPolicy sets the retry policy (default retry.Default()).
func WithRetryPolicy(p retry.Policy) Option {
	return func(s *twcore.Settings) error { return s.HTTP.SetRetryPolicy(p) }
}

// WithUserAgent appends ua to the User-Agent of every request.
func WithUserAgent(ua string) Option {
	return func(s *twcore.Settings) error { return s.HTTP.SetUserAgent(ua) }
}

// WithIdempotencyKey sends key as the call's Idempotency-Key instead of a
// generated one, so that a call repeated later (for example after a crash)
// is recognised by the server and not done twice. An empty key makes the
// call fail with a validation error before anything is sent.
func WithIdempotencyKey(key string) RequestOption {
	return func(c *twcore.Call) { c.SetIdempotencyKey(key) }
}

// WithCallInfo asks for the call's CallInfo: *info is filled when the call
// returns, whether it succeeded or failed.
func WithCallInfo(info *CallInfo) RequestOption {
	return func(c *twcore.Call) { c.SetCallInfo((*httpcore.CallInfo)(info)) }
}

// WithTracerProvider traces every HTTP attempt: a CLIENT span each, the
// first and every retry, following OpenTelemetry's HTTP semantic
// conventions (http.request.method, url.full without query values,
// server.address, http.response.status_code, error.type, and this
// module's marketplace.operation, marketplace.error.code and
// marketplace.request_id), as a child of the span in the call's context,
// and sends the W3C trace context (traceparent) with it. No span carries a
// token, password, code or idempotency key. Default: the global provider,
// a no-op until the application sets one.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(s *twcore.Settings) error { return s.HTTP.SetTracerProvider(tp) }
}

// WithMeterProvider records http.client.request.duration (seconds) for
// every HTTP attempt and counts retries by reason
// (marketplace.client.retries). Default: the global provider, a no-op
// until the application sets one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(s *twcore.Settings) error { return s.HTTP.SetMeterProvider(mp) }
}
