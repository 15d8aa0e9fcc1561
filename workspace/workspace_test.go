package workspace_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

const (
	token     = secret.String("bc-token-DO-NOT-LEAK")
	password  = "Str0ng!Pass-DO-NOT-LEAK"
	emailCode = "482916"
)

type env struct {
	c     *workspace.Client
	mt    *httpmock.MockTransport
	rec   *testkit.Recorder
	waits *testkit.Waits
}

func setup(t *testing.T, opts []workspace.Option, replies ...testkit.Reply) env {
	t.Helper()
	e := env{mt: httpmock.NewMockTransport(), rec: testkit.NewRecorder(replies...), waits: &testkit.Waits{}}
	e.mt.RegisterNoResponder(e.rec.Respond)
	opts = append([]workspace.Option{workspace.WithHTTPClient(&http.Client{Transport: e.mt}),
		workspace.WithRetryPolicy(e.waits.Policy(3)), workspace.WithUserAgent("ws-test/1.0")}, opts...)
	c, err := workspace.NewClient(opts...)
	require.NoError(t, err)
	e.c = c
	return e
}

func mockEndpoints(t *testing.T) site.Endpoints {
	t.Helper()
	eps, err := site.UnderBase("http://127.0.0.1:9999/")
	require.NoError(t, err)
	return eps
}

func validCreate() *workspace.CreateWorkspaceRequest {
	return &workspace.CreateWorkspaceRequest{Name: "production", Language: twapi.LanguageEN, Site: site.AP1,
		Email: "ops@acme.example", EmailCode: emailCode, TermsAccepted: true}
}

func validRegisterAndCreate() *workspace.RegisterAndCreateRequest {
	return &workspace.RegisterAndCreateRequest{Name: "staging", Language: twapi.LanguageZH, Site: site.ZA1,
		Username: "acme_ops", Password: password, PasswordConfirm: password, Email: "ops@acme.example",
		EmailCode: emailCode, TermsAccepted: true}
}

func TestNewClient(t *testing.T) {
	c, err := workspace.NewClient()
	require.NoError(t, err)
	for _, code := range site.Codes() {
		u, err := c.BaseURL(code)
		require.NoError(t, err)
		assert.Equal(t, "https://"+string(code)+"-console-api.truewatch.com", u)
	}
	_, err = c.BaseURL("xx1")
	assert.Error(t, err)

	eps, err := site.Endpoints{}.With(site.EU1, site.ConsoleAPI, "https://eu.private.example/api/")
	require.NoError(t, err)
	c, err = workspace.NewClient(workspace.WithEndpoints(eps))
	require.NoError(t, err)
	u, _ := c.BaseURL(site.EU1)
	assert.Equal(t, "https://eu.private.example/api", u)
	assert.Equal(t, eps, c.Endpoints())

	for name, opt := range map[string]workspace.Option{
		"nil HTTP client": workspace.WithHTTPClient(nil),
		"nil logger":      workspace.WithLogger(nil),
		"negative wait":   workspace.WithRetryPolicy(retry.Policy{RetryAfterMax: -1}),
		"bad user agent":  workspace.WithUserAgent("a\nb"),
	} {
		_, err := workspace.NewClient(opt)
		var oe *apierror.OptionError
		require.ErrorAs(t, err, &oe, name)
		assert.Equal(t, "workspace.NewClient", oe.Constructor)
		assert.Len(t, oe.Problems, 1, name)
	}
}

