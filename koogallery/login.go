package koogallery

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// LoginService names the unified-login identity provider in
// *apierror.Error.
const LoginService = "koogallery-login"

// Paths of the unified-login endpoints below a tenant's domain.
const (
	LoginAuthorizePath     = "/api/v1/oauth2/authorize"
	LoginTokenPath         = "/api/v1/oauth2/token"
	LoginUserInfoPath      = "/api/v1/oauth2/userinfo"
	LoginOrgIDUserInfoPath = "/orgid/openapi/v1/oauth2/userinfo"
	LoginLogoutPath        = "/api/v1/logout"
	// DefaultLoginScope is the scope the documentation uses.
	DefaultLoginScope = "get_user_info"
)

// UserInfoStyle selects the userinfo endpoint and its shape.
type UserInfoStyle int

const (
	// UserInfoLegacy is GET {domain}/api/v1/oauth2/userinfo with
	// "Authorization: Bearer" (camelCase fields), the joint-operation
	// pages' endpoint and the default.
	UserInfoLegacy UserInfoStyle = iota
	// UserInfoOrgID is Huawei's newer OrgID service: GET
	// {domain}/orgid/openapi/v1/oauth2/userinfo with
	// "X-OrgID-Authorization: Bearer" (snake_case fields). Whether
	// joint-operation SaaS logins now go through OrgID is not documented.
	UserInfoOrgID
)

// LoginConfig is what a vendor knows of one tenant's unified login: the
// domain from tenantSync and the credentials from applicationSync.
type LoginConfig struct {
	// Domain is the tenant's login domain (TenantSync.DomainName): a host
	// name (https is implied) or an https URL, which may have a path (a
	// mock's base path). http is accepted for loopback hosts only.
	Domain       string
	ClientID     string
	ClientSecret secret.String
	// RedirectURL is the vendor's registered callback.
	RedirectURL string
	// Scopes default to DefaultLoginScope.
	Scopes []string
}

// LoginEndpoints overrides endpoints derived from the domain; empty fields
// keep the derived ones.
type LoginEndpoints struct {
	AuthURL, TokenURL, UserInfoURL, LogoutURL string
}

// LoginOption configures a LoginClient.
type LoginOption func(*loginOptions) error

type loginOptions struct {
	style     UserInfoStyle
	hc        *http.Client
	endpoints LoginEndpoints
	anyHTTP   bool
}

// WithInsecureHTTP accepts plain http URLs on any host, not only on
// loopback: for a mock of the identity provider on a private network (a
// container's name). Never use it against the real service.
func WithInsecureHTTP() LoginOption {
	return func(o *loginOptions) error {
		o.anyHTTP = true
		return nil
	}
}

// WithUserInfoStyle selects the userinfo endpoint (default UserInfoLegacy).
func WithUserInfoStyle(s UserInfoStyle) LoginOption {
	return func(o *loginOptions) error {
		if s != UserInfoLegacy && s != UserInfoOrgID {
			return fmt.Errorf("koogallery: unknown userinfo style %d", int(s))
		}
		o.style = s
		return nil
	}
}

// WithLoginHTTPClient sets the HTTP client for token and userinfo calls
// (default: 30 s timeout).
func WithLoginHTTPClient(hc *http.Client) LoginOption {
	return func(o *loginOptions) error {
		if hc == nil {
			return errors.New("koogallery: HTTP client must not be nil")
		}
		o.hc = hc
		return nil
	}
}

// WithLoginEndpoints overrides some or all endpoints (absolute https URLs,
// or http on loopback or with WithInsecureHTTP). They are checked by
// NewLoginClient.
func WithLoginEndpoints(e LoginEndpoints) LoginOption {
	return func(o *loginOptions) error {
		o.endpoints = e
		return nil
	}
}

// LoginClient is the vendor's side of KooGallery's unified login for one
// tenant: the OAuth2 authorization-code flow (through golang.org/x/oauth2),
// userinfo and logout. Build one per tenant from its synced domain and
// credentials; construction makes no call, so building one per login is
// cheap. It is safe for concurrent use.
type LoginClient struct {
	oauth       oauth2.Config
	userInfoURL string
	logoutURL   string
	style       UserInfoStyle
	hc          *http.Client
}

