package mockserver_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

// jointEnv is a mock with the demo purchase's enterprise created and
// active, and one member added (not authorized yet).
type jointEnv struct {
	t      *testing.T
	ctx    context.Context
	srv    *mockserver.Server
	ent    mockserver.Enterprise
	member mockserver.Member
}

const memberPassword = "Br1ght-Morning-42"

func setupJoint(t *testing.T, opts ...mockserver.Option) *jointEnv {
	t.Helper()
	env := &jointEnv{t: t, ctx: context.Background()}
	env.srv = mockserver.Start(t, append([]mockserver.Option{mockserver.WithoutListener()}, opts...)...)
	ent, err := env.srv.CreateEnterprise(env.ctx, mockserver.EnterpriseRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID, Name: "Analytical Engines", Domain: "engines.example", Abbreviation: "engines"})
	require.NoError(t, err)
	if ent.Status == mockserver.EnterpriseActivating {
		_, err = env.srv.AdvanceClock(env.ctx, mockserver.DefaultEnterpriseActivation)
		require.NoError(t, err)
	}
	env.ent, err = env.srv.Enterprise(ent.TenantID)
	require.NoError(t, err)
	require.Equal(t, mockserver.EnterpriseActive, env.ent.Status)
	env.member, err = env.srv.AddMember(env.ctx, ent.TenantID, mockserver.MemberRequest{UserName: "charles", Name: "Charles Babbage",
		InitialPassword: "Init-Pass-0001", Email: "charles@example.com"})
	require.NoError(t, err)
	return env
}

func (env *jointEnv) authorize(users ...string) {
	env.t.Helper()
	_, err := env.srv.AuthorizeMembers(env.ctx, env.ent.TenantID, mockserver.AuthorizationRequest{UserNames: users, AgreementAccepted: true})
	require.NoError(env.t, err)
}

// activate activates the demo subscription: a TrueWatch and Billing Center
// account and its first workspace.
func (env *jointEnv) activate() string {
	env.t.Helper()
	res, err := truewatchtest.Activation(env.srv).WithSite(truewatch.SiteAP1).
		Register(truewatch.RegisterInfo{Username: "ada", Password: "Str0ng-Passw0rd!", PasswordConfirm: "Str0ng-Passw0rd!",
			Email: "ada@example.com", Company: billing.Company{Name: "Analytical Engines Ltd"},
			WorkspaceName: "production", WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true}).
		Run(env.ctx)
	require.NoError(env.t, err)
	return res.WorkspaceID
}

func (env *jointEnv) login() mockserver.MemberLogin {
	return mockserver.MemberLogin{Enterprise: "engines", Account: "charles", Password: "Init-Pass-0001", NewPassword: memberPassword}
}

func (env *jointEnv) kitDeliveries(iface string) []mockserver.Delivery {
	return env.srv.Deliveries(mockserver.DeliveryFilter{TenantID: env.ent.TenantID, Activity: iface})
}

