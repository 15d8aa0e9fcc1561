package mockserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

func TestWithPublicURLValidates(t *testing.T) {
	for _, u := range []string{
		"",
		"mock.example:8080",
		"/relative",
		"ftp://mock.example",
		"http://",
		"http://:8080",
		"http://user:pass@mock.example",
		"http://mock.example?x=1",
		"http://mock.example/?",
		"http://mock.example#top",
		"http://mock.example/#",
		"http://mock.example/mock",
		"http://mock.example:port",
		"http:mock.example",
	} {
		_, err := New(WithoutListener(), WithPublicURL(u))
		assert.ErrorContains(t, err, "invalid public URL", "%q", u)
	}
	for u, want := range map[string]string{
		"http://mock.example:8080":  "http://mock.example:8080",
		"https://Mock.Example/":     "https://mock.example",
		"HTTP://10.0.0.5:18080":     "http://10.0.0.5:18080",
		"http://[2001:db8::1]:8080": "http://[2001:db8::1]:8080",
	} {
		srv, err := New(WithoutListener(), WithPublicURL(u))
		require.NoError(t, err, u)
		assert.Equal(t, want, srv.URL(), u)
	}
}

// TestPublicURLEverywhere: with a public URL, every URL the server gives
// out, and every URL it puts in responses, uses it, while the listener
// still binds its own address and HTTPClient reaches it.
func TestPublicURLEverywhere(t *testing.T) {
	const public = "https://mock.example:8443"
	srv := Start(t, WithPublicURL(public))
	assert.Equal(t, public, srv.URL())
	assert.Equal(t, public+routes.MockBillingPrefix, srv.BillingURL())
	assert.Equal(t, public, srv.HuaweiEndpoint())
	assert.True(t, strings.HasPrefix(srv.Addr(), "127.0.0.1:"), srv.Addr())
	for _, c := range site.Codes() {
		api, err := srv.SiteEndpoints().URL(c, site.ConsoleAPI)
		require.NoError(t, err)
		assert.Equal(t, public+"/sites/"+string(c)+"/console-api", api)
		login, err := srv.SiteEndpoints().LoginURL(c)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(login, public+"/sites/"+string(c)+"/auth/"), login)
	}

	// An activated subscription's login URL, as the API answers it.
	bca, err := srv.SeedBillingAccount(BillingAccountSeed{Username: "ada", Email: "ada@example.com"})
	require.NoError(t, err)
	acc, err := srv.SeedAccount(AccountSeed{Site: site.EU1, Username: "ada", Email: "ada@example.com"})
	require.NoError(t, err)
	_, err = srv.SeedWorkspace(WorkspaceSeed{OwnerAccountID: acc.ID, Name: "prod", BillingAccountID: bca.ID,
		Settlement: twapi.Settlement{Method: twapi.SettlementHuaweiCloud, HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID}})
	require.NoError(t, err)
	_, err = srv.SeedBinding(bca.ID, DemoHuaweiAccountID, DemoInstanceID)
	require.NoError(t, err)

	// The owner's proof names the public URL, as the SDK's Huawei client
	// pointed at HuaweiEndpoint signs it; the mock checks it all the same.
	hc := srv.HTTPClient()
	p, err := proof.Sign(srv.HuaweiEndpoint(), proof.PathCallerIdentity, srv.Audience(), DemoAccessKey, DemoSecretKey, "", srv.Now())
	require.NoError(t, err)
	assert.Equal(t, public+"/billing-center", srv.Audience())
	req, err := http.NewRequest(http.MethodGet, srv.BillingURL()+routes.GetSubscription+"?huaweiAccountId="+DemoHuaweiAccountID+"&instanceId="+DemoInstanceID, nil)
	require.NoError(t, err)
	req.Header.Set(proof.Header, p)
	resp, err := hc.Do(req)
	require.NoError(t, err, "HTTPClient sends requests for the public URL to the listener")
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var env struct{ Content billing.Subscription }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	wantLogin, err := srv.SiteEndpoints().LoginURL(site.EU1)
	require.NoError(t, err)
	assert.Equal(t, wantLogin, env.Content.LoginURL)
	assert.True(t, strings.HasPrefix(env.Content.LoginURL, public+"/"), env.Content.LoginURL)

	// Other hosts are not rewritten (nothing listens on port 1).
	_, err = hc.Get("http://127.0.0.1:1/_mock/health")
	assert.Error(t, err)
}

// TestPublicURLWithoutListener: the public URL names an in-process server
// too; Addr is empty.
func TestPublicURLWithoutListener(t *testing.T) {
	srv := Start(t, WithoutListener(), WithPublicURL("http://mock.example"))
	assert.Empty(t, srv.Addr())
	assert.Equal(t, "http://mock.example/billing-center", srv.BillingURL())
	resp, err := srv.HTTPClient().Get(srv.URL() + "/_mock/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestAddrWithoutPublicURL: without a public URL, URL is the listener's.
func TestAddrWithoutPublicURL(t *testing.T) {
	srv := Start(t)
	assert.Equal(t, "http://"+srv.Addr(), srv.URL())
}
