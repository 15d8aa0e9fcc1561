package mockserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/site"
)

// The server's ready clients reach it, with or without a listener: the
// billing client proves ownership of the demo account, the Huawei client
// signs with the demo keys, and options given to them win over the
// server's.
func TestReadyClients(t *testing.T) {
	for name, opts := range map[string][]mockserver.Option{"listener": nil, "in-process": {mockserver.WithoutListener()}} {
		t.Run(name, func(t *testing.T) {
			srv := mockserver.Start(t, opts...)
			ctx := context.Background()

			bc, err := srv.BillingClient()
			require.NoError(t, err)
			assert.Equal(t, srv.BillingURL(), bc.BaseURL())
			assert.Equal(t, srv.Audience(), bc.Audience())
			sub, err := bc.GetSubscription(ctx, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
			require.NoError(t, err)
			assert.True(t, sub.OwnershipProven, "the demo account's prover is set")

			wc, err := srv.WorkspaceClient()
			require.NoError(t, err)
			u, err := wc.BaseURL(site.ID1)
			require.NoError(t, err)
			assert.Equal(t, srv.URL()+"/sites/id1/console-api", u)
			_, err = wc.GetWorkspace(ctx, "no-such-token", site.ID1, "wksp_1")
			assert.ErrorIs(t, err, apierror.ErrUnauthorized, "the mock answered")

			hw, err := srv.HuaweiClient()
			require.NoError(t, err)
			acc, err := hw.AccountID(ctx)
			require.NoError(t, err)
			assert.Equal(t, mockserver.DemoHuaweiAccountID, acc.ID)
			p, err := hw.ActiveTrueWatchPurchase(ctx)
			require.NoError(t, err)
			assert.Equal(t, mockserver.DemoInstanceID, p.InstanceID)

			// Another seeded account: its keys win over the demo's, and its
			// prover over the demo's.
			other := "1b2c3d4e5f60718293a4b5c6d7e8f9a0"
			require.NoError(t, srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: other,
				Keys: []mockserver.AccessKey{{AK: "OTHERAK0000000001", SK: "other-sk"}}}))
			_, err = srv.AddPurchase(mockserver.Purchase{AccountID: other, InstanceID: "tw-inst-other"})
			require.NoError(t, err)
			hw2, err := srv.HuaweiClient(huawei.WithCredentials("OTHERAK0000000001", "other-sk"))
			require.NoError(t, err)
			acc, err = hw2.AccountID(ctx)
			require.NoError(t, err)
			assert.Equal(t, other, acc.ID)
			bc2, err := srv.BillingClient(billing.WithOwnershipProver(hw2))
			require.NoError(t, err)
			sub, err = bc2.GetSubscription(ctx, other, "tw-inst-other")
			require.NoError(t, err)
			assert.True(t, sub.OwnershipProven)
			_, err = bc2.GetSubscription(ctx, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
			assert.ErrorIs(t, err, apierror.ErrProofAccountMismatch, "the demo prover was replaced")

			// Bad options are the client's own errors.
			_, err = srv.BillingClient(billing.WithHTTPClient(nil))
			var oe *apierror.OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, "billing.NewClient", oe.Constructor)
		})
	}
}
