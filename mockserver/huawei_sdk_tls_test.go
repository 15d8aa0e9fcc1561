package mockserver_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	sdkconfig "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	bssintl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2"
	intl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2/model"
	iam "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// caTransport is what a user of the official SDK writes to trust the
// mock's CA: a transport whose RootCAs hold CACertPEM, given to the SDK
// through HttpConfig.WithHttpRoundTripper. Verification stays on.
func caTransport(t *testing.T, caPEM []byte) *http.Transport {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(caPEM))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// buildWith builds an SDK client against the mock's https endpoint with
// the given HTTP configuration.
func (a hwAcct) buildWith(t *testing.T, b *core.HcHttpClientBuilder, cfg *sdkconfig.HttpConfig, domainID string) *core.HcHttpClient {
	t.Helper()
	hc, err := b.WithEndpoints([]string{a.srv.HuaweiEndpoint()}).WithCredential(a.global(t, domainID)).WithHttpConfig(cfg).SafeBuild()
	require.NoError(t, err)
	return hc
}

// TestHuaweiSDKOverTLS: the official SDK's IAM and BSS clients reach the
// mock over https with its CA configured (not WithIgnoreSSLVerification),
// and, without the CA, fail with a certificate error.
func TestHuaweiSDKOverTLS(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTLS(), mockserver.WithoutDemoFixture())
	require.Contains(t, srv.HuaweiEndpoint(), "https://")
	a := newHWAcct(t, srv, "", false)
	cfg := sdkconfig.DefaultHttpConfig().WithHttpRoundTripper(caTransport(t, srv.CACertPEM()))
	require.False(t, cfg.IgnoreSSLVerification)

	c := iam.NewIamClient(a.buildWith(t, iam.IamClientBuilder(), cfg, ""))
	doms, err := c.KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	require.NoError(t, err)
	require.Len(t, *doms.Domains, 1)
	assert.Equal(t, a.id, (*doms.Domains)[0].Id)
	cred, err := c.ShowPermanentAccessKey(&iammodel.ShowPermanentAccessKeyRequest{AccessKey: a.ak})
	require.NoError(t, err)
	assert.Equal(t, a.userID, cred.Credential.UserId)

	a.buy(t, mockserver.Purchase{InstanceID: "tls-inst-1"})
	b := bssintl.NewBssintlClient(a.buildWith(t, bssintl.BssintlClientBuilder(), cfg, a.id))
	res, err := b.ListPayPerUseCustomerResources(&intl.ListPayPerUseCustomerResourcesRequest{
		Body: &intl.QueryResourcesReq{}})
	require.NoError(t, err)
	require.NotNil(t, res.Data)
	assert.Len(t, *res.Data, 1)

	// The SDK's default transport trusts only the system's roots: a
	// certificate error, not an answer.
	plain := iam.NewIamClient(a.buildWith(t, iam.IamClientBuilder(), sdkconfig.DefaultHttpConfig(), a.id))
	_, err = plain.KeystoneShowUser(&iammodel.KeystoneShowUserRequest{UserId: a.userID})
	requireUnknownAuthority(t, err)

	// Another mock's CA does not do either.
	other := mockserver.Start(t, mockserver.WithTLS())
	wrong := iam.NewIamClient(a.buildWith(t, iam.IamClientBuilder(),
		sdkconfig.DefaultHttpConfig().WithHttpRoundTripper(caTransport(t, other.CACertPEM())), a.id))
	_, err = wrong.KeystoneShowUser(&iammodel.KeystoneShowUserRequest{UserId: a.userID})
	requireUnknownAuthority(t, err)
}
