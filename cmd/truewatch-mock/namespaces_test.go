package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// nsSuite is one test suite's view of the shared binary: its namespace,
// reached by the path prefix (the TrueWatch half, the control plane) and
// by its demo access key (the Huawei SDK, which sets neither).
type nsSuite struct {
	t      *testing.T
	base   string // the binary's root URL
	name   string
	ak, sk string
}

// do sends a control request to the suite's namespace (under /ns/{name};
// the default namespace without a name) and returns the status and body.
func (s nsSuite) do(method, path, body string) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	prefix := ""
	if s.name != "" {
		prefix = "/ns/" + s.name
	}
	req, err := http.NewRequest(method, s.base+prefix+path, rd)
	require.NoError(s.t, err)
	req.Header.Set(mockserver.ControlHeader, "1")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, raw
}

func (s nsSuite) control(method, path, body string, v any) {
	s.t.Helper()
	st, raw := s.do(method, path, body)
	require.Less(s.t, st, 300, "%s %s in %s: %s", method, path, s.name, raw)
	if v != nil {
		require.NoError(s.t, json.Unmarshal(raw, v), "%s", raw)
	}
}

// clients are the SDK's: the Huawei client (the official Huawei SDK
// underneath) at the binary's root with the namespace's keys, and the
// Billing Center client under the namespace's prefix, proving ownership
// with the Huawei client.
func (s nsSuite) clients() (*huawei.Client, *billing.Client) {
	s.t.Helper()
	hw, err := huawei.NewClient(huawei.WithCredentials(s.ak, secret.String(s.sk)), huawei.WithEndpoint(s.base))
	require.NoError(s.t, err)
	bc, err := billing.NewClient(billing.WithBaseURL(s.base+"/ns/"+s.name+routes.MockBillingPrefix), billing.WithOwnershipProver(hw))
	require.NoError(s.t, err)
	return hw, bc
}

func (s nsSuite) code(email string, purpose billing.Purpose) secret.String {
	s.t.Helper()
	var mails []mockserver.Email
	s.control(http.MethodGet, "/_mock/outbox?email="+url.QueryEscape(email), "", &mails)
	for i := len(mails) - 1; i >= 0; i-- {
		if mails[i].Purpose == purpose {
			return secret.String(mails[i].Code)
		}
	}
	s.t.Fatalf("no %s code for %s in %s", purpose, email, s.name)
	return ""
}

// activate runs an activation through the SDK: the Huawei account read
// with its keys, a code sent and read from the outbox, a tenant
// registered on the demo purchase; every suite uses the same username and
// email, which one shared state would refuse the second time.
func (s nsSuite) activate(ctx context.Context) *billing.RegisterResult {
	s.t.Helper()
	hw, bc := s.clients()
	acc, err := hw.AccountID(ctx)
	require.NoError(s.t, err, "the Huawei SDK reached %s by its access key", s.name)
	require.Equal(s.t, mockserver.DemoHuaweiAccountID, acc.ID)
	_, err = bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "ops@example.com", Purpose: billing.PurposeRegister})
	require.NoError(s.t, err)
	reg, err := bc.Register(ctx, &billing.RegisterRequest{Site: site.AP1, Username: "ops", Password: "Sup3r-secret",
		Email: "ops@example.com", EmailCode: s.code("ops@example.com", billing.PurposeRegister),
		Company: billing.Company{Name: s.name + " Ltd"}, WorkspaceName: s.name, WorkspaceLanguage: twapi.LanguageEN,
		HuaweiAccountID: acc.ID, InstanceID: mockserver.DemoInstanceID, TermsAccepted: true})
	require.NoError(s.t, err)
	return reg
}

