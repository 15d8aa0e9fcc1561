package huawei_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/huawei"
)

// sameEveryTime answers every request with the same body, whatever offset
// it asks for: a BSS that ignores paging.
func sameEveryTime(t *testing.T, body map[string]any) httpmock.Responder {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	return func(*http.Request) (*http.Response, error) { return httpmock.NewBytesResponse(200, b), nil }
}

func assertPagingStop(t *testing.T, err error, op string, offset int) {
	t.Helper()
	require.ErrorIs(t, err, apierror.ErrPaging)
	assert.NotErrorIs(t, err, apierror.ErrTransport)
	var ae *apierror.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, huawei.ServiceBSS, ae.Service)
	assert.Equal(t, op, ae.Operation)
	assert.Zero(t, ae.HTTPStatus, "not an API error: every answer was a 200")
	var pe *apierror.PagingError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "offset", pe.Unit)
	assert.Equal(t, offset, pe.Asked)
}

func TestHuaweiPurchasesStopWhenBSSRepeatsAPage(t *testing.T) {
	// total_count says a million, and every offset answers the first page:
	// the listing used to ask for pages until the deadline.
	page := []map[string]any{bssResource("old-1", huawei.TrueWatchProductID, 5, ""), bssResource("ecs-1", "ecs", 2, "")}
	c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
	mt.RegisterResponder("POST", fakeEP+"/v2/orders/suscriptions/resources/query",
		sameEveryTime(t, map[string]any{"total_count": 1_000_000, "data": page}))

	var got []string
	var stop error
	for p, err := range c.Purchases(context.Background(), &huawei.PurchaseQuery{Limit: 2}) {
		if err != nil {
			stop = err
			continue
		}
		got = append(got, p.ResourceID)
	}
	assert.Equal(t, []string{"old-1"}, got, "the first page is yielded once")
	assertPagingStop(t, stop, "Purchases", 2)
	assert.Equal(t, 2, mt.GetTotalCallCount(), "the second page is the last asked for")

	_, err := c.ActiveTrueWatchPurchase(context.Background())
	assertPagingStop(t, err, "Purchases", 2)
	assert.Equal(t, 4, mt.GetTotalCallCount())
}

func TestHuaweiPurchasesStopWhenPagesCycle(t *testing.T) {
	a := []map[string]any{bssResource("a", huawei.TrueWatchProductID, 5, "")}
	b := []map[string]any{bssResource("b", huawei.TrueWatchProductID, 5, "")}
	c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
	mt.RegisterResponder("POST", fakeEP+"/v2/orders/suscriptions/resources/query", bssPages(t, 100, a, b, a, b, a))
	_, err := c.ActiveTrueWatchPurchase(context.Background())
	assertPagingStop(t, err, "Purchases", 2)
	assert.Equal(t, 3, mt.GetTotalCallCount())
}

func TestHuaweiOrderLinesStopWhenBSSRepeatsAPage(t *testing.T) {
	c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
	mt.RegisterResponder("GET", fakeEP+"/v2/orders/customer-orders/details/CS1", sameEveryTime(t, map[string]any{
		"order_info": map[string]any{"order_id": "CS1", "status": 5}, "total_count": 500,
		"order_line_items": []map[string]any{{"order_line_item_id": "L1", "product_id": huawei.TrueWatchProductID}},
	}))
	_, err := c.Order(context.Background(), "CS1")
	assertPagingStop(t, err, "ShowCustomerOrderDetails", 1)
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

func TestHuaweiOrderSearchStopsWhenBSSRepeatsAPage(t *testing.T) {
	c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
	mt.RegisterResponder("GET", fakeEP+"/v2/orders/customer-orders", sameEveryTime(t, map[string]any{
		"total_count": 10_000, "order_infos": []map[string]any{{"order_id": "CS1"}, {"order_id": "CS2"}},
	}))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := c.OrderFor(context.Background(), huawei.Purchase{ResourceID: "r", ProductID: huawei.TrueWatchProductID,
		EffectiveTime: at, ExpireTime: at.AddDate(1, 0, 0)})
	assertPagingStop(t, err, "ListCustomerOrders", 2)
	assert.Equal(t, 2, mt.GetTotalCallCount(), "no order is fetched, no third page asked for")
}
