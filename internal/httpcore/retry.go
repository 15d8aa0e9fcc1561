package httpcore

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/retry"
)

// Retrier makes the attempts of the calls to one API family under a
// retry.Policy, with go-retryablehttp used as it is designed:
//
//   - CheckRetry decides: which failures are transient (classify), whether
//     the request may be sent again (a POST only with an Idempotency-Key,
//     or after an answer proving the server did nothing), and whether the
//     policy has attempts left.
//   - Backoff computes the wait: the policy's capped, jittered exponential
//     backoff, or the server's Retry-After (delta-seconds or an HTTP date)
//     capped at the policy's RetryAfterMax. It also reports the retry to the
//     policy's and the context's observers, with its reason and wait.
//   - go-retryablehttp drains and closes the failed answer's body before
//     the wait, and waits on a timer that stops when the context is done.
//     A policy with its own Sleep (tests) gets the wait instead: Backoff
//     hands go-retryablehttp 0, and PrepareRetry, which runs next, sleeps
//     through Policy.Sleep with the call's context.
//   - PrepareRetry also runs the call's per-attempt hook, so that every
//     attempt can carry fresh headers (see Request.PrepareAttempt).
//   - retryablehttp.PassthroughErrorHandler hands back the last answer, so
//     the caller decodes the service's own error.
//
// Each call gets its own retryablehttp.Client whose hooks close over the
// call's state (attempts made, why the last one failed): no state is shared
// between concurrent calls, and none travels in the context.
//
// Client uses a Retrier for the TrueWatch APIs; the huawei package uses one
// through Transport, since the Huawei SDK builds its requests itself.
type Retrier struct {
	service string
	hc      *http.Client
	once    *http.Client // hc sending one request: no redirect, no cookie jar (see trace.go)
	policy  retry.Policy // normalized
	log     *slog.Logger
	rules   Rules
	tel     clientTelemetry
}

// Rules are what differs between API families in which failures are
// transient; everything else (429, rate-limit codes, connection errors,
// Retry-After) is shared.
type Rules struct {
	// InternalServerErrors retries HTTP 500 and every other 5xx except 501,
	// not only 502, 503 and 504. Huawei's gateways answer transient
	// failures with 500; a TrueWatch 500 is a fault that a retry repeats.
	InternalServerErrors bool
}

// NewRetrier returns a Retrier that makes each attempt with hc, waits and
// retries per p (zero fields take retry.Default()'s values), logs retries
// to log (nil: discard), and traces and measures every attempt with tel
// (see trace.go). service names the API in events, logs and telemetry.
func NewRetrier(service string, hc *http.Client, p retry.Policy, log *slog.Logger, rules Rules, tel telemetry.Providers) *Retrier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Retrier{service: service, hc: hc, once: onceClient(hc), policy: p.Normalize(), log: log, rules: rules,
		tel: newClientTelemetry(tel)}
}

// attempts is the retry state of one call. Its methods are the hooks of the
// call's retryablehttp.Client.
type attempts struct {
	rc         retryablehttp.Client
	r          *Retrier
	ctx        context.Context // for the observers and an injected Sleep; Backoff gets no context
	op         string
	repeatable bool      // sending the request twice is harmless
	until      time.Time // no retry may start after it; zero: no limit
	prepare    func(*http.Request) error
	n          int           // attempts made
	why        verdict       // of the last attempt
	wait       time.Duration // the wait Backoff computed, when Policy.Sleep waits
}

func (r *Retrier) newAttempts(ctx context.Context, op string, repeatable bool) *attempts {
	a := &attempts{r: r, ctx: ctx, op: op, repeatable: repeatable}
	a.rc = retryablehttp.Client{
		HTTPClient:   r.attemptClient(a),
		RetryMax:     r.policy.MaxRetries,
		CheckRetry:   a.checkRetry,
		Backoff:      a.backoff,
		PrepareRetry: a.prepareRetry,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return a
}

// checkRetry is the call's retryablehttp.CheckPolicy. It runs once per
// attempt, so it also counts them.
func (a *attempts) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	a.n++
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	a.why = classify(resp, err, a.r.rules)
	switch {
	case !a.why.retryable:
		return false, nil
	case !a.repeatable && a.why.mayHaveActed:
		// A POST without an Idempotency-Key is sent again only when the
		// answer proves the server did not act on it (rate limited).
		return false, nil
	case a.n > a.r.policy.MaxRetries:
		// go-retryablehttp would stop here too (RetryMax), but through its
		// error path, which closes the HTTP client's idle connections.
		return false, nil
	case !a.until.IsZero() && time.Now().Add(a.longestWait()).After(a.until):
		return false, nil
	}
	return true, nil
}