// NewLoginClient validates cfg and returns a client.
func NewLoginClient(cfg LoginConfig, opts ...LoginOption) (*LoginClient, error) {
	o := loginOptions{hc: &http.Client{Timeout: 30 * time.Second}}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("koogallery: nil option")
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	for _, u := range []string{o.endpoints.AuthURL, o.endpoints.TokenURL, o.endpoints.UserInfoURL, o.endpoints.LogoutURL} {
		if u == "" {
			continue
		}
		if _, err := parseLoginURL(u, false, o.anyHTTP); err != nil {
			return nil, err
		}
	}
	var p apierror.Problems
	base, err := parseLoginURL(cfg.Domain, true, o.anyHTTP)
	if err != nil {
		p.Add("domain", "%v", strings.TrimPrefix(err.Error(), "koogallery: "))
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		p.Add("clientId", "is required")
	}
	if cfg.ClientSecret.IsZero() {
		p.Add("clientSecret", "is required")
	}
	if ru, err := url.Parse(cfg.RedirectURL); err != nil || (ru.Scheme != "https" && ru.Scheme != "http") || ru.Host == "" {
		p.Add("redirectUrl", "must be an absolute http(s) URL")
	}
	if err := p.Err("NewLoginClient"); err != nil {
		return nil, err
	}
	root := strings.TrimSuffix(base.String(), "/")
	pick := func(override, derived string) string {
		if override != "" {
			return override
		}
		return root + derived
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{DefaultLoginScope}
	}
	userInfo := LoginUserInfoPath
	if o.style == UserInfoOrgID {
		userInfo = LoginOrgIDUserInfoPath
	}
	return &LoginClient{
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret.Reveal(), RedirectURL: cfg.RedirectURL,
			Scopes: scopes, Endpoint: oauth2.Endpoint{AuthURL: pick(o.endpoints.AuthURL, LoginAuthorizePath),
				TokenURL: pick(o.endpoints.TokenURL, LoginTokenPath), AuthStyle: oauth2.AuthStyleInParams}},
		userInfoURL: pick(o.endpoints.UserInfoURL, userInfo),
		logoutURL:   pick(o.endpoints.LogoutURL, LoginLogoutPath),
		style:       o.style, hc: o.hc,
	}, nil
}

// parseLoginURL accepts https URLs, http on loopback (or anywhere with
// anyHTTP), and (when bareHost) a host name without a scheme.
func parseLoginURL(s string, bareHost, anyHTTP bool) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if bareHost && !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("koogallery: %q is not a host name or an absolute URL without query", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !anyHTTP && !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("koogallery: %q: http is allowed only on loopback hosts", s)
		}
	default:
		return nil, fmt.Errorf("koogallery: %q must be https", s)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// OAuth2Config returns a copy of the underlying oauth2.Config, for code
// that drives golang.org/x/oauth2 itself.
func (c *LoginClient) OAuth2Config() *oauth2.Config {
	cfg := c.oauth
	cfg.Scopes = append([]string(nil), c.oauth.Scopes...)
	return &cfg
}

// AuthCodeURL returns the authorize URL for state; pass
// oauth2.S256ChallengeOption for PKCE. Begin does both for you.
func (c *LoginClient) AuthCodeURL(state string, opts ...oauth2.AuthCodeOption) string {
	return c.oauth.AuthCodeURL(state, opts...)
}

// LoginAttempt is what a vendor keeps (in the user's session cookie or
// server-side) between redirecting to the login page and the callback.
// Both fields are secrets of that session. encoding/json and fmt redact
// them ("[REDACTED]", as every secret.String): keep the values of
// State.Reveal() and Verifier.Reveal() (in an encrypted, HttpOnly cookie
// or a server-side session), never a JSON encoding of the struct.
// ParseCallback and Finish refuse a redacted attempt (ErrLoginState), so
// that "[REDACTED]" can never be a state a forged callback matches.
type LoginAttempt struct {
	State    secret.String `json:"state"`
	Verifier secret.String `json:"verifier"`
}

// Begin starts a login: it returns the authorize URL, with a fresh random
// state and a PKCE S256 challenge, and the attempt to keep until Finish.
func (c *LoginClient) Begin() (string, LoginAttempt) {
	a := LoginAttempt{State: secret.String(NewNonce()), Verifier: secret.String(oauth2.GenerateVerifier())}
	return c.oauth.AuthCodeURL(a.State.Reveal(), oauth2.S256ChallengeOption(a.Verifier.Reveal())), a
}

