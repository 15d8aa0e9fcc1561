package billing_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

func TestRequestShaping(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func(c *billing.Client) error
		method string
		path   string
		query  url.Values
		auth   bool
		body   string
	}{
		{
			name: "SendVerificationCode",
			call: func(c *billing.Client) error {
				_, err := c.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "ops@acme.example", Purpose: billing.PurposeRegister})
				return err
			},
			method: http.MethodPost, path: "/api/v1/verification_code/send",
			body: `{"email":"ops@acme.example","purpose":"register"}`,
		},
		{
			name: "GetSubscription",
			call: func(c *billing.Client) error {
				_, err := c.GetSubscription(ctx, accountID, instanceID)
				return err
			},
			method: http.MethodGet, path: "/api/v1/subscription/get",
			query: url.Values{"huaweiAccountId": {accountID}, "instanceId": {instanceID}},
		},
		{
			name: "Register",
			call: func(c *billing.Client) error {
				_, err := c.Register(ctx, validRegister())
				return err
			},
			method: http.MethodPost, path: "/api/v1/account/register",
			body: `{"site":"eu1","username":"acme_admin","password":"` + password + `","email":"ops@acme.example",
				"emailCode":"` + emailCode + `","mobile":"+4915112345678","company":{"name":"Acme GmbH","country":"DE"},
				"workspaceName":"production","workspaceLanguage":"en","huaweiAccountId":"` + accountID + `",
				"instanceId":"` + instanceID + `","termsAccepted":true}`,
		},
		{
			name: "BindBillingAccount",
			call: func(c *billing.Client) error {
				_, err := c.BindBillingAccount(ctx, validBind())
				return err
			},
			method: http.MethodPost, path: "/api/v1/billing_account/bind",
			body: `{"username":"acme_billing","email":"ops@acme.example","emailCode":"` + emailCode + `",
				"huaweiAccountId":"` + accountID + `","instanceId":"` + instanceID + `"}`,
		},
		{
			name: "ListBindableWorkspaces defaults",
			call: func(c *billing.Client) error {
				_, _, err := c.ListBindableWorkspaces(ctx, token, nil)
				return err
			},
			method: http.MethodGet, path: "/api/v1/billing_account/workspace/list", auth: true,
			query: url.Values{"pageIndex": {"1"}, "pageSize": {"20"}},
		},
		{
			name: "ListBindableWorkspaces with options",
			call: func(c *billing.Client) error {
				_, _, err := c.ListBindableWorkspaces(ctx, token, &billing.ListOptions{PageIndex: 3, PageSize: 100, Site: site.ZA1})
				return err
			},
			method: http.MethodGet, path: "/api/v1/billing_account/workspace/list", auth: true,
			query: url.Values{"pageIndex": {"3"}, "pageSize": {"100"}, "site": {"za1"}},
		},
		{
			name: "BindWorkspace",
			call: func(c *billing.Client) error {
				_, err := c.BindWorkspace(ctx, token, &billing.BindWorkspaceRequest{WorkspaceID: "wksp_1"})
				return err
			},
			method: http.MethodPost, path: "/api/v1/billing_account/workspace/bind", auth: true,
			body: `{"workspaceUUID":"wksp_1"}`,
		},
		{
			name: "GetBinding",
			call: func(c *billing.Client) error {
				_, err := c.GetBinding(ctx, token)
				return err
			},
			method: http.MethodGet, path: "/api/v1/billing_account/binding/get", auth: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, testkit.OK(nil))
			require.NoError(t, tt.call(e.c))
			reqs := e.rec.Requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, tt.method, r.Method)
			assert.Equal(t, "billing.test", r.Host)
			assert.Equal(t, "/billing-center"+tt.path, r.Path)
			if tt.query == nil {
				tt.query = url.Values{}
			}
			assert.Equal(t, tt.query, r.Query)
			assert.Equal(t, httpcore.DefaultUserAgent+" billing-test/1.0", r.Header.Get("User-Agent"))
			if tt.auth {
				assert.Equal(t, "Bearer "+token.Reveal(), r.Header.Get("Authorization"))
			} else {
				assert.Empty(t, r.Header.Get("Authorization"))
			}
			if tt.method == http.MethodPost {
				assert.Regexp(t, `^idem_[0-9a-f]{32}$`, r.Header.Get("Idempotency-Key"))
				assert.JSONEq(t, tt.body, string(r.Body))
			} else {
				assert.Empty(t, r.Header.Get("Idempotency-Key"))
				assert.Empty(t, r.Body)
			}
		})
	}
}

func TestBindBillingAccount_DecodesResult(t *testing.T) {
	e := setup(t, testkit.OK(map[string]any{
		"billingAccount": map[string]any{"uuid": "bcac_1", "username": "acme_billing", "email": "ops@acme.example", "createAt": 1767225600},
		"token":          "tok-from-server",
		"expiresAt":      1767229200,
	}))
	res, err := e.c.BindBillingAccount(context.Background(), validBind())
	require.NoError(t, err)
	assert.Equal(t, "bcac_1", res.BillingAccount.ID)
	assert.Equal(t, "tok-from-server", res.Token.Reveal())
	assert.Equal(t, time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), res.ExpiresAt.Time)
	assert.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), res.BillingAccount.CreateAt.Time)
}