func TestRoutesToTheRequestSite(t *testing.T) {
	ctx := context.Background()
	created := map[string]any{
		"account":   map[string]any{"uuid": "acnt_1", "username": "acme_ops", "email": "ops@acme.example", "site": "za1"},
		"workspace": map[string]any{"uuid": "wksp_1", "name": "staging", "language": "zh", "site": "za1", "settlement": map[string]any{"method": "huaweicloud"}},
		"loginUrl":  "http://127.0.0.1:9999/sites/za1/auth/login/pwd",
	}
	tests := []struct {
		name string
		call func(*workspace.Client) (any, error)
		path string
		body string
		post bool
	}{
		{
			name: "CreateWorkspace", post: true,
			call: func(c *workspace.Client) (any, error) { return c.CreateWorkspace(ctx, token, validCreate()) },
			path: "/sites/ap1/console-api/api/v1/workspace/create",
			body: `{"name":"production","language":"en","site":"ap1","email":"ops@acme.example","emailCode":"` + emailCode + `","termsAccepted":true}`,
		},
		{
			name: "RegisterAndCreate", post: true,
			call: func(c *workspace.Client) (any, error) {
				return c.RegisterAndCreate(ctx, token, validRegisterAndCreate())
			},
			path: "/sites/za1/console-api/api/v1/workspace/register_and_create",
			body: `{"name":"staging","language":"zh","site":"za1","username":"acme_ops","password":"` + password +
				`","passwordConfirm":"` + password + `","email":"ops@acme.example","emailCode":"` + emailCode + `","termsAccepted":true}`,
		},
		{
			name: "GetWorkspace",
			call: func(c *workspace.Client) (any, error) { return c.GetWorkspace(ctx, token, site.ID1, "wksp_1") },
			path: "/sites/id1/console-api/api/v1/workspace/wksp_1/get",
		},
		{
			name: "GetWorkspace escapes the ID",
			call: func(c *workspace.Client) (any, error) { return c.GetWorkspace(ctx, token, site.US1, "../a/b?c") },
			path: "/sites/us1/console-api/api/v1/workspace/..%2Fa%2Fb%3Fc/get",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, []workspace.Option{workspace.WithEndpoints(mockEndpoints(t))}, testkit.OK(created))
			_, err := tt.call(e.c)
			require.NoError(t, err)
			reqs := e.rec.Requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, "127.0.0.1:9999", r.Host)
			assert.Equal(t, tt.path, r.Path)
			assert.Equal(t, "Bearer "+token.Reveal(), r.Header.Get("Authorization"))
			assert.Equal(t, httpcore.DefaultUserAgent+" ws-test/1.0", r.Header.Get("User-Agent"))
			if tt.post {
				assert.Equal(t, http.MethodPost, r.Method)
				assert.NotEmpty(t, r.Header.Get("Idempotency-Key"))
				assert.JSONEq(t, tt.body, string(r.Body))
			} else {
				assert.Equal(t, http.MethodGet, r.Method)
				assert.Empty(t, r.Body)
			}
		})
	}
}

func TestDefaultEndpointsArePublicHosts(t *testing.T) {
	e := setup(t, nil, testkit.OK(map[string]any{"uuid": "wksp_1", "site": "eu1"}))
	ws, err := e.c.GetWorkspace(context.Background(), token, site.EU1, "wksp_1")
	require.NoError(t, err)
	assert.Equal(t, "wksp_1", ws.ID)
	assert.Equal(t, site.EU1, ws.Site)
	assert.Equal(t, "eu1-console-api.truewatch.com", e.rec.Requests()[0].Host)
}

func TestCreateResultDecoded(t *testing.T) {
	e := setup(t, nil, testkit.OK(map[string]any{
		"account": map[string]any{"uuid": "acnt_1", "username": "acme_ops", "site": "ap1", "createAt": 1767225600},
		"workspace": map[string]any{"uuid": "wksp_1", "name": "production", "language": "en", "site": "ap1",
			"ownerAccountUUID": "acnt_1", "billingAccountUUID": "bcac_1",
			"settlement": map[string]any{"method": "huaweicloud", "huaweiAccountId": "0123456789abcdef0123456789abcdef", "instanceId": "ins-1"}},
		"loginUrl": "https://ap1-auth.truewatch.com/login/pwd",
	}))
	res, err := e.c.CreateWorkspace(context.Background(), token, validCreate())
	require.NoError(t, err)
	assert.Equal(t, "acnt_1", res.Account.ID)
	assert.Equal(t, int64(1767225600), res.Account.CreateAt.Unix())
	assert.Equal(t, twapi.SettlementHuaweiCloud, res.Workspace.Settlement.Method)
	assert.Equal(t, "ins-1", res.Workspace.Settlement.InstanceID)
	assert.Equal(t, "https://ap1-auth.truewatch.com/login/pwd", res.LoginURL)
}