// longestWait bounds the wait Backoff will compute for the next retry
// (jitter only shortens it).
func (a *attempts) longestWait() time.Duration {
	p := a.r.policy
	p.NoJitter = true
	return p.Backoff(a.n, a.why.retryAfter)
}

// backoff is the call's retryablehttp.Backoff. go-retryablehttp calls it
// after closing the failed answer's body and before waiting. attemptNum
// counts from 0, so the attempt that failed is attemptNum+1.
func (a *attempts) backoff(_, _ time.Duration, attemptNum int, _ *http.Response) time.Duration {
	p := a.r.policy
	wait := p.Backoff(attemptNum+1, a.why.retryAfter)
	a.r.tel.retried(a.ctx, a.r.service, a.op, a.why.class)
	p.Notify(a.ctx, retry.Event{Service: a.r.service, Operation: a.op, Attempt: attemptNum + 1, Reason: a.why.reason, Wait: wait})
	a.r.log.LogAttrs(a.ctx, slog.LevelInfo, "retrying", slog.String("service", a.r.service),
		slog.String("op", a.op), slog.Int("attempt", attemptNum+1), slog.String("reason", a.why.reason),
		slog.Duration("wait", wait))
	if p.Sleep != nil {
		a.wait = wait
		return 0
	}
	return wait
}

// prepareRetry is the call's retryablehttp.PrepareRetry: it runs after the
// wait, before the next attempt.
func (a *attempts) prepareRetry(req *http.Request) error {
	if a.r.policy.Sleep != nil {
		if err := a.r.policy.Sleep(a.ctx, a.wait); err != nil {
			return err
		}
	}
	if a.prepare != nil {
		return a.prepare(req)
	}
	return nil
}

// verdict is what classify says about one attempt.
type verdict struct {
	reason       string        // why it failed, for events and logs
	class        string        // why it failed, in a word, for metrics: rate_limited, server_error, ...
	retryAfter   time.Duration // the server's Retry-After, when it gave one
	retryable    bool          // a later attempt may succeed
	mayHaveActed bool          // the server may have acted on the request
}

// classify says why an attempt failed and whether another may succeed.
func classify(resp *http.Response, err error, rules Rules) verdict {
	if err != nil {
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) && ue.Err != nil {
			cause = ue.Err
		}
		// go-retryablehttp's own judgement: too many redirects, a bad scheme
		// or header, an untrusted certificate will fail again.
		if ok, _ := retryablehttp.DefaultRetryPolicy(context.Background(), nil, err); !ok || isCertError(err) {
			return verdict{reason: cause.Error(), mayHaveActed: true}
		}
		return verdict{reason: "connection error: " + cause.Error(), class: "connection_error", retryable: true, mayHaveActed: true}
	}
	if resp == nil {
		return verdict{mayHaveActed: true}
	}
	status := resp.StatusCode
	switch status {
	case http.StatusTooManyRequests, http.StatusUnauthorized, http.StatusConflict:
		code := peekErrorCode(resp)
		v := verdict{retryAfter: parseRetryAfter(resp.Header.Get("Retry-After")), class: "rate_limited", retryable: true}
		switch {
		case code == apierror.CodeAkRateLimited || code == apierror.CodeWorkspaceRateLimited || code == apierror.CodeHuaweiThrottled:
			v.reason = "rate limited (" + code + ")"
		case status == http.StatusTooManyRequests && code != apierror.CodeCodeResendTooSoon:
			v.reason = "rate limited (HTTP 429)"
		case status == http.StatusConflict && code == apierror.CodeIdempotencyKeyInFlight:
			// The first request with this key is still running, so this
			// attempt did nothing; a later one gets the first answer replayed.
			v.reason, v.class = "idempotency key in flight ("+code+")", "idempotency_key_in_flight"
		default:
			// A refused code resend, bad credentials, a real conflict.
			return verdict{mayHaveActed: true}
		}
		return v
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		if !rules.InternalServerErrors || status < 500 || status == http.StatusNotImplemented {
			return verdict{mayHaveActed: true}
		}
	}
	return verdict{reason: "HTTP " + strconv.Itoa(status), class: "server_error",
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After")), retryable: true, mayHaveActed: true}
}

