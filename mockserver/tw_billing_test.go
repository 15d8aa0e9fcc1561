package mockserver

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

const (
	otherHuaweiID  = "1b2c3d4e5f60718293a4b5c6d7e8f9a0"
	otherInstance  = "tw-inst-other-0001"
	secondInstance = "tw-inst-second-0002"
)

func TestSendCode(t *testing.T) {
	h := newHarness(t)
	var res billing.SendCodeResult
	h.requireOK(h.do(http.MethodPost, bcPath(routes.SendCode),
		billing.SendCodeRequest{Email: "Ada@Example.com", Purpose: billing.PurposeRegister}), &res)
	assert.Equal(t, "Ada@Example.com", res.Email)
	assert.Equal(t, billing.PurposeRegister, res.Purpose)
	assert.Equal(t, testStart.Add(10*time.Minute), res.ExpiresAt.UTC())
	assert.Equal(t, testStart.Add(time.Minute), res.ResendAfter.UTC())

	mails := h.srv.Outbox()
	require.Len(t, mails, 1)
	m := mails[0]
	assert.Equal(t, "Ada@Example.com", m.To)
	assert.Equal(t, billing.PurposeRegister, m.Purpose)
	assert.Regexp(t, `^[0-9]{6}$`, m.Code.Reveal())
	assert.Contains(t, m.Body, m.Code.Reveal())
	assert.NotEmpty(t, m.Subject)
	assert.Equal(t, testStart, m.SentAt)
}

func TestSendCodeRules(t *testing.T) {
	h := newHarness(t)
	h.requireUnchanged(func() {
		r := h.do(http.MethodPost, bcPath(routes.SendCode), billing.SendCodeRequest{Email: "not-an-email", Purpose: "login"})
		requireErr(t, r, http.StatusBadRequest, apierror.CodeValidation)
		assert.Equal(t, []string{"email", "purpose"}, r.problems(t))
	})

	first := h.sendCode("ada@example.com", billing.PurposeRegister)
	h.clock.Advance(20 * time.Second)
	h.requireUnchanged(func() {
		r := h.do(http.MethodPost, bcPath(routes.SendCode), billing.SendCodeRequest{Email: "ADA@example.com", Purpose: billing.PurposeRegister})
		requireErr(t, r, http.StatusTooManyRequests, apierror.CodeCodeResendTooSoon)
		assert.Equal(t, "40", r.header.Get("Retry-After"))
	})
	// Another purpose is another code, with its own resend clock.
	h.sendCode("ada@example.com", billing.PurposeBindBillingAccount)

	h.clock.Advance(40 * time.Second)
	second := h.sendCode("ada@example.com", billing.PurposeRegister)
	assert.NotEqual(t, first, second, "a resend makes a new code")
	// The new code replaced the old one.
	r := h.do(http.MethodPost, bcPath(routes.Register), registerReq("ada", "ada@example.com", first))
	requireErr(t, r, http.StatusBadRequest, apierror.CodeInvalidCode)
	h.requireOK(h.do(http.MethodPost, bcPath(routes.Register), registerReq("ada", "ada@example.com", second)), nil)
}

