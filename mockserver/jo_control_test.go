package mockserver_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// do sends a control request with the mock's own client and returns the
// status and body.
func do(t *testing.T, srv *mockserver.Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, string(b)
}

const demoEnterprise = `{"huaweiAccountId":"` + mockserver.DemoHuaweiAccountID + `","instanceId":"` + mockserver.DemoInstanceID +
	`","name":"Analytical Engines","domain":"engines.example","abbreviation":"engines"}`

// The buyer's console over the control plane: create (validated), the
// activation on the clock moved over HTTP, members with the pre-fill from
// the Huawei account's real-name information, immutable fields refused
// with 409, the application readable in clear.
func TestEnterpriseControlPlane(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutListener())
	status, body := do(t, srv, http.MethodPost, "/_mock/enterprises", `{"huaweiAccountId":"x","name":"","domain":"Bad_Domain","abbreviation":"1x"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	for _, field := range []string{"huaweiAccountId", "instanceId", "name", "domain", "abbreviation"} {
		assert.Contains(t, body, field)
	}
	status, body = do(t, srv, http.MethodPost, "/_mock/enterprises", demoEnterprise)
	require.Equal(t, http.StatusCreated, status, body)
	var ent mockserver.Enterprise
	require.NoError(t, json.Unmarshal([]byte(body), &ent))
	assert.Equal(t, mockserver.EnterpriseActivating, ent.Status)
	assert.Equal(t, srv.URL()+"/idp/engines.example", ent.IdentityProvider)

	status, body = do(t, srv, http.MethodPost, "/_mock/enterprises", strings.Replace(demoEnterprise, "engines.example", "other.example", 1))
	assert.Equal(t, http.StatusConflict, status, "one enterprise per purchase: %s", body)
	status, _ = do(t, srv, http.MethodPost, "/_mock/enterprises/"+ent.TenantID+"/members", `{"userName":"charles","name":"C"}`)
	assert.Equal(t, http.StatusConflict, status, "still activating")

	status, _ = do(t, srv, http.MethodPost, "/_mock/clock", `{"advance":"2m"}`)
	require.Equal(t, http.StatusOK, status)
	status, body = do(t, srv, http.MethodGet, "/_mock/enterprises/"+ent.TenantID, "")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"status":"active"`)

	// The first member is pre-filled from the account's real-name info.
	status, body = do(t, srv, http.MethodPost, "/_mock/enterprises/"+ent.TenantID+"/members", `{}`)
	require.Equal(t, http.StatusCreated, status, body)
	var first mockserver.Member
	require.NoError(t, json.Unmarshal([]byte(body), &first))
	assert.Equal(t, mockserver.DemoHuaweiAccountName, first.UserName)
	assert.Equal(t, mockserver.DemoHuaweiRealName, first.Name)
	assert.Equal(t, mockserver.DemoHuaweiEmail, first.Email)
	assert.Equal(t, mockserver.DemoHuaweiMobile, first.Mobile)
	assert.Equal(t, "admin", first.Role)
	assert.Len(t, first.InitialPassword, 16, "generated")
	status, body = do(t, srv, http.MethodPost, "/_mock/enterprises/"+ent.TenantID+"/members", `{}`)
	assert.Equal(t, http.StatusBadRequest, status, "the second is not pre-filled: %s", body)
	status, _ = do(t, srv, http.MethodPost, "/_mock/enterprises/"+ent.TenantID+"/members", `{"userName":"DEMO-huawei-account","name":"x"}`)
	assert.Equal(t, http.StatusConflict, status, "user names are unique regardless of case")
	status, _ = do(t, srv, http.MethodPost, "/_mock/enterprises/"+ent.TenantID+"/members", `{"userName":"bob","name":"Bob","initialPassword":"bob-Bob-1234"}`)
	assert.Equal(t, http.StatusBadRequest, status, "the password contains the user name")
	status, _ = do(t, srv, http.MethodPost, "/_mock/enterprises/"+ent.TenantID+"/members", `{"userName":"bob","name":"Bob","department":"nowhere"}`)
	assert.Equal(t, http.StatusNotFound, status)

	for _, ch := range []string{`{"name":"Another Name"}`, `{"abbreviation":"other"}`} {
		status, body = do(t, srv, http.MethodPost, "/_mock/enterprises/"+ent.TenantID, ch)
		assert.Equal(t, http.StatusConflict, status, "%s: %s", ch, body)
	}
	status, _ = do(t, srv, http.MethodPost, "/_mock/enterprises/"+ent.TenantID+"/members/"+first.UserName, `{"userName":"renamed"}`)
	assert.Equal(t, http.StatusConflict, status)
	status, _ = do(t, srv, http.MethodPost, "/_mock/enterprises/"+ent.TenantID, `{"name":"Analytical Engines","unknown":1}`)
	assert.Equal(t, http.StatusBadRequest, status, "strict bodies")
	assert.Len(t, srv.Deliveries(mockserver.DeliveryFilter{TenantID: ent.TenantID, Activity: koogallery.KitTenantSync}), 1,
		"refused changes sent nothing")

	status, body = do(t, srv, http.MethodPost, "/_mock/enterprises/"+ent.TenantID, `{"domain":"engines2.example"}`)
	require.Equal(t, http.StatusOK, status, body)
	ts := srv.Deliveries(mockserver.DeliveryFilter{TenantID: ent.TenantID, Activity: koogallery.KitTenantSync})
	require.Len(t, ts, 2)
	assert.Contains(t, string(ts[1].Request), `"flag":2`)
	assert.Contains(t, string(ts[1].Request), "/idp/engines2.example")
	assert.Equal(t, srv.URL()+"/idp/engines2.example", srv.TrueWatchTenants()[0].DomainName)

	status, body = do(t, srv, http.MethodGet, "/_mock/enterprises/"+ent.TenantID+"/application", "")
	require.Equal(t, http.StatusOK, status)
	var app mockserver.Application
	require.NoError(t, json.Unmarshal([]byte(body), &app))
	assert.Len(t, app.ClientSecret, 64, "in clear")
	assert.Equal(t, []string{srv.BillingURL() + "/sso/huawei/callback"}, app.RedirectURIs)

	status, body = do(t, srv, http.MethodGet, "/_mock/marketplace/deliveries?tenantId="+ent.TenantID, "")
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, body, app.ClientSecret)
	assert.Contains(t, body, `"activity":"applicationSync"`)

	// Guards: a change needs the control header.
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "http://127.0.0.1/_mock/enterprises/"+ent.TenantID, nil))
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Len(t, srv.Enterprises(), 1)
	status, _ = do(t, srv, http.MethodDelete, "/_mock/enterprises/"+ent.TenantID, "")
	require.Equal(t, http.StatusOK, status)
	assert.Empty(t, srv.Enterprises())
	ts = srv.Deliveries(mockserver.DeliveryFilter{TenantID: ent.TenantID, Activity: koogallery.KitTenantSync})
	assert.Contains(t, string(ts[len(ts)-1].Request), `"flag":0`)
	assert.Empty(t, srv.TrueWatchTenants(), "the vendor forgot it")
	status, _ = do(t, srv, http.MethodGet, "/_mock/enterprises/"+ent.TenantID, "")
	assert.Equal(t, http.StatusNotFound, status)
}

