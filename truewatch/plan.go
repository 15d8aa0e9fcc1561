package truewatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
)

// Branch is the way the activation was configured to go.
type Branch string

// The branches.
const (
	// BranchCheck is an activation with no branch chosen: it only reads.
	// Plan and Run succeed when the subscription is already activated
	// (AlreadyActivated, with the binding, the workspaces and the login URL)
	// and otherwise fail, before any change, with a *NeedsBranchError that
	// says which branches apply.
	BranchCheck Branch = "check"
	// BranchRegister registers a new Billing Center account (Register).
	BranchRegister Branch = "register"
	// BranchBindWorkspace binds an existing Billing Center account and an
	// existing workspace (BindBillingAccount + BindWorkspaceByID/ByName).
	BranchBindWorkspace Branch = "bind_workspace"
	// BranchCreateWorkspace binds an existing Billing Center account and
	// creates a workspace for an existing TrueWatch account.
	BranchCreateWorkspace Branch = "create_workspace"
	// BranchRegisterAndCreate binds an existing Billing Center account,
	// registers a TrueWatch account and creates its first workspace.
	BranchRegisterAndCreate Branch = "register_and_create_workspace"
)

// StepName names a step of the activation.
type StepName string

// The steps, in the order they can happen.
const (
	// StepResolveAccountID looks up the Huawei account ID through IAM.
	StepResolveAccountID StepName = "resolve_account_id"
	// StepResolveInstanceID finds the one active TrueWatch purchase.
	StepResolveInstanceID StepName = "resolve_instance_id"
	// StepCheckSubscription reads the subscription's binding state.
	StepCheckSubscription StepName = "check_subscription"
	// StepRegister registers the TrueWatch and Billing Center accounts and
	// the first workspace.
	StepRegister StepName = "register"
	// StepBindBillingAccount binds the existing Billing Center account.
	StepBindBillingAccount StepName = "bind_billing_account"
	// StepBindWorkspace binds an existing workspace.
	StepBindWorkspace StepName = "bind_workspace"
	// StepCreateWorkspace creates a workspace for an existing TrueWatch
	// account.
	StepCreateWorkspace StepName = "create_workspace"
	// StepRegisterAndCreate registers a TrueWatch account and creates its
	// first workspace.
	StepRegisterAndCreate StepName = "register_and_create_workspace"
)

// Action says what a step does.
type Action string

// The actions.
const (
	// ActionRead: read-only calls.
	ActionRead Action = "read"
	// ActionChange: a call that changes state, with an idempotency key.
	ActionChange Action = "change"
	// ActionSkip: nothing to do (the subscription is already activated).
	ActionSkip Action = "skip"
)

// Step is one step of an activation: planned (Plan.Steps), taken
// (Result.Steps) or checkpointed (Checkpoint.Steps).
type Step struct {
	Name   StepName `json:"name"`
	Action Action   `json:"action"`
	// IdempotencyKey is the key a change step sends; running the activation
	// again, from any process with the same Store, sends the same key. Keys
	// derive from a random secret the activation's first Run makes and
	// checkpoints (Checkpoint.KeySecret), so nobody can compute them from
	// public data; a Plan made before the first Run has none yet (empty).
	// The one exception is the bind of the Billing Center account, which
	// moves to the next key when the server refuses the planned one (an
	// earlier run sent other inputs under it) or replays an expired token;
	// the Result's step then carries the key used and its Reason says why.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// Reason says why the step is taken and what it changes.
	Reason string `json:"reason"`
	// Replayed is true when the server answered a change step from its
	// idempotency store: the work had been done by an earlier attempt.
	Replayed bool `json:"replayed,omitempty"`
	// FoundDone is true when another run of the same activation, running
	// at the same time (another process, another Store), made the change
	// first: the Billing Center refused this run's call as already done,
	// and the subscription, read again, is exactly what this run wanted.
	FoundDone bool `json:"foundDone,omitempty"`
}

