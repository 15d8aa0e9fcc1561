package mockserver

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/koogallery"
)

// action posts a lifecycle action and requires 200.
func (h *harness) action(instanceID string, a PurchaseAction, body string) PurchaseChange {
	h.t.Helper()
	var ch PurchaseChange
	var b any
	if body != "" {
		b = body
	}
	h.controlOK(http.MethodPost, "/_mock/purchases/"+instanceID+"/"+string(a), b, &ch)
	return ch
}

// activities lists the activity and its main parameter of each delivery.
func activities(t *testing.T, ds []Delivery) []string {
	t.Helper()
	var out []string
	for _, d := range ds {
		a := d.Activity
		switch a {
		case koogallery.ActivityUpdateInstanceStatus:
			a += " " + requestField(t, d, "status")
		case koogallery.ActivityRefreshInstance:
			a += " " + requestField(t, d, "scene")
		}
		out = append(out, a+" "+string(d.Outcome))
	}
	return out
}

// TestLifecycleReachesTrueWatch: each action is delivered as KooGallery V2
// delivers it, and the Billing Center (what the activation sees) follows
// what TrueWatch was told: frozen, in use, renewed with a new order,
// expired in grace, renewed within the grace (lifted), expired again and
// locked when the grace ends, then released.
func TestLifecycleReachesTrueWatch(t *testing.T) {
	h := newHarness(t, WithTokenTTL(90*24*time.Hour))
	o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","periodMonths":1}`)
	id := o.InstanceID
	reg := h.registerFor("ada", "ada@example.com", id)
	first := h.subscription(DemoHuaweiAccountID, id)
	require.True(t, first.Activated())

	ch := h.action(id, ActionFreeze, "")
	assert.Equal(t, PurchaseFrozen, ch.Purchase.Status)
	assert.Equal(t, []string{"updateInstanceStatus FREEZE succeeded"}, activities(t, ch.Deliveries))
	sub := h.subscription(DemoHuaweiAccountID, id)
	assert.Equal(t, billing.StatusFrozen, sub.Status)
	assert.False(t, sub.InGrace(), "a freeze starts no grace period")
	assert.Len(t, sub.Workspaces, 1)

	ch = h.action(id, ActionUnfreeze, "{}")
	assert.Equal(t, []string{"updateInstanceStatus UNFREEZE succeeded"}, activities(t, ch.Deliveries))
	assert.Equal(t, billing.StatusInUse, h.subscription(DemoHuaweiAccountID, id).Status)

	ch = h.action(id, ActionRenew, `{"periodMonths":2}`)
	require.NotNil(t, ch.Order)
	assert.Equal(t, OrderRenew, ch.Order.Type)
	assert.Equal(t, OrderDelivered, ch.Order.Status)
	assert.NotEqual(t, o.OrderID, ch.Order.OrderID, "a renewal is a new order")
	end := testStart.AddDate(0, 3, 0)
	assert.Equal(t, end, ch.Purchase.ExpireTime)
	assert.Equal(t, []string{"refreshInstance RENEWAL succeeded"}, activities(t, ch.Deliveries))
	assert.Equal(t, ch.Order.OrderID, requestField(t, ch.Deliveries[0], "orderId"))
	assert.Equal(t, end.Format(koogallery.TimeLayout), requestField(t, ch.Deliveries[0], "expireTime"))
	assert.Equal(t, end, h.subscription(DemoHuaweiAccountID, id).ExpireTime.Time)

	h.clock.Advance(time.Hour)
	expired := testStart.Add(time.Hour)
	ch = h.action(id, ActionExpire, "")
	assert.Equal(t, PurchaseExpired, ch.Purchase.Status)
	assert.Equal(t, []string{"updateInstanceStatus FREEZE succeeded"}, activities(t, ch.Deliveries))
	sub = h.subscription(DemoHuaweiAccountID, id)
	assert.Equal(t, billing.StatusExpired, sub.Status)
	assert.Equal(t, expired.Add(DefaultGracePeriod), sub.GraceUntil.Time)
	assert.Equal(t, "expired, in grace until 2026-03-24T13:00:00Z", sub.State())

	var c ClockState
	h.controlOK(http.MethodPost, "/_mock/clock", `{"advance":"312h"}`, &c) // 13 days
	ch = h.action(id, ActionRenew, `{"periodMonths":12}`)
	assert.Equal(t, PurchaseInUse, ch.Purchase.Status)
	assert.Equal(t, []string{"refreshInstance RENEWAL succeeded", "updateInstanceStatus UNFREEZE succeeded"}, activities(t, ch.Deliveries))
	sub = h.subscription(DemoHuaweiAccountID, id)
	assert.Equal(t, billing.StatusInUse, sub.Status)
	assert.False(t, sub.InGrace(), "a renewal within the grace lifts it")
	_, err := h.srv.AdvanceClock(context.Background(), 2*24*time.Hour)
	require.NoError(t, err)
	ws, _ := h.srv.Workspace(reg.Workspace.ID)
	assert.False(t, ws.IsLocked, "the lifted grace locks nothing when it would have ended")

	h.action(id, ActionExpire, "")
	_, err = h.srv.AdvanceClock(context.Background(), DefaultGracePeriod)
	require.NoError(t, err)
	ws, _ = h.srv.Workspace(reg.Workspace.ID)
	assert.True(t, ws.IsLocked, "locked when the grace ends")
	sub = h.subscription(DemoHuaweiAccountID, id)
	assert.Empty(t, sub.Workspaces)
	assert.True(t, sub.Bound, "an expired subscription keeps its binding")

	ch = h.action(id, ActionRelease, "")
	assert.Equal(t, PurchaseClosed, ch.Purchase.Status)
	assert.Equal(t, []string{"releaseInstance succeeded"}, activities(t, ch.Deliveries))
	sub = h.subscription(DemoHuaweiAccountID, id)
	assert.Equal(t, billing.StatusClosed, sub.Status)
	assert.Equal(t, "released", sub.State())
	assert.False(t, sub.Bound, "a release after the grace ended drops the binding at once")

	// BSS lists the renewal orders next to the new one.
	orders := h.srv.callerOrders(HuaweiAccount{ID: DemoHuaweiAccountID, Name: DemoHuaweiAccountName}, "en_US")
	types := map[int]int{}
	for _, ord := range orders {
		types[ord.info.OrderType]++
	}
	assert.Equal(t, map[int]int{1: 2, 2: 2}, types, "the demo and the new order; two renewals")
}

