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
		assert.Error(t, h.srv.InjectFault(f), "%+v", f)
	}
	assert.Empty(t, h.srv.FaultHits())
	// Site routes and Huawei routes match by pattern.
	require.NoError(t, h.srv.InjectFault(Fault{Path: sitePath("eu1", routes.CreateWorkspace)}))
	require.NoError(t, h.srv.InjectFault(Fault{Path: "/v3/auth/domains", Method: "get"}))
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
