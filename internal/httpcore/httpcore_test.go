package httpcore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
)

const base = "https://api.test/billing-center"

// setup returns a client on a fresh mock transport that answers every
// request through rec, and the waits its retry policy records.
func setup(t *testing.T, rec *testkit.Recorder, mutate ...func(*httpcore.Config)) (*httpcore.Client, *testkit.Waits) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(rec.Respond)
	w := &testkit.Waits{}
	cfg := httpcore.Config{Service: "billing", BaseURL: base, HTTPClient: &http.Client{Transport: mt},
		Retry: w.Policy(3), UserAgent: "suite/1.0"}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := httpcore.New(cfg)
	require.NoError(t, err)
	return c, w
}

type item struct {
	ID   string `json:"uuid"`
	Name string `json:"name"`
}

func TestNew_RejectsBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "  ", "ftp://x.test", "/relative", "http://", "://bad"} {
		_, err := httpcore.New(httpcore.Config{Service: "billing", BaseURL: u})
		assert.Error(t, err, "base URL %q", u)
	}
	c, err := httpcore.New(httpcore.Config{Service: "billing", BaseURL: "https://x.test/prefix/"})
	require.NoError(t, err)
	assert.Equal(t, "https://x.test/prefix", c.BaseURL())
}

func TestDo_ShapesPOST(t *testing.T) {
	rec := testkit.NewRecorder(testkit.WithHeader(testkit.OK(item{ID: "wksp_1"}), "Idempotent-Replayed", "true"))
	c, _ := setup(t, rec)
	var out item
	page, info, err := c.Do(context.Background(), httpcore.Request{
		Operation: "BindWorkspace", Method: http.MethodPost, Path: "/api/v1/billing_account/workspace/bind",
		Query: url.Values{"a": {"1"}}, Body: map[string]string{"workspaceUUID": "wksp_1"}, Token: "tok-123",
	}, &out)
	require.NoError(t, err)
	assert.Nil(t, page)
	assert.Equal(t, item{ID: "wksp_1"}, out)

	reqs := rec.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "api.test", r.Host)
	assert.Equal(t, "/billing-center/api/v1/billing_account/workspace/bind", r.Path)
	assert.Equal(t, url.Values{"a": {"1"}}, r.Query)
	assert.Equal(t, "Bearer tok-123", r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Equal(t, "application/json;charset=UTF-8", r.Header.Get("Content-Type"))
	assert.Equal(t, httpcore.DefaultUserAgent+" suite/1.0", r.Header.Get("User-Agent"))
	assert.Regexp(t, `^idem_[0-9a-f]{32}$`, r.Header.Get("Idempotency-Key"))
	assert.JSONEq(t, `{"workspaceUUID":"wksp_1"}`, string(r.Body))

	assert.Equal(t, httpcore.CallInfo{HTTPStatus: 200, TraceID: testkit.TraceID, RequestID: testkit.RequestID,
		IdempotencyKey: r.Header.Get("Idempotency-Key"), Attempts: 1, Replayed: true}, info)
}

func TestDo_GETHasNoBodyKeyOrToken(t *testing.T) {
	rec := testkit.NewRecorder(testkit.OK(nil))
	c, _ := setup(t, rec)
	_, info, err := c.Do(context.Background(), httpcore.Request{Operation: "GetThing", Method: http.MethodGet, Path: "/api/v1/thing"}, nil)
	require.NoError(t, err)
	r := rec.Requests()[0]
	assert.Empty(t, r.Body)
	assert.Empty(t, r.Header.Get("Idempotency-Key"))
	assert.Empty(t, r.Header.Get("Authorization"))
	assert.Empty(t, r.Header.Get("Content-Type"))
	assert.Empty(t, info.IdempotencyKey)
}

func TestDo_POSTWithoutKeyWhenAsked(t *testing.T) {
	rec := testkit.NewRecorder(testkit.OK(nil))
	c, _ := setup(t, rec)
	_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodPost, Path: "/api/v1/x", NoIdempotencyKey: true}, nil)
	require.NoError(t, err)
	assert.Empty(t, rec.Requests()[0].Header.Get("Idempotency-Key"))
}

