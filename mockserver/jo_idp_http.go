package mockserver

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/koogallery"
)

// Operation names of the identity provider, for faults: the service of
// koogallery.LoginClient's errors, and the endpoint (Exchange and Refresh
// share Token).
const idpService = koogallery.LoginService + "."

// registerIdP mounts the unified login of every enterprise.
func (s *Server) registerIdP(mux registrar) {
	base := idpPrefix + "{domain}"
	op := func(name, method, path string, h http.HandlerFunc) {
		s.handleOp(mux, idpService+name, method, base+path, h)
	}
	op("Discovery", http.MethodGet, idpDiscoveryPath, s.idpDiscovery)
	op("Authorize", http.MethodGet, koogallery.LoginAuthorizePath, s.idpAuthorize)
	op("Login", http.MethodPost, idpLoginPath, s.idpLogin)
	op("ChangePassword", http.MethodPost, idpPasswordPath, s.idpChangePassword)
	op("Token", http.MethodPost, koogallery.LoginTokenPath, s.idpToken)
	op("UserInfo", http.MethodGet, koogallery.LoginUserInfoPath, s.idpUserInfo(koogallery.UserInfoLegacy))
	op("OrgIDUserInfo", http.MethodGet, koogallery.LoginOrgIDUserInfoPath, s.idpUserInfo(koogallery.UserInfoOrgID))
	op("Logout", http.MethodGet, koogallery.LoginLogoutPath, s.idpLogout)
	op("Portal", http.MethodGet, idpPortalPath, s.idpPortal)
}

// idpDiscovery serves the RFC 8414 metadata of an enterprise's identity
// provider.
func (s *Server) idpDiscovery(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	e := s.idpEnterpriseLocked(r.PathValue("domain"))
	s.mu.Unlock()
	if e == nil {
		oauthError(w, http.StatusNotFound, "invalid_request", "no enterprise has this unified-login domain")
		return
	}
	base := s.idpBase(r.PathValue("domain"))
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                base,
		"authorization_endpoint":                base + koogallery.LoginAuthorizePath,
		"token_endpoint":                        base + koogallery.LoginTokenPath,
		"userinfo_endpoint":                     base + koogallery.LoginUserInfoPath,
		"orgid_userinfo_endpoint":               base + koogallery.LoginOrgIDUserInfoPath,
		"end_session_endpoint":                  base + koogallery.LoginLogoutPath,
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"scopes_supported":                      []string{koogallery.DefaultLoginScope},
	})
}

// oauthError answers a token or userinfo request with RFC 6749's error
// body.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// redirectBack sends the browser back to the application's redirect URI
// with params (code, tenant_id and state, or error, error_description and
// state), 303 after a form, 302 otherwise.
func redirectBack(w http.ResponseWriter, r *http.Request, redirect string, params url.Values) {
	u, err := url.Parse(redirect)
	if err != nil { // registered URIs parse; this is defensive
		idpErrorPage(w, http.StatusBadRequest, "invalid_request", "the redirect URI does not parse")
		return
	}
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), status)
}

func redirectError(w http.ResponseWriter, r *http.Request, redirect, state, code, desc string) {
	redirectBack(w, r, redirect, url.Values{"error": {code}, "error_description": {desc}, "state": {state}})
}