// registerFor registers a new Billing Center account for an instance of
// the demo account.
func (h *harness) registerFor(username, email, instanceID string) billing.RegisterResult {
	h.t.Helper()
	req := registerReq(username, email, h.sendCode(email, billing.PurposeRegister))
	req.InstanceID = instanceID
	var out billing.RegisterResult
	h.requireOK(h.do(http.MethodPost, bcPath("/api/v1/account/register"), req), &out)
	return out
}

// TestReleaseGrace: a release keeps the workspaces for the grace period,
// then locks them and drops the binding; a renewal is refused.
func TestReleaseGrace(t *testing.T) {
	h := newHarness(t)
	reg := h.register("ada", "ada@example.com")
	ch := h.action(DemoInstanceID, ActionRelease, "")
	assert.Equal(t, []string{"releaseInstance succeeded"}, activities(t, ch.Deliveries))
	sub := h.subscription(DemoHuaweiAccountID, DemoInstanceID)
	assert.Equal(t, "released, in grace until 2026-03-24T12:00:00Z", sub.State())
	assert.True(t, sub.Bound)
	status, raw := h.control(http.MethodPost, "/_mock/purchases/"+DemoInstanceID+"/renew", nil)
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, string(raw), DemoInstanceID+" is released")
	_, err := h.srv.AdvanceClock(context.Background(), DefaultGracePeriod)
	require.NoError(t, err)
	ws, _ := h.srv.Workspace(reg.Workspace.ID)
	assert.True(t, ws.IsLocked)
	assert.False(t, h.subscription(DemoHuaweiAccountID, DemoInstanceID).Bound)
}

