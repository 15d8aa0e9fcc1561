package main

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// datakit is an in-process OTLP/HTTP receiver at DataKit's paths
// (/otel/v1/traces, /otel/v1/metrics) that, like DataKit since 1.85,
// takes protobuf only and answers anything else 400.
type datakit struct {
	mu      sync.Mutex
	traces  []*coltracepb.ExportTraceServiceRequest
	metrics []*colmetricpb.ExportMetricsServiceRequest
	raw     [][]byte
	refused []string
}

func (d *datakit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || mt != "application/x-protobuf" || err != nil {
		d.refused = append(d.refused, r.Method+" "+r.URL.Path+" "+mt)
		http.Error(w, "protobuf only", http.StatusBadRequest)
		return
	}
	d.raw = append(d.raw, body)
	switch r.URL.Path {
	case "/otel/v1/traces":
		if req, ok := receive(w, body, &coltracepb.ExportTraceServiceRequest{}, &coltracepb.ExportTraceServiceResponse{}); ok {
			d.traces = append(d.traces, req)
		}
	case "/otel/v1/metrics":
		if req, ok := receive(w, body, &colmetricpb.ExportMetricsServiceRequest{}, &colmetricpb.ExportMetricsServiceResponse{}); ok {
			d.metrics = append(d.metrics, req)
		}
	default:
		d.refused = append(d.refused, r.URL.Path)
		http.NotFound(w, r)
	}
}

// receive decodes an export request into req and answers with resp, in
// protobuf, or 400.
func receive[T proto.Message](w http.ResponseWriter, body []byte, req T, resp proto.Message) (T, bool) {
	if proto.Unmarshal(body, req) != nil {
		http.Error(w, "bad protobuf", http.StatusBadRequest)
		return req, false
	}
	out, _ := proto.Marshal(resp)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
	return req, true
}

func noEnv(string) string { return "" }

// TestExportsToADataKitWithClientAndServerSpansJoined runs the demo
// exporting to the receiver, as to a DataKit at http://<host>:9529/otel,
// and finds there, decoded from OTLP protobuf: the activations' spans, the
// clients' attempt spans and the embedded mock's server spans joined to
// them (same trace, the server span's parent the client attempt), the
// module's scope and the service name, the activation metrics, and no
// secret anywhere in what was sent.
func TestExportsToADataKitWithClientAndServerSpansJoined(t *testing.T) {
	dk := &datakit{}
	recv := httptest.NewServer(dk)
	defer recv.Close()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-otlp-endpoint", recv.URL + "/otel"}, strings.NewReader(""), &out, &errOut, noEnv)
	require.NoError(t, err, errOut.String())
	assert.Contains(t, out.String(), "already activated: true")

	dk.mu.Lock()
	defer dk.mu.Unlock()
	require.Empty(t, dk.refused, "everything was OTLP protobuf at DataKit's paths")
	require.NotEmpty(t, dk.traces)
	require.NotEmpty(t, dk.metrics, "the metrics were flushed at the end")

	type key struct{ trace, span string }
	spans := map[key]*tracepb.Span{}
	names := map[string]int{}
	for _, req := range dk.traces {
		for _, rs := range req.ResourceSpans {
			service := ""
			for _, kv := range rs.Resource.Attributes {
				if kv.Key == "service.name" {
					service = kv.Value.GetStringValue()
				}
			}
			assert.Equal(t, "marketplace-go-activate", service)
			for _, ss := range rs.ScopeSpans {
				assert.Equal(t, "github.com/truewatch-labs/marketplace-go", ss.Scope.Name)
				for _, s := range ss.Spans {
					spans[key{string(s.TraceId), string(s.SpanId)}] = s
					names[s.Name]++
				}
			}
		}
	}
	assert.Equal(t, 1, names["truewatch.activation.plan"])
	assert.Equal(t, 2, names["truewatch.activation.run"], "the run and the run again")
	assert.Equal(t, 1, names["truewatch.step.register"])
	clients, joined := 0, 0
	for _, s := range spans {
		if s.Kind != tracepb.Span_SPAN_KIND_CLIENT {
			continue
		}
		clients++
		for _, c := range spans {
			if c.Kind == tracepb.Span_SPAN_KIND_SERVER && bytes.Equal(c.TraceId, s.TraceId) && bytes.Equal(c.ParentSpanId, s.SpanId) {
				joined++
				break
			}
		}
		parent := spans[key{string(s.TraceId), string(s.ParentSpanId)}]
		require.NotNil(t, parent, "a client span's parent is exported")
		assert.True(t, strings.HasPrefix(parent.Name, "truewatch.step."), "client spans are children of steps, not %s", parent.Name)
	}
	assert.GreaterOrEqual(t, clients, 10)
	assert.Equal(t, clients, joined, "every client attempt has the mock's server span as its child")

	metrics := map[string]bool{}
	for _, req := range dk.metrics {
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					metrics[m.Name] = true
				}
			}
		}
	}
	for _, m := range []string{"marketplace.activation.started", "marketplace.activation.completed", "marketplace.activation.step.duration",
		"marketplace.activation.verification_codes", "http.client.request.duration", "http.server.request.duration", "marketplace.mock.requests"} {
		assert.True(t, metrics[m], "metric %s exported", m)
	}
	idemKey := regexp.MustCompile(`act_[0-9a-f]{32}`) // the activation's idempotency keys
	for _, raw := range dk.raw {
		for _, secret := range []string{"Correct-Horse-9", mockserver.DemoSecretKey} {
			assert.False(t, bytes.Contains(raw, []byte(secret)), "%q is in an export", secret)
		}
		assert.False(t, idemKey.Match(raw), "an idempotency key is in an export")
	}
}

func TestWithoutAnEndpointNothingIsExported(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-plan"}, strings.NewReader(""), &out, &errOut, noEnv))
	assert.Contains(t, errOut.String(), "nothing is exported")
	assert.Contains(t, out.String(), "[change] register")

	err := run(context.Background(), []string{"-plan", "-otlp-endpoint", "ftp://x"}, strings.NewReader(""), &out, &errOut, noEnv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "http or https")
}

func TestTheEnvironmentNamesTheEndpoint(t *testing.T) {
	dk := &datakit{}
	recv := httptest.NewServer(dk)
	defer recv.Close()
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL + "/otel", "OTEL_SERVICE_NAME": "provisioner"}
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-plan"}, strings.NewReader(""), &out, &errOut, func(k string) string { return env[k] }))
	dk.mu.Lock()
	defer dk.mu.Unlock()
	require.NotEmpty(t, dk.traces)
	got := ""
	for _, kv := range dk.traces[0].ResourceSpans[0].Resource.Attributes {
		if kv.Key == "service.name" {
			got = kv.Value.GetStringValue()
		}
	}
	assert.Equal(t, "provisioner", got)
}
