package billing_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
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

func TestNewClient_ListsEveryBadOption(t *testing.T) {
	_, err := billing.NewClient(billing.WithBaseURL(" "), billing.WithHTTPClient(nil), nil,
		billing.WithLogger(nil), billing.WithUserAgent("a\nb"))
	var oe *apierror.OptionError
	require.ErrorAs(t, err, &oe)
	assert.ErrorIs(t, err, apierror.ErrValidation)
	assert.Equal(t, "billing.NewClient", oe.Constructor)
	assert.Equal(t, []apierror.Problem{
		{Field: "WithBaseURL", Message: "must not be empty"},
		{Field: "WithHTTPClient", Message: "must not be nil"},
		{Field: "WithLogger", Message: "must not be nil"},
		{Field: "WithUserAgent", Message: "must be printable ASCII"},
	}, oe.Problems)

	_, err = billing.NewClient(billing.WithBaseURL("https://user:hunter2@billing.test"))
	require.ErrorAs(t, err, &oe)
	require.Len(t, oe.Problems, 1)
	assert.Equal(t, "WithBaseURL", oe.Problems[0].Field)
	assert.NotContains(t, err.Error(), "hunter2")

	_, err = billing.NewClient()
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "WithBaseURL", oe.Problems[0].Field, "the missing required option is named")
}
