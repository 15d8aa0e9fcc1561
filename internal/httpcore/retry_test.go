package httpcore_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/retry"
)

func TestDo_FailedBodyIsClosedBeforeTheWait(t *testing.T) {
	var cb countingBodies
	rec := testkit.NewRecorder(cb.wrap(testkit.Raw(503, strings.Repeat("x", 10<<10))), cb.wrap(testkit.OK(nil)))
	var openDuringWait []int
	c, _ := setup(t, rec, func(cfg *httpcore.Config) {
		cfg.Retry.Sleep = func(ctx context.Context, _ time.Duration) error {
			cb.mu.Lock()
			openDuringWait = append(openDuringWait, cb.opened-cb.closed)
			cb.mu.Unlock()
			return nil
		}
	})
	_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []int{0}, openDuringWait, "no body stays open while the call waits")
}

func TestDo_WaitsOnTheTimerWithoutAnInjectedSleep(t *testing.T) {
	rec := testkit.NewRecorder(testkit.Raw(503, ""), testkit.Raw(502, ""), testkit.OK(nil))
	var events []retry.Event
	c, _ := setup(t, rec, func(cfg *httpcore.Config) {
		cfg.Retry = retry.Policy{MaxRetries: 3, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond, NoJitter: true,
			OnRetry: func(e retry.Event) { events = append(events, e) }}
	})
	_, info, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, info.Attempts)
	require.Len(t, events, 2)
	assert.Equal(t, []time.Duration{time.Millisecond, 2 * time.Millisecond}, []time.Duration{events[0].Wait, events[1].Wait})
}

func TestDo_CancelDuringATimerWaitReturnsAtOnce(t *testing.T) {
	// Retry-After asks for an hour; the call must end when the context
	// does, not when the timer fires.
	rec := testkit.NewRecorder(testkit.WithHeader(testkit.Raw(503, ""), "Retry-After", "3600"))
	waiting := make(chan struct{})
	c, _ := setup(t, rec, func(cfg *httpcore.Config) {
		cfg.Retry = retry.Policy{MaxRetries: 2, RetryAfterMax: time.Hour, OnRetry: func(retry.Event) { close(waiting) }}
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-waiting; cancel() }()
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Do(ctx, httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, apierror.ErrTransport)
	case <-time.After(30 * time.Second):
		t.Fatal("the call kept waiting after its context was cancelled")
	}
	assert.Equal(t, 1, rec.Count())
}

func TestDo_RetryAfterHTTPDateInTheNearFuture(t *testing.T) {
	at := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	rec := testkit.NewRecorder(testkit.WithHeader(testkit.Fail(429, "", ""), "Retry-After", at), testkit.OK(nil))
	c, w := setup(t, rec)
	_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x"}, nil)
	require.NoError(t, err)
	require.Len(t, w.All(), 1)
	// The date has whole seconds: the wait is up to a second short of 3s.
	assert.Greater(t, w.All()[0], time.Second)
	assert.LessOrEqual(t, w.All()[0], 3*time.Second)
}

func TestDo_PrepareAttemptRunsBeforeEveryAttempt(t *testing.T) {
	rec := testkit.NewRecorder(testkit.Raw(503, ""), testkit.ConnError(), testkit.OK(nil))
	c, w := setup(t, rec)
	n := 0
	prepare := func(r *http.Request) error {
		n++
		r.Header.Set("X-Proof", "proof-"+string(rune('0'+n)))
		return nil
	}
	_, info, err := c.Do(context.Background(), httpcore.Request{Operation: "Register", Method: http.MethodPost, Path: "/api/v1/x",
		Body: map[string]int{"n": 1}, PrepareAttempt: prepare}, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, info.Attempts)
	var proofs []string
	for _, r := range rec.Requests() {
		proofs = append(proofs, r.Header.Get("X-Proof"))
		assert.JSONEq(t, `{"n":1}`, string(r.Body), "the body is sent again in full")
		assert.Equal(t, info.IdempotencyKey, r.Header.Get("Idempotency-Key"))
	}
	assert.Equal(t, []string{"proof-1", "proof-2", "proof-3"}, proofs, "each attempt carries its own")
	assert.Len(t, w.All(), 2, "the hook runs after each wait")

	t.Run("an error before the first attempt sends nothing", func(t *testing.T) {
		rec := testkit.NewRecorder(testkit.OK(nil))
		c, _ := setup(t, rec)
		boom := errors.New("cannot sign")
		_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x",
			PrepareAttempt: func(*http.Request) error { return boom }}, nil)
		require.ErrorIs(t, err, boom)
		var apiErr *apierror.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "Op", apiErr.Operation)
		assert.Zero(t, rec.Count())
	})
	t.Run("an error before a retry stops the call", func(t *testing.T) {
		rec := testkit.NewRecorder(testkit.Raw(503, ""), testkit.OK(nil))
		c, _ := setup(t, rec)
		boom := errors.New("cannot sign")
		calls := 0
		_, _, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodGet, Path: "/api/v1/x",
			PrepareAttempt: func(*http.Request) error {
				calls++
				if calls > 1 {
					return boom
				}
				return nil
			}}, nil)
		require.ErrorIs(t, err, boom)
		assert.Equal(t, 1, rec.Count())
	})
}

