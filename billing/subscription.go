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
// Marketplace purchase: its status, whether a Billing Center account is
// bound, and which workspaces it settles. It needs no token.
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
	}, p.Err(op), opts)
}