// idpAuthorize serves the authorize endpoint: it checks the request and
// shows the login page, or answers at once for a member whose login
// session is still open.
func (s *Server) idpAuthorize(w http.ResponseWriter, r *http.Request) {
	domain := r.PathValue("domain")
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		idpErrorPage(w, http.StatusBadRequest, "invalid_request", "the query does not parse")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.idpEnterpriseLocked(domain)
	if e == nil {
		idpErrorPage(w, http.StatusNotFound, "invalid_request", "no enterprise has this unified-login domain")
		return
	}
	if len(q["client_id"]) != 1 || !sameString(q.Get("client_id"), e.app.ClientID) {
		idpErrorPage(w, http.StatusBadRequest, "invalid_client", "client_id is missing or not this enterprise's application")
		return
	}
	redirect, explicit := q.Get("redirect_uri"), len(q["redirect_uri"]) > 0
	if !explicit && len(e.app.RedirectURIs) == 1 {
		redirect = e.app.RedirectURIs[0]
	}
	if len(q["redirect_uri"]) > 1 || !slices.Contains(e.app.RedirectURIs, redirect) {
		idpErrorPage(w, http.StatusBadRequest, "invalid_request", "redirect_uri is missing or not registered for the application")
		return
	}
	state := q.Get("state")
	fail := func(code, desc string) { redirectError(w, r, redirect, state, code, desc) }
	for k, v := range q {
		if len(v) > 1 {
			fail("invalid_request", k+" is given more than once")
			return
		}
	}
	scope := cmpOr(q.Get("scope"), koogallery.DefaultLoginScope)
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case len(state) > 1024:
		fail("invalid_request", "state is longer than 1024 characters")
	case q.Get("response_type") == "":
		fail("invalid_request", "response_type is required")
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only response_type=code is supported")
	case scope != koogallery.DefaultLoginScope:
		fail("invalid_scope", "the only scope is "+koogallery.DefaultLoginScope)
	case challenge == "" && method != "":
		fail("invalid_request", "code_challenge_method without code_challenge")
	case challenge == "" && s.cfg.idp.RequirePKCE:
		fail("invalid_request", "code_challenge is required (PKCE, S256)")
	case challenge != "" && method != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
	case challenge != "" && !pkceValue(challenge):
		fail("invalid_request", "code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
	case e.pub.Status != EnterpriseActive:
		fail("temporarily_unavailable", "the enterprise is still activating; try again after "+e.pub.ActiveAt.Format(time.RFC3339))
	default:
		txn := &loginTxn{idpRecord: idpRecord{tenant: e.pub.TenantID}, client: e.app.ClientID, redirect: redirect,
			explicit: explicit, state: state, scope: scope, challenge: challenge}
		if m := s.openSessionLocked(r, e); m != nil && q.Get("prompt") != "login" {
			s.completeLocked(w, r, e, m, txn)
			return
		}
		s.showLoginLocked(w, r, e, txn, http.StatusOK, "", "", "")
	}
}

// openSessionLocked is the member of the request's open login session
// with e, if they may still log in.
func (s *Server) openSessionLocked(r *http.Request, e *enterprise) *member {
	sess := s.st.joint.idp.sessions.m[cookieValue(r, idpSessionCookie)]
	if sess == nil || sess.tenant != e.pub.TenantID || !s.Now().Before(sess.expires) {
		return nil
	}
	m := e.memberByIDLocked(sess.member)
	if m == nil || e.mayLogIn(m) != "" || m.pub.MustChangePassword {
		return nil
	}
	return m
}

// showLoginLocked records a login page (or reuses txn's) and writes it.
func (s *Server) showLoginLocked(w http.ResponseWriter, r *http.Request, e *enterprise, txn *loginTxn, status int, code, msg, account string) {
	now := s.Now()
	if txn.csrf == "" {
		binding := cookieValue(r, idpBindingCookie)
		if len(binding) != 32 {
			binding = hexID()
		}
		s.setCookie(w, r, idpBindingCookie, binding, idpPrefix+e.pub.Domain+"/", 0)
		txn.csrf, txn.binding, txn.expires = newCredential(), binding, now.Add(s.cfg.idp.LoginTTL)
		txn.id = hexID()
		s.st.joint.idp.logins.put(now, txn.expires, txn.id, txn, func(t *loginTxn) time.Time { return t.expires })
	}
	p := idpPage{Page: "login", Title: "Unified login", Error: code, Message: msg, App: "TrueWatch",
		Domain: e.pub.Domain, LoginID: txn.id, CSRF: txn.csrf, Account: account,
		Action: idpPrefix + e.pub.Domain + idpLoginPath}
	if txn.changing {
		p.Page, p.Title, p.Action = "password", "Change your initial password", idpPrefix+e.pub.Domain+idpPasswordPath
		if m := e.memberByIDLocked(txn.member); m != nil {
			p.Account = m.pub.UserName
		}
	}
	writePage(w, status, p, originOf(txn.redirect))
}