func TestDo_ConcurrentRetriesCountTheirOwnAttempts(t *testing.T) {
	// Each call's first attempt fails: every call must report exactly two
	// attempts, however the calls interleave.
	var mu sync.Mutex
	seen := map[string]bool{}
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		first := !seen[key]
		seen[key] = true
		mu.Unlock()
		if first {
			return testkit.Raw(503, "")(r)
		}
		return testkit.OK(nil)(r)
	})
	var w testkit.Waits
	c, err := httpcore.New(httpcore.Config{Service: "billing", BaseURL: base, HTTPClient: &http.Client{Transport: mt}, Retry: w.Policy(3)})
	require.NoError(t, err)
	const n = 16
	attempts := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, info, err := c.Do(context.Background(), httpcore.Request{Operation: "Op", Method: http.MethodPost, Path: "/api/v1/x"}, nil)
			assert.NoError(t, err)
			attempts <- info.Attempts
		}()
	}
	wg.Wait()
	close(attempts)
	for a := range attempts {
		assert.Equal(t, 2, a)
	}
}

// transport returns a Retrier's Transport over a mock transport answering
// through rec, with recorded waits and events.
func transport(t *testing.T, rec *testkit.Recorder, rules httpcore.Rules, o httpcore.TransportOptions) (*http.Client, *httpcore.Transport, *[]retry.Event) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(rec.Respond)
	var w testkit.Waits
	p := w.Policy(3)
	var events []retry.Event
	p.OnRetry = func(e retry.Event) { events = append(events, e) }
	r := httpcore.NewRetrier("huawei-bss", &http.Client{Transport: mt}, p, nil, rules, telemetry.Providers{})
	tr := r.Transport(context.Background(), "ListThings", o)
	return &http.Client{Transport: tr}, tr, &events
}

func hwFail(status int, code string) testkit.Reply {
	return testkit.Raw(status, `{"error_code":"`+code+`","error_msg":"no"}`)
}

