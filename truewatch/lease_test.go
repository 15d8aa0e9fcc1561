package truewatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// bindBuilder binds account "ada" and workspace w1: two change steps.
func bindBuilder(f *fakeServices, store Store) *Activation {
	f.workspaces = []billing.BindableWorkspace{bindable("w1", "prod", SiteUS1, true)}
	return base(f, &fixedCodes{}).WithStore(store).BindBillingAccount("ada", "ada@example.com").BindWorkspaceByID("w1")
}

// TestRunHoldsTheLease: while a Run works, the activation is leased to its
// owner and a second Run is refused before any change, naming the holder
// and the expiry; at the end the lease is released.
func TestRunHoldsTheLease(t *testing.T) {
	store := NewMemoryStore()
	f := newFake()
	var second error
	var calls []string
	a := bindBuilder(f, store).WithLeaseOwner("worker-1").WithLeaseTTL(time.Minute).WithEvents(func(e Event) {
		if e.Type == StepStarted && e.Step == StepBindWorkspace && second == nil {
			before := len(f.callList())
			_, second = bindBuilder(f, store).WithLeaseOwner("worker-2").Run(context.Background())
			calls = f.callList()[before:]
		}
	})
	_, err := a.Run(context.Background())
	require.NoError(t, err)

	var held *LeaseHeldError
	require.ErrorAs(t, second, &held)
	assert.Equal(t, "worker-1", held.Owner)
	assert.WithinDuration(t, time.Now().Add(time.Minute), held.ExpiresAt, 5*time.Second)
	assert.ErrorContains(t, second, `leased to "worker-1" until`)
	assert.Equal(t, []string{"AccountID", "ActiveTrueWatchPurchase"}, calls,
		"the refused run only looked up its identity: it did not even read the subscription")
	assert.Equal(t, 1, count(f.callList(), "BindWorkspace"))

	l, err := store.Claim(context.Background(), held.ActivationID, "worker-2", time.Minute)
	require.NoError(t, err, "the finished run released its lease")
	require.NoError(t, store.Release(context.Background(), l))
}

// TestRunWaitsForTheLease: with WithLeaseWait, a Run waits for a lease
// another owner holds to end, then runs.
func TestRunWaitsForTheLease(t *testing.T) {
	store := NewMemoryStore()
	f := newFake()
	a := bindBuilder(f, store)
	plan, err := a.Plan(context.Background())
	require.NoError(t, err)
	_, err = store.Claim(context.Background(), plan.ActivationID, "crashed-worker", 300*time.Millisecond)
	require.NoError(t, err)

	_, err = bindBuilder(f, store).Run(context.Background())
	require.ErrorIs(t, err, ErrLeaseHeld, "no wait by default")
	var waits []string
	began := time.Now()
	res, err := bindBuilder(f, store).WithLeaseWait(5 * time.Second).WithEvents(func(e Event) {
		if e.Type == Retrying {
			waits = append(waits, e.Reason)
		}
	}).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "w1", res.WorkspaceID)
	assert.GreaterOrEqual(t, time.Since(began), 200*time.Millisecond, "it waited for the lease to expire")
	require.NotEmpty(t, waits)
	assert.Contains(t, waits[0], `leased to "crashed-worker"`)
}

// partitionStore is a store that can stop answering renewals, as a store
// behind a network partition would.
type partitionStore struct {
	Store
	mu      sync.Mutex
	blocked bool
}

func (s *partitionStore) block(b bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked = b
}

func (s *partitionStore) Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	s.mu.Lock()
	blocked := s.blocked
	s.mu.Unlock()
	if blocked {
		return Lease{}, errors.New("store unreachable")
	}
	return s.Store.Renew(ctx, l, ttl)
}