// Plan is what Run would do, found with read-only calls.
type Plan struct {
	// ActivationID identifies the activation: derived from the Huawei
	// account ID, the instance ID, the site and the branch. Checkpoints are
	// saved under it; it is public, and idempotency keys derive from it
	// and the activation's secret.
	ActivationID    string
	HuaweiAccountID string
	InstanceID      string
	// Site is the workspace's site: the one chosen, or, when the
	// subscription is already activated, the site of its workspace.
	Site Site
	// Branch is the branch configured; BranchCheck when none was.
	Branch Branch
	// AlreadyActivated is true when a Billing Center account is bound and
	// a workspace is settled: nothing will change.
	AlreadyActivated bool
	// SubscriptionStatus is the subscription's status as the Billing
	// Center reported it (billing.StatusInUse, StatusFrozen, ...), told to
	// anyone. An activated subscription that is not in use stays activated
	// but is not usable: a note says what its status means. It is the
	// Billing Center's value as is, so states it adds read through.
	SubscriptionStatus billing.SubscriptionStatus
	// Resuming is true when an earlier run got part of the way.
	Resuming bool
	// Subscription is the subscription as the Billing Center reported it.
	Subscription *billing.Subscription
	// OwnershipProven is true when the activation proved ownership of the
	// Huawei account, so the Billing Center reported the subscription's
	// binding. Without a proof a Plan lists no change step: the binding
	// state is unknown, and Run refuses to change anything.
	OwnershipProven bool
	// Steps are the steps, in order, with their reasons.
	Steps []Step
	// Notes are facts worth knowing that are not steps (site immutability,
	// a resumed run, a site that differs from the one chosen).
	Notes []string

	// src is what Run needs; nil for a Plan not made by Activation.Plan.
	src *planSource
}

// planSource is what running a Plan needs: the builder that made it (which
// never changes), its clients, the identity found and the steps planned, as
// they were (the Plan's own fields may be changed by whoever holds it).
type planSource struct {
	a                         *Activation
	clients                   apis
	id, accountID, instanceID string
	steps                     []Step
}

// Run runs the plan: it takes the steps, as Activation.Run does, with the
// builder, the clients and the identity the plan was made with. It does
// not repeat what cannot have changed: the validation, the making of the
// clients, and the Huawei look-ups (IAM for the account ID, BSS for the
// instance ID; an account's ID never changes, and an instance no longer in
// use shows in its subscription). It does again what correctness needs,
// as Run does: it claims the lease, loads the checkpoint and reads the
// subscription, with a proof of ownership, before any change.
//
// When the subscription or the checkpoint changed since the plan was made,
// so that running would make a change the plan does not list, Plan.Run
// changes nothing and returns a *StalePlanError (errors.Is(err,
// ErrStalePlan), inside a *StepError for StepCheckSubscription) holding the
// plan as it stands now, which can be shown and run in turn. A change the
// plan lists that was made meanwhile (by an earlier attempt, or a twin) is
// skipped or found done, as Run does; so a plan run twice finds the second
// time what the first did. Steps are compared by name and action: the keys
// of a plan made before the first Run are not known yet.
//
// The Result's steps begin with the plan's look-ups (ActionRead). A Plan
// not made by Activation.Plan (decoded, or built by hand) cannot be run:
// ErrPlanNotRunnable.
func (p *Plan) Run(ctx context.Context) (*Result, error) {
	if ctx == nil {
		return nil, ErrNilContext
	}
	if p == nil || p.src == nil {
		return nil, ErrPlanNotRunnable
	}
	src := p.src
	r := src.a.runner(src.clients, true)
	r.id, r.accountID, r.instanceID, r.planned = src.id, src.accountID, src.instanceID, src.steps
	r.plan = &Plan{ActivationID: src.id, HuaweiAccountID: src.accountID, InstanceID: src.instanceID,
		Site: src.a.site, Branch: r.branchName}
	for _, st := range src.steps {
		if st.Name == StepResolveAccountID || st.Name == StepResolveInstanceID {
			r.plan.Steps = append(r.plan.Steps, st)
		}
	}
	return r.run(ctx, sLease)
}

// runnable makes the runner's plan runnable by Plan.Run.
func (r *runner) runnable() *Plan {
	r.plan.src = &planSource{a: r.a, clients: r.clients, id: r.id, accountID: r.accountID, instanceID: r.instanceID,
		steps: slices.Clone(r.plan.Steps)}
	return r.plan
}

