package mockserver

import (
	"encoding/json"
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

// TestReleaseLocksWorkspaces: closing or expiring a purchase starts the
// 14-day grace period of the workspaces it settles; they keep working
// (settled, unlocked) until its last second, then lock and fall back to
// Billing Center settlement; a released subscription loses its binding
// then, an expired one keeps it (a renewal can settle workspaces again).
// The forced change does not count toward the monthly limit, so the
// workspaces can be bound to a new subscription at once.
func TestReleaseLocksWorkspaces(t *testing.T) {
	for _, status := range []PurchaseStatus{PurchaseClosed, PurchaseExpired} {
		t.Run(string(subscriptionStatus(status)), func(t *testing.T) {
			h := newHarness(t, WithTokenTTL(30*24*time.Hour))
			reg := h.register("ada", "ada@example.com")
			bystander := h.seedExisting("bob", "bob@example.com")
			untouched := h.seedWorkspace(bystander, "bobs", twapi.Settlement{})
			tok := h.bind("ada", "ada@example.com", DemoHuaweiAccountID, DemoInstanceID).Token

			h.clock.Advance(time.Hour / 2)
			released := testStart.Add(time.Hour / 2)
			require.NoError(t, h.srv.SetPurchaseStatus(DemoInstanceID, status))

			// In grace: nothing is locked yet.
			ws, _ := h.srv.Workspace(reg.Workspace.ID)
			assert.Equal(t, reg.Workspace, ws, "the workspace works during the grace period")
			sub, _ := h.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
			assert.Equal(t, subscriptionStatus(status), sub.Status)
			assert.False(t, sub.Active)
			assert.True(t, sub.Bound)
			assert.Len(t, sub.Workspaces, 1)
			assert.Equal(t, released.Add(DefaultGracePeriod), sub.GraceUntil.Time)
			h.clock.Advance(DefaultGracePeriod - time.Second)
			ws, _ = h.srv.Workspace(reg.Workspace.ID)
			assert.False(t, ws.IsLocked, "still in grace a second before it ends")

			h.clock.Advance(time.Second)
			ws, ok := h.srv.Workspace(reg.Workspace.ID)
			require.True(t, ok)
			want := reg.Workspace
			want.IsLocked = true
			want.Settlement = twapi.Settlement{Method: twapi.SettlementBillingCenter}
			want.UpdateAt = twapi.Timestamp{Time: released.Add(DefaultGracePeriod)}
			assert.Equal(t, want, ws)
			other, _ := h.srv.Workspace(untouched.ID)
			assert.Equal(t, untouched, other, "workspaces of other subscriptions are untouched")

			sub, _ = h.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
			assert.Empty(t, sub.Workspaces)
			assert.True(t, sub.GraceUntil.IsZero(), "the grace period is over")
			assert.Equal(t, status == PurchaseExpired, sub.Bound, "a released subscription loses its binding, an expired one keeps it")

			// A released subscription's binding is gone: the old token no
			// longer works, reads included (TestTokenRoutesAfterRelease
			// checks every route). An expired one keeps its binding: the
			// token reads, but settles nothing until a renewal.
			h.requireUnchanged(func() {
				if status == PurchaseClosed {
					requireErr(t, h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withToken(tok)),
						http.StatusUnauthorized, apierror.CodeUnauthorized)
					requireErr(t, h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: ws.ID},
						withToken(tok)), http.StatusUnauthorized, apierror.CodeUnauthorized)
					return
				}
				var binding billing.Binding
				h.requireOK(h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withToken(tok)), &binding)
				assert.Equal(t, billing.StatusExpired, binding.Status)
				assert.Empty(t, binding.Workspaces)
				requireErr(t, h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: ws.ID},
					withToken(tok)), http.StatusConflict, apierror.CodeSubscriptionInactive)
			})

			// A new purchase: bind the same account and the locked workspace.
			h.addSubscription(otherHuaweiID, otherInstance)
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

// TestGraceSettledByOtherSubscription: during the grace period a workspace
// of an expired subscription may be bound to another subscription; the
// grace's end then leaves it alone.
func TestGraceSettledByOtherSubscription(t *testing.T) {
	h := newHarness(t, WithTokenTTL(30*24*time.Hour))
	reg := h.register("ada", "ada@example.com")
	require.NoError(t, h.srv.SetPurchaseStatus(DemoInstanceID, PurchaseExpired))
	h.addSubscription(otherHuaweiID, otherInstance)
	h.clock.Advance(codeResendInterval)
	tok := h.bind("ada", "ada@example.com", otherHuaweiID, otherInstance).Token
	h.clock.Set(time.Date(2026, time.April, 1, 0, 0, 0, 0, time.UTC)) // the registration's settlement change was this month
	var res billing.BindWorkspaceResult
	h.requireOK(h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: reg.Workspace.ID},
		withToken(tok)), &res)
	require.True(t, res.Changed)
	h.clock.Advance(DefaultGracePeriod)
	ws, _ := h.srv.Workspace(reg.Workspace.ID)
	assert.False(t, ws.IsLocked)
	assert.Equal(t, otherInstance, ws.Settlement.InstanceID)
}

// TestUnlockWorkspace: a locked workspace is unlocked on Billing Center
// settlement, over the control plane as in Go; an unknown one is a 404
// naming it; unlocking twice changes nothing more.
func TestUnlockWorkspace(t *testing.T) {
	h := newHarness(t)
	reg := h.register("ada", "ada@example.com")
	release(t, h.srv, DemoInstanceID)
	h.clock.Advance(DefaultGracePeriod)
	locked, _ := h.srv.Workspace(reg.Workspace.ID)
	require.True(t, locked.IsLocked)

	h.clock.Advance(time.Hour)
	status, raw := h.control(http.MethodPost, "/_mock/workspaces/"+reg.Workspace.ID+"/unlock", nil)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	var ws twapi.Workspace
	require.NoError(t, json.Unmarshal(raw, &ws))
	assert.False(t, ws.IsLocked)
	assert.Equal(t, twapi.SettlementBillingCenter, ws.Settlement.Method)
	assert.Equal(t, testStart.Add(DefaultGracePeriod+time.Hour), ws.UpdateAt.Time)
	got, _ := h.srv.Workspace(reg.Workspace.ID)
	assert.Equal(t, ws, got)

	again, err := h.srv.UnlockWorkspace(reg.Workspace.ID)
	require.NoError(t, err)
	assert.Equal(t, ws, again)
	status, raw = h.control(http.MethodPost, "/_mock/workspaces/wksp_nope/unlock", nil)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, string(raw), "wksp_nope")
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
	release(t, h.srv, DemoInstanceID)

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

// TestTokenOutlivesBinding: a purchase released past its grace period and
// put back in use has no binding any more, so the old token cannot settle
// workspaces with it.
func TestTokenOutlivesBinding(t *testing.T) {
	h, _, tok := boundAccount(t, WithTokenTTL(30*24*time.Hour))
	release(t, h.srv, DemoInstanceID)
	h.clock.Advance(DefaultGracePeriod)
	require.NoError(t, h.srv.SetPurchaseStatus(DemoInstanceID, PurchaseInUse))
	code := h.sendCode("ada@example.com", billing.PurposeCreateWorkspace)
	h.requireUnchanged(func() {
		r := h.do(http.MethodPost, sitePath("ap1", routes.CreateWorkspace), createReq(code), withToken(tok))
		requireErr(t, r, http.StatusUnauthorized, apierror.CodeUnauthorized)
		assert.Contains(t, r.env.Message, "bind the Billing Center account again")
	})
}