// TestLostLeaseStopsTheRun: a run cut off from its store past its lease's
// TTL loses the activation to another run, which finishes it; when the
// first comes back it stops with a *LeaseLostError before any further
// change, and nothing is done twice.
func TestLostLeaseStopsTheRun(t *testing.T) {
	store := &partitionStore{Store: NewMemoryStore()}
	f := newFake()
	var other *Result
	var otherErr error
	a := bindBuilder(f, store).WithLeaseOwner("worker-1").WithLeaseTTL(150 * time.Millisecond).WithEvents(func(e Event) {
		if e.Type == StepFinished && e.Step == StepBindBillingAccount {
			store.block(true) // worker-1 pauses, cut off: its lease expires
			time.Sleep(300 * time.Millisecond)
			other, otherErr = bindBuilder(f, store.Store).WithLeaseOwner("worker-2").Run(context.Background())
			store.block(false)
		}
	})
	_, err := a.Run(context.Background())
	require.NoError(t, otherErr)
	assert.Equal(t, "w1", other.WorkspaceID, "the second run finished the activation")

	var lost *LeaseLostError
	require.ErrorAs(t, err, &lost)
	assert.Equal(t, "worker-1", lost.Owner)
	assert.ErrorContains(t, err, "stopped before any further change")
	assert.Equal(t, 1, count(f.callList(), "BindWorkspace"), "the run that lost its lease bound nothing")
	cp, err := store.Load(context.Background(), other.ActivationID)
	require.NoError(t, err)
	assert.True(t, cp.Completed)
	assert.Nil(t, cp.Failure, "a lost lease is not the activation's failure")
}

// TestLeaseLostDuringAStepCancelsIt: when a renewal finds the lease taken,
// the step in progress (here waiting for a code) is cancelled at once and
// the run reports the lost lease.
func TestLeaseLostDuringAStepCancelsIt(t *testing.T) {
	store := NewMemoryStore()
	f := newFake()
	stole := make(chan struct{})
	a := bindBuilder(f, store).WithLeaseTTL(90 * time.Millisecond).WithCodes(func(ctx context.Context, req CodeRequest) (secret.String, error) {
		<-ctx.Done() // a person who never types the code
		return "", ctx.Err()
	}).WithEvents(func(e Event) {
		if e.Type == CodeRequested {
			go func() {
				defer close(stole)
				store.mu.Lock()
				for id, l := range store.leases {
					l.Token, l.Owner = "stolen", "thief"
					store.leases[id] = l
				}
				store.mu.Unlock()
			}()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := a.Run(ctx)
	<-stole
	var lost *LeaseLostError
	require.ErrorAs(t, err, &lost)
	assert.Equal(t, "thief", lost.Holder)
	assert.NoError(t, ctx.Err(), "the run stopped on the lost lease, not on the test's timeout")
	assert.Zero(t, count(f.callList(), "BindBillingAccount"))
}

// TestRunRecordsFailures: a failed run records its step and error in the
// checkpoint, where List finds it; a later successful run clears it.
func TestRunRecordsFailures(t *testing.T) {
	store := NewMemoryStore()
	f := newFake()
	f.workspaces = []billing.BindableWorkspace{bindable("w1", "prod", SiteUS1, false)}
	a := base(f, &fixedCodes{}).WithStore(store).BindBillingAccount("ada", "ada@example.com").BindWorkspaceByID("w1")
	_, err := a.Run(context.Background())
	require.ErrorIs(t, err, ErrNotBindable)

	var failed []*Checkpoint
	for cp, err := range store.List(context.Background(), ListFilter{Failed: true, HuaweiAccountID: testAccountID}) {
		require.NoError(t, err)
		failed = append(failed, cp)
	}
	require.Len(t, failed, 1)
	assert.Equal(t, StepBindWorkspace, failed[0].Failure.Step)
	assert.Contains(t, failed[0].Failure.Error, "cannot be bound")
	assert.Contains(t, fmt.Sprintf("%+v", *failed[0]), "Failure:step "+string(StepBindWorkspace)+" failed at ",
		"a checkpoint printed shows its failure, not a pointer")
	assert.Len(t, failed[0].Steps, 1, "the bind of the account that succeeded is kept")

	f.workspaces[0].Bindable = true
	_, err = a.Run(context.Background())
	require.NoError(t, err)
	cp, err := store.Load(context.Background(), failed[0].ActivationID)
	require.NoError(t, err)
	assert.Nil(t, cp.Failure)
	assert.True(t, cp.Completed)

	// A run cancelled part-way is not a failure of the activation.
	g := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = bindBuilder(g, store).WithHuaweiAccountID(strings.Repeat("b", 32)).WithEvents(func(e Event) {
		if e.Type == StepStarted && e.Step == StepBindWorkspace {
			cancel()
		}
	}).Run(ctx)
	require.ErrorIs(t, err, context.Canceled)
	for cp, err := range store.List(context.Background(), ListFilter{Failed: true}) {
		require.NoError(t, err)
		t.Errorf("a cancelled run was recorded as failed: %+v", cp.Failure)
	}
}

// TestConcurrentSaveIsAConflict: a checkpoint saved behind the run's back
// (a process that ignores leases) makes the run's save fail with a typed
// error that says to run again; running again finishes without doing any
// step twice.
func TestConcurrentSaveIsAConflict(t *testing.T) {
	store := NewMemoryStore()
	f := newFake()
	once := false
	a := bindBuilder(f, store).WithEvents(func(e Event) {
		if e.Type == StepStarted && e.Step == StepBindWorkspace && !once {
			once = true
			plan, _ := bindBuilder(f, store).Plan(context.Background())
			cp, err := store.Load(context.Background(), plan.ActivationID)
			require.NoError(t, err)
			_, err = store.Save(context.Background(), cp.ActivationID, cp)
			require.NoError(t, err)
		}
	})
	_, err := a.Run(context.Background())
	require.ErrorIs(t, err, ErrCheckpointConflict)
	require.ErrorIs(t, err, ErrStoreFailed)
	assert.ErrorContains(t, err, "run the activation again")
	before := count(f.callList(), "BindWorkspace")

	_, err = a.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, before, count(f.callList(), "BindWorkspace"), "the bound workspace is not bound again")
}

func TestLeaseOptionsAreValidated(t *testing.T) {
	f := newFake()
	err := bindBuilder(f, NewMemoryStore()).WithLeaseOwner("").WithLeaseTTL(time.Millisecond).WithLeaseWait(-1).Validate()
	for _, field := range []string{"leaseOwner", "leaseTTL", "leaseWait"} {
		assert.ErrorContains(t, err, field)
	}
}

// opStore records the store operations of a run, with the calls the
// services had seen at each.
type opStore struct {
	Store
	f   *fakeServices
	mu  sync.Mutex
	ops []storeOp
}

type storeOp struct {
	op       string
	revision int64     // Save: the revision it names
	secret   KeySecret // Save: the checkpoint's secret
	calls    []string  // the services' calls so far
}

func (s *opStore) add(o storeOp) {
	o.calls = s.f.callList()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, o)
}

func (s *opStore) Claim(ctx context.Context, id, owner string, ttl time.Duration) (Lease, error) {
	s.add(storeOp{op: "Claim"})
	return s.Store.Claim(ctx, id, owner, ttl)
}

func (s *opStore) Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	s.add(storeOp{op: "Renew"})
	return s.Store.Renew(ctx, l, ttl)
}