func TestDo_KeepsEscapedPathSegments(t *testing.T) {
	rec := testkit.NewRecorder(testkit.OK(nil))
	c, _ := setup(t, rec)
	_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Get", Method: http.MethodGet,
		Path: "/api/v1/workspace/" + url.PathEscape("a/b c?") + "/get"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "/billing-center/api/v1/workspace/a%2Fb%20c%3F/get", rec.Requests()[0].Path)
}

func TestDo_DecodesEnvelopes(t *testing.T) {
	list := []item{{ID: "a"}, {ID: "b"}}
	pi := httpcore.PageInfo{Count: 2, PageIndex: 1, PageSize: 20, TotalCount: 2}
	tests := []struct {
		name  string
		reply testkit.Reply
		page  *httpcore.PageInfo
		want  []item
	}{
		{"bare list", testkit.Page(list, pi), &pi, list},
		{"content.data list", testkit.Page(map[string]any{"data": list}, pi), &pi, list},
		{"empty list", testkit.Page([]item{}, httpcore.PageInfo{PageIndex: 1, PageSize: 20}), &httpcore.PageInfo{PageIndex: 1, PageSize: 20}, []item{}},
		{"null content", testkit.OK(nil), nil, nil},
		{"content.data null", testkit.OK(map[string]any{"data": nil}), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := setup(t, testkit.NewRecorder(tt.reply))
			var out []item
			page, _, err := c.Do(context.Background(), httpcore.Request{Operation: "List", Method: http.MethodGet, Path: "/api/v1/list"}, &out)
			require.NoError(t, err)
			assert.Equal(t, tt.page, page)
			assert.Equal(t, tt.want, out)
		})
	}
}

func TestDo_NilOutIgnoresContent(t *testing.T) {
	c, _ := setup(t, testkit.NewRecorder(testkit.OK(true)))
	_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	require.NoError(t, err)
}

func TestDo_ErrorEnvelope(t *testing.T) {
	rec := testkit.NewRecorder(testkit.Fail(http.StatusConflict, apierror.CodeAlreadyBound, "workspace is settled by another subscription"))
	c, _ := setup(t, rec)
	_, info, err := c.Do(context.Background(), httpcore.Request{Operation: "BindWorkspace", Method: http.MethodPost, Path: "/api/v1/x"}, nil)
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, &apierror.Error{Service: "billing", Operation: "BindWorkspace", HTTPStatus: 409, Code: 409,
		ErrorCode: apierror.CodeAlreadyBound, Message: "workspace is settled by another subscription",
		TraceID: testkit.TraceID, RequestID: testkit.RequestID, Attempts: 1}, apiErr)
	assert.ErrorIs(t, err, apierror.ErrAlreadyBound)
	assert.ErrorIs(t, err, apierror.ErrConflict)
	assert.NotErrorIs(t, err, apierror.ErrServer)
	assert.Equal(t, 1, rec.Count())
	assert.Equal(t, 409, info.HTTPStatus)
	assert.Equal(t, testkit.TraceID, info.TraceID)
}

func TestDo_MalformedBodies(t *testing.T) {
	tests := []struct {
		name    string
		reply   testkit.Reply
		status  int
		message string
	}{
		{"not JSON", testkit.Raw(200, "<html>oops</html>"), 200, "malformed response body"},
		{"truncated", testkit.Raw(200, `{"code":200,"success":true,"content":{"uuid":"ws`), 200, "malformed response body"},
		{"empty", testkit.Raw(200, ""), 200, "malformed response body"},
		{"content of the wrong type", testkit.OK("a string"), 200, "malformed response content"},
		{"success false without code", testkit.Raw(200, `{"code":200,"success":false}`), 200, "response envelope reports failure without an error code"},
		{"gateway HTML", testkit.Raw(400, "<html>Bad Request</html>"), 400, "Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := testkit.NewRecorder(tt.reply)
			c, _ := setup(t, rec)
			var out item
			_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Get", Method: http.MethodGet, Path: "/api/v1/x"}, &out)
			var apiErr *apierror.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.HTTPStatus)
			assert.Equal(t, tt.message, apiErr.Message)
			assert.Equal(t, "Get", apiErr.Operation)
			assert.Equal(t, tt.status == 200 && strings.HasPrefix(tt.message, "malformed"), errors.Is(err, apierror.ErrMalformedResponse))
			assert.Equal(t, 1, rec.Count(), "a malformed answer is not retried")
		})
	}
}

