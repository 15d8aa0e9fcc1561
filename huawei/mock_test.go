package huawei_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
)

func TestHuaweiAccountIDFromIAM(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{Name: "acme"})
	acc, err := f.client(t).AccountID(context.Background())
	require.NoError(t, err)
	assert.Equal(t, huawei.Account{ID: f.accountID, Name: "acme", Source: huawei.SourceIAM}, acc)
}

func TestHuaweiAccountIDFallsBackToSTS(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{HideDomain: true})
	f.purchase(t, mockserver.Purchase{InstanceID: "sts-1"})
	c := f.client(t)
	acc, err := c.AccountID(context.Background())
	require.NoError(t, err)
	assert.Equal(t, huawei.Account{ID: f.accountID, Source: huawei.SourceSTS}, acc)
	p, err := c.Purchase(context.Background(), "sts-1")
	require.NoError(t, err, "the STS account ID signs BSS calls")
	assert.Equal(t, "sts-1", p.InstanceID)
}

func TestHuaweiAccountIDUnavailable(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{HideDomain: true})
	// eu-west-101 has no STS endpoint in the SDK's table.
	c, err := huawei.NewClient(huawei.WithCredentials(f.ak, secret.String(f.sk)), huawei.WithRegion("eu-west-101"),
		huawei.WithIAMEndpoint(f.srv.HuaweiEndpoint()), huawei.WithBSSEndpoint(f.srv.HuaweiEndpoint()))
	require.NoError(t, err)
	_, err = c.AccountID(context.Background())
	require.ErrorIs(t, err, huawei.ErrAccountIDUnavailable)
	_, err = c.ListPurchases(context.Background(), nil)
	require.ErrorIs(t, err, huawei.ErrAccountIDUnavailable, "BSS needs the account ID")

	_, err = f.srv.InjectFault(mockserver.Fault{Path: "/v5/caller-identity", Status: 403, ErrorCode: "IAM.0002", Message: "no permission"})
	require.NoError(t, err)
	_, err = f.client(t).AccountID(context.Background())
	require.ErrorIs(t, err, huawei.ErrAccountIDUnavailable)
	require.ErrorIs(t, err, apierror.ErrForbidden)
}

func TestHuaweiWrongSecretIsUnauthorized(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	c, err := huawei.NewClient(huawei.WithCredentials(f.ak, "wrong"), huawei.WithEndpoint(f.srv.HuaweiEndpoint()))
	require.NoError(t, err)
	_, err = c.AccountID(context.Background())
	require.ErrorIs(t, err, apierror.ErrUnauthorized)
	var ae *apierror.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "APIGW.0301", ae.ErrorCode)
	assert.NotEmpty(t, ae.RequestID)
	assert.NotContains(t, err.Error(), f.sk)
}

func TestHuaweiDomainIDMismatchIsForbidden(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	_, err := f.client(t, huawei.WithDomainID("ffffffffffffffffffffffffffffffff")).ListPurchases(context.Background(), nil)
	require.ErrorIs(t, err, apierror.ErrForbidden)
}

