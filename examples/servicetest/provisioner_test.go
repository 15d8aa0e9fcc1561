package servicetest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/examples/servicetest"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// instant makes every wait return at once, so retry tests never sleep.
func instant(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// newProvisioner points a Provisioner at an in-process mock. Each test gets
// its own mock, so tests can run in parallel without sharing state.
func newProvisioner(t *testing.T) (*mockserver.Server, *servicetest.Provisioner) {
	t.Helper()
	srv := mockserver.Start(t)
	return srv, &servicetest.Provisioner{
		Endpoints: servicetest.Endpoints{BillingURL: srv.BillingURL(), Sites: srv.SiteEndpoints(), HuaweiEndpoint: srv.HuaweiEndpoint()},
		Site:      truewatch.SiteEU1,
		Codes:     truewatch.CodesFromOutbox(srv), // the mock's outbox stands in for the customer's mailbox
		Store:     truewatch.NewMemoryStore(),
		Options: func(a *truewatch.Activation) *truewatch.Activation {
			return a.WithHTTPClient(srv.HTTPClient()).
				WithRetryPolicy(retry.Policy{MaxRetries: 3, Sleep: instant}).
				WithSleep(instant)
		},
	}
}

func demoCustomer() servicetest.Customer {
	return servicetest.Customer{HuaweiAK: mockserver.DemoAccessKey, HuaweiSK: mockserver.DemoSecretKey,
		Username: "grace", Email: "grace@example.com", Password: "Cobol-1959!", Company: "Compilers Inc"}
}

func TestProvisionCreatesOneSettledWorkspace(t *testing.T) {
	t.Parallel()
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
}

func TestProvisionSurvivesALostResponse(t *testing.T) {
	t.Parallel()
	srv, p := newProvisioner(t)
	// The registration happens, but its answer never arrives (a dropped
	// connection); the retry carries the same Idempotency-Key and gets the
	// stored answer instead of registering twice.
	_, err := srv.InjectFault(mockserver.Fault{Method: http.MethodPost,
		Path: "/billing-center/api/v1/account/register", AfterHandler: true, Status: http.StatusBadGateway})
	require.NoError(t, err)

	id, err := p.Provision(context.Background(), demoCustomer())
	require.NoError(t, err)
	assert.Equal(t, []int{1}, srv.FaultHits())
	assert.Len(t, srv.BillingAccounts(), 1)
	assert.Len(t, srv.Workspaces(), 1)
	_, ok := srv.Workspace(id)
	assert.True(t, ok)
}

func TestProvisionReportsAClosedPurchase(t *testing.T) {
	t.Parallel()
	srv, p := newProvisioner(t)
	require.NoError(t, srv.ReleasePurchase(mockserver.DemoInstanceID))

	_, err := p.Provision(context.Background(), demoCustomer())
	require.Error(t, err)
	assert.Empty(t, srv.Workspaces(), "nothing is created for a closed purchase")
}

func TestProvisionRefusesABadPasswordBeforeAnyCall(t *testing.T) {
	t.Parallel()
	srv, p := newProvisioner(t)
	c := demoCustomer()
	c.Password = "short"

	_, err := p.Provision(context.Background(), c)
	require.ErrorIs(t, err, apierror.ErrValidation)
	assert.NotContains(t, err.Error(), "short", "passwords never appear in errors")
	assert.Empty(t, srv.Outbox(), "no code was even requested")
}
