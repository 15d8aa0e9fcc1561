package huawei_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// TestMatchInstancesByOrder: purchases made through the mock's KooGallery
// are matched to the vendor's instances by order, whether BSS reports the
// instance ID as the resource_id or an ID of its own; by resource ID, only
// the first.
func TestMatchInstancesByOrder(t *testing.T) {
	for _, mode := range []mockserver.ResourceIDMode{mockserver.ResourceIDIsInstanceID, mockserver.ResourceIDDistinct} {
		t.Run(string(mode), func(t *testing.T) {
			f := newFixture(t, mockserver.HuaweiAccount{}, mockserver.WithBSSResourceIDs(mode))
			ctx := context.Background()
			var orders []mockserver.MarketplaceOrder
			for range 2 {
				o, err := f.srv.PlaceOrder(ctx, mockserver.OrderRequest{HuaweiAccountID: f.accountID})
				require.NoError(t, err)
				require.Equal(t, mockserver.OrderDelivered, o.Status, o.LastError)
				orders = append(orders, o)
			}
			c := f.client(t)
			refs := map[string]huawei.OrderLineRef{}
			for _, o := range orders {
				refs[o.InstanceID] = huawei.OrderLineRef{OrderID: o.OrderID, OrderLineID: o.OrderLineID}
			}
			got, err := c.MatchInstances(ctx, refs)
			require.NoError(t, err)
			require.Len(t, got, 2)
			resources := map[string]bool{}
			for _, o := range orders {
				p := got[o.InstanceID]
				assert.Equal(t, o.InstanceID, p.InstanceID)
				assert.Equal(t, huawei.StatusInUse, p.Status)
				assert.Equal(t, mode == mockserver.ResourceIDIsInstanceID, p.ResourceID == o.InstanceID, p.ResourceID)
				resources[p.ResourceID] = true

				_, err := c.Purchase(ctx, o.InstanceID)
				if mode == mockserver.ResourceIDDistinct {
					assert.ErrorIs(t, err, apierror.ErrNotFound, "the resource ID is not the instance ID")
				} else {
					assert.NoError(t, err)
				}
			}
			assert.Len(t, resources, 2, "two purchases, not one twice")
		})
	}
}

// TestPurchaseForOrderLines: an order that bought two purchases is told
// apart by its lines' terms; refusals name what is missing.
func TestPurchaseForOrderLines(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.purchase(t, mockserver.Purchase{InstanceID: "line-1", OrderID: "CSORDER2LINES", EffectiveTime: base, ExpireTime: base.AddDate(1, 0, 0)})
	f.purchase(t, mockserver.Purchase{InstanceID: "line-2", OrderID: "CSORDER2LINES", EffectiveTime: base, ExpireTime: base.AddDate(0, 6, 0)})
	c := f.client(t)
	ctx := context.Background()
	p, err := c.PurchaseForOrder(ctx, huawei.OrderLineRef{OrderID: "CSORDER2LINES", OrderLineID: "CSORDER2LINES-000002"})
	require.NoError(t, err)
	assert.Equal(t, "line-2", p.ResourceID)
	p, err = c.PurchaseForOrder(ctx, huawei.OrderLineRef{OrderID: "CSORDER2LINES", OrderLineID: "CSORDER2LINES-000001"})
	require.NoError(t, err)
	assert.Equal(t, "line-1", p.ResourceID)

	_, err = c.PurchaseForOrder(ctx, huawei.OrderLineRef{OrderID: "CSORDER2LINES"})
	var sel *huawei.PurchaseSelectionError
	require.ErrorAs(t, err, &sel, "two purchases and no line to choose")
	assert.Len(t, sel.Candidates, 2)
	_, err = c.PurchaseForOrder(ctx, huawei.OrderLineRef{OrderID: "CSORDER2LINES", OrderLineID: "CSORDER2LINES-000009"})
	assert.ErrorIs(t, err, apierror.ErrNotFound)
	_, err = c.PurchaseForOrder(ctx, huawei.OrderLineRef{OrderID: "CSNOSUCHORDER"})
	assert.ErrorIs(t, err, apierror.ErrNotFound)

	var ve *apierror.ValidationError
	_, err = c.PurchaseForOrder(ctx, huawei.OrderLineRef{OrderID: "has space"})
	require.ErrorAs(t, err, &ve)
	_, err = c.MatchInstances(ctx, map[string]huawei.OrderLineRef{"": {OrderID: "CSORDER2LINES"}})
	require.ErrorAs(t, err, &ve)
	_, err = c.MatchInstances(ctx, map[string]huawei.OrderLineRef{"x": {OrderID: "CSNOSUCHORDER"}})
	assert.ErrorIs(t, err, apierror.ErrNotFound)
	assert.ErrorContains(t, err, "instance x")
}
