package billing

import (
	"context"
	"net/http"
	"net/url"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
)

// GetSubscription reads the Billing Center's view of a Huawei Cloud
// Marketplace purchase. It needs no token.
//
// With a proof of ownership of the Huawei account (WithOwnershipProver or
// WithOwnershipProof) the answer is complete: whether a Billing Center
// account is bound and which, and which workspaces the subscription
// settles; OwnershipProven is true. Without one the Billing Center answers
// only what anyone who knows both IDs may learn (the status and whether it
// is active) and OwnershipProven is false. A proof for another account is
// refused (apierror.ErrProofAccountMismatch), not answered partially.
//
// huaweiAccountID is the buyer's Huawei Cloud account ID (32 lower-case hex
// characters); instanceID is the marketplace instance ID. An unknown
// purchase returns an error matching apierror.ErrNotFound.
func (c *Client) GetSubscription(ctx context.Context, huaweiAccountID, instanceID string, opts ...RequestOption) (*Subscription, error) {
	const op = "GetSubscription"
	var p apierror.Problems
	rules.HuaweiAccountID(&p, "huaweiAccountId", huaweiAccountID)
	rules.InstanceID(&p, "instanceId", instanceID)
	return send[Subscription](ctx, c, httpcore.Request{
		Operation: op, Method: http.MethodGet, Path: routes.GetSubscription,
		Query: url.Values{"huaweiAccountId": {huaweiAccountID}, "instanceId": {instanceID}},
	}, proofOptional, p.Err(op), opts)
}
