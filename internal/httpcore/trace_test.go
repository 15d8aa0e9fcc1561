package httpcore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/oteltest"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/retry"
)

// traced returns a client over rec that reports to a fresh harness.
func traced(t *testing.T, rec *testkit.Recorder) (*httpcore.Client, *oteltest.Harness) {
	t.Helper()
	h := oteltest.New(t)
	c, _ := setup(t, rec, func(cfg *httpcore.Config) {
		cfg.Telemetry = telemetry.Providers{Tracer: h.Tracer, Meter: h.Meter}
	})
	return c, h
}

func TestTrace_EveryAttemptIsItsOwnClientSpanUnderTheCallersSpan(t *testing.T) {
	rec := testkit.NewRecorder(
		testkit.WithHeader(testkit.Fail(503, "", "busy"), "X-Request-Id", "req-1"),
		testkit.ConnError(),
		testkit.WithHeader(testkit.OK(map[string]string{"uuid": "x"}), "X-Request-Id", "req-3"))
	c, h := traced(t, rec)
	ctx, parent := h.Tracer.Tracer("test").Start(context.Background(), "step")
	_, _, err := c.Do(ctx, httpcore.Request{Operation: "Register", Method: http.MethodPost, Path: "/api/v1/account/register",
		Query: url.Values{"huaweiAccountId": {"0123"}}, Body: map[string]string{"password": "hunter2-secret"},
		Token: "tok-secret", IdempotencyKey: "idem-secret"}, nil)
	require.NoError(t, err)
	parent.End()

	root := h.One(t, "step")
	attempts := h.Children(root)
	require.Len(t, attempts, 3, h.Tree())
	reqs := rec.Requests()
	require.Len(t, reqs, 3)
	for i, s := range attempts {
		assert.Equal(t, "POST", s.Name())
		assert.Equal(t, trace.SpanKindClient, s.SpanKind())
		assert.Equal(t, "POST", oteltest.Str(s, semconv.HTTPRequestMethodKey))
		assert.Equal(t, "api.test", oteltest.Str(s, semconv.ServerAddressKey))
		assert.Equal(t, "443", oteltest.Str(s, semconv.ServerPortKey))
		assert.Equal(t, "https://api.test/billing-center/api/v1/account/register?huaweiAccountId=REDACTED",
			oteltest.Str(s, semconv.URLFullKey), "query values are redacted")
		assert.Equal(t, "billing", oteltest.Str(s, telemetry.Service))
		assert.Equal(t, "Register", oteltest.Str(s, telemetry.Operation))
		resend, has := oteltest.Attr(s, semconv.HTTPRequestResendCountKey)
		if i == 0 {
			assert.False(t, has, "the first attempt is not a resend")
		} else {
			assert.Equal(t, int64(i), resend.AsInt64())
		}
		// Each attempt carried its own span's context.
		sc := propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(reqs[i].Header))
		got := trace.SpanContextFromContext(sc)
		assert.Equal(t, s.SpanContext().TraceID(), got.TraceID(), "attempt %d traceparent", i+1)
		assert.Equal(t, s.SpanContext().SpanID(), got.SpanID(), "attempt %d traceparent", i+1)
	}
	assert.Equal(t, "503", oteltest.Str(attempts[0], semconv.HTTPResponseStatusCodeKey))
	assert.Equal(t, "503", oteltest.Str(attempts[0], semconv.ErrorTypeKey))
	assert.Equal(t, "req-1", oteltest.Str(attempts[0], telemetry.RequestID))
	assert.Equal(t, codes.Error, attempts[0].Status().Code)
	_, has := oteltest.Attr(attempts[1], semconv.HTTPResponseStatusCodeKey)
	assert.False(t, has, "a connection error has no status")
	assert.NotEmpty(t, oteltest.Str(attempts[1], semconv.ErrorTypeKey))
	assert.Equal(t, codes.Error, attempts[1].Status().Code)
	require.NotEmpty(t, attempts[1].Events(), "the transport error is an exception event")
	assert.Equal(t, "200", oteltest.Str(attempts[2], semconv.HTTPResponseStatusCodeKey))
	assert.Equal(t, codes.Unset, attempts[2].Status().Code)
	assert.Equal(t, "req-3", oteltest.Str(attempts[2], telemetry.RequestID))

	rm := h.Collect(t)
	assert.Equal(t, 3.0, oteltest.Sum(rm, "http.client.request.duration", telemetry.Operation.String("Register")),
		"one duration per attempt")
	assert.Equal(t, 1.0, oteltest.Sum(rm, "http.client.request.duration", semconv.HTTPResponseStatusCode(503)))
	assert.Equal(t, 1.0, oteltest.Sum(rm, "marketplace.client.retries", telemetry.RetryReason.String("server_error")))
	assert.Equal(t, 1.0, oteltest.Sum(rm, "marketplace.client.retries", telemetry.RetryReason.String("connection_error")))
	m, ok := oteltest.Metric(rm, "http.client.request.duration")
	require.True(t, ok)
	assert.Equal(t, "s", m.Unit)

	h.AssertNoSecrets(t, "hunter2-secret", "tok-secret", "idem-secret", "0123")
}