// The whole of Step 2: an enterprise is created and activates on the
// mock's clock, a member is added and authorized, the vendor receives
// tenantSync, applicationSync (the secret it decrypted works) and
// authSync, and the member logs in through the unified login, changing
// the initial password, and lands in the activated workspace.
func TestJointService_EndToEnd(t *testing.T) {
	env := &jointEnv{t: t, ctx: context.Background()}
	env.srv = mockserver.Start(t, mockserver.WithoutListener())
	ent, err := env.srv.CreateEnterprise(env.ctx, mockserver.EnterpriseRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID, Name: "Analytical Engines", Domain: "engines.example", Abbreviation: "engines"})
	require.NoError(t, err)
	assert.Equal(t, mockserver.EnterpriseActivating, ent.Status)
	assert.Empty(t, env.srv.Deliveries(mockserver.DeliveryFilter{TenantID: ent.TenantID}), "nothing reaches the vendor while activating")
	_, err = env.srv.AddMember(env.ctx, ent.TenantID, mockserver.MemberRequest{UserName: "charles", Name: "Charles"})
	require.ErrorIs(t, err, mockserver.ErrEnterpriseActivating)

	_, err = env.srv.AdvanceClock(env.ctx, time.Minute)
	require.NoError(t, err)
	ent, _ = env.srv.Enterprise(ent.TenantID)
	assert.Equal(t, mockserver.EnterpriseActivating, ent.Status, "one minute is not enough")
	_, err = env.srv.AdvanceClock(env.ctx, time.Minute)
	require.NoError(t, err)
	ent, _ = env.srv.Enterprise(ent.TenantID)
	require.Equal(t, mockserver.EnterpriseActive, ent.Status)
	env.ent = ent

	tenants := env.srv.TrueWatchTenants()
	require.Len(t, tenants, 1)
	assert.Equal(t, ent.TenantID, tenants[0].TenantID)
	assert.Equal(t, "engines", tenants[0].Code)
	assert.Equal(t, ent.IdentityProvider, tenants[0].DomainName)
	assert.True(t, tenants[0].HasClientSecret, "the vendor decrypted the client secret")
	for _, iface := range []string{koogallery.KitTenantSync, koogallery.KitApplicationSync, koogallery.KitAllOrgSync} {
		ds := env.kitDeliveries(iface)
		require.Len(t, ds, 1, iface)
		assert.Equal(t, mockserver.DeliverySucceeded, ds[0].Outcome, iface)
		assert.Contains(t, ds[0].URL, mockserver.VendorProducePath+koogallery.KitPathPrefix+iface)
	}
	app, err := env.srv.EnterpriseApplication(ent.TenantID)
	require.NoError(t, err)
	assert.NotContains(t, string(env.kitDeliveries(koogallery.KitApplicationSync)[0].Request), app.ClientSecret,
		"the log never shows the secret")

	m, err := env.srv.AddMember(env.ctx, ent.TenantID, mockserver.MemberRequest{UserName: "charles", Name: "Charles Babbage",
		InitialPassword: "Init-Pass-0001"})
	require.NoError(t, err)
	assert.True(t, m.MustChangePassword)
	assert.Empty(t, env.kitDeliveries(koogallery.KitAuthSync), "adding a member tells the vendor nothing")
	env.member = m
	env.authorize("charles")
	auth := env.kitDeliveries(koogallery.KitAuthSync)
	require.Len(t, auth, 1)
	assert.Equal(t, mockserver.DeliverySucceeded, auth[0].Outcome)
	assert.Contains(t, string(auth[0].Request), `"userName":"charles"`)
	assert.Equal(t, []string{"charles"}, env.srv.TrueWatchTenants()[0].Authorized)

	wsID := env.activate()
	landing, err := env.srv.LogInToTrueWatch(env.ctx, ent.TenantID, env.login())
	require.NoError(t, err)
	assert.Equal(t, wsID, landing.WorkspaceID)
	assert.Equal(t, "ap1", landing.Site)
	assert.Contains(t, landing.Body, "Activation Successful")
	assert.Contains(t, landing.Body, "production")
	assert.True(t, strings.HasSuffix(landing.NextURL, "/sites/ap1/auth/login/pwd"), landing.NextURL)

	resp, err := landing.Client.Get(landing.NextURL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `data-workspace="`+wsID+`"`, "the site's login page names the workspace")
	assert.Contains(t, string(body), "production")

	m2, _ := env.srv.Members(ent.TenantID)
	assert.False(t, m2[0].MustChangePassword, "the initial password was changed")
	assert.Empty(t, m2[0].InitialPassword)

	// The new password works, the initial one no longer does.
	_, err = env.srv.LogInToTrueWatch(env.ctx, ent.TenantID, mockserver.MemberLogin{Enterprise: "ENGINES", Account: "Charles", Password: memberPassword})
	require.NoError(t, err, "abbreviation and account are not case-sensitive")
	_, err = env.srv.LogInToTrueWatch(env.ctx, ent.TenantID, env.login())
	var le *mockserver.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "invalid_credentials", le.Code)
}

