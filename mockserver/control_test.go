package mockserver

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// controlErr is the control plane's error body.
type controlErr struct {
	Error string `json:"error"`
}

func (h *harness) control(method, path string, body any) (int, []byte) {
	h.t.Helper()
	r := h.do(method, path, body)
	return r.status, r.raw
}

// TestControlFaultsRefuseBadInput: a fault that could never fire, or whose
// body is not one JSON object, is refused instead of silently added.
func TestControlFaultsRefuseBadInput(t *testing.T) {
	h := newHarness(t)
	for name, body := range map[string]string{
		"trailing data":        `{"path":"/billing-center/api/v1/account/register"} {}`,
		"null":                 `null`,
		"empty":                ``,
		"unknown field":        `{"path":"/billing-center/api/v1/account/register","status2":500}`,
		"no route":             `{"path":"/billing-center/api/v1/nothing"}`,
		"no route for method":  `{"method":"GET","path":"/billing-center/api/v1/account/register"}`,
		"unknown method":       `{"method":"FETCH","path":"/billing-center/api/v1/account/register"}`,
		"control plane":        `{"path":"/_mock/health"}`,
		"negative delay":       `{"path":"/billing-center/api/v1/account/register","delay":-1}`,
		"negative retry-after": `{"path":"/billing-center/api/v1/account/register","retryAfter":"-2s"}`,
		"bad duration":         `{"path":"/billing-center/api/v1/account/register","delay":"soon"}`,
		"status 200":           `{"path":"/billing-center/api/v1/account/register","status":200}`,
	} {
		t.Run(name, func(t *testing.T) {
			status, raw := h.control(http.MethodPost, "/_mock/faults", body)
			require.Equal(t, http.StatusBadRequest, status, "%s", raw)
			var e controlErr
			require.NoError(t, json.Unmarshal(raw, &e))
			assert.NotEmpty(t, e.Error)
			assert.Empty(t, h.srv.FaultHits(), "nothing added")
		})
	}
}

// TestControlFaultDurations: over HTTP, durations are seconds (a number) or
// Go durations (a string), not nanoseconds; GET /_mock/faults shows the
// faults with their hits.
func TestControlFaultDurations(t *testing.T) {
	h := newHarness(t)
	path := bcPath(routes.SendCode)
	status, raw := h.control(http.MethodPost, "/_mock/faults",
		`{"method":"post","path":"`+path+`","status":429,"retryAfter":30,"times":2}`)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	status, raw = h.control(http.MethodPost, "/_mock/faults", `{"path":"`+path+`","retryAfter":"1m30s","delay":"1ms"}`)
	require.Equal(t, http.StatusCreated, status, "%s", raw)

	r := h.do(http.MethodPost, path, `{}`)
	requireErr(t, r, http.StatusTooManyRequests, apierror.CodeInjectedFault)
	assert.Equal(t, "30", r.header.Get("Retry-After"))

	status, raw = h.control(http.MethodGet, "/_mock/faults", nil)
	require.Equal(t, http.StatusOK, status)
	var got []FaultStatus
	require.NoError(t, json.Unmarshal(raw, &got), "%s", raw)
	require.Len(t, got, 2)
	assert.Equal(t, http.MethodPost, got[0].Method)
	assert.Equal(t, 30*time.Second, got[0].RetryAfter)
	assert.Equal(t, 1, got[0].Hits)
	assert.Equal(t, 90*time.Second, got[1].RetryAfter)
	assert.Equal(t, time.Millisecond, got[1].Delay)
	assert.Equal(t, 0, got[1].Hits)
	assert.Contains(t, string(raw), `"retryAfter":"30s"`)
}

// TestInjectFaultValidates: the Go API refuses the same faults.
func TestInjectFaultValidates(t *testing.T) {
	h := newHarness(t)
	for _, f := range []Fault{
		{Path: "/_mock/reset"},
		{Path: "/nowhere"},
		{Path: bcPath(routes.Register), Method: http.MethodGet},
		{Path: bcPath(routes.Register), Delay: -time.Second},
		{Path: bcPath(routes.Register), RetryAfter: -time.Second},
	} {
		_, err := h.srv.InjectFault(f)
		assert.Error(t, err, "%+v", f)
	}
	assert.Empty(t, h.srv.FaultHits())
	// Site routes and Huawei routes match by pattern.
	_, err := h.srv.InjectFault(Fault{Path: sitePath("eu1", routes.CreateWorkspace)})
	require.NoError(t, err)
	_, err = h.srv.InjectFault(Fault{Path: "/v3/auth/domains", Method: "get"})
	require.NoError(t, err)
}

// TestControlPlaneBodies: the other control endpoints are as strict.
func TestControlPlaneBodies(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/_mock/purchases", "/_mock/huawei-accounts"} {
		for _, body := range []string{``, `null`, `{} {}`, `[]`} {
			status, raw := h.control(http.MethodPost, path, body)
			assert.Equal(t, http.StatusBadRequest, status, "%s %q: %s", path, body, raw)
		}
	}
	assert.Len(t, h.srv.Purchases(), 1)
}