// formTxnLocked reads a login form: its body (application/x-www-form-
// urlencoded, each field once), its login page and CSRF token. On failure
// it has answered.
func (s *Server) formTxnLocked(w http.ResponseWriter, r *http.Request, fields ...string) (*enterprise, *loginTxn, url.Values, bool) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		idpErrorPage(w, http.StatusUnsupportedMediaType, "invalid_request", "the form must be sent as application/x-www-form-urlencoded")
		return nil, nil, nil, false
	}
	if err := r.ParseForm(); err != nil {
		idpErrorPage(w, http.StatusBadRequest, "invalid_request", "the form does not parse")
		return nil, nil, nil, false
	}
	f := r.PostForm
	for k, v := range f {
		if !slices.Contains(fields, k) && k != "login_id" && k != "csrf_token" {
			idpErrorPage(w, http.StatusBadRequest, "invalid_request", "unknown form field "+truncateText(k, 64))
			return nil, nil, nil, false
		}
		if len(v) > 1 {
			idpErrorPage(w, http.StatusBadRequest, "invalid_request", k+" is given more than once")
			return nil, nil, nil, false
		}
	}
	st := &s.st.joint.idp
	txn := st.logins.m[f.Get("login_id")]
	e := s.idpEnterpriseLocked(r.PathValue("domain"))
	switch {
	case txn == nil || !s.Now().Before(txn.expires) || e == nil || e.pub.TenantID != txn.tenant:
		idpErrorPage(w, http.StatusBadRequest, "invalid_request", "this login page has expired: go back to the application and sign in again")
		return nil, nil, nil, false
	case !sameString(cookieValue(r, idpBindingCookie), txn.binding) || !sameString(f.Get("csrf_token"), txn.csrf):
		idpErrorPage(w, http.StatusForbidden, "access_denied", "the form failed its CSRF check: reload the login page")
		return nil, nil, nil, false
	}
	return e, txn, f, true
}

func truncateText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// endTxnLocked forgets a login page.
func (s *Server) endTxnLocked(txn *loginTxn) { delete(s.st.joint.idp.logins.m, txn.id) }

// unknownMemberSalt salts the hash computed for an unknown account.
const unknownMemberSalt = "mockserver: no such member"

// idpLogin serves the login form: enterprise abbreviation, account and
// password.
func (s *Server) idpLogin(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, txn, f, ok := s.formTxnLocked(w, r, "tenant", "account", "password")
	if !ok {
		return
	}
	if txn.changing {
		s.showLoginLocked(w, r, e, txn, http.StatusConflict, "invalid_request", "change your initial password first", "")
		return
	}
	fail := func(code, desc string) {
		s.endTxnLocked(txn)
		redirectError(w, r, txn.redirect, txn.state, code, desc)
	}
	if e.pub.Status != EnterpriseActive {
		fail("temporarily_unavailable", "the enterprise is still activating")
		return
	}
	account, now := f.Get("account"), s.Now()
	const wrong = "the enterprise, account or password is wrong"
	var m *member
	if strings.EqualFold(f.Get("tenant"), e.pub.Abbreviation) {
		m = e.members[fold(account)]
	}
	switch {
	case m == nil:
		// Hash the password anyway, so that the time of the answer does
		// not tell an unknown account from a wrong password.
		(&member{salt: []byte(unknownMemberSalt)}).passwordIs(f.Get("password"))
		s.showLoginLocked(w, r, e, txn, http.StatusUnauthorized, "invalid_credentials", wrong, truncateText(account, 64))
		return
	case m.pub.LockedUntil.After(now):
		fail("access_denied", "the account is locked after too many wrong passwords until "+m.pub.LockedUntil.Format(time.RFC3339))
		return
	case !m.passwordIs(f.Get("password")):
		m.failed++
		if m.failed >= s.cfg.idp.MaxFailedLogins {
			m.failed, m.pub.LockedUntil = 0, now.Add(s.cfg.idp.Lockout).UTC()
			fail("access_denied", "the account is locked after too many wrong passwords until "+m.pub.LockedUntil.Format(time.RFC3339))
			return
		}
		s.showLoginLocked(w, r, e, txn, http.StatusUnauthorized, "invalid_credentials", wrong, truncateText(account, 64))
		return
	}
	m.failed = 0
	if why := e.mayLogIn(m); why != "" {
		fail("access_denied", why)
		return
	}
	if m.pub.MustChangePassword {
		txn.changing, txn.member = true, m.pub.ID
		s.showLoginLocked(w, r, e, txn, http.StatusOK, "", "", "")
		return
	}
	s.completeLocked(w, r, e, m, txn)
}

