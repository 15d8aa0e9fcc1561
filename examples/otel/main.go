// Command otel is examples/activate exporting its traces and metrics over
// OTLP/HTTP (protobuf), as TrueWatch's DataKit receives them: the same
// flags, the same demo against the embedded mock (whose server spans join
// the activation's trace), the same real-endpoint mode. It is a module of
// its own so that the OpenTelemetry SDK and exporters (and the gRPC and
// protobuf modules they bring) stay out of marketplace-go's dependencies:
// the library depends on the OpenTelemetry API only.
//
//	# a DataKit with the opentelemetry input enabled, on this machine
//	OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:9529/otel go run -C examples/otel .
//	# or
//	go run -C examples/otel . -otlp-endpoint http://localhost:9529/otel
//
// The endpoint is a base URL: /v1/traces and /v1/metrics are added, so a
// DataKit's http://<datakit>:9529/otel receives at /otel/v1/traces and
// /otel/v1/metrics. DataKit takes protobuf only (its http/json support was
// removed in 1.85), which is what this sends. The exporters also read the
// other OTEL_EXPORTER_OTLP_* variables (headers, timeout, a per-signal
// endpoint); OTEL_SERVICE_NAME names the service (default
// marketplace-go-activate). Without an endpoint nothing is exported.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	marketplace "github.com/truewatch-labs/marketplace-go"
	"github.com/truewatch-labs/marketplace-go/examples/internal/activatecmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "otel:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	var endpoint string
	env := activatecmd.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&endpoint, "otlp-endpoint", getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
				"OTLP/HTTP base URL traces and metrics are exported to (/v1/traces and /v1/metrics are added), e.g. http://localhost:9529/otel for a DataKit; empty exports nothing")
		},
		Telemetry: func(ctx context.Context) (activatecmd.Telemetry, func(context.Context) error, error) {
			if endpoint == "" {
				fmt.Fprintln(stderr, "otel: no -otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT: nothing is exported")
				return activatecmd.Telemetry{}, func(context.Context) error { return nil }, nil
			}
			return providers(ctx, endpoint, serviceName(getenv))
		},
	}
	return activatecmd.Run(ctx, "otel", "go run -C examples/otel .", args, env)
}

func serviceName(getenv func(string) string) string {
	if n := getenv("OTEL_SERVICE_NAME"); n != "" {
		return n
	}
	return "marketplace-go-activate"
}

// providers exports traces and metrics to endpoint, a base URL, over
// OTLP/HTTP protobuf. The returned function flushes and shuts both down.
func providers(ctx context.Context, endpoint, service string) (activatecmd.Telemetry, func(context.Context) error, error) {
	base := strings.TrimRight(endpoint, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return activatecmd.Telemetry{}, nil, fmt.Errorf("-otlp-endpoint %q must be an http or https URL", endpoint)
	}
	traces, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(base+"/v1/traces"))
	if err != nil {
		return activatecmd.Telemetry{}, nil, err
	}
	metrics, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(base+"/v1/metrics"))
	if err != nil {
		return activatecmd.Telemetry{}, nil, err
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(service), semconv.ServiceVersion(marketplace.Version)))
	if err != nil {
		return activatecmd.Telemetry{}, nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(traces), sdktrace.WithResource(res))
	reader := sdkmetric.NewPeriodicReader(metrics)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
	flush := func(ctx context.Context) error {
		// Shutdown exports what is left, then stops.
		return errors.Join(tp.Shutdown(ctx), mp.Shutdown(ctx))
	}
	return activatecmd.Telemetry{Tracer: tp, Meter: mp}, flush, nil
}
