package truewatch_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// TestMarketplaceLifecycle: a purchase through the mock's KooGallery
// reaches TrueWatch as a signed newInstance and the activation binds it;
// then freeze, renewal, expiry and release each reach TrueWatch and change
// what the activation sees, the grace period running on the mock's clock.
func TestMarketplaceLifecycle(t *testing.T) {
	e := newEnv(t, mockserver.WithTokenTTL(90*24*time.Hour))
	ctx := context.Background()
	o, err := e.srv.PlaceOrder(ctx, mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID, PeriodMonths: 1})
	require.NoError(t, err)
	require.Equal(t, mockserver.OrderDelivered, o.Status, o.LastError)
	ds := e.srv.Deliveries(mockserver.DeliveryFilter{OrderID: o.OrderID})
	require.Len(t, ds, 1)
	assert.Equal(t, koogallery.ActivityNewInstance, ds[0].Activity)
	assert.Equal(t, "000000", ds[0].ResultCode, "TrueWatch's production interface verified the signature and created the instance")

	res, err := e.builder().WithInstanceID(o.InstanceID).Register(registerInfo()).Run(ctx)
	require.NoError(t, err)
	assert.Equal(t, o.InstanceID, res.InstanceID)
	ws, ok := e.srv.Workspace(res.WorkspaceID)
	require.True(t, ok)
	assert.Equal(t, o.InstanceID, ws.Settlement.InstanceID)

	// From here on the clock moves by days; the checks name both IDs, and
	// their proofs of ownership are dated with the wall clock, which the
	// mock checks signatures against however far its own clock moved.
	check := func() (*truewatch.Result, error) {
		return e.checker().WithHuaweiAccountID(mockserver.DemoHuaweiAccountID).WithInstanceID(o.InstanceID).Run(ctx)
	}
	lastDelivery := func() string {
		all := e.srv.Deliveries(mockserver.DeliveryFilter{InstanceID: o.InstanceID})
		d := all[len(all)-1]
		return d.Activity + " " + d.ResultCode
	}

	_, err = e.srv.FreezePurchase(ctx, o.InstanceID)
	require.NoError(t, err)
	assert.Equal(t, "updateInstanceStatus 000000", lastDelivery())
	got, err := check()
	require.NoError(t, err)
	assert.True(t, got.AlreadyActivated)
	assert.Equal(t, billing.StatusFrozen, got.Subscription.Status)
	assert.Contains(t, got.Notes[len(got.Notes)-1], "frozen")

	_, err = e.srv.UnfreezePurchase(ctx, o.InstanceID)
	require.NoError(t, err)
	ch, err := e.srv.RenewPurchase(ctx, o.InstanceID, 12)
	require.NoError(t, err)
	assert.Equal(t, "refreshInstance 000000", lastDelivery())
	got, err = check()
	require.NoError(t, err)
	assert.Equal(t, billing.StatusInUse, got.Subscription.Status)
	assert.Equal(t, ch.Purchase.ExpireTime.Unix(), got.Subscription.ExpireTime.Unix(), "TrueWatch knows the new term")

	_, err = e.srv.ExpirePurchase(ctx, o.InstanceID)
	require.NoError(t, err)
	got, err = check()
	require.NoError(t, err)
	assert.True(t, got.Subscription.InGrace())
	graceEnd := e.clock.Now().Add(mockserver.DefaultGracePeriod)
	assert.Equal(t, graceEnd.Unix(), got.Subscription.GraceUntil.Unix())
	assert.Contains(t, got.Notes[len(got.Notes)-1], "renew it on Huawei Cloud Marketplace before "+graceEnd.UTC().Format(time.RFC3339))

	// Renewed within the grace period: lifted.
	_, err = e.srv.AdvanceClock(ctx, 13*24*time.Hour)
	require.NoError(t, err)
	_, err = e.srv.RenewPurchase(ctx, o.InstanceID, 1)
	require.NoError(t, err)
	got, err = check()
	require.NoError(t, err)
	assert.Equal(t, billing.StatusInUse, got.Subscription.Status)
	assert.False(t, got.Subscription.InGrace())

	// Expired and not renewed: locked when the grace ends; the activation
	// sees a subscription that can no longer be activated.
	_, err = e.srv.ExpirePurchase(ctx, o.InstanceID)
	require.NoError(t, err)
	_, err = e.srv.AdvanceClock(ctx, mockserver.DefaultGracePeriod)
	require.NoError(t, err)
	ws, _ = e.srv.Workspace(res.WorkspaceID)
	assert.True(t, ws.IsLocked)
	_, err = check()
	assert.ErrorIs(t, err, truewatch.ErrSubscriptionInactive)
	assert.ErrorContains(t, err, "expired")

	_, err = e.srv.ReleasePurchase(ctx, o.InstanceID)
	require.NoError(t, err)
	assert.Equal(t, "releaseInstance 000000", lastDelivery())
	_, err = check()
	assert.ErrorIs(t, err, truewatch.ErrSubscriptionInactive)
	assert.ErrorContains(t, err, "released")
}

