package mockserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	sts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sts/v1"
	stsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sts/v1/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// nsCall sends one request to srv's listener with a plain client (no
// header added for it), the control header when ctl, and hdr; it returns
// the status and body.
func nsCall(t *testing.T, srv *mockserver.Server, method, path, body string, ctl bool, hdr map[string]string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL()+path, rd)
	require.NoError(t, err)
	if ctl {
		req.Header.Set(mockserver.ControlHeader, "1")
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

// officialSTS is the official Huawei SDK's STS client with the keys ak/sk
// at endpoint.
func officialSTS(t *testing.T, endpoint, ak, sk string) *sts.StsClient {
	t.Helper()
	c, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).SafeBuild()
	require.NoError(t, err)
	hc, err := sts.StsClientBuilder().WithCredential(c).WithEndpoints([]string{endpoint}).SafeBuild()
	require.NoError(t, err)
	return sts.NewStsClient(hc)
}

// activate registers a tenant on the demo purchase of ns through the SDK
// (the Huawei client with ns's demo keys proving ownership), reading the
// code from ns's outbox, and returns the registration.
func activate(t *testing.T, ns *mockserver.Server, user string) *billing.RegisterResult {
	t.Helper()
	ctx := context.Background()
	hw, err := ns.HuaweiClient()
	require.NoError(t, err)
	bc, err := ns.BillingClient(billing.WithOwnershipProver(hw))
	require.NoError(t, err)
	email := user + "@example.com"
	_, err = bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: email, Purpose: billing.PurposeRegister})
	require.NoError(t, err)
	code, ok := ns.LatestCode(email, billing.PurposeRegister)
	require.True(t, ok)
	reg, err := bc.Register(ctx, &billing.RegisterRequest{Site: "ap1", Username: user, Password: "Sup3r-secret",
		Email: email, EmailCode: secret.String(code), Company: billing.Company{Name: user + " Ltd"}, WorkspaceName: "prod",
		WorkspaceLanguage: twapi.LanguageEN, HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID, TermsAccepted: true})
	require.NoError(t, err)
	return reg
}

// TestNamespacesAreIsolated: two namespaces of one server each run an
// activation through the SDK; neither sees the other's (or the
// default's) accounts, outbox, faults, clock or journal, and a reset of
// one leaves the other alone.
func TestNamespacesAreIsolated(t *testing.T) {
	srv := mockserver.Start(t)
	a, err := srv.Namespace("team-a")
	require.NoError(t, err)
	b, err := srv.Namespace("team-b")
	require.NoError(t, err)
	assert.Equal(t, []string{mockserver.DefaultNamespace, "team-a", "team-b"}, srv.Namespaces())
	assert.Equal(t, "team-a", a.NamespaceName())
	assert.Equal(t, srv.URL()+"/ns/team-a", a.URL())
	assert.Equal(t, srv.URL(), a.HuaweiEndpoint(), "the Huawei SDK signs its path: the key chooses")

	regA := activate(t, a, "ada")
	regB := activate(t, b, "bob")
	assert.Len(t, a.Snapshot().BillingAccounts, 1)
	assert.Equal(t, regA.BillingAccount.ID, a.Snapshot().BillingAccounts[0].ID)
	assert.Equal(t, regB.BillingAccount.ID, b.Snapshot().BillingAccounts[0].ID)
	assert.NotEqual(t, regA.BillingAccount.ID, regB.BillingAccount.ID, "each namespace has its own ID seed")
	assert.Empty(t, srv.Snapshot().BillingAccounts, "the default namespace saw nothing")
	assert.Empty(t, srv.Outbox())
	assert.Len(t, a.OutboxFor("ada@example.com"), 1)
	assert.Empty(t, a.OutboxFor("bob@example.com"))

	// Journals: each namespace's requests, named by it, in its own.
	for _, e := range a.Requests(mockserver.RequestFilter{}) {
		assert.Equal(t, "team-a", e.Namespace)
	}
	assert.NotEmpty(t, a.Requests(mockserver.RequestFilter{Operation: "billing.Register"}))
	assert.Empty(t, srv.Requests(mockserver.RequestFilter{Operation: "billing.Register"}))

	// A fault in team-a, over HTTP by the header: team-b's calls pass.
	st, raw := nsCall(t, srv, http.MethodPost, "/_mock/faults", `{"operation":"billing.SendVerificationCode","status":503,"times":100}`, true,
		map[string]string{mockserver.NamespaceHeader: "team-a"})
	require.Equal(t, http.StatusCreated, st, "%s", raw)
	assert.Len(t, a.Faults(), 1)
	assert.Empty(t, b.Faults())
	assert.Empty(t, srv.Faults())
	ctx := context.Background()
	sendCode := func(ns *mockserver.Server) error {
		bc, err := ns.BillingClient()
		require.NoError(t, err)
		_, err = bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "x@example.com", Purpose: billing.PurposeRegister})
		return err
	}
	assert.Error(t, sendCode(a))
	assert.NoError(t, sendCode(b))
	assert.NoError(t, sendCode(srv))

	// The clock of team-b moved by a day, over HTTP by the path prefix.
	before := srv.Now()
	st, raw = nsCall(t, srv, http.MethodPost, "/ns/team-b/_mock/clock", `{"advance":"24h"}`, true, nil)
	require.Equal(t, http.StatusOK, st, "%s", raw)
	assert.WithinDuration(t, before.Add(24*time.Hour), b.Now(), time.Minute)
	assert.WithinDuration(t, before, a.Now(), time.Minute, "team-a's clock did not move")
	assert.WithinDuration(t, before, srv.Now(), time.Minute, "the default's clock did not move")

	// Reset team-b: its tenant is gone, team-a's stays.
	st, raw = nsCall(t, srv, http.MethodPost, "/ns/team-b/_mock/reset", "", true, nil)
	require.Equal(t, http.StatusOK, st, "%s", raw)
	assert.Empty(t, b.Snapshot().BillingAccounts)
	assert.Len(t, a.Snapshot().BillingAccounts, 1)
	assert.Len(t, a.Faults(), 1, "team-b's reset cleared only team-b's faults")
}