// Callback is what the login page's redirect carries.
type Callback struct {
	Code     secret.String
	State    string
	TenantID string // tenant_id (or tenant) when the identity provider adds it
}

// ErrLoginState means a callback's state is missing or is not the state of
// the attempt (a forged or stale redirect), or the attempt was redacted
// by an encoder.
var ErrLoginState = errors.New("koogallery: login callback state does not match")

// ParseCallback reads a login redirect's query. An "error" parameter comes
// back as *apierror.Error (ErrorCode is the OAuth2 error); a wrong or
// missing state as ErrLoginState, compared in constant time.
func ParseCallback(q url.Values, wantState secret.String) (*Callback, error) {
	if e := q.Get("error"); e != "" {
		return nil, &apierror.Error{Service: LoginService, Operation: "Callback", ErrorCode: e, Message: q.Get("error_description")}
	}
	st := q.Get("state")
	if wantState.IsZero() || wantState.Reveal() == secret.Redacted || subtle.ConstantTimeCompare([]byte(st), []byte(wantState.Reveal())) != 1 {
		return nil, ErrLoginState
	}
	code := q.Get("code")
	if code == "" {
		return nil, &apierror.Error{Service: LoginService, Operation: "Callback", ErrorCode: "invalid_request", Message: "no code in the callback"}
	}
	tenant := q.Get("tenant_id")
	if tenant == "" {
		tenant = q.Get("tenant")
	}
	return &Callback{Code: secret.String(code), State: st, TenantID: tenant}, nil
}

// Finish checks the callback against the attempt and exchanges its code
// (with the PKCE verifier) for tokens.
func (c *LoginClient) Finish(ctx context.Context, q url.Values, a LoginAttempt) (*oauth2.Token, *Callback, error) {
	cb, err := ParseCallback(q, a.State)
	if err != nil {
		return nil, nil, err
	}
	if a.Verifier.Reveal() == secret.Redacted {
		return nil, nil, fmt.Errorf("%w: the attempt's verifier was redacted (kept through encoding/json?): keep Verifier.Reveal()", ErrLoginState)
	}
	var opts []oauth2.AuthCodeOption
	if !a.Verifier.IsZero() {
		opts = append(opts, oauth2.VerifierOption(a.Verifier.Reveal()))
	}
	tok, err := c.Exchange(ctx, cb.Code.Reveal(), opts...)
	return tok, cb, err
}

func (c *LoginClient) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.hc)
}

// Exchange trades an authorization code for tokens (access token 2 h,
// refresh token 30 days, as documented). Errors are *apierror.Error whose
// Err is the *oauth2.RetrieveError (ErrorCode "invalid_grant" for a used
// or expired code).
func (c *LoginClient) Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	if ctx == nil {
		return nil, loginNilContext("Exchange")
	}
	if code == "" {
		var p apierror.Problems
		p.Add("code", "is required")
		return nil, p.Err("Exchange")
	}
	tok, err := c.oauth.Exchange(c.ctx(ctx), code, opts...)
	if err != nil {
		return nil, loginTokenError("Exchange", err)
	}
	return tok, nil
}

// Refresh trades a refresh token for a new token.
func (c *LoginClient) Refresh(ctx context.Context, refreshToken secret.String) (*oauth2.Token, error) {
	if ctx == nil {
		return nil, loginNilContext("Refresh")
	}
	if refreshToken.IsZero() {
		var p apierror.Problems
		p.Add("refreshToken", "is required")
		return nil, p.Err("Refresh")
	}
	tok, err := c.oauth.TokenSource(c.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken.Reveal()}).Token()
	if err != nil {
		return nil, loginTokenError("Refresh", err)
	}
	return tok, nil
}

// TokenSource returns a source that refreshes tok when it expires.
func (c *LoginClient) TokenSource(ctx context.Context, tok *oauth2.Token) oauth2.TokenSource {
	return c.oauth.TokenSource(c.ctx(ctx), tok)
}

func loginNilContext(op string) error {
	var p apierror.Problems
	p.Add("ctx", "must not be nil")
	return p.Err(op)
}

func loginTokenError(op string, err error) error {
	e := &apierror.Error{Service: LoginService, Operation: op, Err: err}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e.ErrorCode, e.Message = re.ErrorCode, re.ErrorDescription
		if re.Response != nil {
			e.HTTPStatus = re.Response.StatusCode
			e.RequestID = re.Response.Header.Get("X-Request-Id")
		}
		if e.Message == "" {
			e.Message = "token request failed"
		}
	} else if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		e.Err = fmt.Errorf("%w: %w", apierror.ErrTransport, err)
	}
	return e
}

