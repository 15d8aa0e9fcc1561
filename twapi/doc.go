// Package twapi holds what the TrueWatch API clients, billing and
// workspace, share: the resources both return (Workspace, Account,
// Settlement, with Timestamp and Language), how a call went (CallInfo,
// PageInfo), and their one option set (Option, RequestOption).
//
// Both clients take the options of this package; each also re-exports them
// under the same names, so billing.WithLogger and twapi.WithLogger are the
// same option:
//
//	opts := []twapi.Option{twapi.WithHTTPClient(hc), twapi.WithLogger(log)}
//	bc, err := billing.NewClient(append(opts, billing.WithBaseURL(billingURL))...)
//	...
//	wc, err := workspace.NewClient(append(opts, workspace.WithEndpoints(eps))...)
//
// An option for both clients is added here, once (over internal/httpcore's
// Config); the clients' re-exports are conveniences, not a second
// definition.
//
// A client's own options (billing.WithBaseURL, workspace.WithEndpoints)
// are of the same type; given to the other client's NewClient, they are
// refused by name in its *apierror.OptionError. Likewise a request option
// of one client (billing.WithOwnershipProof) fails the other's call with a
// validation error before anything is sent.
package twapi
