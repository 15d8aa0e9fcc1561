// Package truewatch activates a TrueWatch subscription bought on Huawei
// Cloud Marketplace, end to end, with one fluent builder:
//
//	res, err := truewatch.NewActivation().
//		WithBillingURL("https://billing.example.com").
//		WithHuaweiCredentials(ak, sk).          // looks up the account and instance IDs
//		WithSite(truewatch.SiteUS1).
//		BindBillingAccount("ada", "ada@example.com").
//		CreateWorkspace(truewatch.CreateWorkspaceInfo{Name: "prod", Language: truewatch.LanguageEN,
//			Email: "ada@example.com", TermsAccepted: true}).
//		WithCodes(truewatch.PromptCodes(os.Stdin, os.Stderr)).
//		Run(ctx)
//
// The builder covers every branch of the activation: registering a new
// Billing Center account, or binding an existing one and then binding an
// existing workspace, creating one for an existing TrueWatch account, or
// registering a new TrueWatch account with its first workspace. A
// subscription that is already activated is left as it is.
//
// # Proof of ownership
//
// The Huawei account and instance IDs are not secrets (they are on
// invoices and in screenshots), so the Billing Center acts on a
// subscription only for a caller who proves control of its Huawei account:
// every call keyed by the account carries a Huawei STS request signed with
// the account's AK/SK, which the Billing Center has Huawei verify (the
// secret key never leaves the process; see docs/security.md). The Huawei
// credentials that look the IDs up (WithHuaweiCredentials,
// WithHuaweiCredentialsFromEnv, WithHuaweiClient) make the proofs; a buyer
// without Huawei credentials activates with the marketplace's activation
// link instead (WithActivationLink: the front-end URL Huawei Cloud's
// Purchased Services shows, which names the account and the instance and
// carries a single-use token for them); WithOwnershipProver takes any
// other prover. Without one, Plan reads what the Billing Center tells
// anyone (the subscription's status) and Run refuses every change, before
// any call, with an *OwnershipProofError.
//
//	res, err := truewatch.NewActivation().
//		WithBillingURL("https://billing.example.com").
//		WithActivationLink(link). // from Purchased Services > Start using
//		WithSite(truewatch.SiteUS1).
//		Register(info).
//		WithCodes(truewatch.PromptCodes(os.Stdin, os.Stderr)).
//		Run(ctx)
//
// # Checking without a branch
//
// A builder with no branch only asks whether the subscription is
// activated, for a provisioning service deciding whether a tenant needs
// work. It needs neither a site nor a code provider:
//
//	res, err := truewatch.NewActivation().
//		WithBillingURL("https://billing.example.com").
//		WithHuaweiCredentials(ak, sk).           // the proof of ownership
//		WithHuaweiAccountID(accountID).
//		WithInstanceID(instanceID).
//		Run(ctx)
//	var nb *truewatch.NeedsBranchError
//	switch {
//	case err == nil: // res.AlreadyActivated: res.BillingAccount, res.Workspaces, res.LoginURL
//	case errors.As(err, &nb): // not activated; nb.Branches say how to go on
//	}
//
// Plan and Run make only the read-only calls, never save a checkpoint, and
// return a *NeedsBranchError (errors.Is(err, ErrNeedsBranch)) when the
// subscription is not activated: Register or BindBillingAccount when no
// Billing Center account is bound, BindBillingAccount with a workspace
// choice when one is bound but no workspace is settled.
//
// # Planned, idempotent, resumable, observable
//
// Plan makes read-only calls and says which steps Run would take and why.
// Run takes them, and so does Plan.Run, which runs a plan someone approved
// without repeating its look-ups of the Huawei account and instance IDs,
// and refuses it (a *StalePlanError, before any change, with the plan as it
// stands now) when the subscription changed so that it would make a change
// it does not list. The builder is immutable: each With… returns a new
// builder, so one base can be shared and branched into many activations. Every step that changes state carries an Idempotency-Key
// derived from the activation's identity (Huawei account, instance, site,
// branch), the step and a random secret the first Run makes and keeps in
// the checkpoint (Checkpoint.KeySecret), so that nobody can compute the
// keys from public data. Progress is checkpointed to a Store, the secret
// before the first change, so running again after a crash, a timeout or a
// cancelled context finishes the activation without a second account,
// binding or workspace, from this process or another one with the same
// Store. Run decides from the subscription's state, not from the
// checkpoint, so even a run that finds none (the default store is in
// memory, or another process has its own) is safe: a change refused
// because it was made already (by an earlier run, or by a twin running at
// the same time) is checked against the subscription and taken as done
// when it is what this run wanted (Step.FoundDone); binding the Billing
// Center account may move to the next key, when the server refuses its key
// because an earlier run sent other inputs under it or replays a token
// that has since expired, and binding an account again changes nothing.
// Progress is reported through WithEvents and logged through WithLogger,
// never with a secret.
//
// # Stores, revisions and leases
//
// A Store keeps the checkpoints, and the leases that let one run at a time
// work on an activation: MemoryStore (the default, one process), FileStore
// (one host, across processes), pgstore in the pg module (PostgreSQL, many
// machines), or your own that passes storetest.Run. Every checkpoint has a
// Revision, and a save over a stale one fails with a *ConflictError. Run
// claims the activation's lease before it reads the subscription (a
// *LeaseHeldError names the holder and the expiry, or WithLeaseWait waits),
// renews it in the background and right before every change, and stops
// with a *LeaseLostError before any further change once another owner took
// it over. The save that puts the key secret in the store comes after the
// lease is proven and names the revision loaded, so a run that lost the
// race never replaces another's secret. A failed run records its failure
// in the checkpoint, where Store.List finds it (ListFilter: incomplete,
// failed, by tenant). Package riverjob of the pg module runs activations as
// River jobs.
//
// Two runs of one activation at once therefore meet in two ways. With one
// Store they meet its lease: the second fails at once with a
// *LeaseHeldError before reading anything (the default, so that a service
// notices the duplicate), or with WithLeaseWait waits for the first to
// finish and then finds the activation done: both succeed with the same
// workspace. With two Stores (two hosts with their own FileStore) nothing
// keeps them apart, and the twin that comes second finds its twin's change
// made (Step.FoundDone), as above.
//
// Nothing touches the network until Plan or Run, nothing panics, and bad
// input is refused before any call with one *apierror.ValidationError that
// lists every problem.
package truewatch

import (
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// Site is a TrueWatch site code; it is site.Code, re-exported so that an
// activation needs one import.
type Site = site.Code

// The TrueWatch sites. A workspace's site is chosen once and never changes.
const (
	SiteUS1 = site.US1 // Americas 1 (Oregon)
	SiteEU1 = site.EU1 // Europe 1 (Frankfurt)
	SiteAP1 = site.AP1 // Asia-Pacific 1 (Singapore)
	SiteZA1 = site.ZA1 // Africa 1 (South Africa)
	SiteID1 = site.ID1 // Indonesia 1 (Jakarta)
)

// Language is a workspace's language; it is twapi.Language, re-exported.
// It is chosen when the workspace is created and never changes.
type Language = twapi.Language

// The workspace languages.
const (
	LanguageZH = twapi.LanguageZH // Chinese
	LanguageEN = twapi.LanguageEN // English
)
