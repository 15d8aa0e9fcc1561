package httpcore

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
)

// How the attempts are traced. go-retryablehttp makes every attempt of a
// call through the call's *http.Client; attemptTransport sits in that
// client, under go-retryablehttp, so each attempt (the first and every
// retry) is its own CLIENT span, as OpenTelemetry's HTTP semantic
// conventions ask ("HTTP request retries and redirects"), a child of the
// span in the call's context (an activation step's, in truewatch), with
// the W3C trace context of that attempt's span in its headers. It is
// hand-written rather than otelhttp's: the attempt spans need this
// module's attributes (service, operation, the error code and request ID
// of a refused attempt), url.full without query values, and nothing of
// what otelhttp would add to users' builds (the contrib module, pinned to
// its own OpenTelemetry release).
//
// A span ends, and http.client.request.duration is recorded, when the
// answer's headers arrive: the body is read by go-retryablehttp, this
// package or the Huawei SDK, which do not all close it.
//
// How the transport sits in the client. go-retryablehttp calls the call's
// *http.Client (attemptClient), whose transport is attemptTransport, and
// which follows redirects and keeps cookies as the configured client does
// (so a redirect is an attempt span too). An http.Client with a Timeout
// whose transport is not net/http's own enforces the Timeout with a
// goroutine and a timer per request, so when the configured client has a
// Timeout and a *http.Transport (the default), attemptTransport sends with
// that client made to send one request (onceClient: the Timeout, no
// redirect, no jar), and the outer client has no Timeout: the transport
// keeps its cheap, context-based deadline, and the Timeout applies to each
// request, body included. Otherwise attemptTransport wraps the configured
// transport in a copy of the configured client.

// clientTelemetry is the tracer and the instruments of one Retrier.
type clientTelemetry struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	retries  metric.Int64Counter
}

func newClientTelemetry(p telemetry.Providers) clientTelemetry {
	m := p.NewMeter()
	return clientTelemetry{tracer: p.NewTracer(),
		duration: telemetry.Seconds(m, "http.client.request.duration", "Duration of HTTP client requests, one per attempt."),
		retries:  telemetry.Counter(m, "marketplace.client.retries", "{retry}", "Retries of API calls, by service, operation and reason.")}
}

// retried counts one retry of a call.
func (t clientTelemetry) retried(ctx context.Context, service, op, reason string) {
	if !t.retries.Enabled(ctx) {
		return
	}
	t.retries.Add(ctx, 1, metric.WithAttributes(telemetry.Service.String(service), telemetry.Operation.String(op),
		telemetry.RetryReason.String(reason)))
}

// clientSpan is the start option of every attempt span, made once (an
// option is an interface value, allocated when made).
var clientSpan = trace.WithSpanKind(trace.SpanKindClient)

// attemptTransport traces every attempt of one call (see above).
type attemptTransport struct {
	once *http.Client      // sends the request, when the client has a Timeout and net/http's transport
	base http.RoundTripper // sends it otherwise
	a    *attempts
	sent int // attempts sent so far
}

