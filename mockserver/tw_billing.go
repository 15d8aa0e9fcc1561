package mockserver

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// Reasons a workspace cannot be bound, as ListWorkspaces reports them.
const (
	reasonLocked       = billing.ReasonSettlementLocked
	reasonMonthlyLimit = billing.ReasonMonthlyLimit
	reasonAlreadyBound = billing.ReasonAlreadyBound
)

const defaultPageSize = 20

// existingSubscriptionLocked finds a subscription (a Huawei purchase of that
// account) or fails with 404 ft.SubscriptionNotFound.
func (s *Server) existingSubscriptionLocked(k subKey) (*Purchase, *twError) {
	p := s.subscriptionLocked(k)
	if p == nil {
		return nil, twErr(http.StatusNotFound, apierror.CodeSubscriptionNotFound,
			"Huawei account %s has no marketplace instance %s", k.huaweiAccountID, k.instanceID)
	}
	return p, nil
}

// activeSubscriptionLocked additionally requires the purchase to be in use
// (409 ft.SubscriptionInactive otherwise).
func (s *Server) activeSubscriptionLocked(k subKey) (*Purchase, *twError) {
	p, e := s.existingSubscriptionLocked(k)
	if e != nil {
		return nil, e
	}
	if st := s.subStatusLocked(p); st != PurchaseInUse {
		return nil, twErr(http.StatusConflict, apierror.CodeSubscriptionInactive,
			"instance %s is %s, not in use", k.instanceID, subscriptionStatus(st))
	}
	return p, nil
}

// tokenSubscriptionLocked checks that the token's subscription can still
// settle workspaces: it is in use (authLocked has checked that it is still
// bound to the token's Billing Center account).
func (s *Server) tokenSubscriptionLocked(tok *tokenRec) *twError {
	_, e := s.activeSubscriptionLocked(tok.sub)
	return e
}

// checkBindableLocked checks that a subscription can be bound to the
// Billing Center account billingAccountID ("" for an account about to be
// created): it is in use and not bound to another account.
func (s *Server) checkBindableLocked(billingAccountID string, k subKey) *twError {
	if _, e := s.activeSubscriptionLocked(k); e != nil {
		return e
	}
	if b := s.st.tw.bindings[k]; b != nil && b.billingAccountID != billingAccountID {
		return twErr(http.StatusConflict, apierror.CodeAlreadyBound,
			"instance %s is already bound to Billing Center account %s; bind that account instead",
			k.instanceID, s.st.tw.billing[b.billingAccountID].Username)
	}
	return nil
}

// bindLocked binds a subscription to a Billing Center account (after
// checkBindableLocked); binding it again to the same account changes
// nothing.
func (s *Server) bindLocked(billingAccountID string, k subKey) {
	if s.st.tw.bindings[k] == nil {
		s.st.tw.bindings[k] = &bindingRec{billingAccountID: billingAccountID}
	}
}

// issueTokenLocked makes a Billing Center token: "bctk_" and 32 hex
// characters from crypto/rand, unrelated to any ID or seed. Expired tokens
// are freed as new ones are made.
func (s *Server) issueTokenLocked(billingAccountID string, k subKey) (string, twapi.Timestamp) {
	s.expireTokensLocked()
	tok := newToken()
	exp := s.now().Add(s.cfg.tokenTTL)
	s.st.tw.tokens[tok] = &tokenRec{billingAccountID: billingAccountID, sub: k, expiresAt: exp}
	// An expired token is kept for one more lifetime, so that using it
	// says ft.TokenExpired rather than that it never existed.
	s.st.tw.tokenQ.push(exp.Add(s.cfg.tokenTTL), tok)
	return tok, twapi.Timestamp{Time: exp}
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "bctk_" + hex.EncodeToString(b[:])
}

// expireTokensLocked frees the tokens that expired more than a token
// lifetime ago.
func (s *Server) expireTokensLocked() {
	now := s.cfg.clock.Now()
	tw := &s.st.tw
	tw.tokenQ.expire(now, func(tok string) {
		if rec := tw.tokens[tok]; rec != nil && !now.Before(rec.expiresAt.Add(s.cfg.tokenTTL)) {
			delete(tw.tokens, tok)
		}
	})
}