// Departments: added, renamed, moved (never under themselves), removed
// only when empty; each change a singleOrgSync, and the full tree on
// demand.
func TestEnterpriseDepartments(t *testing.T) {
	env := setupJoint(t)
	tid := env.ent.TenantID
	_, err := env.srv.AddDepartment(env.ctx, tid, mockserver.Department{OrgCode: "eng", Name: "Engineering"})
	require.NoError(t, err)
	_, err = env.srv.AddDepartment(env.ctx, tid, mockserver.Department{OrgCode: "ops", Name: "Operations", ParentCode: "eng"})
	require.NoError(t, err)
	_, err = env.srv.AddDepartment(env.ctx, tid, mockserver.Department{OrgCode: "eng", Name: "Again"})
	assert.Error(t, err)
	_, err = env.srv.UpdateDepartment(env.ctx, tid, "eng", mockserver.Department{ParentCode: "ops"})
	assert.Error(t, err, "not under its own descendant")
	_, err = env.srv.UpdateDepartment(env.ctx, tid, "eng", mockserver.Department{OrgCode: "x"})
	require.ErrorIs(t, err, mockserver.ErrImmutable)
	_, err = env.srv.UpdateDepartment(env.ctx, tid, "ops", mockserver.Department{Name: "Ops", ParentCode: mockserver.RootDepartment})
	require.NoError(t, err)
	_, err = env.srv.UpdateMember(env.ctx, tid, "charles", mockserver.MemberChange{Department: "ops"})
	require.NoError(t, err)
	assert.Error(t, env.srv.RemoveDepartment(env.ctx, tid, "ops"), "it has a member")
	assert.ErrorIs(t, env.srv.RemoveDepartment(env.ctx, tid, mockserver.RootDepartment), mockserver.ErrImmutable)
	require.NoError(t, env.srv.RemoveDepartment(env.ctx, tid, "eng"))
	require.NoError(t, env.srv.SyncDepartments(env.ctx, tid))
	org := env.kitDeliveries(koogallery.KitSingleOrgSync)
	require.Len(t, org, 4, "add, add, modify, delete")
	for i, flag := range []string{`"flag":1`, `"flag":1`, `"flag":2`, `"flag":0`} {
		assert.Contains(t, string(org[i].Request), flag)
		assert.Equal(t, mockserver.DeliverySucceeded, org[i].Outcome)
	}
	all := env.kitDeliveries(koogallery.KitAllOrgSync)
	require.Len(t, all, 2, "at activation and on demand")
	assert.Contains(t, string(all[1].Request), `"orgCode":"ops"`)
	assert.NotContains(t, string(all[1].Request), `"orgCode":"eng"`)
	assert.Equal(t, 2, env.srv.TrueWatchTenants()[0].Departments)
}