// TestNamespaceOfficialHuaweiSDKByAccessKey: the official Huawei SDK,
// which sets neither a header nor a path, reaches a namespace by the demo
// keys DemoKeysFor gives it; a fault matched there does not fire for the
// default's keys, and each call is journaled in its namespace.
func TestNamespaceOfficialHuaweiSDKByAccessKey(t *testing.T) {
	srv := mockserver.Start(t)
	ak, sk := mockserver.DemoKeysFor("sdk-ns")
	assert.Equal(t, "DEMOAKNS-SDK-NS", ak)
	dak, dsk := mockserver.DemoKeysFor(mockserver.DefaultNamespace)
	assert.Equal(t, mockserver.DemoAccessKey, dak)
	assert.Equal(t, mockserver.DemoSecretKey, dsk)

	// The SDK's first call makes the namespace, as any first use does.
	id, err := officialSTS(t, srv.HuaweiEndpoint(), ak, sk).GetCallerIdentity(&stsmodel.GetCallerIdentityRequest{})
	require.NoError(t, err)
	assert.Equal(t, mockserver.DemoHuaweiAccountID, *id.AccountId)
	assert.Equal(t, []string{mockserver.DefaultNamespace, "sdk-ns"}, srv.Namespaces())
	ns, err := srv.Namespace("sdk-ns")
	require.NoError(t, err)
	assert.Len(t, ns.Requests(mockserver.RequestFilter{Operation: "sts.GetCallerIdentity"}), 1)
	assert.Empty(t, srv.Requests(mockserver.RequestFilter{Operation: "sts.GetCallerIdentity"}))

	_, err = ns.InjectFault(mockserver.Fault{Operation: "sts.GetCallerIdentity", Status: 503})
	require.NoError(t, err)
	_, err = officialSTS(t, ns.HuaweiEndpoint(), ak, sk).GetCallerIdentity(&stsmodel.GetCallerIdentityRequest{})
	var se *sdkerr.ServiceResponseError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 503, se.StatusCode)
	_, err = officialSTS(t, srv.HuaweiEndpoint(), mockserver.DemoAccessKey, mockserver.DemoSecretKey).
		GetCallerIdentity(&stsmodel.GetCallerIdentityRequest{})
	require.NoError(t, err, "the default namespace has no fault")

	// A namespace's key is its own: the default namespace does not know it.
	st, raw := nsCall(t, srv, http.MethodPost, "/_mock/huawei-accounts",
		`{"id":"0123456789abcdef0123456789abcdef","name":"dup","keys":[{"ak":"`+ak+`","sk":"x"}]}`, true, nil)
	assert.Equal(t, http.StatusConflict, st, "%s", raw)
	assert.Contains(t, string(raw), `namespace \"sdk-ns\"`)
}

