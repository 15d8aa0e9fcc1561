package billing

import (
	"context"

	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// Register creates, in one all-or-nothing step, a TrueWatch account on
// req.Site, a Billing Center account, a first workspace settled by the
// Huawei subscription, and the binding between them. The email code must
// have been sent with PurposeRegister.
//
// A taken username or email returns an error matching apierror.ErrNameTaken;
// a subscription already bound to a Billing Center account,
// apierror.ErrAlreadyBound; one that is not in use (closed, frozen,
// expired), apierror.ErrConflict (ft.SubscriptionInactive); an unknown
// one, apierror.ErrNotFound; a wrong or expired code,
// apierror.ErrInvalidCode or apierror.ErrCodeExpired.
// The call carries an Idempotency-Key (see WithIdempotencyKey), so a retry
// after a lost response replays the first result instead of failing.
func (c *Client) Register(ctx context.Context, req *RegisterRequest, opts ...RequestOption) (*RegisterResult, error) {
	return post[RegisterResult](ctx, c, "Register", routes.Register, proofRequired, req, opts)
}

// BindBillingAccount binds an existing Billing Center account to a Huawei
// subscription and returns a token for the calls that act on that account
// and subscription (ListBindableWorkspaces, BindWorkspace, GetBinding and
// the workspace client). The email code must have been sent with
// PurposeBindBillingAccount to the account's registered email.
//
// Binding the same account to the same subscription again succeeds and
// returns a fresh token. A subscription bound to another Billing Center
// account returns an error matching apierror.ErrAlreadyBound, whose
// message names that account (the call proved ownership of the Huawei
// account); no account with that username and email, apierror.ErrNotFound
// (ft.BillingAccountNotFound).
func (c *Client) BindBillingAccount(ctx context.Context, req *BindAccountRequest, opts ...RequestOption) (*BindAccountResult, error) {
	return post[BindAccountResult](ctx, c, "BindBillingAccount", routes.BindAccount, proofRequired, req, opts)
}