// onceClient is hc sending exactly the request it is given, when that
// keeps net/http's cheap deadline (see above); nil otherwise.
func onceClient(hc *http.Client) *http.Client {
	if hc.Timeout <= 0 {
		return nil
	}
	switch hc.Transport.(type) {
	case nil, *http.Transport:
	default:
		return nil
	}
	return &http.Client{Transport: hc.Transport, Timeout: hc.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// attemptClient is the *http.Client go-retryablehttp makes a call's
// attempts with.
func (r *Retrier) attemptClient(a *attempts) *http.Client {
	if r.once != nil {
		return &http.Client{Transport: &attemptTransport{once: r.once, a: a}, CheckRedirect: r.hc.CheckRedirect, Jar: r.hc.Jar}
	}
	hc := *r.hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &attemptTransport{base: base, a: a}
	return &hc
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tel := t.a.r.tel
	resend := t.sent
	t.sent++
	method := telemetry.KnownMethod(req.Method)
	host, port := hostPort(req.URL)
	// The semantic conventions' sampling-relevant attributes go to Start;
	// the rest only to a span that records.
	start := time.Now()
	ctx, span := tel.tracer.Start(req.Context(), method, clientSpan,
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(method), semconv.ServerAddress(host), semconv.ServerPort(port),
			semconv.URLFull(RedactedURL(req.URL))))
	recording := span.IsRecording()
	if recording {
		span.SetAttributes(semconv.URLScheme(req.URL.Scheme), telemetry.Service.String(t.a.r.service),
			telemetry.Operation.String(t.a.op))
		if method != req.Method {
			span.SetAttributes(semconv.HTTPRequestMethodOriginal(req.Method))
		}
		if resend > 0 {
			span.SetAttributes(semconv.HTTPRequestResendCount(resend))
		}
	}
	if span.SpanContext().IsValid() {
		// A RoundTripper must not change the request it is given: the
		// headers go on a copy. The Huawei SDK signed the request before
		// this point; traceparent and tracestate are not among its signed
		// headers, which Huawei's gateway (and the mock) accept.
		req = req.Clone(ctx)
		telemetry.Propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))
	}
	resp, err := t.send(req)
	end := time.Now()
	measured := tel.duration.Enabled(ctx)
	if !recording && !measured {
		span.End()
		return resp, err
	}
	var metricAttrs []attribute.KeyValue
	if measured {
		metricAttrs = []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method), semconv.ServerAddress(host),
			semconv.ServerPort(port), semconv.URLScheme(req.URL.Scheme), telemetry.Service.String(t.a.r.service),
			telemetry.Operation.String(t.a.op)}
	}
	switch {
	case err != nil:
		et := transportErrorType(err)
		metricAttrs = append(metricAttrs, semconv.ErrorTypeKey.String(et))
		span.SetAttributes(semconv.ErrorTypeKey.String(et))
		span.RecordError(RedactURL(err))
		span.SetStatus(codes.Error, et)
	default:
		status := semconv.HTTPResponseStatusCode(resp.StatusCode)
		metricAttrs = append(metricAttrs, status)
		span.SetAttributes(status)
		if id := resp.Header.Get("X-Request-Id"); id != "" {
			span.SetAttributes(telemetry.RequestID.String(id))
		}
		if resp.StatusCode >= 400 {
			et := semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode))
			metricAttrs = append(metricAttrs, et)
			span.SetAttributes(et)
			if recording {
				if code := peekErrorCode(resp); code != "" {
					span.SetAttributes(telemetry.ErrorCode.String(code))
				}
			}
			span.SetStatus(codes.Error, "")
		}
	}
	span.End()
	if measured {
		tel.duration.Record(ctx, end.Sub(start).Seconds(), metric.WithAttributes(metricAttrs...))
	}
	return resp, err
}

func (t *attemptTransport) send(req *http.Request) (*http.Response, error) {
	if t.once == nil {
		return t.base.RoundTrip(req)
	}
	resp, err := t.once.Do(req)
	var ue *url.Error
	if errors.As(err, &ue) {
		// The outer client wraps the error in a *url.Error again.
		err = ue.Err
	}
	return resp, err
}

// CloseIdleConnections forwards to the configured transport, as
// http.Client's does.
func (t *attemptTransport) CloseIdleConnections() {
	if t.once != nil {
		t.once.CloseIdleConnections()
	} else if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// hostPort is the server address and port of u, the port from its scheme
// when the URL has none.
func hostPort(u *url.URL) (string, int) {
	host, port := u.Hostname(), u.Port()
	if p, err := strconv.Atoi(port); err == nil {
		return host, p
	}
	if u.Scheme == "https" {
		return host, 443
	}
	return host, 80
}

// RedactedURL is u for url.full: without user information, and with every
// query value replaced by REDACTED (the names stay: they say what was
// asked, the values are the caller's identifiers).
func RedactedURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery != "" {
		q := c.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// transportErrorType classifies an attempt that got no answer.
func transportErrorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return semconv.ErrorType(err).Value.AsString()
}
