package mockserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// loggedIn is env with charles authorized and his initial password
// changed.
func loggedIn(t *testing.T, opts ...mockserver.Option) *jointEnv {
	t.Helper()
	env := setupJoint(t, opts...)
	env.authorize("charles")
	client, attempt := vendorClient(t, env)
	cb, err := env.srv.UnifiedLogin(env.ctx, client.url, env.login())
	require.NoError(t, err)
	_, _, err = client.lc.Finish(env.ctx, cb.Query(), attempt)
	require.NoError(t, err)
	return env
}

func (env *jointEnv) creds() mockserver.MemberLogin {
	return mockserver.MemberLogin{Enterprise: "engines", Account: "charles", Password: memberPassword}
}

// A vendor's whole flow on koogallery.LoginClient: the callback carries
// code, tenant_id and state; the code is exchanged once, with the PKCE
// verifier; userinfo answers in both shapes; refresh works; tokens last
// 2 hours and refresh tokens 30 days on the mock's clock.
func TestUnifiedLogin_VendorFlow(t *testing.T) {
	env := loggedIn(t)
	client, attempt := vendorClient(t, env)
	au, _ := url.Parse(client.url)
	assert.Equal(t, "S256", au.Query().Get("code_challenge_method"))
	cb, err := env.srv.UnifiedLogin(env.ctx, client.url, env.creds())
	require.NoError(t, err)
	assert.Equal(t, env.ent.TenantID, cb.Query().Get("tenant_id"))
	assert.Equal(t, attempt.State.Reveal(), cb.Query().Get("state"))
	tok, got, err := client.lc.Finish(env.ctx, cb.Query(), attempt)
	require.NoError(t, err)
	assert.Equal(t, env.ent.TenantID, got.TenantID)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.WithinDuration(t, time.Now().Add(2*time.Hour), tok.Expiry, time.Minute, "expires_in 7200")

	info, err := client.lc.UserInfo(env.ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "charles", info.UserName)
	assert.Equal(t, "Charles Babbage", info.Name)
	assert.Equal(t, env.ent.TenantID, info.TenantID)
	assert.Equal(t, "charles@example.com", info.Email)
	assert.Equal(t, "Analytical Engines", info.TenantName)
	var legacy map[string]any
	require.NoError(t, json.Unmarshal(info.Raw, &legacy))
	for _, k := range []string{"id", "userName", "name", "email", "mobile", "role", "organizationName", "userId", "organizationCode", "projectName", "tenant"} {
		assert.Contains(t, legacy, k, "the legacy shape has %s", k)
	}

	orgid, _ := vendorClient(t, env, koogallery.WithUserInfoStyle(koogallery.UserInfoOrgID))
	info2, err := orgid.lc.UserInfo(env.ctx, tok)
	require.NoError(t, err)
	var snake map[string]any
	require.NoError(t, json.Unmarshal(info2.Raw, &snake))
	for _, k := range []string{"tenant_name", "tenant", "name", "mobile", "user_name", "user_id", "employee_code", "role"} {
		assert.Contains(t, snake, k, "the OrgID shape has %s", k)
	}
	assert.Equal(t, "charles", info2.UserName)
	assert.Equal(t, "Analytical Engines", info2.TenantName)

	// The code is single-use: a replay is invalid_grant and revokes what
	// the code gave.
	_, err = client.lc.Exchange(env.ctx, cb.Query().Get("code"), oauth2.VerifierOption(attempt.Verifier.Reveal()))
	assertLoginError(t, err, http.StatusBadRequest, "invalid_grant")
	_, err = client.lc.UserInfo(env.ctx, tok)
	assertLoginError(t, err, http.StatusUnauthorized, "invalid_token")

	// A fresh login; then the clock: access tokens last 2 hours, refresh
	// tokens 30 days.
	client, attempt = vendorClient(t, env)
	cb, err = env.srv.UnifiedLogin(env.ctx, client.url, env.creds())
	require.NoError(t, err)
	tok, _, err = client.lc.Finish(env.ctx, cb.Query(), attempt)
	require.NoError(t, err)
	_, err = env.srv.AdvanceClock(env.ctx, 2*time.Hour)
	require.NoError(t, err)
	_, err = client.lc.UserInfo(env.ctx, tok)
	assertLoginError(t, err, http.StatusUnauthorized, "invalid_token")
	fresh, err := client.lc.Refresh(env.ctx, secret.String(tok.RefreshToken))
	require.NoError(t, err)
	_, err = client.lc.UserInfo(env.ctx, fresh)
	require.NoError(t, err)
	assert.Equal(t, tok.RefreshToken, fresh.RefreshToken, "refresh tokens are not rotated")
	_, err = env.srv.AdvanceClock(env.ctx, 30*24*time.Hour)
	require.NoError(t, err)
	_, err = client.lc.Refresh(env.ctx, secret.String(tok.RefreshToken))
	assertLoginError(t, err, http.StatusBadRequest, "invalid_grant")
}

