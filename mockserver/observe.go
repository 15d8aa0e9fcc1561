package mockserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
)

// WithTracerProvider makes the mock emit a SERVER span for every request
// to its API halves, named by method and route ("POST
// /billing-center/api/v1/account/register"), with the operation
// (marketplace.operation, e.g. billing.Register), the status, the request
// ID and the error code answered, as a child of the client span in the
// request's traceparent: a test sees client and server spans join in one
// trace. Default: the global provider, a no-op until set.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(cfg *config) error {
		if tp == nil {
			return errors.New("mockserver: nil tracer provider")
		}
		cfg.telemetry.Tracer = tp
		return nil
	}
}

// WithMeterProvider makes the mock record http.server.request.duration
// and count requests by operation and status (marketplace.mock.requests).
// Default: the global provider, a no-op until set.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(cfg *config) error {
		if mp == nil {
			return errors.New("mockserver: nil meter provider")
		}
		cfg.telemetry.Meter = mp
		return nil
	}
}

// serverSpan is the start option of every server span, made once.
var serverSpan = trace.WithSpanKind(trace.SpanKindServer)

// serverTelemetry is the mock's tracer and instruments.
type serverTelemetry struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	requests metric.Int64Counter
}

func newServerTelemetry(p telemetry.Providers) serverTelemetry {
	m := p.NewMeter()
	return serverTelemetry{tracer: p.NewTracer(),
		duration: telemetry.Seconds(m, "http.server.request.duration", "Duration of HTTP server requests."),
		requests: telemetry.Counter(m, "marketplace.mock.requests", "{request}", "Requests the mock served, by operation and status.")}
}

// observe wraps the mock's handler: every request to the API halves is
// journaled, traced (a SERVER span under the incoming traceparent) and
// measured; the control plane is not, so polling the journal does not
// fill it.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if familyOf(r.URL.Path) == familyControl {
			next.ServeHTTP(w, r)
			return
		}
		start, arrived := time.Now(), s.Now()
		_, pattern := s.mux.Handler(r)
		op := s.operationOf(pattern)
		ctx := telemetry.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		// The trace context the request came with, not a span of the
		// mock's own that it may already be under (the proof check calls
		// the mock's STS through this handler).
		var incoming trace.SpanContext
		if sc := trace.SpanContextFromContext(ctx); sc.IsRemote() {
			incoming = sc
		}
		name := r.Method
		if pattern != "" {
			name += " " + routeOf(pattern)
		}
		ctx, span := s.tel.tracer.Start(ctx, name, serverSpan,
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(telemetry.KnownMethod(r.Method)),
				semconv.URLPath(clip(r.URL.EscapedPath(), maxJournalPath)), semconv.URLScheme(schemeOf(r))))
		if span.IsRecording() {
			span.SetAttributes(telemetry.Operation.String(op), telemetry.MockNamespace.String(s.NamespaceName()))
			if pattern != "" {
				span.SetAttributes(semconv.HTTPRoute(routeOf(pattern)))
			}
			if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
				span.SetAttributes(semconv.ClientAddress(host))
			}
			if ua := r.UserAgent(); ua != "" {
				span.SetAttributes(semconv.UserAgentOriginal(clip(ua, 256)))
			}
		}
		rw := &observedWriter{ResponseWriter: w}
		defer func() {
			// A dropped connection (a DropConnection fault) panics with
			// http.ErrAbortHandler or hijacks the connection: recorded,
			// then passed on.
			v := recover()
			rw.dropped = rw.dropped || v == http.ErrAbortHandler
			s.observed(ctx, span, rw, r, op, pattern, incoming, start, arrived)
			if v != nil {
				panic(v)
			}
		}()
		next.ServeHTTP(rw, r.WithContext(ctx))
	})
}