func TestGetSubscription(t *testing.T) {
	h := newHarness(t)
	get := func(hwID, inst string) *wireResp {
		q := url.Values{"huaweiAccountId": {hwID}, "instanceId": {inst}}
		return h.do(http.MethodGet, bcPath(routes.GetSubscription)+"?"+q.Encode(), nil)
	}
	var sub billing.Subscription
	h.requireOK(get(DemoHuaweiAccountID, DemoInstanceID), &sub)
	assert.Equal(t, billing.Subscription{HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID,
		ProductID: TrueWatchProductID, Status: billing.StatusInUse, Active: true, OwnershipProven: true,
		Workspaces: []billing.BoundWorkspace{}, ExpireTime: twapi.Timestamp{Time: testStart.AddDate(1, 0, 0)}}, sub)
	assert.False(t, sub.Activated())
	assert.Contains(t, string(get(DemoHuaweiAccountID, DemoInstanceID).raw), `"workspaces":[]`, "an empty list, not null")

	reg := h.register("ada", "ada@example.com")
	h.requireOK(get(DemoHuaweiAccountID, DemoInstanceID), &sub)
	assert.True(t, sub.Bound)
	assert.True(t, sub.Activated())
	assert.Equal(t, reg.BillingAccount.ID, sub.BillingAccountID)
	assert.Equal(t, "ada", sub.BillingUsername)
	assert.Equal(t, []billing.BoundWorkspace{{ID: reg.Workspace.ID, Name: "prod", Site: site.AP1}}, sub.Workspaces)
	assert.Equal(t, h.srv.URL()+"/sites/ap1/auth/login/pwd", sub.LoginURL)

	require.NoError(t, h.srv.SetPurchaseStatus(DemoInstanceID, PurchaseFrozen))
	h.requireOK(get(DemoHuaweiAccountID, DemoInstanceID), &sub)
	assert.Equal(t, billing.StatusFrozen, sub.Status)
	assert.False(t, sub.Active)
	assert.True(t, sub.Activated(), "a frozen subscription keeps its binding and workspaces")

	requireErr(t, get(DemoHuaweiAccountID, "no-such-instance"), http.StatusNotFound, apierror.CodeSubscriptionNotFound)
	requireErr(t, get(otherHuaweiID, DemoInstanceID), http.StatusNotFound, apierror.CodeSubscriptionNotFound)
	r := get("ABC", "")
	requireErr(t, r, http.StatusBadRequest, apierror.CodeValidation)
	assert.Equal(t, []string{"huaweiAccountId", "instanceId"}, r.problems(t))
	r = h.do(http.MethodGet, bcPath(routes.GetSubscription)+"?huaweiAccountId="+DemoHuaweiAccountID+"&instanceId=x&extra=1", nil)
	requireErr(t, r, http.StatusBadRequest, apierror.CodeValidation)
	assert.Equal(t, []string{"extra"}, r.problems(t))
}

func TestRegister(t *testing.T) {
	h := newHarness(t)
	code := h.sendCode("ada@example.com", billing.PurposeRegister)
	req := registerReq("ada", "ada@example.com", code)
	req.Phone = "+6591234567"
	var res billing.RegisterResult
	h.requireOK(h.do(http.MethodPost, bcPath(routes.Register), req), &res)

	assert.Regexp(t, `^acnt_[0-9a-f]{32}$`, res.Account.ID)
	assert.Regexp(t, `^bcac_[0-9a-f]{32}$`, res.BillingAccount.ID)
	assert.Regexp(t, `^wksp_[0-9a-f]{32}$`, res.Workspace.ID)
	assert.Equal(t, twapi.Account{ID: res.Account.ID, Username: "ada", Email: "ada@example.com",
		Phone: "+6591234567", Site: site.AP1, CreateAt: twapi.Timestamp{Time: testStart}}, res.Account)
	assert.Equal(t, billing.BillingAccount{ID: res.BillingAccount.ID, Username: "ada", Email: "ada@example.com",
		CompanyName: "Acme", CreateAt: twapi.Timestamp{Time: testStart}}, res.BillingAccount)
	assert.Equal(t, twapi.Workspace{ID: res.Workspace.ID, Name: "prod", Language: twapi.LanguageEN,
		Site: site.AP1, OwnerAccountID: res.Account.ID, BillingAccountID: res.BillingAccount.ID,
		Settlement: twapi.Settlement{Method: twapi.SettlementHuaweiCloud, HuaweiAccountID: DemoHuaweiAccountID,
			InstanceID: DemoInstanceID},
		CreateAt: twapi.Timestamp{Time: testStart}, UpdateAt: twapi.Timestamp{Time: testStart}}, res.Workspace)
	assert.Equal(t, h.srv.URL()+"/sites/ap1/auth/login/pwd", res.LoginURL)

	assert.Equal(t, []twapi.Account{res.Account}, h.srv.Accounts())
	assert.Equal(t, []billing.BillingAccount{res.BillingAccount}, h.srv.BillingAccounts())
	assert.Equal(t, []twapi.Workspace{res.Workspace}, h.srv.Workspaces())

	// The code was used up.
	h.addSubscription(otherHuaweiID, otherInstance)
	again := registerReq("bob", "ada@example.com", code)
	again.HuaweiAccountID, again.InstanceID, again.Site = otherHuaweiID, otherInstance, site.EU1
	requireErr(t, h.do(http.MethodPost, bcPath(routes.Register), again), http.StatusBadRequest, apierror.CodeInvalidCode)
}