// TestActivateWithLink: a buyer without Huawei credentials activates with
// the marketplace's activation link alone: it names the account and the
// instance and proves ownership; the token never reaches logs, events or
// the builder's String.
func TestActivateWithLink(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o, err := e.srv.PlaceOrder(ctx, mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID})
	require.NoError(t, err)
	require.NotEmpty(t, o.FrontEndURL)
	link, err := billing.ParseActivationLink(o.FrontEndURL)
	require.NoError(t, err)

	var logs bytes.Buffer
	linked := func() *truewatch.Activation {
		return truewatch.NewActivation().WithBillingURL(e.srv.BillingURL()).WithSiteEndpoints(e.srv.SiteEndpoints()).
			WithHTTPClient(e.srv.HTTPClient()).WithStore(e.store).WithClock(e.clock).
			WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))).
			WithActivationLink(o.FrontEndURL)
	}
	a := linked().WithSite(truewatch.SiteUS1).Register(registerInfo()).WithCodes(truewatch.CodesFromOutbox(e.srv))
	assert.NotContains(t, a.String(), link.Token.Reveal())
	plan, err := a.Plan(ctx)
	require.NoError(t, err)
	assert.Equal(t, o.InstanceID, plan.InstanceID)
	assert.True(t, plan.Subscription.OwnershipProven, "the link proves ownership")
	res, err := a.Run(ctx)
	require.NoError(t, err)
	assert.Equal(t, mockserver.DemoHuaweiAccountID, res.HuaweiAccountID)
	sub, _ := e.srv.Subscription(mockserver.DemoHuaweiAccountID, o.InstanceID)
	assert.True(t, sub.Activated())
	assert.NotContains(t, logs.String(), link.Token.Reveal())

	// Used up for changes, the link still tells an activation where it
	// stands.
	again, err := linked().Run(ctx)
	require.NoError(t, err)
	assert.True(t, again.AlreadyActivated)

	// A bad or contradicting link is refused before any call.
	for name, b := range map[string]*truewatch.Activation{
		"malformed":        linked().WithActivationLink("https://billing.example.com/activate?token=nope"),
		"another instance": linked().WithInstanceID(mockserver.DemoInstanceID),
		"another account":  linked().WithHuaweiAccountID("ffffffffffffffffffffffffffffffff"),
		"two provers":      linked().WithOwnershipProver(e.srv.OwnershipProver(mockserver.DemoHuaweiAccountID)),
	} {
		t.Run(name, func(t *testing.T) {
			var ve *apierror.ValidationError
			_, err := b.Plan(ctx)
			require.ErrorAs(t, err, &ve, "%v", err)
			assert.NotContains(t, err.Error(), link.Token.Reveal())
		})
	}
}
