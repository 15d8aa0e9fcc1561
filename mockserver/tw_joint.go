package mockserver

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
)

// TrueWatch's side of the joint service: its kit vendor keeps what
// KooGallery syncs (enterprises, the application's credentials, who is
// authorized), and its unified-login client (koogallery.LoginClient)
// signs authorized members in:
//
//	GET {BillingURL}/sso/huawei/login?tenant_id=   start: state and PKCE, then the enterprise's login page
//	GET {BillingURL}/sso/huawei/callback           the redirect URI: code for tokens, userinfo, the checks
//
// A member TrueWatch was told is authorized (authSync) and whose
// subscription has a workspace lands on "Activation Successful", naming
// the workspace, then on the site's login page, which names it too; one
// it was told nothing of, or was withdrawn, gets an error page.

// Paths of TrueWatch's sign-in, relative to BillingURL.
const (
	twSSOLoginPath    = "/sso/huawei/login"
	twSSOCallbackPath = "/sso/huawei/callback"
)

// Cookies of TrueWatch's sign-in.
const (
	twSSOCookie     = "tw_sso"
	twSessionCookie = "tw_session"
)

// twSessionTTL is how long a TrueWatch session from the unified login
// lasts, on the mock's clock.
const twSessionTTL = 12 * time.Hour

// twJoint is what TrueWatch keeps of the joint service.
type twJoint struct {
	tenants  map[string]*twTenant // by tenant ID
	attempts records[twSSOAttempt]
	sessions records[twSession]
}

func newTWJoint() twJoint {
	return twJoint{tenants: map[string]*twTenant{}, attempts: newRecords[twSSOAttempt](), sessions: newRecords[twSession]()}
}

// twTenant is an enterprise as TrueWatch was told of it.
type twTenant struct {
	id, instanceID, code, name, domain string
	appID, clientID                    string
	clientSecret                       secret.String
	users                              map[string]koogallery.KitUser // authorized, by folded user name
	orgs                               map[string]koogallery.Org
}

// twSSOAttempt is a sign-in between TrueWatch's redirect to the login page
// and the callback.
type twSSOAttempt struct {
	tenant  string
	login   koogallery.LoginAttempt
	expires time.Time
}

// twSession is a member signed in to TrueWatch through the unified login.
type twSession struct {
	userName, name, tenantName string
	workspaceID, workspaceName string
	site                       site.Code
	expires                    time.Time
}

// TrueWatchTenant is what TrueWatch's side of the mock knows of an
// enterprise from the kit calls it received.
type TrueWatchTenant struct {
	TenantID   string `json:"tenantId"`
	InstanceID string `json:"instanceId"`
	Code       string `json:"tenantCode"`
	Name       string `json:"name"`
	DomainName string `json:"domainName"`
	AppID      string `json:"appId,omitempty"`
	ClientID   string `json:"clientId,omitempty"`
	// HasClientSecret says whether applicationSync's secret was
	// decrypted and kept (the secret itself is not shown).
	HasClientSecret bool `json:"hasClientSecret"`
	// Authorized are the user names authorized, sorted.
	Authorized  []string `json:"authorized"`
	Departments int      `json:"departments"`
}

// TrueWatchTenants lists what TrueWatch's vendor in the mock was told of
// enterprises (tenantSync, applicationSync, authSync, the org syncs),
// sorted by tenant ID: how a test sees that the vendor received them.
func (s *Server) TrueWatchTenants() []TrueWatchTenant {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []TrueWatchTenant{}
	for _, t := range s.st.tw.joint.tenants {
		tt := TrueWatchTenant{TenantID: t.id, InstanceID: t.instanceID, Code: t.code, Name: t.name, DomainName: t.domain,
			AppID: t.appID, ClientID: t.clientID, HasClientSecret: !t.clientSecret.IsZero(), Authorized: []string{},
			Departments: len(t.orgs)}
		for _, u := range t.users {
			tt.Authorized = append(tt.Authorized, u.UserName)
		}
		slices.Sort(tt.Authorized)
		out = append(out, tt)
	}
	slices.SortFunc(out, func(a, b TrueWatchTenant) int {
		if a.TenantID < b.TenantID {
			return -1
		}
		return 1
	})
	return out
}

// twKitVendor is TrueWatch's side of the joint-operation kit.
type twKitVendor struct {
	s *Server
}

