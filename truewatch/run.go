package truewatch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// Result is what Run did and where the activation stands.
type Result struct {
	ActivationID    string
	HuaweiAccountID string
	InstanceID      string
	// Branch is the branch configured; BranchCheck when none was.
	Branch Branch
	// AlreadyActivated is true when nothing had to change: a Billing Center
	// account is bound and a workspace is settled by the subscription.
	AlreadyActivated bool
	// SubscriptionStatus is the subscription's status as the Billing
	// Center last reported it (see Plan.SubscriptionStatus): an activated
	// subscription that is frozen, expired or closed is not usable, and
	// Notes says what its status means.
	SubscriptionStatus billing.SubscriptionStatus
	// BillingAccount is the bound Billing Center account (ID and username
	// only when AlreadyActivated).
	BillingAccount billing.BillingAccount
	// WorkspaceID is the workspace settled by the subscription.
	WorkspaceID string
	// Workspaces lists every workspace settled by the subscription, as the
	// Billing Center reported it, when AlreadyActivated.
	Workspaces []billing.BoundWorkspace
	// Site is the workspace's site.
	Site Site
	// LoginURL is where to log in to the workspace.
	LoginURL string
	// Steps are the steps taken by this run, with their idempotency keys.
	Steps []Step
	// Notes are the plan's notes (a resumed run, a site other than the one
	// chosen, a subscription expired or released and in its grace
	// period, ...).
	Notes []string
	// Subscription is the subscription as the Billing Center last reported
	// it: its status, term and grace period (State says it in words).
	Subscription *billing.Subscription
}

// runner is one Plan or Run, a state machine (machine.go): the builder's
// configuration (read only), the clients, and the state found and made on
// the way.
type runner struct {
	a          *Activation
	live       bool // Run (events, checkpoints, changes); false for Plan
	bc         billingAPI
	ws         workspaceAPI
	hw         huaweiAPI
	clients    apis
	prover     OwnershipProver // nil: the activation cannot prove ownership
	log        *slog.Logger
	clock      Clock
	store      Store
	lease      *leaseKeeper // the Run's lease; nil for Plan and a check
	attempts   int          // codes a step asks for
	sleep      func(context.Context, time.Duration) error
	branchName Branch

	// What check found.
	accountID, instanceID string
	id                    string
	plan                  *Plan
	planned               []Step // for Plan.Run: the steps of the plan run
	cp                    *Checkpoint
	saved                 bool // cp, as it is, is in the store
	sub                   *billing.Subscription

	// Where the run is.
	next     int  // the plan's next step
	st       Step // the change step in progress
	replayed bool // its call was replayed
	op       *op  // its call, or a rebind's
	paused   *op  // the step's own call while a rebind runs

	// What the run made.
	out          outcome
	steps        []Step // the steps taken, for the Result
	notes        []string
	token        secret.String
	tokenExpires time.Time
	rebound      bool
	// spare holds, by email and purpose, a code that was sent with a call
	// the server did not do (a replay, a refused key), so it is still
	// unused: the next call for the same email and purpose tries it first
	// instead of asking for another.
	spare       map[string]secret.String
	resendAfter map[string]time.Time
	tel         *runTelemetry
}

// outcome is what the run made and found: the one source of the Result
// (result) and of the checkpoint's outcome (save).
type outcome struct {
	account               billing.BillingAccount
	workspaceID, loginURL string
	site                  Site
	workspaces            []billing.BoundWorkspace // when already activated
}

func billingAccount(id, username string) billing.BillingAccount {
	return billing.BillingAccount{ID: id, Username: username}
}

func (a *Activation) newRunner(ctx context.Context, live bool) (*runner, error) {
	if ctx == nil {
		return nil, ErrNilContext
	}
	if a == nil {
		return nil, errNilActivation
	}
	if err := a.validate(); err != nil {
		return nil, err
	}
	var p apierror.Problems
	c := a.clients(&p)
	if err := p.Err("Activation"); err != nil {
		return nil, err
	}
	return a.runner(c, live), nil
}

