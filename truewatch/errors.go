package truewatch

import (
	"errors"
	"fmt"
	"strings"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
)

// Sentinels for the activation's own failures, matched with errors.Is. API
// failures keep their *apierror.Error (reachable with errors.As) inside a
// *StepError.
var (
	// ErrSubscriptionInactive: the marketplace subscription is not in use
	// (closed, frozen or expired), so it cannot be activated.
	ErrSubscriptionInactive = errors.New("subscription is not active")
	// ErrBoundElsewhere: the subscription is already bound to a Billing
	// Center account other than the one this activation names. It is
	// matched by the *BoundElsewhereError that names the bound account.
	ErrBoundElsewhere = errors.New("subscription is bound to another Billing Center account")
	// ErrSiteMismatch: the workspace to bind lives on another site than the
	// one chosen; a workspace's site never changes.
	ErrSiteMismatch = errors.New("workspace is on another site")
	// ErrWorkspaceNotFound: no workspace of the Billing Center account has
	// the given ID or name. It also matches apierror.ErrNotFound.
	ErrWorkspaceNotFound = errors.New("workspace not found")
	// ErrWorkspaceAmbiguous: more than one workspace has the given name.
	ErrWorkspaceAmbiguous = errors.New("more than one workspace has that name")
	// ErrNotBindable: the workspace cannot be bound to this subscription
	// (settled by another active subscription, settlement changed this
	// month, ...). It also matches apierror.ErrConflict.
	ErrNotBindable = errors.New("workspace cannot be bound")
	// ErrNeedsBranch: an activation with no branch chosen (BranchCheck)
	// found a subscription that is not activated yet; activating it needs a
	// branch. It is matched by the *NeedsBranchError that says which.
	ErrNeedsBranch = errors.New("subscription is not activated; choose a branch")
	// ErrBadCheckpoint: the checkpoint saved for the activation cannot be
	// used (torn or unreadable, another format version, another
	// activation). Plan and Run refuse it before any change; deleting it is
	// safe, since the activation decides from the subscription's state: the
	// next Run makes new idempotency keys, and a change an earlier run made
	// under the old ones is found done instead of done twice. A Store
	// returns it (wrapped) for data it cannot decode.
	ErrBadCheckpoint = errors.New("truewatch: checkpoint cannot be used")
	// ErrNilContext: Plan or Run was given a nil context.
	ErrNilContext = errors.New("truewatch: nil context")
	// ErrOwnershipUnproven: the activation cannot prove that the caller
	// controls the Huawei account (no Huawei credentials, no
	// OwnershipProver), so the Billing Center will neither change the
	// subscription nor say how it is bound. It is matched by the
	// *OwnershipProofError that says what is missing.
	ErrOwnershipUnproven = errors.New("truewatch: no proof of ownership of the Huawei account")
	// ErrStalePlan: Plan.Run found that the subscription or the checkpoint
	// changed since the plan was made, so that running it would make a
	// change it does not list; nothing was changed. It is matched by the
	// *StalePlanError that holds the plan as it stands now.
	ErrStalePlan = errors.New("truewatch: the plan is stale")
	// ErrPlanNotRunnable: Plan.Run was called on a Plan that
	// Activation.Plan did not make (decoded, or built by hand).
	ErrPlanNotRunnable = errors.New("truewatch: only a Plan made by Activation.Plan can be run")
)

// StalePlanError is what Plan.Run returns, inside a *StepError for
// StepCheckSubscription and before any change, when running the plan would
// make a change it does not list: the subscription or the checkpoint
// changed since it was made (a subscription released and bought again, a
// workspace unbound). It matches ErrStalePlan.
type StalePlanError struct {
	// Plan is the plan as it stands now; it can be shown, and run.
	Plan *Plan
	// Unplanned are the change steps Plan lists that the plan run did not.
	Unplanned []StepName
}

func (e *StalePlanError) Error() string {
	names := make([]string, len(e.Unplanned))
	for i, n := range e.Unplanned {
		names[i] = string(n)
	}
	return fmt.Sprintf("truewatch: the plan is stale: the subscription changed since it was made, and running now would also %s; "+
		"nothing was changed: review the plan in this error and run it", strings.Join(names, ", "))
}