func TestGetSubscription_DecodesResult(t *testing.T) {
	e := setup(t, testkit.OK(map[string]any{
		"huaweiAccountId": accountID, "instanceId": instanceID, "productId": "OFFI1", "status": "in_use",
		"active": true, "bound": true, "billingAccountUUID": "bcac_1", "billingUsername": "acme_billing",
		"workspaces": []map[string]any{{"uuid": "wksp_1", "name": "production", "site": "eu1"}},
		"loginUrl":   "https://eu1-auth.truewatch.com/login/pwd",
	}))
	sub, err := e.c.GetSubscription(context.Background(), accountID, instanceID)
	require.NoError(t, err)
	assert.Equal(t, &billing.Subscription{
		HuaweiAccountID: accountID, InstanceID: instanceID, ProductID: "OFFI1", Status: billing.StatusInUse,
		Active: true, Bound: true, BillingAccountID: "bcac_1", BillingUsername: "acme_billing",
		Workspaces: []billing.BoundWorkspace{{ID: "wksp_1", Name: "production", Site: site.EU1}},
		LoginURL:   "https://eu1-auth.truewatch.com/login/pwd",
	}, sub)
	assert.True(t, sub.Activated())
}

func TestListBindableWorkspaces_Envelopes(t *testing.T) {
	items := []map[string]any{
		{"uuid": "wksp_1", "name": "a", "site": "us1", "bindable": true},
		{"uuid": "wksp_2", "name": "b", "site": "eu1", "bindable": false, "reason": "already bound"},
	}
	page := httpcore.PageInfo{Count: 2, PageIndex: 1, PageSize: 20, TotalCount: 2}
	for name, content := range map[string]any{"bare list": items, "content.data": map[string]any{"data": items}} {
		t.Run(name, func(t *testing.T) {
			e := setup(t, testkit.Page(content, page))
			got, pi, err := e.c.ListBindableWorkspaces(context.Background(), token, nil)
			require.NoError(t, err)
			require.Len(t, got, 2)
			assert.Equal(t, "wksp_1", got[0].ID)
			assert.True(t, got[0].Bindable)
			assert.Equal(t, site.EU1, got[1].Site)
			assert.Equal(t, "already bound", got[1].Reason)
			assert.Equal(t, (*twapi.PageInfo)(&page), pi)
		})
	}
	t.Run("empty content is an empty list", func(t *testing.T) {
		e := setup(t, testkit.OK(nil))
		got, _, err := e.c.ListBindableWorkspaces(context.Background(), token, nil)
		require.NoError(t, err)
		assert.NotNil(t, got)
		assert.Empty(t, got)
	})
}

func TestCallInfoAndIdempotencyKey(t *testing.T) {
	e := setup(t, testkit.Raw(503, ""), testkit.WithHeader(testkit.OK(nil), "Idempotent-Replayed", "true"))
	var info twapi.CallInfo
	_, err := e.c.Register(context.Background(), validRegister(), billing.WithIdempotencyKey("act-ins-00000001-register"), billing.WithCallInfo(&info))
	require.NoError(t, err)
	reqs := e.rec.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "act-ins-00000001-register", reqs[0].Header.Get("Idempotency-Key"))
	assert.Equal(t, "act-ins-00000001-register", reqs[1].Header.Get("Idempotency-Key"))
	assert.Equal(t, twapi.CallInfo{HTTPStatus: 200, TraceID: testkit.TraceID, RequestID: testkit.RequestID,
		IdempotencyKey: "act-ins-00000001-register", Attempts: 2, Replayed: true}, info)
	assert.Equal(t, []time.Duration{100 * time.Millisecond}, e.waits.All())
}

func TestGeneratedIdempotencyKeyIsStableAcrossRetries(t *testing.T) {
	e := setup(t, testkit.ConnError(), testkit.Raw(502, ""), testkit.OK(nil))
	var info twapi.CallInfo
	_, err := e.c.BindWorkspace(context.Background(), token, &billing.BindWorkspaceRequest{WorkspaceID: "wksp_1"}, billing.WithCallInfo(&info))
	require.NoError(t, err)
	reqs := e.rec.Requests()
	require.Len(t, reqs, 3)
	key := reqs[0].Header.Get("Idempotency-Key")
	require.NotEmpty(t, key)
	for _, r := range reqs {
		assert.Equal(t, key, r.Header.Get("Idempotency-Key"))
		assert.JSONEq(t, `{"workspaceUUID":"wksp_1"}`, string(r.Body))
	}
	assert.Equal(t, key, info.IdempotencyKey)
	assert.Equal(t, 3, info.Attempts)

	// A new call gets a new key.
	e2 := setup(t, testkit.OK(nil))
	_, err = e2.c.BindWorkspace(context.Background(), token, &billing.BindWorkspaceRequest{WorkspaceID: "wksp_1"})
	require.NoError(t, err)
	assert.NotEqual(t, key, e2.rec.Requests()[0].Header.Get("Idempotency-Key"))
}