// TestNamespaceControlRoutes: POST, GET and DELETE /_mock/namespaces, and
// what they refuse, each in the control plane's error shape, changing
// nothing.
func TestNamespaceControlRoutes(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithExplicitNamespaces(), mockserver.WithMaxNamespaces(2))
	st, raw := nsCall(t, srv, http.MethodPost, "/_mock/namespaces", `{"name":"ci-1","strictness":"lenient"}`, true, nil)
	require.Equal(t, http.StatusCreated, st, "%s", raw)
	var info mockserver.NamespaceInfo
	require.NoError(t, json.Unmarshal(raw, &info))
	ak, sk := mockserver.DemoKeysFor("ci-1")
	assert.Equal(t, mockserver.NamespaceInfo{Name: "ci-1", URL: srv.URL() + "/ns/ci-1", HuaweiEndpoint: srv.URL(),
		Strictness: mockserver.Lenient, DemoAccessKey: ak, DemoSecretKey: sk, Now: info.Now}, info)

	for name, c := range map[string]struct {
		method, path, body string
		status             int
		want               string
	}{
		"invalid name":    {http.MethodPost, "/_mock/namespaces", `{"name":"Bad_Name"}`, 400, "invalid namespace name"},
		"empty name":      {http.MethodPost, "/_mock/namespaces", `{}`, 400, "invalid namespace name"},
		"unknown field":   {http.MethodPost, "/_mock/namespaces", `{"name":"x","colour":"red"}`, 400, "colour"},
		"bad strictness":  {http.MethodPost, "/_mock/namespaces", `{"name":"x","strictness":"loose"}`, 400, "strictness"},
		"exists":          {http.MethodPost, "/_mock/namespaces", `{"name":"ci-1"}`, 409, "exists"},
		"default exists":  {http.MethodPost, "/_mock/namespaces", `{"name":"default"}`, 409, "exists"},
		"delete unknown":  {http.MethodDelete, "/_mock/namespaces/nope", "", 404, "unknown namespace"},
		"delete default":  {http.MethodDelete, "/_mock/namespaces/default", "", 400, "reset it"},
		"delete invalid":  {http.MethodDelete, "/_mock/namespaces/A_B", "", 400, "invalid namespace name"},
		"unknown, header": {http.MethodGet, "/_mock/state", "", 404, "unknown namespace"},
	} {
		t.Run(name, func(t *testing.T) {
			var hdr map[string]string
			if name == "unknown, header" {
				hdr = map[string]string{mockserver.NamespaceHeader: "nope"}
			}
			st, raw := nsCall(t, srv, c.method, c.path, c.body, true, hdr)
			assert.Equal(t, c.status, st, "%s", raw)
			var e struct {
				Error string `json:"error"`
			}
			require.NoError(t, json.Unmarshal(raw, &e), "%s", raw)
			assert.Contains(t, e.Error, c.want)
			assert.Equal(t, []string{mockserver.DefaultNamespace, "ci-1"}, srv.Namespaces(), "nothing changed")
		})
	}

	// The control guard stands before the namespaces' routes.
	st, raw = nsCall(t, srv, http.MethodPost, "/_mock/namespaces", `{"name":"ci-2"}`, false, nil)
	assert.Equal(t, http.StatusForbidden, st, "%s", raw)
	assert.Equal(t, []string{mockserver.DefaultNamespace, "ci-1"}, srv.Namespaces())

	st, raw = nsCall(t, srv, http.MethodPost, "/_mock/namespaces", `{"name":"ci-2","demoFixture":false,"idSeed":"s2"}`, true, nil)
	require.Equal(t, http.StatusCreated, st, "%s", raw)
	var bare mockserver.NamespaceInfo
	require.NoError(t, json.Unmarshal(raw, &bare))
	assert.Empty(t, bare.DemoAccessKey, "no demo fixture, no demo keys")
	st, raw = nsCall(t, srv, http.MethodPost, "/_mock/namespaces", `{"name":"ci-3"}`, true, nil)
	assert.Equal(t, http.StatusTooManyRequests, st, "%s", raw)
	assert.Contains(t, string(raw), "the limit is 2")

	st, raw = nsCall(t, srv, http.MethodGet, "/_mock/namespaces", "", true, nil)
	require.Equal(t, http.StatusOK, st, "%s", raw)
	var list []mockserver.NamespaceInfo
	require.NoError(t, json.Unmarshal(raw, &list))
	require.Len(t, list, 3)
	assert.Equal(t, []string{"default", "ci-1", "ci-2"}, []string{list[0].Name, list[1].Name, list[2].Name})
	assert.Equal(t, mockserver.Strict, list[2].Strictness)

	st, raw = nsCall(t, srv, http.MethodDelete, "/_mock/namespaces/ci-1", "", true, nil)
	require.Equal(t, http.StatusOK, st, "%s", raw)
	assert.Equal(t, []string{mockserver.DefaultNamespace, "ci-2"}, srv.Namespaces())
	st, _ = nsCall(t, srv, http.MethodGet, "/ns/ci-1/_mock/state", "", true, nil)
	assert.Equal(t, http.StatusNotFound, st, "deleted: explicit namespaces are not made again on use")
	_, err := officialSTS(t, srv.HuaweiEndpoint(), ak, sk).GetCallerIdentity(&stsmodel.GetCallerIdentityRequest{})
	var se *sdkerr.ServiceResponseError
	require.ErrorAs(t, err, &se, "its keys went with it")
	assert.Equal(t, 404, se.StatusCode, "explicit namespaces: its key names an unknown one")
	assert.Contains(t, se.ErrorMessage, "unknown namespace")
	assert.Equal(t, []string{mockserver.DefaultNamespace, "ci-2"}, srv.Namespaces(), "and makes none")
}