// isCertError catches certificate failures go-retryablehttp's policy does
// not see (it looks at the outermost cause only).
func isCertError(err error) bool {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &cv)
}

// peekErrorCode reads the error code of a TrueWatch envelope (errorCode) or
// a Huawei error (error_code) from the first 64 KiB of the body, and puts
// those bytes back in front of the rest, so that the body can still be read
// in full.
func peekErrorCode(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(raw), resp.Body), resp.Body}
	var env struct {
		ErrorCode string `json:"errorCode"`
		Huawei    string `json:"error_code"`
	}
	_ = json.Unmarshal(raw, &env)
	if env.ErrorCode != "" {
		return env.ErrorCode
	}
	return env.Huawei
}

// parseRetryAfter reads a Retry-After header: delta-seconds or an HTTP date
// (RFC 9110 section 10.2.3). Anything else, or a date in the past, is 0.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if strings.Trim(v, "0123456789") == "" {
		// Seconds too many for a Duration mean "a very long time": the
		// longest Duration, which the policy then caps.
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil || s > int64(math.MaxInt64/time.Second) {
			return math.MaxInt64
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// TransportOptions describe the requests of one call made through
// Retrier.Transport.
type TransportOptions struct {
	// Repeatable marks the requests as safe to send twice whatever their
	// method: read-only queries, such as Huawei BSS's POST
	// .../resources/query. Without it a POST is sent again only after an
	// answer proving the server did nothing (rate limited).
	Repeatable bool
	// RetryUntil, when set, gives for a request the time after which no
	// retry of it may start, for a request whose signature expires.
	RetryUntil func(*http.Request) time.Time
}

// Transport returns an http.RoundTripper for one call made by an SDK that
// builds and signs its requests itself and takes no context (the Huawei
// SDK): each request it is given is sent with ctx and the Retrier's
// retries, as a Client call is, and the last answer is handed back to the
// SDK to decode. op names the call in events and logs. A Transport serves
// one call at a time.
func (r *Retrier) Transport(ctx context.Context, op string, o TransportOptions) *Transport {
	return &Transport{r: r, ctx: ctx, op: op, o: o}
}

// Transport is the http.RoundTripper Retrier.Transport returns.
type Transport struct {
	r          *Retrier
	ctx        context.Context // the call's: the SDK's requests carry none
	op         string
	o          TransportOptions
	attempts   int
	retryAfter time.Duration
}

// RoundTrip sends req with retries, like retryablehttp.RoundTripper, but
// under the call's context.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	a := t.r.newAttempts(t.ctx, t.op, t.o.Repeatable || req.Method != http.MethodPost)
	if t.o.RetryUntil != nil {
		a.until = t.o.RetryUntil(req)
	}
	rr, err := retryablehttp.FromRequest(req.WithContext(t.ctx))
	if err != nil {
		return nil, err
	}
	resp, err := a.rc.Do(rr)
	t.attempts = a.n
	if err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		// The SDK's http.Client wraps the error in a *url.Error again.
		var ue *url.Error
		if errors.As(err, &ue) && ue.Err != nil {
			err = ue.Err
		}
		return nil, err
	}
	t.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	return resp, nil
}

// Attempts reports how many attempts the last request took.
func (t *Transport) Attempts() int { return t.attempts }

// RetryAfter reports the Retry-After of the last answer, 0 without one.
func (t *Transport) RetryAfter() time.Duration { return t.retryAfter }