// Is makes errors.Is(err, ErrStalePlan) true.
func (e *StalePlanError) Is(target error) bool { return target == ErrStalePlan }

// BoundElsewhereError is what Plan and Run return, inside a *StepError
// for StepCheckSubscription and before any change, when the subscription
// is bound to another Billing Center account than the one the activation
// names (BindBillingAccount's username), or when Register meets a
// subscription that is bound already. It names the bound account, which
// the Billing Center tells only a caller that proved ownership of the
// Huawei account. It matches ErrBoundElsewhere.
type BoundElsewhereError struct {
	InstanceID string
	// BoundUsername and BoundAccountID name the Billing Center account
	// bound to the subscription.
	BoundUsername  string
	BoundAccountID string
	// Named is the Billing Center username the activation names.
	Named string
	// Register is true when the activation registers a new account.
	Register bool
	// Activated is true when the subscription is activated (a workspace is
	// settled) by the bound account.
	Activated bool
}

func (e *BoundElsewhereError) Error() string {
	switch {
	case e.Activated:
		return fmt.Sprintf("subscription %s is already activated with Billing Center account %q, not %q; nothing was changed: "+
			"use BindBillingAccount(%q, email), or no branch to read the activation", e.InstanceID, e.BoundUsername, e.Named, e.BoundUsername)
	case e.Register:
		return fmt.Sprintf("subscription %s is already bound to Billing Center account %q but has no workspace; "+
			"finish with BindBillingAccount(%q, email) and a workspace choice instead of Register", e.InstanceID, e.BoundUsername, e.BoundUsername)
	}
	return fmt.Sprintf("subscription %s is bound to Billing Center account %q, not %q", e.InstanceID, e.BoundUsername, e.Named)
}

// Is makes errors.Is(err, ErrBoundElsewhere) true.
func (e *BoundElsewhereError) Is(target error) bool { return target == ErrBoundElsewhere }

// OwnershipProofError is what Run returns, before any call that changes
// anything, when the activation has a branch but no way to prove that the
// caller controls the Huawei account: the account and instance IDs are
// known to others (they are on invoices, in screenshots, in support
// tickets) and prove nothing. A check (no branch) returns it, inside a
// *StepError for StepCheckSubscription, when the Billing Center would not
// say whether an active subscription is activated without a proof. It
// matches ErrOwnershipUnproven and apierror.ErrProofRequired.
type OwnershipProofError struct {
	HuaweiAccountID string
	InstanceID      string
	Branch          Branch
	// Subscription is what the Billing Center tells without a proof (its
	// status), when the activation asked; nil otherwise.
	Subscription *billing.Subscription
}

func (e *OwnershipProofError) Error() string {
	what := "activating it changes it"
	if e.Branch == BranchCheck {
		what = "the Billing Center says whether it is activated only to its owner"
	}
	return fmt.Sprintf("truewatch: instance %s of Huawei account %s: %s, which needs proof that you control the Huawei account; "+
		"the IDs alone prove nothing: give Huawei credentials of the account (WithHuaweiCredentials, WithHuaweiCredentialsFromEnv "+
		"or WithHuaweiClient) or an OwnershipProver (WithOwnershipProver)", e.InstanceID, e.HuaweiAccountID, what)
}

// Is makes errors.Is(err, ErrOwnershipUnproven) and
// errors.Is(err, apierror.ErrProofRequired) true.
func (e *OwnershipProofError) Is(target error) bool {
	return target == ErrOwnershipUnproven || target == apierror.ErrProofRequired || target == apierror.ErrOwnershipProof
}

// errNilActivation is returned by the methods of a nil *Activation.
var errNilActivation = errors.New("truewatch: nil *Activation; make one with NewActivation")

// workspaceChoices names the builder methods that choose the workspace
// after BindBillingAccount.
const workspaceChoices = "BindWorkspaceByID, BindWorkspaceByName, CreateWorkspace or RegisterAndCreateWorkspace"

// NeedsBranchError is what Plan and Run return, inside a *StepError for
// StepCheckSubscription, when no branch was chosen and the subscription is
// in use but not activated. Nothing was changed. It matches ErrNeedsBranch.
type NeedsBranchError struct {
	// Subscription is the subscription as the Billing Center reported it.
	Subscription *billing.Subscription
	// Branches are the branches that can activate it: with no Billing
	// Center account bound, BranchRegister (a new one) or a bind branch (an
	// existing one); with one bound but no workspace settled, only the bind
	// branches, to finish the workspace step.
	Branches []Branch
}