// stale refuses, for Plan.Run, a fresh plan that makes a change the plan
// run did not list: its change steps must be the planned ones, in order,
// or fewer.
func (r *runner) stale() error {
	planned := changeSteps(r.planned)
	var unplanned []StepName
	i := 0
	for _, st := range changeSteps(r.plan.Steps) {
		for i < len(planned) && planned[i].Name != st.Name {
			i++
		}
		if i == len(planned) {
			unplanned = append(unplanned, st.Name)
			continue
		}
		i++
	}
	if len(unplanned) == 0 {
		return nil
	}
	fresh := r.runnable()
	if !r.saved {
		// The key secret this run made is not saved: the plan shows no keys
		// yet, as a Plan before the first Run.
		for i := range fresh.Steps {
			fresh.Steps[i].IdempotencyKey = ""
		}
		fresh.src.steps = slices.Clone(fresh.Steps)
	}
	return &StalePlanError{Plan: fresh, Unplanned: unplanned}
}

// String renders the plan for people, one step per line.
func (p *Plan) String() string {
	var b strings.Builder
	siteName, branchName := string(p.Site), string(p.Branch)
	if siteName == "" {
		siteName = "(not chosen)"
	}
	if p.Branch == BranchCheck {
		branchName += " (no branch chosen: read only)"
	}
	fmt.Fprintf(&b, "activation %s: Huawei account %s, instance %s, site %s, branch %s\n",
		p.ActivationID, p.HuaweiAccountID, p.InstanceID, siteName, branchName)
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "%d. [%s] %s: %s\n", i+1, s.Action, s.Name, s.Reason)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

// ChangeSteps returns the steps that change state, in order.
func (p *Plan) ChangeSteps() []Step { return changeSteps(p.Steps) }

func changeSteps(steps []Step) []Step {
	var out []Step
	for _, s := range steps {
		if s.Action == ActionChange {
			out = append(out, s)
		}
	}
	return out
}

// activationID derives the activation's identity: the same inputs give the
// same ID in every process.
func activationID(accountID, instanceID string, s Site, b Branch) string {
	sum := sha256.Sum256([]byte("truewatch-activation/v1\n" + accountID + "\n" + instanceID + "\n" + string(s) + "\n" + string(b)))
	return "actv_" + hex.EncodeToString(sum[:])[:32]
}

// key is the idempotency key of a step, or "" before the activation has
// its secret (a Plan before the first Run).
func (r *runner) key(step StepName, generation int) string {
	if r.cp.KeySecret.IsZero() {
		return ""
	}
	return stepKey(r.cp.KeySecret, r.id, step, generation)
}

// branch is the configured branch: BranchCheck when no branch method was
// called. Validate refuses contradictory choices.
func (a *Activation) branch() Branch {
	switch {
	case a.register != nil:
		return BranchRegister
	case a.create != nil:
		return BranchCreateWorkspace
	case a.newAccount != nil:
		return BranchRegisterAndCreate
	case a.bindAccount != nil || len(a.wsChoices) > 0:
		return BranchBindWorkspace
	default:
		return BranchCheck
	}
}

// Plan validates the builder, makes read-only calls (Huawei account and
// instance look-ups when not given, the subscription's state, the
// checkpoint) and returns the steps Run would take and why. It changes
// nothing anywhere: no call that changes state, no checkpoint written, no
// event sent.
//
// With no branch chosen (BranchCheck), Plan answers whether the
// subscription is activated: a plan with AlreadyActivated and no change
// step, or a *NeedsBranchError (errors.Is(err, ErrNeedsBranch)) naming the
// branches that apply.
func (a *Activation) Plan(ctx context.Context) (plan *Plan, err error) {
	r, err := a.newRunner(ctx, false)
	if err != nil {
		return nil, err
	}
	ctx = r.tel.begin(ctx, a.site)
	defer func() { r.tel.end(r, plan, nil, err) }()
	err = r.drive(ctx, sIdentify)
	if err != nil || r.plan == nil {
		return r.plan, err
	}
	return r.runnable(), nil
}

