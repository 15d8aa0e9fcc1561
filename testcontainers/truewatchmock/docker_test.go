//go:build docker

package truewatchmock

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	sdkconfig "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	iam "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// TestRunInDocker needs Docker (or a compatible runtime testcontainers-go
// finds: DOCKER_HOST, a socket) and pulls golang and builds the image
// from the checkout's Dockerfile:
//
//	cd testcontainers && go test -tags docker -run TestRunInDocker ./...
//
// It was not run where this module was written (no Docker daemon); CI
// builds and vets it with the tag.
func TestRunInDocker(t *testing.T) {
	ctx := t.Context()
	c, err := Run(ctx, "", WithBuildContext("../.."), WithTLS())
	testcontainers.CleanupContainer(t, c)
	require.NoError(t, err)

	ctl, err := c.ControlClient(ctx)
	require.NoError(t, err)
	h, err := ctl.Health(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ok", h.Status)

	// The official Huawei SDK, given only the mock's CA, verification on.
	u, err := c.HuaweiEndpoint(ctx)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(c.CACertPEM()))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	cred, err := global.NewCredentialsBuilder().WithAk(mockserver.DemoAccessKey).WithSk(mockserver.DemoSecretKey).SafeBuild()
	require.NoError(t, err)
	hc, err := iam.IamClientBuilder().WithEndpoints([]string{u}).WithCredential(cred).
		WithHttpConfig(sdkconfig.DefaultHttpConfig().WithHttpRoundTripper(tr)).SafeBuild()
	require.NoError(t, err)
	doms, err := iam.NewIamClient(hc).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	require.NoError(t, err)
	require.Len(t, *doms.Domains, 1)
	assert.Equal(t, mockserver.DemoHuaweiAccountID, (*doms.Domains)[0].Id)

	plain := &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	_, err = plain.Get(u + "/_mock/health")
	var ua x509.UnknownAuthorityError
	var ve *tls.CertificateVerificationError
	assert.True(t, errors.As(err, &ua) || errors.As(err, &ve), "a certificate error, got %v", err)

	// The image's own HEALTHCHECK turns the container healthy.
	require.Eventually(t, func() bool {
		st, err := c.State(ctx)
		return err == nil && st.Health != nil && st.Health.Status == "healthy"
	}, time.Minute, time.Second)
}