// subscriptionViewLocked is a subscription as GetSubscription shows it.
func (s *Server) subscriptionViewLocked(p *Purchase) billing.Subscription {
	k := subKey{p.AccountID, p.InstanceID}
	st := s.subStatusLocked(p)
	out := billing.Subscription{HuaweiAccountID: p.AccountID, InstanceID: p.InstanceID, ProductID: p.ProductID,
		Status: subscriptionStatus(st), Active: st == PurchaseInUse, OwnershipProven: true,
		Workspaces: s.workspacesSettledByLocked(k), ExpireTime: twapi.Timestamp{Time: p.ExpireTime}}
	if sub := s.twSubLocked(p.InstanceID); sub != nil {
		out.ExpireTime = twapi.Timestamp{Time: sub.expireTime}
		if !sub.graceUntil.IsZero() {
			out.GraceUntil = twapi.Timestamp{Time: sub.graceUntil.UTC().Truncate(time.Second)}
		}
	}
	if b := s.st.tw.bindings[k]; b != nil {
		out.Bound = true
		out.BillingAccountID = b.billingAccountID
		out.BillingUsername = s.st.tw.billing[b.billingAccountID].Username
	}
	if out.Activated() {
		out.LoginURL = s.loginURL(out.Workspaces[0].Site)
	}
	return out
}

// publicSubscription is what the subscription lookup answers without a
// proof of ownership: what anyone who knows both IDs may learn. Never who
// bound it or which workspaces it settles.
type publicSubscription struct {
	HuaweiAccountID string                     `json:"huaweiAccountId"`
	InstanceID      string                     `json:"instanceId"`
	ProductID       string                     `json:"productId"`
	Status          billing.SubscriptionStatus `json:"status"`
	Active          bool                       `json:"active"`
	OwnershipProven bool                       `json:"ownershipProven"`
}

// opGetSubscription: GET /api/v1/subscription/get?huaweiAccountId=&instanceId=.
// The complete answer needs a proof of ownership of the account; a proof
// of another account is refused rather than answered in part.
func (s *Server) opGetSubscription(c *call, q url.Values) (any, *httpcore.PageInfo, *twError) {
	if e := checkQuery(c.r, q, "huaweiAccountId", "instanceId"); e != nil {
		return nil, nil, e
	}
	var p apierror.Problems
	rules.HuaweiAccountID(&p, "huaweiAccountId", q.Get("huaweiAccountId"))
	rules.InstanceID(&p, "instanceId", q.Get("instanceId"))
	if len(p) > 0 {
		return nil, nil, validationErr(p)
	}
	k := subKey{q.Get("huaweiAccountId"), q.Get("instanceId")}
	if c.proven.account != "" {
		if e := c.ownerOf(k); e != nil {
			return nil, nil, e
		}
	}
	pur, e := s.existingSubscriptionLocked(k)
	if e != nil {
		return nil, nil, e
	}
	if c.proven.account == "" {
		st := s.subStatusLocked(pur)
		return publicSubscription{HuaweiAccountID: pur.AccountID, InstanceID: pur.InstanceID, ProductID: pur.ProductID,
			Status: subscriptionStatus(st), Active: st == PurchaseInUse}, nil, nil
	}
	return s.subscriptionViewLocked(pur), nil, nil
}

// opRegister: POST /api/v1/account/register. Creates the console account,
// the Billing Center account, the first workspace settled by the
// subscription, and the binding; all or nothing.
func (s *Server) opRegister(c *call, req *billing.RegisterRequest) (any, *twError) {
	k := subKey{req.HuaweiAccountID, req.InstanceID}
	if e := c.ownerOf(k); e != nil {
		return nil, e
	}
	if e := s.linkAllowsLocked(c, ""); e != nil {
		return nil, e
	}
	if e := s.checkCodeLocked(req.Email, billing.PurposeRegister, req.EmailCode); e != nil {
		return nil, e
	}
	if e := s.checkBindableLocked("", k); e != nil {
		return nil, e
	}
	if e := s.checkNewAccountLocked(req.Site, req.Username, req.Email); e != nil {
		return nil, e
	}
	if e := s.checkNewBillingAccountLocked(req.Username, req.Email); e != nil {
		return nil, e
	}

	now := s.now()
	acc := s.insertAccountLocked(req.Site, req.Username, req.Email, req.Phone, now)
	bca := s.insertBillingAccountLocked(req.Username, req.Email, req.Company.Name, now)
	ws := s.insertWorkspaceLocked(twapi.Workspace{Name: req.WorkspaceName, Language: req.WorkspaceLanguage,
		Site: req.Site, OwnerAccountID: acc.ID, BillingAccountID: bca.ID, Settlement: huaweiSettlement(k)}, now)
	s.bindLocked(bca.ID, k)
	s.consumeCodeLocked(req.Email, billing.PurposeRegister)
	s.useLinkLocked(c, bca.ID)
	return billing.RegisterResult{Account: *acc, BillingAccount: *bca, Workspace: *ws, LoginURL: s.loginURL(req.Site)}, nil
}