// Identity returns the activation's identity without any call when the
// Huawei account and instance IDs are given (WithHuaweiAccountID,
// WithInstanceID): for a service that records or queues the activation
// before running it. Without them Plan looks them up. The builder is
// validated first.
func (a *Activation) Identity() (Identity, error) {
	if err := a.Validate(); err != nil {
		return Identity{}, err
	}
	var p apierror.Problems
	if a.accountID == "" {
		p.Add("huaweiAccountId", "is required to know the identity without a call (WithHuaweiAccountID); Plan looks it up")
	}
	if a.instanceID == "" {
		p.Add("instanceId", "is required to know the identity without a call (WithInstanceID); Plan looks it up")
	}
	if err := p.Err("Activation.Identity"); err != nil {
		return Identity{}, err
	}
	b := a.branch()
	return Identity{ActivationID: activationID(a.accountID, a.instanceID, a.site, b), HuaweiAccountID: a.accountID,
		InstanceID: a.instanceID, Site: a.site, Branch: b}, nil
}

// check is the StepCheckSubscription step: it loads the checkpoint, reads
// the subscription and decides the steps, failing when the subscription
// cannot be activated as configured.
func (r *runner) check(ctx context.Context, plan *Plan) error {
	// A check-only activation never saves a checkpoint, so it loads none.
	var cp *Checkpoint
	var err error
	if r.branchName != BranchCheck {
		cp, err = r.store.Load(ctx, r.id)
	}
	if err == nil && cp != nil && cp.Version == 1 && cp.ActivationID == r.id {
		// Version 1 derived keys from public data: carry on under new,
		// secret keys. A step an earlier run did under an old key is found
		// done from the subscription's state rather than done twice.
		cp.Version = checkpointVersion
		plan.Notes = append(plan.Notes, "the checkpoint is of version 1: the activation goes on under new, secret idempotency keys")
	}
	if err == nil && cp != nil && (cp.Version != checkpointVersion || cp.ActivationID != r.id) {
		err = fmt.Errorf("%w: it has version %d and activation %q; want version %d and %q",
			ErrBadCheckpoint, cp.Version, cp.ActivationID, checkpointVersion, r.id)
	}
	if errors.Is(err, ErrBadCheckpoint) {
		err = fmt.Errorf("%w; delete it (Store.Delete(ctx, %q)) to start again from the subscription's state, which repeats no completed work", err, r.id)
	}
	if err != nil {
		return fmt.Errorf("load checkpoint %s: %w", r.id, err)
	}
	if cp != nil {
		r.tel.link(cp.LastRun)
	}
	switch {
	case cp == nil:
		cp = newCheckpoint(Identity{ActivationID: r.id, HuaweiAccountID: r.accountID, InstanceID: r.instanceID,
			Site: r.a.site, Branch: r.branchName})
	case len(cp.Steps) > 0 && !cp.Completed:
		plan.Resuming = true
		plan.Notes = append(plan.Notes, fmt.Sprintf("resuming: an earlier run completed %s", stepNames(cp.Steps)))
		r.saved = true
	default:
		r.saved = true
	}
	// A Run makes the secret its keys derive from; a Plan, which saves
	// nothing, shows keys only once a Run has made it.
	if cp.KeySecret.IsZero() && r.live && r.branchName != BranchCheck {
		if cp.KeySecret, err = newKeySecret(); err != nil {
			return err
		}
		r.saved = false
	}
	r.cp = cp

	sub, err := r.bc.subscription(ctx, r.accountID, r.instanceID, r.prover)
	if err != nil {
		return err
	}
	r.sub = sub
	plan.Subscription = sub
	plan.SubscriptionStatus = sub.Status
	plan.OwnershipProven = sub.OwnershipProven
	plan.Steps = append(plan.Steps, Step{Name: StepCheckSubscription, Action: ActionRead, Reason: describeSubscription(sub)})
	return r.decide(plan)
}

func describeSubscription(s *billing.Subscription) string {
	var b strings.Builder
	fmt.Fprintf(&b, "subscription %s", s.State())
	if s.Status == billing.StatusExpired && !s.ExpireTime.IsZero() {
		fmt.Fprintf(&b, " (its term ended %s)", s.ExpireTime.UTC().Format(time.RFC3339))
	}
	if !s.OwnershipProven {
		b.WriteString("; its binding is not shown without a proof of ownership of the Huawei account")
		return b.String()
	}
	if s.Bound {
		fmt.Fprintf(&b, ", bound to Billing Center account %q", s.BillingUsername)
	} else {
		b.WriteString(", no Billing Center account bound")
	}
	fmt.Fprintf(&b, ", %d workspace(s) settled", len(s.Workspaces))
	return b.String()
}

func stepNames(steps []Step) string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = string(s.Name)
	}
	return strings.Join(names, ", ")
}

