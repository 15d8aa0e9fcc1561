package truewatch_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

const (
	adaEmail   = "ada@example.com"
	graceEmail = "grace@example.com"
	password   = "S3cret-pass!"
)

// env is a mock server with a manual clock, and a store shared by every
// builder made from it, as by several processes.
type env struct {
	t     *testing.T
	srv   *mockserver.Server
	clock *mockserver.ManualClock
	store truewatch.Store
	dir   string // the FileStore's directory

	mu     sync.Mutex
	events []truewatch.Event
}

func newEnv(t *testing.T, opts ...mockserver.Option) *env {
	// The activation's clock follows the mock's, so it starts at the real
	// time (Huawei signatures are checked against the wall clock).
	clock := mockserver.NewManualClock(time.Now().UTC())
	srv := mockserver.Start(t, append([]mockserver.Option{mockserver.WithClock(clock)}, opts...)...)
	dir := t.TempDir()
	return &env{t: t, srv: srv, clock: clock, store: truewatch.NewFileStore(dir), dir: dir}
}

// builder returns a builder for the demo purchase, looking both IDs up, on
// site us1, with codes from the mock's outbox.
func (e *env) builder() *truewatch.Activation {
	return e.checker().WithSite(truewatch.SiteUS1).WithCodes(truewatch.CodesFromOutbox(e.srv))
}

// checker returns a builder for the demo purchase with no branch and no
// site: a check (the code provider truewatchtest gives it is never asked).
// Its clock is the mock's ManualClock, so its waits move the mock's time
// on.
func (e *env) checker() *truewatch.Activation {
	noSleep := func(context.Context, time.Duration) error { return nil }
	return truewatchtest.Activation(e.srv).
		WithRetryPolicy(retry.Policy{MaxRetries: 2, NoJitter: true, Sleep: noSleep}).
		WithStore(e.store).
		WithEvents(func(ev truewatch.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		})
}

func (e *env) seedBillingAccount() billing.BillingAccount {
	ba, err := e.srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: adaEmail, CompanyName: "Analytical Engines"})
	require.NoError(e.t, err)
	return ba
}

func (e *env) seedAccount(s site.Code) twapi.Account {
	acc, err := e.srv.SeedAccount(mockserver.AccountSeed{Site: s, Username: "ada", Email: adaEmail})
	require.NoError(e.t, err)
	return acc
}

func (e *env) seedWorkspace(owner twapi.Account, ba billing.BillingAccount, name string) twapi.Workspace {
	w, err := e.srv.SeedWorkspace(mockserver.WorkspaceSeed{OwnerAccountID: owner.ID, Name: name, BillingAccountID: ba.ID})
	require.NoError(e.t, err)
	return w
}

// branch is one way through the activation: how to seed the mock, how to
// configure the builder, and what must exist afterwards.
type branch struct {
	name  string
	seed  func(e *env) (wsID string)
	build func(a *truewatch.Activation, wsID string) *truewatch.Activation
	// posts are the state-changing endpoints the branch calls.
	posts []string
	// accounts, billingAccounts and workspaces are the totals expected at
	// the end, seeds included.
	accounts, billingAccounts, workspaces int
}

func registerInfo() truewatch.RegisterInfo {
	return truewatch.RegisterInfo{Username: "ada", Password: password, PasswordConfirm: password, Email: adaEmail,
		Company: billing.Company{Name: "Analytical Engines"}, WorkspaceName: "prod", WorkspaceLanguage: truewatch.LanguageEN,
		TermsAccepted: true}
}

var (
	sendPath     = routes.MockBillingPrefix + routes.SendCode
	subPath      = routes.MockBillingPrefix + routes.GetSubscription
	registerPath = routes.MockBillingPrefix + routes.Register
	bindPath     = routes.MockBillingPrefix + routes.BindAccount
	listPath     = routes.MockBillingPrefix + routes.ListWorkspaces
	bindWSPath   = routes.MockBillingPrefix + routes.BindWorkspace
	createPath   = "/sites/us1/console-api" + routes.CreateWorkspace
	regCreate    = "/sites/us1/console-api" + routes.RegisterAndCreate
	iamPath      = "/v3/auth/domains"
	bssPath      = "/v2/orders/suscriptions/resources/query"
)