// runner is a fresh runner of the activation with clients c.
func (a *Activation) runner(c apis, live bool) *runner {
	sleep := a.sleeper()
	if sleep == nil {
		sleep = retry.Policy{}.Wait
	}
	// The prover: the one given, else the Huawei client's, else the one
	// the given billing client was made with.
	prover := a.prover
	if a.link != nil && prover == nil {
		prover = a.link
	}
	if p, ok := c.hw.(OwnershipProver); ok && prover == nil {
		prover = p
	}
	if b, ok := c.bc.(billingAdapter); ok && prover == nil && b.c.OwnershipProver() != nil {
		prover = b.c.OwnershipProver()
	}
	r := &runner{a: a, live: live, bc: c.bc, ws: c.ws, hw: c.hw, clients: c, prover: prover, sleep: sleep,
		log: a.logger(), clock: a.now(), store: a.checkpoints(), attempts: a.codeAttempts(),
		branchName: a.branch(), resendAfter: map[string]time.Time{}, spare: map[string]secret.String{},
		tel: newRunTelemetry(a.telemetry, live, a.branch())}
	r.accountID, r.instanceID = a.accountID, a.instanceID
	if l := a.link; l != nil {
		r.accountID, r.instanceID = l.HuaweiAccountID, l.InstanceID
	}
	return r
}

func (r *runner) emit(e Event) {
	r.tel.event(e)
	if r.live && r.a.events != nil {
		r.a.events(e)
	}
}

// stepContext tags the clients' retries with the step, for events.
func (r *runner) stepContext(ctx context.Context, step StepName) context.Context {
	ctx = r.tel.inStep(ctx)
	if !r.live {
		return ctx
	}
	return retry.WithObserver(ctx, func(e retry.Event) {
		reason := e.Reason
		if e.Operation != "" {
			reason = e.Operation + ": " + reason
		}
		r.log.LogAttrs(ctx, slog.LevelWarn, "activation call retrying", slog.String("step", string(step)),
			slog.Int("attempt", e.Attempt), slog.String("reason", reason), slog.Duration("wait", e.Wait))
		r.emit(Event{Type: Retrying, Step: step, Attempt: e.Attempt, Reason: reason, Wait: e.Wait})
	})
}

func (r *runner) started(ctx context.Context, name StepName, key string) {
	r.tel.startStep(ctx, name)
	if !r.live {
		return
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "activation step started", slog.String("activation", r.id),
		slog.String("step", string(name)), slog.String("idempotencyKey", key))
	r.emit(Event{Type: StepStarted, Step: name})
}

func (r *runner) finished(ctx context.Context, name StepName, key string, replayed bool) {
	r.tel.endStep(name, nil, replayed)
	if !r.live {
		return
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "activation step finished", slog.String("activation", r.id),
		slog.String("step", string(name)), slog.String("idempotencyKey", key), slog.Bool("replayed", replayed))
	r.emit(Event{Type: StepFinished, Step: name})
}

// failed wraps err in a *StepError (unless it is one) and reports it.
func (r *runner) failed(ctx context.Context, name StepName, key string, err error) error {
	var se *StepError
	if !errors.As(err, &se) {
		err = &StepError{Step: name, IdempotencyKey: key, Err: err}
	}
	r.tel.endStep(name, err, false)
	if r.live {
		r.log.LogAttrs(ctx, slog.LevelError, "activation step failed", slog.String("activation", r.id),
			slog.String("step", string(name)), slog.String("idempotencyKey", key), slog.String("error", err.Error()))
		r.emit(Event{Type: StepFailed, Step: name, Err: err})
	}
	return err
}

// Run validates the builder, finds the subscription's state as Plan does,
// and takes the steps Plan would list, checkpointing after each. Running it
// again after any failure, from this process or another with the same
// Store, finishes the activation without a second account, binding or
// workspace.
//
// With no branch chosen (BranchCheck), Run only reads and saves no
// checkpoint: for an activated subscription it returns the Result the
// already-activated case of every branch returns (AlreadyActivated, the
// binding, the settled workspaces, the login URL); otherwise a
// *NeedsBranchError (errors.Is(err, ErrNeedsBranch)) naming the branches
// that apply, before any change.
//
// A branch needs a proof that the caller controls the Huawei account (the
// Huawei credentials, or WithOwnershipProver); without one Run returns an
// *OwnershipProofError before any call.
//
// A branch also claims the activation's lease in the Store before it reads
// the subscription: while another run holds it, Run returns a
// *LeaseHeldError naming the holder, having changed nothing, unless
// WithLeaseWait lets it wait (see the package doc on twin runs).
func (a *Activation) Run(ctx context.Context) (res *Result, err error) {
	r, err := a.newRunner(ctx, true)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, sIdentify)
}

