package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// vendorAgainstMock runs the vendor on a real listener and the mock's
// KooGallery pointed at it (the binary's -vendor-url).
func vendorAgainstMock(t *testing.T, opts ...mockserver.Option) (*Vendor, *mockserver.Server, *mockserver.ManualClock) {
	t.Helper()
	v := NewVendor("https://vendor.example", io.Discard)
	h, err := Handler(mockserver.DemoKooGalleryKey, v, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	clock := mockserver.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	srv := mockserver.Start(t, append([]mockserver.Option{mockserver.WithClock(clock), mockserver.WithVendorURL(ts.URL + "/produce")}, opts...)...)
	return v, srv, clock
}

// TestVendorPassesAgainstTheMarketplace: a purchase and its whole
// lifecycle, delivered by the mock's KooGallery, reach the vendor signed;
// it answers every call with success, keeps one instance per order, and
// the mock records what it was told.
func TestVendorPassesAgainstTheMarketplace(t *testing.T) {
	v, srv, _ := vendorAgainstMock(t)
	ctx := context.Background()
	o, err := srv.PlaceOrder(ctx, mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		SKUCode: "basic", PeriodMonths: 12})
	require.NoError(t, err)
	require.Equal(t, mockserver.OrderDelivered, o.Status, o.LastError)
	require.Len(t, v.Instances(), 1)
	in := v.Instances()[0]
	assert.Equal(t, o.InstanceID, in.ID)
	assert.Equal(t, mockserver.DemoHuaweiAccountID, in.CustomerID)
	assert.Equal(t, "basic", in.SKU)
	assert.Equal(t, "https://vendor.example/start?instance="+in.ID, o.FrontEndURL)

	view, err := srv.ViewOrder(ctx, o.OrderID)
	require.NoError(t, err)
	assert.True(t, view.InstanceKept, "a repeated newInstance answers the same instance")
	assert.Len(t, v.Instances(), 1)

	id := o.InstanceID
	for _, step := range []struct {
		do    func() (mockserver.PurchaseChange, error)
		check func(Instance) bool
	}{
		{func() (mockserver.PurchaseChange, error) { return srv.FreezePurchase(ctx, id) }, func(i Instance) bool { return i.Frozen }},
		{func() (mockserver.PurchaseChange, error) { return srv.UnfreezePurchase(ctx, id) }, func(i Instance) bool { return !i.Frozen }},
		{func() (mockserver.PurchaseChange, error) { return srv.RenewPurchase(ctx, id, 12) },
			func(i Instance) bool { return i.ExpireTime.Equal(time.Date(2028, 3, 10, 12, 0, 0, 0, time.UTC)) }},
		{func() (mockserver.PurchaseChange, error) { return srv.UpgradePurchase(ctx, id, "pro") }, func(i Instance) bool { return i.SKU == "pro" }},
		{func() (mockserver.PurchaseChange, error) { return srv.ReleasePurchase(ctx, id) }, func(i Instance) bool { return i.Released }},
	} {
		ch, err := step.do()
		require.NoError(t, err)
		for _, d := range ch.Deliveries {
			assert.Equal(t, mockserver.DeliverySucceeded, d.Outcome, "%s: %s", d.Activity, d.Error)
		}
		assert.True(t, step.check(v.Instances()[0]), "after %s: %+v", ch.Action, v.Instances()[0])
	}
	_, err = srv.FreezePurchase(ctx, id)
	assert.ErrorIs(t, err, mockserver.ErrNotAllowed, "a released instance takes no action")

	var acts []string
	for _, d := range srv.Deliveries(mockserver.DeliveryFilter{InstanceID: id}) {
		acts = append(acts, d.Activity+" "+d.ResultCode)
	}
	assert.Equal(t, []string{"newInstance 000000", "newInstance 000000", "updateInstanceStatus 000000", "updateInstanceStatus 000000", "refreshInstance 000000",
		"upgradeInstance 000000", "releaseInstance 000000"}, acts)
}

// TestVendorToldOfExpiry: a term that ends on the mock's clock reaches the
// vendor as FREEZE.
func TestVendorToldOfExpiry(t *testing.T) {
	v, srv, _ := vendorAgainstMock(t)
	ctx := context.Background()
	o, err := srv.PlaceOrder(ctx, mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID, PeriodMonths: 1})
	require.NoError(t, err)
	_, err = srv.AdvanceClock(ctx, 31*24*time.Hour)
	require.NoError(t, err)
	for _, in := range v.Instances() {
		if in.ID == o.InstanceID {
			assert.True(t, in.Frozen)
		}
	}
}

// TestVendorRefusesAnotherKey: a marketplace signing with another key gets
// 000001 and creates nothing; the order waits for a retry.
func TestVendorRefusesAnotherKey(t *testing.T) {
	v, srv, _ := vendorAgainstMock(t, mockserver.WithKooGalleryKey("not-the-vendors-key"))
	o, err := srv.PlaceOrder(context.Background(), mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID})
	require.NoError(t, err)
	assert.Equal(t, mockserver.OrderPending, o.Status)
	assert.Empty(t, v.Instances())
	ds := srv.Deliveries(mockserver.DeliveryFilter{})
	require.Len(t, ds, 1)
	assert.Equal(t, string(koogallery.ResultAuthFailed), ds[0].ResultCode)
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunServesUntilCancelled: the command listens, prints its address and
// stops with its context.
func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, out, func(string) string { return "" }) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "/produce") }, 5*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
	assert.Error(t, run(context.Background(), []string{"-addr", "nonsense"}, io.Discard, func(string) string { return "" }))
}
