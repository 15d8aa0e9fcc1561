package truewatch_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// mockState is everything a check could change in the mock.
type mockState struct {
	Accounts        []twapi.Account
	BillingAccounts []billing.BillingAccount
	Workspaces      []twapi.Workspace
	Subscription    billing.Subscription
	Outbox          []mockserver.Email
	Purchases       []mockserver.Purchase
}

func (e *env) state() mockState {
	sub, ok := e.srv.Subscription(mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	require.True(e.t, ok)
	return mockState{e.srv.Accounts(), e.srv.BillingAccounts(), e.srv.Workspaces(), sub, e.srv.Outbox(), e.srv.Purchases()}
}

func TestCheckOnlyActivatedAgainstMock(t *testing.T) {
	for _, b := range branches {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t)
			wsID := b.seed(e)
			_, err := b.build(e.builder(), wsID).Run(context.Background())
			require.NoError(t, err)
			// The already-bound answer of the branch itself.
			bound, err := b.build(e.builder(), wsID).Run(context.Background())
			require.NoError(t, err)
			before := e.state()

			plan, err := e.checker().Plan(context.Background())
			require.NoError(t, err)
			assert.Equal(t, truewatch.BranchCheck, plan.Branch)
			assert.True(t, plan.AlreadyActivated)
			assert.Empty(t, plan.ChangeSteps())

			res, err := e.checker().Run(context.Background())
			require.NoError(t, err)
			assert.Equal(t, truewatch.BranchCheck, res.Branch)
			assert.True(t, res.AlreadyActivated)
			assert.Equal(t, bound.BillingAccount, res.BillingAccount)
			assert.Equal(t, bound.WorkspaceID, res.WorkspaceID)
			assert.Equal(t, bound.Workspaces, res.Workspaces)
			assert.Equal(t, bound.Site, res.Site)
			assert.Equal(t, bound.LoginURL, res.LoginURL)
			assert.NotEmpty(t, res.LoginURL)
			assert.Equal(t, plan.Steps, res.Steps)
			assert.Equal(t, before, e.state(), "a check changes nothing")
			cp, err := e.store.Load(context.Background(), res.ActivationID)
			require.NoError(t, err)
			assert.Nil(t, cp, "a check saves no checkpoint")
		})
	}
}

func TestCheckOnlyNotActivatedAgainstMock(t *testing.T) {
	e := newEnv(t)
	e.seedBillingAccount()
	before := e.state()

	_, planErr := e.checker().Plan(context.Background())
	_, runErr := e.checker().Run(context.Background())
	for _, err := range []error{planErr, runErr} {
		require.ErrorIs(t, err, truewatch.ErrNeedsBranch)
		var nb *truewatch.NeedsBranchError
		require.ErrorAs(t, err, &nb)
		assert.Contains(t, nb.Branches, truewatch.BranchRegister)
		assert.False(t, nb.Subscription.Bound)
		assert.Equal(t, mockserver.DemoInstanceID, nb.Subscription.InstanceID)
		assert.Contains(t, err.Error(), "choose Register")
	}
	assert.Equal(t, before, e.state(), "nothing changed, no code sent")
	for _, ev := range e.events {
		assert.NotEqual(t, truewatch.CodeRequested, ev.Type)
	}
	// A check saves no checkpoint, not even to record that it found no
	// branch chosen.
	for cp, err := range e.store.List(context.Background(), truewatch.ListFilter{}) {
		t.Errorf("a check saved a checkpoint: %+v, %v", cp, err)
	}
}

func TestCheckOnlyHalfDoneAgainstMock(t *testing.T) {
	e := newEnv(t)
	ba := e.seedBillingAccount()
	e.seedAccount("us1")
	_, err := e.srv.SeedBinding(ba.ID, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	require.NoError(t, err)
	before := e.state()
	require.True(t, before.Subscription.Bound)

	_, err = e.checker().Run(context.Background())
	var nb *truewatch.NeedsBranchError
	require.ErrorAs(t, err, &nb)
	assert.NotContains(t, nb.Branches, truewatch.BranchRegister, "a bound account cannot register again")
	assert.Contains(t, nb.Branches, truewatch.BranchCreateWorkspace)
	assert.Contains(t, err.Error(), `finish with BindBillingAccount("ada", email)`)
	assert.Equal(t, before, e.state())

	// Doing what the error says finishes the activation, and the check
	// then reports it.
	b := branches[1]
	done, err := b.build(e.builder(), "").Run(context.Background())
	require.NoError(t, err)
	res, err := e.checker().Run(context.Background())
	require.NoError(t, err)
	assert.True(t, res.AlreadyActivated)
	assert.Equal(t, done.WorkspaceID, res.WorkspaceID)
	assert.Equal(t, ba.ID, res.BillingAccount.ID)
}

// TestRefusedResendWaitsRetryAfterAgainstMock makes the Billing Center
// refuse a new code with a Retry-After: the activation waits exactly that
// long (through the ManualClock given to WithClock, which the mock shares)
// and sends again.
func TestRefusedResendWaitsRetryAfterAgainstMock(t *testing.T) {
	e := newEnv(t)
	_, err := e.srv.InjectFault(mockserver.Fault{Path: sendPath, Skip: 1, Status: http.StatusTooManyRequests,
		ErrorCode: apierror.CodeCodeResendTooSoon, RetryAfter: 37 * time.Second})
	require.NoError(t, err)
	outbox := truewatch.CodesFromOutbox(e.srv)
	codes := func(ctx context.Context, req truewatch.CodeRequest) (secret.String, error) {
		if req.Attempt == 1 {
			e.clock.Advance(11 * time.Minute) // the first code expires before it is used
		}
		return outbox(ctx, req)
	}
	res, err := e.builder().WithCodes(codes).Register(registerInfo()).Run(context.Background())
	require.NoError(t, err)
	assertOneOutcome(t, e, branches[0], res)
	var waits []time.Duration
	for _, ev := range e.events {
		if ev.Type == truewatch.Retrying && ev.Step == truewatch.StepRegister {
			waits = append(waits, ev.Wait)
		}
	}
	assert.Equal(t, []time.Duration{37 * time.Second}, waits, "waited the server's Retry-After, not the 60 s interval")
	assert.Equal(t, []int{1}, e.srv.FaultHits())
	assert.Len(t, e.srv.OutboxFor(adaEmail), 2)
}
