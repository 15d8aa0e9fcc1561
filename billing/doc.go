// Package billing is the typed client of the TrueWatch Billing Center API,
// the service that links a TrueWatch purchase on Huawei Cloud Marketplace to
// a Billing Center account and to the workspaces it pays for.
//
// The Billing Center base URL is required configuration: there is no public
// default. Every method validates its input first and returns an
// *apierror.ValidationError (errors.Is(err, apierror.ErrValidation)) without
// sending anything when the input breaks a documented rule. Failed calls
// return an *apierror.Error that matches the apierror sentinels.
//
// Calls keyed by a Huawei account and instance (GetSubscription, Register,
// BindBillingAccount) carry a proof that the caller controls that Huawei
// account: a Huawei STS request signed with the buyer's own AK/SK, which
// the Billing Center has Huawei verify (see OwnershipProver and
// docs/security.md). The secret key never leaves the process. A
// *huawei.Client with the buyer's credentials is the prover:
//
//	hw, err := huawei.NewClient(huawei.WithCredentialsFromEnv())
//	if err != nil {
//		return err
//	}
//	bc, err := billing.NewClient(billing.WithBaseURL("https://billing.example.com"),
//		billing.WithOwnershipProver(hw))
//	if err != nil {
//		return err
//	}
//	sub, err := bc.GetSubscription(ctx, huaweiAccountID, instanceID)
//	if errors.Is(err, apierror.ErrNotFound) {
//		// no such purchase
//	}
//	bound, err := bc.BindBillingAccount(ctx, &billing.BindAccountRequest{
//		Username:        "acme-billing",
//		Email:           "ops@acme.example",
//		EmailCode:       secret.String(code),
//		HuaweiAccountID: sub.HuaweiAccountID,
//		InstanceID:      sub.InstanceID,
//	})
//	if err != nil {
//		return err
//	}
//	for ws, err := range bc.AllBindableWorkspaces(ctx, bound.Token, nil) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(ws.Name, ws.Bindable, ws.Reason)
//	}
//
// Without a prover, Register and BindBillingAccount are refused before
// anything is sent, and GetSubscription answers only the status.
//
// The options (one set with the workspace client's: WithHTTPClient,
// WithLogger, WithRetryPolicy, WithUserAgent, WithIdempotencyKey,
// WithCallInfo), CallInfo, PageInfo and the resources shared with the
// workspace API (twapi.Workspace, twapi.Account) live in package twapi;
// this package re-exports the options under the same names.
//
// POST calls carry an Idempotency-Key (generated, or set with
// WithIdempotencyKey) that every retry of the call reuses, so a retried
// registration or binding never happens twice; every attempt carries a
// fresh proof.
package billing