// TestUpgrade: the new SKU reaches the vendor and BSS.
func TestUpgrade(t *testing.T) {
	h := newHarness(t)
	ch := h.action(DemoInstanceID, ActionUpgrade, `{"skuCode":"truewatch.saas.enterprise"}`)
	assert.Equal(t, []string{"upgradeInstance succeeded"}, activities(t, ch.Deliveries))
	assert.Equal(t, "truewatch.saas.enterprise", ch.Purchase.SpecCode)
	assert.Equal(t, "truewatch.saas.enterprise", requestField(t, ch.Deliveries[0], "skuCode"))
	require.NotNil(t, ch.Order)
	assert.Equal(t, OrderUpgrade, ch.Order.Type)
	h.srv.mu.Lock()
	assert.Equal(t, "truewatch.saas.enterprise", h.srv.st.tw.subs[DemoInstanceID].skuCode)
	h.srv.mu.Unlock()
}

// TestLifecycleRefusals: an unknown or released instance, an action its
// status does not allow and a malformed body are 4xx naming the problem,
// and nothing changes or is called.
func TestLifecycleRefusals(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.srv.AddHuaweiAccount(HuaweiAccount{ID: otherHuaweiID}))
	_, err := h.srv.AddPurchase(Purchase{AccountID: otherHuaweiID, InstanceID: "inst-closed", Status: PurchaseClosed})
	require.NoError(t, err)
	_, err = h.srv.AddPurchase(Purchase{AccountID: otherHuaweiID, InstanceID: "inst-expired", Status: PurchaseExpired})
	require.NoError(t, err)
	before := h.snapshot()
	purchases := h.srv.Purchases()
	for name, tc := range map[string]struct {
		path, body string
		status     int
		msg        string
	}{
		"unknown instance":      {"/_mock/purchases/inst-nope/freeze", "", http.StatusNotFound, "inst-nope"},
		"released":              {"/_mock/purchases/inst-closed/freeze", "", http.StatusConflict, "inst-closed is released"},
		"released, release":     {"/_mock/purchases/inst-closed/release", "", http.StatusConflict, "inst-closed is released"},
		"unfreeze in use":       {"/_mock/purchases/" + DemoInstanceID + "/unfreeze", "", http.StatusConflict, "in use"},
		"freeze expired":        {"/_mock/purchases/inst-expired/freeze", "", http.StatusConflict, "expired"},
		"upgrade expired":       {"/_mock/purchases/inst-expired/upgrade", `{"skuCode":"x"}`, http.StatusConflict, "expired"},
		"expire expired":        {"/_mock/purchases/inst-expired/expire", "", http.StatusConflict, "expired"},
		"upgrade without SKU":   {"/_mock/purchases/" + DemoInstanceID + "/upgrade", "", http.StatusBadRequest, "skuCode"},
		"renew with a SKU":      {"/_mock/purchases/" + DemoInstanceID + "/renew", `{"skuCode":"x"}`, http.StatusBadRequest, "upgrade only"},
		"freeze with a period":  {"/_mock/purchases/" + DemoInstanceID + "/freeze", `{"periodMonths":1}`, http.StatusBadRequest, "renew only"},
		"renew 0 months":        {"/_mock/purchases/" + DemoInstanceID + "/renew", `{"periodMonths":-3}`, http.StatusBadRequest, "periodMonths"},
		"unknown field":         {"/_mock/purchases/" + DemoInstanceID + "/freeze", `{"reason":"x"}`, http.StatusBadRequest, "reason"},
		"malformed":             {"/_mock/purchases/" + DemoInstanceID + "/freeze", `{`, http.StatusBadRequest, ""},
		"renewal ends too soon": {"/_mock/purchases/inst-expired/renew", "", http.StatusOK, ""},
		"unknown action":        {"/_mock/purchases/" + DemoInstanceID + "/cancel", "", http.StatusNotFound, ""},
	} {
		if name == "renewal ends too soon" {
			continue // covered below, where the end is past
		}
		t.Run(name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			status, raw := h.control(http.MethodPost, tc.path, body)
			assert.Equal(t, tc.status, status, "%s", raw)
			assert.Contains(t, string(raw), tc.msg)
			assert.NotContains(t, string(raw), "internal")
		})
	}
	assert.Equal(t, before, h.snapshot())
	assert.Equal(t, purchases, h.srv.Purchases())
	assert.Empty(t, h.srv.Deliveries(DeliveryFilter{}), "no refused action reached the vendor")

	// A renewal that would still end before now is refused too.
	_, err = h.srv.AddPurchase(Purchase{AccountID: otherHuaweiID, InstanceID: "inst-long-gone", Status: PurchaseExpired,
		EffectiveTime: testStart.AddDate(-3, 0, 0), ExpireTime: testStart.AddDate(-2, 0, 0)})
	require.NoError(t, err)
	_, err = h.srv.RenewPurchase(context.Background(), "inst-long-gone", 12)
	require.ErrorIs(t, err, ErrNotAllowed)
	assert.Contains(t, err.Error(), "renew for longer")
	_, err = h.srv.ChangePurchase(context.Background(), DemoInstanceID, "cancel", ChangeOptions{})
	assert.ErrorIs(t, err, ErrNotAllowed)
}

