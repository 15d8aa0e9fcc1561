package koogallery

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// fakeIdP is the smallest identity provider that checks what the
// documentation asks of a token request and a userinfo call.
type fakeIdP struct {
	*httptest.Server
	mu        sync.Mutex
	challenge string // code_challenge of the last authorize
	codes     map[string]bool
	forms     []url.Values
}

func newFakeIdP(t *testing.T) *fakeIdP {
	idp := &fakeIdP{codes: map[string]bool{"code-1": true}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /idp/tenant-a/api/v1/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		idp.mu.Lock()
		defer idp.mu.Unlock()
		idp.forms = append(idp.forms, r.PostForm)
		f := r.PostForm
		w.Header().Set("Content-Type", "application/json")
		if f.Get("client_id") != "client-1" || f.Get("client_secret") != "secret-1" {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"Bad client credentials"}`)
			return
		}
		switch f.Get("grant_type") {
		case "authorization_code":
			ok := idp.codes[f.Get("code")] && f.Get("redirect_uri") == "https://vendor.example.com/callback"
			if v := f.Get("code_verifier"); idp.challenge != "" {
				sum := sha256.Sum256([]byte(v))
				ok = ok && base64.RawURLEncoding.EncodeToString(sum[:]) == idp.challenge
			}
			if !ok {
				w.WriteHeader(400)
				_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid authorization code"}`)
				return
			}
			delete(idp.codes, f.Get("code"))
			_, _ = io.WriteString(w, `{"access_token":"at-1","token_type":"Bearer","expires_in":7200,"scope":"get_user_info","refresh_token":"rt-1"}`)
		case "refresh_token":
			if f.Get("refresh_token") != "rt-1" {
				w.WriteHeader(400)
				_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid refresh token"}`)
				return
			}
			_, _ = io.WriteString(w, `{"access_token":"at-2","token_type":"Bearer","expires_in":7200,"refresh_token":"rt-2"}`)
		}
	})
	mux.HandleFunc("GET /idp/tenant-a/api/v1/oauth2/userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-1" {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":"unauthorized","error_description":"Full authentication is required to access this resource"}`)
			return
		}
		_, _ = io.WriteString(w, `{"id":"u-1","userName":"ada","name":"Ada Lovelace","email":"ada@example.com","mobile":"1860000","role":"admin","organizationName":"Engineering","userId":"uid-1","organizationCode":"eng","projectName":"Analytical Engines","tenant":"t-1"}`)
	})
	mux.HandleFunc("GET /idp/tenant-a/orgid/openapi/v1/oauth2/userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-OrgID-Authorization") != "Bearer at-1" || r.Header.Get("Authorization") != "" {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error_code":"OrgID.0401","error_msg":"token invalid","error":"unauthorized","error_description":"token invalid"}`)
			return
		}
		_, _ = io.WriteString(w, `{"tenant_name":"Analytical Engines","tenant":"t-1","name":"Ada Lovelace","mobile":"1860000","user_name":"ada","user_id":"uid-1","employee_code":"E7","role":"user"}`)
	})
	idp.Server = httptest.NewServer(mux)
	t.Cleanup(idp.Close)
	return idp
}