// run drives a Run's machine from s, and ends it: the failure recorded,
// the lease released, the activation's span ended.
func (r *runner) run(ctx context.Context, s state) (res *Result, err error) {
	ctx = r.tel.begin(ctx, r.a.site)
	defer func() { r.tel.end(r, r.plan, res, err) }()
	if r.branchName != BranchCheck && r.prover == nil {
		return nil, &OwnershipProofError{HuaweiAccountID: r.accountID, InstanceID: r.instanceID, Branch: r.branchName}
	}
	err = r.drive(ctx, s)
	if r.lease != nil {
		defer r.lease.release(ctx)
	}
	if err != nil {
		return nil, r.stopped(ctx, err)
	}
	return r.result(), nil
}

// result is the Result, from the plan and the outcome.
func (r *runner) result() *Result {
	return &Result{ActivationID: r.id, HuaweiAccountID: r.accountID, InstanceID: r.instanceID, Branch: r.branchName,
		AlreadyActivated: r.plan.AlreadyActivated, SubscriptionStatus: r.sub.Status, BillingAccount: r.out.account,
		WorkspaceID: r.out.workspaceID, Workspaces: r.out.workspaces, Site: r.out.site, LoginURL: r.out.loginURL,
		Steps: r.steps, Notes: r.notes, Subscription: r.sub}
}

// stopped is the error a failed Run returns: the *LeaseLostError when the
// lease was lost on the way (whatever the step in progress then reported),
// else err, recorded in the checkpoint so that Store.List finds it.
// Failures that are not the activation's own are not recorded: a cancelled
// context, or a checkpoint this run may not or cannot save over. A check
// (no branch) saves no checkpoint, failed or not.
func (r *runner) stopped(ctx context.Context, err error) error {
	if r.lease != nil {
		if lost := r.lease.lostErr(); lost != nil {
			return lost
		}
	}
	if r.cp == nil || r.branchName == BranchCheck || errors.Is(err, context.Canceled) || errors.Is(err, ErrLeaseLost) ||
		errors.Is(err, ErrCheckpointConflict) || errors.Is(err, ErrBadCheckpoint) || errors.Is(err, ErrStalePlan) {
		return err
	}
	step := StepCheckSubscription
	if se := (*StepError)(nil); errors.As(err, &se) {
		step = se.Step
	}
	r.cp.Failure = &Failure{Step: step, Error: err.Error(), At: r.clock.Now().UTC()}
	if serr := r.save(ctx); serr != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "activation failure not recorded", slog.String("activation", r.id),
			slog.String("error", serr.Error()))
	}
	return err
}

// holdLease proves, before a change, that the run still holds its lease
// (renewing it); a run without one (Plan, a check) needs none.
func (r *runner) holdLease(ctx context.Context) error {
	if r.lease == nil {
		return nil
	}
	return r.lease.renew(ctx)
}

// save writes the checkpoint, with the outcome so far, over the revision
// it was loaded or last saved with, even when ctx was cancelled after the step it records succeeded:
// the work is done and must not be forgotten.
func (r *runner) save(ctx context.Context) error {
	r.cp.BillingAccountID, r.cp.BillingUsername = r.out.account.ID, r.out.account.Username
	r.cp.WorkspaceID, r.cp.LoginURL = r.out.workspaceID, r.out.loginURL
	r.cp.UpdatedAt = r.clock.Now().UTC()
	r.cp.LastRun = r.tel.ref()
	rev, err := r.store.Save(context.WithoutCancel(ctx), r.id, r.cp)
	if err != nil {
		return &StoreError{Op: "save checkpoint", ActivationID: r.id, Err: err}
	}
	r.cp.Revision = rev
	r.saved = true
	return nil
}