// decide appends the steps that follow from the subscription's state.
func (r *runner) decide(plan *Plan) error {
	a, sub := r.a, r.sub

	if sub.Activated() {
		if err := r.boundElsewhere(); err != nil {
			return err
		}
		plan.AlreadyActivated = true
		w := r.settledWorkspace()
		plan.Site = w.Site
		plan.Notes = append(plan.Notes, fmt.Sprintf("already activated: Billing Center account %q is bound and workspace %s (%s) on site %s is settled by the subscription; nothing to change",
			sub.BillingUsername, w.ID, w.Name, w.Site))
		if a.site != "" && w.Site != a.site {
			plan.Notes = append(plan.Notes, fmt.Sprintf("the workspace is on site %s, not the chosen %s; a workspace's site never changes", w.Site, a.site))
		}
		if n := lifecycleNote(sub); n != "" {
			plan.Notes = append(plan.Notes, n)
		}
		for _, name := range r.changeStepNames() {
			plan.Steps = append(plan.Steps, Step{Name: name, Action: ActionSkip, Reason: "already activated"})
		}
		return nil
	}
	if !sub.Active {
		msg := fmt.Sprintf("subscription %s is %s, not in use", sub.InstanceID, sub.State())
		if sub.Status == billing.StatusClosed {
			return newKindError(ErrSubscriptionInactive, nil, "%s; it was released: buy TrueWatch again on Huawei Cloud Marketplace", msg)
		}
		return newKindError(ErrSubscriptionInactive, nil, "%s; renew or unfreeze it on Huawei Cloud Marketplace first", msg)
	}
	if !sub.OwnershipProven {
		if r.live || r.branchName == BranchCheck {
			return &OwnershipProofError{HuaweiAccountID: r.accountID, InstanceID: r.instanceID, Branch: r.branchName, Subscription: sub}
		}
		plan.Notes = append(plan.Notes, "no proof of ownership of the Huawei account: the Billing Center does not say how the subscription is bound, "+
			"so no change step is planned, and Run refuses to change anything until Huawei credentials or an OwnershipProver are given")
		return nil
	}
	if r.branchName == BranchCheck {
		return newNeedsBranchError(sub)
	}
	if sub.Bound {
		if err := r.boundElsewhere(); err != nil {
			return err
		}
		plan.Resuming = true
	}
	plan.Notes = append(plan.Notes, fmt.Sprintf("site %s is final: a workspace's site never changes once it exists", a.site))

	change := func(name StepName, gen int, reason string, args ...any) {
		plan.Steps = append(plan.Steps, Step{Name: name, Action: ActionChange,
			IdempotencyKey: r.key(name, gen), Reason: fmt.Sprintf(reason, args...)})
	}
	if ri := a.register; ri != nil {
		change(StepRegister, 0, "no Billing Center account is bound: register TrueWatch account %q and a Billing Center account for %s (company %q), create workspace %q (%s) on site %s settled by instance %s",
			ri.Username, ri.Email, ri.Company.Name, ri.WorkspaceName, ri.WorkspaceLanguage, a.site, r.instanceID)
		return nil
	}
	ba := a.bindAccount
	if sub.Bound {
		change(StepBindBillingAccount, r.cp.BindGeneration, "Billing Center account %q is already bound but no workspace is settled: verify %s again to get a token (binding again changes nothing)",
			ba.username, ba.email)
	} else {
		change(StepBindBillingAccount, r.cp.BindGeneration, "bind Billing Center account %q to instance %s, verified by a code sent to %s",
			ba.username, r.instanceID, ba.email)
	}
	switch {
	case a.bindWSID != "":
		change(StepBindWorkspace, 0, "bind existing workspace %s, which must be on site %s, and settle it by instance %s", a.bindWSID, a.site, r.instanceID)
	case a.bindWSName != "":
		change(StepBindWorkspace, 0, "bind the existing workspace named %q on site %s (looked up once the account is bound) and settle it by instance %s",
			a.bindWSName, a.site, r.instanceID)
	case a.create != nil:
		change(StepCreateWorkspace, 0, "create workspace %q (%s) on site %s for the TrueWatch account registered with %s, settled by instance %s",
			a.create.Name, a.create.Language, a.site, a.create.Email, r.instanceID)
	case a.newAccount != nil:
		n := a.newAccount
		change(StepRegisterAndCreate, 0, "register TrueWatch account %q (%s) on site %s and create its workspace %q (%s), settled by instance %s",
			n.Username, n.Email, a.site, n.WorkspaceName, n.WorkspaceLanguage, r.instanceID)
	}
	return nil
}