// withTenant runs fn, under the state's lock, on the tenant TrueWatch
// knows for an event of instance.
func (v twKitVendor) withTenant(tenantID, instanceID string, fn func(t *twTenant) error) error {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	t, err := v.tenantLocked(tenantID, instanceID)
	if err != nil {
		return err
	}
	return fn(t)
}

// tenantLocked finds a tenant TrueWatch knows for an event of instance.
func (v twKitVendor) tenantLocked(tenantID, instanceID string) (*twTenant, error) {
	t := v.s.st.tw.joint.tenants[tenantID]
	switch {
	case t == nil:
		return nil, koogallery.NewError(koogallery.ResultInvalidParameter, "tenant "+tenantID+" is unknown: tenantSync first")
	case t.instanceID != instanceID:
		return nil, koogallery.NewError(koogallery.ResultInvalidParameter, "tenant "+tenantID+" belongs to another instance")
	}
	return t, nil
}

// TenantSync implements koogallery.KitVendor: an enterprise of an
// instance TrueWatch knows is recorded, changed or forgotten.
func (v twKitVendor) TenantSync(_ context.Context, e *koogallery.TenantSync) error {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	j := &v.s.st.tw.joint
	if e.Flag == koogallery.FlagDelete {
		delete(j.tenants, e.TenantID)
		return nil
	}
	if v.s.st.tw.subs[e.InstanceID] == nil {
		return koogallery.ErrInstanceNotFound
	}
	if e.DomainName == "" {
		return koogallery.NewError(koogallery.ResultInvalidParameter, "domainName is required")
	}
	t := j.tenants[e.TenantID]
	if t == nil {
		t = &twTenant{id: e.TenantID, users: map[string]koogallery.KitUser{}, orgs: map[string]koogallery.Org{}}
		j.tenants[e.TenantID] = t
	} else if t.instanceID != e.InstanceID {
		return koogallery.NewError(koogallery.ResultInvalidParameter, "tenant "+e.TenantID+" belongs to another instance")
	}
	t.instanceID, t.code, t.name, t.domain = e.InstanceID, e.TenantCode, e.Name, e.DomainName
	return nil
}

// ApplicationSync implements koogallery.KitVendor: the application's
// credentials, the secret decrypted by the KitHandler.
func (v twKitVendor) ApplicationSync(_ context.Context, e *koogallery.ApplicationSync) error {
	return v.withTenant(e.TenantID, e.InstanceID, func(t *twTenant) error {
		if e.Flag == koogallery.FlagDelete {
			t.appID, t.clientID, t.clientSecret = "", "", ""
			return nil
		}
		t.appID, t.clientID, t.clientSecret = e.AppID, e.ClientID, e.ClientSecret
		return nil
	})
}

// AuthSync implements koogallery.KitVendor: who may use TrueWatch.
func (v twKitVendor) AuthSync(_ context.Context, e *koogallery.AuthSync) error {
	return v.withTenant(e.TenantID, e.InstanceID, func(t *twTenant) error {
		for _, u := range e.Users {
			switch e.Flag {
			case koogallery.FlagAdd, koogallery.FlagModify:
				t.users[fold(u.UserName)] = u
			default:
				delete(t.users, fold(u.UserName))
			}
		}
		return nil
	})
}

// SingleOrgSync implements koogallery.KitVendor.
func (v twKitVendor) SingleOrgSync(_ context.Context, e *koogallery.SingleOrgSync) error {
	return v.withTenant(e.TenantID, e.InstanceID, func(t *twTenant) error {
		if e.Flag == koogallery.FlagDelete {
			delete(t.orgs, e.OrgCode)
			return nil
		}
		t.orgs[e.OrgCode] = koogallery.Org{OrgCode: e.OrgCode, Name: e.Name, ParentCode: e.ParentCode}
		return nil
	})
}

// AllOrgSync implements koogallery.KitVendor.
func (v twKitVendor) AllOrgSync(_ context.Context, e *koogallery.AllOrgSync) error {
	return v.withTenant(e.TenantID, e.InstanceID, func(t *twTenant) error {
		t.orgs = map[string]koogallery.Org{}
		for _, o := range e.Orgs {
			t.orgs[o.OrgCode] = o
		}
		return nil
	})
}

