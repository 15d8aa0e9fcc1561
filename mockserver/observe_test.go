package mockserver_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/oteltest"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/retry"
)

// TestServerSpansJoinTheClientsTrace: with a tracer provider, every
// request to the API halves is a SERVER span whose parent is the client's
// attempt span, named by route, with the operation, status, request ID
// and error code; the journal records the same trace and parent; the
// mock's metrics count requests by operation and status.
func TestServerSpansJoinTheClientsTrace(t *testing.T) {
	h := oteltest.New(t)
	srv := mockserver.Start(t, mockserver.WithTracerProvider(h.Tracer), mockserver.WithMeterProvider(h.Meter))
	_, err := srv.InjectFault(mockserver.Fault{Path: "/billing-center/api/v1/verification_code/send", Status: 503})
	require.NoError(t, err)
	bc, err := billing.NewClient(billing.WithBaseURL(srv.BillingURL()), billing.WithHTTPClient(srv.HTTPClient()),
		billing.WithTracerProvider(h.Tracer), billing.WithMeterProvider(h.Meter),
		billing.WithRetryPolicy(retry.Policy{MaxRetries: 2, Sleep: func(context.Context, time.Duration) error { return nil }}))
	require.NoError(t, err)
	ctx, parent := h.Tracer.Tracer("test").Start(context.Background(), "test")
	_, err = bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister})
	require.NoError(t, err)
	_, _, err = bc.ListBindableWorkspaces(ctx, "bctk_wrong", nil)
	require.Error(t, err)
	parent.End()

	attempts := h.Children(h.One(t, "test"))
	require.Len(t, attempts, 3, h.Tree())
	journal := srv.Requests(mockserver.RequestFilter{TraceID: parent.SpanContext().TraceID().String()})
	require.Len(t, journal, 3)
	for i, a := range attempts {
		require.Equal(t, trace.SpanKindClient, a.SpanKind())
		servers := h.Children(a)
		require.Len(t, servers, 1, "attempt %d has its server span\n%s", i+1, h.Tree())
		s := servers[0]
		assert.Equal(t, trace.SpanKindServer, s.SpanKind())
		assert.Equal(t, a.SpanContext().TraceID(), s.SpanContext().TraceID())
		assert.Equal(t, oteltest.Str(a, telemetry.RequestID), oteltest.Str(s, telemetry.RequestID))
		assert.Equal(t, oteltest.Str(a, semconv.HTTPResponseStatusCodeKey), oteltest.Str(s, semconv.HTTPResponseStatusCodeKey))
		assert.Equal(t, a.SpanContext().SpanID().String(), journal[i].SpanID, "the journal names the client span")
		assert.Equal(t, oteltest.Str(s, telemetry.RequestID), journal[i].RequestID)
	}
	send := h.Children(attempts[0])[0]
	assert.Equal(t, "POST /billing-center/api/v1/verification_code/send", send.Name())
	assert.Equal(t, "/billing-center/api/v1/verification_code/send", oteltest.Str(send, semconv.HTTPRouteKey))
	assert.Equal(t, "billing.SendVerificationCode", oteltest.Str(send, telemetry.Operation))
	assert.Equal(t, "ft.InjectedFault", oteltest.Str(send, telemetry.ErrorCode))
	assert.Equal(t, codes.Error, send.Status().Code, "a 5xx is a server error")
	list := h.Children(attempts[2])[0]
	assert.Equal(t, "billing.ListBindableWorkspaces", oteltest.Str(list, telemetry.Operation))
	assert.Equal(t, "401", oteltest.Str(list, semconv.HTTPResponseStatusCodeKey))
	assert.Equal(t, codes.Unset, list.Status().Code, "a 4xx is the client's error, not the server's")

	rm := h.Collect(t)
	assert.Equal(t, 1.0, oteltest.Sum(rm, "marketplace.mock.requests", telemetry.Operation.String("billing.SendVerificationCode"),
		semconv.HTTPResponseStatusCode(503)))
	assert.Equal(t, 1.0, oteltest.Sum(rm, "marketplace.mock.requests", telemetry.Operation.String("billing.SendVerificationCode"),
		semconv.HTTPResponseStatusCode(200)))
	assert.Equal(t, 3.0, oteltest.Sum(rm, "http.server.request.duration"))
	h.AssertNoSecrets(t, "bctk_wrong")
}

// TestServerSpanOfADroppedConnection: the span of a request whose
// connection the mock dropped says so.
func TestServerSpanOfADroppedConnection(t *testing.T) {
	h := oteltest.New(t)
	srv := mockserver.Start(t, mockserver.WithTracerProvider(h.Tracer))
	_, err := srv.InjectFault(mockserver.Fault{Path: "/v3/auth/domains", DropConnection: true})
	require.NoError(t, err)
	_, err = http.Get(srv.URL() + "/v3/auth/domains")
	require.Error(t, err)
	s := h.One(t, "GET /v3/auth/domains")
	assert.Equal(t, "connection_dropped", oteltest.Str(s, semconv.ErrorTypeKey))
	assert.Equal(t, codes.Error, s.Status().Code)
	assert.False(t, s.Parent().IsValid())
}