func TestHuaweiPurchasesPagesAndFilters(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"p1", "p2", "p3", "p4", "p5"} {
		f.purchase(t, mockserver.Purchase{InstanceID: id, EffectiveTime: base, ExpireTime: base.AddDate(0, i+1, 0)})
	}
	f.purchase(t, mockserver.Purchase{InstanceID: "other-product", ProductID: "OFFI000000000000000001"})
	f.purchase(t, mockserver.Purchase{InstanceID: "mkp-code", ProductID: "OFFI000000000000000002", ServiceTypeCode: "hws.service.type.mkp.saas"})
	f.purchase(t, mockserver.Purchase{InstanceID: "not-marketplace", ProductID: "ecs-1", ServiceTypeCode: "hws.service.type.ec2"})
	release(t, f.srv, "p2")
	c := f.client(t)
	ctx := context.Background()

	collect := func(q *huawei.PurchaseQuery) []string {
		t.Helper()
		var ids []string
		for p, err := range c.Purchases(ctx, q) {
			require.NoError(t, err)
			ids = append(ids, p.InstanceID)
		}
		return ids
	}
	assert.Equal(t, []string{"p1", "p2", "p3", "p4", "p5"}, collect(&huawei.PurchaseQuery{Limit: 2}))
	assert.Equal(t, []string{"p1", "p3", "p4", "p5"}, collect(&huawei.PurchaseQuery{Limit: 3, Statuses: []huawei.PurchaseStatus{huawei.StatusInUse}}))
	assert.Equal(t, []string{"p1", "p2", "p3", "p4", "p5", "other-product", "mkp-code"}, collect(&huawei.PurchaseQuery{AllProducts: true}))
	assert.Equal(t, []string{"other-product"}, collect(&huawei.PurchaseQuery{ProductIDs: []string{"OFFI000000000000000001"}}))
	assert.Equal(t, []string{"mkp-code"}, collect(&huawei.PurchaseQuery{AllProducts: true, ServiceTypeCode: "hws.service.type.mkp.saas"}))
	assert.Equal(t, []string{"p2", "p3"}, collect(&huawei.PurchaseQuery{ExpiresAfter: base.AddDate(0, 2, 0), ExpiresBefore: base.AddDate(0, 3, 0)}))
	assert.Equal(t, []string{"p4"}, collect(&huawei.PurchaseQuery{OrderID: f.srv.Purchases()[3].OrderID}))

	pg, err := c.ListPurchases(ctx, &huawei.PurchaseQuery{Offset: 4, Limit: 3})
	require.NoError(t, err)
	assert.Equal(t, 8, pg.TotalCount)
	assert.Equal(t, 3, pg.Scanned)
	assert.Equal(t, 7, pg.NextOffset)
	assert.True(t, pg.HasMore())
	require.Len(t, pg.Purchases, 1, "the product filter runs on the client")
	p := pg.Purchases[0]
	assert.Equal(t, "p5", p.InstanceID)
	assert.Equal(t, "p5", p.ResourceID)
	assert.Len(t, p.ID, 32)
	assert.Equal(t, huawei.TrueWatchProductID, p.ProductID)
	assert.Equal(t, huawei.StatusInUse, p.Status)
	assert.Equal(t, "in use", p.Status.String())
	assert.Equal(t, base, p.EffectiveTime)
	assert.Equal(t, base.AddDate(0, 5, 0), p.ExpireTime)
	assert.Equal(t, "ap-southeast-1", p.RegionCode)

	var n int
	for _, err := range c.Purchases(ctx, &huawei.PurchaseQuery{Limit: 1}) {
		require.NoError(t, err)
		n++
		break
	}
	assert.Equal(t, 1, n, "breaking out of the loop stops paging")
}

func TestHuaweiPurchaseByID(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	f.purchase(t, mockserver.Purchase{InstanceID: "one"})
	f.purchase(t, mockserver.Purchase{InstanceID: "elsewhere", ProductID: "OFFI000000000000000001"})
	other := mockserver.HuaweiAccount{ID: uniqueHex("other|" + t.Name()), Keys: []mockserver.AccessKey{{AK: "AKOTHER" + uniqueHex(t.Name())[:8], SK: "x"}}}
	require.NoError(t, f.srv.AddHuaweiAccount(other))
	_, err := f.srv.AddPurchase(mockserver.Purchase{AccountID: other.ID, InstanceID: "theirs"})
	require.NoError(t, err)
	c := f.client(t)

	p, err := c.Purchase(context.Background(), "one")
	require.NoError(t, err)
	assert.Equal(t, "one", p.InstanceID)
	for _, id := range []string{"nope", "elsewhere", "theirs"} {
		_, err = c.Purchase(context.Background(), id)
		require.ErrorIs(t, err, apierror.ErrNotFound, id)
		var nf *huawei.NotFoundError
		require.ErrorAs(t, err, &nf)
		assert.Equal(t, id, nf.ID)
	}
}

func TestHuaweiInstanceIDFunc(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	f.purchase(t, mockserver.Purchase{InstanceID: "inst-9", ResourceID: "res-9"})
	c := f.client(t, huawei.WithInstanceIDFunc(func(p huawei.Purchase) string { return "inst-" + p.ResourceID[4:] }))
	p, err := c.Purchase(context.Background(), "inst-9")
	require.NoError(t, err)
	assert.Equal(t, "res-9", p.ResourceID)
	assert.Equal(t, "inst-9", p.InstanceID)
}

