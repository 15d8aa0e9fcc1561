package mockserver

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// TestReleaseLocksWorkspaces: closing a purchase locks the workspaces it
// settles, moves them to Billing Center settlement and removes the binding;
// the forced change does not count toward the monthly limit, so they can be
// bound to a new subscription at once.
func TestReleaseLocksWorkspaces(t *testing.T) {
	for _, status := range []PurchaseStatus{PurchaseClosed, PurchaseExpired} {
		t.Run(string(subscriptionStatus(status)), func(t *testing.T) {
			h := newHarness(t)
			reg := h.register("ada", "ada@example.com")
			bystander := h.seedExisting("bob", "bob@example.com")
			untouched := h.seedWorkspace(bystander, "bobs", twapi.Settlement{})
			tok := h.bind("ada", "ada@example.com", DemoHuaweiAccountID, DemoInstanceID).Token

			h.clock.Advance(time.Hour / 2)
			require.NoError(t, h.srv.SetPurchaseStatus(DemoInstanceID, status))

			ws, ok := h.srv.Workspace(reg.Workspace.ID)
			require.True(t, ok)
			want := reg.Workspace
			want.IsLocked = true
			want.Settlement = twapi.Settlement{Method: twapi.SettlementBillingCenter}
			want.UpdateAt = twapi.Timestamp{Time: testStart.Add(time.Hour / 2)}
			assert.Equal(t, want, ws)
			other, _ := h.srv.Workspace(untouched.ID)
			assert.Equal(t, untouched, other, "workspaces of other subscriptions are untouched")

			sub, _ := h.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
			assert.Equal(t, billing.Subscription{HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID,
				ProductID: TrueWatchProductID, Status: subscriptionStatus(status), OwnershipProven: true,
				Workspaces: []billing.BoundWorkspace{}}, sub)

			// The old token's binding is gone: it no longer works, reads
			// included (TestTokenRoutesAfterRelease checks every route).
			h.requireUnchanged(func() {
				requireErr(t, h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withToken(tok)),
					http.StatusUnauthorized, apierror.CodeUnauthorized)
				requireErr(t, h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: ws.ID},
					withToken(tok)), http.StatusUnauthorized, apierror.CodeUnauthorized)
			})

			// A new purchase: bind the same account and the locked workspace.
			h.addSubscription(otherHuaweiID, otherInstance)
			h.clock.Advance(codeResendInterval)
			tok2 := h.bind("ada", "ada@example.com", otherHuaweiID, otherInstance).Token
			var items []billing.BindableWorkspace
			h.requireOK(h.do(http.MethodGet, bcPath(routes.ListWorkspaces), nil, withToken(tok2)), &items)
			require.Len(t, items, 1)
			assert.True(t, items[0].Bindable)
			assert.True(t, items[0].IsLocked)
			var res billing.BindWorkspaceResult
			h.requireOK(h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: ws.ID},
				withToken(tok2)), &res)
			assert.True(t, res.Changed)
			assert.False(t, res.Workspace.IsLocked, "binding unlocks the workspace")
			assert.Equal(t, otherInstance, res.Workspace.Settlement.InstanceID)
		})
	}
}

// TestFrozenDoesNotRelease: a frozen subscription keeps its binding and
// its workspaces; its token still reads, but cannot settle anything.
func TestFrozenDoesNotRelease(t *testing.T) {
	h := newHarness(t)
	reg := h.register("ada", "ada@example.com")
	tok := h.bind("ada", "ada@example.com", DemoHuaweiAccountID, DemoInstanceID).Token
	before := h.snapshot()
	require.NoError(t, h.srv.SetPurchaseStatus(DemoInstanceID, PurchaseFrozen))
	after := h.snapshot()
	assert.Equal(t, before.Workspaces, after.Workspaces)
	ws, _ := h.srv.Workspace(reg.Workspace.ID)
	assert.False(t, ws.IsLocked)
	assert.Equal(t, twapi.SettlementHuaweiCloud, ws.Settlement.Method)

	var binding billing.Binding
	h.requireOK(h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withToken(tok)), &binding)
	assert.Equal(t, billing.StatusFrozen, binding.Status)
	assert.Len(t, binding.Workspaces, 1)
	h.requireUnchanged(func() {
		requireErr(t, h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: ws.ID},
			withToken(tok)), http.StatusConflict, apierror.CodeSubscriptionInactive)
	})
}

// TestReleaseKeepsMonthlyChange: a workspace whose settlement was changed
// by request this month, then released, still cannot change again this
// month; next month it can.
func TestReleaseKeepsMonthlyChange(t *testing.T) {
	h := newHarness(t)
	h.addSubscription(otherHuaweiID, otherInstance)
	e := h.seedExisting("ada", "ada@example.com")
	ws := h.seedWorkspace(e, "prod", twapi.Settlement{})
	tok := h.bind("ada", "ada@example.com", DemoHuaweiAccountID, DemoInstanceID).Token
	h.requireOK(h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: ws.ID}, withToken(tok)), nil)
	require.NoError(t, h.srv.ReleasePurchase(DemoInstanceID))

	h.clock.Advance(codeResendInterval)
	tok2 := h.bind("ada", "ada@example.com", otherHuaweiID, otherInstance).Token
	h.requireUnchanged(func() {
		requireErr(t, h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: ws.ID},
			withToken(tok2)), http.StatusConflict, apierror.CodeSettlementChangeLimit)
	})
	// The limit is per calendar month in UTC.
	h.clock.Set(time.Date(2026, time.March, 31, 23, 30, 0, 0, time.UTC))
	tok3 := h.bind("ada", "ada@example.com", otherHuaweiID, otherInstance).Token
	bindWS := func() *wireResp {
		return h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: ws.ID}, withToken(tok3))
	}
	requireErr(t, bindWS(), http.StatusConflict, apierror.CodeSettlementChangeLimit)
	h.clock.Set(time.Date(2026, time.April, 1, 0, 0, 0, 0, time.UTC))
	var res billing.BindWorkspaceResult
	h.requireOK(bindWS(), &res)
	assert.True(t, res.Changed)
	assert.Equal(t, otherInstance, res.Workspace.Settlement.InstanceID)
}

// TestTokenOutlivesBinding: a purchase released and put back in use has no
// binding any more, so the old token cannot settle workspaces with it.
func TestTokenOutlivesBinding(t *testing.T) {
	h, _, tok := boundAccount(t)
	require.NoError(t, h.srv.ReleasePurchase(DemoInstanceID))
	require.NoError(t, h.srv.SetPurchaseStatus(DemoInstanceID, PurchaseInUse))
	code := h.sendCode("ada@example.com", billing.PurposeCreateWorkspace)
	h.requireUnchanged(func() {
		r := h.do(http.MethodPost, sitePath("ap1", routes.CreateWorkspace), createReq(code), withToken(tok))
		requireErr(t, r, http.StatusUnauthorized, apierror.CodeUnauthorized)
		assert.Contains(t, r.env.Message, "bind the Billing Center account again")
	})
}