var branches = []branch{
	{
		name:  "register",
		seed:  func(*env) string { return "" },
		build: func(a *truewatch.Activation, _ string) *truewatch.Activation { return a.Register(registerInfo()) },
		posts: []string{sendPath, registerPath}, accounts: 1, billingAccounts: 1, workspaces: 1,
	},
	{
		name: "bind account, create workspace",
		seed: func(e *env) string { e.seedBillingAccount(); e.seedAccount(site.US1); return "" },
		build: func(a *truewatch.Activation, _ string) *truewatch.Activation {
			return a.BindBillingAccount("ada", adaEmail).CreateWorkspace(truewatch.CreateWorkspaceInfo{
				Name: "prod", Language: truewatch.LanguageEN, Email: adaEmail, TermsAccepted: true})
		},
		posts: []string{sendPath, bindPath, createPath}, accounts: 1, billingAccounts: 1, workspaces: 1,
	},
	{
		name: "bind account, register and create workspace",
		seed: func(e *env) string { e.seedBillingAccount(); return "" },
		build: func(a *truewatch.Activation, _ string) *truewatch.Activation {
			return a.BindBillingAccount("ada", adaEmail).RegisterAndCreateWorkspace(truewatch.NewAccountInfo{
				WorkspaceName: "prod", WorkspaceLanguage: truewatch.LanguageZH, Username: "grace", Password: password,
				PasswordConfirm: password, Email: graceEmail, Phone: "+6512345678", TermsAccepted: true})
		},
		posts: []string{sendPath, bindPath, regCreate}, accounts: 1, billingAccounts: 1, workspaces: 1,
	},
	{
		name: "bind account, bind workspace by ID",
		seed: func(e *env) string {
			ba, acc := e.seedBillingAccount(), e.seedAccount(site.US1)
			e.seedWorkspace(acc, ba, "staging")
			return e.seedWorkspace(acc, ba, "prod").ID
		},
		build: func(a *truewatch.Activation, id string) *truewatch.Activation {
			return a.BindBillingAccount("ada", adaEmail).BindWorkspaceByID(id)
		},
		posts: []string{sendPath, bindPath, bindWSPath}, accounts: 1, billingAccounts: 1, workspaces: 2,
	},
	{
		name: "bind account, bind workspace by name",
		seed: func(e *env) string {
			ba, acc := e.seedBillingAccount(), e.seedAccount(site.US1)
			e.seedWorkspace(acc, ba, "staging")
			return e.seedWorkspace(acc, ba, "prod").ID
		},
		build: func(a *truewatch.Activation, _ string) *truewatch.Activation {
			return a.BindBillingAccount("ada", adaEmail).BindWorkspaceByName("prod")
		},
		posts: []string{sendPath, bindPath, bindWSPath}, accounts: 1, billingAccounts: 1, workspaces: 2,
	},
}