// loginClient is TrueWatch's unified-login client for a tenant.
func (s *Server) loginClient(t twTenant) (*koogallery.LoginClient, error) {
	return koogallery.NewLoginClient(koogallery.LoginConfig{Domain: t.domain, ClientID: t.clientID,
		ClientSecret: t.clientSecret, RedirectURL: s.BillingURL() + twSSOCallbackPath},
		koogallery.WithLoginHTTPClient(&http.Client{Transport: s.rt, Timeout: 10 * time.Second}),
		koogallery.WithUserInfoStyle(s.cfg.userInfo), koogallery.WithInsecureHTTP())
}

var twPages = template.Must(template.New("tw").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>TrueWatch: {{.Title}}</title></head>
<body data-page="{{.Page}}">
<h1>{{.Title}}</h1>
{{if .Error}}<p id="error" role="alert" data-error="{{.Error}}">{{.Message}}</p>{{else if .Message}}<p id="message">{{.Message}}</p>{{end}}
{{if .Workspace}}<p id="workspace" data-workspace="{{.WorkspaceID}}" data-site="{{.Site}}">Workspace <strong>{{.Workspace}}</strong> ({{.WorkspaceID}}) on site {{.Site}},
for {{.User}} of {{.Tenant}}.</p>
<p><a id="confirm" href="{{.Next}}">Confirm</a></p>{{end}}
<p><small>TrueWatch (mock server): signed in with Huawei Cloud KooGallery's unified login.</small></p>
</body></html>
`))

// twPage is a page of TrueWatch's sign-in.
type twPage struct {
	Page, Title, Error, Message  string
	Workspace, WorkspaceID, Site string
	User, Tenant                 string
	Next                         string
}

func writeTWPage(w http.ResponseWriter, status int, p twPage) {
	setPageHeaders(w)
	w.WriteHeader(status)
	_ = twPages.Execute(w, p)
}

func twErrorPage(w http.ResponseWriter, status int, code, msg string) {
	writeTWPage(w, status, twPage{Page: "error", Title: "Sign-in failed", Error: code, Message: msg})
}

// twSSOLogin starts a sign-in: a fresh state and PKCE verifier, kept
// under a random cookie, then the enterprise's login page.
func (s *Server) twSSOLogin(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || len(q["tenant_id"]) != 1 || len(q) != 1 {
		twErrorPage(w, http.StatusBadRequest, "invalid_request", "the sign-in page takes exactly one parameter, tenant_id")
		return
	}
	s.mu.Lock()
	t := s.st.tw.joint.tenants[q.Get("tenant_id")]
	var cp twTenant
	if t != nil {
		cp = *t
	}
	s.mu.Unlock()
	if t == nil || cp.clientID == "" || cp.clientSecret.IsZero() {
		twErrorPage(w, http.StatusNotFound, "unknown_tenant", "TrueWatch has not been told of this enterprise or its application yet")
		return
	}
	client, err := s.loginClient(cp)
	if err != nil {
		twErrorPage(w, http.StatusBadRequest, "invalid_tenant", "the enterprise's unified-login settings are not usable")
		return
	}
	authURL, attempt := client.Begin()
	id := hexID()
	s.mu.Lock()
	now := s.Now()
	a := &twSSOAttempt{tenant: cp.id, login: attempt, expires: now.Add(10 * time.Minute)}
	s.st.tw.joint.attempts.put(now, a.expires, id, a, func(x *twSSOAttempt) time.Time { return x.expires })
	s.mu.Unlock()
	s.setCookie(w, r, twSSOCookie, id, routes.MockBillingPrefix+"/sso/", 600)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusFound)
}

// twSSOCallback finishes a sign-in: the state checked, the code exchanged
// with the verifier, the member read from userinfo and checked against
// what authSync said, then the subscription's workspace.
func (s *Server) twSSOCallback(w http.ResponseWriter, r *http.Request) {
	id := cookieValue(r, twSSOCookie)
	s.setCookie(w, r, twSSOCookie, "", routes.MockBillingPrefix+"/sso/", -1)
	s.mu.Lock()
	j := &s.st.tw.joint
	a := j.attempts.m[id]
	delete(j.attempts.m, id) // single use, whatever follows
	var t twTenant
	if a != nil && j.tenants[a.tenant] != nil {
		t = *j.tenants[a.tenant]
	}
	now := s.Now()
	s.mu.Unlock()
	if a == nil || !now.Before(a.expires) {
		twErrorPage(w, http.StatusBadRequest, "invalid_request", "no sign-in is in progress in this browser: start again from the unified-login link")
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		twErrorPage(w, http.StatusBadRequest, "invalid_request", "the callback's query does not parse")
		return
	}
	if code := q.Get("error"); code != "" {
		twErrorPage(w, http.StatusForbidden, truncateText(code, 64), "the unified login refused the sign-in: "+truncateText(q.Get("error_description"), 256))
		return
	}
	if t.id == "" {
		twErrorPage(w, http.StatusForbidden, "unknown_tenant", "the enterprise is no longer known to TrueWatch")
		return
	}
	client, err := s.loginClient(t)
	if err != nil {
		twErrorPage(w, http.StatusBadRequest, "invalid_tenant", "the enterprise's unified-login settings are not usable")
		return
	}
	tok, cb, err := client.Finish(r.Context(), q, a.login)
	if err != nil {
		code, msg := "invalid_grant", "the code could not be exchanged"
		var ae *apierror.Error
		switch {
		case errors.Is(err, koogallery.ErrLoginState):
			code, msg = "invalid_state", "the callback's state is not this browser's sign-in"
		case errors.As(err, &ae) && ae.ErrorCode != "":
			code, msg = ae.ErrorCode, "the code could not be exchanged: "+ae.Message
		}
		twErrorPage(w, http.StatusBadRequest, truncateText(code, 64), msg)
		return
	}
	if cb.TenantID != "" && cb.TenantID != t.id {
		twErrorPage(w, http.StatusBadRequest, "invalid_request", "the callback names another enterprise")
		return
	}
	info, err := client.UserInfo(r.Context(), tok)
	if err != nil || info.TenantID != t.id {
		twErrorPage(w, http.StatusBadRequest, "invalid_token", "the unified login did not say who signed in for this enterprise")
		return
	}
	s.landLocked(w, r, t, info)
}

// landLocked takes the state's lock: it checks the member against
// TrueWatch's record and opens a session on the subscription's workspace.
func (s *Server) landLocked(w http.ResponseWriter, r *http.Request, t twTenant, info *koogallery.UserInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	tt := s.st.tw.joint.tenants[t.id]
	var u koogallery.KitUser
	ok := false
	if tt != nil {
		u, ok = tt.users[fold(info.UserName)]
	}
	if !ok || !u.Enable {
		twErrorPage(w, http.StatusForbidden, "not_authorized", "you are not authorized to use TrueWatch in "+t.name+": ask your enterprise's administrator")
		return
	}
	sub := s.st.tw.subs[t.instanceID]
	var ws []string
	if sub != nil {
		ws = s.st.tw.settled[sub.key]
	}
	if len(ws) == 0 {
		writeTWPage(w, http.StatusOK, twPage{Page: "not-activated", Title: "Not activated yet",
			Message: "The TrueWatch subscription of " + t.name + " has no workspace yet: activate it (the buyer, with the SDK or the activation link shown under Purchased Services), then sign in again."})
		return
	}
	wsp := s.st.tw.workspaces[ws[0]]
	now := s.Now()
	sess := &twSession{userName: info.UserName, name: info.Name, tenantName: t.name, workspaceID: wsp.ID,
		workspaceName: wsp.Name, site: wsp.Site, expires: now.Add(twSessionTTL)}
	id := newCredential()
	s.st.tw.joint.sessions.put(now, sess.expires, id, sess, func(x *twSession) time.Time { return x.expires })
	s.setCookie(w, r, twSessionCookie, id, "/", 0)
	writeTWPage(w, http.StatusOK, twPage{Page: "activated", Title: "Activation Successful", Workspace: wsp.Name,
		WorkspaceID: wsp.ID, Site: string(wsp.Site), User: info.UserName, Tenant: t.name,
		Next: routes.MockSitesPrefix + string(wsp.Site) + "/" + string(site.Auth) + "/login/pwd"})
}

// sessionFor is the TrueWatch session of the request on site c, if any.
func (s *Server) sessionFor(r *http.Request, c site.Code) *twSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.st.tw.joint.sessions.m[cookieValue(r, twSessionCookie)]
	if sess == nil || sess.site != c || !s.Now().Before(sess.expires) {
		return nil
	}
	cp := *sess
	return &cp
}

// registerTrueWatchSSO mounts TrueWatch's sign-in.
func (s *Server) registerTrueWatchSSO(mux registrar) {
	mux.HandleFunc("GET "+routes.MockBillingPrefix+twSSOLoginPath, s.twSSOLogin)
	mux.HandleFunc("GET "+routes.MockBillingPrefix+twSSOCallbackPath, s.twSSOCallback)
}
