package mockserver

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// clients are the typed clients of this module pointed at one mock, with a
// retry policy that records waits instead of sleeping.
type clients struct {
	h     *harness
	bc    *billing.Client
	ws    *workspace.Client
	waits *[]time.Duration
}

func newClients(t *testing.T, opts ...Option) *clients {
	h := newHarness(t, opts...)
	var waits []time.Duration
	policy := retry.Policy{MaxRetries: 3, NoJitter: true, Sleep: func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}}
	bc, err := h.srv.BillingClient(billing.WithRetryPolicy(policy), billing.WithOwnershipProver(h.prover(DemoHuaweiAccountID)))
	require.NoError(t, err)
	ws, err := h.srv.WorkspaceClient(workspace.WithRetryPolicy(policy))
	require.NoError(t, err)
	return &clients{h: h, bc: bc, ws: ws, waits: &waits}
}

func (c *clients) code(t *testing.T, email string, p billing.Purpose) secret.String {
	t.Helper()
	_, err := c.bc.SendVerificationCode(t.Context(), &billing.SendCodeRequest{Email: email, Purpose: p})
	require.NoError(t, err)
	code, ok := c.h.srv.LatestCode(email, p)
	require.True(t, ok)
	return secret.String(code)
}

// TestClientsNewUser drives the "no Billing Center account" path through
// the typed clients: Register, then read the subscription.
func TestClientsNewUser(t *testing.T) {
	c := newClients(t)
	ctx := t.Context()
	sub, err := c.bc.GetSubscription(ctx, DemoHuaweiAccountID, DemoInstanceID)
	require.NoError(t, err)
	assert.True(t, sub.Active)
	assert.False(t, sub.Activated())

	req := registerReq("ada", "ada@example.com", c.code(t, "ada@example.com", billing.PurposeRegister))
	res, err := c.bc.Register(ctx, &req)
	require.NoError(t, err)
	assert.Equal(t, site.AP1, res.Workspace.Site)
	assert.Equal(t, c.h.srv.Workspaces(), []twapi.Workspace{res.Workspace})

	sub, err = c.bc.GetSubscription(ctx, DemoHuaweiAccountID, DemoInstanceID)
	require.NoError(t, err)
	assert.True(t, sub.Activated())
	assert.Equal(t, res.LoginURL, sub.LoginURL)

	// Registering again on the same subscription: bound already.
	c.h.addSubscription(otherHuaweiID, otherInstance)
	req2 := registerReq("bob", "bob@example.com", c.code(t, "bob@example.com", billing.PurposeRegister))
	_, err = c.bc.Register(ctx, &req2)
	assert.ErrorIs(t, err, apierror.ErrAlreadyBound)
	req2.InstanceID, req2.HuaweiAccountID, req2.Username = otherInstance, otherHuaweiID, "ada"
	_, err = c.bc.Register(ctx, &req2)
	assert.ErrorIs(t, err, apierror.ErrProofAccountMismatch, "the client's prover proves the demo account, not this one")
	_, err = c.bc.Register(ctx, &req2, billing.WithOwnershipProof(c.h.prover(otherHuaweiID)))
	assert.ErrorIs(t, err, apierror.ErrNameTaken)
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, apierror.CodeUsernameTaken, apiErr.ErrorCode)
	assert.NotEmpty(t, apiErr.TraceID)
	assert.NotEmpty(t, apiErr.RequestID)

	_, err = c.bc.GetSubscription(ctx, DemoHuaweiAccountID, "tw-inst-missing")
	assert.ErrorIs(t, err, apierror.ErrNotFound)
}