func TestDo_RetriesTransientFailures(t *testing.T) {
	tests := []struct {
		name  string
		first testkit.Reply
	}{
		{"429", testkit.Fail(429, "", "slow down")},
		{"502", testkit.Raw(502, "bad gateway")},
		{"503", testkit.Fail(503, apierror.CodeInternal, "unavailable")},
		{"504", testkit.Raw(504, "")},
		{"connection error", testkit.ConnError()},
		{"401 AK limiter", testkit.Fail(401, apierror.CodeAkRateLimited, "limited")},
		{"401 workspace limiter", testkit.Fail(401, apierror.CodeWorkspaceRateLimited, "limited")},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(tt.name+" "+method, func(t *testing.T) {
				rec := testkit.NewRecorder(tt.first, testkit.OK(item{ID: "ok"}))
				c, w := setup(t, rec)
				var out item
				_, info, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: method, Path: "/api/v1/x", Body: map[string]int{"n": 1}}, &out)
				require.NoError(t, err)
				assert.Equal(t, "ok", out.ID)
				assert.Equal(t, 2, rec.Count())
				assert.Equal(t, 2, info.Attempts)
				assert.Equal(t, []time.Duration{100 * time.Millisecond}, w.All())
				reqs := rec.Requests()
				assert.Equal(t, reqs[0].Body, reqs[1].Body, "the body is sent again in full")
				if method == http.MethodPost {
					assert.NotEmpty(t, reqs[0].Header.Get("Idempotency-Key"))
					assert.Equal(t, reqs[0].Header.Get("Idempotency-Key"), reqs[1].Header.Get("Idempotency-Key"))
				}
			})
		}
	}
}

func TestDo_DoesNotRetryPermanentFailures(t *testing.T) {
	tests := []struct {
		name     string
		reply    testkit.Reply
		sentinel error
	}{
		{"500", testkit.Fail(500, apierror.CodeInternal, "boom"), apierror.ErrServer},
		{"501", testkit.Raw(501, ""), apierror.ErrServer},
		{"400", testkit.Fail(400, apierror.CodeValidation, "bad"), apierror.ErrValidation},
		{"401", testkit.Fail(401, apierror.CodeUnauthorized, "no"), apierror.ErrUnauthorized},
		{"404", testkit.Fail(404, apierror.CodeNotFound, "none"), apierror.ErrNotFound},
		{"409", testkit.Fail(409, apierror.CodeIdempotencyKeyReused, "reused"), apierror.ErrIdempotencyKeyReused},
		{"409 already bound", testkit.Fail(409, apierror.CodeAlreadyBound, "bound"), apierror.ErrAlreadyBound},
		{"429 resend too soon", testkit.Fail(429, apierror.CodeCodeResendTooSoon, "wait"), apierror.ErrResendTooSoon},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := testkit.NewRecorder(tt.reply, testkit.OK(nil))
			c, w := setup(t, rec)
			_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
			require.ErrorIs(t, err, tt.sentinel)
			assert.Equal(t, 1, rec.Count())
			assert.Empty(t, w.All())
		})
	}
}