func TestErrors(t *testing.T) {
	e := setup(t, nil, testkit.Fail(409, apierror.CodeWorkspaceNameTaken, "name in use"))
	var info twapi.CallInfo
	_, err := e.c.CreateWorkspace(context.Background(), token, validCreate(), workspace.WithCallInfo(&info))
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "workspace", apiErr.Service)
	assert.Equal(t, "CreateWorkspace", apiErr.Operation)
	assert.ErrorIs(t, err, apierror.ErrNameTaken)
	assert.Equal(t, 409, info.HTTPStatus)
	assert.Equal(t, testkit.TraceID, info.TraceID)

	e = setup(t, nil, testkit.Fail(404, apierror.CodeWorkspaceNotFound, ""))
	_, err = e.c.GetWorkspace(context.Background(), token, site.US1, "wksp_x")
	assert.ErrorIs(t, err, apierror.ErrNotFound)
}

func TestRetriesKeepTheKey(t *testing.T) {
	e := setup(t, nil, testkit.Raw(504, ""), testkit.Fail(401, apierror.CodeAkRateLimited, ""), testkit.OK(nil))
	_, err := e.c.RegisterAndCreate(context.Background(), token, validRegisterAndCreate(), workspace.WithIdempotencyKey("act-1-create"))
	require.NoError(t, err)
	require.Equal(t, 3, e.rec.Count())
	for _, r := range e.rec.Requests() {
		assert.Equal(t, "act-1-create", r.Header.Get("Idempotency-Key"))
	}
}

