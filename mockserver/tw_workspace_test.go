package mockserver

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// boundAccount is a Billing Center account bound to the demo subscription
// (token in hand) with a console account on ap1 and no workspace.
func boundAccount(t *testing.T, opts ...Option) (*harness, existing, secret.String) {
	h := newHarness(t, opts...)
	e := h.seedExisting("ada", "ada@example.com")
	return h, e, h.bind("ada", "ada@example.com", DemoHuaweiAccountID, DemoInstanceID).Token
}

func createReq(code secret.String) workspace.CreateWorkspaceRequest {
	return workspace.CreateWorkspaceRequest{Name: "staging", Language: twapi.LanguageZH, Site: site.AP1,
		Email: "ada@example.com", EmailCode: code, TermsAccepted: true}
}

func registerCreateReq(code secret.String) workspace.RegisterAndCreateRequest {
	return workspace.RegisterAndCreateRequest{Name: "team", Language: twapi.LanguageEN, Site: site.AP1,
		Username: "grace", Password: testPassword, PasswordConfirm: testPassword, Email: "grace@example.com",
		EmailCode: code, Phone: "13800000000", TermsAccepted: true}
}

func boundSettlement() twapi.Settlement {
	return twapi.Settlement{Method: twapi.SettlementHuaweiCloud, HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID}
}

func TestCreateWorkspace(t *testing.T) {
	h, e, tok := boundAccount(t)
	code := h.sendCode("ada@example.com", billing.PurposeCreateWorkspace)
	var res workspace.CreateResult
	h.requireOK(h.do(http.MethodPost, sitePath(site.AP1, routes.CreateWorkspace), createReq(code), withToken(tok)), &res)
	assert.Equal(t, e.account, res.Account)
	assert.Equal(t, twapi.Workspace{ID: res.Workspace.ID, Name: "staging", Language: twapi.LanguageZH,
		Site: site.AP1, OwnerAccountID: e.account.ID, BillingAccountID: e.billing.ID, Settlement: boundSettlement(),
		CreateAt: twapi.Timestamp{Time: testStart}, UpdateAt: twapi.Timestamp{Time: testStart}}, res.Workspace)
	assert.Equal(t, h.srv.URL()+"/sites/ap1/auth/login/pwd", res.LoginURL)

	sub, _ := h.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
	assert.True(t, sub.Activated())
	assert.Equal(t, []billing.BoundWorkspace{{ID: res.Workspace.ID, Name: "staging", Site: site.AP1}}, sub.Workspaces)

	var got twapi.Workspace
	h.requireOK(h.do(http.MethodGet, sitePath(site.AP1, routes.GetWorkspace(res.Workspace.ID)), nil, withToken(tok)), &got)
	assert.Equal(t, res.Workspace, got)
}

func TestCreateWorkspaceRules(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(h *harness, e existing)
		site   site.Code
		modify func(r *workspace.CreateWorkspaceRequest)
		status int
		code   string
	}{
		{name: "site differs from the path", modify: func(r *workspace.CreateWorkspaceRequest) { r.Site = site.EU1 },
			status: http.StatusBadRequest, code: apierror.CodeValidation},
		{name: "invalid request", modify: func(r *workspace.CreateWorkspaceRequest) { r.Language = "fr"; r.Name = " " },
			status: http.StatusBadRequest, code: apierror.CodeValidation},
		{name: "unknown site in the path", site: "mars", status: http.StatusNotFound, code: apierror.CodeUnknownSite},
		{name: "no account with the email on the site", site: site.EU1,
			modify: func(r *workspace.CreateWorkspaceRequest) { r.Site = site.EU1 },
			status: http.StatusNotFound, code: apierror.CodeAccountNotFound},
		{name: "workspace name taken", setup: func(h *harness, e existing) {
			h.seedWorkspace(e, "staging", twapi.Settlement{})
		}, status: http.StatusConflict, code: apierror.CodeWorkspaceNameTaken},
		{name: "subscription frozen", setup: func(h *harness, _ existing) {
			require.NoError(h.t, h.srv.SetPurchaseStatus(DemoInstanceID, PurchaseFrozen))
		}, status: http.StatusConflict, code: apierror.CodeSubscriptionInactive},
		{name: "code of another purpose", modify: func(r *workspace.CreateWorkspaceRequest) { r.EmailCode = "" },
			status: http.StatusBadRequest, code: apierror.CodeInvalidCode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, e, tok := boundAccount(t)
			if tc.setup != nil {
				tc.setup(h, e)
			}
			code := h.sendCode("ada@example.com", billing.PurposeCreateWorkspace)
			req := createReq(code)
			if tc.modify != nil {
				tc.modify(&req)
			}
			if req.EmailCode == "" {
				req.EmailCode = h.sendCode("ada@example.com", billing.PurposeRegister)
			}
			c := tc.site
			if c == "" {
				c = site.AP1
			}
			h.requireUnchanged(func() {
				requireErr(t, h.do(http.MethodPost, sitePath(c, routes.CreateWorkspace), req, withToken(tok)), tc.status, tc.code)
			})
		})
	}
	t.Run("no token", func(t *testing.T) {
		h, _, _ := boundAccount(t)
		code := h.sendCode("ada@example.com", billing.PurposeCreateWorkspace)
		h.requireUnchanged(func() {
			requireErr(t, h.do(http.MethodPost, sitePath(site.AP1, routes.CreateWorkspace), createReq(code)),
				http.StatusUnauthorized, apierror.CodeUnauthorized)
		})
	})
}