// TestNamespaceBadInputInTheAPIsShape: a request naming a namespace
// badly is refused with 400 in the shape of the API it addresses
// (TrueWatch's envelope, Huawei's error, the control plane's), creating
// nothing.
func TestNamespaceBadInputInTheAPIsShape(t *testing.T) {
	srv := mockserver.Start(t)
	hdr := func(v string) map[string]string { return map[string]string{mockserver.NamespaceHeader: v} }

	st, raw := nsCall(t, srv, http.MethodPost, "/ns/Bad_Name/billing-center/api/v1/verification_code/send", `{}`, false, nil)
	assert.Equal(t, http.StatusBadRequest, st)
	var tw struct {
		Success bool   `json:"success"`
		Code    string `json:"errorCode"`
		Message string `json:"message"`
	}
	require.NoError(t, json.Unmarshal(raw, &tw), "%s", raw)
	assert.False(t, tw.Success)
	assert.Contains(t, tw.Message, "invalid namespace name", "%s", raw)

	st, raw = nsCall(t, srv, http.MethodGet, "/v3/auth/domains", "", false, hdr("-x"))
	assert.Equal(t, http.StatusBadRequest, st)
	var keystone struct { // IAM's Keystone error shape
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(raw, &keystone), "%s", raw)
	assert.Equal(t, 400, keystone.Error.Code, "%s", raw)
	assert.Contains(t, keystone.Error.Message, "invalid namespace name", "%s", raw)
	st, raw = nsCall(t, srv, http.MethodGet, "/v2/orders/customer-orders", "", false, hdr("-x"))
	assert.Equal(t, http.StatusBadRequest, st)
	var hw struct {
		Code string `json:"error_code"`
		Msg  string `json:"error_msg"`
	}
	require.NoError(t, json.Unmarshal(raw, &hw), "%s", raw)
	assert.NotEmpty(t, hw.Code, "%s", raw)
	assert.Contains(t, hw.Msg, "invalid namespace name", "%s", raw)

	st, raw = nsCall(t, srv, http.MethodGet, "/ns/one/_mock/state", "", true, hdr("two"))
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Contains(t, string(raw), "disagree")

	st, raw = nsCall(t, srv, http.MethodGet, "/_mock/state", "", true, hdr(strings.Repeat("a", 64)))
	assert.Equal(t, http.StatusBadRequest, st, "%s", raw)
	assert.Contains(t, string(raw), `"error"`)

	// A refused control request (no control header) creates nothing.
	st, _ = nsCall(t, srv, http.MethodPost, "/ns/made-by-page/_mock/reset", "", false, nil)
	assert.Equal(t, http.StatusForbidden, st)
	assert.Equal(t, []string{mockserver.DefaultNamespace}, srv.Namespaces())
}