// checkNewAccountLocked checks that a new console account may take this
// username and email on the site.
func (s *Server) checkNewAccountLocked(c site.Code, username, email string) *twError {
	if s.accountByUsernameLocked(c, username) != nil {
		return twErr(http.StatusConflict, apierror.CodeUsernameTaken, "username %q is taken on site %s", username, c)
	}
	if s.accountByEmailLocked(c, email) != nil {
		return twErr(http.StatusConflict, apierror.CodeEmailTaken,
			"a TrueWatch account on site %s already uses this email", c)
	}
	return nil
}

// checkNewBillingAccountLocked checks that a new Billing Center account may
// take this username and email: both are globally unique.
func (s *Server) checkNewBillingAccountLocked(username, email string) *twError {
	if s.billingByUsernameLocked(username) != nil {
		return twErr(http.StatusConflict, apierror.CodeUsernameTaken, "Billing Center username %q is taken", username)
	}
	if s.billingByEmailLocked(email) != nil {
		return twErr(http.StatusConflict, apierror.CodeEmailTaken,
			"a Billing Center account already uses this email; bind it instead")
	}
	return nil
}

func huaweiSettlement(k subKey) twapi.Settlement {
	return twapi.Settlement{Method: twapi.SettlementHuaweiCloud, HuaweiAccountID: k.huaweiAccountID, InstanceID: k.instanceID}
}

// opBindAccount: POST /api/v1/billing_account/bind.
func (s *Server) opBindAccount(c *call, req *billing.BindAccountRequest) (any, *twError) {
	k := subKey{req.HuaweiAccountID, req.InstanceID}
	if e := c.ownerOf(k); e != nil {
		return nil, e
	}
	named := ""
	if b := s.billingByUsernameLocked(req.Username); b != nil {
		named = b.ID
	}
	if e := s.linkAllowsLocked(c, named); e != nil {
		return nil, e
	}
	if e := s.checkCodeLocked(req.Email, billing.PurposeBindBillingAccount, req.EmailCode); e != nil {
		return nil, e
	}
	bca := s.billingByUsernameLocked(req.Username)
	if bca == nil || rules.NormalizeEmail(bca.Email) != rules.NormalizeEmail(req.Email) {
		return nil, twErr(http.StatusNotFound, apierror.CodeBillingAccountNotFound,
			"no Billing Center account has this username and email")
	}
	if e := s.checkBindableLocked(bca.ID, k); e != nil {
		return nil, e
	}
	s.bindLocked(bca.ID, k)
	s.consumeCodeLocked(req.Email, billing.PurposeBindBillingAccount)
	s.useLinkLocked(c, bca.ID)
	tok, exp := s.issueTokenLocked(bca.ID, k)
	return bindAccountReply{BillingAccount: *bca, Token: tok, ExpiresAt: exp}, nil
}

// bindAccountReply is billing.BindAccountResult on the wire: the token in
// clear, which the public type never writes.
type bindAccountReply struct {
	BillingAccount billing.BillingAccount `json:"billingAccount"`
	Token          string                 `json:"token"`
	ExpiresAt      twapi.Timestamp        `json:"expiresAt"`
}

// bindability says whether w can be bound to subscription k, and why not.
func (s *Server) bindabilityLocked(w *twapi.Workspace, k subKey) (bindable bool, reason string) {
	switch {
	case settledBy(w, k):
		return false, reasonAlreadyBound
	case s.lockedByOtherLocked(w, k):
		return false, reasonLocked
	case changedThisMonth(w, s.cfg.clock.Now()):
		return false, reasonMonthlyLimit
	}
	return true, ""
}

