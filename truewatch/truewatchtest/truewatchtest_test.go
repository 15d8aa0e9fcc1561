package truewatchtest_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

func register(user string) truewatch.RegisterInfo {
	return truewatch.RegisterInfo{Username: user, Password: "S3cret-pass!", Email: user + "@example.com",
		Company: billing.Company{Name: "Acme"}, WorkspaceName: "prod", WorkspaceLanguage: truewatch.LanguageZH,
		TermsAccepted: true}
}

// The ready activation finds the demo account and purchase through the
// mock's IAM and BSS, proves ownership with the demo keys and reads codes
// from the outbox; a later With… replaces what it set, here the keys, for
// another seeded tenant.
func TestActivation(t *testing.T) {
	srv := mockserver.Start(t)
	res, err := truewatchtest.Activation(srv).WithSite(truewatch.SiteAP1).Register(register("ada")).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, mockserver.DemoHuaweiAccountID, res.HuaweiAccountID)
	assert.Equal(t, mockserver.DemoInstanceID, res.InstanceID)
	sub, ok := srv.Subscription(mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	require.True(t, ok)
	assert.True(t, sub.Activated())

	tenant := "2c3d4e5f60718293a4b5c6d7e8f9a0b1"
	require.NoError(t, srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: tenant,
		Keys: []mockserver.AccessKey{{AK: "TENANTAK000000001", SK: "tenant-sk"}}}))
	_, err = srv.AddPurchase(mockserver.Purchase{AccountID: tenant, InstanceID: "tw-inst-tenant"})
	require.NoError(t, err)
	res, err = truewatchtest.Activation(srv).WithHuaweiCredentials("TENANTAK000000001", secret.String("tenant-sk")).
		WithSite(truewatch.SiteEU1).Register(register("grace")).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, tenant, res.HuaweiAccountID)
	assert.Equal(t, "tw-inst-tenant", res.InstanceID)
}

// With the mock's ManualClock, the ready activation shares the mock's time:
// a code left to expire makes it wait out the resend interval on that
// clock, instantly.
func TestActivation_SharesTheMocksClock(t *testing.T) {
	clock := mockserver.NewManualClock(time.Now().UTC())
	srv := mockserver.Start(t, mockserver.WithClock(clock), mockserver.WithoutListener())
	before := clock.Now()
	outbox := truewatch.CodesFromOutbox(srv)
	res, err := truewatchtest.Activation(srv).WithSite(truewatch.SiteUS1).Register(register("ada")).
		WithCodes(func(ctx context.Context, req truewatch.CodeRequest) (secret.String, error) {
			if req.Attempt == 1 {
				clock.Advance(11 * time.Minute) // the first code expires
			}
			return outbox(ctx, req)
		}).Run(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, res.WorkspaceID)
	assert.Len(t, srv.OutboxFor("ada@example.com"), 2)
	assert.Equal(t, 11*time.Minute, clock.Now().Sub(before), "a code sent 11 minutes ago may be replaced at once")
}

// In a testing/synctest bubble the ready activation needs nothing more:
// the mock (WithoutListener) and the activation share the bubble's fake
// time.
func TestActivation_Synctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := mockserver.Start(t, mockserver.WithoutListener())
		_, err := srv.InjectFault(mockserver.Fault{Operation: "bss.ListPayPerUseCustomerResources", Status: 503,
			RetryAfter: 45 * time.Second})
		require.NoError(t, err)
		start := time.Now()
		_, err = truewatchtest.Activation(srv).WithSite(truewatch.SiteZA1).Register(register("ada")).Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 45*time.Second, time.Since(start), "the Huawei retry waited the Retry-After, in fake time")
	})
}