// assertOneOutcome checks the mock holds exactly what the branch makes and
// that the demo subscription is activated with one workspace.
func assertOneOutcome(t *testing.T, e *env, b branch, res *truewatch.Result) {
	t.Helper()
	assert.Len(t, e.srv.Accounts(), b.accounts, "TrueWatch accounts")
	assert.Len(t, e.srv.BillingAccounts(), b.billingAccounts, "Billing Center accounts")
	assert.Len(t, e.srv.Workspaces(), b.workspaces, "workspaces")
	sub, ok := e.srv.Subscription(mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	require.True(t, ok)
	assert.True(t, sub.Activated())
	require.Len(t, sub.Workspaces, 1, "one workspace settled by the subscription")
	assert.Equal(t, sub.Workspaces[0].ID, res.WorkspaceID)
	assert.Equal(t, truewatch.SiteUS1, res.Site)
	assert.Equal(t, sub.BillingAccountID, res.BillingAccount.ID)
	assert.NotEmpty(t, res.LoginURL)
}

func TestEndToEndEveryBranch(t *testing.T) {
	for _, b := range branches {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t)
			wsID := b.seed(e)
			a := b.build(e.builder(), wsID)

			plan, err := a.Plan(context.Background())
			require.NoError(t, err)
			assert.Equal(t, mockserver.DemoHuaweiAccountID, plan.HuaweiAccountID)
			assert.Equal(t, mockserver.DemoInstanceID, plan.InstanceID)
			assert.False(t, plan.AlreadyActivated)
			assert.Empty(t, e.srv.Outbox(), "Plan sent nothing")
			assert.Empty(t, e.events, "Plan reported nothing")

			res, err := a.Run(context.Background())
			require.NoError(t, err)
			assert.Equal(t, plan.Steps, asPlanned(t, plan.Steps, res.Steps), "Run did what Plan said")
			assert.Equal(t, plan.ActivationID, res.ActivationID)
			assertOneOutcome(t, e, b, res)
			if wsID != "" {
				assert.Equal(t, wsID, res.WorkspaceID)
			}

			// The already-bound branch: nothing changes, the binding and the
			// login URL come back; planning it changes nothing either.
			before, files := e.state(), e.checkpointFiles()
			replan, err := b.build(e.builder(), wsID).Plan(context.Background())
			require.NoError(t, err)
			assert.True(t, replan.AlreadyActivated)
			assert.Equal(t, before, e.state())
			assert.Equal(t, files, e.checkpointFiles())
			again, err := b.build(e.builder(), wsID).Run(context.Background())
			require.NoError(t, err)
			assert.True(t, again.AlreadyActivated)
			assert.Empty(t, changeSteps(again.Steps))
			assert.Equal(t, res.WorkspaceID, again.WorkspaceID)
			assert.Equal(t, res.BillingAccount.ID, again.BillingAccount.ID)
			assert.Equal(t, res.LoginURL, again.LoginURL)
			assertOneOutcome(t, e, b, again)
		})
	}
}

// checkpointFiles returns the FileStore directory's files and contents.
func (e *env) checkpointFiles() map[string]string {
	entries, err := os.ReadDir(e.dir)
	require.NoError(e.t, err)
	out := map[string]string{}
	for _, de := range entries {
		b, err := os.ReadFile(filepath.Join(e.dir, de.Name()))
		require.NoError(e.t, err)
		out[de.Name()] = string(b)
	}
	return out
}

// failRun runs a (a first "process") with every call to the fault's path
// failing, expects the run to fail, and clears the fault.
func (e *env) failRun(a *truewatch.Activation, f mockserver.Fault) {
	e.t.Helper()
	if f.Times == 0 {
		f.Times = 100 // every retry fails too
	}
	_, err := e.srv.InjectFault(f)
	require.NoError(e.t, err)
	_, err = a.Run(context.Background())
	require.Error(e.t, err)
	e.srv.ClearFaults()
}

// plannedKey is the key a Plan of a (resumed) activation shows for step.
func (e *env) plannedKey(a *truewatch.Activation, step truewatch.StepName) string {
	e.t.Helper()
	plan, err := a.Plan(context.Background())
	require.NoError(e.t, err)
	for _, s := range plan.ChangeSteps() {
		if s.Name == step {
			require.NotEmpty(e.t, s.IdempotencyKey, "a resumed activation plans its keys")
			return s.IdempotencyKey
		}
	}
	e.t.Fatalf("no %s step planned", step)
	return ""
}

// assertNextBindKey checks that the bind moved from the first key to the
// next generation's, which the checkpoint records.
func (e *env) assertNextBindKey(res *truewatch.Result, first, used string) {
	e.t.Helper()
	assert.Regexp(e.t, `^act_[0-9a-f]{32}$`, used)
	assert.NotEqual(e.t, first, used, "bound under the next key")
	cp, err := e.store.Load(context.Background(), res.ActivationID)
	require.NoError(e.t, err)
	assert.Equal(e.t, 1, cp.BindGeneration)
}

// loseChangeResponses loses, once, the response of each change step of b
// after the work is done.
func (e *env) loseChangeResponses(b branch) {
	e.t.Helper()
	for _, p := range b.posts[1:] {
		_, err := e.srv.InjectFault(mockserver.Fault{Path: p, AfterHandler: true})
		require.NoError(e.t, err)
	}
}