// UserInfo is a member as the identity provider describes them; both
// shapes (legacy camelCase, OrgID snake_case) fill the same fields.
type UserInfo struct {
	ID               string `json:"id,omitempty"`
	UserID           string `json:"userId,omitempty"`
	UserName         string `json:"userName,omitempty"`
	Name             string `json:"name,omitempty"`
	Email            string `json:"email,omitempty"`
	Mobile           string `json:"mobile,omitempty"`
	Role             string `json:"role,omitempty"` // "admin" or "user"
	OrganizationName string `json:"organizationName,omitempty"`
	OrganizationCode string `json:"organizationCode,omitempty"`
	EmployeeCode     string `json:"employeeCode,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
	TenantName       string `json:"tenantName,omitempty"`
	// Raw is the answer as received.
	Raw json.RawMessage `json:"-"`
}

// UserInfo asks who the token's member is.
func (c *LoginClient) UserInfo(ctx context.Context, tok *oauth2.Token) (*UserInfo, error) {
	const op = "UserInfo"
	if ctx == nil {
		return nil, loginNilContext(op)
	}
	if tok == nil || tok.AccessToken == "" {
		var p apierror.Problems
		p.Add("token", "access token is required")
		return nil, p.Err(op)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.userInfoURL, nil)
	if err != nil {
		return nil, &apierror.Error{Service: LoginService, Operation: op, Err: err}
	}
	header := "Authorization"
	if c.style == UserInfoOrgID {
		header = "X-OrgID-Authorization"
	}
	req.Header.Set(header, "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &apierror.Error{Service: LoginService, Operation: op, Err: ctx.Err()}
		}
		return nil, &apierror.Error{Service: LoginService, Operation: op, Err: fmt.Errorf("%w: %w", apierror.ErrTransport, err)}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, &apierror.Error{Service: LoginService, Operation: op, HTTPStatus: resp.StatusCode,
			Err: fmt.Errorf("%w: %w", apierror.ErrTransport, err)}
	}
	var m map[string]any
	decErr := json.Unmarshal(raw, &m)
	if resp.StatusCode != http.StatusOK || decErr != nil {
		e := &apierror.Error{Service: LoginService, Operation: op, HTTPStatus: resp.StatusCode,
			RequestID: resp.Header.Get("X-Request-Id"), Err: decErr}
		e.ErrorCode = firstString(m, "error", "error_code")
		e.Message = firstString(m, "error_description", "error_msg")
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
			if decErr != nil {
				e.Message = "malformed response body"
			}
		}
		return nil, e
	}
	u := &UserInfo{
		ID: firstString(m, "id"), UserID: firstString(m, "userId", "user_id"),
		UserName: firstString(m, "userName", "user_name"), Name: firstString(m, "name"),
		Email: firstString(m, "email"), Mobile: firstString(m, "mobile"), Role: firstString(m, "role"),
		OrganizationName: firstString(m, "organizationName"), OrganizationCode: firstString(m, "organizationCode"),
		EmployeeCode: firstString(m, "employeeCode", "employee_code"), TenantID: firstString(m, "tenant"),
		TenantName: firstString(m, "tenant_name", "projectName"), Raw: raw,
	}
	if u.UserName == "" && u.UserID == "" && u.ID == "" {
		return nil, &apierror.Error{Service: LoginService, Operation: op, HTTPStatus: resp.StatusCode,
			Message: "malformed response body: no user identity"}
	}
	return u, nil
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			if v != "" {
				return v
			}
		case float64:
			return strings.TrimSuffix(fmt.Sprintf("%f", v), ".000000")
		}
	}
	return ""
}

// LogoutURL returns the identity provider's logout URL
// ({domain}/api/v1/logout?redirect_url=...), which ends the member's
// unified-login session and redirects to redirectURL. The vendor clears
// its own session itself.
func (c *LoginClient) LogoutURL(redirectURL string) (string, error) {
	ru, err := url.Parse(redirectURL)
	if err != nil || (ru.Scheme != "https" && ru.Scheme != "http") || ru.Host == "" {
		return "", errors.New("koogallery: logout redirect must be an absolute http(s) URL")
	}
	u, err := url.Parse(c.logoutURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("redirect_url", redirectURL)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
