package truewatch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// TestResumedBindSaysWhichCodeIsValid: a run sends the bind code and the
// process dies before the bind (while the user fetches the code). The run
// that resumes it within the resend interval cannot send a new code, so it
// must not prompt as if it had: the request says that no new code was
// sent, which address holds the one that still works, and until when.
// Past the interval, it sends a fresh code.
func TestResumedBindSaysWhichCodeIsValid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after time.Duration
		fresh bool
	}{
		{"within the resend interval", 20 * time.Second, false},
		{"past the resend interval", 61 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			b := branches[1]
			b.seed(e)
			killed := errors.New("the process was killed")
			_, err := b.build(e.builder().WithCodes(func(context.Context, truewatch.CodeRequest) (secret.String, error) {
				return "", killed
			}), "").Run(context.Background())
			require.ErrorIs(t, err, killed)
			sent := e.srv.OutboxFor(adaEmail)
			require.Len(t, sent, 1, "the first run sent the bind code")
			e.clock.Advance(tc.after)

			var asked []truewatch.CodeRequest
			outbox := truewatch.CodesFromOutbox(e.srv)
			res, err := b.build(e.builder().WithCodes(func(ctx context.Context, req truewatch.CodeRequest) (secret.String, error) {
				asked = append(asked, req)
				return outbox(ctx, req)
			}), "").Run(context.Background())
			require.NoError(t, err)
			assertOneOutcome(t, e, b, res)
			require.NotEmpty(t, asked)
			first := asked[0]
			require.Equal(t, billing.PurposeBindBillingAccount, first.Purpose)
			if tc.fresh {
				assert.Len(t, e.srv.OutboxFor(adaEmail), 3, "a fresh bind code, then the create code")
				assert.False(t, first.Earlier)
				assert.Empty(t, first.Reason)
				return
			}
			assert.Len(t, e.srv.OutboxFor(adaEmail), 2, "no new bind code; the create code")
			assert.True(t, first.Earlier, "the code to enter was sent by the earlier run")
			assert.Contains(t, first.Reason, "no new code was sent")
			assert.Contains(t, first.Reason, adaEmail)
			assert.Contains(t, first.Reason, "still valid")
			assert.Equal(t, sent[0].SentAt.Add(10*time.Minute).UTC(), first.ExpiresAt.UTC(), "valid until the first code expires")
		})
	}
}

// TestFrozenActivatedSubscriptionSaysSo: a check (and a branch) on an
// activated subscription that Huawei froze still reports it activated, but
// the Plan and the Result carry the subscription's status and a note says
// what it means; in use, no such note.
func TestFrozenActivatedSubscriptionSaysSo(t *testing.T) {
	e, b, done := registered(t)
	assert.Equal(t, billing.StatusInUse, done.SubscriptionStatus)
	plan, err := e.checker().Plan(context.Background())
	require.NoError(t, err)
	assert.Equal(t, billing.StatusInUse, plan.SubscriptionStatus)
	assert.NotContains(t, plan.String(), "frozen")

	require.NoError(t, e.srv.SetPurchaseStatus(mockserver.DemoInstanceID, mockserver.PurchaseFrozen))
	// The look-up of the instance finds active purchases only, and says
	// why it found none; with the instance given, the subscription speaks.
	_, err = e.checker().Plan(context.Background())
	require.ErrorContains(t, err, "frozen")
	inst := mockserver.DemoInstanceID
	for name, a := range map[string]*truewatch.Activation{
		"check": e.checker().WithInstanceID(inst), "branch": b.build(e.builder().WithInstanceID(inst), ""),
	} {
		t.Run(name, func(t *testing.T) {
			plan, err := a.Plan(context.Background())
			require.NoError(t, err)
			assert.True(t, plan.AlreadyActivated)
			assert.Equal(t, billing.StatusFrozen, plan.SubscriptionStatus)
			assert.Contains(t, plan.String(), "frozen")
			assert.Contains(t, plan.String(), "cannot be used until Huawei unfreezes it")

			res, err := a.Run(context.Background())
			require.NoError(t, err)
			assert.True(t, res.AlreadyActivated)
			assert.Equal(t, done.WorkspaceID, res.WorkspaceID)
			assert.Equal(t, billing.StatusFrozen, res.SubscriptionStatus)
			assert.Equal(t, plan.Notes, res.Notes)
		})
	}
}

// TestAnotherAccountOnActivatedSubscription: naming another Billing Center
// account than the one an activated subscription is bound to is refused,
// before any change, with an error naming the bound account, which the
// Billing Center tells only the proven owner of the Huawei account.
func TestAnotherAccountOnActivatedSubscription(t *testing.T) {
	e, _, done := registered(t)
	_, err := e.srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "bob", Email: "bob@example.com"})
	require.NoError(t, err)
	other := registerInfo()
	other.Username, other.Email = "bob_new", "bob.new@example.com"
	for name, a := range map[string]*truewatch.Activation{
		"bind":     e.builder().BindBillingAccount("bob", "bob@example.com").BindWorkspaceByName("prod"),
		"register": e.builder().Register(other),
	} {
		t.Run(name, func(t *testing.T) {
			before := e.state()
			for _, call := range []func() error{
				func() error { _, err := a.Plan(context.Background()); return err },
				func() error { _, err := a.Run(context.Background()); return err },
			} {
				err := call()
				require.ErrorIs(t, err, truewatch.ErrBoundElsewhere)
				var be *truewatch.BoundElsewhereError
				require.ErrorAs(t, err, &be)
				assert.Equal(t, "ada", be.BoundUsername)
				assert.Equal(t, done.BillingAccount.ID, be.BoundAccountID)
				assert.True(t, be.Activated)
				assert.Contains(t, err.Error(), `"ada"`)
			}
			assert.Equal(t, before, e.state(), "nothing changed, no code sent")
		})
	}
	// The same account, spelled in another case, is the bound one.
	res, err := e.builder().BindBillingAccount("ADA", adaEmail).BindWorkspaceByName("prod").Run(context.Background())
	require.NoError(t, err)
	assert.True(t, res.AlreadyActivated)
}

// registered is an environment whose demo subscription the register branch
// activated, the branch and its result.
func registered(t *testing.T) (*env, branch, *truewatch.Result) {
	e := newEnv(t)
	b := branches[0]
	b.seed(e)
	res, err := b.build(e.builder(), "").Run(context.Background())
	require.NoError(t, err)
	return e, b, res
}
