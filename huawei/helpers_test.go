package huawei_test

import (
	"context"
	"time"

	"crypto/sha256"
	"encoding/hex"
	"github.com/truewatch-labs/marketplace-go/retry"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// fixture is a mock with one Huawei account whose AK is unique to the test.
type fixture struct {
	srv       *mockserver.Server
	accountID string
	ak, sk    string
}

func uniqueHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

func newFixture(t *testing.T, acc mockserver.HuaweiAccount, opts ...mockserver.Option) *fixture {
	t.Helper()
	srv := mockserver.Start(t, append([]mockserver.Option{mockserver.WithoutDemoFixture()}, opts...)...)
	f := &fixture{srv: srv, accountID: uniqueHex("account|" + t.Name()),
		ak: "AK" + strings.ToUpper(uniqueHex("ak|" + t.Name()))[:18], sk: "sk-" + uniqueHex("sk|"+t.Name())}
	acc.ID = f.accountID
	if acc.Name == "" {
		acc.Name = "acct-" + f.accountID[:6]
	}
	acc.Keys = append([]mockserver.AccessKey{{AK: f.ak, SK: f.sk}}, acc.Keys...)
	require.NoError(t, srv.AddHuaweiAccount(acc))
	return f
}

func (f *fixture) client(t *testing.T, opts ...huawei.Option) *huawei.Client {
	t.Helper()
	c, err := huawei.NewClient(append([]huawei.Option{huawei.WithCredentials(f.ak, secret.String(f.sk)),
		huawei.WithEndpoint(f.srv.HuaweiEndpoint())}, opts...)...)
	require.NoError(t, err)
	return c
}

func (f *fixture) purchase(t *testing.T, p mockserver.Purchase) mockserver.Purchase {
	t.Helper()
	p.AccountID = f.accountID
	out, err := f.srv.AddPurchase(p)
	require.NoError(t, err)
	return out
}

// retryRecorder is a policy that records waits instead of sleeping.
func retryRecorder(waits *[]time.Duration) retry.Policy {
	return retry.Policy{MaxRetries: 3, NoJitter: true, Sleep: func(ctx context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}}
}

// release closes a purchase through the mock's marketplace.
func release(t testing.TB, srv *mockserver.Server, instanceID string) {
	t.Helper()
	_, err := srv.ReleasePurchase(context.Background(), instanceID)
	require.NoError(t, err)
}
