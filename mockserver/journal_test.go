package mockserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
)

const (
	traceparentA = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	traceA       = "0af7651916cd43dd8448eb211c80319c"
	spanA        = "b7ad6b7169203331"
)

// journalOf reads GET /_mock/requests with query q over a plain client.
func journalOf(t *testing.T, srv *mockserver.Server, q string) []mockserver.RecordedRequest {
	t.Helper()
	r := ctl(t, srv, http.MethodGet, "/_mock/requests"+q, "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	var out []mockserver.RecordedRequest
	require.NoError(t, json.Unmarshal([]byte(r.body), &out))
	return out
}

// TestJournalRecordsEachRequestWithoutSecrets: a registration (password,
// code, proof of ownership), a code request with a trace context and an
// idempotency key, an unrouted path and a refused Huawei call are each
// journaled with what identifies them, and the journal, in Go and over
// HTTP, holds none of the secrets they carried.
func TestJournalRecordsEachRequestWithoutSecrets(t *testing.T) {
	clock := mockserver.NewManualClock(time.Now().UTC())
	srv := mockserver.Start(t, mockserver.WithClock(clock))
	ctx := context.Background()
	bc, err := billing.NewClient(billing.WithBaseURL(srv.BillingURL()), billing.WithHTTPClient(srv.HTTPClient()),
		billing.WithOwnershipProver(srv.OwnershipProver(mockserver.DemoHuaweiAccountID)))
	require.NoError(t, err)

	// A code request, sent raw with a trace context and a key.
	body := `{"email":"ada@example.com","purpose":"register"}`
	req, _ := http.NewRequest(http.MethodPost, srv.BillingURL()+routes.SendCode, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", traceparentA)
	req.Header.Set("Idempotency-Key", "idem-journal-1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sendID := resp.Header.Get("X-Request-Id")

	code, ok := srv.LatestCode("ada@example.com", billing.PurposeRegister)
	require.True(t, ok)
	const pw = "Journal-s3cret!"
	_, err = bc.Register(ctx, &billing.RegisterRequest{Username: "ada", Password: pw,
		Email: "ada@example.com", EmailCode: secret.String(code), Company: billing.Company{Name: "AE"},
		WorkspaceName: "prod", WorkspaceLanguage: "en", Site: "us1", TermsAccepted: true,
		HuaweiAccountID: mockserver.DemoHuaweiAccountID, InstanceID: mockserver.DemoInstanceID},
		billing.WithIdempotencyKey("idem-journal-2"))
	require.NoError(t, err)
	_, _, err = bc.ListBindableWorkspaces(ctx, secret.String("bctk_not-a-token"), nil)
	require.Error(t, err)

	r := ctl(t, srv, http.MethodGet, "/billing-center/api/v1/nothing", "")
	require.Equal(t, http.StatusNotFound, r.status)
	r = ctl(t, srv, http.MethodGet, "/v3/auth/domains", "", "Authorization", "SDK-HMAC-SHA256 Access=x, SignedHeaders=host, Signature=sig-journal")
	require.Equal(t, http.StatusUnauthorized, r.status)
	ctl(t, srv, http.MethodGet, "/_mock/state", "") // not journaled

	got := srv.Requests(mockserver.RequestFilter{})
	ops := make([]string, len(got))
	for i, e := range got {
		ops[i] = e.Operation
		assert.Equal(t, mockserver.DefaultNamespace, e.Namespace)
		assert.NotEmpty(t, e.RequestID)
		assert.GreaterOrEqual(t, e.Latency, time.Duration(0))
		assert.Equal(t, int64(i+1), e.Seq)
	}
	// The registration's proof was checked against the mock's own STS,
	// through its handler: that call is journaled too, before the
	// registration's own entry, which ends after it.
	assert.Equal(t, []string{"billing.SendVerificationCode", "sts.GetCallerIdentity", "billing.Register",
		"billing.ListBindableWorkspaces", mockserver.OperationUnrouted, "iam.KeystoneListAuthDomains"}, ops)

	send := got[0]
	assert.Equal(t, http.MethodPost, send.Method)
	assert.Equal(t, "/billing-center"+routes.SendCode, send.Path)
	assert.Equal(t, http.StatusOK, send.Status)
	assert.Equal(t, sendID, send.RequestID)
	assert.Equal(t, "idem-journal-1", send.IdempotencyKey)
	assert.Equal(t, traceA, send.TraceID)
	assert.Equal(t, spanA, send.SpanID)
	assert.Equal(t, clock.Now(), send.Time)

	reg := got[2]
	assert.Equal(t, http.StatusOK, reg.Status)
	assert.Equal(t, "idem-journal-2", reg.IdempotencyKey)
	assert.Empty(t, reg.TraceID, "no trace context sent")
	assert.Equal(t, http.StatusUnauthorized, got[3].Status)
	assert.Equal(t, "ft.Unauthorized", got[3].ErrorCode)
	assert.Equal(t, http.StatusNotFound, got[4].Status)
	assert.Equal(t, "ft.RouteNotFound", got[4].ErrorCode)
	assert.Equal(t, "APIGW.0301", got[5].ErrorCode)

	raw := ctl(t, srv, http.MethodGet, "/_mock/requests", "").body
	var wire []map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &wire))
	require.Len(t, wire, len(got))
	assert.Contains(t, wire[0], "latencyMs")
	assert.Equal(t, traceA, wire[0]["traceId"])
	for _, sec := range []string{pw, code, "bctk_not-a-token", "sig-journal", mockserver.DemoSecretKey} {
		assert.NotContains(t, raw, sec, "a secret is in the journal")
	}
	assert.Equal(t, got, journalOf(t, srv, ""), "the Go twin and the control plane agree")
}

// TestJournalFilters: every filter, in Go and over HTTP, and the newest
// entries by limit.
func TestJournalFilters(t *testing.T) {
	clock := mockserver.NewManualClock(time.Now().UTC())
	srv := mockserver.Start(t, mockserver.WithClock(clock))
	send := func(path, traceparent string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL()+path, nil)
		if traceparent != "" {
			req.Header.Set("traceparent", traceparent)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
	}
	send("/v3/auth/domains", traceparentA)
	clock.Advance(time.Minute)
	mid := clock.Now()
	send("/billing-center/api/v1/nothing", "")
	send("/v2/orders/customer-orders", "")
	clock.Advance(time.Minute)
	send("/v2/products/service-types", traceparentA)

	for _, tc := range []struct {
		q    string
		f    mockserver.RequestFilter
		want []string
	}{
		{"", mockserver.RequestFilter{}, []string{"/v3/auth/domains", "/billing-center/api/v1/nothing", "/v2/orders/customer-orders", "/v2/products/service-types"}},
		{"?operation=bss.ListCustomerOrders", mockserver.RequestFilter{Operation: "bss.ListCustomerOrders"}, []string{"/v2/orders/customer-orders"}},
		{"?status=404", mockserver.RequestFilter{Status: 404}, []string{"/billing-center/api/v1/nothing"}},
		{"?pathPrefix=/v2/", mockserver.RequestFilter{PathPrefix: "/v2/"}, []string{"/v2/orders/customer-orders", "/v2/products/service-types"}},
		{"?since=" + url.QueryEscape(mid.Format(time.RFC3339Nano)), mockserver.RequestFilter{Since: mid},
			[]string{"/billing-center/api/v1/nothing", "/v2/orders/customer-orders", "/v2/products/service-types"}},
		{"?traceId=" + traceA, mockserver.RequestFilter{TraceID: traceA}, []string{"/v3/auth/domains", "/v2/products/service-types"}},
		{"?limit=2", mockserver.RequestFilter{Limit: 2}, []string{"/v2/orders/customer-orders", "/v2/products/service-types"}},
		{"?pathPrefix=/v2/&status=401&limit=1", mockserver.RequestFilter{PathPrefix: "/v2/", Status: 401, Limit: 1}, []string{"/v2/products/service-types"}},
	} {
		paths := func(es []mockserver.RecordedRequest) []string {
			out := []string{}
			for _, e := range es {
				out = append(out, e.Path)
			}
			return out
		}
		assert.Equal(t, tc.want, paths(srv.Requests(tc.f)), "Go %+v", tc.f)
		assert.Equal(t, tc.want, paths(journalOf(t, srv, tc.q)), "HTTP %s", tc.q)
	}
}

// TestJournalQueryIsStrict: a filter the journal cannot apply exactly is
// refused with 400 in the control plane's error shape.
func TestJournalQueryIsStrict(t *testing.T) {
	srv := mockserver.Start(t)
	for _, q := range []string{
		"?op=billing.Register",   // unknown
		"?status=200&status=404", // repeated
		"?status=abc", "?status=99", "?status=600",
		"?since=yesterday", "?since=2026-01-02",
		"?traceId=0AF7651916CD43DD8448EB211C80319C", "?traceId=00000000000000000000000000000000", "?traceId=abc",
		"?limit=0", "?limit=-1", "?limit=x",
		"?pathPrefix=v2", "?operation=",
		"?%zz",
	} {
		r := ctl(t, srv, http.MethodGet, "/_mock/requests"+q, "")
		assert.Equal(t, http.StatusBadRequest, r.status, "%s: %s", q, r.body)
		var e struct{ Error string }
		assert.NoError(t, json.Unmarshal([]byte(r.body), &e), q)
		assert.NotEmpty(t, e.Error, q)
	}
}

// TestJournalClearIsAControlChange: DELETE /_mock/requests is guarded like
// every other change (X-Mock-Control, Origin, the control token) and
// Reset clears the journal too.
func TestJournalClearIsAControlChange(t *testing.T) {
	const token = "journal-token-0123456789"
	srv := mockserver.Start(t, mockserver.WithControlToken(token))
	auth := "Bearer " + token
	ctl(t, srv, http.MethodGet, "/v3/auth/domains", "")
	require.Len(t, srv.Requests(mockserver.RequestFilter{}), 1)

	assert.Equal(t, http.StatusUnauthorized, ctl(t, srv, http.MethodGet, "/_mock/requests", "").status, "the journal is behind the token")
	assert.Equal(t, http.StatusForbidden, ctl(t, srv, http.MethodGet, "/_mock/requests", "", "Authorization", auth,
		"Origin", "http://evil.example").status, "another origin cannot read it")
	assert.Equal(t, http.StatusForbidden, ctl(t, srv, http.MethodDelete, "/_mock/requests", "", "Authorization", auth).status,
		"a change needs X-Mock-Control")
	assert.Equal(t, http.StatusUnauthorized, ctl(t, srv, http.MethodDelete, "/_mock/requests", "", "X-Mock-Control", "1").status)
	require.Len(t, srv.Requests(mockserver.RequestFilter{}), 1, "nothing refused cleared it")

	r := ctl(t, srv, http.MethodDelete, "/_mock/requests", "", "Authorization", auth, "X-Mock-Control", "1")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Empty(t, srv.Requests(mockserver.RequestFilter{}))

	ctl(t, srv, http.MethodGet, "/v3/auth/domains", "")
	require.NoError(t, srv.Reset())
	assert.Empty(t, srv.Requests(mockserver.RequestFilter{}), "Reset clears the journal")
	ctl(t, srv, http.MethodGet, "/v3/auth/domains", "")
	got := srv.Requests(mockserver.RequestFilter{})
	require.Len(t, got, 1)
	assert.Equal(t, int64(3), got[0].Seq, "the sequence goes on across clears")
}

// TestJournalIsBounded: the journal keeps the newest WithJournalSize
// requests, each with a bounded path and key however large the request's;
// 0 keeps none; sizes out of range are refused.
func TestJournalIsBounded(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithJournalSize(3))
	for i := range 5 {
		ctl(t, srv, http.MethodGet, "/v2/products/service-types", "", "Idempotency-Key", strings.Repeat("k", 250+i*100))
	}
	got := srv.Requests(mockserver.RequestFilter{})
	require.Len(t, got, 3)
	assert.Equal(t, []int64{3, 4, 5}, []int64{got[0].Seq, got[1].Seq, got[2].Seq})
	for _, e := range got {
		assert.Len(t, e.IdempotencyKey, 255)
	}
	ctl(t, srv, http.MethodGet, "/v2/"+strings.Repeat("p", 8000), "")
	got = srv.Requests(mockserver.RequestFilter{Limit: 1})
	require.Len(t, got, 1)
	assert.Len(t, got[0].Path, 1024)
	assert.Equal(t, mockserver.OperationUnrouted, got[0].Operation)

	off := mockserver.Start(t, mockserver.WithJournalSize(0))
	ctl(t, off, http.MethodGet, "/v3/auth/domains", "")
	assert.Empty(t, off.Requests(mockserver.RequestFilter{}))
	for _, n := range []int{-1, 1_000_001} {
		_, err := mockserver.New(mockserver.WithJournalSize(n), mockserver.WithoutListener())
		assert.Error(t, err, "size %d", n)
	}
}