// Codes are short-lived, bound to the client, the redirect URI and the
// PKCE challenge; a refused exchange uses nothing up.
func TestUnifiedLogin_CodeChecks(t *testing.T) {
	env := loggedIn(t)
	client, attempt := vendorClient(t, env)
	cb, err := env.srv.UnifiedLogin(env.ctx, client.url, env.creds())
	require.NoError(t, err)
	code := cb.Query().Get("code")

	_, err = client.lc.Exchange(env.ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	assertLoginError(t, err, http.StatusBadRequest, "invalid_grant")
	_, err = client.lc.Exchange(env.ctx, code)
	assertLoginError(t, err, http.StatusBadRequest, "invalid_grant")

	app, _ := env.srv.EnterpriseApplication(env.ent.TenantID)
	wrongSecret, err := koogallery.NewLoginClient(koogallery.LoginConfig{Domain: env.ent.IdentityProvider, ClientID: app.ClientID,
		ClientSecret: "not-the-secret", RedirectURL: app.RedirectURIs[0]}, koogallery.WithLoginHTTPClient(env.srv.HTTPClient()), koogallery.WithInsecureHTTP())
	require.NoError(t, err)
	_, err = wrongSecret.Exchange(env.ctx, code, oauth2.VerifierOption(attempt.Verifier.Reveal()))
	assertLoginError(t, err, http.StatusUnauthorized, "invalid_client")

	otherRedirect, err := koogallery.NewLoginClient(koogallery.LoginConfig{Domain: env.ent.IdentityProvider, ClientID: app.ClientID,
		ClientSecret: secret.String(app.ClientSecret), RedirectURL: "http://127.0.0.1/elsewhere"}, koogallery.WithLoginHTTPClient(env.srv.HTTPClient()), koogallery.WithInsecureHTTP())
	require.NoError(t, err)
	_, err = otherRedirect.Exchange(env.ctx, code, oauth2.VerifierOption(attempt.Verifier.Reveal()))
	assertLoginError(t, err, http.StatusBadRequest, "invalid_grant")

	// Every refusal left the code usable.
	_, _, err = client.lc.Finish(env.ctx, cb.Query(), attempt)
	require.NoError(t, err)

	// A code expires after 5 minutes of the mock's clock.
	client, attempt = vendorClient(t, env)
	cb, err = env.srv.UnifiedLogin(env.ctx, client.url, env.creds())
	require.NoError(t, err)
	_, err = env.srv.AdvanceClock(env.ctx, 5*time.Minute)
	require.NoError(t, err)
	_, _, err = client.lc.Finish(env.ctx, cb.Query(), attempt)
	assertLoginError(t, err, http.StatusBadRequest, "invalid_grant")

	// A forged callback (another state) is refused before any call.
	client, attempt = vendorClient(t, env)
	cb, err = env.srv.UnifiedLogin(env.ctx, client.url, env.creds())
	require.NoError(t, err)
	q := cb.Query()
	q.Set("state", "forged")
	_, _, err = client.lc.Finish(env.ctx, q, attempt)
	require.ErrorIs(t, err, koogallery.ErrLoginState)
}

// browser is a cookie-keeping client that does not follow redirects.
func browser(t *testing.T, env *jointEnv) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: env.srv.HTTPClient().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, hc *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := hc.Get(u)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp, string(b)
}

var hidden = regexp.MustCompile(`name="(login_id|csrf_token)" value="([^"]*)"`)