// TestNamespaceExplicitUnknownOnTheAPIs: with WithExplicitNamespaces, an
// API call naming an unknown namespace is 404 in its API's shape and
// creates none; without it the namespace is made on first use.
func TestNamespaceExplicitUnknownOnTheAPIs(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithExplicitNamespaces())
	st, raw := nsCall(t, srv, http.MethodPost, "/ns/ghost/billing-center/api/v1/verification_code/send",
		`{"email":"a@example.com","purpose":"register"}`, false, nil)
	assert.Equal(t, http.StatusNotFound, st, "%s", raw)
	assert.Contains(t, string(raw), `"success":false`)
	assert.Contains(t, string(raw), "unknown namespace")
	_, err := srv.Namespace("ghost")
	assert.ErrorIs(t, err, mockserver.ErrUnknownNamespace)
	assert.Equal(t, []string{mockserver.DefaultNamespace}, srv.Namespaces())

	open := mockserver.Start(t)
	st, raw = nsCall(t, open, http.MethodPost, "/ns/fresh/billing-center/api/v1/verification_code/send",
		`{"email":"a@example.com","purpose":"register"}`, false, nil)
	assert.Equal(t, http.StatusOK, st, "%s", raw)
	fresh, err := open.Namespace("fresh")
	require.NoError(t, err)
	assert.Len(t, fresh.OutboxFor("a@example.com"), 1)
	assert.Empty(t, open.OutboxFor("a@example.com"))
}

// TestNamespaceStrictness: a Lenient namespace ignores unknown JSON
// fields and query parameters on the API halves; the default, strict,
// refuses them; a key spelled only case-insensitively like a known one is
// refused by both, and the control plane stays strict.
func TestNamespaceStrictness(t *testing.T) {
	srv := mockserver.Start(t)
	_, err := srv.CreateNamespace("loose", mockserver.WithNamespaceStrictness(mockserver.Lenient))
	require.NoError(t, err)
	assert.Equal(t, mockserver.Strict, srv.Strictness())
	send := "/billing-center/api/v1/verification_code/send"
	body := `{"email":"a@example.com","purpose":"register","extra":1}`

	st, raw := nsCall(t, srv, http.MethodPost, send, body, false, nil)
	assert.Equal(t, http.StatusBadRequest, st, "strict: %s", raw)
	st, raw = nsCall(t, srv, http.MethodPost, "/ns/loose"+send, body, false, nil)
	assert.Equal(t, http.StatusOK, st, "lenient: %s", raw)
	st, raw = nsCall(t, srv, http.MethodPost, "/ns/loose"+send+"?utm=1", `{"email":"b@example.com","purpose":"register"}`, false, nil)
	assert.Equal(t, http.StatusOK, st, "lenient query: %s", raw)
	st, raw = nsCall(t, srv, http.MethodPost, "/ns/loose"+send, `{"Email":"a@example.com","purpose":"register"}`, false, nil)
	assert.Equal(t, http.StatusBadRequest, st, "a known key in another case: %s", raw)
	st, raw = nsCall(t, srv, http.MethodPost, "/ns/loose/_mock/billing-accounts", `{"username":"u","email":"u@example.com","x":1}`, true, nil)
	assert.Equal(t, http.StatusBadRequest, st, "the control plane stays strict: %s", raw)

	lenient := mockserver.Start(t, mockserver.WithStrictness(mockserver.Lenient))
	st, raw = nsCall(t, lenient, http.MethodPost, send, body, false, nil)
	assert.Equal(t, http.StatusOK, st, "WithStrictness: %s", raw)
	_, err = mockserver.New(mockserver.WithStrictness("loose"))
	assert.Error(t, err)
}