// Kit calls are retried as KooGallery retries, on the mock's clock, and
// an enterprise's calls are delivered in order: one waits until the one
// before it succeeded or was given up.
func TestKitDeliveriesRetryInOrder(t *testing.T) {
	env := setupJoint(t)
	env.activate()
	id, err := env.srv.InjectFault(mockserver.Fault{Method: http.MethodPost,
		Path: mockserver.VendorProducePath + koogallery.KitPathPrefix + koogallery.KitAuthSync, Status: http.StatusServiceUnavailable, Times: 2})
	require.NoError(t, err)
	env.authorize("charles")
	_, err = env.srv.UpdateMember(env.ctx, env.ent.TenantID, "charles", mockserver.MemberChange{Position: "Engineer"})
	require.NoError(t, err)
	auth := env.kitDeliveries(koogallery.KitAuthSync)
	require.Len(t, auth, 1, "the change waits behind the grant")
	assert.Equal(t, mockserver.DeliveryRetrying, auth[0].Outcome)
	assert.Equal(t, auth[0].At.Add(3*time.Minute), auth[0].NextAttemptAt)
	assert.Empty(t, env.srv.TrueWatchTenants()[0].Authorized)

	_, err = env.srv.AdvanceClock(env.ctx, 6*time.Minute)
	require.NoError(t, err)
	auth = env.kitDeliveries(koogallery.KitAuthSync)
	require.Len(t, auth, 4, "two retries of the grant, then the change")
	assert.Equal(t, []int{1, 2, 3, 1}, []int{auth[0].Attempt, auth[1].Attempt, auth[2].Attempt, auth[3].Attempt})
	assert.Equal(t, mockserver.DeliverySucceeded, auth[2].Outcome)
	assert.Contains(t, string(auth[2].Request), `"flag":1`)
	assert.Contains(t, string(auth[3].Request), `"flag":2`)
	assert.Contains(t, string(auth[3].Request), `"position":"Engineer"`)
	assert.Equal(t, []string{"charles"}, env.srv.TrueWatchTenants()[0].Authorized)
	env.srv.RemoveFault(id)

	_, err = env.srv.LogInToTrueWatch(env.ctx, env.ent.TenantID, env.login())
	require.NoError(t, err)
}

