package mockserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// order posts a purchase to the control plane and requires 201.
func (h *harness) order(body string) MarketplaceOrder {
	h.t.Helper()
	var o MarketplaceOrder
	h.controlCreated("/_mock/marketplace/orders", body, &o)
	return o
}

// controlOK sends a control request, requires 200 and decodes into v.
func (h *harness) controlOK(method, path string, body any, v any) {
	h.t.Helper()
	status, raw := h.control(method, path, body)
	require.Equal(h.t, http.StatusOK, status, "%s %s: %s", method, path, raw)
	if v != nil {
		require.NoError(h.t, json.Unmarshal(raw, v), "%s", raw)
	}
}

// subscription reads a subscription from the Billing Center over HTTP.
func (h *harness) subscription(huaweiID, instanceID string) billing.Subscription {
	h.t.Helper()
	q := url.Values{"huaweiAccountId": {huaweiID}, "instanceId": {instanceID}}
	var sub billing.Subscription
	h.requireOK(h.do(http.MethodGet, bcPath(routes.GetSubscription)+"?"+q.Encode(), nil), &sub)
	return sub
}

func (h *harness) deliveries(query string) []Delivery {
	h.t.Helper()
	var out []Delivery
	h.controlOK(http.MethodGet, "/_mock/marketplace/deliveries"+query, nil, &out)
	return out
}

// requestField reads a top-level string of a delivery's request.
func requestField(t *testing.T, d Delivery, path ...string) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(d.Request, &v))
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			require.NotEmpty(t, x)
			v = x[0].(map[string]any)[p]
		}
	}
	s, _ := v.(string)
	return s
}

var orderIDPattern = regexp.MustCompile(`^CS[0-9]{10}[0-9A-F]{5}$`)

// TestOrderReachesTrueWatch: a purchase through the mock is delivered to
// TrueWatch's own production interface as a signed newInstance; the
// instance it answers (the first businessId) becomes the purchase in BSS
// and the subscription the Billing Center looks up; the buyer's order
// carries the activation link, the delivery log does not.
func TestOrderReachesTrueWatch(t *testing.T) {
	h := newHarness(t)
	o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","productId":"` + TrueWatchProductID +
		`","skuCode":"truewatch.saas.pro","periodMonths":6}`)
	assert.Equal(t, OrderDelivered, o.Status)
	assert.Regexp(t, orderIDPattern, o.OrderID)
	assert.Equal(t, o.OrderID+"-000001", o.OrderLineID)
	assert.Equal(t, 1, o.Attempts)
	assert.Equal(t, testStart.AddDate(0, 6, 0), o.ExpireTime)
	require.NotEmpty(t, o.InstanceID)
	assert.Regexp(t, `^http://mock\.invalid/billing-center/activate\?huaweiAccountId=`+DemoHuaweiAccountID+`&instanceId=`+o.InstanceID+`&token=atk_[0-9a-f]{32}$`, o.FrontEndURL)

	ds := h.deliveries("")
	require.Len(t, ds, 1)
	d := ds[0]
	assert.Equal(t, koogallery.ActivityNewInstance, d.Activity)
	assert.Equal(t, DeliverySucceeded, d.Outcome)
	assert.Equal(t, "000000", d.ResultCode)
	assert.Equal(t, testStart, d.At)
	assert.Equal(t, "http://mock.invalid"+VendorProducePath, d.URL)
	assert.Equal(t, o.InstanceID, requestField(t, d, "orderInfo", "businessId"), "the instance ID is the first businessId")
	assert.Equal(t, DemoHuaweiAccountID, requestField(t, d, "buyerInfo", "customerId"))
	assert.Equal(t, "truewatch.saas.pro", requestField(t, d, "orderInfo", "productInfo", "skuCode"))
	assert.Equal(t, testStart.AddDate(0, 6, 0).Format(koogallery.TimeLayout), requestField(t, d, "orderInfo", "expireTime"))
	all, _ := json.Marshal(ds)
	assert.NotContains(t, string(all), "atk_", "the activation token never reaches the log")
	assert.Contains(t, string(d.Response), "token=REDACTED")

	var purchases []Purchase
	h.controlOK(http.MethodGet, "/_mock/purchases", nil, &purchases)
	require.Len(t, purchases, 2)
	p := purchases[1]
	assert.Equal(t, o.InstanceID, p.InstanceID)
	assert.Equal(t, o.InstanceID, p.ResourceID)
	assert.Equal(t, o.OrderID, p.OrderID)
	assert.Equal(t, "truewatch.saas.pro", p.SpecCode)
	assert.Equal(t, o.FrontEndURL, p.FrontEndURL)
	assert.Equal(t, PurchaseInUse, p.Status)

	sub := h.subscription(DemoHuaweiAccountID, o.InstanceID)
	assert.True(t, sub.Active)
	assert.False(t, sub.Bound)
	assert.Equal(t, testStart.AddDate(0, 6, 0), sub.ExpireTime.Time)
	sum, ok := h.srv.Order(o.OrderID)
	require.True(t, ok)
	assert.Equal(t, o, sum)
}