// TestTermEndsOnTheClock: a purchase whose term ends expires by itself
// when the clock passes its end: BSS shows it expired and TrueWatch is told
// (FREEZE, dated at the end), its grace period running from then.
func TestTermEndsOnTheClock(t *testing.T) {
	h := newHarness(t)
	o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","periodMonths":1}`)
	end := testStart.AddDate(0, 1, 0)
	_, err := h.srv.SetClock(context.Background(), end.Add(-time.Second))
	require.NoError(t, err)
	assert.Equal(t, billing.StatusInUse, h.subscription(DemoHuaweiAccountID, o.InstanceID).Status)
	assert.Len(t, h.srv.Deliveries(DeliveryFilter{InstanceID: o.InstanceID, Activity: koogallery.ActivityUpdateInstanceStatus}), 0)

	_, err = h.srv.AdvanceClock(context.Background(), 5*24*time.Hour)
	require.NoError(t, err)
	ds := h.srv.Deliveries(DeliveryFilter{InstanceID: o.InstanceID, Activity: koogallery.ActivityUpdateInstanceStatus})
	require.Len(t, ds, 1)
	assert.Equal(t, end, ds[0].At)
	assert.Equal(t, "FREEZE", requestField(t, ds[0], "status"))
	assert.Equal(t, PurchaseExpired, h.srv.Purchases()[1].Status)
	sub := h.subscription(DemoHuaweiAccountID, o.InstanceID)
	assert.Equal(t, billing.StatusExpired, sub.Status)
	assert.Equal(t, end.Add(DefaultGracePeriod), sub.GraceUntil.Time)

	// The demo purchase's term (one year) has not ended.
	assert.Equal(t, PurchaseInUse, h.srv.Purchases()[0].Status)
}

// TestSeededPastEndKeepsItsStatus: a purchase seeded with an end already
// past is not expired by the clock; a seeded one with an end ahead is.
func TestSeededPastEndKeepsItsStatus(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.srv.AddHuaweiAccount(HuaweiAccount{ID: otherHuaweiID}))
	_, err := h.srv.AddPurchase(Purchase{AccountID: otherHuaweiID, InstanceID: "old", EffectiveTime: testStart.AddDate(-2, 0, 0),
		ExpireTime: testStart.AddDate(-1, 0, 0)})
	require.NoError(t, err)
	_, err = h.srv.AdvanceClock(context.Background(), 400*24*time.Hour)
	require.NoError(t, err)
	for _, p := range h.srv.Purchases() {
		want := PurchaseExpired
		if p.InstanceID == "old" {
			want = PurchaseInUse
		}
		assert.Equal(t, want, p.Status, p.InstanceID)
	}
}