// A kit call signed with another key is refused by TrueWatch's kit with
// 000001 (and a stale one with 000002), and changes nothing there.
func TestKitSignatureRefused(t *testing.T) {
	env := setupJoint(t)
	signer, err := koogallery.NewKitSigner("not-the-kit-key")
	require.NoError(t, err)
	caller, err := koogallery.NewKitCaller(env.srv.URL()+mockserver.VendorProducePath, signer,
		koogallery.WithCallerHTTPClient(env.srv.HTTPClient()))
	require.NoError(t, err)
	res, err := caller.Send(env.ctx, &koogallery.TenantSync{InstanceID: mockserver.DemoInstanceID, TenantID: "forged",
		TenantCode: "forged", Name: "Forged", DomainName: "https://evil.example", Flag: koogallery.FlagAdd})
	require.NoError(t, err)
	assert.Equal(t, koogallery.ResultAuthFailed, res.ResultCode)

	stale, err := koogallery.NewKitSigner(mockserver.DemoKooGalleryKitKey,
		koogallery.WithSignerClock(func() time.Time { return time.Now().Add(-2 * time.Minute) }))
	require.NoError(t, err)
	caller, err = koogallery.NewKitCaller(env.srv.URL()+mockserver.VendorProducePath, stale,
		koogallery.WithCallerHTTPClient(env.srv.HTTPClient()))
	require.NoError(t, err)
	res, err = caller.Send(env.ctx, &koogallery.TenantSync{InstanceID: mockserver.DemoInstanceID, TenantID: "forged",
		TenantCode: "forged", Name: "Forged", DomainName: "https://evil.example", Flag: koogallery.FlagAdd})
	require.NoError(t, err)
	assert.Equal(t, koogallery.ResultInvalidParameter, res.ResultCode)
	require.Len(t, env.srv.TrueWatchTenants(), 1)
	assert.Equal(t, env.ent.TenantID, env.srv.TrueWatchTenants()[0].TenantID)
}

// The client secret's key pair and padding are configurable: OAEP to a
// key of the test's own still reaches TrueWatch's vendor decrypted.
func TestClientSecretKeyConfigurable(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	env := setupJoint(t, mockserver.WithClientSecretKey(key), mockserver.WithClientSecretPadding(koogallery.PaddingOAEPSHA256))
	env.authorize("charles")
	env.activate()
	assert.True(t, env.srv.TrueWatchTenants()[0].HasClientSecret)
	_, err = env.srv.LogInToTrueWatch(env.ctx, env.ent.TenantID, env.login())
	require.NoError(t, err, "the decrypted secret authenticates TrueWatch at the token endpoint")

	// With only a public key (a vendor of your own holds the private
	// one), TrueWatch's vendor cannot decrypt: 000101, retried.
	env2 := &jointEnv{t: t, ctx: env.ctx, srv: mockserver.Start(t, mockserver.WithoutListener(),
		mockserver.WithClientSecretPublicKey(&key.PublicKey), mockserver.WithEnterpriseActivation(0),
		mockserver.WithDeliveryPolicy(mockserver.DeliveryPolicy{Attempts: 1}))}
	ent, err := env2.srv.CreateEnterprise(env.ctx, mockserver.EnterpriseRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID, Name: "E", Domain: "e.example", Abbreviation: "ee"})
	require.NoError(t, err)
	ds := env2.srv.Deliveries(mockserver.DeliveryFilter{TenantID: ent.TenantID, Activity: koogallery.KitApplicationSync})
	require.Len(t, ds, 1)
	assert.Equal(t, string(koogallery.ResultAppSecretProblem), ds[0].ResultCode)
}

// Reset drops the joint service with the rest: enterprises, the identity
// provider's records and what TrueWatch was told.
func TestJointServiceReset(t *testing.T) {
	env := loggedIn(t)
	require.NotEmpty(t, env.srv.TrueWatchTenants())
	require.NoError(t, env.srv.Reset())
	assert.Empty(t, env.srv.Enterprises())
	assert.Empty(t, env.srv.TrueWatchTenants())
	assert.Empty(t, env.srv.Deliveries(mockserver.DeliveryFilter{TenantID: env.ent.TenantID}))
	_, err := env.srv.LogInToTrueWatch(env.ctx, env.ent.TenantID, env.creds())
	require.ErrorIs(t, err, mockserver.ErrUnknownEnterprise)
	// The same enterprise can be created again.
	again := setupJointOn(t, env.srv)
	assert.Equal(t, mockserver.EnterpriseActive, again.Status)
}

func setupJointOn(t *testing.T, srv *mockserver.Server) mockserver.Enterprise {
	t.Helper()
	ent, err := srv.CreateEnterprise(t.Context(), mockserver.EnterpriseRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID, Name: "Analytical Engines", Domain: "engines.example", Abbreviation: "engines"})
	require.NoError(t, err)
	_, err = srv.AdvanceClock(t.Context(), mockserver.DefaultEnterpriseActivation)
	require.NoError(t, err)
	ent, err = srv.Enterprise(ent.TenantID)
	require.NoError(t, err)
	return ent
}
