package mockserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// ctlResp is one answer of the control plane.
type ctlResp struct {
	status int
	header http.Header
	body   string
}

// ctl sends a control request over a plain client (not HTTPClient, which
// adds what the control plane requires): method, path, body, then header
// pairs; "Host" sets the Host header.
func ctl(t *testing.T, srv *mockserver.Server, method, path, body string, headers ...string) ctlResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+srv.Addr()+path, rd)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return ctlResp{resp.StatusCode, resp.Header, string(raw)}
}

// noCORS: nothing the control plane answers lets another origin read it.
func noCORS(t *testing.T, r ctlResp) {
	t.Helper()
	for k := range r.header {
		assert.False(t, strings.HasPrefix(strings.ToLower(k), "access-control-"), "CORS header %s", k)
	}
}

// stateOf is what a refused control request must leave as it was.
func stateOf(t *testing.T, srv *mockserver.Server) string {
	t.Helper()
	b, err := json.Marshal(struct {
		S mockserver.Snapshot
		F []mockserver.FaultStatus
		O []mockserver.Email
	}{srv.Snapshot(), srv.Faults(), srv.Outbox()})
	require.NoError(t, err)
	return string(b)
}

// TestControlRefusesCrossOriginForms: a web page can post a form to the
// mock from the user's browser (a "simple" request: no preflight); none of
// these reaches the control plane, and none changes anything.
func TestControlRefusesCrossOriginForms(t *testing.T) {
	srv := mockserver.Start(t)
	_, err := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "keepme", Email: "keep@example.com"})
	require.NoError(t, err)
	before := stateOf(t, srv)
	const fault = `{"path":"/v3/auth/domains","times":1000}`
	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
	}{
		{"text/plain form reset from a foreign origin", "POST", "/_mock/reset", "x=y",
			[]string{"Content-Type", "text/plain", "Origin", "http://evil.example"}},
		{"text/plain form fault from a foreign origin", "POST", "/_mock/faults", fault,
			[]string{"Content-Type", "text/plain", "Origin", "http://evil.example"}},
		{"urlencoded form fault", "POST", "/_mock/faults", fault,
			[]string{"Content-Type", "application/x-www-form-urlencoded", "Origin", "http://evil.example"}},
		{"multipart form reset", "POST", "/_mock/reset", "--b--",
			[]string{"Content-Type", "multipart/form-data; boundary=b", "Origin", "null"}},
		{"form without Origin, cross-site fetch metadata", "POST", "/_mock/reset", "x",
			[]string{"Content-Type", "text/plain", "Sec-Fetch-Site", "cross-site"}},
		{"clear faults from another port of localhost", "DELETE", "/_mock/faults", "",
			[]string{"Origin", "http://localhost:3000", "X-Mock-Control", "1"}},
		{"JSON fault from a foreign origin with the header", "POST", "/_mock/faults", fault,
			[]string{"Content-Type", "application/json", "Origin", "http://evil.example", "X-Mock-Control", "1"}},
		{"JSON reset without the control header", "POST", "/_mock/reset", "",
			[]string{"Content-Type", "application/json"}},
		{"text/plain fault with the control header", "POST", "/_mock/faults", fault,
			[]string{"Content-Type", "text/plain", "X-Mock-Control", "1"}},
		{"fault without a Content-Type", "POST", "/_mock/faults", fault, []string{"X-Mock-Control", "1"}},
		{"seed from a foreign origin", "POST", "/_mock/billing-accounts", `{"username":"evil","email":"evil@example.com"}`,
			[]string{"Content-Type", "text/plain", "Origin", "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ctl(t, srv, tc.method, tc.path, tc.body, tc.headers...)
			assert.Contains(t, []int{http.StatusForbidden, http.StatusUnsupportedMediaType}, r.status, r.body)
			var e struct{ Error string }
			require.NoError(t, json.Unmarshal([]byte(r.body), &e), r.body)
			assert.NotEmpty(t, e.Error)
			noCORS(t, r)
			assert.Equal(t, before, stateOf(t, srv), "a refused request changes nothing")
		})
	}

	// What the control plane does take: its own header, JSON, no foreign
	// origin (a page the mock serves itself may send its own Origin).
	r := ctl(t, srv, "POST", "/_mock/faults", fault, "Content-Type", "application/json", "X-Mock-Control", "1")
	assert.Equal(t, http.StatusCreated, r.status, r.body)
	r = ctl(t, srv, "DELETE", "/_mock/faults", "", "X-Mock-Control", "1", "Origin", "http://"+srv.Addr())
	assert.Equal(t, http.StatusOK, r.status, r.body)
	r = ctl(t, srv, "POST", "/_mock/reset", "", "X-Mock-Control", "1", "Sec-Fetch-Site", "same-origin")
	assert.Equal(t, http.StatusOK, r.status, r.body)
	assert.Empty(t, srv.BillingAccounts(), "reset")
}

