// Package telemetry is the OpenTelemetry plumbing every package of this
// module shares: the instrumentation scope, the attribute keys beyond the
// semantic conventions, the providers (the global ones unless given), the
// W3C trace-context propagator, and how an error becomes span status,
// attributes and a low-cardinality error.type.
//
// It depends on the OpenTelemetry API only (go.opentelemetry.io/otel,
// trace, metric): the application installs the SDK and an exporter. With
// neither given nor installed globally, every span and instrument is a
// no-op. Nothing here ever records a secret: callers pass identifiers,
// codes and statuses, never a token, password, verification code, secret
// key, KeySecret or idempotency key.
package telemetry

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	marketplace "github.com/truewatch-labs/marketplace-go"
	"github.com/truewatch-labs/marketplace-go/apierror"
)

// ScopeName is the instrumentation scope of every tracer and meter of this
// module.
const ScopeName = "github.com/truewatch-labs/marketplace-go"

// Attribute keys this module adds to the semantic conventions. They never
// hold a secret.
const (
	// ActivationID is the public activation ID (actv_...).
	ActivationID = attribute.Key("marketplace.activation.id")
	// ActivationBranch is the activation's branch (register, check, ...).
	ActivationBranch = attribute.Key("marketplace.activation.branch")
	// ActivationSite is the TrueWatch site chosen or found.
	ActivationSite = attribute.Key("marketplace.activation.site")
	// ActivationResumed is true when the run resumed an earlier one.
	ActivationResumed = attribute.Key("marketplace.activation.resumed")
	// ActivationAlreadyActivated is true when nothing had to change.
	ActivationAlreadyActivated = attribute.Key("marketplace.activation.already_activated")
	// Step is an activation step's name (check_subscription, register, ...).
	Step = attribute.Key("marketplace.step.name")
	// StepAction is read, change or skip.
	StepAction = attribute.Key("marketplace.step.action")
	// StepReplayed is true when the server replayed a stored answer.
	StepReplayed = attribute.Key("marketplace.step.replayed")
	// Service is the API family: billing, workspace, huawei-iam, ...
	Service = attribute.Key("marketplace.service")
	// Operation is the client operation, e.g. Register or
	// ListPayPerUseCustomerResources; in the mock, the operation served,
	// e.g. billing.Register or bss.ListPayPerUseCustomerResources.
	Operation = attribute.Key("marketplace.operation")
	// ErrorCode is the service's error code: ft.* (TrueWatch) or Huawei's
	// (APIGW.0308, CBC.0100, ...).
	ErrorCode = attribute.Key("marketplace.error.code")
	// RequestID is the X-Request-Id of the answer.
	RequestID = attribute.Key("marketplace.request_id")
	// ResponseTraceID is TrueWatch's envelope traceId (TRACE-<UUID>),
	// which TrueWatch support asks for; not an OpenTelemetry trace ID.
	ResponseTraceID = attribute.Key("marketplace.response.trace_id")
	// RetryReason classifies why a call is retried: rate_limited,
	// server_error, connection_error, idempotency_key_in_flight.
	RetryReason = attribute.Key("marketplace.retry.reason")
	// CodePurpose is the purpose of a verification code.
	CodePurpose = attribute.Key("marketplace.verification_code.purpose")
	// LinkType says what a span link points at (previous_run).
	LinkType = attribute.Key("marketplace.link.type")
	// MockNamespace is the mock server's namespace of a request.
	MockNamespace = attribute.Key("marketplace.mock.namespace")
)

// Providers are the tracer and meter providers a client, an activation or
// the mock reports to. A nil field means the global provider
// (otel.GetTracerProvider, otel.GetMeterProvider), which is a no-op until
// the application sets one and forwards to it once set.
type Providers struct {
	Tracer trace.TracerProvider
	Meter  metric.MeterProvider
}

// TracerProvider is the provider given, or the global one.
func (p Providers) TracerProvider() trace.TracerProvider {
	if p.Tracer != nil {
		return p.Tracer
	}
	return otel.GetTracerProvider()
}

// MeterProvider is the provider given, or the global one.
func (p Providers) MeterProvider() metric.MeterProvider {
	if p.Meter != nil {
		return p.Meter
	}
	return otel.GetMeterProvider()
}