// A member who was never authorized, or whose authorization was withdrawn,
// cannot log in: the identity provider refuses (access_denied), TrueWatch
// shows its error page, and the withdrawn member's tokens stop working.
func TestJointService_DeauthorizedMemberCannotLogIn(t *testing.T) {
	env := setupJoint(t)
	env.activate()
	_, err := env.srv.LogInToTrueWatch(env.ctx, env.ent.TenantID, env.login())
	var le *mockserver.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "truewatch", le.Stage, "TrueWatch's error page")
	assert.Equal(t, "access_denied", le.Code)
	assert.Equal(t, http.StatusForbidden, le.HTTPStatus)

	env.authorize("charles")
	_, err = env.srv.LogInToTrueWatch(env.ctx, env.ent.TenantID, env.login())
	require.NoError(t, err)

	// A vendor's tokens of the member, before the withdrawal.
	client, attempt := vendorClient(t, env)
	cb, err := env.srv.UnifiedLogin(env.ctx, client.url, mockserver.MemberLogin{Enterprise: "engines", Account: "charles", Password: memberPassword})
	require.NoError(t, err)
	tok, _, err := client.lc.Finish(env.ctx, cb.Query(), attempt)
	require.NoError(t, err)

	_, err = env.srv.DeauthorizeMembers(env.ctx, env.ent.TenantID, mockserver.AuthorizationRequest{UserNames: []string{"charles"}})
	require.NoError(t, err)
	withdrawn := env.kitDeliveries(koogallery.KitAuthSync)
	require.Len(t, withdrawn, 2)
	assert.Contains(t, string(withdrawn[1].Request), `"flag":3`, "cancel authorization")
	assert.Empty(t, env.srv.TrueWatchTenants()[0].Authorized)

	_, err = env.srv.LogInToTrueWatch(env.ctx, env.ent.TenantID, mockserver.MemberLogin{Enterprise: "engines", Account: "charles", Password: memberPassword})
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "access_denied", le.Code)
	_, err = client.lc.UserInfo(env.ctx, tok)
	assertLoginError(t, err, http.StatusUnauthorized, "invalid_token")
	_, err = client.lc.Refresh(env.ctx, secret.String(tok.RefreshToken))
	assertLoginError(t, err, http.StatusBadRequest, "invalid_grant")
}

// TrueWatch decides from what it was told: a member the identity provider
// lets in but whose authSync never reached TrueWatch gets its error page.
func TestJointService_TrueWatchChecksItsOwnRecord(t *testing.T) {
	env := setupJoint(t, mockserver.WithDeliveryPolicy(mockserver.DeliveryPolicy{Attempts: 1}))
	env.activate()
	_, err := env.srv.InjectFault(mockserver.Fault{Method: http.MethodPost,
		Path: mockserver.VendorProducePath + koogallery.KitPathPrefix + koogallery.KitAuthSync, Status: http.StatusServiceUnavailable})
	require.NoError(t, err)
	env.authorize("charles")
	ds := env.kitDeliveries(koogallery.KitAuthSync)
	require.Len(t, ds, 1)
	assert.Equal(t, mockserver.DeliveryGaveUp, ds[0].Outcome)
	_, err = env.srv.LogInToTrueWatch(env.ctx, env.ent.TenantID, env.login())
	var le *mockserver.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "truewatch", le.Stage)
	assert.Equal(t, "not_authorized", le.Code)
}

// Without a workspace yet, TrueWatch says the subscription is not
// activated (and opens no session).
func TestJointService_NotActivatedYet(t *testing.T) {
	env := setupJoint(t)
	env.authorize("charles")
	_, err := env.srv.LogInToTrueWatch(env.ctx, env.ent.TenantID, env.login())
	var le *mockserver.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "truewatch", le.Stage)
	assert.Equal(t, http.StatusOK, le.HTTPStatus)
	assert.Equal(t, "unexpected_page", le.Code, "the not-activated page is no landing")
}

// vendorLogin is a vendor's unified-login client for the enterprise, and
// the authorize URL of one attempt.
type vendorLogin struct {
	lc  *koogallery.LoginClient
	url string
}

func vendorClient(t *testing.T, env *jointEnv, opts ...koogallery.LoginOption) (vendorLogin, koogallery.LoginAttempt) {
	t.Helper()
	app, err := env.srv.EnterpriseApplication(env.ent.TenantID)
	require.NoError(t, err)
	lc, err := koogallery.NewLoginClient(koogallery.LoginConfig{Domain: env.ent.IdentityProvider, ClientID: app.ClientID,
		ClientSecret: secret.String(app.ClientSecret), RedirectURL: app.RedirectURIs[0]},
		append([]koogallery.LoginOption{koogallery.WithLoginHTTPClient(env.srv.HTTPClient()), koogallery.WithInsecureHTTP()}, opts...)...)
	require.NoError(t, err)
	u, attempt := lc.Begin()
	return vendorLogin{lc: lc, url: u}, attempt
}

func assertLoginError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var ae *apierror.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, status, ae.HTTPStatus, "%v", err)
	assert.Equal(t, code, ae.ErrorCode, "%v", err)
}