// TestLatencyOnlyFaultDelaysThenServes: a fault with a delay and nothing
// else slows the request down and then lets it be served, in Go and over
// HTTP; it still counts its hits.
func TestLatencyOnlyFaultDelaysThenServes(t *testing.T) {
	h := newHarness(t)
	path := bcPath(routes.SendCode)
	const delay = 30 * time.Millisecond
	_, err := h.srv.InjectFault(Fault{Path: path, Delay: delay})
	require.NoError(t, err)
	start := time.Now()
	r := h.do(http.MethodPost, path, `{"email":"ada@example.com","purpose":"register"}`)
	assert.GreaterOrEqual(t, time.Since(start), delay)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.True(t, r.env.Success)
	got := h.srv.Faults()
	require.Len(t, got, 1)
	assert.Equal(t, 1, got[0].Hits)
	assert.Zero(t, got[0].Status, "a latency-only fault answers with the handler's status")

	h.srv.ClearFaults()
	status, raw := h.control(http.MethodPost, "/_mock/faults", `{"path":"`+path+`","delay":"30ms"}`)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	start = time.Now()
	r = h.do(http.MethodPost, path, `{"email":"grace@example.com","purpose":"register"}`)
	assert.GreaterOrEqual(t, time.Since(start), delay)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)

	// A delay with anything that makes an error still answers the error.
	_, err = h.srv.InjectFault(Fault{Path: path, Delay: time.Millisecond, RetryAfter: time.Second})
	require.NoError(t, err)
	r = h.do(http.MethodPost, path, `{"email":"alan@example.com","purpose":"register"}`)
	requireErr(t, r, http.StatusServiceUnavailable, apierror.CodeInjectedFault)
}

// TestRemoveFaultByID: faults have IDs (InjectFault's result, POST's answer,
// GET's list) and can be removed one at a time, in Go and over HTTP.
func TestRemoveFaultByID(t *testing.T) {
	h := newHarness(t)
	path := bcPath(routes.SendCode)
	body := `{"email":"ada@example.com","purpose":"register"}`
	first, err := h.srv.InjectFault(Fault{Path: path, Status: http.StatusBadGateway, Times: 10})
	require.NoError(t, err)
	status, raw := h.control(http.MethodPost, "/_mock/faults", `{"path":"`+path+`","status":429,"times":10}`)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	var added struct{ ID, Status string }
	require.NoError(t, json.Unmarshal(raw, &added))
	assert.NotEqual(t, first, added.ID)
	assert.Regexp(t, `^fault-\d+$`, added.ID)

	status, raw = h.control(http.MethodGet, "/_mock/faults", nil)
	require.Equal(t, http.StatusOK, status)
	var listed []FaultStatus
	require.NoError(t, json.Unmarshal(raw, &listed), "%s", raw)
	require.Len(t, listed, 2)
	assert.Equal(t, []string{first, added.ID}, []string{listed[0].ID, listed[1].ID})

	requireErr(t, h.do(http.MethodPost, path, body), http.StatusBadGateway, apierror.CodeInjectedFault)
	require.True(t, h.srv.RemoveFault(first))
	assert.False(t, h.srv.RemoveFault(first), "removed once")
	requireErr(t, h.do(http.MethodPost, path, body), http.StatusTooManyRequests, apierror.CodeInjectedFault)
	assert.Equal(t, []int{1}, h.srv.FaultHits(), "the fault left keeps its count")

	status, raw = h.control(http.MethodDelete, "/_mock/faults/"+added.ID, nil)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	status, raw = h.control(http.MethodDelete, "/_mock/faults/"+added.ID, nil)
	assert.Equal(t, http.StatusNotFound, status, "%s", raw)
	assert.Empty(t, h.srv.Faults())
	r := h.do(http.MethodPost, path, body)
	assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)

	// IDs are not reused after Reset.
	require.NoError(t, h.srv.Reset())
	again, err := h.srv.InjectFault(Fault{Path: path})
	require.NoError(t, err)
	assert.NotContains(t, []string{first, added.ID}, again)
}

// TestControlDuplicatesAre409: a Huawei account, access key or purchase
// that exists already is a conflict, as the docs promise, and changes
// nothing.
func TestControlDuplicatesAre409(t *testing.T) {
	h := newHarness(t)
	for name, tc := range map[string]struct{ path, body string }{
		"account": {"/_mock/huawei-accounts", `{"id":"` + DemoHuaweiAccountID + `"}`},
		"access key": {"/_mock/huawei-accounts", `{"id":"ffffffffffffffffffffffffffffffff","keys":[{"ak":"` +
			DemoAccessKey + `","sk":"x"}]}`},
		"purchase": {"/_mock/purchases", `{"accountId":"` + DemoHuaweiAccountID + `","instanceId":"` + DemoInstanceID + `"}`},
	} {
		t.Run(name, func(t *testing.T) {
			status, raw := h.control(http.MethodPost, tc.path, tc.body)
			assert.Equal(t, http.StatusConflict, status, "%s", raw)
			var e controlErr
			require.NoError(t, json.Unmarshal(raw, &e))
			assert.Contains(t, e.Error, "already exists")
		})
	}
	assert.Len(t, h.srv.Purchases(), 1)
	status, raw := h.control(http.MethodPost, "/_mock/purchases", `{"accountId":"ffffffffffffffffffffffffffffffff","instanceId":"x"}`)
	assert.Equal(t, http.StatusBadRequest, status, "an unknown account is no conflict: %s", raw)
}
