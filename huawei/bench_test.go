package huawei_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	sdkconfig "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	bssintl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2"
	intl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2/model"
	iam "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"

	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// BenchmarkWrapperVsSDK puts each call of this package beside the bare SDK
// call it wraps, in the same run, against the mock (signatures verified)
// over loopback and in memory. The bare call ("sdk") uses an SDK client
// built once, as code without this package would; the wrapper's call
// builds its SDK client per call (bound to the call's context), retries
// through the shared HTTP core, validates and converts the answer. Both use
// one transport.
//
// testkit.Paired makes both calls in each iteration, in alternating order,
// and reports each side's mean and the median of the per-iteration ratios
// wrapper/sdk ("median-ratio"), the figure to compare with the target of
// 1.05:
//
//	go test -run '^$' -bench WrapperVsSDK -benchmem -benchtime 3000x -count 5 ./huawei/
func BenchmarkWrapperVsSDK(b *testing.B) {
	for _, env := range []string{"loopback", "memory"} {
		b.Run("net="+env, func(b *testing.B) {
			var srv *mockserver.Server
			var tr http.RoundTripper
			if env == "loopback" {
				srv = mockserver.Start(b)
				t := http.DefaultTransport.(*http.Transport).Clone()
				t.MaxIdleConnsPerHost = 16
				tr = t
			} else {
				var err error
				if srv, err = mockserver.New(mockserver.WithoutListener()); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(srv.Close)
				tr = srv.HTTPClient().Transport
			}
			sdkIAM, sdkBSS := bareSDK(b, srv.HuaweiEndpoint(), tr)
			c, err := huawei.NewClient(huawei.WithCredentials(mockserver.DemoAccessKey, mockserver.DemoSecretKey),
				huawei.WithEndpoint(srv.HuaweiEndpoint()), huawei.WithDomainID(mockserver.DemoHuaweiAccountID),
				huawei.WithHTTPRoundTripper(tr))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.Run("op=AccountID", func(b *testing.B) {
				testkit.Paired(b, func() error {
					_, err := sdkIAM.KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
					return err
				}, func() error {
					_, err := c.AccountID(ctx)
					return err
				})
			})
			b.Run("op=ListPurchases", func(b *testing.B) {
				testkit.Paired(b, func() error {
					main, offset, limit := int32(1), int32(0), int32(huawei.DefaultPageSize)
					_, err := sdkBSS.ListPayPerUseCustomerResources(&intl.ListPayPerUseCustomerResourcesRequest{
						Body: &intl.QueryResourcesReq{OnlyMainResource: &main, Offset: &offset, Limit: &limit}})
					return err
				}, func() error {
					_, err := c.ListPurchases(ctx, nil)
					return err
				})
			})
		})
	}
}

// bareSDK builds the SDK's IAM and BSS international clients once, with
// the demo account's global credentials.
func bareSDK(b *testing.B, endpoint string, tr http.RoundTripper) (*iam.IamClient, *bssintl.BssintlClient) {
	b.Helper()
	cred, err := global.NewCredentialsBuilder().WithAk(mockserver.DemoAccessKey).WithSk(mockserver.DemoSecretKey).
		WithDomainId(mockserver.DemoHuaweiAccountID).SafeBuild()
	if err != nil {
		b.Fatal(err)
	}
	hcfg := sdkconfig.DefaultHttpConfig().WithHttpRoundTripper(tr)
	ep := []string{endpoint}
	iamHC, err := iam.IamClientBuilder().WithEndpoints(ep).WithCredential(cred).WithHttpConfig(hcfg).SafeBuild()
	if err != nil {
		b.Fatal(err)
	}
	bssHC, err := bssintl.BssintlClientBuilder().WithEndpoints(ep).WithCredential(cred).WithHttpConfig(hcfg).SafeBuild()
	if err != nil {
		b.Fatal(err)
	}
	return iam.NewIamClient(iamHC), bssintl.NewBssintlClient(bssHC)
}