func loginClient(t *testing.T, idp *fakeIdP, opts ...LoginOption) *LoginClient {
	t.Helper()
	c, err := NewLoginClient(LoginConfig{Domain: idp.URL + "/idp/tenant-a", ClientID: "client-1", ClientSecret: "secret-1",
		RedirectURL: "https://vendor.example.com/callback"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoginFlowWithPKCE(t *testing.T) {
	idp := newFakeIdP(t)
	c := loginClient(t, idp)
	authURL, attempt := c.Begin()
	u, _ := url.Parse(authURL)
	q := u.Query()
	if u.Path != "/idp/tenant-a/api/v1/oauth2/authorize" || q.Get("response_type") != "code" || q.Get("client_id") != "client-1" ||
		q.Get("redirect_uri") != "https://vendor.example.com/callback" || q.Get("scope") != "get_user_info" ||
		q.Get("state") != attempt.State.Reveal() || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		t.Fatalf("authorize URL %s", authURL)
	}
	if strings.Contains(fmt.Sprintf("%v %+v", attempt, attempt), attempt.Verifier.Reveal()) {
		t.Error("the PKCE verifier prints")
	}
	idp.challenge = q.Get("code_challenge")
	callback := url.Values{"code": {"code-1"}, "state": {attempt.State.Reveal()}, "tenant_id": {"t-1"}}
	tok, cb, err := c.Finish(context.Background(), callback, attempt)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at-1" || tok.RefreshToken != "rt-1" || cb.TenantID != "t-1" || tok.Expiry.IsZero() {
		t.Errorf("token %+v callback %+v", tok, cb)
	}
	form := idp.forms[0]
	if form.Get("grant_type") != "authorization_code" || form.Get("client_secret") != "secret-1" || form.Get("code_verifier") == "" {
		t.Errorf("token form %v", form)
	}
	// The code is single use.
	if _, _, err := c.Finish(context.Background(), callback, attempt); !isLoginError(err, 400, "invalid_grant") {
		t.Errorf("reused code: %v", err)
	}
	info, err := c.UserInfo(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if info.UserName != "ada" || info.TenantID != "t-1" || info.Role != "admin" || info.OrganizationCode != "eng" ||
		info.TenantName != "Analytical Engines" || info.ID != "u-1" || info.UserID != "uid-1" {
		t.Errorf("%+v", info)
	}
	tok2, err := c.Refresh(context.Background(), "rt-1")
	if err != nil || tok2.AccessToken != "at-2" || tok2.RefreshToken != "rt-2" {
		t.Errorf("refresh %+v %v", tok2, err)
	}
	if _, err := c.Refresh(context.Background(), "rt-bad"); !isLoginError(err, 400, "invalid_grant") {
		t.Errorf("bad refresh: %v", err)
	}
	if _, err := c.UserInfo(context.Background(), &oauth2.Token{AccessToken: "at-bad"}); !isLoginError(err, 401, "unauthorized") ||
		!errors.Is(err, apierror.ErrUnauthorized) {
		t.Errorf("bad token: %v", err)
	}
}

func isLoginError(err error, status int, code string) bool {
	var ae *apierror.Error
	return errors.As(err, &ae) && ae.Service == LoginService && ae.HTTPStatus == status && ae.ErrorCode == code
}

func TestLoginCallbackChecks(t *testing.T) {
	idp := newFakeIdP(t)
	c := loginClient(t, idp)
	_, attempt := c.Begin()
	for name, q := range map[string]url.Values{
		"no state":    {"code": {"code-1"}},
		"wrong state": {"code": {"code-1"}, "state": {"forged"}},
	} {
		if _, _, err := c.Finish(context.Background(), q, attempt); !errors.Is(err, ErrLoginState) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseCallback(url.Values{"error": {"access_denied"}, "error_description": {"no"}}, attempt.State); !isLoginError(err, 0, "access_denied") {
		t.Errorf("error callback: %v", err)
	}
	if _, err := ParseCallback(url.Values{"state": {attempt.State.Reveal()}}, attempt.State); err == nil {
		t.Error("callback without code accepted")
	}
	if _, err := ParseCallback(url.Values{"state": {""}, "code": {"c"}}, ""); !errors.Is(err, ErrLoginState) {
		t.Error("empty expected state matched an empty state")
	}
	cb, err := ParseCallback(url.Values{"state": {attempt.State.Reveal()}, "code": {"c"}, "tenant": {"t-9"}}, attempt.State)
	if err != nil || cb.TenantID != "t-9" || cb.Code.Reveal() != "c" || fmt.Sprint(cb.Code) == "c" {
		t.Errorf("%+v %v", cb, err)
	}
	// No code was exchanged by any refused callback.
	if len(idp.forms) != 0 {
		t.Errorf("%d token requests", len(idp.forms))
	}
}

func TestLoginOrgIDUserInfo(t *testing.T) {
	idp := newFakeIdP(t)
	c := loginClient(t, idp, WithUserInfoStyle(UserInfoOrgID))
	info, err := c.UserInfo(context.Background(), &oauth2.Token{AccessToken: "at-1"})
	if err != nil {
		t.Fatal(err)
	}
	if info.UserName != "ada" || info.UserID != "uid-1" || info.TenantID != "t-1" || info.TenantName != "Analytical Engines" ||
		info.EmployeeCode != "E7" || info.Role != "user" {
		t.Errorf("%+v", info)
	}
	_, err = c.UserInfo(context.Background(), &oauth2.Token{AccessToken: "nope"})
	var ae *apierror.Error
	if !errors.As(err, &ae) || ae.ErrorCode != "unauthorized" || ae.Message != "token invalid" {
		t.Errorf("%v", err)
	}
}

func TestLoginClientInvalidCredentials(t *testing.T) {
	idp := newFakeIdP(t)
	c, _ := NewLoginClient(LoginConfig{Domain: idp.URL + "/idp/tenant-a", ClientID: "client-1", ClientSecret: "wrong",
		RedirectURL: "https://vendor.example.com/callback"})
	_, err := c.Exchange(context.Background(), "code-1")
	if !isLoginError(err, 401, "invalid_client") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("%v", err)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Error("the oauth2 error is not reachable")
	}
}

func TestLogoutURLAndEndpoints(t *testing.T) {
	c, err := NewLoginClient(LoginConfig{Domain: "tenant-a.idaas.example.com", ClientID: "c", ClientSecret: "s",
		RedirectURL: "https://vendor.example.com/cb"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.LogoutURL("https://vendor.example.com/bye?x=1")
	if err != nil || got != "https://tenant-a.idaas.example.com/api/v1/logout?redirect_url=https%3A%2F%2Fvendor.example.com%2Fbye%3Fx%3D1" {
		t.Errorf("%s %v", got, err)
	}
	if _, err := c.LogoutURL("/relative"); err == nil {
		t.Error("relative logout redirect accepted")
	}
	cfg := c.OAuth2Config()
	if cfg.Endpoint.TokenURL != "https://tenant-a.idaas.example.com/api/v1/oauth2/token" || cfg.Endpoint.AuthStyle != oauth2.AuthStyleInParams {
		t.Errorf("%+v", cfg.Endpoint)
	}
	c2, _ := NewLoginClient(LoginConfig{Domain: "https://idp.example.com", ClientID: "c", ClientSecret: "s", RedirectURL: "https://v/cb"},
		WithLoginEndpoints(LoginEndpoints{TokenURL: "https://other.example.com/token"}))
	if c2.OAuth2Config().Endpoint.TokenURL != "https://other.example.com/token" || !strings.HasPrefix(c2.AuthCodeURL("s"), "https://idp.example.com/api/v1/oauth2/authorize?") {
		t.Errorf("overrides %+v", c2.OAuth2Config().Endpoint)
	}
}

func TestLoginConfigValidation(t *testing.T) {
	good := LoginConfig{Domain: "idp.example.com", ClientID: "c", ClientSecret: "s", RedirectURL: "https://v/cb"}
	for name, mut := range map[string]func(*LoginConfig){
		"http on a public host": func(c *LoginConfig) { c.Domain = "http://idp.example.com" },
		"ftp":                   func(c *LoginConfig) { c.Domain = "ftp://idp.example.com" },
		"credentials in URL":    func(c *LoginConfig) { c.Domain = "https://u:p@idp.example.com" },
		"query":                 func(c *LoginConfig) { c.Domain = "https://idp.example.com/?x=1" },
		"empty domain":          func(c *LoginConfig) { c.Domain = "" },
		"no client ID":          func(c *LoginConfig) { c.ClientID = "" },
		"no secret":             func(c *LoginConfig) { c.ClientSecret = "" },
		"relative redirect":     func(c *LoginConfig) { c.RedirectURL = "/cb" },
	} {
		c := good
		mut(&c)
		if _, err := NewLoginClient(c); !errors.Is(err, apierror.ErrValidation) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := good
	c.Domain = "http://127.0.0.1:8080/idp/x"
	if _, err := NewLoginClient(c); err != nil {
		t.Errorf("loopback http refused: %v", err)
	}
	for _, o := range []LoginOption{WithUserInfoStyle(7), WithLoginHTTPClient(nil), WithLoginEndpoints(LoginEndpoints{AuthURL: "http://evil.example.com/a"}), nil} {
		if _, err := NewLoginClient(good, o); err == nil {
			t.Error("option accepted")
		}
	}
	cl, _ := NewLoginClient(good)
	if _, err := cl.UserInfo(context.Background(), nil); !errors.Is(err, apierror.ErrValidation) {
		t.Errorf("nil token: %v", err)
	}
	if _, err := cl.Exchange(context.Background(), ""); !errors.Is(err, apierror.ErrValidation) {
		t.Errorf("empty code: %v", err)
	}
}