func TestDo_POSTWithoutKeyRetriedOnlyAfterRateLimit(t *testing.T) {
	t.Run("503 not retried", func(t *testing.T) {
		rec := testkit.NewRecorder(testkit.Raw(503, ""), testkit.OK(nil))
		c, _ := setup(t, rec)
		_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodPost, Path: "/api/v1/x", NoIdempotencyKey: true}, nil)
		require.ErrorIs(t, err, apierror.ErrServer)
		assert.Equal(t, 1, rec.Count())
	})
	t.Run("connection error not retried", func(t *testing.T) {
		rec := testkit.NewRecorder(testkit.ConnError(), testkit.OK(nil))
		c, _ := setup(t, rec)
		_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodPost, Path: "/api/v1/x", NoIdempotencyKey: true}, nil)
		require.ErrorIs(t, err, apierror.ErrTransport)
		assert.ErrorIs(t, err, testkit.ErrConnection)
		assert.Equal(t, 1, rec.Count())
	})
	for _, first := range []testkit.Reply{testkit.Fail(429, "", ""), testkit.Fail(401, apierror.CodeAkRateLimited, "")} {
		rec := testkit.NewRecorder(first, testkit.OK(nil))
		c, _ := setup(t, rec)
		_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodPost, Path: "/api/v1/x", NoIdempotencyKey: true}, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, rec.Count(), "a rate-limit answer proves the server did not act")
	}
}

func TestDo_ExhaustedRetries(t *testing.T) {
	t.Run("rate limited by the AK limiter", func(t *testing.T) {
		rec := testkit.NewRecorder(testkit.Fail(401, apierror.CodeAkRateLimited, "too many calls"))
		c, w := setup(t, rec)
		_, info, err := c.Do(context.Background(), httpcore.Request{Operation: "ListBindableWorkspaces", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
		var apiErr *apierror.Error
		require.ErrorAs(t, err, &apiErr)
		assert.ErrorIs(t, err, apierror.ErrRateLimited)
		assert.NotErrorIs(t, err, apierror.ErrUnauthorized)
		assert.Equal(t, 4, apiErr.Attempts)
		assert.Equal(t, 4, info.Attempts)
		assert.Equal(t, 4, rec.Count())
		assert.Contains(t, err.Error(), "after 4 attempts")
		assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}, w.All())
	})
	t.Run("connection errors", func(t *testing.T) {
		rec := testkit.NewRecorder(testkit.ConnError())
		c, _ := setup(t, rec)
		_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
		var apiErr *apierror.Error
		require.ErrorAs(t, err, &apiErr)
		assert.ErrorIs(t, err, apierror.ErrTransport)
		assert.Equal(t, 0, apiErr.HTTPStatus)
		assert.Equal(t, 4, apiErr.Attempts)
	})
	t.Run("retries disabled", func(t *testing.T) {
		rec := testkit.NewRecorder(testkit.Raw(503, ""))
		c, _ := setup(t, rec, func(cfg *httpcore.Config) { cfg.Retry = retry.Disabled() })
		_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
		require.ErrorIs(t, err, apierror.ErrServer)
		assert.Equal(t, 1, rec.Count())
	})
}

func TestDo_RetryAfter(t *testing.T) {
	tests := []struct {
		retryAfter string
		want       time.Duration
	}{
		{"2", 2 * time.Second},
		{"0", 100 * time.Millisecond},
		{"3600", 5 * time.Second},
		{"soon", 100 * time.Millisecond},
		{time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 100 * time.Millisecond},
		{time.Now().Add(24 * time.Hour).UTC().Format(http.TimeFormat), 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.retryAfter, func(t *testing.T) {
			rec := testkit.NewRecorder(testkit.WithHeader(testkit.Fail(429, "", ""), "Retry-After", tt.retryAfter), testkit.OK(nil))
			c, w := setup(t, rec)
			_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
			require.NoError(t, err)
			assert.Equal(t, []time.Duration{tt.want}, w.All())
		})
	}
}

func TestDo_RateLimitBodyReadInFull(t *testing.T) {
	long := strings.Repeat("x", 100<<10)
	rec := testkit.NewRecorder(testkit.Fail(429, "", long))
	c, _ := setup(t, rec, func(cfg *httpcore.Config) { cfg.Retry = retry.Disabled() })
	_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, long, apiErr.Message)
	assert.Equal(t, testkit.TraceID, apiErr.TraceID)
}

