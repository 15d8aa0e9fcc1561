package billing_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/retry"
)

func TestNewClient(t *testing.T) {
	c, err := billing.NewClient(billing.WithBaseURL("https://billing.test/bc/"), nil)
	require.NoError(t, err)
	assert.Equal(t, "https://billing.test/bc", c.BaseURL())

	bad := map[string][]billing.Option{
		"no base URL":      nil,
		"empty base URL":   {billing.WithBaseURL(" ")},
		"relative URL":     {billing.WithBaseURL("billing.test")},
		"bad scheme":       {billing.WithBaseURL("ftp://billing.test")},
		"nil HTTP client":  {billing.WithBaseURL(baseURL), billing.WithHTTPClient(nil)},
		"nil logger":       {billing.WithBaseURL(baseURL), billing.WithLogger(nil)},
		"negative wait":    {billing.WithBaseURL(baseURL), billing.WithRetryPolicy(retry.Policy{WaitMax: -1})},
		"header injection": {billing.WithBaseURL(baseURL), billing.WithUserAgent("x\r\nAuthorization: Bearer y")},
	}
	for name, opts := range bad {
		t.Run(name, func(t *testing.T) {
			c, err := billing.NewClient(opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), "billing")
		})
	}
}

func TestNewClient_MakesNoCall(t *testing.T) {
	e := setup(t)
	_, err := billing.NewClient(billing.WithBaseURL(baseURL), billing.WithHTTPClient(&http.Client{Transport: e.mt}))
	require.NoError(t, err)
	assert.Equal(t, 0, e.mt.GetTotalCallCount())
}
