package truewatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// byIDs is a builder for the demo purchase that knows only its IDs: no
// Huawei credentials, no prover.
func (e *env) byIDs() *truewatch.Activation {
	noSleep := func(context.Context, time.Duration) error { return nil }
	return truewatch.NewActivation().
		WithBillingURL(e.srv.BillingURL()).
		WithSiteEndpoints(e.srv.SiteEndpoints()).
		WithHTTPClient(e.srv.HTTPClient()).
		WithRetryPolicy(retry.Policy{MaxRetries: 2, NoJitter: true, Sleep: noSleep}).
		WithHuaweiAccountID(mockserver.DemoHuaweiAccountID).
		WithInstanceID(mockserver.DemoInstanceID).
		WithStore(e.store).WithClock(e.clock).
		WithCodes(truewatch.CodesFromOutbox(e.srv))
}

// TestIDsAloneChangeNothing: with the account and instance IDs given by
// hand and no way to prove ownership, every branch is refused before any
// call, Plan reads what it can, and a check says what it may.
func TestIDsAloneChangeNothing(t *testing.T) {
	for _, b := range branches {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t)
			wsID := b.seed(e)
			before, files := e.state(), e.checkpointFiles()
			_, err := b.build(e.byIDs().WithSite(truewatch.SiteUS1), wsID).Run(context.Background())
			var pe *truewatch.OwnershipProofError
			require.ErrorAs(t, err, &pe)
			assert.ErrorIs(t, err, truewatch.ErrOwnershipUnproven)
			assert.ErrorIs(t, err, apierror.ErrProofRequired)
			assert.Equal(t, mockserver.DemoInstanceID, pe.InstanceID)
			assert.Contains(t, err.Error(), "WithHuaweiCredentials")
			assert.Equal(t, before, e.state(), "nothing changed, no code sent")
			assert.Equal(t, files, e.checkpointFiles(), "no checkpoint")

			plan, err := b.build(e.byIDs().WithSite(truewatch.SiteUS1), wsID).Plan(context.Background())
			require.NoError(t, err, "Plan reads what it can")
			assert.False(t, plan.OwnershipProven)
			assert.Empty(t, plan.ChangeSteps(), "the binding is unknown, so nothing is planned")
			assert.Contains(t, strings.Join(plan.Notes, "\n"), "no proof of ownership")
			assert.Equal(t, before, e.state())
		})
	}

	e := newEnv(t)
	_, err := e.byIDs().Run(context.Background())
	var pe *truewatch.OwnershipProofError
	require.ErrorAs(t, err, &pe, "a check cannot tell whether it is activated")
	require.NotNil(t, pe.Subscription)
	assert.True(t, pe.Subscription.Active, "but it does say the subscription is in use")
	var se *truewatch.StepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, truewatch.StepCheckSubscription, se.Step)

	require.NoError(t, e.srv.SetPurchaseStatus(mockserver.DemoInstanceID, mockserver.PurchaseExpired))
	_, err = e.byIDs().Run(context.Background())
	assert.ErrorIs(t, err, truewatch.ErrSubscriptionInactive)
}

// TestOwnershipProverSeam: a prover other than the Huawei client (here the
// mock's own, for the demo account) proves ownership for an activation
// that knows only the IDs.
func TestOwnershipProverSeam(t *testing.T) {
	e := newEnv(t)
	res, err := e.byIDs().WithSite(truewatch.SiteUS1).Register(registerInfo()).
		WithOwnershipProver(e.srv.OwnershipProver(mockserver.DemoHuaweiAccountID)).Run(context.Background())
	require.NoError(t, err)
	assertOneOutcome(t, e, branches[0], res)
	_, err = truewatch.NewActivation().WithOwnershipProver(nil).Plan(context.Background())
	assert.ErrorIs(t, err, apierror.ErrValidation)
}

// TestCredentialsOfAnotherAccountChangeNothing: keys of one Huawei account
// do not activate another's subscription.
func TestCredentialsOfAnotherAccountChangeNothing(t *testing.T) {
	e := newEnv(t)
	const other, otherAK = "7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e", "OTHERAKPROOF0001"
	require.NoError(t, e.srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: other,
		Keys: []mockserver.AccessKey{{AK: otherAK, SK: "other-sk"}}}))
	before := e.state()
	_, err := e.builder().WithHuaweiCredentials(otherAK, "other-sk").
		WithHuaweiAccountID(mockserver.DemoHuaweiAccountID).WithInstanceID(mockserver.DemoInstanceID).
		Register(registerInfo()).Run(context.Background())
	assert.ErrorIs(t, err, apierror.ErrProofAccountMismatch)
	assert.ErrorIs(t, err, apierror.ErrOwnershipProof)
	assert.Equal(t, before, e.state())
}

