package mockclient_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// namespaces: create (taken: 409, past the limit of 2: 429), list, read
// (unknown: 404, a bad name: 400) and delete (the default: 400) the
// namespaces; a client InNamespace acts on its namespace only.
func (e *env) namespaces(t *testing.T) {
	info, err := e.mc.CreateNamespace(e.ctx, mockserver.NamespaceRequest{Name: "ci-a", Strictness: mockserver.Lenient})
	require.NoError(t, err)
	ak, sk := mockserver.DemoKeysFor("ci-a")
	assert.Equal(t, []string{"ci-a", e.srv.URL() + "/ns/ci-a", e.srv.URL(), ak, sk},
		[]string{info.Name, info.URL, info.HuaweiEndpoint, info.DemoAccessKey, info.DemoSecretKey})
	assert.Equal(t, mockserver.Lenient, info.Strictness)
	_, err = e.mc.CreateNamespace(e.ctx, mockserver.NamespaceRequest{Name: "ci-a"})
	status(t, http.StatusConflict, err, "taken")
	noDemo := false
	_, err = e.mc.CreateNamespace(e.ctx, mockserver.NamespaceRequest{Name: "ci-b", DemoFixture: &noDemo, IDSeed: "b"})
	require.NoError(t, err)
	_, err = e.mc.CreateNamespace(e.ctx, mockserver.NamespaceRequest{Name: "ci-c"})
	status(t, http.StatusTooManyRequests, err, "the limit")
	_, err = e.mc.CreateNamespace(e.ctx, mockserver.NamespaceRequest{Name: "Not_A_Name"})
	status(t, http.StatusBadRequest, err)

	list, err := e.mc.Namespaces(e.ctx)
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, []string{mockserver.DefaultNamespace, "ci-a", "ci-b"}, []string{list[0].Name, list[1].Name, list[2].Name})
	assert.Empty(t, list[2].DemoAccessKey, "ci-b has no demo fixture")
	got, err := e.mc.Namespace(e.ctx, "ci-a")
	require.NoError(t, err)
	assert.Equal(t, "ci-a", got.Name)
	_, err = e.mc.Namespace(e.ctx, "nope")
	status(t, http.StatusNotFound, err)
	_, err = e.mc.Namespace(e.ctx, "Not_A_Name")
	status(t, http.StatusBadRequest, err)

	in := e.mc.InNamespace("ci-a")
	assert.Equal(t, "ci-a", in.NamespaceName())
	assert.Contains(t, in.String(), "namespace ci-a")
	before, err := e.mc.State(e.ctx)
	require.NoError(t, err)
	_, err = in.SeedBillingAccount(e.ctx, mockserver.BillingAccountSeed{Username: "nsuser", Email: "ns@example.com"})
	require.NoError(t, err)
	st, err := in.State(e.ctx)
	require.NoError(t, err)
	require.Len(t, st.BillingAccounts, 1)
	assert.Equal(t, "nsuser", st.BillingAccounts[0].Username)
	after, err := e.mc.State(e.ctx)
	require.NoError(t, err)
	sameJSON(t, before, after, "the default namespace saw nothing")
	require.NoError(t, in.Reset(e.ctx))
	st, err = in.State(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, st.BillingAccounts)

	require.NoError(t, e.mc.DeleteNamespace(e.ctx, "ci-b"))
	status(t, http.StatusNotFound, e.mc.DeleteNamespace(e.ctx, "ci-b"), "gone")
	status(t, http.StatusBadRequest, e.mc.DeleteNamespace(e.ctx, mockserver.DefaultNamespace), "the default stays")
	require.NoError(t, e.mc.DeleteNamespace(e.ctx, "ci-a"))
}
