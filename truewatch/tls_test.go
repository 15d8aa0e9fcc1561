package truewatch_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

// TestActivationOverTLS registers a whole activation against a mock
// serving HTTPS with a generated CA, trusted through the mock's
// HTTPClient; with a client that does not trust it, the first call fails.
func TestActivationOverTLS(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTLS())
	require.True(t, strings.HasPrefix(srv.URL(), "https://"))
	info := truewatch.RegisterInfo{Username: "ada", Password: "S3cret-pass", PasswordConfirm: "S3cret-pass", Email: "ada@example.com",
		Company: billing.Company{Name: "Analytical Engines"}, WorkspaceName: "prod", WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true}
	res, err := truewatchtest.Activation(srv).WithSite(truewatch.SiteUS1).Register(info).Run(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, res.WorkspaceID)
	assert.True(t, strings.HasPrefix(res.LoginURL, "https://"), res.LoginURL)

	_, err = truewatchtest.Activation(srv).WithHTTPClient(&http.Client{Transport: &http.Transport{}}).
		WithSite(truewatch.SiteUS1).Register(info).Run(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")
}