// idpChangePassword serves the forced change of the initial password.
func (s *Server) idpChangePassword(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, txn, f, ok := s.formTxnLocked(w, r, "new_password", "confirm_password")
	if !ok {
		return
	}
	m := e.memberByIDLocked(txn.member)
	if !txn.changing || m == nil {
		idpErrorPage(w, http.StatusBadRequest, "invalid_request", "log in first")
		return
	}
	if why := e.mayLogIn(m); why != "" {
		s.endTxnLocked(txn)
		redirectError(w, r, txn.redirect, txn.state, "access_denied", why)
		return
	}
	pw := f.Get("new_password")
	var msg string
	if err := checkPasswordFor(pw, m.pub.UserName); err != nil {
		msg = "the new password must be 8 to 64 characters, use at least 3 of lower case, upper case, digits and symbols, and not contain the account"
	} else if pw != f.Get("confirm_password") {
		msg = "the two passwords differ"
	} else if m.passwordIs(pw) {
		msg = "the new password must differ from the initial one"
	}
	if msg != "" {
		s.showLoginLocked(w, r, e, txn, http.StatusBadRequest, "invalid_password", msg, "")
		return
	}
	m.setPassword(pw)
	m.pub.MustChangePassword, m.pub.InitialPassword = false, ""
	s.completeLocked(w, r, e, m, txn)
}

// completeLocked ends a login: it opens the login session, issues a code
// and sends the browser back with code, tenant_id and state.
func (s *Server) completeLocked(w http.ResponseWriter, r *http.Request, e *enterprise, m *member, txn *loginTxn) {
	now := s.Now()
	st := &s.st.joint.idp
	rec := idpRecord{tenant: e.pub.TenantID, member: m.pub.ID}
	sessID := newCredential()
	sess := &idpSession{idpRecord: rec}
	sess.expires = now.Add(s.cfg.idp.SessionTTL)
	st.sessions.put(now, sess.expires, sessID, sess, func(x *idpSession) time.Time { return x.expires })
	s.setCookie(w, r, idpSessionCookie, sessID, idpPrefix+e.pub.Domain+"/", 0)
	code := newCredential()
	c := &authCode{idpRecord: rec, client: txn.client, redirect: txn.redirect, explicit: txn.explicit,
		scope: txn.scope, challenge: txn.challenge}
	c.expires = now.Add(s.cfg.idp.CodeTTL)
	st.codes.put(now, c.expires, code, c, func(x *authCode) time.Time { return x.expires })
	if txn.id != "" {
		s.endTxnLocked(txn)
	}
	redirectBack(w, r, txn.redirect, url.Values{"code": {code}, "tenant_id": {e.pub.TenantID}, "state": {txn.state}})
}

// tokenResponse is the token endpoint's answer (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token"`
}