func TestRegisterAndCreate(t *testing.T) {
	h, e, tok := boundAccount(t)
	code := h.sendCode("grace@example.com", billing.PurposeCreateWorkspace)
	var res workspace.CreateResult
	h.requireOK(h.do(http.MethodPost, sitePath(site.AP1, routes.RegisterAndCreate), registerCreateReq(code), withToken(tok)), &res)
	assert.Regexp(t, `^acnt_[0-9a-f]{32}$`, res.Account.ID)
	assert.Equal(t, twapi.Account{ID: res.Account.ID, Username: "grace", Email: "grace@example.com",
		Phone: "13800000000", Site: site.AP1, CreateAt: twapi.Timestamp{Time: testStart}}, res.Account)
	assert.Equal(t, twapi.Workspace{ID: res.Workspace.ID, Name: "team", Language: twapi.LanguageEN,
		Site: site.AP1, OwnerAccountID: res.Account.ID, BillingAccountID: e.billing.ID, Settlement: boundSettlement(),
		CreateAt: twapi.Timestamp{Time: testStart}, UpdateAt: twapi.Timestamp{Time: testStart}}, res.Workspace)
	assert.Equal(t, []twapi.Account{e.account, res.Account}, h.srv.Accounts())
	assert.Len(t, h.srv.BillingAccounts(), 1, "no Billing Center account is created")

	// The same username and email are free on another site.
	h.clock.Advance(codeResendInterval)
	code = h.sendCode("grace@example.com", billing.PurposeCreateWorkspace)
	eu := registerCreateReq(code)
	eu.Site = site.EU1
	h.requireOK(h.do(http.MethodPost, sitePath(site.EU1, routes.RegisterAndCreate), eu, withToken(tok)), &res)
	assert.Equal(t, site.EU1, res.Workspace.Site)
	assert.Equal(t, site.EU1, res.Account.Site)
}