func TestDo_CancelDuringWaitReturnsAtOnce(t *testing.T) {
	rec := testkit.NewRecorder(testkit.Raw(503, ""))
	started := make(chan struct{}, 1)
	c, _ := setup(t, rec, func(cfg *httpcore.Config) {
		cfg.Retry.Sleep = testkit.BlockingSleep(started)
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, info, err := c.Do(ctx, httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	require.ErrorIs(t, err, context.Canceled)
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "Op", apiErr.Operation)
	assert.Equal(t, 1, rec.Count(), "no attempt after the cancellation")
	assert.Equal(t, 1, info.Attempts)
}

func TestDo_CancelledContextSendsNothingMore(t *testing.T) {
	rec := testkit.NewRecorder(testkit.OK(nil))
	c, _ := setup(t, rec)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := c.Do(ctx, httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.LessOrEqual(t, rec.Count(), 1)
}

func TestDo_NilContext(t *testing.T) {
	rec := testkit.NewRecorder(testkit.OK(nil))
	c, _ := setup(t, rec)
	//lint:ignore SA1012 the test checks that a nil context is refused
	_, _, err := c.Do(nil, httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil) //nolint:staticcheck // the test checks that a nil context is refused
	require.ErrorIs(t, err, apierror.ErrValidation, "a programming error, refused before sending")
	assert.NotErrorIs(t, err, apierror.ErrTransport, "not a network failure a caller would retry")
	op, fields, _ := testkit.Refusal(err)
	assert.Equal(t, "Op", op)
	assert.Equal(t, []string{"ctx"}, fields)
	assert.Equal(t, 0, rec.Count())
}

func TestDo_ReportsRetries(t *testing.T) {
	var fromPolicy, fromCtx []retry.Event
	rec := testkit.NewRecorder(testkit.Raw(503, ""), testkit.Fail(401, apierror.CodeWorkspaceRateLimited, ""), testkit.OK(nil))
	c, _ := setup(t, rec, func(cfg *httpcore.Config) {
		cfg.Retry.OnRetry = func(e retry.Event) { fromPolicy = append(fromPolicy, e) }
	})
	ctx := retry.WithObserver(context.Background(), func(e retry.Event) { fromCtx = append(fromCtx, e) })
	_, _, err := c.Do(ctx, httpcore.Request{Operation: "GetBinding", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	require.NoError(t, err)
	want := []retry.Event{
		{Service: "billing", Operation: "GetBinding", Attempt: 1, Reason: "HTTP 503", Wait: 100 * time.Millisecond},
		{Service: "billing", Operation: "GetBinding", Attempt: 2, Reason: "rate limited (" + apierror.CodeWorkspaceRateLimited + ")", Wait: 200 * time.Millisecond},
	}
	assert.Equal(t, want, fromPolicy)
	assert.Equal(t, want, fromCtx)
}

func TestDo_LogsNoSecrets(t *testing.T) {
	const token = "tok-SUPER-SECRET-4711"
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec := testkit.NewRecorder(testkit.Raw(503, ""), testkit.ConnError(), testkit.Fail(400, apierror.CodeInvalidCode, "wrong code"))
	c, _ := setup(t, rec, func(cfg *httpcore.Config) { cfg.Logger = logger })
	_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Register", Method: http.MethodPost, Path: "/api/v1/x",
		Token: token, Body: map[string]string{"password": "Pa55word!", "emailCode": "123456"}}, nil)
	require.Error(t, err)
	out := buf.String()
	assert.Contains(t, out, `"msg":"retrying"`)
	assert.Contains(t, out, `"op":"Register"`)
	for _, s := range []string{token, "Pa55word!", "123456"} {
		assert.NotContains(t, out, s)
		assert.NotContains(t, err.Error(), s)
	}
}

func TestCall_Options(t *testing.T) {
	t.Run("caller key on every attempt", func(t *testing.T) {
		rec := testkit.NewRecorder(testkit.Raw(502, ""), testkit.OK(nil))
		c, _ := setup(t, rec)
		var o httpcore.CallOptions
		var info httpcore.CallInfo
		o.SetIdempotencyKey("activation-42-register")
		o.SetCallInfo(&info)
		_, err := c.Call(context.Background(), httpcore.Request{Operation: "Register", Method: http.MethodPost, Path: "/api/v1/x"}, nil, nil, o)
		require.NoError(t, err)
		for _, r := range rec.Requests() {
			assert.Equal(t, "activation-42-register", r.Header.Get("Idempotency-Key"))
		}
		assert.Equal(t, httpcore.CallInfo{HTTPStatus: 200, TraceID: testkit.TraceID, RequestID: testkit.RequestID,
			IdempotencyKey: "activation-42-register", Attempts: 2}, info)
	})
	t.Run("call info on failure", func(t *testing.T) {
		rec := testkit.NewRecorder(testkit.Fail(404, apierror.CodeNotFound, ""))
		c, _ := setup(t, rec)
		var o httpcore.CallOptions
		var info httpcore.CallInfo
		o.SetCallInfo(&info)
		_, err := c.Call(context.Background(), httpcore.Request{Operation: "Get", Method: http.MethodGet, Path: "/api/v1/x"}, nil, nil, o)
		require.ErrorIs(t, err, apierror.ErrNotFound)
		assert.Equal(t, 404, info.HTTPStatus)
		assert.Equal(t, 1, info.Attempts)
		assert.Equal(t, testkit.TraceID, info.TraceID)
	})
	for _, key := range []string{"", "has space", "tab\t", "é", strings.Repeat("k", 256)} {
		t.Run("bad key "+key, func(t *testing.T) {
			rec := testkit.NewRecorder(testkit.OK(nil))
			c, _ := setup(t, rec)
			var o httpcore.CallOptions
			info := httpcore.CallInfo{Attempts: 9}
			o.SetIdempotencyKey(key)
			o.SetCallInfo(&info)
			_, err := c.Call(context.Background(), httpcore.Request{Operation: "Register", Method: http.MethodPost, Path: "/api/v1/x"}, nil, nil, o)
			var ve *apierror.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "Register", ve.Operation)
			assert.Equal(t, "idempotencyKey", ve.Problems[0].Field)
			assert.Equal(t, 0, rec.Count())
			assert.Equal(t, httpcore.CallInfo{}, info)
		})
	}
	t.Run("invalid input sends nothing", func(t *testing.T) {
		rec := testkit.NewRecorder(testkit.OK(nil))
		c, _ := setup(t, rec)
		invalid := errors.New("bad input")
		_, err := c.Call(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil, invalid, httpcore.CallOptions{})
		assert.Same(t, invalid, err)
		assert.Equal(t, 0, rec.Count())
	})
}

type req struct{ Name string }

func (r *req) Validate() error {
	var p apierror.Problems
	if r.Name == "" {
		p.Add("name", "is required")
	}
	return p.Err("SomethingElse")
}

func TestCheck(t *testing.T) {
	assert.NoError(t, httpcore.Check("Op", nil, &req{Name: "x"}))

	err := httpcore.Check("Op", nil, (*req)(nil))
	var ve *apierror.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Op", ve.Operation)
	assert.Equal(t, []apierror.Problem{{Message: "request must not be nil"}}, ve.Problems)

	var p apierror.Problems
	httpcore.Token(&p, "token", "")
	err = httpcore.Check("Op", p, &req{})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Op", ve.Operation, "the operation is the method's, not the type's")
	assert.Equal(t, []apierror.Problem{{Field: "token", Message: "is required"}, {Field: "name", Message: "is required"}}, ve.Problems)
}

func TestToken(t *testing.T) {
	for tok, want := range map[string]string{"": "is required", "   ": "is required", "a b": "must not contain spaces or control characters", "a\nb": "must not contain spaces or control characters", "abc.DEF-123": ""} {
		var p apierror.Problems
		httpcore.Token(&p, "token", secretString(tok))
		if want == "" {
			assert.Empty(t, p, tok)
			continue
		}
		require.Len(t, p, 1, tok)
		assert.Equal(t, want, p[0].Message)
	}
}

func TestConfigSetters(t *testing.T) {
	var cfg httpcore.Config
	assert.Error(t, cfg.SetHTTPClient(nil))
	assert.Error(t, cfg.SetLogger(nil))
	assert.Error(t, cfg.SetRetryPolicy(retry.Policy{WaitMin: -1}))
	assert.Error(t, cfg.SetUserAgent("bad\r\nX-Injected: 1"))
	require.NoError(t, cfg.SetUserAgent(" app/2.0 "))
	assert.Equal(t, "app/2.0", cfg.UserAgent)
	require.NoError(t, cfg.SetRetryPolicy(retry.Disabled()))
	assert.Equal(t, -1, cfg.Retry.MaxRetries)
}

func TestNewIdempotencyKey(t *testing.T) {
	a, b := httpcore.NewIdempotencyKey(), httpcore.NewIdempotencyKey()
	assert.Regexp(t, `^idem_[0-9a-f]{32}$`, a)
	assert.NotEqual(t, a, b)
}

func secretString(s string) secret.String { return secret.String(s) }

func TestDo_ConcurrentCallsKeepTheirOwnState(t *testing.T) {
	rec := testkit.NewRecorder(testkit.OK(item{ID: "x"}))
	c, _ := setup(t, rec)
	const n = 16
	keys := make(chan string, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			var out item
			_, info, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodPost, Path: "/api/v1/x"}, &out)
			errs <- err
			keys <- info.IdempotencyKey
		}()
	}
	seen := map[string]bool{}
	for range n {
		require.NoError(t, <-errs)
		seen[<-keys] = true
	}
	assert.Len(t, seen, n, "every call has its own key")
	assert.Equal(t, n, rec.Count())
}