// asPlanned drops from steps taken what only a run can know, for comparing
// them with the steps planned: whether the server replayed a step's
// response, and the idempotency keys a Plan did not know yet (made by the
// first Run; a Plan after a Run that saved a checkpoint knows them, and
// they must be the keys Run sent). Every change step taken has a key.
func asPlanned(t *testing.T, planned, steps []truewatch.Step) []truewatch.Step {
	t.Helper()
	out := slices.Clone(steps)
	for i := range out {
		out[i].Replayed = false
		if out[i].Action == truewatch.ActionChange {
			assert.Regexp(t, `^act_[0-9a-f]{32}$`, out[i].IdempotencyKey, out[i].Name)
		}
		if i < len(planned) && planned[i].IdempotencyKey == "" {
			out[i].IdempotencyKey = ""
		}
	}
	return out
}

func changeSteps(steps []truewatch.Step) []truewatch.Step {
	var out []truewatch.Step
	for _, s := range steps {
		if s.Action == truewatch.ActionChange {
			out = append(out, s)
		}
	}
	return out
}

// TestCrashAtEveryStepThenResume fails every call of the activation in turn
// (lost response after the work was done, dropped connection, failure
// before the work), then runs again from the same store, as another process
// would, and checks there is exactly one outcome.
func TestCrashAtEveryStepThenResume(t *testing.T) {
	kinds := []struct {
		name  string
		fault mockserver.Fault
	}{
		{"lost response", mockserver.Fault{AfterHandler: true, Status: http.StatusBadGateway}},
		{"dropped connection after the work", mockserver.Fault{AfterHandler: true, DropConnection: true}},
		{"failure before the work", mockserver.Fault{Status: http.StatusInternalServerError}},
	}
	for _, b := range branches {
		paths := append([]string{iamPath, bssPath, subPath}, b.posts...)
		if slices.Contains(b.posts, bindWSPath) {
			paths = append(paths, listPath)
		}
		for _, path := range paths {
			for _, k := range kinds {
				t.Run(fmt.Sprintf("%s/%s/%s", b.name, path, k.name), func(t *testing.T) {
					e := newEnv(t)
					wsID := b.seed(e)
					f := k.fault
					f.Path, f.Times = path, 100 // every retry fails too
					_, err := e.srv.InjectFault(f)
					require.NoError(t, err)

					_, err = b.build(e.builder(), wsID).Run(context.Background())
					require.Error(t, err)
					var se *truewatch.StepError
					require.ErrorAs(t, err, &se)

					e.srv.ClearFaults()
					before, files := e.state(), e.checkpointFiles()
					plan, err := b.build(e.builder(), wsID).Plan(context.Background())
					require.NoError(t, err)
					assert.Equal(t, before, e.state(), "Plan changed nothing, sent no code")
					assert.Equal(t, files, e.checkpointFiles(), "Plan wrote no checkpoint")
					res, err := b.build(e.builder(), wsID).Run(context.Background())
					require.NoError(t, err)
					assert.Equal(t, plan.Steps, asPlanned(t, plan.Steps, res.Steps), "plan-then-run equivalence after a crash")
					assertOneOutcome(t, e, b, res)
				})
			}
		}
	}
}

// TestCancelAtEveryStepThenResume cancels the context as each step starts
// and as each code is requested, then resumes.
func TestCancelAtEveryStepThenResume(t *testing.T) {
	for _, b := range branches {
		for _, at := range []truewatch.EventType{truewatch.StepStarted, truewatch.CodeRequested} {
			for n := 1; ; n++ {
				e := newEnv(t)
				wsID := b.seed(e)
				ctx, cancel := context.WithCancel(context.Background())
				seen := 0
				a := b.build(e.builder(), wsID).WithEvents(func(ev truewatch.Event) {
					if ev.Type == at {
						seen++
						if seen == n {
							cancel()
						}
					}
				})
				_, err := a.Run(ctx)
				cancel()
				if seen < n {
					require.NoError(t, err)
					break // every point was tried
				}
				require.ErrorIs(t, err, context.Canceled, "%s: cancelled at %s #%d", b.name, at, n)
				res, err := b.build(e.builder(), wsID).Run(context.Background())
				require.NoError(t, err, "%s: resume after cancel at %s #%d", b.name, at, n)
				assertOneOutcome(t, e, b, res)
			}
		}
	}
}

