package mockserver

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

func (s *Server) insertAccountLocked(c site.Code, username, email, phone string, now time.Time) *twapi.Account {
	return s.putAccountLocked(&twapi.Account{ID: s.ids.next("acnt_"), Username: username, Email: email, Phone: phone, Site: c,
		CreateAt: twapi.Timestamp{Time: now}})
}

// putAccountLocked stores a console account that has its ID and indexes
// it; restoring a state file puts accounts back through it.
func (s *Server) putAccountLocked(a *twapi.Account) *twapi.Account {
	s.st.tw.accounts[a.ID] = a
	s.st.tw.accountIDs = append(s.st.tw.accountIDs, a.ID)
	s.st.tw.accountByUser[siteKey{a.Site, foldKey(a.Username)}] = a.ID
	s.st.tw.accountByEmail[siteKey{a.Site, rules.NormalizeEmail(a.Email)}] = a.ID
	return a
}

func (s *Server) insertBillingAccountLocked(username, email, company string, now time.Time) *billing.BillingAccount {
	return s.putBillingAccountLocked(&billing.BillingAccount{ID: s.ids.next("bcac_"), Username: username, Email: email,
		CompanyName: company, CreateAt: twapi.Timestamp{Time: now}})
}

// putBillingAccountLocked stores a Billing Center account that has its ID
// and indexes it.
func (s *Server) putBillingAccountLocked(b *billing.BillingAccount) *billing.BillingAccount {
	s.st.tw.billing[b.ID] = b
	s.st.tw.billingIDs = append(s.st.tw.billingIDs, b.ID)
	s.st.tw.billingByUser[foldKey(b.Username)] = b.ID
	s.st.tw.billingByEmail[rules.NormalizeEmail(b.Email)] = b.ID
	return b
}

// insertWorkspaceLocked stores w with a new ID and timestamps.
func (s *Server) insertWorkspaceLocked(w twapi.Workspace, now time.Time) *twapi.Workspace {
	w.ID = s.ids.next("wksp_")
	w.CreateAt = twapi.Timestamp{Time: now}
	w.UpdateAt = w.CreateAt
	return s.putWorkspaceLocked(w)
}

// putWorkspaceLocked stores a workspace that has its ID and timestamps and
// indexes it, its settlement included.
func (s *Server) putWorkspaceLocked(w twapi.Workspace) *twapi.Workspace {
	st := w.Settlement
	w.Settlement = twapi.Settlement{}
	s.st.tw.workspaces[w.ID] = &w
	s.st.tw.wsPos[w.ID] = len(s.st.tw.wsIDs)
	s.st.tw.wsIDs = append(s.st.tw.wsIDs, w.ID)
	s.st.tw.wsByOwnerName[[2]string{w.OwnerAccountID, w.Name}] = true
	s.setSettlementLocked(&w, st)
	return &w
}

// checkSite refuses a request whose site differs from the site of the API
// it was sent to.
func checkSite(c *call, reqSite site.Code) *twError {
	if reqSite != c.site {
		return problem("site", "must be %q, the site this API serves", string(c.site))
	}
	return nil
}

// opCreateWorkspace: POST /api/v1/workspace/create on a site (token). The
// console account is the one registered on the site with the email, which
// proves ownership with a create_workspace code. The workspace is associated
// with the token's Billing Center account and settled by its subscription.
func (s *Server) opCreateWorkspace(c *call, req *workspace.CreateWorkspaceRequest) (any, *twError) {
	if e := checkSite(c, req.Site); e != nil {
		return nil, e
	}
	if e := s.checkCodeLocked(req.Email, billing.PurposeCreateWorkspace, req.EmailCode); e != nil {
		return nil, e
	}
	acc := s.accountByEmailLocked(c.site, req.Email)
	if acc == nil {
		return nil, twErr(http.StatusNotFound, apierror.CodeAccountNotFound,
			"no TrueWatch account on site %s uses this email", c.site)
	}
	if e := s.tokenSubscriptionLocked(c.token); e != nil {
		return nil, e
	}
	if s.workspaceNameTakenLocked(acc.ID, req.Name) {
		return nil, twErr(http.StatusConflict, apierror.CodeWorkspaceNameTaken,
			"account %s already has a workspace named %q", acc.Username, req.Name)
	}
	ws := s.insertWorkspaceLocked(s.newBoundWorkspace(c, acc.ID, req.Name, req.Language), s.now())
	s.consumeCodeLocked(req.Email, billing.PurposeCreateWorkspace)
	return workspace.CreateResult{Account: *acc, Workspace: *ws, LoginURL: s.loginURL(c.site)}, nil
}