// The authorize endpoint: what cannot go back to the application (an
// unknown client, a redirect URI not registered) is an error page and no
// redirect; what can goes back as the RFC 6749 error with the state.
func TestUnifiedLogin_AuthorizeErrors(t *testing.T) {
	env := setupJoint(t)
	env.authorize("charles")
	client, _ := vendorClient(t, env)
	hc := browser(t, env)
	au, _ := url.Parse(client.url)
	with := func(k, v string) string {
		q := au.Query()
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		u := *au
		u.RawQuery = q.Encode()
		return u.String()
	}
	for name, tc := range map[string]struct {
		url    string
		status int
		code   string
	}{
		"unregistered redirect": {with("redirect_uri", "https://evil.example/cb"), http.StatusBadRequest, "invalid_request"},
		"open redirect attempt": {with("redirect_uri", client.lc.OAuth2Config().RedirectURL+"/../x"), http.StatusBadRequest, "invalid_request"},
		"unknown client":        {with("client_id", "nobody"), http.StatusBadRequest, "invalid_client"},
		"unknown domain":        {strings.Replace(client.url, "/idp/engines.example/", "/idp/other.example/", 1), http.StatusNotFound, "invalid_request"},
	} {
		resp, body := get(t, hc, tc.url)
		assert.Equal(t, tc.status, resp.StatusCode, name)
		assert.Empty(t, resp.Header.Get("Location"), "%s: never redirected", name)
		assert.Contains(t, body, `data-error="`+tc.code+`"`, name)
	}
	for name, tc := range map[string]struct{ url, code string }{
		"plain PKCE":           {with("code_challenge_method", "plain"), "invalid_request"},
		"bad challenge":        {with("code_challenge", "short"), "invalid_request"},
		"response_type":        {with("response_type", "token"), "unsupported_response_type"},
		"no response_type":     {with("response_type", ""), "invalid_request"},
		"scope":                {with("scope", "admin"), "invalid_scope"},
		"repeated state":       {client.url + "&state=again", "invalid_request"},
		"method, no challenge": {with("code_challenge", ""), "invalid_request"},
	} {
		resp, _ := get(t, hc, tc.url)
		require.Equal(t, http.StatusFound, resp.StatusCode, name)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(loc.String(), client.lc.OAuth2Config().RedirectURL), name)
		assert.Equal(t, tc.code, loc.Query().Get("error"), name)
		assert.Empty(t, loc.Query().Get("code"), name)
		if name != "repeated state" {
			assert.Equal(t, au.Query().Get("state"), loc.Query().Get("state"), name)
		}
	}
}

// An enterprise still activating: the login is temporarily_unavailable.
func TestUnifiedLogin_EnterpriseActivating(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutListener())
	ent, err := srv.CreateEnterprise(t.Context(), mockserver.EnterpriseRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID, Name: "Analytical Engines", Domain: "engines.example", Abbreviation: "engines"})
	require.NoError(t, err)
	app, err := srv.EnterpriseApplication(ent.TenantID)
	require.NoError(t, err)
	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {app.RedirectURIs[0]}, "state": {"s1"}}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Transport: srv.HTTPClient().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(app.AuthorizeURL + "?" + q.Encode())
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	assert.Equal(t, "temporarily_unavailable", loc.Query().Get("error"))
	assert.Equal(t, "s1", loc.Query().Get("state"))
}

