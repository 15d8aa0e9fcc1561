package huawei_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

func TestHuaweiOrderFor(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{Name: "acme"})
	base := time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)
	bought := f.purchase(t, mockserver.Purchase{InstanceID: "of-1", EffectiveTime: base, ExpireTime: base.AddDate(1, 0, 0)})
	c := f.client(t)
	ctx := context.Background()
	p, err := c.Purchase(ctx, "of-1")
	require.NoError(t, err)

	o, err := c.OrderFor(ctx, *p)
	require.NoError(t, err)
	assert.Equal(t, bought.OrderID, o.ID)
	assert.Equal(t, "acme", o.UserName)
	require.Len(t, o.Lines, 1)
	assert.Equal(t, p.ProductID, o.Lines[0].ProductID)
	assert.Equal(t, p.EffectiveTime, o.Lines[0].EffectiveTime)
	assert.Equal(t, p.ExpireTime, o.Lines[0].ExpireTime)

	t.Run("China site", func(t *testing.T) {
		o, err := f.client(t, huawei.WithChineseMainland()).OrderFor(ctx, *p)
		require.NoError(t, err)
		assert.Equal(t, bought.OrderID, o.ID)
	})
}

func TestHuaweiOrderForPagesThroughOrders(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// 150 other orders in the search window: more than one page of 100,
	// every one fetched before the match, the newest, is found.
	for i := range 150 {
		f.purchase(t, mockserver.Purchase{InstanceID: fmt.Sprintf("noise-%03d", i), ProductID: "OFFI000000000000000009",
			EffectiveTime: base.Add(time.Duration(i) * time.Hour)})
	}
	want := f.purchase(t, mockserver.Purchase{InstanceID: "wanted", EffectiveTime: base.Add(200 * time.Hour)})
	c := f.client(t, huawei.WithDomainID(f.accountID))
	p, err := c.Purchase(context.Background(), "wanted")
	require.NoError(t, err)
	o, err := c.OrderFor(context.Background(), *p)
	require.NoError(t, err)
	assert.Equal(t, want.OrderID, o.ID)
}

func TestHuaweiOrderForTwoPurchasesOfOneProduct(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	first := f.purchase(t, mockserver.Purchase{InstanceID: "twin-1", EffectiveTime: base, ExpireTime: base.AddDate(1, 0, 0)})
	// Bought an hour later, for three months: its own order.
	second := f.purchase(t, mockserver.Purchase{InstanceID: "twin-2", EffectiveTime: base.Add(time.Hour),
		ExpireTime: base.Add(time.Hour).AddDate(0, 3, 0)})
	c := f.client(t)
	ctx := context.Background()
	for _, want := range []mockserver.Purchase{first, second} {
		p, err := c.Purchase(ctx, want.InstanceID)
		require.NoError(t, err)
		o, err := c.OrderFor(ctx, *p)
		require.NoError(t, err)
		assert.Equal(t, want.OrderID, o.ID, want.InstanceID)
	}

	t.Run("same moment and term is ambiguous", func(t *testing.T) {
		a := f.purchase(t, mockserver.Purchase{InstanceID: "same-1", EffectiveTime: base.AddDate(0, 0, 10)})
		b := f.purchase(t, mockserver.Purchase{InstanceID: "same-2", EffectiveTime: base.AddDate(0, 0, 10)})
		p, err := c.Purchase(ctx, "same-1")
		require.NoError(t, err)
		_, err = c.OrderFor(ctx, *p)
		require.ErrorIs(t, err, huawei.ErrAmbiguous)
		require.NotErrorIs(t, err, apierror.ErrNotFound)
		var me *huawei.OrderMatchError
		require.ErrorAs(t, err, &me)
		assert.Equal(t, "same-1", me.InstanceID)
		assert.ElementsMatch(t, []string{a.OrderID, b.OrderID}, me.OrderIDs)
		assert.Contains(t, err.Error(), a.OrderID)
		assert.Contains(t, err.Error(), b.OrderID)
	})

	t.Run("one order buying both", func(t *testing.T) {
		at := base.AddDate(0, 0, 20)
		a := f.purchase(t, mockserver.Purchase{InstanceID: "pair-1", OrderID: "CSPAIR0001", EffectiveTime: at})
		f.purchase(t, mockserver.Purchase{InstanceID: "pair-2", OrderID: "CSPAIR0001", EffectiveTime: at})
		p, err := c.Purchase(ctx, "pair-2")
		require.NoError(t, err)
		o, err := c.OrderFor(ctx, *p)
		require.NoError(t, err, "one order with two matching lines is one match")
		assert.Equal(t, a.OrderID, o.ID)
		assert.Len(t, o.Lines, 2)
	})
}