// idpToken serves the token endpoint: grant_type authorization_code (with
// the PKCE verifier when the code has a challenge) or refresh_token, the
// client authenticated by client_secret_post or client_secret_basic.
func (s *Server) idpToken(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the request must be sent as application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the form does not parse")
		return
	}
	f := r.PostForm
	for k, v := range f {
		if len(v) > 1 {
			oauthError(w, http.StatusBadRequest, "invalid_request", truncateText(k, 64)+" is given more than once")
			return
		}
	}
	clientID, clientSecret := f.Get("client_id"), f.Get("client_secret")
	basicID, basicSecret, basic := r.BasicAuth()
	if basic {
		if f.Has("client_secret") {
			oauthError(w, http.StatusBadRequest, "invalid_request", "the client authenticated twice (Basic and client_secret)")
			return
		}
		id, err1 := url.QueryUnescape(basicID)
		sec, err2 := url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil || (clientID != "" && clientID != id) {
			oauthError(w, http.StatusBadRequest, "invalid_request", "the Basic credentials do not parse or name another client")
			return
		}
		clientID, clientSecret = id, sec
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.idpEnterpriseLocked(r.PathValue("domain"))
	if e == nil || clientID == "" || !sameString(clientID, e.app.ClientID) || !sameString(clientSecret, e.app.ClientSecret) {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="unified login"`)
		}
		oauthError(w, http.StatusUnauthorized, "invalid_client", "the client is unknown or its secret is wrong")
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		s.exchangeCodeLocked(w, e, f)
	case "refresh_token":
		s.refreshLocked(w, e, f)
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
	}
}

func (s *Server) exchangeCodeLocked(w http.ResponseWriter, e *enterprise, f url.Values) {
	st := &s.st.joint.idp
	now := s.Now()
	code := f.Get("code")
	c := st.codes.m[code]
	if code == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "code is required")
		return
	}
	var why string
	switch {
	case c == nil || c.tenant != e.pub.TenantID:
		why = "Invalid authorization code"
	case c.used:
		// A replayed code: revoke what it gave (RFC 6749 §4.1.2), the
		// access tokens its refresh token issued since included.
		for _, t := range c.tokens {
			if a := st.access.m[t]; a != nil {
				delete(st.refresh.m, a.refresh)
			}
			delete(st.access.m, t)
		}
		if c.refresh != "" {
			delete(st.refresh.m, c.refresh)
			dropWhere(&st.access, func(a *idpToken) bool { return a.refresh == c.refresh })
		}
		why = "the authorization code was used already"
	case !now.Before(c.expires):
		why = "the authorization code expired"
	case c.client != e.app.ClientID:
		why = "the authorization code was issued to another client"
	case c.explicit && f.Get("redirect_uri") != c.redirect, !c.explicit && f.Has("redirect_uri") && f.Get("redirect_uri") != c.redirect:
		why = "redirect_uri differs from the authorization request's"
	case c.challenge != "" && f.Get("code_verifier") == "":
		why = "code_verifier is required: the authorization request had a code_challenge"
	case c.challenge != "" && (!pkceValue(f.Get("code_verifier")) || !sameString(s256(f.Get("code_verifier")), c.challenge)):
		why = "code_verifier does not match the code_challenge"
	case c.challenge == "" && f.Has("code_verifier"):
		why = "code_verifier given, but the authorization request had no code_challenge"
	}
	if why == "" {
		if m := e.memberByIDLocked(c.member); m == nil || e.mayLogIn(m) != "" {
			why = "the member may no longer use the application"
		}
	}
	if why != "" {
		oauthError(w, http.StatusBadRequest, "invalid_grant", why)
		return
	}
	c.used = true
	// Keep the used code until its expiry, to recognise a replay.
	refresh := newCredential()
	rt := &idpToken{idpRecord: c.idpRecord, client: c.client, scope: c.scope}
	rt.expires = now.Add(s.cfg.idp.RefreshTokenTTL)
	st.refresh.put(now, rt.expires, refresh, rt, func(x *idpToken) time.Time { return x.expires })
	access := s.issueAccessLocked(now, rt, refresh)
	c.tokens, c.refresh = append(c.tokens, access), refresh
	s.writeTokens(w, access, refresh, c.scope)
}

func (s *Server) issueAccessLocked(now time.Time, rt *idpToken, refresh string) string {
	access := newCredential()
	at := &idpToken{idpRecord: rt.idpRecord, client: rt.client, scope: rt.scope, refresh: refresh}
	at.expires = now.Add(s.cfg.idp.AccessTokenTTL)
	s.st.joint.idp.access.put(now, at.expires, access, at, func(x *idpToken) time.Time { return x.expires })
	return access
}

func (s *Server) writeTokens(w http.ResponseWriter, access, refresh, scope string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: access, TokenType: "Bearer",
		ExpiresIn: int64(s.cfg.idp.AccessTokenTTL / time.Second), Scope: scope, RefreshToken: refresh})
}

func (s *Server) refreshLocked(w http.ResponseWriter, e *enterprise, f url.Values) {
	st := &s.st.joint.idp
	now := s.Now()
	refresh := f.Get("refresh_token")
	if refresh == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "refresh_token is required")
		return
	}
	rt := st.refresh.m[refresh]
	var why string
	switch {
	case rt == nil || rt.tenant != e.pub.TenantID || rt.client != e.app.ClientID:
		why = "Invalid refresh token"
	case !now.Before(rt.expires):
		why = "the refresh token expired"
	case f.Has("scope") && f.Get("scope") != rt.scope:
		oauthError(w, http.StatusBadRequest, "invalid_scope", "the scope must be the one granted, "+rt.scope)
		return
	}
	if why == "" {
		if m := e.memberByIDLocked(rt.member); m == nil || e.mayLogIn(m) != "" {
			why = "the member may no longer use the application"
		}
	}
	if why != "" {
		oauthError(w, http.StatusBadRequest, "invalid_grant", why)
		return
	}
	s.writeTokens(w, s.issueAccessLocked(now, rt, refresh), refresh, rt.scope)
}

// idpUserInfo serves userinfo in the legacy shape (Authorization: Bearer,
// camelCase, errors {error, error_description}) or OrgID's
// (X-OrgID-Authorization: Bearer, snake_case, errors with error_code and
// error_msg too).
func (s *Server) idpUserInfo(style koogallery.UserInfoStyle) http.HandlerFunc {
	header := "Authorization"
	if style == koogallery.UserInfoOrgID {
		header = "X-OrgID-Authorization"
	}
	fail := func(w http.ResponseWriter, code, desc string) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error=%q`, code))
		body := map[string]string{"error": code, "error_description": desc}
		if style == koogallery.UserInfoOrgID {
			body["error_code"], body["error_msg"] = "OrgID.0401", desc
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusUnauthorized, body)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		vals := r.Header.Values(header)
		scheme, tok, _ := strings.Cut(strings.Join(vals, ","), " ")
		if len(vals) == 0 {
			fail(w, "unauthorized", "Full authentication is required to access this resource")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		e := s.idpEnterpriseLocked(r.PathValue("domain"))
		at := s.st.joint.idp.access.m[tok]
		var m *member
		if e != nil && at != nil && at.tenant == e.pub.TenantID {
			m = e.memberByIDLocked(at.member)
		}
		if len(vals) != 1 || !strings.EqualFold(scheme, "Bearer") || m == nil || !s.Now().Before(at.expires) || e.mayLogIn(m) != "" {
			fail(w, "invalid_token", "Invalid access token")
			return
		}
		dept := e.depts[m.pub.Department]
		deptName := ""
		if dept != nil {
			deptName = dept.Name
		}
		w.Header().Set("Cache-Control", "no-store")
		if style == koogallery.UserInfoOrgID {
			writeJSON(w, http.StatusOK, map[string]string{"tenant_name": e.pub.Name, "tenant": e.pub.TenantID,
				"name": m.pub.Name, "mobile": m.pub.Mobile, "user_name": m.pub.UserName, "user_id": m.pub.ID,
				"employee_code": m.pub.EmployeeCode, "role": m.pub.Role})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": m.pub.ID, "userId": m.pub.ID, "userName": m.pub.UserName,
			"name": m.pub.Name, "email": m.pub.Email, "mobile": m.pub.Mobile, "role": m.pub.Role,
			"organizationName": deptName, "organizationCode": m.pub.Department, "projectName": e.pub.Name,
			"tenant": e.pub.TenantID})
	}
}