// TestJournalFaults: a dropped connection is journaled without a status,
// and a lost response with the status the client got.
func TestJournalFaults(t *testing.T) {
	srv := mockserver.Start(t)
	_, err := srv.InjectFault(mockserver.Fault{Path: "/v3/auth/domains", DropConnection: true})
	require.NoError(t, err)
	_, err = srv.InjectFault(mockserver.Fault{Path: "/v2/products/service-types", Status: 502, AfterHandler: true})
	require.NoError(t, err)
	_, err = http.Get(srv.URL() + "/v3/auth/domains")
	require.Error(t, err)
	resp, err := http.Get(srv.URL() + "/v2/products/service-types")
	require.NoError(t, err)
	_ = resp.Body.Close()
	got := srv.Requests(mockserver.RequestFilter{})
	require.Len(t, got, 2)
	assert.True(t, got[0].Dropped)
	assert.Zero(t, got[0].Status)
	assert.Equal(t, 502, got[1].Status)
	assert.Equal(t, "CBC.0999", got[1].ErrorCode)

	// In-process (WithoutListener) a drop is the same to the journal.
	inproc := mockserver.Start(t, mockserver.WithoutListener())
	_, err = inproc.InjectFault(mockserver.Fault{Path: "/v3/auth/domains", DropConnection: true})
	require.NoError(t, err)
	_, err = inproc.HTTPClient().Get(inproc.URL() + "/v3/auth/domains")
	require.Error(t, err)
	got = inproc.Requests(mockserver.RequestFilter{})
	require.Len(t, got, 1)
	assert.True(t, got[0].Dropped)
}