// TestRegisterRules checks every refusal of Register: the error code, that
// nothing changed, and that the code was not used up by the failure.
func TestRegisterRules(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(h *harness)
		modify func(r *billing.RegisterRequest)
		status int
		code   string
	}{
		{name: "invalid request", modify: func(r *billing.RegisterRequest) { r.Password = "password" },
			status: http.StatusBadRequest, code: apierror.CodeValidation},
		{name: "terms not accepted", modify: func(r *billing.RegisterRequest) { r.TermsAccepted = false },
			status: http.StatusBadRequest, code: apierror.CodeValidation},
		{name: "unknown subscription", modify: func(r *billing.RegisterRequest) { r.InstanceID = "nope" },
			status: http.StatusNotFound, code: apierror.CodeSubscriptionNotFound},
		{name: "instance of another Huawei account", modify: func(r *billing.RegisterRequest) { r.HuaweiAccountID = otherHuaweiID },
			status: http.StatusNotFound, code: apierror.CodeSubscriptionNotFound},
		{name: "frozen subscription", setup: func(h *harness) {
			require.NoError(h.t, h.srv.SetPurchaseStatus(DemoInstanceID, PurchaseFrozen))
		}, status: http.StatusConflict, code: apierror.CodeSubscriptionInactive},
		{name: "closed subscription", setup: func(h *harness) {
			release(h.t, h.srv, DemoInstanceID)
		}, status: http.StatusConflict, code: apierror.CodeSubscriptionInactive},
		{name: "subscription already bound", setup: func(h *harness) {
			b, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "zed", Email: "zed@example.com"})
			require.NoError(h.t, err)
			_, err = h.srv.SeedBinding(b.ID, DemoHuaweiAccountID, DemoInstanceID)
			require.NoError(h.t, err)
		}, status: http.StatusConflict, code: apierror.CodeAlreadyBound},
		{name: "console username taken on the site", setup: func(h *harness) {
			_, err := h.srv.SeedAccount(AccountSeed{Site: site.AP1, Username: "ADA", Email: "other@example.com"})
			require.NoError(h.t, err)
		}, status: http.StatusConflict, code: apierror.CodeUsernameTaken},
		{name: "Billing Center username taken", setup: func(h *harness) {
			_, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "ada", Email: "other@example.com"})
			require.NoError(h.t, err)
		}, status: http.StatusConflict, code: apierror.CodeUsernameTaken},
		{name: "console email taken on the site", setup: func(h *harness) {
			_, err := h.srv.SeedAccount(AccountSeed{Site: site.AP1, Username: "other", Email: "ADA@example.com"})
			require.NoError(h.t, err)
		}, status: http.StatusConflict, code: apierror.CodeEmailTaken},
		{name: "Billing Center email taken", setup: func(h *harness) {
			_, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "other", Email: "ada@example.com"})
			require.NoError(h.t, err)
		}, status: http.StatusConflict, code: apierror.CodeEmailTaken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.addSubscription(otherHuaweiID, otherInstance)
			if tc.setup != nil {
				tc.setup(h)
			}
			code := h.sendCode("ada@example.com", billing.PurposeRegister)
			req := registerReq("ada", "ada@example.com", code)
			if tc.modify != nil {
				tc.modify(&req)
			}
			h.requireUnchanged(func() {
				r := h.do(http.MethodPost, bcPath(routes.Register), req)
				requireErr(t, r, tc.status, tc.code)
				assert.NotContains(t, r.env.Message, code.Reveal())
			})
			// The failure did not use the code up or count as a wrong attempt.
			assert.Equal(t, &codeRec{code: code.Reveal(), expiresAt: testStart.Add(codeTTL)},
				h.srv.liveCode("ada@example.com", billing.PurposeRegister))
		})
	}
}