// Wrong passwords show the page again; the fifth in a row locks the
// member for 15 minutes of the mock's clock (access_denied, even with the
// right password); a reset lifts the lock. Nothing else changes.
func TestUnifiedLogin_Lockout(t *testing.T) {
	env := loggedIn(t)
	client, _ := vendorClient(t, env)
	wrong := env.creds()
	wrong.Password = "Wrong-Pass-0001"
	for i := range 4 {
		_, err := env.srv.UnifiedLogin(env.ctx, client.url, wrong)
		var le *mockserver.LoginError
		require.ErrorAs(t, err, &le, "try %d", i+1)
		assert.Equal(t, "invalid_credentials", le.Code)
		assert.Equal(t, http.StatusUnauthorized, le.HTTPStatus)
		assert.Equal(t, "login", le.Stage)
	}
	_, err := env.srv.UnifiedLogin(env.ctx, client.url, wrong)
	var le *mockserver.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "redirect", le.Stage)
	assert.Equal(t, "access_denied", le.Code)
	ms, _ := env.srv.Members(env.ent.TenantID)
	assert.False(t, ms[0].LockedUntil.IsZero())

	_, err = env.srv.UnifiedLogin(env.ctx, client.url, env.creds())
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "access_denied", le.Code, "locked: the right password does not help")

	_, err = env.srv.AdvanceClock(env.ctx, 15*time.Minute)
	require.NoError(t, err)
	_, err = env.srv.UnifiedLogin(env.ctx, client.url, env.creds())
	require.NoError(t, err, "the lock ended")

	// Wrong enterprise or unknown account: the same answer, and no count.
	for _, l := range []mockserver.MemberLogin{{Enterprise: "other", Account: "charles", Password: memberPassword},
		{Enterprise: "engines", Account: "nobody", Password: memberPassword}} {
		_, err = env.srv.UnifiedLogin(env.ctx, client.url, l)
		require.ErrorAs(t, err, &le)
		assert.Equal(t, "invalid_credentials", le.Code)
	}

	for range 5 {
		_, _ = env.srv.UnifiedLogin(env.ctx, client.url, wrong)
	}
	m, err := env.srv.ResetMemberPassword(env.ent.TenantID, "charles", "")
	require.NoError(t, err)
	assert.True(t, m.MustChangePassword)
	assert.NotEmpty(t, m.InitialPassword)
	_, err = env.srv.UnifiedLogin(env.ctx, client.url, mockserver.MemberLogin{Enterprise: "engines", Account: "charles",
		Password: m.InitialPassword, NewPassword: "Another-Pass-77"})
	require.NoError(t, err, "the reset lifted the lock")
}

// The forced change of the initial password: the new one must follow the
// rule and be confirmed; a refused change changes nothing.
func TestUnifiedLogin_PasswordChange(t *testing.T) {
	env := setupJoint(t)
	env.authorize("charles")
	client, _ := vendorClient(t, env)
	l := env.login()
	l.NewPassword = ""
	_, err := env.srv.UnifiedLogin(env.ctx, client.url, l)
	var le *mockserver.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "password_change_required", le.Code)
	for _, bad := range []string{"Sh0rt!", "alllowercaseletters", "Charles-2024-pass", "Init-Pass-0001"} {
		l.NewPassword = bad
		_, err = env.srv.UnifiedLogin(env.ctx, client.url, l)
		require.ErrorAs(t, err, &le, bad)
		assert.Equal(t, "invalid_password", le.Code, bad)
		assert.Equal(t, "password", le.Stage, bad)
	}
	ms, _ := env.srv.Members(env.ent.TenantID)
	assert.True(t, ms[0].MustChangePassword, "nothing changed")
	assert.Equal(t, "Init-Pass-0001", ms[0].InitialPassword)
}

// The login form is protected against CSRF: without the page's cookie, or
// with another page's token, it is refused and nothing changes (no wrong
// password counted).
func TestUnifiedLogin_CSRF(t *testing.T) {
	env := setupJoint(t)
	env.authorize("charles")
	client, _ := vendorClient(t, env)
	hc := browser(t, env)
	resp, body := get(t, hc, client.url)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "kgidp_binding" {
			cookie = c
		}
	}
	require.NotNil(t, cookie)
	assert.True(t, cookie.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	fields := map[string]string{}
	for _, m := range hidden.FindAllStringSubmatch(body, -1) {
		fields[m[1]] = m[2]
	}
	require.Len(t, fields, 2)
	action := env.ent.IdentityProvider + "/login"
	post := func(hc *http.Client, form url.Values) *http.Response {
		resp, err := hc.PostForm(action, form)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp
	}
	form := url.Values{"login_id": {fields["login_id"]}, "csrf_token": {fields["csrf_token"]}, "tenant": {"engines"},
		"account": {"charles"}, "password": {"wrong-Pass-1"}}
	other := browser(t, env) // another browser: no cookie
	assert.Equal(t, http.StatusForbidden, post(other, form).StatusCode)
	forged := url.Values{}
	for k, v := range form {
		forged[k] = v
	}
	forged.Set("csrf_token", "forged")
	assert.Equal(t, http.StatusForbidden, post(hc, forged).StatusCode)
	ms, _ := env.srv.Members(env.ent.TenantID)
	assert.True(t, ms[0].LockedUntil.IsZero())
	resp, err := hc.Post(action, "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
	assert.Equal(t, http.StatusUnauthorized, post(hc, form).StatusCode, "the page's own form goes through")
}

// Logout ends the login session (the next authorize shows the page again)
// and redirects only to the application's origins.
func TestUnifiedLogin_Logout(t *testing.T) {
	env := loggedIn(t)
	client, _ := vendorClient(t, env)
	hc := browser(t, env)
	// Log in in this browser: the session cookie is set.
	resp, body := get(t, hc, client.url)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	form := url.Values{"tenant": {"engines"}, "account": {"charles"}, "password": {memberPassword}}
	for _, m := range hidden.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], m[2])
	}
	resp, err := hc.PostForm(env.ent.IdentityProvider+"/login", form)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	again, _ := vendorClient(t, env)
	resp, _ = get(t, hc, again.url)
	assert.Equal(t, http.StatusFound, resp.StatusCode, "an open session answers at once")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	assert.NotEmpty(t, loc.Query().Get("code"))

	logout, err := client.lc.LogoutURL("https://evil.example/")
	require.NoError(t, err)
	resp, _ = get(t, hc, logout)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "no open redirect")
	home := strings.TrimSuffix(env.srv.BillingURL(), "/billing-center") + "/"
	logout, err = client.lc.LogoutURL(home)
	require.NoError(t, err)
	resp, _ = get(t, hc, logout)
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, home, resp.Header.Get("Location"))
	again, _ = vendorClient(t, env)
	resp, _ = get(t, hc, again.url)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the session ended: the login page again")
}