func TestTransport_RetriesARepeatablePOSTAndHandsBackTheLastAnswer(t *testing.T) {
	rec := testkit.NewRecorder(hwFail(500, "CBC.0999"), testkit.WithHeader(hwFail(429, apierror.CodeHuaweiThrottled), "Retry-After", "2"),
		testkit.Raw(200, `{"total_count":0}`))
	hc, tr, events := transport(t, rec, httpcore.Rules{InternalServerErrors: true}, httpcore.TransportOptions{Repeatable: true})
	resp, err := hc.Post("https://bss.test/v2/query", "application/json", strings.NewReader(`{"limit":10}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, `{"total_count":0}`, string(body))
	assert.Equal(t, 3, tr.Attempts())
	reqs := rec.Requests()
	require.Len(t, reqs, 3)
	for _, r := range reqs {
		assert.Equal(t, `{"limit":10}`, string(r.Body), "the same request, body included, on every attempt")
	}
	require.Len(t, *events, 2)
	assert.Equal(t, retry.Event{Service: "huawei-bss", Operation: "ListThings", Attempt: 1, Reason: "HTTP 500", Wait: 100 * time.Millisecond}, (*events)[0])
	assert.Equal(t, retry.Event{Service: "huawei-bss", Operation: "ListThings", Attempt: 2, Reason: "rate limited (APIGW.0308)", Wait: 2 * time.Second}, (*events)[1])
}

func TestTransport_FinalFailureIsTheSDKsToDecode(t *testing.T) {
	rec := testkit.NewRecorder(testkit.WithHeader(hwFail(503, "APIGW.0201"), "Retry-After", "7"))
	hc, tr, _ := transport(t, rec, httpcore.Rules{InternalServerErrors: true}, httpcore.TransportOptions{Repeatable: true})
	resp, err := hc.Get("https://iam.test/v3/auth/domains")
	require.NoError(t, err, "an HTTP answer is not a transport error")
	defer resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(body), "APIGW.0201", "the last answer's body is intact")
	assert.Equal(t, 4, tr.Attempts())
	assert.Equal(t, 7*time.Second, tr.RetryAfter())
}

func TestTransport_RulesAndMethods(t *testing.T) {
	tests := []struct {
		name     string
		reply    testkit.Reply
		rules    httpcore.Rules
		o        httpcore.TransportOptions
		post     bool
		attempts int
	}{
		{"500 retried for Huawei", hwFail(500, "CBC.0999"), httpcore.Rules{InternalServerErrors: true}, httpcore.TransportOptions{}, false, 4},
		{"500 not retried for TrueWatch", hwFail(500, "CBC.0999"), httpcore.Rules{}, httpcore.TransportOptions{}, false, 1},
		{"501 never retried", hwFail(501, "X"), httpcore.Rules{InternalServerErrors: true}, httpcore.TransportOptions{}, false, 1},
		{"a POST not marked repeatable is not sent again after a 503", hwFail(503, "X"), httpcore.Rules{}, httpcore.TransportOptions{}, true, 1},
		{"a POST after throttling is", hwFail(429, apierror.CodeHuaweiThrottled), httpcore.Rules{}, httpcore.TransportOptions{}, true, 4},
		{"a repeatable POST is", hwFail(503, "X"), httpcore.Rules{}, httpcore.TransportOptions{Repeatable: true}, true, 4},
		{"401 is final", hwFail(401, apierror.CodeHuaweiUnauthorized), httpcore.Rules{InternalServerErrors: true}, httpcore.TransportOptions{Repeatable: true}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := testkit.NewRecorder(tt.reply)
			hc, tr, _ := transport(t, rec, tt.rules, tt.o)
			var resp *http.Response
			var err error
			if tt.post {
				resp, err = hc.Post("https://bss.test/v2/x", "application/json", strings.NewReader("{}"))
			} else {
				resp, err = hc.Get("https://bss.test/v2/x")
			}
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, tt.attempts, rec.Count())
			assert.Equal(t, tt.attempts, tr.Attempts())
		})
	}
}

func TestTransport_RetryUntilStopsRetriesOfAnExpiringRequest(t *testing.T) {
	rec := testkit.NewRecorder(hwFail(503, "X"), testkit.Raw(200, "{}"))
	expired := func(*http.Request) time.Time { return time.Now().Add(50 * time.Millisecond) }
	hc, tr, events := transport(t, rec, httpcore.Rules{}, httpcore.TransportOptions{RetryUntil: expired})
	resp, err := hc.Get("https://bss.test/v2/x")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode, "a wait of 100ms would end after the request expires")
	assert.Equal(t, 1, tr.Attempts())
	assert.Empty(t, *events)

	rec = testkit.NewRecorder(hwFail(503, "X"), testkit.Raw(200, "{}"))
	fresh := func(*http.Request) time.Time { return time.Now().Add(time.Hour) }
	hc, tr, _ = transport(t, rec, httpcore.Rules{}, httpcore.TransportOptions{RetryUntil: fresh})
	resp, err = hc.Get("https://bss.test/v2/x")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 2, tr.Attempts())
}

func TestTransport_ConnectionErrorsAndContext(t *testing.T) {
	rec := testkit.NewRecorder(testkit.ConnError())
	hc, tr, events := transport(t, rec, httpcore.Rules{}, httpcore.TransportOptions{Repeatable: true})
	_, err := hc.Get("https://bss.test/v2/x")
	require.ErrorIs(t, err, testkit.ErrConnection)
	assert.Equal(t, 1, strings.Count(err.Error(), "bss.test"), "the URL error is not nested twice")
	assert.Equal(t, 4, tr.Attempts())
	assert.Contains(t, (*events)[0].Reason, "connection error: ")

	type key struct{}
	var mu sync.Mutex
	var seen []any
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		seen = append(seen, r.Context().Value(key{}))
		mu.Unlock()
		return testkit.OK(nil)(r)
	})
	r := httpcore.NewRetrier("huawei-iam", &http.Client{Transport: mt}, retry.Policy{}, nil, httpcore.Rules{}, telemetry.Providers{})
	ctx := context.WithValue(context.Background(), key{}, "v")
	resp, err := (&http.Client{Transport: r.Transport(ctx, "Op", httpcore.TransportOptions{})}).Get("https://iam.test/v3/x")
	require.NoError(t, err)
	_ = resp.Body.Close()
	mu.Lock()
	assert.Equal(t, []any{"v"}, seen, "the call's context reaches the attempt")
	mu.Unlock()

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = (&http.Client{Transport: r.Transport(cctx, "Op", httpcore.TransportOptions{})}).Get("https://iam.test/v3/x")
	require.ErrorIs(t, err, context.Canceled)
}