func TestBindBillingAccount(t *testing.T) {
	h := newHarness(t)
	e := h.seedExisting("ada", "ada@example.com")
	res := h.bind("Ada", "ADA@example.com", DemoHuaweiAccountID, DemoInstanceID)
	assert.Equal(t, e.billing, res.BillingAccount)
	assert.Regexp(t, `^bctk_[0-9a-f]{32}$`, res.Token.Reveal())
	assert.Equal(t, testStart.Add(time.Hour), res.ExpiresAt.UTC())

	sub, ok := h.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
	require.True(t, ok)
	assert.True(t, sub.Bound)
	assert.Equal(t, e.billing.ID, sub.BillingAccountID)
	assert.False(t, sub.Activated(), "bound, but no workspace yet")

	// Binding the same account again is idempotent and gives a fresh token.
	h.clock.Advance(time.Minute)
	again := h.bind("ada", "ada@example.com", DemoHuaweiAccountID, DemoInstanceID)
	assert.NotEqual(t, res.Token, again.Token)
	assert.Equal(t, testStart.Add(time.Minute+time.Hour), again.ExpiresAt.UTC())
	sub2, _ := h.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
	assert.Equal(t, sub, sub2)
	// Both tokens work.
	for _, tok := range []billing.BindAccountResult{res, again} {
		h.requireOK(h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withToken(tok.Token)), nil)
	}
}

func TestBindBillingAccountRules(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(h *harness)
		modify func(r *billing.BindAccountRequest)
		status int
		code   string
	}{
		{name: "invalid request", modify: func(r *billing.BindAccountRequest) { r.HuaweiAccountID = "ABC" },
			status: http.StatusBadRequest, code: apierror.CodeValidation},
		{name: "unknown username", modify: func(r *billing.BindAccountRequest) { r.Username = "nobody" },
			status: http.StatusNotFound, code: apierror.CodeBillingAccountNotFound},
		{name: "email of another account", setup: func(h *harness) {
			h.seedExisting("bob", "bob@example.com")
		}, modify: func(r *billing.BindAccountRequest) { r.Username = "bob" },
			status: http.StatusNotFound, code: apierror.CodeBillingAccountNotFound},
		{name: "unknown subscription", modify: func(r *billing.BindAccountRequest) { r.InstanceID = "nope" },
			status: http.StatusNotFound, code: apierror.CodeSubscriptionNotFound},
		{name: "expired subscription", setup: func(h *harness) {
			require.NoError(h.t, h.srv.SetPurchaseStatus(DemoInstanceID, PurchaseExpired))
		}, status: http.StatusConflict, code: apierror.CodeSubscriptionInactive},
		{name: "bound to another account", setup: func(h *harness) {
			b, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "zed", Email: "zed@example.com"})
			require.NoError(h.t, err)
			_, err = h.srv.SeedBinding(b.ID, DemoHuaweiAccountID, DemoInstanceID)
			require.NoError(h.t, err)
		}, status: http.StatusConflict, code: apierror.CodeAlreadyBound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seedExisting("ada", "ada@example.com")
			if tc.setup != nil {
				tc.setup(h)
			}
			code := h.sendCode("ada@example.com", billing.PurposeBindBillingAccount)
			req := billing.BindAccountRequest{Username: "ada", Email: "ada@example.com", EmailCode: code,
				HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID}
			if tc.modify != nil {
				tc.modify(&req)
			}
			h.requireUnchanged(func() {
				requireErr(t, h.do(http.MethodPost, bcPath(routes.BindAccount), req), tc.status, tc.code)
			})
		})
	}
	t.Run("wrong code", func(t *testing.T) {
		h := newHarness(t)
		h.seedExisting("ada", "ada@example.com")
		code := h.sendCode("ada@example.com", billing.PurposeBindBillingAccount)
		h.requireUnchanged(func() {
			requireErr(t, h.do(http.MethodPost, bcPath(routes.BindAccount), billing.BindAccountRequest{Username: "ada",
				Email: "ada@example.com", EmailCode: wrongCode(code), HuaweiAccountID: DemoHuaweiAccountID,
				InstanceID: DemoInstanceID}), http.StatusBadRequest, apierror.CodeInvalidCode)
		})
	})
}