// TestExpiredTokenAfterLostBind loses the bind response, lets the token
// expire, and resumes: the replayed bind carries the expired token, so the
// account is bound again at once under the next key, asking for no other
// code.
func TestExpiredTokenAfterLostBind(t *testing.T) {
	e := newEnv(t, mockserver.WithTokenTTL(time.Minute))
	b := branches[1]
	b.seed(e)
	e.failRun(b.build(e.builder(), ""), mockserver.Fault{Path: bindPath, AfterHandler: true})
	e.clock.Advance(2 * time.Minute)
	first := e.plannedKey(b.build(e.builder(), ""), truewatch.StepBindBillingAccount)

	e.events = nil
	res, err := b.build(e.builder(), "").Run(context.Background())
	require.NoError(t, err)
	assertOneOutcome(t, e, b, res)
	var binds []truewatch.Step
	for _, s := range changeSteps(res.Steps) {
		if s.Name == truewatch.StepBindBillingAccount {
			binds = append(binds, s)
		}
	}
	require.Len(t, binds, 1)
	e.assertNextBindKey(res, first, binds[0].IdempotencyKey)
	assert.Contains(t, binds[0].Reason, "expired")
	asked := 0
	for _, ev := range e.events {
		if ev.Type == truewatch.CodeRequested && ev.Step == truewatch.StepBindBillingAccount {
			asked++
		}
	}
	assert.Equal(t, 1, asked, "the unused code of the replayed bind binds under the next key")
}

func TestWrongAndExpiredCodesAgainstMock(t *testing.T) {
	e := newEnv(t)
	var asked []truewatch.CodeRequest
	outbox := truewatch.CodesFromOutbox(e.srv)
	codes := func(ctx context.Context, req truewatch.CodeRequest) (secret.String, error) {
		asked = append(asked, req)
		switch req.Attempt {
		case 1:
			return "000000", nil // wrong
		case 2:
			e.clock.Advance(11 * time.Minute) // the code expires before it is used
		}
		return outbox(ctx, req)
	}
	res, err := e.builder().WithCodes(codes).Register(registerInfo()).Run(context.Background())
	require.NoError(t, err)
	assertOneOutcome(t, e, branches[0], res)
	require.Len(t, asked, 3)
	assert.Equal(t, "the code was wrong", asked[1].Reason)
	assert.Contains(t, asked[2].Reason, "expired")
	assert.Len(t, e.srv.OutboxFor(adaEmail), 2, "a new code replaced the expired one")

	e2 := newEnv(t)
	_, err = e2.builder().WithCodes(func(context.Context, truewatch.CodeRequest) (secret.String, error) { return "000000", nil }).
		Register(registerInfo()).Run(context.Background())
	var ce *truewatch.CodeError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, apierror.ErrInvalidCode)
	assert.Equal(t, truewatch.DefaultMaxCodeAttempts, ce.Attempts)
	assert.Empty(t, e2.srv.BillingAccounts())
}