// TestVendorDownKeepsTrueWatch: the marketplace freezes at once, but
// TrueWatch (and so the activation) changes only when its vendor accepts
// the call, on a retry.
func TestVendorDownKeepsTrueWatch(t *testing.T) {
	h := newHarness(t)
	_, err := h.srv.InjectFault(Fault{Method: http.MethodPost, Path: VendorProducePath, Status: http.StatusServiceUnavailable})
	require.NoError(t, err)
	ch := h.action(DemoInstanceID, ActionFreeze, "")
	assert.Equal(t, PurchaseFrozen, ch.Purchase.Status)
	assert.Equal(t, []string{"updateInstanceStatus FREEZE retrying"}, activities(t, ch.Deliveries))
	assert.Equal(t, billing.StatusInUse, h.subscription(DemoHuaweiAccountID, DemoInstanceID).Status, "TrueWatch was not told yet")
	_, err = h.srv.AdvanceClock(context.Background(), 3*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, billing.StatusFrozen, h.subscription(DemoHuaweiAccountID, DemoInstanceID).Status)
}

// TestClockControl: GET and POST /_mock/clock, and the refusals.
func TestClockControl(t *testing.T) {
	h := newHarness(t)
	var c ClockState
	h.controlOK(http.MethodGet, "/_mock/clock", nil, &c)
	assert.Equal(t, testStart, c.Now)
	h.controlOK(http.MethodPost, "/_mock/clock", `{"advance":"360h"}`, &c)
	assert.Equal(t, testStart.Add(360*time.Hour), c.Now)
	assert.Equal(t, testStart.Add(360*time.Hour), h.clock.Now(), "a ManualClock is moved in place")
	h.controlOK(http.MethodPost, "/_mock/clock", `{"set":"2027-01-01T00:00:00Z"}`, &c)
	assert.Equal(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), c.Now)
	for body, want := range map[string]int{
		`{"set":"2026-01-01T00:00:00Z"}`:                http.StatusConflict,
		`{"advance":"-1h"}`:                             http.StatusConflict,
		`{"advance":"1h","set":"2028-01-01T00:00:00Z"}`: http.StatusBadRequest,
		`{}`:                                             http.StatusBadRequest,
		`{"advance":"soon"}`:                             http.StatusBadRequest,
		`{"advance":"15d"}`:                              http.StatusBadRequest,
		`{"advance":"1000000h"}`:                         http.StatusBadRequest,
		`{"set":"tomorrow"}`:                             http.StatusBadRequest,
		`{"advance":"1h","by":"me"}`:                     http.StatusBadRequest,
		`{"advance":"1h"} {"advance":"1h"}`:              http.StatusBadRequest,
		strings.Repeat(" ", 10) + `{"advance":3600}`:     http.StatusBadRequest,
		`{"advance":"1h","advance":"2h"}`:                http.StatusBadRequest,
		`{"set":"2027-01-01T00:00:00Z","advance":"0s"} `: http.StatusBadRequest,
	} {
		status, raw := h.control(http.MethodPost, "/_mock/clock", body)
		assert.Equal(t, want, status, "%s: %s", body, raw)
	}
	h.controlOK(http.MethodGet, "/_mock/clock", nil, &c)
	assert.Equal(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), c.Now, "refused moves change nothing")
}

// TestSystemClockMoves: a server on the system clock is moved through an
// offset.
func TestSystemClockMoves(t *testing.T) {
	srv := Start(t, WithoutListener())
	before := time.Now()
	now, err := srv.AdvanceClock(context.Background(), 360*time.Hour)
	require.NoError(t, err)
	assert.WithinDuration(t, before.Add(360*time.Hour), now, time.Minute)
	assert.WithinDuration(t, before.Add(360*time.Hour), srv.Now(), time.Minute)
	off, err := time.ParseDuration(srv.ClockState().Offset)
	require.NoError(t, err)
	assert.InDelta(t, float64(360*time.Hour), float64(off), float64(time.Minute))
	_, err = srv.SetClock(context.Background(), time.Now())
	assert.ErrorIs(t, err, ErrClockBackwards)
}