// listScenario seeds an existing Billing Center account whose workspaces
// cover every bindability case against the demo subscription.
type listScenario struct {
	h                                            *harness
	e                                            existing
	token                                        billing.BindAccountResult
	free, lockedByOther, frozenOther, changedNow string
	changedLastMonth, released, bound, eu, aws   string
	notMine                                      string
}

func newListScenario(t *testing.T) *listScenario {
	h := newHarness(t)
	h.addSubscription(otherHuaweiID, otherInstance)
	h.addSubscription(otherHuaweiID, secondInstance)
	_, err := h.srv.AddPurchase(Purchase{AccountID: otherHuaweiID, InstanceID: "tw-inst-frozen", Status: PurchaseFrozen})
	require.NoError(t, err)
	_, err = h.srv.AddPurchase(Purchase{AccountID: otherHuaweiID, InstanceID: "tw-inst-closed", Status: PurchaseClosed})
	require.NoError(t, err)

	sc := &listScenario{h: h, e: h.seedExisting("ada", "ada@example.com")}
	hw := func(inst string) twapi.Settlement {
		return twapi.Settlement{Method: twapi.SettlementHuaweiCloud, HuaweiAccountID: otherHuaweiID, InstanceID: inst}
	}
	sc.free = h.seedWorkspace(sc.e, "free", twapi.Settlement{}).ID
	sc.lockedByOther = h.seedWorkspace(sc.e, "locked", hw(otherInstance)).ID
	sc.frozenOther = h.seedWorkspace(sc.e, "frozen", hw("tw-inst-frozen")).ID
	sc.changedNow = h.seedWorkspace(sc.e, "changed-now", twapi.Settlement{Method: twapi.SettlementBillingCenter,
		ChangedAt: twapi.Timestamp{Time: testStart.AddDate(0, 0, -5)}}).ID
	sc.changedLastMonth = h.seedWorkspace(sc.e, "changed-last-month", twapi.Settlement{Method: twapi.SettlementBillingCenter,
		ChangedAt: twapi.Timestamp{Time: time.Date(2026, time.February, 28, 23, 59, 59, 0, time.UTC)}}).ID
	sc.released = h.seedWorkspace(sc.e, "released", hw("tw-inst-closed")).ID
	sc.bound = h.seedWorkspace(sc.e, "bound", twapi.Settlement{Method: twapi.SettlementHuaweiCloud,
		HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID}).ID
	sc.aws = h.seedWorkspace(sc.e, "aws", twapi.Settlement{Method: twapi.SettlementAWS}).ID
	euAcc, err := h.srv.SeedAccount(AccountSeed{Site: site.EU1, Username: "ada", Email: "ada@example.com"})
	require.NoError(t, err)
	euWS, err := h.srv.SeedWorkspace(WorkspaceSeed{OwnerAccountID: euAcc.ID, BillingAccountID: sc.e.billing.ID, Name: "eu"})
	require.NoError(t, err)
	sc.eu = euWS.ID
	// A workspace of the same console account that is not associated with
	// the Billing Center account is not listed.
	notMine, err := h.srv.SeedWorkspace(WorkspaceSeed{OwnerAccountID: sc.e.account.ID, Name: "personal"})
	require.NoError(t, err)
	sc.notMine = notMine.ID
	sc.token = h.bind("ada", "ada@example.com", DemoHuaweiAccountID, DemoInstanceID)
	return sc
}