func TestBadWorkspaceChoicesAgainstMock(t *testing.T) {
	t.Run("other site", func(t *testing.T) {
		e := newEnv(t)
		ba := e.seedBillingAccount()
		acc, err := e.srv.SeedAccount(mockserver.AccountSeed{Site: site.EU1, Username: "ada", Email: adaEmail})
		require.NoError(t, err)
		w := e.seedWorkspace(acc, ba, "prod")
		_, err = e.builder().BindBillingAccount("ada", adaEmail).BindWorkspaceByID(w.ID).Run(context.Background())
		assert.ErrorIs(t, err, truewatch.ErrSiteMismatch)
		sub, _ := e.srv.Subscription(mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
		assert.Empty(t, sub.Workspaces)
	})
	t.Run("unknown name", func(t *testing.T) {
		e := newEnv(t)
		e.seedBillingAccount()
		_, err := e.builder().BindBillingAccount("ada", adaEmail).BindWorkspaceByName("nope").Run(context.Background())
		assert.ErrorIs(t, err, truewatch.ErrWorkspaceNotFound)
		assert.ErrorIs(t, err, apierror.ErrNotFound)
	})
	t.Run("inactive subscription", func(t *testing.T) {
		e := newEnv(t)
		require.NoError(t, e.srv.SetPurchaseStatus(mockserver.DemoInstanceID, mockserver.PurchaseFrozen))
		_, err := e.builder().WithInstanceID(mockserver.DemoInstanceID).Register(registerInfo()).Plan(context.Background())
		assert.ErrorIs(t, err, truewatch.ErrSubscriptionInactive)
	})
	t.Run("no active purchase names the candidates", func(t *testing.T) {
		e := newEnv(t)
		require.NoError(t, e.srv.SetPurchaseStatus(mockserver.DemoInstanceID, mockserver.PurchaseClosed))
		_, err := e.builder().Register(registerInfo()).Plan(context.Background())
		var se *truewatch.StepError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, truewatch.StepResolveInstanceID, se.Step)
		assert.ErrorIs(t, err, apierror.ErrNotFound)
		assert.Contains(t, err.Error(), mockserver.DemoInstanceID)
	})
}

func TestFileStoreAcrossProcesses(t *testing.T) {
	e := newEnv(t)
	b := branches[1]
	b.seed(e)
	e.failRun(b.build(e.builder(), ""), mockserver.Fault{Path: createPath, Status: http.StatusServiceUnavailable})

	// A second "process": a new builder and a new FileStore on the same
	// directory.
	second := truewatch.NewFileStore(e.dir)
	plan, err := b.build(e.builder().WithStore(second), "").Plan(context.Background())
	require.NoError(t, err)
	assert.True(t, plan.Resuming)
	res, err := b.build(e.builder().WithStore(second), "").Run(context.Background())
	require.NoError(t, err)
	assertOneOutcome(t, e, b, res)
	cp, err := e.store.Load(context.Background(), res.ActivationID)
	require.NoError(t, err)
	assert.True(t, cp.Completed)
	assert.Equal(t, res.WorkspaceID, cp.WorkspaceID)
}

func TestRetryEventsCarryReasonAndWait(t *testing.T) {
	e := newEnv(t)
	_, err := e.srv.InjectFault(mockserver.Fault{Path: subPath, Status: http.StatusServiceUnavailable, Times: 1})
	require.NoError(t, err)
	_, err = e.builder().Register(registerInfo()).Run(context.Background())
	require.NoError(t, err)
	var retries []truewatch.Event
	for _, ev := range e.events {
		if ev.Type == truewatch.Retrying {
			retries = append(retries, ev)
		}
	}
	require.Len(t, retries, 1)
	assert.Equal(t, truewatch.StepCheckSubscription, retries[0].Step)
	assert.Contains(t, retries[0].Reason, "503")
	assert.Positive(t, retries[0].Wait)
}

// TestLostResponseRecoveredByRetry loses each change step's response once:
// the client's retry carries the same idempotency key, the mock replays the
// stored answer, and one Run finishes with one outcome.
func TestLostResponseRecoveredByRetry(t *testing.T) {
	for _, b := range branches {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t)
			wsID := b.seed(e)
			e.loseChangeResponses(b)
			res, err := b.build(e.builder(), wsID).Run(context.Background())
			require.NoError(t, err)
			assertOneOutcome(t, e, b, res)
			for _, s := range changeSteps(res.Steps) {
				assert.True(t, s.Replayed, "%s answered from the idempotency store", s.Name)
			}
			assert.Positive(t, countEvents(e.events, truewatch.Retrying))
		})
	}
}

func countEvents(events []truewatch.Event, typ truewatch.EventType) int {
	n := 0
	for _, ev := range events {
		if ev.Type == typ {
			n++
		}
	}
	return n
}