// idpLogout ends the login session and redirects to redirect_url when it
// is on the origin of one of the application's redirect URIs or sign-in
// page (never anywhere else: no open redirect); without one it shows a
// page.
func (s *Server) idpLogout(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || len(q["redirect_url"]) > 1 {
		idpErrorPage(w, http.StatusBadRequest, "invalid_request", "the query does not parse, or gives redirect_url more than once")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.idpEnterpriseLocked(r.PathValue("domain"))
	if e == nil {
		idpErrorPage(w, http.StatusNotFound, "invalid_request", "no enterprise has this unified-login domain")
		return
	}
	target := q.Get("redirect_url")
	if target != "" {
		allowed := slices.ContainsFunc(append(slices.Clone(e.app.RedirectURIs), e.app.SignInURL), func(u string) bool {
			return absoluteHTTP(target) && originOf(u) == originOf(target)
		})
		if !allowed {
			idpErrorPage(w, http.StatusBadRequest, "invalid_request", "redirect_url is not on an origin registered for the application")
			return
		}
	}
	if sess := s.st.joint.idp.sessions.m[cookieValue(r, idpSessionCookie)]; sess != nil && sess.tenant == e.pub.TenantID {
		delete(s.st.joint.idp.sessions.m, cookieValue(r, idpSessionCookie))
	}
	s.setCookie(w, r, idpSessionCookie, "", idpPrefix+e.pub.Domain+"/", -1)
	if target == "" {
		writePage(w, http.StatusOK, idpPage{Page: "logged-out", Title: "Signed out"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// idpPortal serves the unified-login link: it sends the member to the
// application's sign-in page with the enterprise's tenant_id, where the
// application starts the authorization-code flow.
func (s *Server) idpPortal(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	s.mu.Lock()
	e := s.idpEnterpriseLocked(r.PathValue("domain"))
	var app Application
	if e != nil {
		app = e.app
	}
	s.mu.Unlock()
	switch {
	case err != nil || len(q["appId"]) > 1:
		idpErrorPage(w, http.StatusBadRequest, "invalid_request", "the query does not parse, or gives appId more than once")
		return
	case e == nil:
		idpErrorPage(w, http.StatusNotFound, "invalid_request", "no enterprise has this unified-login domain")
		return
	case q.Has("appId") && q.Get("appId") != app.AppID:
		idpErrorPage(w, http.StatusNotFound, "invalid_request", "the enterprise has no such application")
		return
	}
	u, err := url.Parse(app.SignInURL)
	if err != nil {
		idpErrorPage(w, http.StatusBadRequest, "invalid_request", "the application's sign-in URL does not parse")
		return
	}
	uq := u.Query()
	uq.Set("tenant_id", app.TenantID)
	u.RawQuery = uq.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}