// TestNamespacesPersist: the state file holds every namespace; a restart
// brings each back with its state, options, clock and keys.
func TestNamespacesPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	srv, err := mockserver.New(mockserver.WithStateFile(path))
	require.NoError(t, err)
	a, err := srv.CreateNamespace("keep-a", mockserver.WithNamespaceStrictness(mockserver.Lenient))
	require.NoError(t, err)
	reg := activate(t, a, "ada")
	_, err = a.AdvanceClock(context.Background(), 48*time.Hour)
	require.NoError(t, err)
	_, err = srv.CreateNamespace("keep-b", mockserver.WithNamespaceDemoFixture(false))
	require.NoError(t, err)
	require.NoError(t, srv.Stop())

	srv, err = mockserver.New(mockserver.WithStateFile(path))
	require.NoError(t, err)
	defer srv.Close()
	assert.Equal(t, []string{mockserver.DefaultNamespace, "keep-a", "keep-b"}, srv.Namespaces())
	a, err = srv.Namespace("keep-a")
	require.NoError(t, err)
	require.Len(t, a.Snapshot().BillingAccounts, 1)
	assert.Equal(t, reg.BillingAccount.ID, a.Snapshot().BillingAccounts[0].ID)
	assert.Equal(t, mockserver.Lenient, a.Strictness())
	assert.WithinDuration(t, time.Now().Add(48*time.Hour), a.Now(), time.Minute, "its clock came back moved")
	assert.WithinDuration(t, time.Now(), srv.Now(), time.Minute)
	b, err := srv.Namespace("keep-b")
	require.NoError(t, err)
	assert.Empty(t, b.Snapshot().Purchases, "no demo fixture")
	ak, sk := mockserver.DemoKeysFor("keep-a")
	_, err = officialSTS(t, srv.HuaweiEndpoint(), ak, sk).GetCallerIdentity(&stsmodel.GetCallerIdentityRequest{})
	require.NoError(t, err, "its keys route to it again")
	require.NoError(t, b.Reset())
	assert.Empty(t, b.Snapshot().Purchases, "reset keeps the namespace's options")
}

// TestNamespaceFixtures: a fixture loads into one namespace over its
// control plane, its access keys then reach that namespace, Reset goes
// back to it there only, and the same keys in a second namespace are
// refused with 409, changing nothing there.
func TestNamespaceFixtures(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("..", "examples", "fixtures", "acme.json"))
	require.NoError(t, err)
	srv := mockserver.Start(t)
	st, raw := nsCall(t, srv, http.MethodPost, "/ns/fx-a/_mock/fixture", string(fixture), true, nil)
	require.Equal(t, http.StatusOK, st, "%s", raw)
	a, err := srv.Namespace("fx-a")
	require.NoError(t, err)
	want := a.Snapshot()
	require.NotEmpty(t, want.BillingAccounts)
	assert.Empty(t, srv.Snapshot().BillingAccounts, "not in the default")

	const acmeAK, acmeSK = "ACMEAKFIXTURE00000001", "acme-fixture-secret-key-not-for-production"
	id, err := officialSTS(t, srv.HuaweiEndpoint(), acmeAK, acmeSK).GetCallerIdentity(&stsmodel.GetCallerIdentityRequest{})
	require.NoError(t, err, "the fixture's key reaches fx-a")
	assert.Equal(t, "1f2e3d4c5b6a47988796a5b4c3d2e1f0", *id.AccountId)

	b, err := srv.Namespace("fx-b")
	require.NoError(t, err)
	before := b.Snapshot()
	st, raw = nsCall(t, srv, http.MethodPost, "/ns/fx-b/_mock/fixture", string(fixture), true, nil)
	assert.Equal(t, http.StatusConflict, st, "%s", raw)
	assert.Contains(t, string(raw), `namespace \"fx-a\"`)
	assert.NotContains(t, string(raw), acmeSK)
	assert.Equal(t, before, b.Snapshot(), "nothing changed in fx-b")

	_, err = a.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "extra", Email: "extra@example.com"})
	require.NoError(t, err)
	st, raw = nsCall(t, srv, http.MethodPost, "/_mock/reset", "", true, map[string]string{mockserver.NamespaceHeader: "fx-a"})
	require.Equal(t, http.StatusOK, st, "%s", raw)
	assert.Equal(t, len(want.BillingAccounts), len(a.Snapshot().BillingAccounts), "reset went back to fx-a's fixture")
	_, err = officialSTS(t, srv.HuaweiEndpoint(), acmeAK, acmeSK).GetCallerIdentity(&stsmodel.GetCallerIdentityRequest{})
	require.NoError(t, err, "and kept its keys")
}