// TestControlRefusesReboundHost is DNS rebinding: a page at
// evil.example, its name re-pointed at 127.0.0.1, reads the outbox with
// its own Host header; it must get no code.
func TestControlRefusesReboundHost(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithPublicURL("http://mock.example:8080"))
	_, port, _ := strings.Cut(srv.Addr(), ":")
	resp, err := srv.HTTPClient().Post(srv.BillingURL()+routes.SendCode, "application/json",
		strings.NewReader(`{"email":"ada@example.com","purpose":"register"}`))
	require.NoError(t, err)
	resp.Body.Close()
	code, ok := srv.LatestCode("ada@example.com", billing.PurposeRegister)
	require.True(t, ok)

	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1.evil.example:" + port, "localhost.evil.example:" + port,
		"mock.example:9999", "mock.example.evil:8080"} {
		for _, path := range []string{"/_mock/outbox", "/_mock/outbox?email=ada@example.com", "/_mock/state", "/_mock/health"} {
			r := ctl(t, srv, "GET", path, "", "Host", host)
			assert.Equal(t, http.StatusForbidden, r.status, "Host %q %s: %s", host, path, r.body)
			assert.NotContains(t, r.body, code)
			noCORS(t, r)
		}
	}
	r := ctl(t, srv, "POST", "/_mock/reset", "", "Host", "evil.example:"+port, "X-Mock-Control", "1")
	assert.Equal(t, http.StatusForbidden, r.status, r.body)
	_, ok = srv.LatestCode("ada@example.com", billing.PurposeRegister)
	assert.True(t, ok, "the rebound reset changed nothing")

	// The names that do reach it: the public URL's host, the listener's
	// address, localhost and IP addresses (no rebinding moves an IP).
	for _, host := range []string{"mock.example:8080", "MOCK.example:8080", srv.Addr(), "localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "10.1.2.3"} {
		r := ctl(t, srv, "GET", "/_mock/outbox", "", "Host", host)
		assert.Equal(t, http.StatusOK, r.status, "Host %q: %s", host, r.body)
		assert.Contains(t, r.body, code)
	}
}

// TestControlNoCORS: a preflight gets no CORS grant, so a page can never
// send the control header or JSON cross-origin.
func TestControlNoCORS(t *testing.T) {
	srv := mockserver.Start(t)
	r := ctl(t, srv, "OPTIONS", "/_mock/reset", "", "Origin", "http://evil.example",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "x-mock-control,content-type")
	assert.GreaterOrEqual(t, r.status, 400, r.body)
	noCORS(t, r)
	r = ctl(t, srv, "GET", "/_mock/outbox", "", "Origin", "http://evil.example")
	assert.Equal(t, http.StatusForbidden, r.status, r.body)
	noCORS(t, r)
	r = ctl(t, srv, "GET", "/_mock/outbox", "", "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, r.status, "a <script src> or <img> from another site: %s", r.body)
	r = ctl(t, srv, "GET", "/_mock/outbox", "", "Sec-Fetch-Site", "none")
	assert.Equal(t, http.StatusOK, r.status, "typed into the address bar: %s", r.body)
}

// TestControlToken: with WithControlToken, every control request but the
// health check needs it as a bearer token; HTTPClient sends it.
func TestControlToken(t *testing.T) {
	const token = "ctl-0123456789abcdef"
	srv := mockserver.Start(t, mockserver.WithControlToken(token))
	before := stateOf(t, srv)
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", "Bearer " + token[:len(token)-1], token, "Basic " + token, "bearer  " + token + " x"} {
		for _, tc := range []struct{ method, path, body string }{
			{"GET", "/_mock/outbox", ""}, {"GET", "/_mock/state", ""}, {"GET", "/_mock/openapi.yaml", ""},
			{"POST", "/_mock/reset", ""}, {"POST", "/_mock/faults", `{"path":"/v3/auth/domains"}`}, {"DELETE", "/_mock/faults", ""},
			{"GET", "/_mock/nowhere", ""},
		} {
			h := []string{"Content-Type", "application/json", "X-Mock-Control", "1"}
			if auth != "" {
				h = append(h, "Authorization", auth)
			}
			r := ctl(t, srv, tc.method, tc.path, tc.body, h...)
			assert.Equal(t, http.StatusUnauthorized, r.status, "%q %s %s: %s", auth, tc.method, tc.path, r.body)
			assert.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
			assert.NotContains(t, r.body, token)
		}
	}
	assert.Equal(t, before, stateOf(t, srv))

	r := ctl(t, srv, "GET", "/_mock/health", "")
	assert.Equal(t, http.StatusOK, r.status, "the health check stays open for probes: %s", r.body)
	assert.NotContains(t, r.body, token)
	r = ctl(t, srv, "POST", "/_mock/faults", `{"path":"/v3/auth/domains"}`, "Content-Type", "application/json", "X-Mock-Control", "1",
		"Authorization", "Bearer "+token)
	assert.Equal(t, http.StatusCreated, r.status, r.body)
	r = ctl(t, srv, "GET", "/_mock/state", "", "Authorization", "bearer "+token)
	assert.Equal(t, http.StatusOK, r.status, "the scheme is case-insensitive: %s", r.body)

	resp, err := srv.HTTPClient().Post(srv.URL()+"/_mock/reset", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "HTTPClient sends the token and the control header")
	assert.Empty(t, srv.Faults())

	// The API halves do not take the control token: it is not a credential
	// of theirs, and they answer without it.
	resp, err = http.Get(srv.BillingURL() + routes.GetSubscription + "?huaweiAccountId=" + mockserver.DemoHuaweiAccountID +
		"&instanceId=" + mockserver.DemoInstanceID)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestWithControlTokenValidates(t *testing.T) {
	for _, bad := range []string{"", "short", "has space inside", "tab\there-0123456789", "new\nline-0123456789"} {
		_, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithControlToken(bad))
		require.Error(t, err, "%q", bad)
		if bad != "" {
			assert.NotContains(t, err.Error(), bad, "the error does not repeat the token")
		}
	}
}