func TestDo_ErrorCarriesRetryAfter(t *testing.T) {
	rec := testkit.NewRecorder(testkit.WithHeader(testkit.Fail(429, apierror.CodeCodeResendTooSoon, "too soon"), "Retry-After", "42"))
	c, w := setup(t, rec)
	_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodPost, Path: "/api/v1/x", Body: map[string]int{}}, nil)
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, apierror.ErrResendTooSoon)
	assert.Equal(t, 42*time.Second, apiErr.RetryAfter)
	assert.Empty(t, w.All(), "a refused resend is not retried")
	assert.Equal(t, 1, rec.Count())
}

func TestDo_RetriesIdempotencyKeyInFlight(t *testing.T) {
	// A retry after a lost response can reach the server while the first
	// attempt is still running: the server did nothing for it, and waiting
	// lets the first finish so that the next retry gets it replayed.
	rec := testkit.NewRecorder(testkit.ConnError(),
		testkit.Fail(409, apierror.CodeIdempotencyKeyInFlight, "still running"),
		testkit.WithHeader(testkit.OK(item{ID: "ok"}), "Idempotent-Replayed", "true"))
	c, w := setup(t, rec)
	var out item
	_, info, err := c.Do(context.Background(), httpcore.Request{Operation: "Register", Method: http.MethodPost, Path: "/api/v1/x", Body: map[string]int{"n": 1}}, &out)
	require.NoError(t, err)
	assert.Equal(t, "ok", out.ID)
	assert.Equal(t, 3, info.Attempts)
	assert.True(t, info.Replayed)
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, w.All())

	t.Run("exhausted: the conflict is reported", func(t *testing.T) {
		rec := testkit.NewRecorder(testkit.Fail(409, apierror.CodeIdempotencyKeyInFlight, "still running"))
		c, _ := setup(t, rec)
		_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Register", Method: http.MethodPost, Path: "/api/v1/x"}, nil)
		var apiErr *apierror.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, apierror.CodeIdempotencyKeyInFlight, apiErr.ErrorCode)
		assert.Equal(t, 4, apiErr.Attempts)
	})
}