func TestHuaweiActiveTrueWatchPurchase(t *testing.T) {
	ctx := context.Background()
	t.Run("none at all", func(t *testing.T) {
		f := newFixture(t, mockserver.HuaweiAccount{})
		_, err := f.client(t).ActiveTrueWatchPurchase(ctx)
		require.ErrorIs(t, err, apierror.ErrNotFound)
		var se *huawei.PurchaseSelectionError
		require.ErrorAs(t, err, &se)
		assert.Empty(t, se.Candidates)
	})
	t.Run("none active", func(t *testing.T) {
		f := newFixture(t, mockserver.HuaweiAccount{})
		f.purchase(t, mockserver.Purchase{InstanceID: "old", Status: mockserver.PurchaseExpired})
		f.purchase(t, mockserver.Purchase{InstanceID: "cold", Status: mockserver.PurchaseFrozen})
		_, err := f.client(t).ActiveTrueWatchPurchase(ctx)
		require.ErrorIs(t, err, apierror.ErrNotFound)
		require.NotErrorIs(t, err, huawei.ErrAmbiguous)
		var se *huawei.PurchaseSelectionError
		require.ErrorAs(t, err, &se)
		assert.Len(t, se.Candidates, 2)
		assert.Contains(t, err.Error(), "old (expired")
		assert.Contains(t, err.Error(), "cold (frozen")
	})
	t.Run("several", func(t *testing.T) {
		f := newFixture(t, mockserver.HuaweiAccount{})
		f.purchase(t, mockserver.Purchase{InstanceID: "a"})
		f.purchase(t, mockserver.Purchase{InstanceID: "b"})
		f.purchase(t, mockserver.Purchase{InstanceID: "c", Status: mockserver.PurchaseClosed})
		_, err := f.client(t).ActiveTrueWatchPurchase(ctx)
		require.ErrorIs(t, err, huawei.ErrAmbiguous)
		require.NotErrorIs(t, err, apierror.ErrNotFound)
		var se *huawei.PurchaseSelectionError
		require.ErrorAs(t, err, &se)
		assert.Len(t, se.Candidates, 2)
	})
	t.Run("one among others", func(t *testing.T) {
		f := newFixture(t, mockserver.HuaweiAccount{})
		f.purchase(t, mockserver.Purchase{InstanceID: "gone", Status: mockserver.PurchaseClosed})
		f.purchase(t, mockserver.Purchase{InstanceID: "live"})
		f.purchase(t, mockserver.Purchase{InstanceID: "foreign", ProductID: "OFFI000000000000000001"})
		c := f.client(t)
		p, err := c.ActiveTrueWatchPurchase(ctx)
		require.NoError(t, err)
		assert.Equal(t, "live", p.InstanceID)
		release(t, f.srv, "live")
		_, err = c.ActiveTrueWatchPurchase(ctx)
		require.ErrorIs(t, err, apierror.ErrNotFound, "releasing in the mock is visible through BSS")
	})
}

func TestHuaweiOrder(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{Name: "acme"})
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	p := f.purchase(t, mockserver.Purchase{InstanceID: "ord-1", EffectiveTime: base, ExpireTime: base.AddDate(2, 0, 0)})
	o, err := f.client(t).Order(context.Background(), p.OrderID)
	require.NoError(t, err)
	assert.Equal(t, p.OrderID, o.ID)
	assert.Equal(t, f.accountID, o.CustomerID)
	assert.Equal(t, "acme", o.UserName)
	assert.Equal(t, huawei.OrderCompleted, o.Status)
	assert.Equal(t, "completed", o.Status.String())
	assert.Equal(t, huawei.OrderNew, o.Type)
	assert.Equal(t, base.Add(-5*time.Minute), o.CreateTime, "the mock creates orders before they take effect")
	assert.Equal(t, base.Add(-time.Minute), o.PaymentTime)
	require.Len(t, o.Lines, 1)
	assert.Equal(t, huawei.OrderLine{ID: p.OrderID + "-000001", ProductID: huawei.TrueWatchProductID,
		ProductSpecDesc: "TrueWatch truewatch.saas.commercial", ServiceTypeCode: "hws.service.type.marketplace",
		PeriodType: huawei.PeriodYear, PeriodNum: 2, SubscriptionNum: 1, EffectiveTime: base, ExpireTime: base.AddDate(2, 0, 0),
		Currency: "USD"}, o.Lines[0])

	_, err = f.client(t).Order(context.Background(), "CSNOPE")
	require.ErrorIs(t, err, apierror.ErrNotFound)
}

