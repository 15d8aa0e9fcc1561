package mockserver

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/koogallery"
)

// The marketplace's unified login: an OAuth2 authorization-code identity
// provider (RFC 6749, PKCE RFC 7636) per enterprise, served under
// {URL}/idp/{domain}, the enterprise's domain:
//
//	GET  /idp/{domain}/.well-known/oauth-authorization-server  metadata (RFC 8414)
//	GET  /idp/{domain}/api/v1/oauth2/authorize                 the login page
//	POST /idp/{domain}/login                                   the login form
//	POST /idp/{domain}/password                                the forced change of the initial password
//	POST /idp/{domain}/api/v1/oauth2/token                     codes and refresh tokens for tokens
//	GET  /idp/{domain}/api/v1/oauth2/userinfo                  the member (legacy shape, Authorization: Bearer)
//	GET  /idp/{domain}/orgid/openapi/v1/oauth2/userinfo        the member (OrgID shape, X-OrgID-Authorization)
//	GET  /idp/{domain}/api/v1/logout?redirect_url=             ends the login session
//	GET  /idp/{domain}/portal?appId=                           the unified-login link: to the application's sign-in page
//
// Only authorized, enabled members of an active enterprise log in, with
// the enterprise's abbreviation, their user name and password; the
// initial password must be changed first. Errors a member can correct
// (a wrong password) show the page again; errors that end the attempt go
// back to the application as RFC 6749 errors (access_denied,
// temporarily_unavailable, ...), unless the client or redirect URI is
// wrong, which is never redirected to.

// IdPPolicy is how the unified login treats codes, tokens and passwords;
// a zero field keeps its default (DefaultIdPPolicy).
type IdPPolicy struct {
	// AccessTokenTTL: 2 hours, as documented.
	AccessTokenTTL time.Duration `json:"accessTokenTtl"`
	// RefreshTokenTTL: 30 days, as documented. Refresh tokens are not
	// rotated: a refresh answers the same refresh token, whose life
	// counts from the login.
	RefreshTokenTTL time.Duration `json:"refreshTokenTtl"`
	// CodeTTL is how long an authorization code can be exchanged: 5
	// minutes (RFC 6749 recommends at most 10). Codes are single-use.
	CodeTTL time.Duration `json:"codeTtl"`
	// LoginTTL is how long a login page can be submitted: 10 minutes.
	LoginTTL time.Duration `json:"loginTtl"`
	// SessionTTL is how long the login session lasts, during which an
	// authorize request of the same member is answered without the page:
	// 8 hours.
	SessionTTL time.Duration `json:"sessionTtl"`
	// MaxFailedLogins wrong passwords in a row lock the member for
	// Lockout: 5 and 15 minutes (Huawei IAM's defaults).
	MaxFailedLogins int           `json:"maxFailedLogins"`
	Lockout         time.Duration `json:"lockout"`
	// RequirePKCE refuses authorize requests without a code_challenge. The
	// pages do not mention PKCE, so it is optional by default; S256 is the
	// only method taken.
	RequirePKCE bool `json:"requirePkce"`
}

// DefaultIdPPolicy is the policy of a server built without WithIdPPolicy.
func DefaultIdPPolicy() IdPPolicy {
	return IdPPolicy{AccessTokenTTL: 2 * time.Hour, RefreshTokenTTL: 30 * 24 * time.Hour, CodeTTL: 5 * time.Minute,
		LoginTTL: 10 * time.Minute, SessionTTL: 8 * time.Hour, MaxFailedLogins: 5, Lockout: 15 * time.Minute}
}

// WithIdPPolicy sets the unified login's lifetimes and lockout; zero fields
// keep their defaults, negative ones are refused.
func WithIdPPolicy(p IdPPolicy) Option {
	return func(cfg *config) error {
		d := DefaultIdPPolicy()
		for _, f := range []struct {
			v   time.Duration
			dst *time.Duration
		}{{p.AccessTokenTTL, &d.AccessTokenTTL}, {p.RefreshTokenTTL, &d.RefreshTokenTTL}, {p.CodeTTL, &d.CodeTTL},
			{p.LoginTTL, &d.LoginTTL}, {p.SessionTTL, &d.SessionTTL}, {p.Lockout, &d.Lockout}} {
			switch {
			case f.v < 0 || f.v > maxClockMove:
				return errors.New("mockserver: unified-login lifetimes must be positive")
			case f.v > 0:
				*f.dst = f.v
			}
		}
		switch {
		case p.MaxFailedLogins < 0 || p.MaxFailedLogins > 1000:
			return errors.New("mockserver: MaxFailedLogins must be 0 to 1000")
		case p.MaxFailedLogins > 0:
			d.MaxFailedLogins = p.MaxFailedLogins
		}
		d.RequirePKCE = p.RequirePKCE
		cfg.idp = d
		return nil
	}
}