func TestDo_HugeRetryAfterIsCappedNotIgnored(t *testing.T) {
	// Seconds that overflow a time.Duration mean "a very long time": the
	// wait is the policy's cap, not the short exponential backoff.
	for _, v := range []string{"9223372036854775807", "10000000000", "99999999999999999999"} {
		t.Run(v, func(t *testing.T) {
			rec := testkit.NewRecorder(testkit.WithHeader(testkit.Fail(429, "", ""), "Retry-After", v))
			c, w := setup(t, rec, func(cfg *httpcore.Config) { cfg.Retry.MaxRetries = 1 })
			_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
			var apiErr *apierror.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, []time.Duration{5 * time.Second}, w.All())
			assert.Greater(t, apiErr.RetryAfter, 24*time.Hour, "the error reports the server's long Retry-After")
		})
	}
}

// errBody is a response body that fails after its first bytes.
type errBody struct {
	r      io.Reader
	closed *int
}

func (b *errBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *errBody) Close() error { *b.closed++; return nil }

func TestDo_BodyReadFailureKeepsStatusAndRequestID(t *testing.T) {
	closed := 0
	reply := func(req *http.Request) (*http.Response, error) {
		resp, err := testkit.Raw(200, "")(req)
		resp.Body = &errBody{r: strings.NewReader(`{"code":200,"succ`), closed: &closed}
		return resp, err
	}
	rec := testkit.NewRecorder(reply)
	c, _ := setup(t, rec)
	_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "GetBinding", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 200, apiErr.HTTPStatus)
	assert.Equal(t, testkit.RequestID, apiErr.RequestID)
	assert.Equal(t, "GetBinding", apiErr.Operation)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.ErrorIs(t, err, apierror.ErrTransport, "a response cut short is a transport failure")
	assert.Equal(t, 1, closed)
}