func TestHuaweiChineseMainlandUsesBSS(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	p := f.purchase(t, mockserver.Purchase{InstanceID: "cn-1"})
	c := f.client(t, huawei.WithChineseMainland())
	got, err := c.ActiveTrueWatchPurchase(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "cn-1", got.InstanceID)
	o, err := c.Order(context.Background(), p.OrderID)
	require.NoError(t, err)
	assert.Len(t, o.Lines, 1)
}

func TestHuaweiWithDomainIDSkipsIAM(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	f.purchase(t, mockserver.Purchase{InstanceID: "d-1"})
	_, err := f.srv.InjectFault(mockserver.Fault{Path: "/v3/auth/domains", Status: http.StatusInternalServerError, Times: 100})
	require.NoError(t, err)
	_, err = f.client(t, huawei.WithDomainID(f.accountID)).Purchase(context.Background(), "d-1")
	require.NoError(t, err)
	assert.Equal(t, []int{0}, f.srv.FaultHits())
}

func TestHuaweiRetriesAgainstTheMock(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	f.purchase(t, mockserver.Purchase{InstanceID: "r-1"})
	_, err := f.srv.InjectFault(mockserver.Fault{Path: "/v2/orders/suscriptions/resources/query", Status: 503, Times: 2})
	require.NoError(t, err)
	var waits []time.Duration
	c := f.client(t, huawei.WithDomainID(f.accountID), huawei.WithRetryPolicy(retryRecorder(&waits)))
	_, err = c.Purchase(context.Background(), "r-1")
	require.NoError(t, err)
	assert.Len(t, waits, 2)
	assert.Equal(t, []int{2}, f.srv.FaultHits())
}

// TestHuaweiTemporaryCredentials: a temporary AK/SK works only with its
// security token, given explicitly or from HUAWEICLOUD_SDK_SECURITY_TOKEN,
// on IAM, on the STS fallback and on BSS.
func TestHuaweiTemporaryCredentials(t *testing.T) {
	ak := "TMPAK" + strings.ToUpper(uniqueHex(t.Name()))[:12]
	f := newFixture(t, mockserver.HuaweiAccount{HideDomain: true,
		Keys: []mockserver.AccessKey{{AK: ak, SK: "tmp-sk", SecurityToken: "the-token"}}})
	f.purchase(t, mockserver.Purchase{InstanceID: "tok-1"})
	ctx := context.Background()

	c, err := huawei.NewClient(huawei.WithCredentials(ak, "tmp-sk"), huawei.WithSecurityToken("the-token"),
		huawei.WithEndpoint(f.srv.HuaweiEndpoint()))
	require.NoError(t, err)
	p, err := c.ActiveTrueWatchPurchase(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", p.InstanceID)

	c, err = huawei.NewClient(huawei.WithCredentials(ak, "tmp-sk"), huawei.WithEndpoint(f.srv.HuaweiEndpoint()))
	require.NoError(t, err)
	_, err = c.AccountID(ctx)
	require.ErrorIs(t, err, apierror.ErrUnauthorized, "no token")

	c, err = huawei.NewClient(huawei.WithCredentials(ak, "tmp-sk"), huawei.WithSecurityToken("other-token"),
		huawei.WithEndpoint(f.srv.HuaweiEndpoint()))
	require.NoError(t, err)
	_, err = c.AccountID(ctx)
	require.ErrorIs(t, err, apierror.ErrUnauthorized, "wrong token")

	t.Setenv(huawei.EnvAccessKey, ak)
	t.Setenv(huawei.EnvSecretKey, "tmp-sk")
	t.Setenv(huawei.EnvSecurityToken, "the-token")
	c, err = huawei.NewClient(huawei.WithCredentialsFromEnv(), huawei.WithEndpoint(f.srv.HuaweiEndpoint()))
	require.NoError(t, err)
	acc, err := c.AccountID(ctx)
	require.NoError(t, err)
	assert.Equal(t, f.accountID, acc.ID)
}
