package mockserver

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

func TestSeedAccount(t *testing.T) {
	h := newHarness(t)
	a, err := h.srv.SeedAccount(AccountSeed{Site: site.ZA1, Username: "ada", Email: "ada@example.com", Phone: "+27123456789"})
	require.NoError(t, err)
	assert.Equal(t, twapi.Account{ID: a.ID, Username: "ada", Email: "ada@example.com", Phone: "+27123456789",
		Site: site.ZA1, CreateAt: twapi.Timestamp{Time: testStart}}, a)
	assert.Equal(t, []twapi.Account{a}, h.srv.Accounts())

	_, err = h.srv.SeedAccount(AccountSeed{Site: "mars", Username: "1", Email: "x"})
	var ve *apierror.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "SeedAccount", ve.Operation)
	assert.Len(t, ve.Problems, 3)
	assert.ErrorIs(t, err, apierror.ErrValidation)

	_, err = h.srv.SeedAccount(AccountSeed{Site: site.ZA1, Username: "ADA", Email: "other@example.com"})
	assert.ErrorContains(t, err, apierror.CodeUsernameTaken)
	_, err = h.srv.SeedAccount(AccountSeed{Site: site.ZA1, Username: "other", Email: "Ada@Example.com"})
	assert.ErrorContains(t, err, apierror.CodeEmailTaken)
	_, err = h.srv.SeedAccount(AccountSeed{Site: site.US1, Username: "ada", Email: "ada@example.com"})
	assert.NoError(t, err, "another site is another account")
}

func TestSeedBillingAccount(t *testing.T) {
	h := newHarness(t)
	b, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "ada", Email: "ada@example.com", CompanyName: "Acme"})
	require.NoError(t, err)
	assert.Regexp(t, `^bcac_[0-9a-f]{32}$`, b.ID)
	assert.Equal(t, "Acme", b.CompanyName)
	_, err = h.srv.SeedBillingAccount(BillingAccountSeed{Username: "Ada", Email: "x@example.com"})
	assert.ErrorContains(t, err, "taken")
	_, err = h.srv.SeedBillingAccount(BillingAccountSeed{Username: "bob", Email: "ADA@example.com"})
	assert.ErrorContains(t, err, "email")
	_, err = h.srv.SeedBillingAccount(BillingAccountSeed{})
	assert.ErrorIs(t, err, apierror.ErrValidation)
	assert.Len(t, h.srv.BillingAccounts(), 1)
}

func TestSeedWorkspace(t *testing.T) {
	h := newHarness(t)
	e := h.seedExisting("ada", "ada@example.com")
	changed := time.Date(2026, time.March, 2, 8, 0, 0, 500, time.FixedZone("X", 3600))
	created := time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)
	w, err := h.srv.SeedWorkspace(WorkspaceSeed{OwnerAccountID: e.account.ID, BillingAccountID: e.billing.ID, Name: "prod",
		Language: twapi.LanguageZH, IsLocked: true, CreateAt: created,
		Settlement: twapi.Settlement{Method: twapi.SettlementHuaweiCloud, HuaweiAccountID: DemoHuaweiAccountID,
			InstanceID: DemoInstanceID, ChangedAt: twapi.Timestamp{Time: changed}}})
	require.NoError(t, err)
	assert.Equal(t, twapi.Workspace{ID: w.ID, Name: "prod", Language: twapi.LanguageZH, Site: site.AP1,
		OwnerAccountID: e.account.ID, BillingAccountID: e.billing.ID,
		Settlement: twapi.Settlement{Method: twapi.SettlementHuaweiCloud, HuaweiAccountID: DemoHuaweiAccountID,
			InstanceID: DemoInstanceID, ChangedAt: twapi.Timestamp{Time: changed.UTC().Truncate(time.Second)}},
		IsLocked: true, CreateAt: twapi.Timestamp{Time: created}, UpdateAt: twapi.Timestamp{Time: created}}, w)
	sub, _ := h.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
	assert.Len(t, sub.Workspaces, 1, "a seeded settlement settles")
	assert.False(t, sub.Bound)

	defaults, err := h.srv.SeedWorkspace(WorkspaceSeed{OwnerAccountID: e.account.ID, Name: "plain"})
	require.NoError(t, err)
	assert.Equal(t, twapi.LanguageEN, defaults.Language)
	assert.Equal(t, twapi.Settlement{Method: twapi.SettlementBillingCenter}, defaults.Settlement)
	assert.Empty(t, defaults.BillingAccountID)

	for name, seed := range map[string]WorkspaceSeed{
		"no owner":                {Name: "x"},
		"bad language":            {OwnerAccountID: e.account.ID, Name: "x", Language: "fr"},
		"unknown method":          {OwnerAccountID: e.account.ID, Name: "x", Settlement: twapi.Settlement{Method: "paypal"}},
		"huawei without IDs":      {OwnerAccountID: e.account.ID, Name: "x", Settlement: twapi.Settlement{Method: twapi.SettlementHuaweiCloud}},
		"IDs without huawei":      {OwnerAccountID: e.account.ID, Name: "x", Settlement: twapi.Settlement{InstanceID: "i"}},
		"unknown owner":           {OwnerAccountID: "acnt_nope", Name: "x"},
		"unknown billing":         {OwnerAccountID: e.account.ID, Name: "x", BillingAccountID: "bcac_nope"},
		"unknown purchase":        {OwnerAccountID: e.account.ID, Name: "x", Settlement: twapi.Settlement{Method: twapi.SettlementHuaweiCloud, HuaweiAccountID: otherHuaweiID, InstanceID: DemoInstanceID}},
		"name taken by the owner": {OwnerAccountID: e.account.ID, Name: "prod"},
	} {
		t.Run(name, func(t *testing.T) {
			h.requireUnchanged(func() {
				_, err := h.srv.SeedWorkspace(seed)
				require.Error(t, err)
			})
		})
	}
}

