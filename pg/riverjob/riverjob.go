// Package riverjob runs truewatch activations as River jobs on PostgreSQL,
// spread over every process of a service, with the checkpoints and leases
// of pgstore in the same database.
//
// One job kind (Kind) carries one activation, unique by the activation's ID:
// submitting the same activation again while its job is queued, running,
// retrying or completed enqueues nothing and returns a *DuplicateError.
// Submit saves the activation's first checkpoint and enqueues its job in
// one transaction (SubmitTx in yours, say with the tenant's own row), so an
// activation is never recorded without being scheduled, nor scheduled
// without its checkpoint. A Worker, added to the service's River client,
// rebuilds the activation from the job's args, runs or resumes it (Run
// claims the activation's lease, so two workers never work on it at once),
// and records the result in the checkpoint and the job's output. A failed
// job is retried by River with backoff; the activation's checkpoint and
// idempotency keys make a retry, or a retry after a worker died, finish the
// work without doing any of it twice.
//
//	workers := river.NewWorkers()
//	w, _ := riverjob.NewWorker(store, rebuild, riverjob.WithOwner("provisioner-7"))
//	river.AddWorker(workers, w)
//	client, _ := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers,
//		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 20}}})
//	sub, _ := riverjob.NewSubmitter(client, store)
//	_, err := sub.Submit(ctx, activation, TenantInput{TenantID: t.ID}) // from a request handler
//
// # Rebuilding activations, and where secrets come from
//
// Job args are stored in the database as JSON and shown by River's UI: they
// must never hold a secret. Args carry the activation's identity and an
// Input, the service's own description of the tenant (its tenant ID, a
// username, an email, a workspace name), and nothing else. The worker calls
// the service's Builder with them, which makes the *truewatch.Activation
// again as the service first made it: endpoints and HTTP client, the
// branch and its inputs, passwords and the tenant's Huawei credentials
// (which sign the proofs of ownership of the account) from the service's
// secret store, and a truewatch.CodeProvider. Submit refuses an Input in
// which a secret.String appears (it encodes as "[REDACTED]").
//
// The activation's idempotency keys derive from a random secret
// (truewatch.KeySecret) that Submit makes with the first checkpoint
// (truewatch.NewCheckpoint) and that lives only in the checkpoint's row
// (pgstore keeps it in its own column): never in a job's args, its output
// or its errors. Every attempt of the job, on any worker, loads it and
// sends the same keys.
//
// Verification codes: against real endpoints a person receives them by
// email. The service's CodeProvider returns the code the person entered in
// the service's own UI (stored with the tenant), or truewatch.ErrNoCode
// while there is none; the worker then snoozes the job (WithCodeWait) instead
// of holding a worker slot, and the next attempt asks again. A code sent by
// an earlier attempt less than a minute before is reused, since the Billing
// Center refuses to send another so soon.
//
// # Failures
//
// Failures that another attempt cannot fix (an inactive subscription, a
// subscription bound to another account, a workspace that cannot be
// bound, a checkpoint edited by hand, codes wrong every time, invalid
// input, a Builder that rebuilt another activation, no way to prove
// ownership of the Huawei account or a proof of another account) cancel
// the job: the
// checkpoint records the failure (pgstore's List with Failed finds it), and
// the activation may be submitted again once fixed. Everything else (the
// network, the database, a lost lease) is returned to River to retry. A
// lease held by another worker snoozes the job until it expires.
package riverjob

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/truewatch-labs/marketplace-go/pg/pgstore"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// Kind is the job kind of an activation.
const Kind = "truewatch_activation"

