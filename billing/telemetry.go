package billing

import (
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/twapi"
)

// WithTracerProvider is twapi.WithTracerProvider: a CLIENT span for every
// HTTP attempt, retries included, following OpenTelemetry's HTTP semantic
// conventions, under the span in the call's context, with W3C trace
// context on the request; no secret or idempotency key in any span.
// Default: the global provider, a no-op until the application sets one.
func WithTracerProvider(tp trace.TracerProvider) Option { return twapi.WithTracerProvider(tp) }

// WithMeterProvider is twapi.WithMeterProvider:
// http.client.request.duration for every attempt, and retries by reason
// (marketplace.client.retries). Default: the global provider.
func WithMeterProvider(mp metric.MeterProvider) Option { return twapi.WithMeterProvider(mp) }