// WithLoginRedirectURIs sets the redirect URIs registered for the
// application in every enterprise (absolute http or https URLs without a
// fragment), for a vendor of your own; by default TrueWatch's callback in
// the mock, BillingURL()+"/sso/huawei/callback". Redirect URIs must match
// exactly.
func WithLoginRedirectURIs(uris ...string) Option {
	return func(cfg *config) error {
		if len(uris) == 0 || len(uris) > 20 {
			return errors.New("mockserver: give 1 to 20 redirect URIs")
		}
		for _, u := range uris {
			if !absoluteHTTP(u) {
				return fmt.Errorf("mockserver: redirect URI %q must be an absolute http(s) URL without user information or fragment", u)
			}
		}
		cfg.redirectURIs = slices.Clone(uris)
		return nil
	}
}

// WithLoginSignInURL sets the application's sign-in page, where an
// enterprise's unified-login link (Enterprise.LoginURL) sends members,
// with tenant_id added; by default TrueWatch's in the mock,
// BillingURL()+"/sso/huawei/login".
func WithLoginSignInURL(u string) Option {
	return func(cfg *config) error {
		if !absoluteHTTP(u) {
			return fmt.Errorf("mockserver: sign-in URL %q must be an absolute http(s) URL without user information or fragment", u)
		}
		cfg.signInURL = u
		return nil
	}
}

// WithLoginUserInfoStyle chooses which userinfo endpoint TrueWatch's side
// of the mock asks (default koogallery.UserInfoLegacy); the identity
// provider serves both.
func WithLoginUserInfoStyle(st koogallery.UserInfoStyle) Option {
	return func(cfg *config) error {
		if st != koogallery.UserInfoLegacy && st != koogallery.UserInfoOrgID {
			return fmt.Errorf("mockserver: unknown userinfo style %d", int(st))
		}
		cfg.userInfo = st
		return nil
	}
}

func absoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil &&
		u.Fragment == "" && !strings.Contains(raw, "#") && len(raw) <= 2048
}

func (s *Server) redirectURIs() []string {
	if len(s.cfg.redirectURIs) > 0 {
		return slices.Clone(s.cfg.redirectURIs)
	}
	return []string{s.BillingURL() + twSSOCallbackPath}
}

func (s *Server) signInURL() string {
	if s.cfg.signInURL != "" {
		return s.cfg.signInURL
	}
	return s.BillingURL() + twSSOLoginPath
}

// Paths of the identity provider below {URL}/idp/{domain}.
const (
	idpPrefix        = "/idp/"
	idpDiscoveryPath = "/.well-known/oauth-authorization-server"
	idpLoginPath     = "/login"
	idpPasswordPath  = "/password"
	idpPortalPath    = "/portal"
)

// idpBase is the identity provider's base URL for a domain.
func (s *Server) idpBase(domain string) string { return s.url + idpPrefix + domain }

// maxIDPRecords bounds each kind of record the identity provider keeps
// (login pages, codes, tokens, sessions); past it the oldest go first.
const maxIDPRecords = 100_000

// idpRecord is what every record has: the enterprise and member it is
// for, and when it ends.
type idpRecord struct {
	tenant  string
	member  string // member ID
	expires time.Time
}

// loginTxn is a login page handed out: the authorize request it answers
// and the CSRF secrets its form must come back with.
type loginTxn struct {
	idpRecord
	id            string // the form's login_id
	csrf, binding string
	client        string
	redirect      string
	explicit      bool // redirect_uri was given (and must then be given to the token endpoint)
	state         string
	scope         string
	challenge     string
	// changing is set (with member) once the password was right and the
	// initial one must be changed.
	changing bool
}

// authCode is an authorization code.
type authCode struct {
	idpRecord
	client, redirect string
	explicit         bool
	scope, challenge string
	used             bool
	tokens           []string // the tokens it was exchanged for, revoked if it is replayed
	refresh          string   // the refresh token it gave, revoked with every access token it issued
}

// idpToken is an access or refresh token.
type idpToken struct {
	idpRecord
	client, scope string
	refresh       string // an access token's refresh token
}

