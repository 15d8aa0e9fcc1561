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
// # Checking without a branch
//
// A builder with no branch only asks whether the subscription is
// activated, for a provisioning service deciding whether a tenant needs
// work. It needs neither a site nor a code provider:
//
//	res, err := truewatch.NewActivation().
//		WithBillingURL("https://billing.example.com").
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
// Run takes them. Every step that changes state carries an Idempotency-Key
// derived from the activation's identity (Huawei account, instance, site,
// branch) and the step, and progress is checkpointed to a Store, so running
// again after a crash, a timeout or a cancelled context finishes the
// activation without a second account, binding or workspace, from this
// process or another one. Run decides from the subscription's state, not
// from the checkpoint, so even a run that finds none (the default store is
// in memory) is safe: binding the Billing Center account is the one step
// that may move to the next key, when the server refuses its key because an
// earlier run sent other inputs under it or replays a token that has since
// expired, and binding an account again changes nothing. Progress is
// reported through WithEvents and logged through WithLogger, never with a
// secret.
//
// Nothing touches the network until Plan or Run, nothing panics, and bad
// input is refused before any call with one *apierror.ValidationError that
// lists every problem.
package truewatch

import (
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/workspace"
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

// Language is a workspace's language; it is workspace.Language, re-exported.
// It is chosen when the workspace is created and never changes.
type Language = workspace.Language

// The workspace languages.
const (
	LanguageZH = workspace.LanguageZH // Chinese
	LanguageEN = workspace.LanguageEN // English
)