// TestNamespaceLimitAndConflictOnTheAPIs: making a namespace on first use
// past the limit is 429, and one whose demo access key another namespace
// holds is 409, each in the addressed API's shape with the mock's code,
// creating nothing.
func TestNamespaceLimitAndConflictOnTheAPIs(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithMaxNamespaces(1))
	send := "/billing-center/api/v1/verification_code/send"
	body := `{"email":"a@example.com","purpose":"register"}`
	st, raw := nsCall(t, srv, http.MethodPost, "/ns/first"+send, body, false, nil)
	require.Equal(t, http.StatusOK, st, "%s", raw)

	st, raw = nsCall(t, srv, http.MethodPost, "/ns/second"+send, body, false, nil)
	assert.Equal(t, http.StatusTooManyRequests, st, "%s", raw)
	assert.Contains(t, string(raw), `"errorCode":"ft.MockNamespaceLimit"`)
	ak, sk := mockserver.DemoKeysFor("second")
	_, err := officialSTS(t, srv.HuaweiEndpoint(), ak, sk).GetCallerIdentity(&stsmodel.GetCallerIdentityRequest{})
	var se *sdkerr.ServiceResponseError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 429, se.StatusCode)
	assert.Equal(t, "MOCK.0429", se.ErrorCode)
	assert.Equal(t, []string{mockserver.DefaultNamespace, "first"}, srv.Namespaces())

	require.NoError(t, srv.DeleteNamespace("first"))
	taken, _ := mockserver.DemoKeysFor("taken")
	require.NoError(t, srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: "00112233445566778899aabbccddeeff", Name: "squatter",
		Keys: []mockserver.AccessKey{{AK: taken, SK: "whatever-secret"}}}))
	st, raw = nsCall(t, srv, http.MethodPost, "/ns/taken"+send, body, false, nil)
	assert.Equal(t, http.StatusConflict, st, "%s", raw)
	assert.Contains(t, string(raw), `"errorCode":"ft.MockNamespaceConflict"`)
	assert.NotContains(t, string(raw), "whatever-secret")
	assert.Equal(t, []string{mockserver.DefaultNamespace}, srv.Namespaces())
}

// A web page can send simple GETs to a mock on the same machine (it cannot
// read the answers); were namespaces made on their first use by them, a
// page could fill the namespace limit. A request from a browser on another
// origin, or to a host name rebound to the mock, uses a namespace that
// exists but creates none.
func TestNamespaceNotCreatedByAnotherOriginsPage(t *testing.T) {
	srv := mockserver.Start(t)
	send := func(name string, edit func(*http.Request)) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL()+"/ns/"+name+"/billing-center"+routes.GetSubscription+"?huaweiAccountId=x&instanceId=y", nil)
		require.NoError(t, err)
		edit(req)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(raw)
	}
	host := strings.TrimPrefix(srv.URL(), "http://")
	_, port, err := net.SplitHostPort(host)
	require.NoError(t, err)
	pages := map[string]func(*http.Request){
		"origin":     func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") },
		"fetch-site": func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") },
		"rebound": func(r *http.Request) {
			r.Host = "evil.example:" + port
			r.Header.Set("Origin", "http://evil.example:"+port)
		},
	}
	for name, edit := range pages {
		st, raw := send("page-"+name, edit)
		assert.Equal(t, http.StatusForbidden, st, "%s: %s", name, raw)
		assert.Contains(t, raw, apierror.CodeForbidden, name)
		assert.Contains(t, raw, "creates no namespace", name)
	}
	assert.Equal(t, []string{mockserver.DefaultNamespace}, srv.Namespaces(), "no page made a namespace")

	st, raw := send("made-here", func(*http.Request) {})
	assert.NotEqual(t, http.StatusForbidden, st, raw)
	assert.Contains(t, srv.Namespaces(), "made-here", "a client that is no web page makes it on first use")
	st, raw = send("made-here", pages["origin"])
	assert.NotEqual(t, http.StatusForbidden, st, "a namespace that exists is served as the default one is: %s", raw)
}