// TestResumeInAnotherProcessSendsTheSameKeys: the key secret is in the
// checkpoint before the first key is sent, so a run in another process
// with the same store replays the first one's lost answer.
func TestResumeInAnotherProcessSendsTheSameKeys(t *testing.T) {
	e := newEnv(t)
	b := branches[1]
	b.seed(e)
	e.failRun(b.build(e.builder(), ""), mockserver.Fault{Path: bindPath, AfterHandler: true})
	planned := e.plannedKey(b.build(e.builder(), ""), truewatch.StepBindBillingAccount)

	res, err := b.build(e.builder(), "").Run(context.Background())
	require.NoError(t, err)
	assertOneOutcome(t, e, b, res)
	bind := changeSteps(res.Steps)[0]
	assert.Equal(t, truewatch.StepBindBillingAccount, bind.Name)
	assert.Equal(t, planned, bind.IdempotencyKey)
	assert.True(t, bind.Replayed, "the first run's binding is replayed, not repeated")

	raw, err := os.ReadFile(filepath.Join(e.dir, res.ActivationID+".json"))
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"keySecret": "`+keySecretOf(t, e.store, res.ActivationID)+`"`,
		"the FileStore keeps the secret, in its 0600 file")
	info, err := os.Stat(filepath.Join(e.dir, res.ActivationID+".json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

// TestVersion1CheckpointGoesOnUnderNewKeys: a checkpoint written before
// keys had a secret is taken over, with a secret of its own.
func TestVersion1CheckpointGoesOnUnderNewKeys(t *testing.T) {
	e := newEnv(t)
	b := branches[1]
	b.seed(e)
	plan, err := b.build(e.builder(), "").Plan(context.Background())
	require.NoError(t, err)
	v1 := map[string]any{"version": 1, "activationId": plan.ActivationID, "huaweiAccountId": plan.HuaweiAccountID,
		"instanceId": plan.InstanceID, "site": "us1", "branch": plan.Branch, "steps": []any{}, "completed": false,
		"updatedAt": time.Now().UTC()}
	raw, err := json.Marshal(v1)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, plan.ActivationID+".json"), raw, 0o600))

	res, err := b.build(e.builder(), "").Run(context.Background())
	require.NoError(t, err)
	assertOneOutcome(t, e, b, res)
	assert.Contains(t, strings.Join(res.Notes, "\n"), "version 1")
	cp, err := e.store.Load(context.Background(), res.ActivationID)
	require.NoError(t, err)
	assert.Equal(t, 2, cp.Version)
	assert.False(t, cp.KeySecret.IsZero())
}

// TestTwinRunsEndTheSame: two runs of one activation at once, from two
// "processes" with their own stores (so their own key secrets), over the
// mock's real listener. Both succeed with the same workspace, and there is
// one of everything; the run that comes second finds its twin's work done.
func TestTwinRunsEndTheSame(t *testing.T) {
	rounds := 4
	if testing.Short() {
		rounds = 2
	}
	for _, b := range branches {
		t.Run(b.name, func(t *testing.T) {
			for round := range rounds {
				e := newEnv(t)
				wsID := b.seed(e)
				var wg sync.WaitGroup
				results := make([]*truewatch.Result, 2)
				errs := make([]error, 2)
				start := make(chan struct{})
				for i := range 2 {
					store := truewatch.NewFileStore(t.TempDir())
					wg.Go(func() {
						<-start
						results[i], errs[i] = b.build(e.builder().WithStore(store), wsID).Run(context.Background())
					})
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					require.NoError(t, err, "round %d, run %d", round, i)
				}
				assert.Equal(t, results[0].WorkspaceID, results[1].WorkspaceID, "round %d", round)
				assert.Equal(t, results[0].BillingAccount.ID, results[1].BillingAccount.ID)
				for _, res := range results {
					assertOneOutcome(t, e, b, res)
				}
			}
		})
	}
}

// readSteps are the steps that change nothing.
var readSteps = map[truewatch.StepName]bool{truewatch.StepResolveAccountID: true, truewatch.StepResolveInstanceID: true,
	truewatch.StepCheckSubscription: true}

// TestTwinRunsInOneStore: two runs of one activation at once with one
// Store meet its lease. By default the second is refused at once with a
// *LeaseHeldError naming the first, before it reads the subscription, and
// changes nothing; with WithLeaseWait it waits for the first to finish,
// then finds the activation done: both succeed with the same workspace.
func TestTwinRunsInOneStore(t *testing.T) {
	for _, b := range branches {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t)
			wsID := b.seed(e)
			var second error
			var during, after mockState
			first, err := b.build(e.builder(), wsID).WithLeaseOwner("first").WithEvents(func(ev truewatch.Event) {
				if ev.Type == truewatch.StepStarted && !readSteps[ev.Step] && second == nil {
					during = e.state()
					_, second = b.build(e.builder(), wsID).WithLeaseOwner("second").WithEvents(nil).Run(context.Background())
					after = e.state()
				}
			}).Run(context.Background())
			require.NoError(t, err)
			var held *truewatch.LeaseHeldError
			require.ErrorAs(t, second, &held)
			assert.Equal(t, "first", held.Owner)
			assert.Equal(t, first.ActivationID, held.ActivationID)
			assert.Equal(t, during, after, "the refused twin changed nothing and sent no code")
			assertOneOutcome(t, e, b, first)

			e = newEnv(t)
			wsID = b.seed(e)
			var wg sync.WaitGroup
			results := make([]*truewatch.Result, 2)
			errs := make([]error, 2)
			waited := make([]bool, 2)
			start := make(chan struct{})
			for i := range 2 {
				wg.Go(func() {
					<-start
					results[i], errs[i] = b.build(e.builder(), wsID).WithLeaseWait(time.Minute).WithEvents(func(ev truewatch.Event) {
						if ev.Type == truewatch.Retrying && strings.Contains(ev.Reason, "leased to") {
							waited[i] = true
						}
					}).Run(context.Background())
				})
			}
			close(start)
			wg.Wait()
			require.NoError(t, errs[0])
			require.NoError(t, errs[1])
			assert.Equal(t, results[0].WorkspaceID, results[1].WorkspaceID)
			assert.Equal(t, results[0].BillingAccount.ID, results[1].BillingAccount.ID)
			assert.True(t, waited[0] != waited[1], "exactly one run waited for the other's lease: %v", waited)
			assert.True(t, results[0].AlreadyActivated != results[1].AlreadyActivated,
				"the run that waited found the activation done")
			for _, res := range results {
				assertOneOutcome(t, e, b, res)
			}
		})
	}
}

// TestTwinFoundDoneIsReported: when the change is refused because a twin
// made it (the Register of one run against a subscription its twin
// registered meanwhile), the run reports success and says so; when the
// twin made something else, the refusal stands.
func TestTwinFoundDoneIsReported(t *testing.T) {
	e := newEnv(t)
	twin := truewatch.NewFileStore(t.TempDir())
	// The twin registers between this run's check and its registration.
	var once sync.Once
	a := branches[0].build(e.builder(), "").WithEvents(func(ev truewatch.Event) {
		if ev.Type == truewatch.StepStarted && ev.Step == truewatch.StepRegister {
			once.Do(func() {
				_, err := branches[0].build(e.builder().WithStore(twin), "").WithEvents(nil).Run(context.Background())
				require.NoError(t, err)
			})
		}
	})
	res, err := a.Run(context.Background())
	require.NoError(t, err)
	reg := changeSteps(res.Steps)[0]
	assert.True(t, reg.FoundDone)
	assert.Contains(t, reg.Reason, "another run of this activation made this change first")
	assertOneOutcome(t, e, branches[0], res)

	// Another registration got there first: not this run's, so refused.
	e2 := newEnv(t)
	var once2 sync.Once
	other := registerInfo()
	other.Username, other.Email = "grace", graceEmail
	a2 := branches[0].build(e2.builder(), "").WithEvents(func(ev truewatch.Event) {
		if ev.Type == truewatch.StepStarted && ev.Step == truewatch.StepRegister {
			once2.Do(func() {
				_, err := e2.builder().WithStore(truewatch.NewMemoryStore()).Register(other).WithEvents(nil).Run(context.Background())
				require.NoError(t, err)
			})
		}
	})
	_, err = a2.Run(context.Background())
	assert.ErrorIs(t, err, apierror.ErrAlreadyBound)
	assert.False(t, errors.Is(err, truewatch.ErrNeedsBranch))
	sub, _ := e2.srv.Subscription(mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	assert.Equal(t, "grace", sub.BillingUsername)
}
