package mockserver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// The Huawei half shares the huawei client's types and rules: a purchase
// seeded in any status is read back by the client in that status, the
// product ID it seeds by default is the one the client looks for, and the
// client's largest queries (MaxPageSize, MaxResourceIDs, filtered by every
// status) are within the mock's limits.
func TestHuaweiHalf_SharesTheClientsRules(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutListener())
	hw, err := srv.HuaweiClient()
	require.NoError(t, err)
	ctx := context.Background()
	statuses := []huawei.PurchaseStatus{huawei.StatusInUse, huawei.StatusClosed, huawei.StatusFrozen, huawei.StatusExpired}
	var ids []string
	for i, st := range statuses[1:] {
		p, err := srv.AddPurchase(mockserver.Purchase{AccountID: mockserver.DemoHuaweiAccountID,
			InstanceID: fmt.Sprintf("tw-inst-status-%d", i), Status: st})
		require.NoError(t, err)
		assert.Equal(t, huawei.TrueWatchProductID, p.ProductID)
		assert.Equal(t, huawei.MarketplaceServiceType, p.ServiceTypeCode)
		ids = append(ids, p.InstanceID)
	}
	ids = append(ids, mockserver.DemoInstanceID)
	for len(ids) < huawei.MaxResourceIDs {
		ids = append(ids, fmt.Sprintf("tw-inst-none-%d", len(ids)))
	}
	page, err := hw.ListPurchases(ctx, &huawei.PurchaseQuery{Statuses: statuses, ResourceIDs: ids, Limit: huawei.MaxPageSize})
	require.NoError(t, err)
	got := map[string]huawei.PurchaseStatus{}
	for _, p := range page.Purchases {
		got[p.InstanceID] = p.Status
	}
	assert.Equal(t, map[string]huawei.PurchaseStatus{mockserver.DemoInstanceID: huawei.StatusInUse,
		"tw-inst-status-0": huawei.StatusClosed, "tw-inst-status-1": huawei.StatusFrozen,
		"tw-inst-status-2": huawei.StatusExpired}, got)

	// The mock's status names are the client's.
	assert.Equal(t, huawei.StatusFrozen, mockserver.PurchaseFrozen)
	assert.Equal(t, "frozen", mockserver.PurchaseFrozen.String())
	_, err = srv.AddPurchase(mockserver.Purchase{AccountID: mockserver.DemoHuaweiAccountID, InstanceID: "tw-inst-bad",
		Status: huawei.PurchaseStatus(6)})
	assert.Error(t, err, "a status the client does not know is refused")
}