// TestOwnVendorRefusesBadInput: TrueWatch's production interface answers
// every malformed, unsigned, stale, replayed or unknown call with its
// documented result code (never a 5xx) and changes nothing.
func TestOwnVendorRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	signer, err := koogallery.NewSigner(DemoKooGalleryKey)
	require.NoError(t, err)
	wrongKey, err := koogallery.NewSigner("not-the-koogallery-key")
	require.NoError(t, err)
	signed := func(s *koogallery.Signer, body string, at time.Time, nonce string) string {
		sig, err := s.SignAt([]byte(body), at, nonce)
		require.NoError(t, err)
		return VendorProducePath + "?" + sig.Query().Encode()
	}
	fresh := `{"activity":"newInstance","businessId":"b-1","orderId":"CS1","orderLineId":"CS1-000001","testFlag":"0",` +
		`"buyerInfo":{"customerId":"` + DemoHuaweiAccountID + `"},"orderInfo":[{"businessId":"b-1","orderId":"CS1",` +
		`"orderLineId":"CS1-000001","expireTime":"20270101000000"}]}`
	replayed := signed(signer, `{"activity":"queryInstance","instanceId":"x"}`, h.clock.Now(), "nonce-replayed")
	before := h.snapshot()
	for name, tc := range map[string]struct {
		method, target, body string
		code                 koogallery.ResultCode
	}{
		"wrong key":       {"POST", signed(wrongKey, fresh, h.clock.Now(), koogallery.NewNonce()), fresh, koogallery.ResultAuthFailed},
		"no signature":    {"POST", VendorProducePath + "?timestamp=1&nonce=n", fresh, koogallery.ResultAuthFailed},
		"tampered body":   {"POST", signed(signer, fresh, h.clock.Now(), koogallery.NewNonce()), strings.Replace(fresh, "b-1", "b-2", 2), koogallery.ResultAuthFailed},
		"stale":           {"POST", signed(signer, fresh, h.clock.Now().Add(-2*time.Minute), koogallery.NewNonce()), fresh, koogallery.ResultInvalidParameter},
		"future":          {"POST", signed(signer, fresh, h.clock.Now().Add(5*time.Minute), koogallery.NewNonce()), fresh, koogallery.ResultInvalidParameter},
		"unknown":         {"POST", signed(signer, `{"activity":"deleteEverything"}`, h.clock.Now(), koogallery.NewNonce()), `{"activity":"deleteEverything"}`, koogallery.ResultInvalidParameter},
		"missing fields":  {"POST", signed(signer, `{"activity":"releaseInstance"}`, h.clock.Now(), koogallery.NewNonce()), `{"activity":"releaseInstance"}`, koogallery.ResultInvalidParameter},
		"oversized field": {"POST", signed(signer, `{"activity":"releaseInstance","instanceId":"`+strings.Repeat("i", 65)+`"}`, h.clock.Now(), koogallery.NewNonce()), `{"activity":"releaseInstance","instanceId":"` + strings.Repeat("i", 65) + `"}`, koogallery.ResultInvalidParameter},
		"malformed JSON":  {"POST", VendorProducePath + "?signature=00&timestamp=1&nonce=n", `{"activity":`, koogallery.ResultInvalidParameter},
		"not an object":   {"POST", VendorProducePath + "?signature=00&timestamp=1&nonce=n", `[1]`, koogallery.ResultInvalidParameter},
		"huge body":       {"POST", VendorProducePath + "?signature=00&timestamp=1&nonce=n", `{"x":"` + strings.Repeat("a", 2<<20) + `"}`, koogallery.ResultInvalidParameter},
		"unknown instance": {"POST", signed(signer, `{"activity":"releaseInstance","instanceId":"nope"}`, h.clock.Now(), koogallery.NewNonce()),
			`{"activity":"releaseInstance","instanceId":"nope"}`, koogallery.ResultInstanceNotFound},
		"customer not an account": {"POST", signed(signer, strings.Replace(fresh, DemoHuaweiAccountID, "someone", 1), h.clock.Now(), koogallery.NewNonce()),
			strings.Replace(fresh, DemoHuaweiAccountID, "someone", 1), koogallery.ResultInvalidParameter},
		"flat, unknown order": {"POST", signed(signer, `{"activity":"newInstance","businessId":"b","orderId":"CSX","orderLineId":"CSX-1"}`, h.clock.Now(), koogallery.NewNonce()),
			`{"activity":"newInstance","businessId":"b","orderId":"CSX","orderLineId":"CSX-1"}`, koogallery.ResultInvalidParameter},
		"GET": {"GET", VendorProducePath, "", koogallery.ResultInvalidParameter},
	} {
		t.Run(name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := h.do(tc.method, tc.target, body)
			assert.Less(t, r.status, 500, "%s", r.raw)
			var ans struct {
				ResultCode koogallery.ResultCode `json:"resultCode"`
			}
			require.NoError(t, json.Unmarshal(r.raw, &ans), "%s", r.raw)
			assert.Equal(t, tc.code, ans.ResultCode, "%s", r.raw)
		})
	}
	// A replayed nonce: the first call is answered, the second refused.
	q := `{"activity":"queryInstance","instanceId":"x"}`
	assert.Contains(t, string(h.do("POST", replayed, q).raw), `"000000"`)
	assert.Contains(t, string(h.do("POST", replayed, q).raw), `"000001"`)
	// A path below the interface that is not the kit's, in its shape.
	r := h.do("POST", VendorProducePath+"/other", "{}")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Contains(t, string(r.raw), `"resultCode":"000002"`)

	assert.Equal(t, before, h.snapshot())
	h.srv.mu.Lock()
	assert.Len(t, h.srv.st.tw.subs, 1, "only the demo subscription")
	h.srv.mu.Unlock()

	// And the well-formed call, once, is accepted.
	r = h.do("POST", signed(signer, fresh, h.clock.Now(), koogallery.NewNonce()), fresh)
	assert.Contains(t, string(r.raw), `"instanceId":"b-1"`)
}

