package httpcore

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// MaxIdempotencyKeyLen bounds a caller-supplied Idempotency-Key.
const MaxIdempotencyKeyLen = 255

// CallOptions holds the per-call options that every client exposes through
// its own RequestOption type (WithIdempotencyKey, WithCallInfo). Clients
// alias it as their unexported requestOptions so that the plumbing lives
// here once.
type CallOptions struct {
	idempotencyKey string
	keySet         bool
	info           *CallInfo
}

// SetIdempotencyKey records the caller's Idempotency-Key. An empty or
// malformed key is refused when the call is made, before anything is sent.
func (o *CallOptions) SetIdempotencyKey(key string) {
	o.idempotencyKey, o.keySet = key, true
}

// SetCallInfo records where Call stores the CallInfo of the call.
func (o *CallOptions) SetCallInfo(info *CallInfo) { o.info = info }

// Call checks the caller's validation result and options, sends req with Do
// and stores the CallInfo where the options asked, on success and failure
// alike (a call refused before sending leaves a zero CallInfo).
//
// invalid is the validation error the client found in the caller's input
// (nil when the input is fine); when set, nothing is sent.
func (c *Client) Call(ctx context.Context, req Request, out any, invalid error, o CallOptions) (*PageInfo, error) {
	var info CallInfo
	defer func() {
		if o.info != nil {
			*o.info = info
		}
	}()
	if invalid == nil && o.keySet {
		var p apierror.Problems
		IdempotencyKey(&p, o.idempotencyKey)
		invalid = p.Err(req.Operation)
	}
	if invalid != nil {
		return nil, invalid
	}
	if o.keySet {
		req.IdempotencyKey = o.idempotencyKey
	}
	page, info, err := c.Do(ctx, req, out)
	return page, err
}

// Validator is a request type with a Validate method, as in billing and
// workspace.
type Validator[T any] interface {
	*T
	Validate() error
}

// Check validates a request for operation op. It starts from the problems
// the caller already found (for example a missing token), reports a nil
// request instead of calling its Validate method, and returns a single
// *apierror.ValidationError naming op, or nil.
func Check[T any, P Validator[T]](op string, p apierror.Problems, req P) error {
	if req == nil {
		p.Add("", "request must not be nil")
		return p.Err(op)
	}
	if err := req.Validate(); err != nil {
		var ve *apierror.ValidationError
		if !errors.As(err, &ve) {
			return err
		}
		p = append(p, ve.Problems...)
	}
	return p.Err(op)
}

// Token records a problem when a Bearer token is missing or could not be
// sent in a header. The message never contains the token.
func Token(p *apierror.Problems, field string, tok secret.String) {
	v := tok.Reveal()
	switch {
	case strings.TrimSpace(v) == "":
		p.Add(field, "is required")
	case !isHeaderToken(v):
		p.Add(field, "must not contain spaces or control characters")
	}
}

// IdempotencyKey records a problem when a caller-supplied Idempotency-Key
// is empty, too long, or not printable ASCII without spaces.
func IdempotencyKey(p *apierror.Problems, key string) {
	switch {
	case key == "":
		p.Add("idempotencyKey", "must not be empty")
	case len(key) > MaxIdempotencyKeyLen:
		p.Add("idempotencyKey", "must be at most %d characters", MaxIdempotencyKeyLen)
	case !isHeaderToken(key):
		p.Add("idempotencyKey", "must be printable ASCII without spaces")
	}
}

// isHeaderToken reports whether v is printable ASCII without spaces, safe
// to send as a header value.
func isHeaderToken(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

// SetHTTPClient sets the HTTP client after checking it; the clients' own
// WithHTTPClient options call it.
func (cfg *Config) SetHTTPClient(hc *http.Client) error {
	if hc == nil {
		return BadOption("WithHTTPClient", "must not be nil")
	}
	cfg.HTTPClient = hc
	return nil
}

// SetLogger sets the logger after checking it (WithLogger).
func (cfg *Config) SetLogger(l *slog.Logger) error {
	if l == nil {
		return BadOption("WithLogger", "must not be nil")
	}
	cfg.Logger = l
	return nil
}

// SetRetryPolicy sets the retry policy after checking it (WithRetryPolicy).
func (cfg *Config) SetRetryPolicy(p retry.Policy) error {
	if p.WaitMin < 0 || p.WaitMax < 0 || p.RetryAfterMax < 0 {
		return BadOption("WithRetryPolicy", "durations must not be negative")
	}
	cfg.Retry = p
	return nil
}

// SetUserAgent sets the User-Agent suffix after checking it (WithUserAgent).
func (cfg *Config) SetUserAgent(ua string) error {
	for i := 0; i < len(ua); i++ {
		if ua[i] < ' ' || ua[i] > '~' {
			return BadOption("WithUserAgent", "must be printable ASCII")
		}
	}
	cfg.UserAgent = strings.TrimSpace(ua)
	return nil
}

// SetTracerProvider sets the tracer provider after checking it
// (WithTracerProvider).
func (cfg *Config) SetTracerProvider(tp trace.TracerProvider) error {
	if tp == nil {
		return BadOption("WithTracerProvider", "must not be nil")
	}
	cfg.Telemetry.Tracer = tp
	return nil
}

// SetMeterProvider sets the meter provider after checking it
// (WithMeterProvider).
func (cfg *Config) SetMeterProvider(mp metric.MeterProvider) error {
	if mp == nil {
		return BadOption("WithMeterProvider", "must not be nil")
	}
	cfg.Telemetry.Meter = mp
	return nil
}