func TestHuaweiOrderForNotFound(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.purchase(t, mockserver.Purchase{InstanceID: "nf-1", EffectiveTime: base, ExpireTime: base.AddDate(1, 0, 0)})
	c := f.client(t)
	ctx := context.Background()
	p, err := c.Purchase(ctx, "nf-1")
	require.NoError(t, err)

	cases := map[string]func(p *huawei.Purchase){
		// A renewal moves the resource's expiry past its order line's.
		"renewed":       func(p *huawei.Purchase) { p.ExpireTime = p.ExpireTime.AddDate(1, 0, 0) },
		"other product": func(p *huawei.Purchase) { p.ProductID = "OFFI000000000000000001" },
		// Its order would have been created outside the search window.
		"long ago": func(p *huawei.Purchase) {
			p.EffectiveTime, p.ExpireTime = p.EffectiveTime.AddDate(-2, 0, 0), p.ExpireTime.AddDate(-2, 0, 0)
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			q := *p
			mutate(&q)
			_, err := c.OrderFor(ctx, q)
			require.ErrorIs(t, err, apierror.ErrNotFound)
			require.NotErrorIs(t, err, huawei.ErrAmbiguous)
			var nf *huawei.NotFoundError
			require.ErrorAs(t, err, &nf)
			assert.Equal(t, huawei.NotFoundError{Kind: "order for purchase", ID: "nf-1"}, *nf)
			assert.Equal(t, `huawei-bss: OrderFor: no order for purchase "nf-1"`, err.Error())
		})
	}
}

func TestHuaweiOrderForRefusesIncompletePurchases(t *testing.T) {
	sent := 0
	c, err := huawei.NewClient(huawei.WithCredentials("AKORDERFOR", "sk"), huawei.WithEndpoint("http://127.0.0.1:1"),
		huawei.WithHTTPRoundTripper(roundTripFunc(func(*http.Request) (*http.Response, error) {
			sent++
			return nil, errors.New("no network in this test")
		})))
	require.NoError(t, err)
	_, err = c.OrderFor(context.Background(), huawei.Purchase{InstanceID: "x"})
	var ve *apierror.ValidationError
	require.ErrorAs(t, err, &ve)
	require.ErrorIs(t, err, apierror.ErrValidation)
	assert.Len(t, ve.Problems, 3)
	assert.Zero(t, sent, "nothing is sent")
}

func TestHuaweiOrderForRetriesAndFails(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	bought := f.purchase(t, mockserver.Purchase{InstanceID: "rt-1", EffectiveTime: base})
	var waits []time.Duration
	c := f.client(t, huawei.WithDomainID(f.accountID), huawei.WithRetryPolicy(retryRecorder(&waits)))
	ctx := context.Background()
	p, err := c.Purchase(ctx, "rt-1")
	require.NoError(t, err)

	_, err = f.srv.InjectFault(mockserver.Fault{Path: "/v2/orders/customer-orders", Status: 503, Times: 1})
	require.NoError(t, err)
	_, err = f.srv.InjectFault(mockserver.Fault{Path: "/v2/orders/customer-orders/details/" + bought.OrderID,
		Status: 429, ErrorCode: "APIGW.0308", Times: 1})
	require.NoError(t, err)
	o, err := c.OrderFor(ctx, *p)
	require.NoError(t, err)
	assert.Equal(t, bought.OrderID, o.ID)
	assert.Len(t, waits, 2)

	f.srv.ClearFaults()
	_, err = f.srv.InjectFault(mockserver.Fault{Path: "/v2/orders/customer-orders", Status: http.StatusForbidden,
		ErrorCode: "CBC.0150", Message: "Access denied.", Times: 1})
	require.NoError(t, err)
	_, err = c.OrderFor(ctx, *p)
	require.ErrorIs(t, err, apierror.ErrForbidden)
	var ae *apierror.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, huawei.ServiceBSS, ae.Service)
	assert.Equal(t, "ListCustomerOrders", ae.Operation)
	assert.False(t, errors.Is(err, apierror.ErrNotFound))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