// TestOwnKit: the joint-operation kit is served under the production
// address, keyed with the kit key.
func TestOwnKit(t *testing.T) {
	h := newHarness(t)
	signer, err := koogallery.NewKitSigner(DemoKooGalleryKitKey, koogallery.WithSignerClock(h.clock.Now))
	require.NoError(t, err)
	c, err := koogallery.NewKitCaller("http://mock.invalid"+VendorProducePath, signer,
		koogallery.WithCallerHandler(h.srv.Handler()))
	require.NoError(t, err)
	res, err := c.Send(context.Background(), &koogallery.TenantSync{InstanceID: DemoInstanceID, TenantID: "t1",
		TenantCode: "acme", Name: "Acme", DomainName: "acme.example", Flag: koogallery.FlagAdd})
	require.NoError(t, err)
	assert.Equal(t, koogallery.ResultSuccess, res.ResultCode, res.ResultMsg)
	res, err = c.Send(context.Background(), &koogallery.TenantSync{InstanceID: "nope", TenantID: "t1",
		TenantCode: "acme", Name: "Acme", DomainName: "acme.example", Flag: koogallery.FlagAdd})
	require.NoError(t, err)
	assert.Equal(t, koogallery.ResultInstanceNotFound, res.ResultCode)

	wrong, err := koogallery.NewKitSigner(DemoKooGalleryKey, koogallery.WithSignerClock(h.clock.Now))
	require.NoError(t, err)
	c, err = koogallery.NewKitCaller("http://mock.invalid"+VendorProducePath, wrong, koogallery.WithCallerHandler(h.srv.Handler()))
	require.NoError(t, err)
	res, err = c.Send(context.Background(), &koogallery.TenantSync{InstanceID: DemoInstanceID, TenantID: "t1",
		TenantCode: "acme", Name: "Acme", DomainName: "acme.example", Flag: koogallery.FlagAdd})
	require.NoError(t, err)
	assert.Equal(t, koogallery.ResultAuthFailed, res.ResultCode, "the production key is not the kit's")
}
