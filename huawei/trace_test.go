package huawei_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/internal/oteltest"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// TestHuaweiSDKRequestsAreTracedThroughTheMock: the official SDK's
// requests, signed by the SDK, carry W3C trace context added after
// signing; the mock verifies the signature all the same, journals the
// trace context, and its server spans join the client's attempt spans. A
// throttled attempt and its retry are two spans, the first with Huawei's
// error code and request ID.
func TestHuaweiSDKRequestsAreTracedThroughTheMock(t *testing.T) {
	h := oteltest.New(t)
	f := newFixture(t, mockserver.HuaweiAccount{Name: "acme"}, mockserver.WithTracerProvider(h.Tracer))
	f.purchase(t, mockserver.Purchase{InstanceID: "traced-1"})
	_, err := f.srv.InjectFault(mockserver.Fault{Path: "/v2/orders/suscriptions/resources/query", Status: 429,
		ErrorCode: "APIGW.0308", Message: "throttled"})
	require.NoError(t, err)
	var waits []time.Duration
	c := f.client(t, huawei.WithTracerProvider(h.Tracer), huawei.WithMeterProvider(h.Meter), huawei.WithRetryPolicy(retryRecorder(&waits)))

	ctx, parent := h.Tracer.Tracer("test").Start(context.Background(), "step")
	_, err = c.AccountID(ctx)
	require.NoError(t, err)
	p, err := c.Purchase(ctx, "traced-1")
	require.NoError(t, err)
	assert.Equal(t, "traced-1", p.InstanceID)
	parent.End()

	attempts := h.Children(h.One(t, "step"))
	require.Len(t, attempts, 3, h.Tree())
	ops := []string{}
	for _, a := range attempts {
		ops = append(ops, oteltest.Str(a, telemetry.Operation))
		assert.Equal(t, trace.SpanKindClient, a.SpanKind())
		servers := h.Children(a)
		require.Len(t, servers, 1, "the mock's span joins attempt %s\n%s", a.Name(), h.Tree())
		assert.Equal(t, trace.SpanKindServer, servers[0].SpanKind())
	}
	assert.Equal(t, []string{"KeystoneListAuthDomains", "ListPayPerUseCustomerResources", "ListPayPerUseCustomerResources"}, ops)
	assert.Equal(t, "huawei-iam", oteltest.Str(attempts[0], telemetry.Service))
	throttled := attempts[1]
	assert.Equal(t, "429", oteltest.Str(throttled, semconv.HTTPResponseStatusCodeKey))
	assert.Equal(t, "APIGW.0308", oteltest.Str(throttled, telemetry.ErrorCode))
	assert.NotEmpty(t, oteltest.Str(throttled, telemetry.RequestID))
	assert.Equal(t, codes.Error, throttled.Status().Code)
	assert.Equal(t, "1", oteltest.Str(attempts[2], semconv.HTTPRequestResendCountKey))
	assert.Equal(t, "bss.ListPayPerUseCustomerResources", oteltest.Str(h.Children(attempts[2])[0], telemetry.Operation))

	journal := f.srv.Requests(mockserver.RequestFilter{TraceID: parent.SpanContext().TraceID().String()})
	require.Len(t, journal, 3, "every signed request carried the trace and passed the signature check")
	for i, e := range journal {
		assert.Equal(t, attempts[i].SpanContext().SpanID().String(), e.SpanID)
	}
	assert.Equal(t, []int{200, 429, 200}, []int{journal[0].Status, journal[1].Status, journal[2].Status})
	assert.Equal(t, 1.0, oteltest.Sum(h.Collect(t), "marketplace.client.retries", telemetry.RetryReason.String("rate_limited"),
		telemetry.Service.String("huawei-bss")))
	h.AssertNoSecrets(t, f.sk)
}

func TestHuaweiTelemetryOptionsRefuseNil(t *testing.T) {
	_, err := huawei.NewClient(huawei.WithCredentials("AK", "sk"), huawei.WithTracerProvider(nil), huawei.WithMeterProvider(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithTracerProvider")
	assert.Contains(t, err.Error(), "WithMeterProvider")
}