func newNeedsBranchError(sub *billing.Subscription) *NeedsBranchError {
	e := &NeedsBranchError{Subscription: sub}
	if !sub.Bound {
		e.Branches = append(e.Branches, BranchRegister)
	}
	e.Branches = append(e.Branches, BranchBindWorkspace, BranchCreateWorkspace, BranchRegisterAndCreate)
	return e
}

func (e *NeedsBranchError) Error() string {
	s := e.Subscription
	if s == nil {
		return ErrNeedsBranch.Error()
	}
	if s.Bound {
		return fmt.Sprintf("subscription %s is not activated: Billing Center account %q is bound but no workspace is settled; "+
			"finish with BindBillingAccount(%q, email) and one of %s", s.InstanceID, s.BillingUsername, s.BillingUsername, workspaceChoices)
	}
	return fmt.Sprintf("subscription %s is not activated: no Billing Center account is bound; "+
		"choose Register to create one, or BindBillingAccount (an existing one) and one of %s", s.InstanceID, workspaceChoices)
}

// Is makes errors.Is(err, ErrNeedsBranch) true.
func (e *NeedsBranchError) Is(target error) bool { return target == ErrNeedsBranch }

// StepError is a failed activation step. Unwrap gives the cause: an
// *apierror.Error from a client, a *CodeError, or one of this package's
// sentinels.
type StepError struct {
	// Step is the step that failed.
	Step StepName
	// IdempotencyKey is the key the step used, if it changes state; running
	// the activation again reuses it.
	IdempotencyKey string
	// Err is the cause.
	Err error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("truewatch: activation step %s: %v", e.Step, e.Err)
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// CodeError says that no verification code worked: the provider's codes
// were wrong or expired every time, up to WithMaxCodeAttempts. It matches
// apierror.ErrInvalidCode.
type CodeError struct {
	Email    string
	Purpose  billing.Purpose
	Attempts int
	// Err is the last failure (wrong code, expired code, malformed code).
	Err error
}

func (e *CodeError) Error() string {
	return fmt.Sprintf("no valid %s verification code for %s after %d attempts: %v", e.Purpose, e.Email, e.Attempts, e.Err)
}

// Is makes errors.Is(err, apierror.ErrInvalidCode) true.
func (e *CodeError) Is(target error) bool { return target == apierror.ErrInvalidCode }

// Unwrap returns the last failure.
func (e *CodeError) Unwrap() error { return e.Err }

// kindError pairs a sentinel of this package with a detailed message and,
// optionally, the apierror sentinel it also matches.
type kindError struct {
	kind error
	also error
	msg  string
}

func (e *kindError) Error() string { return e.msg }

func (e *kindError) Is(target error) bool {
	return target == e.kind || (e.also != nil && target == e.also)
}

func newKindError(kind, also error, format string, args ...any) error {
	return &kindError{kind: kind, also: also, msg: fmt.Sprintf(format, args...)}
}

// ErrStoreFailed is matched by a *StoreError.
var ErrStoreFailed = errors.New("truewatch: checkpoint store failed")

// StoreError says that a Run stopped because its Store failed: it could not
// be reached (a lost database connection) or refused the write (Err is then
// a *ConflictError: another run saved the checkpoint since). Op says what
// failed: "save checkpoint" after a step succeeded, or "renew lease" before
// a change, which was then not made. Nothing is lost: running the
// activation again finds the work done through the subscription's state and
// the idempotency keys, which make the server replay completed steps
// instead of doing them twice.
type StoreError struct {
	// Op is "save checkpoint" or "renew lease".
	Op           string
	ActivationID string
	// Err is the store's error.
	Err error
}

func (e *StoreError) Error() string {
	return fmt.Sprintf("truewatch: %s of activation %s failed: %v; run the activation again to resume: "+
		"completed steps are replayed by their idempotency keys, never done twice", e.Op, e.ActivationID, e.Err)
}

// Unwrap returns the store's error.
func (e *StoreError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrStoreFailed) true.
func (e *StoreError) Is(target error) bool { return target == ErrStoreFailed }
