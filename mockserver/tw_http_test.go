package mockserver

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/site"
)

// postRoutes lists every TrueWatch POST route as the mock serves it.
func postRoutes() []string {
	return []string{
		bcPath(routes.SendCode), bcPath(routes.Register), bcPath(routes.BindAccount), bcPath(routes.BindWorkspace),
		sitePath(site.AP1, routes.CreateWorkspace), sitePath(site.AP1, routes.RegisterAndCreate),
	}
}

// tokenForTests binds a seeded account to the demo subscription, so that
// token routes get past authentication.
func (h *harness) tokenForTests() reqOpt {
	h.t.Helper()
	b, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "tester", Email: "tester@example.com"})
	require.NoError(h.t, err)
	tok, err := h.srv.SeedBinding(b.ID, DemoHuaweiAccountID, DemoInstanceID)
	require.NoError(h.t, err)
	return withToken(tok)
}

func TestMalformedRequests(t *testing.T) {
	h := newHarness(t, WithMaxBodyBytes(1024))
	tok := h.tokenForTests()
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		msg    string
	}{
		{"empty body", "", http.StatusBadRequest, apierror.CodeInvalidJSON, "JSON object"},
		{"white space", "  \n", http.StatusBadRequest, apierror.CodeInvalidJSON, "JSON object"},
		{"syntax error", `{"email": "a@b.c",}`, http.StatusBadRequest, apierror.CodeInvalidJSON, "malformed JSON"},
		{"truncated", `{"email": "a@b.c"`, http.StatusBadRequest, apierror.CodeInvalidJSON, "unexpected end"},
		{"array", `[1,2]`, http.StatusBadRequest, apierror.CodeInvalidJSON, "JSON object"},
		{"string", `"hello"`, http.StatusBadRequest, apierror.CodeInvalidJSON, "JSON object"},
		{"trailing data", `{} {}`, http.StatusBadRequest, apierror.CodeInvalidJSON, "exactly one"},
		{"unknown field", `{"surprise": true}`, http.StatusBadRequest, apierror.CodeInvalidJSON, `unknown field "surprise"`},
		{"wrong type of a secret", `{"emailCode": 123456}`, http.StatusBadRequest, apierror.CodeInvalidJSON, "must be"},
		{"oversized", `{"email":"` + strings.Repeat("a", 2048) + `"}`, http.StatusRequestEntityTooLarge, apierror.CodeBodyTooLarge, "1024"},
		{"null", `null`, http.StatusBadRequest, apierror.CodeInvalidJSON, "JSON object"},
		{"not UTF-8", "{\"email\": \"a\xff@b.c\"}", http.StatusBadRequest, apierror.CodeInvalidJSON, "UTF-8"},
		{"key in another case", `{"EMAIL": "a@b.c"}`, http.StatusBadRequest, apierror.CodeInvalidJSON, `unknown field "EMAIL"`},
		{"key given twice", `{"email": "a@b.c", "email": "d@e.f"}`, http.StatusBadRequest, apierror.CodeInvalidJSON, "more than once"},
	}
	for _, path := range postRoutes() {
		for _, tc := range tests {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				if tc.name == "key in another case" && strings.HasSuffix(path, routes.BindWorkspace) {
					tc.body, tc.msg = `{"WorkspaceUUID": "wksp_x"}`, `unknown field "WorkspaceUUID"`
				}
				if tc.name == "key given twice" && strings.HasSuffix(path, routes.BindWorkspace) {
					tc.body = `{"workspaceUUID": "a", "workspaceUUID": "b"}`
				}
				if tc.name == "not UTF-8" && strings.HasSuffix(path, routes.BindWorkspace) {
					tc.body = "{\"workspaceUUID\": \"\xff\"}"
				}
				if tc.name == "wrong type of a secret" {
					switch {
					case strings.HasSuffix(path, routes.BindWorkspace):
						tc.body = `{"workspaceUUID": 123456}`
					case strings.HasSuffix(path, routes.SendCode):
						tc.body = `{"email": 123456}`
					}
				}
				h.requireUnchanged(func() {
					r := h.do(http.MethodPost, path, tc.body, tok, withKey("key-"+strings.ReplaceAll(tc.name, " ", "-")))
					requireErr(t, r, tc.status, tc.code)
					assert.Contains(t, r.env.Message, tc.msg)
					assert.NotContains(t, r.env.Message, "123456", "values are never echoed")
				})
			})
		}
	}
}

