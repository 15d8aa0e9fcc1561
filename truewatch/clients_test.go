package truewatch_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

func TestGivenClients(t *testing.T) {
	e := newEnv(t)
	bc, err := e.srv.BillingClient()
	require.NoError(t, err)
	wc, err := e.srv.WorkspaceClient()
	require.NoError(t, err)
	hc, err := e.srv.HuaweiClient()
	require.NoError(t, err)
	e.seedBillingAccount()
	e.seedAccount("us1")

	res, err := truewatch.NewActivation().
		WithBillingClient(bc).WithWorkspaceClient(wc).WithHuaweiClient(hc).
		WithSite(truewatch.SiteUS1).
		WithCodes(truewatch.CodesFromOutbox(e.srv)).
		BindBillingAccount("ada", adaEmail).
		CreateWorkspace(truewatch.CreateWorkspaceInfo{Name: "prod", Language: truewatch.LanguageEN, Email: adaEmail, TermsAccepted: true}).
		Run(context.Background())
	require.NoError(t, err)
	assertOneOutcome(t, e, branches[1], res)

	err = truewatch.NewActivation().WithBillingClient(nil).WithWorkspaceClient(nil).WithHuaweiClient(nil).Validate()
	var ve *apierror.ValidationError
	require.ErrorAs(t, err, &ve)
	fields := map[string]bool{}
	for _, p := range ve.Problems {
		fields[p.Field] = true
	}
	assert.True(t, fields["billingClient"] && fields["workspaceClient"] && fields["huaweiClient"], ve.Problems)
}

func TestHuaweiCredentialsFromEnv(t *testing.T) {
	e := newEnv(t)
	build := func() *truewatch.Activation {
		return truewatch.NewActivation().
			WithBillingURL(e.srv.BillingURL()).WithHuaweiEndpoint(e.srv.HuaweiEndpoint()).
			WithHuaweiCredentialsFromEnv().WithHuaweiSecurityToken("").
			WithSite(truewatch.SiteUS1).WithCodes(truewatch.CodesFromOutbox(e.srv)).
			Register(registerInfo())
	}
	t.Setenv(huawei.EnvAccessKey, "")
	t.Setenv(huawei.EnvSecretKey, "")
	err := build().Validate()
	var ve *apierror.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 1)
	assert.Equal(t, "huaweiCredentials", ve.Problems[0].Field)

	t.Setenv(huawei.EnvAccessKey, mockserver.DemoAccessKey)
	t.Setenv(huawei.EnvSecretKey, mockserver.DemoSecretKey)
	plan, err := build().Plan(context.Background())
	require.NoError(t, err)
	assert.Equal(t, mockserver.DemoHuaweiAccountID, plan.HuaweiAccountID)
	assert.Equal(t, mockserver.DemoInstanceID, plan.InstanceID)
}
