package riverjob

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/riverqueue/river"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/pg/pgstore"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// Worker runs activation jobs: add it to the service's River workers with
// river.AddWorker. It is safe for concurrent use.
type Worker struct {
	river.WorkerDefaults[Args]
	store    *pgstore.Store
	build    Builder
	owner    string
	ttl      time.Duration
	codeWait time.Duration
	timeout  time.Duration
}

// WorkerOption configures a Worker.
type WorkerOption func(*Worker) error

// WithOwner names the worker in the leases it takes (default: host name and
// process ID), for people reading who holds what.
func WithOwner(name string) WorkerOption {
	return func(w *Worker) error {
		if name == "" {
			return errors.New("riverjob: empty owner")
		}
		w.owner = name
		return nil
	}
}

// WithLeaseTTL sets the TTL of the activations' leases (default
// truewatch.DefaultLeaseTTL): after a worker dies, another takes its
// activations over once it has passed. Keep River's RescueStuckJobsAfter
// above it, or a rescued job finds the lease still held and snoozes until
// it expires.
func WithLeaseTTL(ttl time.Duration) WorkerOption {
	return func(w *Worker) error {
		if ttl < 10*time.Millisecond {
			return fmt.Errorf("riverjob: lease TTL %s is too short", ttl)
		}
		w.ttl = ttl
		return nil
	}
}

// WithCodeWait sets how long a job whose CodeProvider has no code yet
// (truewatch.ErrNoCode) is snoozed before it asks again (default 30s).
func WithCodeWait(d time.Duration) WorkerOption {
	return func(w *Worker) error {
		if d <= 0 {
			return fmt.Errorf("riverjob: code wait %s is not positive", d)
		}
		w.codeWait = d
		return nil
	}
}

// WithTimeout sets how long one attempt may run (default: the River
// client's JobTimeout).
func WithTimeout(d time.Duration) WorkerOption {
	return func(w *Worker) error {
		w.timeout = d
		return nil
	}
}

// NewWorker returns a Worker that runs activations with store, rebuilt by
// build.
func NewWorker(store *pgstore.Store, build Builder, opts ...WorkerOption) (*Worker, error) {
	if store == nil || build == nil {
		return nil, errors.New("riverjob: NewWorker needs a store and a Builder")
	}
	host, _ := os.Hostname()
	w := &Worker{store: store, build: build, owner: fmt.Sprintf("%s/%d", host, os.Getpid()),
		ttl: truewatch.DefaultLeaseTTL, codeWait: defaultCodeWait}
	for _, o := range opts {
		if err := o(w); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Timeout implements river.Worker.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return w.timeout }

// ErrRebuiltOther is matched by the error of a job whose Builder made an
// activation with another identity than the job's.
var ErrRebuiltOther = errors.New("riverjob: the Builder rebuilt another activation")

// Work implements river.Worker: it rebuilds the activation, runs or resumes
// it, and records the result.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	act, err := w.build(ctx, job.Args)
	if err == nil && act == nil {
		err = river.JobCancel(errors.New("riverjob: the Builder returned no activation"))
	}
	if err != nil {
		return fmt.Errorf("riverjob: rebuild activation %s: %w", job.Args.ActivationID, err)
	}
	id, err := act.Identity()
	if err != nil {
		return river.JobCancel(fmt.Errorf("riverjob: activation %s: %w", job.Args.ActivationID, err))
	}
	if id != job.Args.Identity() {
		return river.JobCancel(fmt.Errorf("%w: job %d is activation %s (%+v), the Builder made %s (%+v)",
			ErrRebuiltOther, job.ID, job.Args.ActivationID, job.Args.Identity(), id.ActivationID, id))
	}
	res, err := act.WithStore(w.store).WithLeaseOwner(w.owner).WithLeaseTTL(w.ttl).Run(ctx)
	var held *truewatch.LeaseHeldError
	switch {
	case err == nil:
		return river.RecordOutput(ctx, Output{ActivationID: res.ActivationID, AlreadyActivated: res.AlreadyActivated,
			BillingAccountID: res.BillingAccount.ID, WorkspaceID: res.WorkspaceID, Site: res.Site, LoginURL: res.LoginURL})
	case errors.As(err, &held):
		return river.JobSnooze(max(time.Until(held.ExpiresAt), 0) + 100*time.Millisecond)
	case errors.Is(err, truewatch.ErrNoCode):
		return river.JobSnooze(w.codeWait)
	case Permanent(err):
		w.recordFailure(ctx, job.Args.ActivationID, err)
		return river.JobCancel(fmt.Errorf("%w; fix the cause, then submit the activation again", err))
	default:
		return err
	}
}

// recordFailure records in the checkpoint a permanent failure that Run
// returned without recording it, because it refused before touching the
// store (no way to prove ownership of the Huawei account), so that List
// with ListFilter.Failed finds every cancelled activation. It saves over
// the revision loaded; losing that race leaves the other save's record.
func (w *Worker) recordFailure(ctx context.Context, id string, err error) {
	ctx = context.WithoutCancel(ctx)
	cp, lerr := w.store.Load(ctx, id)
	if lerr != nil || cp == nil || cp.Completed || cp.Failure != nil && cp.Failure.Error == err.Error() {
		return
	}
	step := truewatch.StepCheckSubscription
	if se := (*truewatch.StepError)(nil); errors.As(err, &se) {
		step = se.Step
	}
	cp.Failure = &truewatch.Failure{Step: step, Error: err.Error(), At: time.Now().UTC()}
	cp.UpdatedAt = cp.Failure.At
	_, _ = w.store.Save(ctx, id, cp)
}

// Permanent reports whether err is a failure of an activation that running
// it again cannot fix, so its job is cancelled rather than retried. Of the
// refused proofs of ownership, those that say the credentials or the
// configuration are wrong (none at all, a refused signature, another
// account, another audience, an endpoint not trusted) are permanent; an
// expired, reused or unverifiable proof is retried, with a fresh proof.
func Permanent(err error) bool {
	for _, target := range []error{truewatch.ErrSubscriptionInactive, truewatch.ErrBoundElsewhere, truewatch.ErrSiteMismatch,
		truewatch.ErrWorkspaceNotFound, truewatch.ErrWorkspaceAmbiguous, truewatch.ErrNotBindable, truewatch.ErrNeedsBranch,
		truewatch.ErrBadCheckpoint, apierror.ErrInvalidCode, apierror.ErrValidation, truewatch.ErrOwnershipUnproven,
		apierror.ErrProofRequired, apierror.ErrProofInvalid, apierror.ErrProofAccountMismatch, apierror.ErrProofAudience,
		apierror.ErrProofEndpoint} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