// Args are an activation job's args: its identity and the service's Input.
// Only the activation ID makes the job unique.
type Args struct {
	ActivationID    string           `json:"activation_id" river:"unique"`
	HuaweiAccountID string           `json:"huawei_account_id"`
	InstanceID      string           `json:"instance_id"`
	Site            truewatch.Site   `json:"site"`
	Branch          truewatch.Branch `json:"branch"`
	// Input is the service's description of the activation, as given to
	// Submit, for its Builder. Never a secret.
	Input json.RawMessage `json:"input,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return Kind }

// InsertOpts makes activation jobs unique by activation ID, in River's
// default states (queued, running, retrying, completed).
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Identity returns the activation's identity.
func (a Args) Identity() truewatch.Identity {
	return truewatch.Identity{ActivationID: a.ActivationID, HuaweiAccountID: a.HuaweiAccountID,
		InstanceID: a.InstanceID, Site: a.Site, Branch: a.Branch}
}

// DecodeInput decodes the Input into v.
func (a Args) DecodeInput(v any) error {
	if len(a.Input) == 0 {
		return errors.New("riverjob: the job has no input")
	}
	return json.Unmarshal(a.Input, v)
}

// Builder rebuilds, in a worker, the activation a job carries, from its
// args: the same branch and inputs it was submitted with, secrets from the
// service's secret store and a CodeProvider (see the package doc). The
// Worker sets the store and the lease owner itself. An error that another
// attempt cannot fix should be wrapped with river.JobCancel.
type Builder func(ctx context.Context, args Args) (*truewatch.Activation, error)

// Output is what a completed job records as its output (River's UI shows
// it); the checkpoint holds the same.
type Output struct {
	ActivationID     string         `json:"activation_id"`
	AlreadyActivated bool           `json:"already_activated"`
	BillingAccountID string         `json:"billing_account_id,omitempty"`
	WorkspaceID      string         `json:"workspace_id,omitempty"`
	Site             truewatch.Site `json:"site,omitempty"`
	LoginURL         string         `json:"login_url,omitempty"`
}

// ErrAlreadySubmitted is matched by a *DuplicateError.
var ErrAlreadySubmitted = errors.New("riverjob: activation already submitted")

// DuplicateError is a Submit of an activation whose job exists: nothing was
// enqueued.
type DuplicateError struct {
	ActivationID string
	// JobID and State are the existing job's.
	JobID int64
	State rivertype.JobState
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("riverjob: activation %s is already submitted as job %d (%s); nothing was enqueued: "+
		"that job carries it (its checkpoint shows the progress); once it is cancelled or discarded, submit again", e.ActivationID, e.JobID, e.State)
}

// Is makes errors.Is(err, ErrAlreadySubmitted) true.
func (e *DuplicateError) Is(target error) bool { return target == ErrAlreadySubmitted }

// Submission is what Submit did.
type Submission struct {
	ActivationID string
	// JobID is the activation's job: the one enqueued, or for a
	// *DuplicateError the existing one.
	JobID int64
	// CheckpointCreated is false when a checkpoint was there already (an
	// earlier job, or a Run outside River): the job resumes from it.
	CheckpointCreated bool
}

// Submitter enqueues activations on a River client whose database holds the
// store's tables.
type Submitter struct {
	client *river.Client[pgx.Tx]
	store  *pgstore.Store
}

// NewSubmitter returns a Submitter. The client may be insert-only (no
// Workers), as in a web front end.
func NewSubmitter(client *river.Client[pgx.Tx], store *pgstore.Store) (*Submitter, error) {
	if client == nil || store == nil {
		return nil, errors.New("riverjob: NewSubmitter needs a River client and a store")
	}
	return &Submitter{client: client, store: store}, nil
}

// Submit saves act's first checkpoint and enqueues its job, in one
// transaction, with input (JSON-encoded into Args.Input) for the Builder.
// act must know its identity without a call (WithHuaweiAccountID and
// WithInstanceID; see truewatch.Activation.Identity) and is validated; it
// makes no call to TrueWatch or Huawei. An activation already submitted
// returns its Submission with a *DuplicateError.
func (s *Submitter) Submit(ctx context.Context, act *truewatch.Activation, input any) (*Submission, error) {
	var sub *Submission
	var dup error
	err := pgx.BeginFunc(ctx, s.store.Pool(), func(tx pgx.Tx) error {
		var err error
		sub, err = s.SubmitTx(ctx, tx, act, input)
		if errors.Is(err, ErrAlreadySubmitted) {
			dup, err = err, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return sub, dup
}

// SubmitTx is Submit in the caller's transaction: the activation is
// recorded and scheduled if and only if tx commits.
func (s *Submitter) SubmitTx(ctx context.Context, tx pgx.Tx, act *truewatch.Activation, input any) (*Submission, error) {
	id, err := act.Identity()
	if err != nil {
		return nil, fmt.Errorf("riverjob: submit: %w", err)
	}
	raw, err := encodeInput(input)
	if err != nil {
		return nil, err
	}
	// The first checkpoint carries the activation's fresh KeySecret: the
	// keys every attempt sends are known to the checkpoint's row alone.
	first, err := truewatch.NewCheckpoint(id)
	if err != nil {
		return nil, fmt.Errorf("riverjob: submit %s: %w", id.ActivationID, err)
	}
	created, err := s.store.CreateTx(ctx, tx, first)
	if err != nil {
		return nil, fmt.Errorf("riverjob: submit %s: %w", id.ActivationID, err)
	}
	res, err := s.client.InsertTx(ctx, tx, Args{ActivationID: id.ActivationID, HuaweiAccountID: id.HuaweiAccountID,
		InstanceID: id.InstanceID, Site: id.Site, Branch: id.Branch, Input: raw}, nil)
	if err != nil {
		return nil, fmt.Errorf("riverjob: submit %s: %w", id.ActivationID, err)
	}
	sub := &Submission{ActivationID: id.ActivationID, JobID: res.Job.ID, CheckpointCreated: created}
	if res.UniqueSkippedAsDuplicate {
		return sub, &DuplicateError{ActivationID: id.ActivationID, JobID: res.Job.ID, State: res.Job.State}
	}
	return sub, nil
}

func encodeInput(input any) (json.RawMessage, error) {
	if input == nil {
		return nil, nil
	}
	b, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("riverjob: encode input: %w", err)
	}
	if q, _ := json.Marshal(secret.Redacted); len(q) > 0 && bytes.Contains(b, q) {
		return nil, errors.New("riverjob: the input holds a secret.String (it encodes as " + string(q) +
			"); job args are stored and shown in clear: let the Builder fetch secrets from your secret store")
	}
	return b, nil
}

// migrateLockKey serialises Migrate across processes ("rivermig").
const migrateLockKey int64 = 0x72697665726d6967

// Migrate applies the store's migrations and River's. River's run one
// transaction each (some cannot share one), so a session-level advisory lock
// held for the whole run makes processes that start together take turns:
// they may all call it.
func Migrate(ctx context.Context, store *pgstore.Store) error {
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	m, err := rivermigrate.New(riverpgxv5.New(store.Pool()), nil)
	if err != nil {
		return fmt.Errorf("riverjob: migrate: %w", err)
	}
	conn, err := store.Pool().Acquire(ctx)
	if err != nil {
		return fmt.Errorf("riverjob: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("riverjob: migrate: lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey) }()
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("riverjob: migrate River: %w", err)
	}
	return nil
}

// defaultCodeWait is how long a job waiting for a verification code
// sleeps before it asks again.
const defaultCodeWait = 30 * time.Second
