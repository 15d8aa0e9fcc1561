package truewatch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"time"
)

// Checkpoint is the progress of one activation, saved before the first
// change and after every step so that a later Run, in this process or
// another, picks up where it stopped.
//
// It holds one secret, KeySecret, from which the activation's idempotency
// keys derive; no password, verification code or token. KeySecret prints
// redacted, and so does a Checkpoint in fmt and slog; its JSON encoding
// (what FileStore writes, and what a Store of your own should keep)
// carries it, so protect stored checkpoints as credentials: whoever reads
// one can compute the activation's keys (though a replay still needs the
// owner's proof of the Huawei account; see docs/security.md).
type Checkpoint struct {
	// Version is the checkpoint format version (currently 2; version 1,
	// without KeySecret, is read and given a new secret).
	Version int `json:"version"`
	// Revision is the checkpoint's optimistic-concurrency version: the
	// number the Store gave the last Save of it (1 for the first, then 2,
	// ...), 0 for a checkpoint never saved. A Save succeeds only over the
	// revision it names, so two runs that loaded the same checkpoint cannot
	// both save over it: the second gets a *ConflictError.
	Revision int64 `json:"revision"`
	// ActivationID identifies the activation (see Plan.ActivationID).
	ActivationID string `json:"activationId"`
	// HuaweiAccountID is the tenant: the Huawei Cloud account that bought
	// the subscription (ListFilter.HuaweiAccountID selects by it).
	HuaweiAccountID string `json:"huaweiAccountId"`
	InstanceID      string `json:"instanceId"`
	Site            Site   `json:"site"`
	Branch          Branch `json:"branch"`
	// Steps are the change steps completed so far, in order; a step that a
	// later run had to take again (binding the account again for a token)
	// appears again.
	Steps []Step `json:"steps"`
	// BindGeneration counts re-binds of the Billing Center account after its
	// token expired; it is part of the bind step's idempotency key.
	BindGeneration int `json:"bindGeneration,omitempty"`
	// KeySecret is the random secret the idempotency keys derive from,
	// made by the activation's first Run.
	KeySecret KeySecret `json:"keySecret,omitzero"`
	// BillingAccountID, BillingUsername, WorkspaceID and LoginURL are the
	// outcome so far.
	BillingAccountID string `json:"billingAccountId,omitempty"`
	BillingUsername  string `json:"billingUsername,omitempty"`
	WorkspaceID      string `json:"workspaceId,omitempty"`
	LoginURL         string `json:"loginUrl,omitempty"`
	// LastRun identifies the trace of the run that saved the checkpoint
	// last, so that a later run links its trace to it (see TraceRef);
	// empty without tracing. It is not a secret.
	LastRun TraceRef `json:"lastRun,omitzero"`
	// Completed is true once the activation finished.
	Completed bool `json:"completed"`
	// Failure says why the last run that saved this checkpoint failed; nil
	// when it succeeded or is still going. Runs record it (a cancelled
	// context is not a failure), so that ListFilter.Failed finds the
	// activations that need attention.
	Failure   *Failure  `json:"failure,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Failure is the failure of a run, recorded in its checkpoint.
type Failure struct {
	// Step is the step that failed.
	Step StepName `json:"step"`
	// Error is the error's message (errors of this module never hold a
	// secret).
	Error string `json:"error"`
	// At is when the run failed.
	At time.Time `json:"at"`
}

// String says which step failed, when and why (it makes a Checkpoint
// printed with %+v, as its LogValue does, show the failure, not a pointer).
func (f *Failure) String() string {
	if f == nil {
		return "<nil>"
	}
	return fmt.Sprintf("step %s failed at %s: %s", f.Step, f.At.UTC().Format(time.RFC3339), f.Error)
}

// checkpointVersion is the Version this package writes.
const checkpointVersion = 2

// LogValue renders the checkpoint for slog with KeySecret redacted (slog's
// JSON handler would otherwise encode it as JSON, secret included).
func (c Checkpoint) LogValue() slog.Value {
	return slog.StringValue(fmt.Sprintf("%+v", c))
}

func (c *Checkpoint) clone() *Checkpoint {
	if c == nil {
		return nil
	}
	out := *c
	out.Steps = append([]Step(nil), c.Steps...)
	if c.Failure != nil {
		f := *c.Failure
		out.Failure = &f
	}
	return &out
}

// Identity is what identifies an activation: the tenant (Huawei account),
// the subscription (instance), the site and the branch. The activation ID,
// the checkpoint's key and every idempotency key derive from it.
type Identity struct {
	ActivationID    string `json:"activationId"`
	HuaweiAccountID string `json:"huaweiAccountId"`
	InstanceID      string `json:"instanceId"`
	Site            Site   `json:"site"`
	Branch          Branch `json:"branch"`
}

// NewCheckpoint returns the checkpoint of an activation that has not
// started (revision 0), with a fresh KeySecret, for a store that must hold
// it before the first Run: a job queue that enqueues the activation's job
// in the same transaction. The Run that loads it sends the keys of that
// secret. The error is crypto/rand's.
func NewCheckpoint(id Identity) (*Checkpoint, error) {
	ks, err := newKeySecret()
	if err != nil {
		return nil, err
	}
	cp := newCheckpoint(id)
	cp.KeySecret = ks
	return cp, nil
}

// newCheckpoint is the checkpoint of an activation not started, without a
// secret yet: a Plan shows no keys, and Run makes the secret.
func newCheckpoint(id Identity) *Checkpoint {
	return &Checkpoint{Version: checkpointVersion, ActivationID: id.ActivationID, HuaweiAccountID: id.HuaweiAccountID,
		InstanceID: id.InstanceID, Site: id.Site, Branch: id.Branch}
}

// Store keeps checkpoints and the leases that let one run at a time work on
// an activation, across processes and machines when the store is shared (a
// FileStore on one host, a database). Implementations must be safe for
// concurrent use and pass the conformance suite, storetest.Run. They keep
// every field of a checkpoint exactly, the KeySecret above all (its JSON
// encoding is the checkpoint's; fmt only prints it redacted): one that lost
// or altered it would make the next run send other idempotency keys. They
// hold a secret, so protect what they write as credentials.
//
// Leases are advisory: Run claims the activation's lease before its first
// change, renews it while it works and releases it at the end, and stops
// before any further change once the lease is lost. Revisions are the
// safety net under them: a Save over a stale revision fails whatever the
// leases say.
type Store interface {
	// Load returns the checkpoint saved under id, or nil and no error when
	// there is none. A checkpoint it cannot use (unreadable, edited by hand
	// into another shape, saved under another ID) is an error matching
	// ErrBadCheckpoint that names the ID.
	Load(ctx context.Context, id string) (*Checkpoint, error)
	// Save stores cp under id when the stored checkpoint's revision is
	// cp.Revision (0: none is stored) and returns the new revision; cp
	// itself is not changed. Over another revision it changes nothing and
	// returns a *ConflictError (errors.Is(err, ErrCheckpointConflict)).
	// cp.ActivationID must be id.
	Save(ctx context.Context, id string, cp *Checkpoint) (revision int64, err error)
	// Delete removes the checkpoint saved under id (not its lease);
	// deleting a missing one is not an error.
	Delete(ctx context.Context, id string) error
	// List yields the checkpoints that match f, ordered by activation ID.
	// A checkpoint that cannot be read is yielded as an error (matching
	// ErrBadCheckpoint) and listing goes on; other errors end it.
	List(ctx context.Context, f ListFilter) iter.Seq2[*Checkpoint, error]
	// Claim leases the activation id to owner for ttl. While another
	// owner's lease is unexpired it fails with a *LeaseHeldError
	// (errors.Is(err, ErrLeaseHeld)) naming the holder and the expiry;
	// an expired lease is taken over. Every claim gets a new Lease.Token.
	Claim(ctx context.Context, id, owner string, ttl time.Duration) (Lease, error)
	// Renew extends l to ttl from now. It succeeds while the store still
	// holds l (same token), even past its expiry if no one claimed it since;
	// otherwise it fails with a *LeaseLostError (errors.Is(err,
	// ErrLeaseLost)).
	Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// Release ends l, so that another owner may claim the activation at
	// once. Releasing a lease the store no longer holds fails with a
	// *LeaseLostError and changes nothing.
	Release(ctx context.Context, l Lease) error
}

// ListFilter selects checkpoints in Store.List; the zero filter selects
// every one. The conditions combine with AND.
type ListFilter struct {
	// Incomplete selects the activations that have not completed.
	Incomplete bool
	// Failed selects the activations whose last run failed (Checkpoint.Failure set).
	Failed bool
	// HuaweiAccountID selects one tenant's activations: a marketplace
	// customer is a Huawei Cloud account.
	HuaweiAccountID string
}

// Match reports whether cp passes the filter, for Store implementations.
func (f ListFilter) Match(cp *Checkpoint) bool {
	return cp != nil && (!f.Incomplete || !cp.Completed) && (!f.Failed || cp.Failure != nil) &&
		(f.HuaweiAccountID == "" || f.HuaweiAccountID == cp.HuaweiAccountID)
}

// Lease is an owner's claim on an activation until ExpiresAt (see
// Store.Claim).
type Lease struct {
	ActivationID string `json:"activationId"`
	// Owner names the holder, for people: Run uses WithLeaseOwner's name,
	// by default host name, process ID and a random suffix.
	Owner string `json:"owner"`
	// Token identifies this claim: the store made it when the lease was
	// claimed; Renew and Release match on it.
	Token string `json:"token"`
	// ExpiresAt is when the lease ends unless renewed, by the store's clock.
	ExpiresAt time.Time `json:"expiresAt"`
}

// ErrCheckpointConflict is matched by a *ConflictError.
var ErrCheckpointConflict = errors.New("truewatch: checkpoint was saved by another run")

// ConflictError is a Save over a stale revision: another run saved the
// checkpoint since it was loaded. Nothing was saved. Loading it again (Run
// does, when run again) resumes from the other run's progress.
type ConflictError struct {
	ActivationID string
	// Expected is the revision the Save named; Actual the stored one (0:
	// none is stored, it was deleted or never saved).
	Expected, Actual int64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("truewatch: checkpoint %s is at revision %d, not %d: another run saved it since; "+
		"nothing was saved: load it again", e.ActivationID, e.Actual, e.Expected)
}

// Is makes errors.Is(err, ErrCheckpointConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrCheckpointConflict }

// ErrLeaseHeld is matched by a *LeaseHeldError.
var ErrLeaseHeld = errors.New("truewatch: activation is leased to another owner")

// LeaseHeldError is a claim refused because another owner's lease has not
// expired. Nothing was changed.
type LeaseHeldError struct {
	ActivationID string
	// Owner holds the lease until ExpiresAt.
	Owner     string
	ExpiresAt time.Time
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("truewatch: activation %s is leased to %q until %s; another run is working on it: "+
		"wait for it, or run again after the lease expires (WithLeaseWait waits)", e.ActivationID, e.Owner, e.ExpiresAt.UTC().Format(time.RFC3339Nano))
}

// Is makes errors.Is(err, ErrLeaseHeld) true.
func (e *LeaseHeldError) Is(target error) bool { return target == ErrLeaseHeld }

// ErrLeaseLost is matched by a *LeaseLostError.
var ErrLeaseLost = errors.New("truewatch: lease lost")

// LeaseLostError says that the store no longer holds a lease: it expired
// and another owner claimed the activation (or released it). A Run that
// loses its lease stops before any further change.
type LeaseLostError struct {
	ActivationID string
	// Owner is the owner that lost the lease.
	Owner string
	// Holder is the owner that holds the activation now, when known.
	Holder string
}

func (e *LeaseLostError) Error() string {
	holder := "no one"
	if e.Holder != "" {
		holder = fmt.Sprintf("%q", e.Holder)
	}
	return fmt.Sprintf("truewatch: %q lost the lease of activation %s (held now by %s); the run stopped before any further change: "+
		"the holder finishes it, or run it again once that lease ends", e.Owner, e.ActivationID, holder)
}

// Is makes errors.Is(err, ErrLeaseLost) true.
func (e *LeaseLostError) Is(target error) bool { return target == ErrLeaseLost }

// NewLeaseToken returns a fresh random lease token, for Store
// implementations.
func NewLeaseToken() string { return rand.Text() }

// ValidateSave checks what every Store checks before a Save: a checkpoint,
// saved under its own activation ID, with a revision that is not negative.
// For Store implementations.
func ValidateSave(id string, cp *Checkpoint) error {
	if cp == nil {
		return errors.New("truewatch: nil checkpoint")
	}
	if cp.ActivationID != id {
		return fmt.Errorf("truewatch: checkpoint of activation %q saved under id %q", cp.ActivationID, id)
	}
	if cp.Revision < 0 {
		return fmt.Errorf("truewatch: checkpoint %s has negative revision %d", id, cp.Revision)
	}
	return nil
}

// ValidateClaim checks the arguments of a Claim (and, with the lease's ID
// and owner, of a Renew): an ID, an owner and a positive TTL. For Store
// implementations.
func ValidateClaim(id, owner string, ttl time.Duration) error {
	switch {
	case id == "":
		return errors.New("truewatch: lease of an empty activation id")
	case owner == "":
		return errors.New("truewatch: lease owner is empty")
	case ttl <= 0:
		return fmt.Errorf("truewatch: lease TTL %s is not positive", ttl)
	}
	return nil
}