func TestTrace_RefusedAttemptCarriesTheErrorCode(t *testing.T) {
	rec := testkit.NewRecorder(testkit.WithHeader(testkit.Fail(400, apierror.CodeInvalidCode, "wrong code"), "X-Request-Id", "req-9"))
	c, h := traced(t, rec)
	_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "BindBillingAccount", Method: http.MethodPost,
		Path: "/api/v1/billing_account/bind", Body: map[string]string{}}, nil)
	require.ErrorIs(t, err, apierror.ErrInvalidCode)
	s := h.One(t, "POST")
	assert.Equal(t, apierror.CodeInvalidCode, oteltest.Str(s, telemetry.ErrorCode))
	assert.Equal(t, "400", oteltest.Str(s, semconv.ErrorTypeKey))
	assert.Equal(t, "req-9", oteltest.Str(s, telemetry.RequestID))
	assert.False(t, s.Parent().IsValid(), "without a span in the context the attempt is a root")
}

func TestTrace_HuaweiTransportTracesEachAttemptAndKeepsTheSignedHeaders(t *testing.T) {
	h := oteltest.New(t)
	rec := testkit.NewRecorder(hwFail(500, "CBC.0999"), testkit.OK(nil))
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(rec.Respond)
	var w testkit.Waits
	r := httpcore.NewRetrier("huawei-bss", &http.Client{Transport: mt}, w.Policy(3), nil,
		httpcore.Rules{InternalServerErrors: true}, telemetry.Providers{Tracer: h.Tracer, Meter: h.Meter})
	ctx, parent := h.Tracer.Tracer("test").Start(context.Background(), "step")
	req, _ := http.NewRequest(http.MethodGet, "https://bss.test/v2/orders/customer-orders", nil)
	req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=sig-secret")
	req.Header.Set("X-Sdk-Date", "20260101T000000Z")
	resp, err := (&http.Client{Transport: r.Transport(ctx, "ListCustomerOrders", httpcore.TransportOptions{Repeatable: true})}).Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	parent.End()

	attempts := h.Children(h.One(t, "step"))
	require.Len(t, attempts, 2, h.Tree())
	assert.Equal(t, "CBC.0999", oteltest.Str(attempts[0], telemetry.ErrorCode))
	assert.Equal(t, "huawei-bss", oteltest.Str(attempts[0], telemetry.Service))
	assert.Empty(t, req.Header.Get("traceparent"), "the SDK's request is not changed")
	for i, got := range rec.Requests() {
		assert.Equal(t, req.Header.Get("Authorization"), got.Header.Get("Authorization"), "the signature is sent as signed")
		assert.NotEmpty(t, got.Header.Get("traceparent"), "attempt %d carries trace context", i+1)
	}
	assert.Equal(t, 1.0, oteltest.Sum(h.Collect(t), "marketplace.client.retries",
		telemetry.Service.String("huawei-bss"), telemetry.RetryReason.String("server_error")))
	h.AssertNoSecrets(t, "sig-secret")
}

func TestTrace_NoProviderSendsNoTraceparentWithoutASpan(t *testing.T) {
	rec := testkit.NewRecorder(testkit.OK(nil))
	c, _ := setup(t, rec)
	_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	require.NoError(t, err)
	assert.Empty(t, rec.Requests()[0].Header.Get("traceparent"), "no trace, no header")

	// The application's span travels even with the global no-op provider.
	h := oteltest.New(t)
	ctx, span := h.Tracer.Tracer("app").Start(context.Background(), "app")
	_, _, err = c.Do(ctx, httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	require.NoError(t, err)
	span.End()
	got := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(),
		propagation.HeaderCarrier(rec.Requests()[1].Header)))
	assert.Equal(t, span.SpanContext().TraceID(), got.TraceID())
}

func TestRedactedURL(t *testing.T) {
	u, _ := url.Parse("https://user:pw@x.test/a/b?k=v&k=w&z=1#frag")
	assert.Equal(t, "https://x.test/a/b?k=REDACTED&z=REDACTED", httpcore.RedactedURL(u))
}

// TestTrace_NetHTTPTransportWithATimeout: with net/http's transport and a
// Timeout (the default client), each redirect hop is an attempt span, the
// Timeout still bounds a request, and the client's error is the usual
// *url.Error.
func TestTrace_NetHTTPTransportWithATimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/old":
			http.Redirect(w, r, "/api/v1/new", http.StatusFound)
		case "/api/v1/slow":
			<-release
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(testkit.Envelope(200, map[string]string{}, nil, "", "")))
		}
	}))
	defer srv.Close()
	defer close(release)
	h := oteltest.New(t)
	c, err := httpcore.New(httpcore.Config{Service: "billing", BaseURL: srv.URL, HTTPClient: &http.Client{Timeout: 200 * time.Millisecond},
		Retry: retry.Policy{MaxRetries: -1}, Telemetry: telemetry.Providers{Tracer: h.Tracer}})
	require.NoError(t, err)
	_, _, err = c.Do(context.Background(), httpcore.Request{Operation: "Get", Method: http.MethodGet, Path: "/api/v1/old"}, nil)
	require.NoError(t, err)
	spans := h.Named("GET")
	require.Len(t, spans, 2, "the redirect and its target")
	assert.Equal(t, "302", oteltest.Str(spans[0], semconv.HTTPResponseStatusCodeKey))
	assert.Equal(t, "200", oteltest.Str(spans[1], semconv.HTTPResponseStatusCodeKey))

	_, _, err = c.Do(context.Background(), httpcore.Request{Operation: "Slow", Method: http.MethodGet, Path: "/api/v1/slow"}, nil)
	require.ErrorIs(t, err, apierror.ErrTransport)
	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	assert.True(t, ue.Timeout(), "%v", err)
	slow := h.Named("GET")[2]
	assert.Equal(t, "timeout", oteltest.Str(slow, semconv.ErrorTypeKey))
}