func (s *opStore) Load(ctx context.Context, id string) (*Checkpoint, error) {
	s.add(storeOp{op: "Load"})
	return s.Store.Load(ctx, id)
}

func (s *opStore) Save(ctx context.Context, id string, cp *Checkpoint) (int64, error) {
	s.add(storeOp{op: "Save", revision: cp.Revision, secret: cp.KeySecret})
	return s.Store.Save(ctx, id, cp)
}

func (s *opStore) list() []storeOp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]storeOp(nil), s.ops...)
}

// changeCalls are the calls of the fake services that change something.
var changeCalls = []string{"Register", "BindBillingAccount", "BindWorkspace", "CreateWorkspace", "RegisterAndCreateWorkspace"}

func hasChange(calls []string) bool {
	for _, c := range calls {
		if slices.Contains(changeCalls, c) || strings.HasPrefix(c, "SendVerificationCode") {
			return true
		}
	}
	return false
}

// TestSecretIsSavedUnderTheLeaseBeforeTheFirstChange: the save that puts
// the key secret in the store comes after the lease is claimed and proven
// again, names the revision loaded (0: none), and precedes every change
// and every code sent; the keys sent are that secret's.
func TestSecretIsSavedUnderTheLeaseBeforeTheFirstChange(t *testing.T) {
	f := newFake()
	store := &opStore{Store: NewMemoryStore(), f: f}
	res, err := bindBuilder(f, store).Run(context.Background())
	require.NoError(t, err)

	ops := store.list()
	var names []string
	for _, o := range ops {
		names = append(names, o.op)
	}
	require.GreaterOrEqual(t, len(ops), 4, "%v", names)
	assert.Equal(t, []string{"Claim", "Load", "Renew", "Save"}, names[:4], "claim, load, prove the lease, then save the secret")
	first := ops[3]
	assert.Equal(t, int64(0), first.revision, "the first save creates the checkpoint")
	assert.False(t, first.secret.IsZero(), "the first save carries the secret")
	assert.Contains(t, first.calls, "GetSubscription")
	assert.False(t, hasChange(first.calls), "nothing was changed or sent before the secret was saved: %v", first.calls)

	cp, err := store.Load(context.Background(), res.ActivationID)
	require.NoError(t, err)
	assert.Equal(t, first.secret, cp.KeySecret, "the secret saved first is the one kept")
	assert.Equal(t, stepKey(first.secret, res.ActivationID, StepBindBillingAccount, 0), f.keys["BindBillingAccount"])
	assert.Equal(t, stepKey(first.secret, res.ActivationID, StepBindWorkspace, 0), f.keys["BindWorkspace"])
}