func TestSeedBinding(t *testing.T) {
	h := newHarness(t)
	a, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "ada", Email: "ada@example.com"})
	require.NoError(t, err)
	b, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "bob", Email: "bob@example.com"})
	require.NoError(t, err)

	_, err = h.srv.SeedBinding("bcac_nope", DemoHuaweiAccountID, DemoInstanceID)
	assert.Error(t, err)
	_, err = h.srv.SeedBinding(a.ID, DemoHuaweiAccountID, "nope")
	assert.ErrorContains(t, err, apierror.CodeSubscriptionNotFound)

	tok, err := h.srv.SeedBinding(a.ID, DemoHuaweiAccountID, DemoInstanceID)
	require.NoError(t, err)
	assert.Regexp(t, `^bctk_[0-9a-f]{32}$`, tok.Reveal())
	tok2, err := h.srv.SeedBinding(a.ID, DemoHuaweiAccountID, DemoInstanceID)
	require.NoError(t, err)
	assert.NotEqual(t, tok, tok2)
	_, err = h.srv.SeedBinding(b.ID, DemoHuaweiAccountID, DemoInstanceID)
	assert.ErrorContains(t, err, "already bound")

	require.NoError(t, h.srv.SetPurchaseStatus(DemoInstanceID, PurchaseFrozen))
	_, err = h.srv.SeedBinding(a.ID, DemoHuaweiAccountID, DemoInstanceID)
	assert.ErrorContains(t, err, apierror.CodeSubscriptionInactive)
}

func TestResetDropsTrueWatchState(t *testing.T) {
	h := newHarness(t)
	first := h.register("ada", "ada@example.com")
	require.NoError(t, h.srv.Reset())
	assert.Empty(t, h.srv.Accounts())
	assert.Empty(t, h.srv.BillingAccounts())
	assert.Empty(t, h.srv.Workspaces())
	sub, ok := h.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
	require.True(t, ok, "the demo fixture is back")
	assert.False(t, sub.Bound)
	// IDs restart: the same calls make the same IDs.
	again := h.register("ada", "ada@example.com")
	assert.Equal(t, first, again)
}

func TestDeterministicIDs(t *testing.T) {
	run := func(opts ...Option) []string {
		h := newHarness(t, opts...)
		reg := h.register("ada", "ada@example.com")
		return []string{reg.Account.ID, reg.BillingAccount.ID, reg.Workspace.ID}
	}
	assert.Equal(t, run(), run())
	assert.NotEqual(t, run(), run(WithIDSeed("other")))
}

func TestSeedErrorsAreNotValidation(t *testing.T) {
	h := newHarness(t)
	_, err := h.srv.SeedWorkspace(WorkspaceSeed{OwnerAccountID: "acnt_nope", Name: "x"})
	require.Error(t, err)
	assert.False(t, errors.Is(err, apierror.ErrValidation), "a missing reference is not a format problem")
}