// TestOrderSignedWithTheKey: the calls are signed with the configured
// production key, which a vendor's own koogallery.Handler verifies; the
// mock's own vendor refuses them when it is keyed otherwise.
func TestOrderSignedWithTheKey(t *testing.T) {
	got := make(chan *koogallery.NewInstanceRequest, 1)
	vendor := &recordingVendor{got: got}
	// The vendor checks signatures against the clock the mock signs with
	// (the harness's manual clock).
	clock := NewManualClock(testStart)
	h, err := koogallery.NewHandler("vendor-key-0123456789", vendor, koogallery.WithClock(clock.Now))
	require.NoError(t, err)
	hh := newHarness(t, WithVendorHandler(h), WithKooGalleryKey("vendor-key-0123456789"))
	o := hh.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `"}`)
	require.Equal(t, OrderDelivered, o.Status, o.LastError)
	req := <-got
	assert.Equal(t, o.OrderID, req.OrderID)
	require.NotNil(t, req.Buyer)
	assert.Equal(t, DemoHuaweiAccountID, req.Buyer.CustomerID)
	assert.Equal(t, "inst-"+req.BusinessID[:8], o.InstanceID)

	// A mock whose KooGallery and vendor disagree on the key: 000001,
	// retried, nothing created.
	wrong := newHarness(t, WithVendorHandler(h))
	o = wrong.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `"}`)
	assert.Equal(t, OrderPending, o.Status)
	assert.Contains(t, o.LastError, "000001")
	assert.Len(t, wrong.srv.Purchases(), 1)
}

// recordingVendor is a user's vendor: it records newInstance and answers
// an instance ID of its own.
type recordingVendor struct {
	koogallery.UnimplementedVendor
	got      chan *koogallery.NewInstanceRequest
	password string
}

func (v *recordingVendor) NewInstance(_ context.Context, r *koogallery.NewInstanceRequest) (*koogallery.NewInstanceResult, error) {
	select {
	case v.got <- r:
	default:
	}
	return &koogallery.NewInstanceResult{InstanceID: "inst-" + r.BusinessID[:8], AppInfo: koogallery.AppInfo{
		FrontEndURL: "https://vendor.example/start?code=secret-code-1&tenant=t1", AdminURL: "https://vendor.example/admin",
		UserName: "admin", Password: secret.String("p4ssw0rd-" + v.password)}}, nil
}

