package huawei_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/huawei"
)

// bssResource is an OrderInstanceV2 entry of a fake BSS answer.
func bssResource(id, product string, status int, expire string) map[string]any {
	r := map[string]any{"id": "rec-" + id, "resource_id": id, "product_id": product, "status": status,
		"service_type_code": "hws.service.type.marketplace"}
	if expire != "" {
		r["expire_time"] = expire
	}
	return r
}

// bssPages answers the resource query with pages, in order, whatever the
// request asks (as a server that ignores filters would).
func bssPages(t *testing.T, total int, pages ...[]map[string]any) httpmock.Responder {
	t.Helper()
	n := 0
	return func(*http.Request) (*http.Response, error) {
		page := []map[string]any{}
		if n < len(pages) {
			page = pages[n]
		}
		n++
		b, err := json.Marshal(map[string]any{"total_count": total, "data": page})
		require.NoError(t, err)
		return httpmock.NewBytesResponse(200, b), nil
	}
}

const otherProduct = "OFFI000000000000000009"

func TestHuaweiActivePurchaseFiltersProductsOnTheClient(t *testing.T) {
	c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
	mt.RegisterResponder("POST", fakeEP+"/v2/orders/suscriptions/resources/query", bssPages(t, 3, []map[string]any{
		bssResource("ecs-1", "ecs-product", 2, ""),
		bssResource("other-1", otherProduct, 2, ""),
		bssResource("tw-1", huawei.TrueWatchProductID, 2, "2027-01-01T00:00:00Z"),
	}))
	p, err := c.ActiveTrueWatchPurchase(context.Background())
	require.NoError(t, err, "in-use purchases of other products are not candidates")
	assert.Equal(t, "tw-1", p.InstanceID)
}

func TestHuaweiActivePurchaseStatuses(t *testing.T) {
	for name, tc := range map[string]struct {
		statuses []int
		want     string // instance ID, or "" for ErrNotFound
	}{
		"in use among frozen, closed and expired": {[]int{4, 3, 2, 5}, "r2"},
		"frozen only is not active":               {[]int{4}, ""},
		"expired and closed":                      {[]int{5, 3}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			var page []map[string]any
			for i, st := range tc.statuses {
				page = append(page, bssResource("r"+string(rune('0'+i)), huawei.TrueWatchProductID, st, ""))
			}
			c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
			mt.RegisterResponder("POST", fakeEP+"/v2/orders/suscriptions/resources/query", bssPages(t, len(page), page))
			p, err := c.ActiveTrueWatchPurchase(context.Background())
			if tc.want != "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, p.InstanceID)
				return
			}
			require.ErrorIs(t, err, apierror.ErrNotFound)
			var se *huawei.PurchaseSelectionError
			require.ErrorAs(t, err, &se)
			assert.Len(t, se.Candidates, len(page), "every TrueWatch purchase is listed")
			assert.NotContains(t, err.Error(), "0001-01-01", "a missing expire time is not shown as year 1")
		})
	}
}

// TestHuaweiActivePurchaseSurvivesShiftingPages: a purchase added while
// the pages are read pushes an entry onto the next page; seeing it twice
// must not make the one active purchase look ambiguous.
func TestHuaweiActivePurchaseSurvivesShiftingPages(t *testing.T) {
	c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
	live := bssResource("live", huawei.TrueWatchProductID, 2, "2027-01-01T00:00:00Z")
	old := bssResource("old", huawei.TrueWatchProductID, 5, "2025-01-01T00:00:00Z")
	mt.RegisterResponder("POST", fakeEP+"/v2/orders/suscriptions/resources/query",
		bssPages(t, 3, []map[string]any{old, live}, []map[string]any{live}))
	p, err := c.ActiveTrueWatchPurchase(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "live", p.InstanceID)
	assert.Equal(t, 2, mt.GetTotalCallCount())

	c, mt, _ = mockClient(t, huawei.WithDomainID(fakeAcct))
	mt.RegisterResponder("POST", fakeEP+"/v2/orders/suscriptions/resources/query",
		bssPages(t, 3, []map[string]any{old, old}, []map[string]any{old}))
	_, err = c.ActiveTrueWatchPurchase(context.Background())
	var se *huawei.PurchaseSelectionError
	require.ErrorAs(t, err, &se)
	assert.Len(t, se.Candidates, 1, "a purchase is a candidate once")
}