func TestWrongTypeNamesTheField(t *testing.T) {
	h := newHarness(t)
	r := h.do(http.MethodPost, bcPath(routes.Register), `{"termsAccepted": "yes"}`)
	requireErr(t, r, http.StatusBadRequest, apierror.CodeInvalidJSON)
	assert.Equal(t, `field "termsAccepted" must be a boolean`, r.env.Message)
	r = h.do(http.MethodPost, bcPath(routes.Register), `{"company": {"name": 5}}`)
	requireErr(t, r, http.StatusBadRequest, apierror.CodeInvalidJSON)
	assert.Equal(t, `field "company.name" must be a string`, r.env.Message)
}

// TestStrictKeysInNestedObjects: the exact-name and given-once rules hold
// inside nested objects too, and the problem names the nested field.
func TestStrictKeysInNestedObjects(t *testing.T) {
	h := newHarness(t)
	code := h.sendCode("ada@example.com", billing.PurposeRegister)
	req := registerReq("ada", "ada@example.com", code)
	good := mustJSON(t, req)
	for body, msg := range map[string]string{
		strings.Replace(string(good), `"company":{"name":"Acme"}`, `"company":{"Name":"Acme"}`, 1):               `unknown field "company.Name"`,
		strings.Replace(string(good), `"company":{"name":"Acme"}`, `"company":{"name":"Acme","name":"Evil"}`, 1): `field "company.name" is given more than once`,
		strings.Replace(string(good), `"workspaceName":"prod"`, "\"workspaceName\":\"pr\xc3od\"", 1):             "UTF-8",
		strings.Replace(string(good), `"emailCode":"`+code.Reveal()+`"`, `"EmailCode":"`+code.Reveal()+`"`, 1):   `unknown field "EmailCode"`,
	} {
		require.NotEqual(t, string(good), body)
		h.requireUnchanged(func() {
			r := h.do(http.MethodPost, bcPath(routes.Register), body)
			requireErr(t, r, http.StatusBadRequest, apierror.CodeInvalidJSON)
			assert.Contains(t, r.env.Message, msg)
		})
	}
	// The code was not used up by the refused requests.
	h.requireOK(h.do(http.MethodPost, bcPath(routes.Register), good), nil)
}

func TestRoutingErrors(t *testing.T) {
	h := newHarness(t)
	r := h.do(http.MethodGet, bcPath(routes.Register), nil)
	requireErr(t, r, http.StatusMethodNotAllowed, apierror.CodeMethodNotAllowed)
	assert.Equal(t, "POST", r.header.Get("Allow"))
	r = h.do(http.MethodPost, bcPath(routes.GetSubscription), "{}")
	requireErr(t, r, http.StatusMethodNotAllowed, apierror.CodeMethodNotAllowed)
	requireErr(t, h.do(http.MethodDelete, sitePath(site.US1, routes.CreateWorkspace), nil), http.StatusMethodNotAllowed, apierror.CodeMethodNotAllowed)
	requireErr(t, h.do(http.MethodGet, bcPath("/api/v1/nothing"), nil), http.StatusNotFound, apierror.CodeRouteNotFound)
	requireErr(t, h.do(http.MethodGet, "/sites/us1/console-api/api/v2/x", nil), http.StatusNotFound, apierror.CodeRouteNotFound)
	requireErr(t, h.do(http.MethodPost, sitePath("moon", routes.CreateWorkspace), "{}"), http.StatusNotFound, apierror.CodeUnknownSite)
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, WithRateLimit(3))
	h.clock.Set(testStart.Add(15 * time.Second))
	get := func() *wireResp { return h.do(http.MethodGet, bcPath(routes.GetBinding), nil) }
	for range 3 {
		requireErr(t, get(), http.StatusUnauthorized, apierror.CodeUnauthorized)
	}
	h.requireUnchanged(func() {
		r := h.do(http.MethodPost, bcPath(routes.SendCode), billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister})
		requireErr(t, r, http.StatusUnauthorized, apierror.CodeAkRateLimited)
		assert.Equal(t, "45", r.header.Get("Retry-After"))
		assert.Empty(t, r.header.Get("WWW-Authenticate"))
	})
	// The control plane is never limited.
	assert.Equal(t, http.StatusOK, h.do(http.MethodGet, "/_mock/health", nil).status)

	h.clock.Advance(45 * time.Second)
	h.requireOK(h.do(http.MethodPost, bcPath(routes.SendCode), billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister}), nil)
}