// TestOrderRefusals: an unknown or unverified buyer and malformed orders
// are 4xx naming the problem, and nothing is created or called.
func TestOrderRefusals(t *testing.T) {
	h := newHarness(t)
	unverified := false
	require.NoError(t, h.srv.AddHuaweiAccount(HuaweiAccount{ID: otherHuaweiID, RealNameVerified: &unverified}))
	before := h.snapshot()
	for name, tc := range map[string]struct {
		body   string
		status int
		msg    string
	}{
		"unverified buyer":   {`{"huaweiAccountId":"` + otherHuaweiID + `"}`, http.StatusForbidden, "real-name"},
		"unknown buyer":      {`{"huaweiAccountId":"ffffffffffffffffffffffffffffffff"}`, http.StatusNotFound, "ffffffffffffffffffffffffffffffff"},
		"no buyer":           {`{}`, http.StatusBadRequest, "huaweiAccountId"},
		"bad buyer":          {`{"huaweiAccountId":"DEMO"}`, http.StatusBadRequest, "huaweiAccountId"},
		"long period":        {`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","periodMonths":121}`, http.StatusBadRequest, "periodMonths"},
		"negative period":    {`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","periodMonths":-1}`, http.StatusBadRequest, "periodMonths"},
		"oversized product":  {`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","productId":"` + strings.Repeat("p", 65) + `"}`, http.StatusBadRequest, "productId"},
		"sku with a space":   {`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","skuCode":"a b"}`, http.StatusBadRequest, "skuCode"},
		"unknown field":      {`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","price":1}`, http.StatusBadRequest, "price"},
		"key given twice":    {`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","huaweiAccountId":"` + DemoHuaweiAccountID + `"}`, http.StatusBadRequest, "huaweiAccountId"},
		"malformed JSON":     {`{"huaweiAccountId":`, http.StatusBadRequest, ""},
		"period as a string": {`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","periodMonths":"12"}`, http.StatusBadRequest, "periodMonths"},
	} {
		t.Run(name, func(t *testing.T) {
			status, raw := h.control(http.MethodPost, "/_mock/marketplace/orders", tc.body)
			assert.Equal(t, tc.status, status, "%s", raw)
			var e controlErr
			require.NoError(t, json.Unmarshal(raw, &e), "%s", raw)
			assert.Contains(t, e.Error, tc.msg)
		})
	}
	assert.Equal(t, before, h.snapshot())
	assert.Empty(t, h.srv.Orders())
	assert.Empty(t, h.srv.Deliveries(DeliveryFilter{}))
	_, err := h.srv.PlaceOrder(context.Background(), OrderRequest{HuaweiAccountID: otherHuaweiID})
	assert.ErrorIs(t, err, ErrRealNameRequired)
}

// TestOrderRetriesOnTheClock: a failed newInstance is made again every 3
// minutes on the mock's clock (a jump runs each due attempt at its time),
// until it succeeds; one that never succeeds cancels the order after the
// policy's attempts, and nothing is created.
func TestOrderRetriesOnTheClock(t *testing.T) {
	t.Run("succeeds on the third attempt", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.srv.InjectFault(Fault{Method: http.MethodPost, Path: VendorProducePath, Status: http.StatusServiceUnavailable, Times: 2})
		require.NoError(t, err)
		o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `"}`)
		assert.Equal(t, OrderPending, o.Status)
		assert.Equal(t, 1, o.Attempts)
		assert.Equal(t, testStart.Add(3*time.Minute), o.NextAttemptAt)
		assert.Contains(t, o.LastError, "000005")
		assert.Empty(t, o.InstanceID)

		var c ClockState
		h.controlOK(http.MethodPost, "/_mock/clock", `{"advance":"10m"}`, &c)
		assert.Equal(t, testStart.Add(10*time.Minute), c.Now)
		got, _ := h.srv.Order(o.OrderID)
		assert.Equal(t, OrderDelivered, got.Status)
		assert.Equal(t, 3, got.Attempts)
		ds := h.deliveries("?orderId=" + o.OrderID)
		require.Len(t, ds, 3)
		for i, want := range []DeliveryOutcome{DeliveryRetrying, DeliveryRetrying, DeliverySucceeded} {
			assert.Equal(t, want, ds[i].Outcome)
			assert.Equal(t, i+1, ds[i].Attempt)
			assert.Equal(t, testStart.Add(time.Duration(i)*3*time.Minute), ds[i].At, "attempt %d runs at its due time", i+1)
		}
		assert.NotEqual(t, requestField(t, ds[0], "orderInfo", "businessId"), requestField(t, ds[1], "orderInfo", "businessId"),
			"every attempt has a new businessId")
		assert.Equal(t, requestField(t, ds[2], "orderInfo", "businessId"), got.InstanceID)
		p, ok := h.srv.Subscription(DemoHuaweiAccountID, got.InstanceID)
		require.True(t, ok)
		assert.True(t, p.Active)
	})
	t.Run("cancelled after the last attempt", func(t *testing.T) {
		h := newHarness(t, WithDeliveryPolicy(DeliveryPolicy{Attempts: 3, Interval: time.Minute}))
		_, err := h.srv.InjectFault(Fault{Method: http.MethodPost, Path: VendorProducePath, Status: http.StatusBadGateway, Times: 1000})
		require.NoError(t, err)
		o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `"}`)
		_, err = h.srv.AdvanceClock(context.Background(), time.Hour)
		require.NoError(t, err)
		got, _ := h.srv.Order(o.OrderID)
		assert.Equal(t, OrderCancelled, got.Status)
		assert.Equal(t, 3, got.Attempts)
		assert.True(t, got.NextAttemptAt.IsZero())
		ds := h.srv.Deliveries(DeliveryFilter{OrderID: o.OrderID})
		require.Len(t, ds, 3)
		assert.Equal(t, DeliveryGaveUp, ds[2].Outcome)
		assert.Len(t, h.srv.Purchases(), 1, "a cancelled order buys nothing")
		_, err = h.srv.AdvanceClock(context.Background(), time.Hour)
		require.NoError(t, err)
		assert.Len(t, h.srv.Deliveries(DeliveryFilter{}), 3, "no attempt after the last")
	})
}