// idpSession is a member's login session (the session cookie).
type idpSession struct{ idpRecord }

// records is a bounded map of records with the queue that expires them.
type records[T any] struct {
	m map[string]*T
	q expiryQueue[string]
}

func newRecords[T any]() records[T] { return records[T]{m: map[string]*T{}} }

// put stores v under key until exp, first dropping what expired at now and,
// when full, the oldest.
func (r *records[T]) put(now, exp time.Time, key string, v *T, expiresOf func(*T) time.Time) {
	drop := func(k string) {
		if x := r.m[k]; x != nil && !now.Before(expiresOf(x)) {
			delete(r.m, k)
		}
	}
	r.q.expire(now, drop)
	for len(r.m) >= maxIDPRecords && r.q.len() > 0 {
		delete(r.m, r.q.pop())
	}
	r.m[key] = v
	r.q.push(exp, key)
}

// idpState is what the identity provider keeps; it lives in the joint
// state, so Reset drops it.
type idpState struct {
	logins   records[loginTxn]
	codes    records[authCode]
	access   records[idpToken]
	refresh  records[idpToken]
	sessions records[idpSession]
}

func newIDPState() idpState {
	return idpState{logins: newRecords[loginTxn](), codes: newRecords[authCode](), access: newRecords[idpToken](),
		refresh: newRecords[idpToken](), sessions: newRecords[idpSession]()}
}

// revokeLocked drops every record of a tenant (and of one member, when
// memberID is not empty): logins, codes, tokens and sessions.
func (st *idpState) revokeLocked(tenant, memberID string) {
	match := func(r idpRecord) bool { return r.tenant == tenant && (memberID == "" || r.member == memberID) }
	dropWhere(&st.logins, func(x *loginTxn) bool { return match(x.idpRecord) })
	dropWhere(&st.codes, func(x *authCode) bool { return match(x.idpRecord) })
	dropWhere(&st.access, func(x *idpToken) bool { return match(x.idpRecord) })
	dropWhere(&st.refresh, func(x *idpToken) bool { return match(x.idpRecord) })
	dropWhere(&st.sessions, func(x *idpSession) bool { return match(x.idpRecord) })
}

// dropWhere deletes the records that match.
func dropWhere[T any](r *records[T], match func(*T) bool) {
	for k, v := range r.m {
		if match(v) {
			delete(r.m, k)
		}
	}
}

func (st *idpState) revokeTenantLocked(tenant string)           { st.revokeLocked(tenant, "") }
func (st *idpState) revokeMemberLocked(tenant, memberID string) { st.revokeLocked(tenant, memberID) }

// newCredential is a random credential from crypto/rand: 32 bytes,
// base64url without padding (43 characters).
func newCredential() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func constantTimeEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// sameString compares two secrets in constant time (over digests, so that
// the length does not leak either).
func sameString(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return constantTimeEqual(x[:], y[:])
}

// s256 is the PKCE S256 challenge of a verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// pkceValue checks a code_challenge or code_verifier: 43 to 128 of
// A-Z a-z 0-9 - . _ ~ (RFC 7636).
func pkceValue(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// idpEnterpriseLocked finds the enterprise of a domain in the path.
func (s *Server) idpEnterpriseLocked(domain string) *enterprise {
	if id := s.st.joint.byDomain[domain]; id != "" {
		return s.st.joint.enterprises[id]
	}
	return nil
}

// memberByIDLocked finds a member of e by ID.
func (e *enterprise) memberByIDLocked(id string) *member {
	for _, m := range e.members {
		if m.pub.ID == id {
			return m
		}
	}
	return nil
}

// mayLogIn says why a member may not use the application now, or "".
func (e *enterprise) mayLogIn(m *member) string {
	switch {
	case e.pub.Status != EnterpriseActive:
		return "the enterprise is still activating"
	case !m.pub.Enabled:
		return "the member is disabled"
	case !m.pub.Authorized:
		return "the member is not authorized for this application"
	}
	return ""
}

// hexID is a short random ID for cookies and forms: 32 hex characters
// from crypto/rand.
func hexID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// secureCookies says whether cookies are marked Secure: when the mock is
// reached over https.
func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.url, "https://")
}

// setCookie sets an HttpOnly, SameSite=Lax cookie on path (maxAge 0 keeps
// it for the browser session, negative deletes it).
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(r)})
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// Cookies of the identity provider, on the path of one domain.
const (
	idpBindingCookie = "kgidp_binding"
	idpSessionCookie = "kgidp_session"
)