func TestValidationSendsNothing(t *testing.T) {
	ctx := context.Background()
	mutCreate := func(f func(*workspace.CreateWorkspaceRequest)) func(*workspace.Client) error {
		return func(c *workspace.Client) error {
			r := validCreate()
			f(r)
			_, err := c.CreateWorkspace(ctx, token, r)
			return err
		}
	}
	mutRegister := func(f func(*workspace.RegisterAndCreateRequest)) func(*workspace.Client) error {
		return func(c *workspace.Client) error {
			r := validRegisterAndCreate()
			f(r)
			_, err := c.RegisterAndCreate(ctx, token, r)
			return err
		}
	}
	tests := []struct {
		name   string
		op     string
		fields []string
		call   func(*workspace.Client) error
	}{
		{"create nil", "CreateWorkspace", []string{""}, func(c *workspace.Client) error {
			_, err := c.CreateWorkspace(ctx, token, nil)
			return err
		}},
		{"create no token", "CreateWorkspace", []string{"token"}, func(c *workspace.Client) error {
			_, err := c.CreateWorkspace(ctx, "", validCreate())
			return err
		}},
		{"create unknown site", "CreateWorkspace", []string{"site"}, mutCreate(func(r *workspace.CreateWorkspaceRequest) { r.Site = "mars1" })},
		{"create name too long", "CreateWorkspace", []string{"name"}, mutCreate(func(r *workspace.CreateWorkspaceRequest) { r.Name = string(bytes.Repeat([]byte("n"), 257)) })},
		{"create language and terms", "CreateWorkspace", []string{"language", "termsAccepted"}, mutCreate(func(r *workspace.CreateWorkspaceRequest) {
			r.Language = "de"
			r.TermsAccepted = false
		})},
		{"register nil and no token", "RegisterAndCreate", []string{"token", ""}, func(c *workspace.Client) error {
			_, err := c.RegisterAndCreate(ctx, "", nil)
			return err
		}},
		{"register password mismatch", "RegisterAndCreate", []string{"passwordConfirm"}, mutRegister(func(r *workspace.RegisterAndCreateRequest) { r.PasswordConfirm = "Other!Pass1" })},
		{"register bad username", "RegisterAndCreate", []string{"username"}, mutRegister(func(r *workspace.RegisterAndCreateRequest) { r.Username = "1abc" })},
		{"get no ID", "GetWorkspace", []string{"workspaceUUID"}, func(c *workspace.Client) error {
			_, err := c.GetWorkspace(ctx, token, site.US1, "")
			return err
		}},
		{"get dot-dot", "GetWorkspace", []string{"workspaceUUID"}, func(c *workspace.Client) error {
			_, err := c.GetWorkspace(ctx, token, site.US1, "..")
			return err
		}},
		{"get ID over the path limit", "GetWorkspace", []string{"workspaceUUID"}, func(c *workspace.Client) error {
			_, err := c.GetWorkspace(ctx, token, site.US1, "wksp_"+strings.Repeat("0", 60))
			return err
		}},
		{"get unknown site", "GetWorkspace", []string{"token", "site"}, func(c *workspace.Client) error {
			_, err := c.GetWorkspace(ctx, "", "US 1", "wksp_1")
			return err
		}},
		{"empty idempotency key", "CreateWorkspace", []string{"idempotencyKey"}, func(c *workspace.Client) error {
			_, err := c.CreateWorkspace(ctx, token, validCreate(), workspace.WithIdempotencyKey(""))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, nil, testkit.OK(nil))
			err := tt.call(e.c)
			require.ErrorIs(t, err, apierror.ErrValidation)
			op, fields, ok := testkit.Refusal(err)
			require.True(t, ok, "a *apierror.ValidationError")
			assert.Equal(t, tt.op, op)
			assert.Equal(t, tt.fields, fields)
			assert.Equal(t, 0, e.mt.GetTotalCallCount())
		})
	}
}

func TestSecretsNeverShown(t *testing.T) {
	for _, v := range []any{validCreate(), validRegisterAndCreate(), *validRegisterAndCreate()} {
		out := fmt.Sprintf("%v %+v %#v", v, v, v)
		assert.NotContains(t, out, password)
		assert.NotContains(t, out, emailCode)
	}

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := setup(t, []workspace.Option{workspace.WithLogger(logger)}, testkit.Raw(503, ""), testkit.Fail(400, apierror.CodeCodeExpired, "code expired"))
	_, err := e.c.RegisterAndCreate(context.Background(), token, validRegisterAndCreate())
	require.ErrorIs(t, err, apierror.ErrCodeExpired)
	for _, s := range []string{password, emailCode, token.Reveal()} {
		assert.NotContains(t, err.Error(), s)
		assert.NotContains(t, logs.String(), s)
	}
	assert.Contains(t, logs.String(), `"service":"workspace"`)

	logs.Reset()
	logger.Info("caller", slog.Any("create", validCreate()), slog.Any("register", *validRegisterAndCreate()))
	assert.Contains(t, logs.String(), "acme_ops")
	assert.NotContains(t, logs.String(), password)
	assert.NotContains(t, logs.String(), emailCode)
}

func TestValidateNamesTheClientMethod(t *testing.T) {
	// Validate called directly names the operation the client reports for
	// the same request, so logs and errors agree.
	create := validCreate()
	create.Name = ""
	op, _, ok := testkit.Refusal(create.Validate())
	require.True(t, ok)
	assert.Equal(t, "CreateWorkspace", op)
	reg := validRegisterAndCreate()
	reg.Name = ""
	op, _, ok = testkit.Refusal(reg.Validate())
	require.True(t, ok)
	assert.Equal(t, "RegisterAndCreate", op)
}