// TestSecretSaveOverAStaleRevisionChangesNothing: when another run saved
// the checkpoint after this one loaded it, this run's save of its secret is
// a conflict and nothing is changed or sent; run again, the activation
// finishes under the secret that was stored.
func TestSecretSaveOverAStaleRevisionChangesNothing(t *testing.T) {
	f := newFake()
	mem := NewMemoryStore()
	store := &opStore{Store: mem, f: f}
	var other KeySecret
	a := bindBuilder(f, store).WithEvents(func(e Event) {
		if e.Type == StepStarted && e.Step == StepBindBillingAccount && other.IsZero() {
			// A process that ignores leases saves a checkpoint of its own.
			plan, err := bindBuilder(f, mem).Plan(context.Background())
			require.NoError(t, err)
			cp, err := NewCheckpoint(Identity{ActivationID: plan.ActivationID, HuaweiAccountID: plan.HuaweiAccountID,
				InstanceID: plan.InstanceID, Site: plan.Site, Branch: plan.Branch})
			require.NoError(t, err)
			other = cp.KeySecret
			_, err = mem.Save(context.Background(), cp.ActivationID, cp)
			require.NoError(t, err)
		}
	})
	_, err := a.Run(context.Background())
	require.ErrorIs(t, err, ErrCheckpointConflict)
	assert.False(t, hasChange(f.callList()), "nothing changed or sent: %v", f.callList())

	res, err := bindBuilder(f, mem).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, stepKey(other, res.ActivationID, StepBindBillingAccount, 0), f.keys["BindBillingAccount"],
		"the run again used the secret in the store")
}

// TestNewCheckpointCarriesTheSecretRunUses: a checkpoint made with
// NewCheckpoint (as a job queue makes before the first Run) has a fresh
// secret; the Run that loads it sends that secret's keys and saves nothing
// before its first change.
func TestNewCheckpointCarriesTheSecretRunUses(t *testing.T) {
	f := newFake()
	mem := NewMemoryStore()
	plan, err := bindBuilder(f, mem).Plan(context.Background())
	require.NoError(t, err)
	assert.Empty(t, plan.Steps[len(plan.Steps)-1].IdempotencyKey, "a Plan before the first Run has no keys")
	id := Identity{ActivationID: plan.ActivationID, HuaweiAccountID: plan.HuaweiAccountID, InstanceID: plan.InstanceID,
		Site: plan.Site, Branch: plan.Branch}
	first, err := NewCheckpoint(id)
	require.NoError(t, err)
	second, err := NewCheckpoint(id)
	require.NoError(t, err)
	require.False(t, first.KeySecret.IsZero())
	assert.NotEqual(t, first.KeySecret, second.KeySecret, "every checkpoint gets its own secret")
	assert.Equal(t, checkpointVersion, first.Version)
	_, err = mem.Save(context.Background(), id.ActivationID, first)
	require.NoError(t, err)

	store := &opStore{Store: mem, f: f}
	res, err := bindBuilder(f, store).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, stepKey(first.KeySecret, res.ActivationID, StepBindBillingAccount, 0), f.keys["BindBillingAccount"])
	for _, o := range store.list() {
		if o.op == "Save" {
			assert.True(t, hasChange(o.calls), "the first save is the bind's, after it: no save of the secret was needed")
			assert.Equal(t, first.KeySecret, o.secret)
			break
		}
	}
}