func TestRegisterAndCreateRules(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(h *harness)
		modify func(r *workspace.RegisterAndCreateRequest)
		status int
		code   string
		fields []string
	}{
		{name: "passwords differ", modify: func(r *workspace.RegisterAndCreateRequest) { r.PasswordConfirm = "Other-Passw0rd" },
			status: http.StatusBadRequest, code: apierror.CodeValidation, fields: []string{"passwordConfirm"}},
		{name: "weak password", modify: func(r *workspace.RegisterAndCreateRequest) {
			r.Password, r.PasswordConfirm = "abcdefgh", "abcdefgh"
		}, status: http.StatusBadRequest, code: apierror.CodeValidation, fields: []string{"password"}},
		{name: "bad username and phone", modify: func(r *workspace.RegisterAndCreateRequest) { r.Username, r.Phone = "1x", "12" },
			status: http.StatusBadRequest, code: apierror.CodeValidation, fields: []string{"username", "mobile"}},
		{name: "site differs from the path", modify: func(r *workspace.RegisterAndCreateRequest) { r.Site = site.ZA1 },
			status: http.StatusBadRequest, code: apierror.CodeValidation, fields: []string{"site"}},
		{name: "username taken on the site", setup: func(h *harness) {
			_, err := h.srv.SeedAccount(AccountSeed{Site: site.AP1, Username: "Grace", Email: "g2@example.com"})
			require.NoError(h.t, err)
		}, status: http.StatusConflict, code: apierror.CodeUsernameTaken},
		{name: "email taken on the site", setup: func(h *harness) {
			_, err := h.srv.SeedAccount(AccountSeed{Site: site.AP1, Username: "grace2", Email: "GRACE@example.com"})
			require.NoError(h.t, err)
		}, status: http.StatusConflict, code: apierror.CodeEmailTaken},
		{name: "subscription frozen", setup: func(h *harness) {
			require.NoError(h.t, h.srv.SetPurchaseStatus(DemoInstanceID, PurchaseFrozen))
		}, status: http.StatusConflict, code: apierror.CodeSubscriptionInactive},
		{name: "subscription released", setup: func(h *harness) {
			release(h.t, h.srv, DemoInstanceID)
		}, status: http.StatusConflict, code: apierror.CodeSubscriptionInactive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _, tok := boundAccount(t)
			if tc.setup != nil {
				tc.setup(h)
			}
			req := registerCreateReq(h.sendCode("grace@example.com", billing.PurposeCreateWorkspace))
			if tc.modify != nil {
				tc.modify(&req)
			}
			h.requireUnchanged(func() {
				r := h.do(http.MethodPost, sitePath(site.AP1, routes.RegisterAndCreate), req, withToken(tok))
				requireErr(t, r, tc.status, tc.code)
				if tc.fields != nil {
					assert.Equal(t, tc.fields, r.problems(t))
				}
				assert.NotContains(t, r.env.Message, testPassword)
			})
		})
	}
}

func TestGetWorkspace(t *testing.T) {
	h, e, tok := boundAccount(t)
	mine := h.seedWorkspace(e, "mine", twapi.Settlement{})
	other := h.seedExisting("bob", "bob@example.com")
	theirs := h.seedWorkspace(other, "theirs", twapi.Settlement{})

	var got twapi.Workspace
	h.requireOK(h.do(http.MethodGet, sitePath(site.AP1, routes.GetWorkspace(mine.ID)), nil, withToken(tok)), &got)
	assert.Equal(t, mine, got)

	for _, tc := range []struct {
		site site.Code
		id   string
	}{{site.EU1, mine.ID}, {site.AP1, theirs.ID}, {site.AP1, "wksp_missing"}} {
		requireErr(t, h.do(http.MethodGet, sitePath(tc.site, routes.GetWorkspace(tc.id)), nil, withToken(tok)),
			http.StatusNotFound, apierror.CodeWorkspaceNotFound)
	}
	requireErr(t, h.do(http.MethodGet, sitePath("xx1", routes.GetWorkspace(mine.ID)), nil, withToken(tok)),
		http.StatusNotFound, apierror.CodeUnknownSite)
	requireErr(t, h.do(http.MethodGet, sitePath(site.AP1, routes.GetWorkspace(mine.ID)), nil),
		http.StatusUnauthorized, apierror.CodeUnauthorized)
}

func TestLoginPage(t *testing.T) {
	h := newHarness(t)
	for _, c := range site.Codes() {
		login, err := h.srv.SiteEndpoints().LoginURL(c)
		require.NoError(t, err)
		r := h.do(http.MethodGet, strings.TrimPrefix(login, h.srv.URL()), nil)
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
		info, _ := site.Lookup(c)
		assert.Contains(t, string(r.raw), info.Name)
	}
	requireErr(t, h.do(http.MethodGet, "/sites/US1/auth/login/pwd", nil), http.StatusNotFound, apierror.CodeUnknownSite)
	requireErr(t, h.do(http.MethodPost, "/sites/us1/auth/login/pwd", "{}"), http.StatusMethodNotAllowed, apierror.CodeMethodNotAllowed)
}