// The discovery document names the endpoints the application reads.
func TestUnifiedLogin_Discovery(t *testing.T) {
	env := setupJoint(t)
	app, err := env.srv.EnterpriseApplication(env.ent.TenantID)
	require.NoError(t, err)
	resp, body := get(t, env.srv.HTTPClient(), app.Discovery)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	assert.Equal(t, env.ent.IdentityProvider, doc["issuer"])
	assert.Equal(t, app.TokenURL, doc["token_endpoint"])
	assert.Equal(t, app.AuthorizeURL, doc["authorization_endpoint"])
	assert.Equal(t, []any{"S256"}, doc["code_challenge_methods_supported"])
}

// The token endpoint's malformed requests: RFC 6749 errors, 4xx.
func TestUnifiedLogin_TokenEndpointErrors(t *testing.T) {
	env := setupJoint(t)
	app, _ := env.srv.EnterpriseApplication(env.ent.TenantID)
	hc := env.srv.HTTPClient()
	cred := url.Values{"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}}
	for name, tc := range map[string]struct {
		ct, body string
		status   int
		code     string
	}{
		"json":          {"application/json", `{}`, 400, "invalid_request"},
		"no grant":      {"application/x-www-form-urlencoded", cred.Encode(), 400, "invalid_request"},
		"unknown grant": {"application/x-www-form-urlencoded", cred.Encode() + "&grant_type=password", 400, "unsupported_grant_type"},
		"no code":       {"application/x-www-form-urlencoded", cred.Encode() + "&grant_type=authorization_code", 400, "invalid_request"},
		"bad code":      {"application/x-www-form-urlencoded", cred.Encode() + "&grant_type=authorization_code&code=x", 400, "invalid_grant"},
		"twice":         {"application/x-www-form-urlencoded", cred.Encode() + "&grant_type=a&grant_type=b", 400, "invalid_request"},
		"no client":     {"application/x-www-form-urlencoded", "grant_type=authorization_code&code=x", 401, "invalid_client"},
		"bad refresh":   {"application/x-www-form-urlencoded", cred.Encode() + "&grant_type=refresh_token&refresh_token=x", 400, "invalid_grant"},
		"bad escape":    {"application/x-www-form-urlencoded", "%zz", 400, "invalid_request"},
	} {
		resp, err := hc.Post(app.TokenURL, tc.ct, strings.NewReader(tc.body))
		require.NoError(t, err)
		var e map[string]string
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e), name)
		_ = resp.Body.Close()
		assert.Equal(t, tc.status, resp.StatusCode, name)
		assert.Equal(t, tc.code, e["error"], name)
	}
	resp, body := get(t, hc, app.UserInfoURL)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.JSONEq(t, `{"error":"unauthorized","error_description":"Full authentication is required to access this resource"}`, body)
}