// NewTracer is the module's tracer from p.
func (p Providers) NewTracer() trace.Tracer {
	return p.TracerProvider().Tracer(ScopeName, trace.WithInstrumentationVersion(marketplace.Version),
		trace.WithSchemaURL(semconv.SchemaURL))
}

// NewMeter is the module's meter from p.
func (p Providers) NewMeter() metric.Meter {
	return p.MeterProvider().Meter(ScopeName, metric.WithInstrumentationVersion(marketplace.Version),
		metric.WithSchemaURL(semconv.SchemaURL))
}

// Propagator is how trace context travels on every request this module
// sends and how the mock reads it: W3C Trace Context (traceparent,
// tracestate). It is fixed rather than the global propagator, which is a
// no-op until set, so that a request carries its trace whenever there is
// one. Baggage is not sent: it is the application's data, and may hold
// what a third party must not see.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// DurationBuckets are the semantic conventions' bucket boundaries, in
// seconds, for http.client.request.duration and
// http.server.request.duration; the step durations use them too.
var DurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// ErrorType is a low-cardinality class of err for error.type: the
// service's error code (ft.*, APIGW.*, CBC.*), "canceled" or
// "deadline_exceeded" for a context that ended, "transport" for no
// answer, "malformed_response", "validation", the HTTP status of an
// answer without a code, else the Go type (the semantic conventions'
// default).
func ErrorType(err error) string {
	var ae *apierror.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	case errors.As(err, &ae) && ae.ErrorCode != "":
		return ae.ErrorCode
	case errors.Is(err, apierror.ErrTransport):
		return "transport"
	case errors.Is(err, apierror.ErrMalformedResponse):
		return "malformed_response"
	case errors.Is(err, apierror.ErrValidation):
		return "validation"
	case ae != nil && ae.HTTPStatus != 0:
		return strconv.Itoa(ae.HTTPStatus)
	}
	return semconv.ErrorType(err).Value.AsString()
}

// ErrorAttributes are the attributes that identify a failed call in err:
// error.type, and from an *apierror.Error the error code, the request ID
// and TrueWatch's trace ID.
func ErrorAttributes(err error) []attribute.KeyValue {
	if err == nil {
		return nil
	}
	attrs := []attribute.KeyValue{semconv.ErrorTypeKey.String(ErrorType(err))}
	var ae *apierror.Error
	if errors.As(err, &ae) {
		if ae.ErrorCode != "" {
			attrs = append(attrs, ErrorCode.String(ae.ErrorCode))
		}
		if ae.RequestID != "" {
			attrs = append(attrs, RequestID.String(ae.RequestID))
		}
		if ae.TraceID != "" {
			attrs = append(attrs, ResponseTraceID.String(ae.TraceID))
		}
	}
	return attrs
}

// RecordError marks span failed with err: status Error with the error
// type as description, the error attributes, and an exception event with
// the error's message. The module's errors never carry a secret in their
// message (the secret-hygiene tests hold them to it).
func RecordError(span trace.Span, err error) {
	if err == nil || !span.IsRecording() {
		return
	}
	attrs := ErrorAttributes(err)
	span.SetAttributes(attrs...)
	span.RecordError(err)
	span.SetStatus(codes.Error, ErrorType(err))
}

// Seconds is a duration histogram in seconds with DurationBuckets, or a
// no-op when m refuses the name.
func Seconds(m metric.Meter, name, description string) metric.Float64Histogram {
	h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(description),
		metric.WithExplicitBucketBoundaries(DurationBuckets...))
	if err != nil {
		return metricnoop.Float64Histogram{}
	}
	return h
}

// Counter is a counter of unit (e.g. "{retry}"), or a no-op when m
// refuses the name.
func Counter(m metric.Meter, name, unit, description string) metric.Int64Counter {
	c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(description))
	if err != nil {
		return metricnoop.Int64Counter{}
	}
	return c
}

// KnownMethod is an HTTP method for http.request.method: the method, or
// _OTHER for one the semantic conventions do not know (a client's own
// method must not become an attribute value without bound).
func KnownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch,
		http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}