// TestClientsExistingAccount drives the "existing Billing Center account"
// path: bind the account, list, bind a workspace, create workspaces on two
// sites, read them back.
func TestClientsExistingAccount(t *testing.T) {
	c := newClients(t)
	ctx := t.Context()
	h := c.h
	h.addSubscription(otherHuaweiID, otherInstance)
	e := h.seedExisting("ada", "ada@example.com")
	free := h.seedWorkspace(e, "free", twapi.Settlement{})
	locked := h.seedWorkspace(e, "locked", twapi.Settlement{Method: twapi.SettlementHuaweiCloud,
		HuaweiAccountID: otherHuaweiID, InstanceID: otherInstance})
	changed := h.seedWorkspace(e, "changed", twapi.Settlement{Method: twapi.SettlementBillingCenter,
		ChangedAt: twapi.Timestamp{Time: testStart.Add(-time.Hour)}})

	bound, err := c.bc.BindBillingAccount(ctx, &billing.BindAccountRequest{Username: "ada", Email: "ada@example.com",
		EmailCode: c.code(t, "ada@example.com", billing.PurposeBindBillingAccount), HuaweiAccountID: DemoHuaweiAccountID,
		InstanceID: DemoInstanceID})
	require.NoError(t, err)
	tok := bound.Token

	items, page, err := c.bc.ListBindableWorkspaces(ctx, tok, &billing.ListOptions{PageSize: 2})
	require.NoError(t, err)
	assert.Equal(t, twapi.PageInfo{Count: 2, PageIndex: 1, PageSize: 2, TotalCount: 3}, *page)
	assert.Equal(t, []string{free.ID, locked.ID}, []string{items[0].ID, items[1].ID})
	var all []billing.BindableWorkspace
	for it, err := range c.bc.AllBindableWorkspaces(ctx, tok, &billing.ListOptions{PageSize: 1}) {
		require.NoError(t, err)
		all = append(all, it)
	}
	require.Len(t, all, 3)
	assert.Equal(t, []bool{true, false, false}, []bool{all[0].Bindable, all[1].Bindable, all[2].Bindable})

	res, err := c.bc.BindWorkspace(ctx, tok, &billing.BindWorkspaceRequest{WorkspaceID: free.ID})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	res, err = c.bc.BindWorkspace(ctx, tok, &billing.BindWorkspaceRequest{WorkspaceID: free.ID})
	require.NoError(t, err)
	assert.False(t, res.Changed)
	_, err = c.bc.BindWorkspace(ctx, tok, &billing.BindWorkspaceRequest{WorkspaceID: locked.ID})
	assert.ErrorIs(t, err, apierror.ErrAlreadyBound)
	_, err = c.bc.BindWorkspace(ctx, tok, &billing.BindWorkspaceRequest{WorkspaceID: changed.ID})
	assert.ErrorIs(t, err, apierror.ErrConflict)
	_, err = c.bc.BindWorkspace(ctx, tok, &billing.BindWorkspaceRequest{WorkspaceID: "wksp_missing"})
	assert.ErrorIs(t, err, apierror.ErrNotFound)

	created, err := c.ws.CreateWorkspace(ctx, tok, &workspace.CreateWorkspaceRequest{Name: "staging",
		Language: twapi.LanguageEN, Site: site.AP1, Email: "ada@example.com",
		EmailCode: c.code(t, "ada@example.com", billing.PurposeCreateWorkspace), TermsAccepted: true})
	require.NoError(t, err)
	assert.Equal(t, e.account.ID, created.Workspace.OwnerAccountID)

	h.clock.Advance(codeResendInterval)
	_, err = c.ws.CreateWorkspace(ctx, tok, &workspace.CreateWorkspaceRequest{Name: "staging",
		Language: twapi.LanguageEN, Site: site.AP1, Email: "ada@example.com",
		EmailCode: c.code(t, "ada@example.com", billing.PurposeCreateWorkspace), TermsAccepted: true})
	assert.ErrorIs(t, err, apierror.ErrNameTaken)
	h.clock.Advance(codeResendInterval)
	_, err = c.ws.CreateWorkspace(ctx, tok, &workspace.CreateWorkspaceRequest{Name: "staging",
		Language: twapi.LanguageEN, Site: site.EU1, Email: "ada@example.com",
		EmailCode: c.code(t, "ada@example.com", billing.PurposeCreateWorkspace), TermsAccepted: true})
	assert.ErrorIs(t, err, apierror.ErrNotFound, "no console account on eu1")

	req := registerCreateReq(c.code(t, "grace@example.com", billing.PurposeCreateWorkspace))
	req.Site = site.EU1
	rc, err := c.ws.RegisterAndCreate(ctx, tok, &req)
	require.NoError(t, err)
	assert.Equal(t, site.EU1, rc.Workspace.Site)

	got, err := c.ws.GetWorkspace(ctx, tok, site.EU1, rc.Workspace.ID)
	require.NoError(t, err)
	assert.Equal(t, rc.Workspace, *got)
	_, err = c.ws.GetWorkspace(ctx, tok, site.AP1, rc.Workspace.ID)
	assert.ErrorIs(t, err, apierror.ErrNotFound)

	binding, err := c.bc.GetBinding(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, billing.StatusInUse, binding.Status)
	assert.Len(t, binding.Workspaces, 3)
	assert.Equal(t, e.billing, binding.BillingAccount)

	h.clock.Advance(time.Hour)
	_, err = c.bc.GetBinding(ctx, tok)
	assert.ErrorIs(t, err, apierror.ErrUnauthorized)
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, apierror.CodeTokenExpired, apiErr.ErrorCode)
}