func (sc *listScenario) list(query string) ([]billing.BindableWorkspace, *wireResp) {
	r := sc.h.do(http.MethodGet, bcPath(routes.ListWorkspaces)+query, nil, withToken(sc.token.Token))
	var out []billing.BindableWorkspace
	if r.status == http.StatusOK {
		sc.h.requireOK(r, &out)
	}
	return out, r
}

func TestListWorkspaces(t *testing.T) {
	sc := newListScenario(t)
	items, r := sc.list("")
	require.NotNil(t, r.env.PageInfo)
	assert.Equal(t, pageInfo(9, 1, 20, 9), *r.env.PageInfo)
	type row struct {
		ID, Reason string
		Bindable   bool
	}
	var got []row
	for _, it := range items {
		got = append(got, row{it.ID, it.Reason, it.Bindable})
		assert.Equal(t, sc.e.billing.ID, it.BillingAccountID)
	}
	assert.Equal(t, []row{
		{sc.free, "", true},
		{sc.lockedByOther, reasonLocked, false},
		{sc.frozenOther, reasonLocked, false},
		{sc.changedNow, reasonMonthlyLimit, false},
		{sc.changedLastMonth, "", true},
		{sc.released, "", true},
		{sc.bound, reasonAlreadyBound, false},
		{sc.aws, reasonLocked, false},
		{sc.eu, "", true},
	}, got, "every workspace associated with the account, in creation order; not the unassociated one")

	// Paging is stable and pageInfo describes the page.
	page2, r := sc.list("?pageIndex=2&pageSize=4")
	assert.Equal(t, pageInfo(4, 2, 4, 9), *r.env.PageInfo)
	assert.Equal(t, items[4:8], page2)
	last, r := sc.list("?pageIndex=3&pageSize=4")
	assert.Equal(t, pageInfo(1, 3, 4, 9), *r.env.PageInfo)
	assert.Equal(t, items[8:], last)
	beyond, r := sc.list("?pageIndex=9&pageSize=4")
	assert.Empty(t, beyond)
	assert.Contains(t, string(r.raw), `"content":[]`)

	euOnly, r := sc.list("?site=eu1")
	assert.Equal(t, 1, r.env.PageInfo.TotalCount)
	require.Len(t, euOnly, 1)
	assert.Equal(t, sc.eu, euOnly[0].ID)

	for _, q := range []string{"?pageSize=101", "?pageSize=-1", "?pageIndex=-1", "?pageIndex=x", "?site=mars", "?page=2"} {
		_, r := sc.list(q)
		requireErr(t, r, http.StatusBadRequest, apierror.CodeValidation)
	}
}

func pageInfo(count, index, size, total int) httpcore.PageInfo {
	return httpcore.PageInfo{Count: count, PageIndex: index, PageSize: size, TotalCount: total}
}

func TestBindWorkspace(t *testing.T) {
	sc := newListScenario(t)
	h := sc.h
	h.clock.Advance(time.Hour - time.Second) // the token still works
	bindWS := func(id string) *wireResp {
		return h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: id},
			withToken(sc.token.Token))
	}
	now := h.srv.now()
	for _, id := range []string{sc.free, sc.changedLastMonth, sc.released, sc.eu} {
		before, _ := h.srv.Workspace(id)
		var res billing.BindWorkspaceResult
		h.requireOK(bindWS(id), &res)
		assert.True(t, res.Changed)
		want := before
		want.Settlement = twapi.Settlement{Method: twapi.SettlementHuaweiCloud, HuaweiAccountID: DemoHuaweiAccountID,
			InstanceID: DemoInstanceID, ChangedAt: twapi.Timestamp{Time: now}}
		want.UpdateAt = twapi.Timestamp{Time: now}
		assert.Equal(t, want, res.Workspace)
		assert.Equal(t, h.srv.loginURL(before.Site), res.LoginURL)
		stored, _ := h.srv.Workspace(id)
		assert.Equal(t, want, stored)
	}
	sub, _ := h.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
	var ids []string
	for _, w := range sub.Workspaces {
		ids = append(ids, w.ID)
	}
	assert.Equal(t, []string{sc.free, sc.changedLastMonth, sc.released, sc.bound, sc.eu}, ids)

	var binding billing.Binding
	h.requireOK(h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withToken(sc.token.Token)), &binding)
	assert.Equal(t, billing.Binding{BillingAccount: sc.e.billing, HuaweiAccountID: DemoHuaweiAccountID,
		InstanceID: DemoInstanceID, Status: billing.StatusInUse, Workspaces: sub.Workspaces}, binding)

	// Already bound: success, nothing changes.
	h.requireUnchanged(func() {
		var res billing.BindWorkspaceResult
		h.requireOK(bindWS(sc.bound), &res)
		assert.False(t, res.Changed)
		// and binding it a second time in the month is no change either
		h.requireOK(bindWS(sc.free), &res)
		assert.False(t, res.Changed)
	})
}

