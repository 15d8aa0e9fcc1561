package huawei_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

func TestHuaweiSmoke(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	f.purchase(t, mockserver.Purchase{InstanceID: "inst-1"})
	c := f.client(t)
	acc, err := c.AccountID(context.Background())
	require.NoError(t, err)
	require.Equal(t, f.accountID, acc.ID)
	p, err := c.ActiveTrueWatchPurchase(context.Background())
	require.NoError(t, err)
	require.Equal(t, "inst-1", p.InstanceID)
	o, err := c.Order(context.Background(), f.srv.Purchases()[0].OrderID)
	require.NoError(t, err)
	t.Logf("%+v", o)
}