// countingBodies wraps every reply's body so that a test can check that
// each one is closed.
type countingBodies struct {
	mu             sync.Mutex
	opened, closed int
}

type countedBody struct {
	io.Reader
	c    *countingBodies
	once sync.Once
}

func (b *countedBody) Close() error {
	b.once.Do(func() { b.c.mu.Lock(); b.c.closed++; b.c.mu.Unlock() })
	return nil
}

func (cb *countingBodies) wrap(r testkit.Reply) testkit.Reply {
	return func(req *http.Request) (*http.Response, error) {
		resp, err := r(req)
		if resp != nil {
			cb.mu.Lock()
			cb.opened++
			cb.mu.Unlock()
			resp.Body = &countedBody{Reader: resp.Body, c: cb}
		}
		return resp, err
	}
}

func TestDo_ClosesEveryResponseBody(t *testing.T) {
	tests := []struct {
		name    string
		replies []testkit.Reply
		cancel  bool
	}{
		{"success after retries", []testkit.Reply{testkit.Raw(503, ""), testkit.Fail(429, "", ""), testkit.OK(item{})}, false},
		{"retries exhausted", []testkit.Reply{testkit.Raw(502, "")}, false},
		{"final error", []testkit.Reply{testkit.Fail(404, apierror.CodeNotFound, "")}, false},
		{"malformed", []testkit.Reply{testkit.Raw(200, "{")}, false},
		{"cancelled while waiting", []testkit.Reply{testkit.Raw(503, "")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cb countingBodies
			replies := make([]testkit.Reply, len(tt.replies))
			for i, r := range tt.replies {
				replies[i] = cb.wrap(r)
			}
			rec := testkit.NewRecorder(replies...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, _ := setup(t, rec, func(cfg *httpcore.Config) {
				if tt.cancel {
					cfg.Retry.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
				}
			})
			var out item
			_, _, _ = c.Do(ctx, httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, &out)
			assert.Positive(t, cb.opened)
			assert.Equal(t, cb.opened, cb.closed, "every response body is closed")
		})
	}
}

func TestDo_CancelledCallIsNotATransportError(t *testing.T) {
	rec := testkit.NewRecorder(testkit.Raw(503, ""))
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := setup(t, rec, func(cfg *httpcore.Config) {
		cfg.Retry.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	})
	_, _, err := c.Do(ctx, httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, apierror.ErrTransport, "the caller gave up; nothing is wrong with the network")
}

func TestNew_RefusesCredentialsInBaseURL(t *testing.T) {
	// The API authenticates with tokens; a password in the base URL would
	// go out as Basic auth on every request and show in BaseURL().
	for _, u := range []string{"https://user:hunter2@billing.test", "ftp://user:hunter2@billing.test", "https://user:hunter2@[::1"} {
		_, err := httpcore.New(httpcore.Config{Service: "billing", BaseURL: u})
		require.Error(t, err, u)
		assert.NotContains(t, err.Error(), "hunter2", "the error never shows the password")
	}
}