// TestOrderLostAnswer: the vendor created the instance but its answer was
// lost; KooGallery's retry gets the same instance (newInstance is
// idempotent per order), not a second one.
func TestOrderLostAnswer(t *testing.T) {
	h := newHarness(t)
	_, err := h.srv.InjectFault(Fault{Method: http.MethodPost, Path: VendorProducePath, AfterHandler: true, Times: 1})
	require.NoError(t, err)
	o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `"}`)
	require.Equal(t, OrderPending, o.Status)
	_, err = h.srv.AdvanceClock(context.Background(), 3*time.Minute)
	require.NoError(t, err)
	got, _ := h.srv.Order(o.OrderID)
	require.Equal(t, OrderDelivered, got.Status)
	ds := h.srv.Deliveries(DeliveryFilter{OrderID: o.OrderID})
	require.Len(t, ds, 2)
	assert.Equal(t, requestField(t, ds[0], "orderInfo", "businessId"), got.InstanceID, "the instance of the first call")
	h.srv.mu.Lock()
	assert.Len(t, h.srv.st.tw.subs, 2, "the demo purchase and this one")
	h.srv.mu.Unlock()
}

// TestViewOrder: viewing a delivered order calls newInstance again; the
// mock's vendor answers the same instance and changes nothing.
func TestViewOrder(t *testing.T) {
	h := newHarness(t)
	o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `"}`)
	before := h.snapshot()
	var v OrderView
	h.controlOK(http.MethodPost, "/_mock/marketplace/orders/"+o.OrderID+"/view", nil, &v)
	assert.True(t, v.InstanceKept)
	assert.Equal(t, koogallery.ActivityNewInstance, v.Delivery.Activity)
	assert.NotEqual(t, o.InstanceID, requestField(t, v.Delivery, "orderInfo", "businessId"))
	assert.Equal(t, before, h.snapshot())
	assert.Len(t, h.srv.Purchases(), 2)

	status, raw := h.control(http.MethodPost, "/_mock/marketplace/orders/CS0000000000NOPE/view", nil)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, string(raw), "CS0000000000NOPE")
}

// TestDeliveryLogRedacts: a vendor's password and the query values of its
// URLs never reach the log; the order shows the buyer their own link.
func TestDeliveryLogRedacts(t *testing.T) {
	v := &recordingVendor{got: make(chan *koogallery.NewInstanceRequest, 1), password: "hunter2"}
	vh, err := koogallery.NewHandler(DemoKooGalleryKey, v, koogallery.WithClock(NewManualClock(testStart).Now))
	require.NoError(t, err)
	h := newHarness(t, WithVendorHandler(vh), WithVendorURL("https://vendor.example/produce"))
	o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `"}`)
	require.Equal(t, OrderDelivered, o.Status, o.LastError)
	assert.Equal(t, "https://vendor.example/start?code=secret-code-1&tenant=t1", o.FrontEndURL)
	_, raw := h.control(http.MethodGet, "/_mock/marketplace/deliveries", nil)
	for _, secret := range []string{"hunter2", "p4ssw0rd", "secret-code-1", DemoKooGalleryKey, "signature="} {
		assert.NotContains(t, string(raw), secret)
	}
	ds := h.srv.Deliveries(DeliveryFilter{})
	require.Len(t, ds, 1)
	assert.Equal(t, "https://vendor.example/produce", ds[0].URL)
	var answer struct {
		AppInfo map[string]string `json:"appInfo"`
	}
	require.NoError(t, json.Unmarshal(ds[0].Response, &answer))
	assert.Equal(t, map[string]string{"frontEndUrl": "https://vendor.example/start?code=REDACTED&tenant=REDACTED",
		"adminUrl": "https://vendor.example/admin", "userName": "admin", "password": "REDACTED"}, answer.AppInfo)

	// The purchase of a vendor that is not TrueWatch: BSS and the
	// subscription lookup show it, from the marketplace's record.
	sub := h.subscription(DemoHuaweiAccountID, o.InstanceID)
	assert.True(t, sub.Active)
}