// observed ends the request's span, journals it and counts it.
func (s *Server) observed(ctx context.Context, span trace.Span, rw *observedWriter, r *http.Request, op, pattern string,
	incoming trace.SpanContext, start, arrived time.Time) {
	latency := time.Since(start)
	status := rw.status
	if status == 0 && !rw.dropped {
		status = http.StatusOK // a handler that wrote nothing answered 200
	}
	if rw.dropped {
		status = 0
	}
	requestID := rw.Header().Get("X-Request-Id")
	code := rw.errorCode()
	if span.IsRecording() {
		switch {
		case rw.dropped:
			span.SetAttributes(semconv.ErrorTypeKey.String("connection_dropped"))
			span.SetStatus(codes.Error, "connection dropped without an answer")
		default:
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= 500 {
				span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
				span.SetStatus(codes.Error, "")
			}
		}
		if requestID != "" {
			span.SetAttributes(telemetry.RequestID.String(requestID))
		}
		if code != "" {
			span.SetAttributes(telemetry.ErrorCode.String(code))
		}
	}
	span.End()
	if s.tel.duration.Enabled(ctx) {
		attrs := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(telemetry.KnownMethod(r.Method)), semconv.URLScheme(schemeOf(r))}
		if pattern != "" {
			attrs = append(attrs, semconv.HTTPRoute(routeOf(pattern)))
		}
		switch {
		case rw.dropped:
			attrs = append(attrs, semconv.ErrorTypeKey.String("connection_dropped"))
		case status >= 500:
			attrs = append(attrs, semconv.HTTPResponseStatusCode(status), semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		default:
			attrs = append(attrs, semconv.HTTPResponseStatusCode(status))
		}
		s.tel.duration.Record(ctx, latency.Seconds(), metric.WithAttributes(attrs...))
	}
	if s.tel.requests.Enabled(ctx) {
		s.tel.requests.Add(ctx, 1, metric.WithAttributes(telemetry.Operation.String(op),
			semconv.HTTPResponseStatusCode(status), telemetry.MockNamespace.String(s.NamespaceName())))
	}
	e := RecordedRequest{Time: arrived, Namespace: s.NamespaceName(), Method: clip(r.Method, maxJournalMethod),
		Path: clip(r.URL.EscapedPath(), maxJournalPath), Operation: op, Status: status, Latency: latency,
		RequestID: requestID, IdempotencyKey: clip(r.Header.Get("Idempotency-Key"), maxJournalKey),
		ErrorCode: code, Dropped: rw.dropped}
	if incoming.IsValid() {
		e.TraceID, e.SpanID = incoming.TraceID().String(), incoming.SpanID().String()
	}
	s.journal.add(e)
}

func schemeOf(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// maxErrorPeek is how much of an error answer's body is kept to read its
// error code; the body itself is never journaled.
const maxErrorPeek = 4 << 10

// observedWriter notes the status, the start of an error answer's body
// (for its error code) and a hijacked connection.
type observedWriter struct {
	http.ResponseWriter
	status  int
	peek    bytes.Buffer
	dropped bool
}

func (w *observedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *observedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status >= 400 && w.peek.Len() < maxErrorPeek {
		w.peek.Write(b[:min(len(b), maxErrorPeek-w.peek.Len())])
	}
	return w.ResponseWriter.Write(b)
}

// errorCode is the error code of the answer, in either API's shape.
func (w *observedWriter) errorCode() string {
	if w.status < 400 || w.peek.Len() == 0 {
		return ""
	}
	var body struct {
		ErrorCode string `json:"errorCode"`
		Huawei    string `json:"error_code"`
	}
	_ = json.Unmarshal(w.peek.Bytes(), &body)
	code := body.ErrorCode
	if code == "" {
		code = body.Huawei
	}
	return clip(code, maxJournalCode)
}

// Unwrap lets http.ResponseController reach the connection (fault delays
// extend its deadlines).
func (w *observedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher.
func (w *observedWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack implements http.Hijacker, as a DropConnection fault needs.
func (w *observedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	conn, rw, err := hj.Hijack()
	if err == nil {
		w.dropped = true
	}
	return conn, rw, err
}

// OperationUnrouted names, in the journal and the telemetry, a request that
// no route of the mock serves.
const OperationUnrouted = "unrouted"

// operationOf names the operation a mux pattern serves: its Operation's
// name, OperationUnrouted without a pattern, else the pattern itself (the
// login pages).
func (s *Server) operationOf(pattern string) string {
	if pattern == "" {
		return OperationUnrouted
	}
	for _, o := range s.ops {
		if o.isRoute(pattern) {
			return o.Name
		}
	}
	return pattern
}

// routeOf is a pattern's path, for http.route: "POST /v3/x" is "/v3/x".
func routeOf(pattern string) string {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		return p
	}
	return pattern
}
