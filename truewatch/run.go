package truewatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/workspace"
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

// runner is one Plan or Run: the builder's configuration (read only), the
// clients, and the state found and made on the way.
type runner struct {
	a          *Activation
	live       bool // Run (events, checkpoints, changes); false for Plan
	bc         billingAPI
	ws         workspaceAPI
	hw         huaweiAPI
	prover     OwnershipProver // nil: the activation cannot prove ownership
	log        *slog.Logger
	clock      Clock
	store      Store
	lease      *leaseKeeper // the Run's lease; nil for Plan and a check
	attempts   int          // codes a step asks for
	sleep      func(context.Context, time.Duration) error
	branchName Branch

	accountID, instanceID string
	id                    string
	cp                    *Checkpoint
	saved                 bool // cp, as it is, is in the store
	sub                   *billing.Subscription

	token        secret.String
	tokenExpires time.Time
	rebound      bool
	// spare holds, by email and purpose, a code that was sent with a call
	// the server did not do (a replay, a refused key), so it is still
	// unused: the next call for the same email and purpose tries it first
	// instead of asking for another.
	spare       map[string]secret.String
	resendAfter map[string]time.Time
	res         *Result
	tel         *runTelemetry
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
	return &runner{a: a, live: live, bc: c.bc, ws: c.ws, hw: c.hw, prover: prover, sleep: sleep,
		log: a.logger(), clock: a.now(), store: a.checkpoints(), attempts: a.codeAttempts(),
		branchName: a.branch(), resendAfter: map[string]time.Time{}, spare: map[string]secret.String{},
		tel: newRunTelemetry(a.telemetry, live, a.branch())}, nil
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

// readStep runs a read-only step and records it in the plan.
func (r *runner) readStep(ctx context.Context, plan *Plan, name StepName, fn func(context.Context) (string, error)) error {
	r.started(ctx, name, "")
	reason, err := fn(r.stepContext(ctx, name))
	if err != nil {
		return r.failed(ctx, name, "", err)
	}
	plan.Steps = append(plan.Steps, Step{Name: name, Action: ActionRead, Reason: reason})
	r.finished(ctx, name, "", false)
	return nil
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
	ctx = r.tel.begin(ctx, a.site)
	var plan *Plan
	defer func() { r.tel.end(r, plan, res, err) }()
	if r.branchName != BranchCheck && r.prover == nil {
		return nil, &OwnershipProofError{HuaweiAccountID: a.accountID, InstanceID: a.instanceID, Branch: r.branchName}
	}
	plan, err = r.identify(ctx)
	if err != nil {
		return nil, err
	}
	if r.branchName != BranchCheck {
		lctx, err := r.claimLease(ctx)
		if err != nil {
			return nil, r.failed(ctx, StepCheckSubscription, "", err)
		}
		defer r.lease.release(ctx)
		ctx = lctx
	}
	res, err = r.run(ctx, plan)
	if err != nil {
		return nil, r.stopped(ctx, err)
	}
	return res, nil
}

func (r *runner) run(ctx context.Context, plan *Plan) (*Result, error) {
	if err := r.checkStep(ctx, plan); err != nil {
		return nil, err
	}
	return r.execute(ctx, plan)
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
		errors.Is(err, ErrCheckpointConflict) || errors.Is(err, ErrBadCheckpoint) {
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

func (r *runner) execute(ctx context.Context, plan *Plan) (*Result, error) {
	r.res = &Result{ActivationID: r.id, HuaweiAccountID: r.accountID, InstanceID: r.instanceID,
		Branch: r.branchName, AlreadyActivated: plan.AlreadyActivated, SubscriptionStatus: plan.SubscriptionStatus,
		Site: plan.Site, Notes: plan.Notes, Subscription: plan.Subscription}
	if r.cp.BillingAccountID != "" {
		r.res.BillingAccount = billing.BillingAccount{ID: r.cp.BillingAccountID, Username: r.cp.BillingUsername}
	}
	for _, st := range plan.Steps {
		switch st.Action {
		case ActionRead:
			r.res.Steps = append(r.res.Steps, st)
		case ActionSkip:
			r.log.LogAttrs(ctx, slog.LevelInfo, "activation step skipped", slog.String("activation", r.id),
				slog.String("step", string(st.Name)), slog.String("reason", st.Reason))
			r.emit(Event{Type: StepSkipped, Step: st.Name, Reason: st.Reason})
			r.res.Steps = append(r.res.Steps, st)
		case ActionChange:
			if err := r.change(ctx, st); err != nil {
				return nil, err
			}
		}
	}
	if plan.AlreadyActivated {
		w := r.settledWorkspace()
		r.res.BillingAccount = billing.BillingAccount{ID: r.sub.BillingAccountID, Username: r.sub.BillingUsername}
		r.res.WorkspaceID, r.res.Site = w.ID, w.Site
		r.res.Workspaces = append([]billing.BoundWorkspace(nil), r.sub.Workspaces...)
		r.res.LoginURL = r.sub.LoginURL
		if r.res.LoginURL == "" {
			r.res.LoginURL = r.cp.LoginURL
		}
	}
	if r.branchName != BranchCheck {
		r.cp.Completed, r.cp.Failure = true, nil
		r.cp.BillingAccountID, r.cp.BillingUsername = r.res.BillingAccount.ID, r.res.BillingAccount.Username
		r.cp.WorkspaceID, r.cp.LoginURL = r.res.WorkspaceID, r.res.LoginURL
		if err := r.save(ctx); err != nil {
			return nil, err
		}
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "activation finished", slog.String("activation", r.id),
		slog.Bool("alreadyActivated", r.res.AlreadyActivated), slog.String("workspace", r.res.WorkspaceID),
		slog.String("site", string(r.res.Site)))
	return r.res, nil
}

// save writes the checkpoint over the revision it was loaded or last saved
// with, even when ctx was cancelled after the step it records succeeded:
// the work is done and must not be forgotten.
func (r *runner) save(ctx context.Context) error {
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

// change runs one change step and checkpoints it.
func (r *runner) change(ctx context.Context, st Step) error {
	r.started(ctx, st.Name, st.IdempotencyKey)
	if err := r.holdLease(ctx); err != nil {
		return r.failed(ctx, st.Name, st.IdempotencyKey, err)
	}
	// The key secret is in the store before the first key is sent, so that
	// a run after a crash sends the same keys. The save comes after the
	// lease is proven and names the revision loaded: a run that lost the
	// activation to another never replaces its secret.
	if !r.saved {
		if err := r.save(ctx); err != nil {
			return r.failed(ctx, st.Name, st.IdempotencyKey, err)
		}
	}
	sctx := r.stepContext(ctx, st.Name)
	var (
		meta callMeta
		err  error
	)
	switch st.Name {
	case StepRegister:
		meta, err = r.doRegister(sctx, st)
	case StepBindBillingAccount:
		var why []string
		st.IdempotencyKey, why, meta, err = r.bindAccount(sctx, st.Name)
		if len(why) > 0 {
			st.Reason += "; bound under a new key: " + strings.Join(why, "; ")
		}
	case StepBindWorkspace:
		meta, err = r.doBindWorkspace(sctx, st)
	case StepCreateWorkspace:
		meta, err = r.doCreate(sctx, st)
	case StepRegisterAndCreate:
		meta, err = r.doRegisterAndCreate(sctx, st)
	default:
		err = fmt.Errorf("unknown step %q", st.Name)
	}
	if err != nil && r.foundDone(sctx, err) {
		err = nil
		st.FoundDone = true
		st.Reason += "; another run of this activation made this change first, and the subscription is as this run wanted it"
	}
	if err != nil {
		return r.failed(ctx, st.Name, st.IdempotencyKey, err)
	}
	st.Replayed = meta.Replayed
	r.res.Steps = append(r.res.Steps, st)
	r.cp.Steps = append(r.cp.Steps, st)
	r.cp.BillingAccountID, r.cp.BillingUsername = r.res.BillingAccount.ID, r.res.BillingAccount.Username
	r.cp.WorkspaceID, r.cp.LoginURL = r.res.WorkspaceID, r.res.LoginURL
	r.cp.Failure = nil
	if err := r.save(ctx); err != nil {
		return r.failed(ctx, st.Name, st.IdempotencyKey, err)
	}
	r.finished(ctx, st.Name, st.IdempotencyKey, meta.Replayed)
	return nil
}

func (r *runner) doRegister(ctx context.Context, st Step) (callMeta, error) {
	info := r.a.register
	req := registerRequest(info, r.a.site, r.accountID, r.instanceID)
	var meta callMeta
	err := r.withCode(ctx, st.Name, info.Email, billing.PurposeRegister, func(code secret.String) error {
		req.EmailCode = code
		res, m, err := r.bc.register(ctx, req, st.IdempotencyKey, r.prover)
		if err != nil {
			return err
		}
		meta = m
		r.res.BillingAccount = res.BillingAccount
		r.res.WorkspaceID, r.res.LoginURL = res.Workspace.ID, res.LoginURL
		if res.Workspace.Site != "" {
			r.res.Site = res.Workspace.Site
		}
		return nil
	})
	return meta, err
}

// foundDone handles two runs of one activation at once (two processes, two
// Stores): the one that comes second finds its change refused as already
// done (the subscription bound, the name taken, the workspace settled). It
// reads the subscription again, with the proof, and when it is exactly what
// this run wanted (the Billing Center account, and the workspace by ID or
// by name on the chosen site) takes the outcome as its own.
func (r *runner) foundDone(ctx context.Context, err error) bool {
	// A twin also uses up the codes both runs read from one mailbox.
	if errors.Is(err, apierror.ErrIdempotencyKeyReused) || !(errors.Is(err, apierror.ErrAlreadyBound) ||
		errors.Is(err, apierror.ErrNameTaken) || errors.Is(err, apierror.ErrConflict) || errors.Is(err, ErrNotBindable) ||
		errors.Is(err, apierror.ErrInvalidCode)) {
		return false
	}
	sub, serr := r.bc.subscription(ctx, r.accountID, r.instanceID, r.prover)
	if serr != nil {
		return false
	}
	w, ok := r.wanted(sub)
	if !ok {
		return false
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "activation found its change made by another run", slog.String("activation", r.id),
		slog.String("workspace", w.ID))
	r.sub = sub
	r.res.SubscriptionStatus, r.res.Subscription = sub.Status, sub
	r.res.BillingAccount = billing.BillingAccount{ID: sub.BillingAccountID, Username: sub.BillingUsername}
	r.res.WorkspaceID, r.res.Site, r.res.LoginURL = w.ID, w.Site, sub.LoginURL
	r.res.Notes = append(r.res.Notes, "another run of this activation, at the same time, made part of it; this run found it done")
	return true
}

// wanted finds, in a subscription, the outcome the activation was
// configured for: bound to its Billing Center account, settling its
// workspace (by ID, or by name) on its site.
func (r *runner) wanted(sub *billing.Subscription) (billing.BoundWorkspace, bool) {
	a := r.a
	if !sub.OwnershipProven || !sub.Bound {
		return billing.BoundWorkspace{}, false
	}
	var user, id, name string
	switch {
	case a.register != nil:
		user, name = a.register.Username, a.register.WorkspaceName
	case a.bindAccount != nil:
		user = a.bindAccount.username
		switch {
		case a.bindWSID != "":
			id = a.bindWSID
		case a.bindWSName != "":
			name = a.bindWSName
		case a.create != nil:
			name = a.create.Name
		case a.newAccount != nil:
			name = a.newAccount.WorkspaceName
		}
	}
	if user == "" || !strings.EqualFold(sub.BillingUsername, user) {
		return billing.BoundWorkspace{}, false
	}
	for _, w := range sub.Workspaces {
		if w.Site == a.site && (id != "" && w.ID == id || id == "" && w.Name == name) {
			return w, true
		}
	}
	return billing.BoundWorkspace{}, false
}

// maxBindGenerations bounds how many keys one bind tries.
const maxBindGenerations = 16

// bindAccount binds the Billing Center account under the key of the
// checkpoint's bind generation and returns the key it used. It moves to the
// next generation, a fresh key, when the server refuses the key because an
// earlier run sent it with different inputs (the username or email spelled
// another way), or replays a token that has expired since (a run in another
// process, whose checkpoint this one cannot see). Binding an account again
// changes nothing, so a fresh key never binds twice; why lists the reasons
// a fresh key was needed.
func (r *runner) bindAccount(ctx context.Context, step StepName) (key string, why []string, meta callMeta, err error) {
	for tries := 1; ; tries++ {
		key = r.key(StepBindBillingAccount, r.cp.BindGeneration)
		meta, err = r.doBindAccount(ctx, step, key)
		var reason string
		switch {
		case errors.Is(err, apierror.ErrIdempotencyKeyReused):
			reason = "an earlier run sent the previous key with different inputs"
		case err != nil:
			return key, why, meta, err
		case meta.Replayed && !r.tokenExpires.IsZero() && !r.tokenExpires.After(r.clock.Now()):
			reason = "the token replayed for the previous key has expired"
		default:
			return key, why, meta, nil
		}
		if tries == maxBindGenerations {
			if err == nil {
				err = fmt.Errorf("%s after %d keys", reason, tries)
			}
			return key, why, meta, err
		}
		why = append(why, reason)
		r.cp.BindGeneration++
		r.log.LogAttrs(ctx, slog.LevelWarn, "activation binding again under a new key", slog.String("activation", r.id),
			slog.String("step", string(step)), slog.String("reason", reason),
			slog.String("idempotencyKey", r.key(StepBindBillingAccount, r.cp.BindGeneration)))
		r.emit(Event{Type: Retrying, Step: step, Attempt: tries, Reason: reason + "; binding again under a new key"})
	}
}

// doBindAccount binds the Billing Center account under key and keeps its
// token.
func (r *runner) doBindAccount(ctx context.Context, step StepName, key string) (callMeta, error) {
	ba := r.a.bindAccount
	req := &billing.BindAccountRequest{Username: ba.username, Email: ba.email,
		HuaweiAccountID: r.accountID, InstanceID: r.instanceID}
	var meta callMeta
	err := r.withCode(ctx, step, ba.email, billing.PurposeBindBillingAccount, func(code secret.String) error {
		req.EmailCode = code
		res, m, err := r.bc.bindAccount(ctx, req, key, r.prover)
		if m.Replayed || errors.Is(err, apierror.ErrIdempotencyKeyReused) {
			r.spare[codeKey(ba.email, billing.PurposeBindBillingAccount)] = code
		}
		if err != nil {
			return err
		}
		meta = m
		r.token, r.tokenExpires = res.Token, res.ExpiresAt.Time
		r.res.BillingAccount = res.BillingAccount
		return nil
	})
	return meta, err
}

// withToken runs fn with the Billing Center token. When the token is
// refused (it expired during a long run, or a replayed bind returned one
// the server no longer accepts), it binds again once, under the next key,
// and retries fn.
func (r *runner) withToken(ctx context.Context, step StepName, fn func(secret.String) error) error {
	err := fn(r.token)
	if err == nil || r.rebound || !errors.Is(err, apierror.ErrUnauthorized) {
		return err
	}
	r.rebound = true
	r.cp.BindGeneration++
	reason := "the Billing Center token was refused; binding the account again for a new one"
	r.log.LogAttrs(ctx, slog.LevelWarn, "activation token refused", slog.String("activation", r.id),
		slog.String("step", string(step)))
	r.emit(Event{Type: Retrying, Step: step, Attempt: 1, Reason: reason})
	key, why, meta, err := r.bindAccount(ctx, step)
	if err != nil {
		return err
	}
	if len(why) > 0 {
		reason += "; " + strings.Join(why, "; ")
	}
	r.res.Steps = append(r.res.Steps, Step{Name: StepBindBillingAccount, Action: ActionChange,
		IdempotencyKey: key, Reason: reason, Replayed: meta.Replayed})
	if err := r.save(ctx); err != nil {
		return err
	}
	return fn(r.token)
}

func (r *runner) doBindWorkspace(ctx context.Context, st Step) (callMeta, error) {
	var meta callMeta
	err := r.withToken(ctx, st.Name, func(token secret.String) error {
		list, err := r.bc.workspaces(ctx, token)
		if err != nil {
			return err
		}
		w, err := r.pickWorkspace(list)
		if err != nil {
			return err
		}
		res, m, err := r.bc.bindWorkspace(ctx, token, &billing.BindWorkspaceRequest{WorkspaceID: w.ID}, st.IdempotencyKey)
		if err != nil {
			return err
		}
		meta = m
		r.res.WorkspaceID, r.res.LoginURL = res.Workspace.ID, res.LoginURL
		return nil
	})
	return meta, err
}

// pickWorkspace finds the workspace to bind among the account's.
func (r *runner) pickWorkspace(list []billing.BindableWorkspace) (billing.BindableWorkspace, error) {
	want := r.a.site
	var match []billing.BindableWorkspace
	for _, w := range list {
		if r.a.bindWSID != "" && w.ID == r.a.bindWSID || r.a.bindWSID == "" && w.Name == r.a.bindWSName {
			match = append(match, w)
		}
	}
	what := fmt.Sprintf("workspace %s", r.a.bindWSID)
	if r.a.bindWSID == "" {
		what = fmt.Sprintf("workspace named %q", r.a.bindWSName)
	}
	if len(match) == 0 {
		return billing.BindableWorkspace{}, newKindError(ErrWorkspaceNotFound, apierror.ErrNotFound,
			"%s not found among the %d workspace(s) of Billing Center account %q", what, len(list), r.a.bindAccount.username)
	}
	var onSite []billing.BindableWorkspace
	var sites []string
	for _, w := range match {
		if w.Site == want {
			onSite = append(onSite, w)
		} else {
			sites = append(sites, string(w.Site))
		}
	}
	switch {
	case len(onSite) == 0:
		return billing.BindableWorkspace{}, newKindError(ErrSiteMismatch, nil,
			"%s is on site %s, not the chosen %s; a workspace's site never changes", what, strings.Join(sites, ", "), want)
	case len(onSite) > 1:
		ids := make([]string, len(onSite))
		for i, w := range onSite {
			ids[i] = w.ID
		}
		return billing.BindableWorkspace{}, newKindError(ErrWorkspaceAmbiguous, nil,
			"%s matches %d workspaces on site %s (%s); bind one by ID", what, len(onSite), want, strings.Join(ids, ", "))
	}
	w := onSite[0]
	// A workspace already settled by this subscription (by an earlier or a
	// twin run) is bound again, which the Billing Center answers without a
	// change.
	if !w.Bindable && w.Reason != billing.ReasonAlreadyBound {
		return w, newKindError(ErrNotBindable, apierror.ErrConflict, "%s (%s) cannot be bound: %s", what, w.ID, w.Reason)
	}
	return w, nil
}

func (r *runner) doCreate(ctx context.Context, st Step) (callMeta, error) {
	info := r.a.create
	req := createRequest(info, r.a.site)
	return r.workspaceCall(ctx, st, info.Email, func(token, code secret.String) (*workspace.CreateResult, callMeta, error) {
		req.EmailCode = code
		return r.ws.create(ctx, token, req, st.IdempotencyKey)
	})
}

func (r *runner) doRegisterAndCreate(ctx context.Context, st Step) (callMeta, error) {
	info := r.a.newAccount
	req := registerAndCreateRequest(info, r.a.site)
	return r.workspaceCall(ctx, st, info.Email, func(token, code secret.String) (*workspace.CreateResult, callMeta, error) {
		req.EmailCode = code
		return r.ws.registerAndCreate(ctx, token, req, st.IdempotencyKey)
	})
}

// workspaceCall runs a code-verified, token-authorised workspace creation.
func (r *runner) workspaceCall(ctx context.Context, st Step, email string,
	call func(token, code secret.String) (*workspace.CreateResult, callMeta, error)) (callMeta, error) {
	var meta callMeta
	err := r.withCode(ctx, st.Name, email, billing.PurposeCreateWorkspace, func(code secret.String) error {
		return r.withToken(ctx, st.Name, func(token secret.String) error {
			res, m, err := call(token, code)
			if err != nil {
				return err
			}
			meta = m
			r.res.WorkspaceID, r.res.LoginURL = res.Workspace.ID, res.LoginURL
			if res.Workspace.Site != "" {
				r.res.Site = res.Workspace.Site
			}
			return nil
		})
	})
	return meta, err
}

// withCode sends a verification code, asks the provider for it and makes
// the call. A wrong code is asked for again; an expired one is replaced by
// a new code (waiting until one may be sent); after maxCodeAttempts codes,
// a *CodeError.
func (r *runner) withCode(ctx context.Context, step StepName, email string, purpose billing.Purpose, call func(secret.String) error) error {
	if code, ok := r.spare[codeKey(email, purpose)]; ok {
		delete(r.spare, codeKey(email, purpose))
		if err := r.holdLease(ctx); err != nil {
			return err
		}
		err := call(code)
		if err == nil || !errors.Is(err, apierror.ErrInvalidCode) && !errors.Is(err, apierror.ErrCodeExpired) {
			return err
		}
	}
	// cur.earlier is true when the code in the inbox predates this run: a
	// new one was refused because one was sent moments ago.
	cur, err := r.sendCode(ctx, step, email, purpose, false)
	if err != nil {
		return err
	}
	var last error
	reason := ""
	if cur.earlier {
		reason = fmt.Sprintf("no new code was sent: the %s code sent to %s less than a minute ago, before this run, is still valid",
			purpose, email)
		if !cur.expiresAt.IsZero() {
			reason += " until " + cur.expiresAt.UTC().Format("15:04:05 UTC")
		}
		reason += "; enter that one"
	}
	attempts := r.attempts
	var refused []secret.String
	for attempt := 1; attempt <= attempts; attempt++ {
		req := CodeRequest{Email: email, Purpose: purpose, Attempt: attempt, Reason: reason,
			Earlier: cur.earlier, ExpiresAt: cur.expiresAt}
		r.emit(Event{Type: CodeRequested, Step: step, Attempt: attempt, Reason: reason})
		r.log.LogAttrs(ctx, slog.LevelInfo, "verification code requested", slog.String("step", string(step)),
			slog.String("purpose", string(purpose)), slog.Int("attempt", attempt))
		code, err := r.a.codes(ctx, req)
		if err != nil {
			return fmt.Errorf("verification code for %s: %w", email, err)
		}
		var p apierror.Problems
		rules.Code(&p, "emailCode", code.Reveal())
		if err := p.Err("VerificationCode"); err != nil {
			last, reason = err, fmt.Sprintf("the code must be %d digits", rules.CodeLength)
			continue
		}
		if slices.Contains(refused, code) {
			// The provider gave a code already refused (a mailbox whose
			// latest code was used up meanwhile, by another run of this
			// activation): only a new code can work.
			reason = "that code was already refused; a new one was sent"
			if attempt < attempts {
				if cur, err = r.sendCode(ctx, step, email, purpose, true); err != nil {
					return err
				}
			}
			continue
		}
		// Waiting for a code may take long: prove the lease again before the change.
		if err := r.holdLease(ctx); err != nil {
			return err
		}
		err = call(code)
		if errors.Is(err, apierror.ErrInvalidCode) {
			refused = append(refused, code)
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, apierror.ErrCodeExpired) || cur.earlier && errors.Is(err, apierror.ErrInvalidCode):
			last, reason = err, "the code expired; a new one was sent"
			if attempt < attempts {
				if cur, err = r.sendCode(ctx, step, email, purpose, true); err != nil {
					return err
				}
			}
		case errors.Is(err, apierror.ErrInvalidCode):
			last, reason = err, "the code was wrong"
		default:
			return err
		}
	}
	return &CodeError{Email: email, Purpose: purpose, Attempts: attempts, Err: last}
}

// sentCode is the code a provider is asked for.
type sentCode struct {
	earlier   bool      // no code was sent now: one sent moments ago, before this run, is used
	expiresAt time.Time // when it stops working; zero when not known
}

// sendCode asks the Billing Center to email a code. A resend waits until
// the Billing Center allows one. When a first send is refused because a
// code was sent moments ago (by a run that stopped, or a twin), that code
// is used: earlier is set, and its expiry is worked out from when a new
// one may be sent (the contract's resend interval after it was sent).
func (r *runner) sendCode(ctx context.Context, step StepName, email string, purpose billing.Purpose, resend bool) (sentCode, error) {
	k := codeKey(email, purpose)
	if at, ok := r.resendAfter[k]; ok && resend {
		if err := r.wait(ctx, step, at.Sub(r.clock.Now()), "waiting until a new verification code may be sent"); err != nil {
			return sentCode{}, err
		}
	}
	req := &billing.SendCodeRequest{Email: email, Purpose: purpose}
	res, err := r.bc.sendCode(ctx, req)
	if errors.Is(err, apierror.ErrResendTooSoon) {
		wait := resendWait(err)
		if !resend {
			r.log.LogAttrs(ctx, slog.LevelInfo, "verification code sent recently; using it", slog.String("step", string(step)),
				slog.String("purpose", string(purpose)))
			now := r.clock.Now()
			r.resendAfter[k] = now.Add(wait)
			return sentCode{earlier: true, expiresAt: now.Add(wait - resendInterval + codeLifetime).Truncate(time.Second)}, nil
		}
		if err := r.wait(ctx, step, wait, "a new verification code was refused as too soon; waiting"); err != nil {
			return sentCode{}, err
		}
		res, err = r.bc.sendCode(ctx, req)
	}
	if err != nil {
		return sentCode{}, err
	}
	r.resendAfter[k] = res.ResendAfter.Time
	return sentCode{expiresAt: res.ExpiresAt.Time}, nil
}

// codeKey identifies the codes sent to email for purpose.
func codeKey(email string, purpose billing.Purpose) string { return email + "\x00" + string(purpose) }

// resendWait is how long to wait after a send refused as too soon: the
// server's Retry-After when it gave one, else the resend interval.
func resendWait(err error) time.Duration {
	var ae *apierror.Error
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return ae.RetryAfter
	}
	return resendInterval
}

func (r *runner) wait(ctx context.Context, step StepName, d time.Duration, reason string) error {
	if d <= 0 {
		return nil
	}
	r.emit(Event{Type: Retrying, Step: step, Attempt: 1, Reason: reason, Wait: d})
	r.log.LogAttrs(ctx, slog.LevelInfo, "activation waiting", slog.String("step", string(step)),
		slog.String("reason", reason), slog.Duration("wait", d))
	return r.sleep(ctx, d)
}