// opRegisterAndCreate: POST /api/v1/workspace/register_and_create on a site
// (token). A new console account and its first workspace, associated with
// the token's Billing Center account and settled by its subscription.
func (s *Server) opRegisterAndCreate(c *call, req *workspace.RegisterAndCreateRequest) (any, *twError) {
	if e := checkSite(c, req.Site); e != nil {
		return nil, e
	}
	if e := s.checkCodeLocked(req.Email, billing.PurposeCreateWorkspace, req.EmailCode); e != nil {
		return nil, e
	}
	if e := s.tokenSubscriptionLocked(c.token); e != nil {
		return nil, e
	}
	if e := s.checkNewAccountLocked(c.site, req.Username, req.Email); e != nil {
		return nil, e
	}
	now := s.now()
	acc := s.insertAccountLocked(c.site, req.Username, req.Email, req.Phone, now)
	ws := s.insertWorkspaceLocked(s.newBoundWorkspace(c, acc.ID, req.Name, req.Language), now)
	s.consumeCodeLocked(req.Email, billing.PurposeCreateWorkspace)
	return workspace.CreateResult{Account: *acc, Workspace: *ws, LoginURL: s.loginURL(c.site)}, nil
}

// newBoundWorkspace is a workspace of the call's site owned by ownerID,
// associated with the token's Billing Center account and settled by its
// subscription.
func (s *Server) newBoundWorkspace(c *call, ownerID, name string, lang twapi.Language) twapi.Workspace {
	return twapi.Workspace{Name: name, Language: lang, Site: c.site, OwnerAccountID: ownerID,
		BillingAccountID: c.token.billingAccountID, Settlement: huaweiSettlement(c.token.sub)}
}

// opGetWorkspace: GET /api/v1/workspace/{uuid}/get on a site (token). Only
// workspaces of that site associated with the token's Billing Center
// account are visible.
func (s *Server) opGetWorkspace(c *call, q url.Values) (any, *httpcore.PageInfo, *twError) {
	if e := checkQuery(c.r, q); e != nil {
		return nil, nil, e
	}
	id := c.r.PathValue("uuid")
	if utf8.RuneCountInString(id) > rules.PathIDMaxLen {
		return nil, nil, problem("uuid", "must be 1 to %d characters", rules.PathIDMaxLen)
	}
	w := s.st.tw.workspaces[id]
	if w == nil || w.Site != c.site || w.BillingAccountID != c.token.billingAccountID {
		return nil, nil, twErr(http.StatusNotFound, apierror.CodeWorkspaceNotFound,
			"no workspace %q on site %s for this Billing Center account", id, c.site)
	}
	return *w, nil, nil
}

// loginPage serves GET /sites/{site}/auth/login/pwd, where login URLs point:
// a minimal page, enough for a browser or a link checker.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	c := site.Code(r.PathValue("site"))
	info, err := site.Lookup(c)
	if err != nil || !c.Valid() { // Lookup alone would accept "US1"
		writeTWErr(w, r, twErr(http.StatusNotFound, apierror.CodeUnknownSite, "%s", (&site.UnknownError{Code: c}).Error()))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	name, code, provider := html.EscapeString(info.Name), html.EscapeString(string(info.Code)), html.EscapeString(info.Provider)
	signedIn := ""
	if sess := s.sessionFor(r, c); sess != nil {
		// A member who came through the unified login (tw_joint.go).
		w.Header().Set("Cache-Control", "no-store")
		signedIn = fmt.Sprintf(`<p id="workspace" data-workspace="%s">Workspace <strong>%s</strong> (%s): signed in with the unified login as %s of %s.</p>
`, html.EscapeString(sess.workspaceID), html.EscapeString(sess.workspaceName), html.EscapeString(sess.workspaceID),
			html.EscapeString(sess.userName), html.EscapeString(sess.tenantName))
	}
	fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TrueWatch %[1]s: log in (mock)</title></head>
<body><h1>Log in to TrueWatch %[1]s</h1>
%[4]s<form method="post"><label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit" disabled>Log in</button></form>
<p>This is the TrueWatch mock server: site %[2]s (%[3]s).</p></body></html>
`, name, code, provider, signedIn)
}