func TestRecordedRequestJSONRoundTrips(t *testing.T) {
	in := mockserver.RecordedRequest{Seq: 7, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Namespace: "default",
		Method: "GET", Path: "/v3/x", Operation: "iam.X", Status: 200, Latency: 1500 * time.Microsecond, RequestID: "req-1",
		TraceID: traceA, SpanID: spanA}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"latencyMs":1.5`)
	var out mockserver.RecordedRequest
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Equal(t, in, out)
}

// TestRecordedRequestLatencyRoundTripsToTheNanosecond: latencies whose
// milliseconds are not exact in floating point (253306 ns was read back
// as 253305) come back as they went.
func TestRecordedRequestLatencyRoundTripsToTheNanosecond(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 253306, 629722, 999999, 1234567891, 59407, 145441} {
		b, err := json.Marshal(mockserver.RecordedRequest{Latency: d})
		require.NoError(t, err)
		var out mockserver.RecordedRequest
		require.NoError(t, json.Unmarshal(b, &out))
		assert.Equal(t, d, out.Latency, "latency %d ns", int64(d))
	}
	for d := time.Duration(1); d < 2*time.Second; d = d*7 + 13 {
		b, err := json.Marshal(mockserver.RecordedRequest{Latency: d})
		require.NoError(t, err)
		var out mockserver.RecordedRequest
		require.NoError(t, json.Unmarshal(b, &out))
		require.Equal(t, d, out.Latency, "latency %d ns", int64(d))
	}
}