func (s nsSuite) subscription(ctx context.Context) error {
	_, bc := s.clients()
	_, err := bc.GetSubscription(ctx, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	return err
}

func (s nsSuite) now() time.Time {
	s.t.Helper()
	var h struct {
		Time time.Time `json:"time"`
	}
	s.control(http.MethodGet, "/_mock/health", "", &h)
	return h.Time
}

func (s nsSuite) state() mockserver.Snapshot {
	s.t.Helper()
	var snap mockserver.Snapshot
	s.control(http.MethodGet, "/_mock/state", "", &snap)
	return snap
}

// TestTwoSuitesShareOneBinary is the "done when": ONE
// truewatch-mock binary, two suites run in parallel in two namespaces,
// each a whole activation through the SDK (the official Huawei SDK
// reaching its namespace by its access key). Suite "alpha" creates its
// namespace over the control plane and has a fault injected; suite
// "beta" is made on first use, has its clock moved a month and is reset.
// Each checks, while the other's fault, clock and reset are in place,
// that it sees none of them, and neither sees the other's state.
func TestTwoSuitesShareOneBinary(t *testing.T) {
	p := startBinary(t, buildBinary(t), "-addr", "127.0.0.1:0")
	ctx := context.Background()
	var info mockserver.NamespaceInfo
	st, raw := nsSuite{t: t, base: p.base}.do(http.MethodPost, "/_mock/namespaces", `{"name":"alpha"}`)
	require.Equal(t, http.StatusCreated, st, "%s", raw)
	require.NoError(t, json.Unmarshal(raw, &info))
	ak, sk := mockserver.DemoKeysFor("alpha")
	require.Equal(t, ak, info.DemoAccessKey, "the answer gives the keys the SDK needs")
	require.Equal(t, sk, info.DemoSecretKey)
	require.Equal(t, p.base, info.HuaweiEndpoint)

	// The suites meet at these points, so that each checks while the
	// other's fault, clock and reset are in place.
	faulted, clockMoved, betaReset := make(chan struct{}), make(chan struct{}), make(chan struct{})
	alphaChecked, betaChecked := make(chan struct{}), make(chan struct{})
	wait := func(t *testing.T, c chan struct{}) {
		select {
		case <-c:
		case <-time.After(30 * time.Second):
			t.Fatal("the other suite did not get there")
		}
	}
	var regAlpha, regBeta *billing.RegisterResult // each written by its suite only
	var start time.Time
	t.Run("suites", func(t *testing.T) {
		t.Run("alpha", func(t *testing.T) {
			t.Parallel()
			s := nsSuite{t: t, base: p.base, name: "alpha", ak: info.DemoAccessKey, sk: info.DemoSecretKey}
			start = s.now()
			regAlpha = s.activate(ctx)
			s.control(http.MethodPost, "/_mock/faults", `{"name":"sub-down","operation":"billing.GetSubscription","status":503,"times":1000}`, nil)
			require.Error(t, s.subscription(ctx), "alpha's own fault fires")
			close(faulted)

			wait(t, clockMoved)
			assert.WithinDuration(t, start, s.now(), 5*time.Minute, "beta's clock did not move alpha's")
			wait(t, betaReset)
			snap := s.state()
			require.Len(t, snap.BillingAccounts, 1, "beta's reset left alpha's tenant")
			assert.Equal(t, regAlpha.BillingAccount.ID, snap.BillingAccounts[0].ID)
			s.control(http.MethodDelete, "/_mock/faults/sub-down", "", nil)
			require.NoError(t, s.subscription(ctx))
			close(alphaChecked)
			wait(t, betaChecked)
		})
		t.Run("beta", func(t *testing.T) {
			t.Parallel()
			ak, sk := mockserver.DemoKeysFor("beta")
			s := nsSuite{t: t, base: p.base, name: "beta", ak: ak, sk: sk}
			regBeta = s.activate(ctx)
			wait(t, faulted)
			require.NoError(t, s.subscription(ctx), "alpha's fault does not fire in beta")

			before := s.now()
			s.control(http.MethodPost, "/_mock/clock", `{"advance":"720h"}`, nil)
			assert.WithinDuration(t, before.Add(720*time.Hour), s.now(), 5*time.Minute)
			close(clockMoved)

			s.control(http.MethodPost, "/_mock/reset", "", nil)
			assert.Empty(t, s.state().BillingAccounts, "beta's reset emptied beta")
			close(betaReset)
			wait(t, alphaChecked)
			var faults []mockserver.FaultStatus
			s.control(http.MethodGet, "/_mock/faults", "", &faults)
			assert.Empty(t, faults, "beta never had alpha's fault")
			close(betaChecked)
		})
	})
	require.False(t, t.Failed())
	// Different ID seeds: the two tenants' IDs differ although the calls
	// were the same.
	assert.NotEqual(t, regAlpha.BillingAccount.ID, regBeta.BillingAccount.ID)

	root := nsSuite{t: t, base: p.base}
	st, raw = root.do(http.MethodGet, "/_mock/state", "")
	require.Equal(t, http.StatusOK, st)
	var snap mockserver.Snapshot
	require.NoError(t, json.Unmarshal(raw, &snap))
	assert.Empty(t, snap.BillingAccounts, "the default namespace saw neither suite")
	st, raw = root.do(http.MethodGet, "/_mock/requests?operation=billing.Register", "")
	require.Equal(t, http.StatusOK, st)
	assert.JSONEq(t, `[]`, string(raw), "nor journaled their calls")
	var journal []mockserver.RecordedRequest
	nsSuite{t: t, base: p.base, name: "alpha"}.control(http.MethodGet, "/_mock/requests?operation=billing.Register", "", &journal)
	require.Len(t, journal, 1)
	assert.Equal(t, "alpha", journal[0].Namespace)
	var list []mockserver.NamespaceInfo
	st, raw = root.do(http.MethodGet, "/_mock/namespaces", "")
	require.Equal(t, http.StatusOK, st)
	require.NoError(t, json.Unmarshal(raw, &list))
	names := []string{}
	for _, n := range list {
		names = append(names, n.Name)
	}
	assert.Equal(t, []string{"default", "alpha", "beta"}, names)
	p.stop(t)
}