func TestBindWorkspaceRules(t *testing.T) {
	sc := newListScenario(t)
	h := sc.h
	otherAccount := h.seedExisting("bob", "bob@example.com")
	othersWS := h.seedWorkspace(otherAccount, "bobs", twapi.Settlement{})
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"settled by another active subscription", billing.BindWorkspaceRequest{WorkspaceID: sc.lockedByOther}, http.StatusConflict, apierror.CodeSettlementLocked},
		{"settled by a frozen subscription", billing.BindWorkspaceRequest{WorkspaceID: sc.frozenOther}, http.StatusConflict, apierror.CodeSettlementLocked},
		{"settled by another cloud", billing.BindWorkspaceRequest{WorkspaceID: sc.aws}, http.StatusConflict, apierror.CodeSettlementLocked},
		{"settlement changed this month", billing.BindWorkspaceRequest{WorkspaceID: sc.changedNow}, http.StatusConflict, apierror.CodeSettlementChangeLimit},
		{"unknown workspace", billing.BindWorkspaceRequest{WorkspaceID: "wksp_nope"}, http.StatusNotFound, apierror.CodeWorkspaceNotFound},
		{"another account's workspace", billing.BindWorkspaceRequest{WorkspaceID: othersWS.ID}, http.StatusNotFound, apierror.CodeWorkspaceNotFound},
		{"not associated with the account", billing.BindWorkspaceRequest{WorkspaceID: sc.notMine}, http.StatusNotFound, apierror.CodeWorkspaceNotFound},
		{"missing ID", billing.BindWorkspaceRequest{}, http.StatusBadRequest, apierror.CodeValidation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.requireUnchanged(func() {
				requireErr(t, h.do(http.MethodPost, bcPath(routes.BindWorkspace), tc.body, withToken(sc.token.Token)), tc.status, tc.code)
			})
		})
	}
	t.Run("subscription no longer in use", func(t *testing.T) {
		require.NoError(t, h.srv.SetPurchaseStatus(DemoInstanceID, PurchaseFrozen))
		h.requireUnchanged(func() {
			requireErr(t, h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: sc.free},
				withToken(sc.token.Token)), http.StatusConflict, apierror.CodeSubscriptionInactive)
		})
	})
}

func TestGetBindingRequiresToken(t *testing.T) {
	h := newHarness(t)
	requireErr(t, h.do(http.MethodGet, bcPath(routes.GetBinding), nil), http.StatusUnauthorized, apierror.CodeUnauthorized)
	requireErr(t, h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withHeader("Authorization", "Basic abc")),
		http.StatusUnauthorized, apierror.CodeUnauthorized)
	r := h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withToken("bctk_00000000000000000000000000000000"))
	requireErr(t, r, http.StatusUnauthorized, apierror.CodeUnauthorized)
	assert.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")

	h.seedExisting("ada", "ada@example.com")
	tok := h.bind("ada", "ada@example.com", DemoHuaweiAccountID, DemoInstanceID).Token
	h.requireOK(h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withToken(tok)), nil)
	h.clock.Advance(time.Hour)
	r = h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withToken(tok))
	requireErr(t, r, http.StatusUnauthorized, apierror.CodeTokenExpired)
	assert.NotContains(t, r.env.Message, tok.Reveal())
}
