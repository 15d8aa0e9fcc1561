package servicetest_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/examples/servicetest"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// newProvisioner points a Provisioner at an in-process mock. Each test gets
// its own mock, so tests can run in parallel without sharing state.
//
// The tests run in a testing/synctest bubble (see inBubble): the retries
// after an injected failure wait in the bubble's fake time, which passes at
// once, so nothing needs a fake clock or an instant retry policy. The mock
// is built WithoutListener, its HTTPClient calling it in-process, so that
// no goroutine of the test waits on a real socket outside the bubble.
func newProvisioner(t *testing.T) (*mockserver.Server, *servicetest.Provisioner) {
	t.Helper()
	srv := mockserver.Start(t, mockserver.WithoutListener())
	return srv, &servicetest.Provisioner{
		Endpoints: servicetest.Endpoints{BillingURL: srv.BillingURL(), Sites: srv.SiteEndpoints(), HuaweiEndpoint: srv.HuaweiEndpoint()},
		Site:      truewatch.SiteEU1,
		Codes:     truewatch.CodesFromOutbox(srv), // the mock's outbox stands in for the customer's mailbox
		Store:     truewatch.NewMemoryStore(),
		Options: func(a *truewatch.Activation) *truewatch.Activation {
			return a.WithHTTPClient(srv.HTTPClient())
		},
	}
}

// inBubble runs a parallel test in a testing/synctest bubble.
func inBubble(t *testing.T, test func(t *testing.T)) {
	t.Parallel()
	synctest.Test(t, test)
}

func demoCustomer() servicetest.Customer {
	return servicetest.Customer{HuaweiAK: mockserver.DemoAccessKey, HuaweiSK: mockserver.DemoSecretKey,
		Username: "grace", Email: "grace@example.com", Password: "Cobol-1959!", Company: "Compilers Inc"}
}

func TestProvisionCreatesOneSettledWorkspace(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		srv, p := newProvisioner(t)

		id, err := p.Provision(context.Background(), demoCustomer())
		require.NoError(t, err)

		ws, ok := srv.Workspace(id)
		require.True(t, ok)
		assert.Equal(t, truewatch.SiteEU1, ws.Site)
		assert.Equal(t, mockserver.DemoInstanceID, ws.Settlement.InstanceID)

		again, err := p.Provision(context.Background(), demoCustomer())
		require.NoError(t, err)
		assert.Equal(t, id, again, "provisioning twice must not create a second workspace")
		assert.Len(t, srv.Workspaces(), 1)
	})
}

func TestProvisionSurvivesALostResponse(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		srv, p := newProvisioner(t)
		// The registration happens, but its answer never arrives (a dropped
		// connection); the retry carries the same Idempotency-Key and gets the
		// stored answer instead of registering twice.
		_, err := srv.InjectFault(mockserver.Fault{Operation: "billing.Register", AfterHandler: true,
			Status: http.StatusBadGateway})
		require.NoError(t, err)

		id, err := p.Provision(context.Background(), demoCustomer())
		require.NoError(t, err)
		assert.Equal(t, []int{1}, srv.FaultHits())
		assert.Len(t, srv.BillingAccounts(), 1)
		assert.Len(t, srv.Workspaces(), 1)
		_, ok := srv.Workspace(id)
		assert.True(t, ok)
	})
}

func TestProvisionReportsAClosedPurchase(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		srv, p := newProvisioner(t)
		release(t, srv, mockserver.DemoInstanceID)

		_, err := p.Provision(context.Background(), demoCustomer())
		require.Error(t, err)
		assert.Empty(t, srv.Workspaces(), "nothing is created for a closed purchase")
	})
}

func TestProvisionRefusesABadPasswordBeforeAnyCall(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		srv, p := newProvisioner(t)
		c := demoCustomer()
		c.Password = "short"

		_, err := p.Provision(context.Background(), c)
		require.ErrorIs(t, err, apierror.ErrValidation)
		assert.NotContains(t, err.Error(), "short", "passwords never appear in errors")
		assert.Empty(t, srv.Outbox(), "no code was even requested")
	})
}

// release closes a purchase through the mock's marketplace.
func release(t testing.TB, srv *mockserver.Server, instanceID string) {
	t.Helper()
	_, err := srv.ReleasePurchase(context.Background(), instanceID)
	require.NoError(t, err)
}