// TestDeliveriesFilter: the log filters by activity, instance and order,
// and refuses unknown parameters.
func TestDeliveriesFilter(t *testing.T) {
	h := newHarness(t)
	o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `"}`)
	_, err := h.srv.FreezePurchase(context.Background(), DemoInstanceID)
	require.NoError(t, err)
	assert.Len(t, h.deliveries(""), 2)
	assert.Len(t, h.deliveries("?activity=newInstance"), 1)
	assert.Len(t, h.deliveries("?instanceId="+DemoInstanceID), 1)
	assert.Len(t, h.deliveries("?orderId="+o.OrderID), 1)
	status, _ := h.control(http.MethodGet, "/_mock/marketplace/deliveries?verbose=1", nil)
	assert.Equal(t, http.StatusBadRequest, status)
	status, _ = h.control(http.MethodGet, "/_mock/marketplace/deliveries?activity=a&activity=b", nil)
	assert.Equal(t, http.StatusBadRequest, status)
}

// TestResourceIDs: BSS reports the instance ID as resource_id, or (an
// option) an ID of its own; the order line is the same either way.
func TestResourceIDs(t *testing.T) {
	h := newHarness(t, WithBSSResourceIDs(ResourceIDDistinct))
	o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `"}`)
	p := h.srv.Purchases()[1]
	assert.Equal(t, o.InstanceID, p.InstanceID)
	assert.NotEqual(t, o.InstanceID, p.ResourceID)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, p.ResourceID)
	orders := h.srv.callerOrders(HuaweiAccount{ID: DemoHuaweiAccountID, Name: DemoHuaweiAccountName}, "en_US")
	var lines []string
	for _, ord := range orders {
		if ord.info.OrderID == o.OrderID {
			for _, l := range ord.lines {
				lines = append(lines, l.OrderLineItemID)
			}
		}
	}
	assert.Equal(t, []string{o.OrderLineID}, lines)
	assert.Error(t, WithBSSResourceIDs("random")(&config{}))
}

// TestFlatNewInstance: the flat V2 shape carries only the order's IDs; the
// mock's own vendor reads the order from the marketplace.
func TestFlatNewInstance(t *testing.T) {
	h := newHarness(t, WithNewInstanceShape(NewInstanceFlat))
	o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","periodMonths":3}`)
	require.Equal(t, OrderDelivered, o.Status, o.LastError)
	d := h.srv.Deliveries(DeliveryFilter{})[0]
	var body map[string]any
	require.NoError(t, json.Unmarshal(d.Request, &body))
	assert.ElementsMatch(t, []string{"activity", "businessId", "orderId", "orderLineId", "testFlag"}, keysOf(body))
	sub := h.subscription(DemoHuaweiAccountID, o.InstanceID)
	assert.Equal(t, testStart.AddDate(0, 3, 0), sub.ExpireTime.Time)
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestResetClearsTheMarketplace: Reset drops orders, deliveries and
// pending retries; a retry of the old state never runs.
func TestResetClearsTheMarketplace(t *testing.T) {
	h := newHarness(t)
	_, err := h.srv.InjectFault(Fault{Method: http.MethodPost, Path: VendorProducePath, Status: http.StatusServiceUnavailable, Times: 1})
	require.NoError(t, err)
	h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `"}`)
	require.NoError(t, h.srv.Reset())
	_, err = h.srv.AdvanceClock(context.Background(), time.Hour)
	require.NoError(t, err)
	assert.Empty(t, h.srv.Orders())
	assert.Empty(t, h.srv.Deliveries(DeliveryFilter{}))
	assert.Len(t, h.srv.Purchases(), 1)
}

// TestDeliveryLogIsBounded: a full log drops its oldest tenth.
func TestDeliveryLogIsBounded(t *testing.T) {
	h := newHarness(t)
	h.srv.mu.Lock()
	for range maxDeliveryLog + 5 {
		h.srv.logDeliveryLocked(&Delivery{Activity: "x"})
	}
	h.srv.mu.Unlock()
	ds := h.srv.Deliveries(DeliveryFilter{})
	assert.LessOrEqual(t, len(ds), maxDeliveryLog)
	assert.Greater(t, len(ds), maxDeliveryLog*8/10)
	assert.Equal(t, maxDeliveryLog+5, ds[len(ds)-1].ID, "the newest stays")
}