// TestClientsCodeErrors: the client sees the code rules as sentinels.
func TestClientsCodeErrors(t *testing.T) {
	c := newClients(t)
	ctx := t.Context()
	code := c.code(t, "ada@example.com", billing.PurposeRegister)
	_, err := c.bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister})
	assert.ErrorIs(t, err, apierror.ErrResendTooSoon)
	assert.Empty(t, *c.waits, "a resend refusal is not retried")

	req := registerReq("ada", "ada@example.com", wrongCode(code))
	_, err = c.bc.Register(ctx, &req)
	assert.ErrorIs(t, err, apierror.ErrInvalidCode)
	assert.NotContains(t, err.Error(), code.Reveal())
	c.h.clock.Advance(codeTTL)
	req.EmailCode = code
	_, err = c.bc.Register(ctx, &req)
	assert.ErrorIs(t, err, apierror.ErrCodeExpired)
	assert.Empty(t, c.h.srv.Accounts())
}

// TestClientsRetryLostResponse: a response lost after the work was done is
// retried by the client with the same Idempotency-Key, and the mock replays
// the stored answer: one registration, not two.
func TestClientsRetryLostResponse(t *testing.T) {
	c := newClients(t)
	_, err := c.h.srv.InjectFault(Fault{Path: bcPath(routes.Register), AfterHandler: true,
		Status: http.StatusServiceUnavailable, RetryAfter: 2 * time.Second})
	require.NoError(t, err)
	req := registerReq("ada", "ada@example.com", c.code(t, "ada@example.com", billing.PurposeRegister))
	var info twapi.CallInfo
	res, err := c.bc.Register(t.Context(), &req, billing.WithCallInfo(&info))
	require.NoError(t, err)
	assert.True(t, info.Replayed)
	assert.Equal(t, 2, info.Attempts)
	assert.Equal(t, []time.Duration{2 * time.Second}, *c.waits)
	assert.Equal(t, []twapi.Account{res.Account}, c.h.srv.Accounts())
}

// TestClientsRateLimit: the mock's rate limit is HTTP 401 with
// ft.TriggerApiAkCurrentLimiting and Retry-After, which the clients retry.
func TestClientsRateLimit(t *testing.T) {
	c := newClients(t, WithRateLimit(1))
	c.h.clock.Set(testStart.Add(50 * time.Second))
	_, err := c.bc.GetSubscription(t.Context(), DemoHuaweiAccountID, DemoInstanceID)
	require.NoError(t, err)
	// The client's retry waits (recorded, not slept) do not move the mock's
	// clock, so every retry is limited too.
	_, err = c.bc.GetSubscription(t.Context(), DemoHuaweiAccountID, DemoInstanceID)
	assert.ErrorIs(t, err, apierror.ErrRateLimited)
	assert.False(t, errors.Is(err, apierror.ErrUnauthorized))
	assert.Equal(t, []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second}, *c.waits)
}