// boundElsewhere refuses a branch whose Billing Center account is not the
// one bound to the subscription, and Register on a bound subscription
// (registering makes a new account, which cannot be the bound one). It is
// called only with a complete answer (OwnershipProven), the only one that
// names the bound account.
func (r *runner) boundElsewhere() error {
	a, sub := r.a, r.sub
	if !sub.OwnershipProven || !sub.Bound {
		return nil
	}
	e := &BoundElsewhereError{InstanceID: sub.InstanceID, BoundUsername: sub.BillingUsername,
		BoundAccountID: sub.BillingAccountID, Activated: sub.Activated()}
	switch {
	case a.register != nil && !(e.Activated && strings.EqualFold(sub.BillingUsername, a.register.Username)):
		// An activated subscription bound to the username this
		// registration names is this registration, done.
		e.Named, e.Register = a.register.Username, true
	case a.bindAccount != nil && !strings.EqualFold(sub.BillingUsername, a.bindAccount.username):
		e.Named = a.bindAccount.username
	default:
		return nil
	}
	return e
}

// statusMeaning says what a subscription's status means for an activated
// subscription; "" when it is in use.
func statusMeaning(s billing.SubscriptionStatus) string {
	switch s {
	case billing.StatusInUse:
		return ""
	case billing.StatusFrozen:
		return "the subscription is frozen (Huawei froze the purchase, for example for an overdue payment): it stays activated, " +
			"with its binding and workspaces, but TrueWatch cannot be used until Huawei unfreezes it, and nothing can be bound or created meanwhile"
	case billing.StatusExpired:
		return "the subscription has expired: TrueWatch cannot be used, and its workspaces are locked once the Billing Center releases it; " +
			"renew it on Huawei Cloud Marketplace"
	case billing.StatusClosed:
		return "the subscription is closed (released on Huawei Cloud Marketplace): TrueWatch cannot be used through it, " +
			"and its workspaces are locked until bound to a new subscription"
	}
	return fmt.Sprintf("the subscription's status is %q, which this version of the SDK does not know: "+
		"check it in the Billing Center before relying on the activation", s)
}

// lifecycleNote says what an activated subscription that is not in use
// means for it and its workspaces: the grace period before they lock, when
// one runs; else what the status means. "" when it is in use.
func lifecycleNote(sub *billing.Subscription) string {
	until := sub.GraceUntil.UTC().Format(time.RFC3339)
	switch {
	case sub.Status == billing.StatusInUse:
		return ""
	case sub.Status == billing.StatusClosed && sub.InGrace():
		return fmt.Sprintf("the subscription was released: its workspaces lose the Huawei Cloud settlement and lock at %s; settle them otherwise before then", until)
	case sub.InGrace():
		return fmt.Sprintf("the subscription is %s: renew it on Huawei Cloud Marketplace before %s or its workspaces lose the Huawei Cloud settlement and lock", sub.Status, until)
	}
	return statusMeaning(sub.Status)
}

// changeStepNames lists the change steps of the configured branch.
func (r *runner) changeStepNames() []StepName {
	switch r.branchName {
	case BranchCheck:
		return nil
	case BranchRegister:
		return []StepName{StepRegister}
	case BranchCreateWorkspace:
		return []StepName{StepBindBillingAccount, StepCreateWorkspace}
	case BranchRegisterAndCreate:
		return []StepName{StepBindBillingAccount, StepRegisterAndCreate}
	default:
		return []StepName{StepBindBillingAccount, StepBindWorkspace}
	}
}

// settledWorkspace picks the workspace to report for an activated
// subscription: the one this activation made, else the first on the chosen
// site (if one was chosen), else the first.
func (r *runner) settledWorkspace() billing.BoundWorkspace {
	ws := r.sub.Workspaces
	for _, w := range ws {
		if r.cp.WorkspaceID != "" && w.ID == r.cp.WorkspaceID {
			return w
		}
	}
	for _, w := range ws {
		if w.Site == r.a.site {
			return w
		}
	}
	return ws[0]
}