// opListWorkspaces: GET /api/v1/billing_account/workspace/list (token). Every
// workspace associated with the token's Billing Center account, in creation
// order, with whether it can be bound to the token's subscription.
func (s *Server) opListWorkspaces(c *call, q url.Values) (any, *httpcore.PageInfo, *twError) {
	if e := checkQuery(c.r, q, "pageIndex", "pageSize", "site"); e != nil {
		return nil, nil, e
	}
	var p apierror.Problems
	index := queryInt(&p, q, "pageIndex", 1, 1, 0)
	size := queryInt(&p, q, "pageSize", defaultPageSize, 1, rules.PageSizeMax)
	filter := site.Code(q.Get("site"))
	if _, given := q["site"]; given {
		rules.Site(&p, "site", filter)
	}
	if len(p) > 0 {
		return nil, nil, validationErr(p)
	}
	all := []billing.BindableWorkspace{}
	for _, id := range s.st.tw.wsIDs {
		w := s.st.tw.workspaces[id]
		if w.BillingAccountID != c.token.billingAccountID || (filter != "" && w.Site != filter) {
			continue
		}
		ok, why := s.bindabilityLocked(w, c.token.sub)
		all = append(all, billing.BindableWorkspace{Workspace: *w, Bindable: ok, Reason: why})
	}
	page := []billing.BindableWorkspace{}
	if index-1 < (len(all)+size-1)/size { // not (index-1)*size, which overflows for huge indexes
		from := (index - 1) * size
		page = all[from:min(from+size, len(all))]
	}
	return page, &httpcore.PageInfo{Count: len(page), PageIndex: index, PageSize: size, TotalCount: len(all)}, nil
}

// queryInt parses an optional integer query parameter: def when absent;
// when given (even empty) an integer from lo to hi (no upper bound when
// hi is 0), as the contract's minimum and maximum say.
func queryInt(p *apierror.Problems, q url.Values, name string, def, lo, hi int) int {
	if _, given := q[name]; !given {
		return def
	}
	n, err := strconv.Atoi(q.Get(name))
	switch {
	case err != nil:
		p.Add(name, "must be an integer")
	case n < lo || hi > 0 && n > hi:
		if hi > 0 {
			p.Add(name, "must be %d to %d", lo, hi)
		} else {
			p.Add(name, "must be %d or more", lo)
		}
	default:
		return n
	}
	return def
}

// opBindWorkspace: POST /api/v1/billing_account/workspace/bind (token).
func (s *Server) opBindWorkspace(c *call, req *billing.BindWorkspaceRequest) (any, *twError) {
	tok := c.token
	if e := s.tokenSubscriptionLocked(tok); e != nil {
		return nil, e
	}
	w := s.st.tw.workspaces[req.WorkspaceID]
	if w == nil || w.BillingAccountID != tok.billingAccountID {
		return nil, twErr(http.StatusNotFound, apierror.CodeWorkspaceNotFound,
			"workspace %q is not associated with this Billing Center account", req.WorkspaceID)
	}
	switch _, why := s.bindabilityLocked(w, tok.sub); why {
	case reasonAlreadyBound:
		return billing.BindWorkspaceResult{Workspace: *w, Changed: false, LoginURL: s.loginURL(w.Site)}, nil
	case reasonLocked:
		return nil, twErr(http.StatusConflict, apierror.CodeSettlementLocked,
			"workspace %s is settled by another cloud subscription that has not been released", w.ID)
	case reasonMonthlyLimit:
		return nil, twErr(http.StatusConflict, apierror.CodeSettlementChangeLimit,
			"the settlement method of workspace %s was already changed this month (last change %s)",
			w.ID, w.Settlement.ChangedAt.UTC().Format("2006-01-02"))
	}
	now := s.now()
	s.setSettlementLocked(w, huaweiSettlement(tok.sub))
	w.Settlement.ChangedAt = twapi.Timestamp{Time: now}
	w.IsLocked = false
	w.UpdateAt = twapi.Timestamp{Time: now}
	return billing.BindWorkspaceResult{Workspace: *w, Changed: true, LoginURL: s.loginURL(w.Site)}, nil
}

// opGetBinding: GET /api/v1/billing_account/binding/get (token).
func (s *Server) opGetBinding(c *call, q url.Values) (any, *httpcore.PageInfo, *twError) {
	if e := checkQuery(c.r, q); e != nil {
		return nil, nil, e
	}
	tok := c.token
	p := s.subscriptionLocked(tok.sub)
	if p == nil { // a binding's purchase is never removed; this is defence only
		return nil, nil, twErr(http.StatusUnauthorized, apierror.CodeUnauthorized, "the token's binding no longer exists")
	}
	return billing.Binding{BillingAccount: *s.st.tw.billing[tok.billingAccountID],
		HuaweiAccountID: tok.sub.huaweiAccountID, InstanceID: tok.sub.instanceID,
		Status: subscriptionStatus(s.subStatusLocked(p)), Workspaces: s.workspacesSettledByLocked(tok.sub)}, nil, nil
}
