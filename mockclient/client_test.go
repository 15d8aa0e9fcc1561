package mockclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/api"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/ctlcontract"
	"github.com/truewatch-labs/marketplace-go/mockclient"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// env is a mock server on a listener, its contract, and a client whose
// traffic goes through a recorder validating it against
// api/control.openapi.yaml.
type env struct {
	t   *testing.T
	ctx context.Context
	srv *mockserver.Server
	rec *ctlcontract.Recorder
	mc  *mockclient.Client
	hc  *http.Client // through the recorder, for hand-built requests
}

func newEnv(t *testing.T, token string, opts ...mockserver.Option) *env {
	t.Helper()
	if token != "" {
		opts = append(opts, mockserver.WithControlToken(token))
	}
	srv := mockserver.Start(t, opts...)
	c, err := ctlcontract.New(srv.URL(), token)
	require.NoError(t, err)
	rec := ctlcontract.NewRecorder(c, http.DefaultTransport)
	hc := &http.Client{Transport: rec}
	copts := []mockclient.Option{mockclient.WithHTTPClient(hc)}
	if token != "" {
		copts = append(copts, mockclient.WithControlToken(secret.String(token)))
	}
	mc, err := mockclient.New(srv.URL(), copts...)
	require.NoError(t, err)
	return &env{t: t, ctx: context.Background(), srv: srv, rec: rec, mc: mc, hc: hc}
}

// status asserts that err is a *mockclient.Error with the status.
func status(t *testing.T, want int, err error, msgAndArgs ...any) {
	t.Helper()
	var e *mockclient.Error
	if assert.True(t, errors.As(err, &e), "want a *mockclient.Error with %d, got %v %v", want, err, msgAndArgs) {
		assert.Equal(t, want, e.StatusCode, "%v: %v", err, msgAndArgs)
		assert.NotEmpty(t, e.Message)
	}
}

// raw sends a hand-built control request through the recorder.
func (e *env) raw(method, path, contentType, body string, mods ...func(*http.Request)) int {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL()+path, strings.NewReader(body))
	require.NoError(e.t, err)
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set(mockclient.ControlHeader, "1")
	for _, m := range mods {
		m(req)
	}
	resp, err := e.hc.Do(req)
	require.NoError(e.t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// sameJSON asserts that want and got encode to the same JSON: the wire
// form, where times from the server and from the answer compare equal.
func sameJSON(t *testing.T, want, got any, msgAndArgs ...any) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(w), string(g), msgAndArgs...)
}

func (e *env) noProblems() {
	e.t.Helper()
	assert.Empty(e.t, e.rec.Problems(), "contract violations")
}

// TestControlPlane runs every method of the client against a real mock,
// each success and the errors the document gives its operation, then the
// guard's refusals of every documented operation; every request and
// answer is validated against api/control.openapi.yaml, and every
// documented operation and status must have been exercised.
func TestControlPlane(t *testing.T) {
	e := newEnv(t, "", mockserver.WithMaxNamespaces(2))
	t.Run("basics", e.basics)
	t.Run("seeding", e.seeding)
	t.Run("outbox and journal", e.outboxAndJournal)
	t.Run("faults", e.faults)
	t.Run("clock", e.clock)
	t.Run("marketplace", e.marketplace)
	t.Run("lifecycle", e.lifecycle)
	t.Run("joint service", e.joint)
	t.Run("namespaces", e.namespaces)
	t.Run("reset", e.reset)
	_, err := e.mc.SaveState(e.ctx)
	status(t, http.StatusConflict, err, "no state file")
	e.noProblems()

	var p *env
	t.Run("fixtures and the state file", func(t *testing.T) { p = persistence(t); p.noProblems() })
	require.NotNil(t, p)
	guards := guardRefusals(t)
	doc, err := ctlcontract.Load()
	require.NoError(t, err)
	assert.Empty(t, ctlcontract.Unexercised(doc, e.rec, guards.rec, p.rec),
		"documented operations and statuses no test exercised: exercise them here, or take them out of api/control.openapi.yaml")
}

func (e *env) basics(t *testing.T) {
	h, err := e.mc.Health(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, "ok", h.Status)
	assert.WithinDuration(t, e.srv.Now(), h.Time, 2*time.Second)

	spec, err := e.mc.ControlSpec(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, api.ControlSpec(), spec)
	spec, err = e.mc.ContractSpec(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, api.Spec(), spec)

	ops, err := e.mc.Operations(e.ctx)
	require.NoError(t, err)
	sameJSON(t, e.srv.Operations(), ops)

	st, err := e.mc.State(e.ctx)
	require.NoError(t, err)
	sameJSON(t, e.srv.Snapshot(), st)
	require.Len(t, st.Purchases, 1)
	assert.Equal(t, mockserver.DemoInstanceID, st.Purchases[0].InstanceID)
	ps, err := e.mc.Purchases(e.ctx)
	require.NoError(t, err)
	sameJSON(t, e.srv.Purchases(), ps)
}

const buyer = "1b2c3d4e5f60718293a4b5c6d7e8f901"

func (e *env) seeding(t *testing.T) {
	id, err := e.mc.AddHuaweiAccount(e.ctx, mockserver.HuaweiAccount{ID: buyer, Name: "buyer",
		Keys: []mockserver.AccessKey{{AK: "BUYERAK0000000000001", SK: "buyer-secret"}}})
	require.NoError(t, err)
	assert.Equal(t, buyer, id)
	_, err = e.mc.AddHuaweiAccount(e.ctx, mockserver.HuaweiAccount{ID: buyer})
	status(t, http.StatusConflict, err, "taken")
	_, err = e.mc.AddHuaweiAccount(e.ctx, mockserver.HuaweiAccount{ID: "not-hex"})
	status(t, http.StatusBadRequest, err)

	p, err := e.mc.AddPurchase(e.ctx, mockserver.Purchase{AccountID: buyer, InstanceID: "inst-seeded-1"})
	require.NoError(t, err)
	assert.Equal(t, mockserver.PurchaseInUse, p.Status, "defaults filled in")
	assert.Equal(t, "inst-seeded-1", p.ResourceID)
	_, err = e.mc.AddPurchase(e.ctx, mockserver.Purchase{AccountID: buyer, InstanceID: "inst-seeded-1"})
	status(t, http.StatusConflict, err)
	_, err = e.mc.AddPurchase(e.ctx, mockserver.Purchase{AccountID: buyer})
	status(t, http.StatusBadRequest, err, "no instance ID")

	ba, err := e.mc.SeedBillingAccount(e.ctx, mockserver.BillingAccountSeed{Username: "acme", Email: "ops@acme.example"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(ba.ID, "bcac_"), ba.ID)
	_, err = e.mc.SeedBillingAccount(e.ctx, mockserver.BillingAccountSeed{Username: "ACME", Email: "other@acme.example"})
	status(t, http.StatusConflict, err)
	_, err = e.mc.SeedBillingAccount(e.ctx, mockserver.BillingAccountSeed{Username: "x", Email: "not an email"})
	status(t, http.StatusBadRequest, err)

	acct, err := e.mc.SeedAccount(e.ctx, mockserver.AccountSeed{Site: "us1", Username: "acme", Email: "ops@acme.example"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(acct.ID, "acnt_"), acct.ID)
	_, err = e.mc.SeedAccount(e.ctx, mockserver.AccountSeed{Site: "us1", Username: "acme", Email: "b@acme.example"})
	status(t, http.StatusConflict, err)
	_, err = e.mc.SeedAccount(e.ctx, mockserver.AccountSeed{Site: "mars", Username: "acme", Email: "b@acme.example"})
	status(t, http.StatusBadRequest, err)

	ws, err := e.mc.SeedWorkspace(e.ctx, mockserver.WorkspaceSeed{OwnerAccountID: acct.ID, Name: "prod", BillingAccountID: ba.ID})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(ws.ID, "wksp_"), ws.ID)
	_, err = e.mc.SeedWorkspace(e.ctx, mockserver.WorkspaceSeed{OwnerAccountID: acct.ID, Name: "prod"})
	status(t, http.StatusConflict, err, "name taken")
	_, err = e.mc.SeedWorkspace(e.ctx, mockserver.WorkspaceSeed{OwnerAccountID: "acnt_00000000000000000000000000000000", Name: "x"})
	status(t, http.StatusBadRequest, err, "unknown owner")
	_, err = e.mc.SeedWorkspace(e.ctx, mockserver.WorkspaceSeed{OwnerAccountID: acct.ID, Name: "x",
		Settlement: twapi.Settlement{Method: "huaweicloud", HuaweiAccountID: buyer, InstanceID: "no-such-instance"}})
	status(t, http.StatusBadRequest, err, "unknown purchase")
	_, err = e.mc.SeedWorkspace(e.ctx, mockserver.WorkspaceSeed{OwnerAccountID: acct.ID})
	status(t, http.StatusBadRequest, err, "no name")

	b, err := e.mc.SeedBinding(e.ctx, mockserver.BindingSeed{BillingAccountID: ba.ID, HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(b.Token, "bctk_"), "the token in clear")
	assert.Equal(t, ba.ID, e.srv.Snapshot().Subscriptions[0].BillingAccountID)
	other, err := e.mc.SeedBillingAccount(e.ctx, mockserver.BillingAccountSeed{Username: "other", Email: "ops@other.example"})
	require.NoError(t, err)
	_, err = e.mc.SeedBinding(e.ctx, mockserver.BindingSeed{BillingAccountID: other.ID, HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID})
	status(t, http.StatusConflict, err, "one Billing Center account per subscription")
	_, err = e.mc.SeedBinding(e.ctx, mockserver.BindingSeed{BillingAccountID: ba.ID, HuaweiAccountID: buyer, InstanceID: "no-such-instance"})
	status(t, http.StatusNotFound, err)
	_, err = e.mc.SeedBinding(e.ctx, mockserver.BindingSeed{BillingAccountID: "not-an-id", HuaweiAccountID: "x", InstanceID: "y"})
	status(t, http.StatusBadRequest, err)

	// Unlocking a locked workspace.
	locked, err := e.mc.SeedWorkspace(e.ctx, mockserver.WorkspaceSeed{OwnerAccountID: acct.ID, Name: "locked", IsLocked: true})
	require.NoError(t, err)
	require.True(t, locked.IsLocked)
	unlocked, err := e.mc.UnlockWorkspace(e.ctx, locked.ID)
	require.NoError(t, err)
	assert.False(t, unlocked.IsLocked)
	_, err = e.mc.UnlockWorkspace(e.ctx, "wksp_00000000000000000000000000000000")
	status(t, http.StatusNotFound, err)
}

func (e *env) outboxAndJournal(t *testing.T) {
	bc, err := e.srv.BillingClient()
	require.NoError(t, err)
	_, err = bc.SendVerificationCode(e.ctx, &billing.SendCodeRequest{Email: "ops@acme.example", Purpose: billing.PurposeBindBillingAccount})
	require.NoError(t, err)

	all, err := e.mc.Outbox(e.ctx)
	require.NoError(t, err)
	sameJSON(t, e.srv.Outbox(), all)
	mine, err := e.mc.OutboxFor(e.ctx, "OPS@acme.example")
	require.NoError(t, err)
	require.Len(t, mine, 1)
	code, ok, err := e.mc.LatestCode(e.ctx, "ops@acme.example", billing.PurposeBindBillingAccount)
	require.NoError(t, err)
	want, _ := e.srv.LatestCode("ops@acme.example", billing.PurposeBindBillingAccount)
	assert.True(t, ok)
	assert.Equal(t, want, code)
	assert.Len(t, code, 6)
	_, ok, err = e.mc.LatestCode(e.ctx, "ops@acme.example", billing.PurposeRegister)
	require.NoError(t, err)
	assert.False(t, ok, "no code for that purpose")
	assert.Equal(t, http.StatusBadRequest, e.raw(http.MethodGet, "/_mock/outbox?mail=x", "", ""), "unknown query parameter")

	// The journal, with each filter.
	since := e.srv.Now()
	_, err = bc.GetSubscription(e.ctx, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	require.NoError(t, err)
	reqs, err := e.mc.Requests(e.ctx, mockserver.RequestFilter{})
	require.NoError(t, err)
	sameJSON(t, e.srv.Requests(mockserver.RequestFilter{}), reqs)
	require.NotEmpty(t, reqs)
	last := reqs[len(reqs)-1]
	for _, f := range []mockserver.RequestFilter{{Operation: last.Operation}, {Status: last.Status}, {PathPrefix: "/billing-center/"},
		{Since: since}, {Limit: 1}} {
		got, err := e.mc.Requests(e.ctx, f)
		require.NoError(t, err, "%+v", f)
		sameJSON(t, e.srv.Requests(f), got, "%+v", f)
		assert.Contains(t, got, last, "%+v", f)
	}
	got, err := e.mc.Requests(e.ctx, mockserver.RequestFilter{TraceID: strings.Repeat("ab", 16)})
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = e.mc.Requests(e.ctx, mockserver.RequestFilter{Status: 42})
	status(t, http.StatusBadRequest, err)
	require.NoError(t, e.mc.ClearRequests(e.ctx))
	got, err = e.mc.Requests(e.ctx, mockserver.RequestFilter{})
	require.NoError(t, err)
	assert.Empty(t, got)
}

func (e *env) faults(t *testing.T) {
	id, err := e.mc.InjectFault(e.ctx, mockserver.Fault{Operation: "billing.GetSubscription", Status: 503, RetryAfter: 1500 * time.Millisecond})
	require.NoError(t, err)
	fs, err := e.mc.Faults(e.ctx)
	require.NoError(t, err)
	require.Len(t, fs, 1)
	assert.Equal(t, id, fs[0].ID)
	assert.Equal(t, 1500*time.Millisecond, fs[0].RetryAfter, "durations round-trip")
	resp, err := http.Get(e.srv.BillingURL() + "/api/v1/subscription/get?huaweiAccountId=" + mockserver.DemoHuaweiAccountID +
		"&instanceId=" + mockserver.DemoInstanceID)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	fs, err = e.mc.Faults(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, fs[0].Hits)
	require.NoError(t, e.mc.RemoveFault(e.ctx, id))
	status(t, http.StatusNotFound, e.mc.RemoveFault(e.ctx, id), "gone")
	_, err = e.mc.InjectFault(e.ctx, mockserver.Fault{Operation: "billing.GetSubscription", Path: "/v3/auth/domains"})
	status(t, http.StatusBadRequest, err, "operation and path")
	_, err = e.mc.InjectFault(e.ctx, mockserver.Fault{Path: "/v3/auth/domains", Delay: time.Hour})
	require.NoError(t, err)
	require.NoError(t, e.mc.ClearFaults(e.ctx))
	fs, err = e.mc.Faults(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, fs)
	e.richFaults(t)
}

// richFaults: a script added atomically, names, header and access-key
// matching, probabilities, latencies and seeds over the wire, and the
// refusals with their pointers.
func (e *env) richFaults(t *testing.T) {
	script := []mockserver.Fault{
		{Operation: "billing.GetSubscription", Name: "tenant-a", Headers: map[string]string{"x-test-run": "a"}, Status: 502},
		{Operation: "iam.KeystoneListAuthDomains", AccessKey: "BUYERAK0000000000001", Probability: 0.5, Seed: 7,
			Latency: &mockserver.Latency{Distribution: mockserver.LatencyUniform, Min: time.Millisecond, Max: 2 * time.Millisecond}},
	}
	ids, err := e.mc.InjectFaults(e.ctx, script...)
	require.NoError(t, err)
	require.Len(t, ids, 2)
	fs, err := e.mc.Faults(e.ctx)
	require.NoError(t, err)
	sameJSON(t, e.srv.Faults(), fs)
	require.Len(t, fs, 2)
	assert.Equal(t, ids, []string{fs[0].ID, fs[1].ID})
	assert.Equal(t, map[string]string{"X-Test-Run": "a"}, fs[0].Headers, "names canonical")
	assert.Equal(t, "tenant-a", fs[0].Name)
	assert.Equal(t, 0.5, fs[1].Probability)
	assert.Equal(t, uint64(7), fs[1].Seed)
	assert.Equal(t, script[1].Latency, fs[1].Latency, "latencies round-trip")
	assert.Equal(t, "BUYERAK0000000000001", fs[1].AccessKey)

	get := func(run string) int {
		req, err := http.NewRequest(http.MethodGet, e.srv.BillingURL()+"/api/v1/subscription/get?huaweiAccountId="+
			mockserver.DemoHuaweiAccountID+"&instanceId="+mockserver.DemoInstanceID, nil)
		require.NoError(t, err)
		if run != "" {
			req.Header.Set("X-Test-Run", run)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, get("b"), "another header value")
	assert.Equal(t, http.StatusOK, get(""), "no header")
	assert.Equal(t, http.StatusBadGateway, get("a"))
	fs, err = e.mc.Faults(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, fs[0].Hits)

	// Refusals: nothing added, the pointer names the fault and field.
	_, err = e.mc.InjectFaults(e.ctx, mockserver.Fault{Path: "/v3/auth/domains"}, mockserver.Fault{Path: "/v3/auth/domains", Probability: 2})
	status(t, http.StatusBadRequest, err, "probability out of range")
	var me *mockclient.Error
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "/1/probability", me.Pointer)
	_, err = e.mc.InjectFaults(e.ctx, mockserver.Fault{Path: "/v3/auth/domains", Name: "fresh"}, mockserver.Fault{Path: "/v3/auth/domains", Name: "tenant-a"})
	status(t, http.StatusConflict, err, "a name in place")
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "/1/name", me.Pointer)
	_, err = e.mc.InjectFault(e.ctx, mockserver.Fault{Path: "/v3/auth/domains", Name: "tenant-a"})
	status(t, http.StatusConflict, err, "a name in place")
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "/name", me.Pointer)
	_, err = e.mc.InjectFault(e.ctx, mockserver.Fault{Path: "/v3/auth/domains", Name: "fault-9"})
	status(t, http.StatusBadRequest, err, "a name of an ID's form")
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "/name", me.Pointer)
	_, err = e.mc.InjectFaults(e.ctx)
	require.Error(t, err, "an empty script is refused before sending")
	assert.Equal(t, http.StatusBadRequest, e.raw(http.MethodPost, "/_mock/faults", "application/json", `[]`), "an empty script")
	assert.Equal(t, http.StatusBadRequest, e.raw(http.MethodPost, "/_mock/faults", "application/json",
		`[{"path":"/v3/auth/domains"},{"path":"/v3/auth/domains","zzUnknown":1}]`), "an unknown key in a script")
	fs, err = e.mc.Faults(e.ctx)
	require.NoError(t, err)
	assert.Len(t, fs, 2, "no refused script added anything")

	require.NoError(t, e.mc.RemoveFault(e.ctx, "tenant-a"), "by name")
	status(t, http.StatusNotFound, e.mc.RemoveFault(e.ctx, "tenant-a"), "gone")
	assert.Equal(t, http.StatusOK, get("a"))
	require.NoError(t, e.mc.RemoveFault(e.ctx, ids[1]), "by ID")
	fs, err = e.mc.Faults(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, fs)
}

// persistence loads fixtures and writes the state file through a mock
// started with one (-state), in a directory that does not exist at
// first, so that writing it fails (500), then succeeds; the file restores
// the same state. It returns the environment it used.
func persistence(t *testing.T) *env {
	path := filepath.Join(t.TempDir(), "later", "state.json")
	p := newEnv(t, "", mockserver.WithStateFile(path))

	schema, err := p.mc.FixtureSchema(p.ctx)
	require.NoError(t, err)
	assert.Equal(t, mockserver.FixtureSchema(), schema)

	f := mockserver.Fixture{Version: mockserver.FixtureVersion,
		HuaweiAccounts: []mockserver.HuaweiAccount{{ID: buyer, Name: "buyer",
			Keys: []mockserver.AccessKey{{AK: "BUYERAK0000000000001", SK: "buyer-secret"}}}},
		Purchases: []mockserver.Purchase{{AccountID: buyer, InstanceID: "inst-fixture-1"}},
		BillingAccounts: []mockserver.FixtureBillingAccount{{Ref: "acme",
			BillingAccountSeed: mockserver.BillingAccountSeed{Username: "acme", Email: "billing@acme.example"}}},
		Accounts: []mockserver.FixtureAccount{{Ref: "ops",
			AccountSeed: mockserver.AccountSeed{Site: "us1", Username: "ops", Email: "ops@acme.example"}}},
		Workspaces: []mockserver.FixtureWorkspace{{Owner: "ops", BillingAccount: "acme", Name: "prod"}},
		Bindings:   []mockserver.FixtureBinding{{BillingAccount: "acme", HuaweiAccountID: buyer, InstanceID: "inst-fixture-1"}},
	}
	res, err := p.mc.LoadFixture(p.ctx, f)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(res.BillingAccounts["acme"], "bcac_"), res.BillingAccounts)
	assert.True(t, strings.HasPrefix(res.Accounts["ops"], "acnt_"), res.Accounts)
	require.Len(t, res.Workspaces, 1)
	require.Len(t, res.Bindings, 1)
	assert.True(t, strings.HasPrefix(res.Bindings[0].Token, "bctk_"), "the token in clear")
	before, err := p.mc.State(p.ctx)
	require.NoError(t, err)
	sameJSON(t, p.srv.Snapshot(), before)
	require.Len(t, before.BillingAccounts, 1)
	assert.Equal(t, res.BillingAccounts["acme"], before.BillingAccounts[0].ID)
	assert.Len(t, before.Purchases, 2, "the demo purchase and the fixture's")
	require.NoError(t, p.mc.Reset(p.ctx))
	reset, err := p.mc.State(p.ctx)
	require.NoError(t, err)
	assert.Len(t, reset.Purchases, 2, "reset goes back to the fixture")
	before = reset

	bad := f
	bad.Workspaces = []mockserver.FixtureWorkspace{{Owner: "nobody", Name: "x"}}
	_, err = p.mc.LoadFixture(p.ctx, bad)
	status(t, http.StatusBadRequest, err, "a reference to nothing")
	assert.Contains(t, err.Error(), "/workspaces/0/owner", "the pointer in the message")
	after, err := p.mc.State(p.ctx)
	require.NoError(t, err)
	sameJSON(t, before, after, "a refused fixture changes nothing")

	_, err = p.mc.SaveState(p.ctx)
	status(t, http.StatusInternalServerError, err, "the directory does not exist")
	require.NoError(t, os.Mkdir(filepath.Dir(path), 0o700))
	saved, err := p.mc.SaveState(p.ctx)
	require.NoError(t, err)
	assert.Equal(t, path, saved)
	restored, err := mockserver.New(mockserver.WithStateFile(path), mockserver.WithoutListener())
	require.NoError(t, err)
	defer restored.Close()
	sameJSON(t, p.srv.Snapshot(), restored.Snapshot(), "the file restores the state")
	return p
}

func (e *env) clock(t *testing.T) {
	before, err := e.mc.Clock(e.ctx)
	require.NoError(t, err)
	after, err := e.mc.AdvanceClock(e.ctx, 36*time.Hour)
	require.NoError(t, err)
	assert.WithinDuration(t, before.Now.Add(36*time.Hour), after.Now, 2*time.Second)
	set := after.Now.Add(time.Hour).Truncate(time.Second)
	got, err := e.mc.SetClock(e.ctx, set)
	require.NoError(t, err)
	assert.WithinDuration(t, set, got.Now, 2*time.Second)
	_, err = e.mc.SetClock(e.ctx, before.Now)
	status(t, http.StatusConflict, err, "never back")
	_, err = e.mc.AdvanceClock(e.ctx, -time.Hour)
	status(t, http.StatusConflict, err, "negative")
	assert.Equal(t, http.StatusBadRequest, e.raw(http.MethodPost, "/_mock/clock", "application/json", `{}`), "neither advance nor set")
}

// order places an order for the demo account and returns it delivered.
func (e *env) order(t *testing.T) mockserver.MarketplaceOrder {
	t.Helper()
	o, err := e.mc.PlaceOrder(e.ctx, mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID, PeriodMonths: 1})
	require.NoError(t, err)
	require.Equal(t, mockserver.OrderDelivered, o.Status, o.LastError)
	return o
}

func (e *env) marketplace(t *testing.T) {
	o := e.order(t)
	assert.NotEmpty(t, o.InstanceID)
	got, err := e.mc.Order(e.ctx, o.OrderID)
	require.NoError(t, err)
	assert.Equal(t, o.OrderID, got.OrderID)
	orders, err := e.mc.Orders(e.ctx)
	require.NoError(t, err)
	sameJSON(t, e.srv.Orders(), orders)
	_, err = e.mc.Order(e.ctx, "no-such-order")
	status(t, http.StatusNotFound, err)

	v, err := e.mc.ViewOrder(e.ctx, o.OrderID)
	require.NoError(t, err)
	assert.True(t, v.InstanceKept)
	_, err = e.mc.ViewOrder(e.ctx, "no-such-order")
	status(t, http.StatusNotFound, err)

	ds, err := e.mc.Deliveries(e.ctx, mockserver.DeliveryFilter{OrderID: o.OrderID, Activity: "newInstance"})
	require.NoError(t, err)
	assert.Len(t, ds, 2, "the order and its view")
	sameJSON(t, e.srv.Deliveries(mockserver.DeliveryFilter{OrderID: o.OrderID, Activity: "newInstance"}), ds)
	ds, err = e.mc.Deliveries(e.ctx, mockserver.DeliveryFilter{InstanceID: o.InstanceID, TenantID: "none"})
	require.NoError(t, err)
	assert.Empty(t, ds)
	assert.Equal(t, http.StatusBadRequest, e.raw(http.MethodGet, "/_mock/marketplace/deliveries?order=x", "", ""))

	_, err = e.mc.PlaceOrder(e.ctx, mockserver.OrderRequest{HuaweiAccountID: "2b2c3d4e5f60718293a4b5c6d7e8f901"})
	status(t, http.StatusNotFound, err, "unknown buyer")
	_, err = e.mc.PlaceOrder(e.ctx, mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID, PeriodMonths: 999})
	status(t, http.StatusBadRequest, err)
	unverified := false
	_, err = e.mc.AddHuaweiAccount(e.ctx, mockserver.HuaweiAccount{ID: "3b2c3d4e5f60718293a4b5c6d7e8f901", RealNameVerified: &unverified})
	require.NoError(t, err)
	_, err = e.mc.PlaceOrder(e.ctx, mockserver.OrderRequest{HuaweiAccountID: "3b2c3d4e5f60718293a4b5c6d7e8f901"})
	status(t, http.StatusForbidden, err, "not real-name verified")

	// An order whose newInstance failed is pending: viewing it is refused.
	_, err = e.mc.InjectFault(e.ctx, mockserver.Fault{Path: mockserver.VendorProducePath, Status: 500})
	require.NoError(t, err)
	pending, err := e.mc.PlaceOrder(e.ctx, mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID})
	require.NoError(t, err)
	require.Equal(t, mockserver.OrderPending, pending.Status)
	_, err = e.mc.ViewOrder(e.ctx, pending.OrderID)
	status(t, http.StatusConflict, err, "not delivered")
	require.NoError(t, e.mc.ClearFaults(e.ctx))
}

func (e *env) lifecycle(t *testing.T) {
	opts := map[mockserver.PurchaseAction]mockserver.ChangeOptions{mockserver.ActionRenew: {PeriodMonths: 3},
		mockserver.ActionUpgrade: {SKUCode: "truewatch.saas.enterprise"}}
	bad := map[mockserver.PurchaseAction]mockserver.ChangeOptions{mockserver.ActionRenew: {PeriodMonths: 999},
		mockserver.ActionUpgrade: {PeriodMonths: 1}}
	for _, a := range mockserver.PurchaseActions() {
		inst := e.order(t).InstanceID
		if a == mockserver.ActionUnfreeze {
			_, err := e.mc.ChangePurchase(e.ctx, inst, mockserver.ActionFreeze, mockserver.ChangeOptions{})
			require.NoError(t, err)
		}
		b, ok := bad[a]
		if !ok {
			b = mockserver.ChangeOptions{PeriodMonths: 1}
		}
		_, err := e.mc.ChangePurchase(e.ctx, inst, a, b)
		status(t, http.StatusBadRequest, err, a)
		_, err = e.mc.ChangePurchase(e.ctx, "no-such-instance", a, opts[a])
		status(t, http.StatusNotFound, err, a)
		ch, err := e.mc.ChangePurchase(e.ctx, inst, a, opts[a])
		require.NoError(t, err, a)
		assert.Equal(t, a, ch.Action)
		assert.Equal(t, inst, ch.Purchase.InstanceID)
		assert.NotEmpty(t, ch.Deliveries, a)
		if a != mockserver.ActionRelease {
			_, err = e.mc.ChangePurchase(e.ctx, inst, mockserver.ActionRelease, mockserver.ChangeOptions{})
			require.NoError(t, err)
		}
		_, err = e.mc.ChangePurchase(e.ctx, inst, a, opts[a])
		status(t, http.StatusConflict, err, "%s after release", a)
	}
}

func (e *env) joint(t *testing.T) {
	const nobody = "4b2c3d4e5f60718293a4b5c6d7e8f901"
	req := mockserver.EnterpriseRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID, InstanceID: mockserver.DemoInstanceID,
		Name: "Analytical Engines", Domain: "engines.example", Abbreviation: "engines"}
	bad := req
	bad.Domain = "Bad_Domain"
	_, err := e.mc.CreateEnterprise(e.ctx, bad)
	status(t, http.StatusBadRequest, err)
	unknown := req
	unknown.HuaweiAccountID = nobody
	_, err = e.mc.CreateEnterprise(e.ctx, unknown)
	status(t, http.StatusNotFound, err)

	ent, err := e.mc.CreateEnterprise(e.ctx, req)
	require.NoError(t, err)
	assert.Equal(t, mockserver.EnterpriseActivating, ent.Status)
	tid := ent.TenantID
	_, err = e.mc.CreateEnterprise(e.ctx, req)
	status(t, http.StatusConflict, err, "one per purchase")
	_, err = e.mc.AddMember(e.ctx, tid, mockserver.MemberRequest{UserName: "early", Name: "Early"})
	status(t, http.StatusConflict, err, "still activating")
	_, err = e.mc.AdvanceClock(e.ctx, 2*time.Minute)
	require.NoError(t, err)

	got, err := e.mc.Enterprise(e.ctx, tid)
	require.NoError(t, err)
	assert.Equal(t, mockserver.EnterpriseActive, got.Status)
	_, err = e.mc.Enterprise(e.ctx, "no-such-tenant")
	status(t, http.StatusNotFound, err)
	all, err := e.mc.Enterprises(e.ctx)
	require.NoError(t, err)
	sameJSON(t, e.srv.Enterprises(), all)

	upd, err := e.mc.UpdateEnterprise(e.ctx, tid, mockserver.EnterpriseChange{Domain: "engines2.example"})
	require.NoError(t, err)
	assert.Equal(t, "engines2.example", upd.Domain)
	_, err = e.mc.UpdateEnterprise(e.ctx, tid, mockserver.EnterpriseChange{Name: "Another Name"})
	status(t, http.StatusConflict, err, "immutable")
	_, err = e.mc.UpdateEnterprise(e.ctx, tid, mockserver.EnterpriseChange{Domain: "Bad_Domain"})
	status(t, http.StatusBadRequest, err)
	_, err = e.mc.UpdateEnterprise(e.ctx, "no-such-tenant", mockserver.EnterpriseChange{Domain: "x.example"})
	status(t, http.StatusNotFound, err)

	app, err := e.mc.EnterpriseApplication(e.ctx, tid)
	require.NoError(t, err)
	assert.Len(t, app.ClientSecret, 64, "in clear")
	_, err = e.mc.EnterpriseApplication(e.ctx, "no-such-tenant")
	status(t, http.StatusNotFound, err)
	rot, err := e.mc.RotateClientSecret(e.ctx, tid)
	require.NoError(t, err)
	assert.NotEqual(t, app.ClientSecret, rot.ClientSecret)
	_, err = e.mc.RotateClientSecret(e.ctx, "no-such-tenant")
	status(t, http.StatusNotFound, err)

	first, err := e.mc.AddMember(e.ctx, tid, mockserver.MemberRequest{})
	require.NoError(t, err)
	assert.Equal(t, mockserver.DemoHuaweiAccountName, first.UserName, "pre-filled")
	bob, err := e.mc.AddMember(e.ctx, tid, mockserver.MemberRequest{UserName: "bob", Name: "Bob"})
	require.NoError(t, err)
	assert.NotEmpty(t, bob.InitialPassword)
	_, err = e.mc.AddMember(e.ctx, tid, mockserver.MemberRequest{UserName: "BOB", Name: "Bob"})
	status(t, http.StatusConflict, err)
	_, err = e.mc.AddMember(e.ctx, tid, mockserver.MemberRequest{UserName: "x", Name: "X"})
	status(t, http.StatusBadRequest, err, "user name too short")
	_, err = e.mc.AddMember(e.ctx, "no-such-tenant", mockserver.MemberRequest{UserName: "carol", Name: "Carol"})
	status(t, http.StatusNotFound, err)
	members, err := e.mc.Members(e.ctx, tid)
	require.NoError(t, err)
	assert.Len(t, members, 2)
	_, err = e.mc.Members(e.ctx, "no-such-tenant")
	status(t, http.StatusNotFound, err)

	m, err := e.mc.UpdateMember(e.ctx, tid, "bob", mockserver.MemberChange{Name: "Robert"})
	require.NoError(t, err)
	assert.Equal(t, "Robert", m.Name)
	_, err = e.mc.UpdateMember(e.ctx, tid, "bob", mockserver.MemberChange{UserName: "robert"})
	status(t, http.StatusConflict, err, "user names never change")
	_, err = e.mc.UpdateMember(e.ctx, tid, "bob", mockserver.MemberChange{Role: "god"})
	status(t, http.StatusBadRequest, err)
	_, err = e.mc.UpdateMember(e.ctx, tid, "nobody", mockserver.MemberChange{Name: "N"})
	status(t, http.StatusNotFound, err)

	m, err = e.mc.ResetMemberPassword(e.ctx, tid, "bob", "")
	require.NoError(t, err)
	assert.NotEqual(t, bob.InitialPassword, m.InitialPassword, "generated")
	m, err = e.mc.ResetMemberPassword(e.ctx, tid, "bob", "Fresh-Passw0rd!")
	require.NoError(t, err)
	assert.Equal(t, "Fresh-Passw0rd!", m.InitialPassword)
	_, err = e.mc.ResetMemberPassword(e.ctx, tid, "bob", "short")
	status(t, http.StatusBadRequest, err)
	_, err = e.mc.ResetMemberPassword(e.ctx, tid, "nobody", "")
	status(t, http.StatusNotFound, err)

	ms, err := e.mc.AuthorizeMembers(e.ctx, tid, mockserver.AuthorizationRequest{UserNames: []string{"bob"}, AgreementAccepted: true})
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.True(t, ms[0].Authorized)
	_, err = e.mc.AuthorizeMembers(e.ctx, tid, mockserver.AuthorizationRequest{UserNames: []string{"bob"}})
	status(t, http.StatusBadRequest, err, "the agreement")
	_, err = e.mc.AuthorizeMembers(e.ctx, "no-such-tenant", mockserver.AuthorizationRequest{UserNames: []string{"bob"}, AgreementAccepted: true})
	status(t, http.StatusNotFound, err)
	tenants, err := e.mc.TrueWatchTenants(e.ctx)
	require.NoError(t, err)
	require.Len(t, tenants, 1)
	assert.Equal(t, []string{"bob"}, tenants[0].Authorized)
	ms, err = e.mc.DeauthorizeMembers(e.ctx, tid, mockserver.AuthorizationRequest{UserNames: []string{"bob"}})
	require.NoError(t, err)
	assert.False(t, ms[0].Authorized)
	_, err = e.mc.DeauthorizeMembers(e.ctx, tid, mockserver.AuthorizationRequest{})
	status(t, http.StatusBadRequest, err)
	_, err = e.mc.DeauthorizeMembers(e.ctx, "no-such-tenant", mockserver.AuthorizationRequest{UserNames: []string{"bob"}})
	status(t, http.StatusNotFound, err)

	d, err := e.mc.AddDepartment(e.ctx, tid, mockserver.Department{OrgCode: "ops", Name: "Ops"})
	require.NoError(t, err)
	assert.Equal(t, mockserver.RootDepartment, d.ParentCode)
	_, err = e.mc.AddDepartment(e.ctx, tid, mockserver.Department{OrgCode: "ops", Name: "Ops again"})
	status(t, http.StatusConflict, err)
	_, err = e.mc.AddDepartment(e.ctx, tid, mockserver.Department{OrgCode: "bad code!", Name: "x"})
	status(t, http.StatusBadRequest, err)
	_, err = e.mc.AddDepartment(e.ctx, "no-such-tenant", mockserver.Department{OrgCode: "ops", Name: "Ops"})
	status(t, http.StatusNotFound, err)
	d, err = e.mc.UpdateDepartment(e.ctx, tid, "ops", mockserver.Department{Name: "Operations"})
	require.NoError(t, err)
	assert.Equal(t, "Operations", d.Name)
	_, err = e.mc.UpdateDepartment(e.ctx, tid, "ops", mockserver.Department{OrgCode: "other"})
	status(t, http.StatusConflict, err, "org codes never change")
	_, err = e.mc.UpdateDepartment(e.ctx, tid, "ops", mockserver.Department{Name: strings.Repeat("n", 65)})
	status(t, http.StatusBadRequest, err)
	_, err = e.mc.UpdateDepartment(e.ctx, tid, "nowhere", mockserver.Department{Name: "N"})
	status(t, http.StatusNotFound, err)
	depts, err := e.mc.Departments(e.ctx, tid)
	require.NoError(t, err)
	assert.Len(t, depts, 2)
	_, err = e.mc.Departments(e.ctx, "no-such-tenant")
	status(t, http.StatusNotFound, err)
	_, err = e.mc.UpdateMember(e.ctx, tid, "bob", mockserver.MemberChange{Department: "ops"})
	require.NoError(t, err)
	status(t, http.StatusConflict, e.mc.RemoveDepartment(e.ctx, tid, "ops"), "not empty")
	require.NoError(t, e.mc.SyncDepartments(e.ctx, tid))
	status(t, http.StatusNotFound, e.mc.SyncDepartments(e.ctx, "no-such-tenant"))

	require.NoError(t, e.mc.RemoveMember(e.ctx, tid, "bob"))
	status(t, http.StatusNotFound, e.mc.RemoveMember(e.ctx, tid, "bob"))
	require.NoError(t, e.mc.RemoveDepartment(e.ctx, tid, "ops"))
	status(t, http.StatusNotFound, e.mc.RemoveDepartment(e.ctx, tid, "ops"))
	require.NoError(t, e.mc.DeleteEnterprise(e.ctx, tid))
	status(t, http.StatusNotFound, e.mc.DeleteEnterprise(e.ctx, tid))
}

func (e *env) reset(t *testing.T) {
	require.NoError(t, e.mc.Reset(e.ctx))
	st, err := e.mc.State(e.ctx)
	require.NoError(t, err)
	assert.Len(t, st.Purchases, 1, "the demo fixture only")
	assert.Empty(t, st.BillingAccounts)
}

// guardRefusals sends every documented operation what the guard refuses:
// no control token (401; the health check is exempt), another origin
// (403), a change without X-Mock-Control (403) or with a body that is not
// JSON (415); and, to operations taking a body, a body with an unknown
// field (400), one without the fields the document requires (a 4xx) and
// one over the limit (413); to those taking a query, an unknown parameter
// (400). It returns the environment it used.
func guardRefusals(t *testing.T) *env {
	const token = "guard-token-0123456789"
	g := newEnv(t, token, mockserver.WithMaxBodyBytes(256))
	doc, err := ctlcontract.Load()
	require.NoError(t, err)
	auth := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	for _, op := range ctlcontract.Operations(doc) {
		path := op.Path
		for _, p := range []string{"{instanceId}", "{orderId}", "{uuid}", "{tenantId}", "{userName}", "{orgCode}", "{id}"} {
			path = strings.ReplaceAll(path, p, "x")
		}
		name := op.Method + " " + op.Path
		if op.ID != "health" {
			assert.Equal(t, http.StatusUnauthorized, g.raw(op.Method, path, "", ""), "%s without the token", name)
		}
		assert.Equal(t, http.StatusForbidden, g.raw(op.Method, path, "", "", auth,
			func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }), "%s from another origin", name)
		if op.Method != http.MethodGet {
			assert.Equal(t, http.StatusForbidden, g.raw(op.Method, path, "", "", auth,
				func(r *http.Request) { r.Header.Del(mockclient.ControlHeader) }), "%s without %s", name, mockclient.ControlHeader)
			assert.Equal(t, http.StatusUnsupportedMediaType, g.raw(op.Method, path, "text/plain", "{}", auth), "%s with text/plain", name)
		}
		if op.Op.RequestBody != nil {
			assert.Equal(t, http.StatusBadRequest, g.raw(op.Method, path, "application/json", `{"zzUnknown":1}`, auth),
				"%s with an unknown field", name)
			if body := op.Op.RequestBody.Value.Content.Get("application/json").Schema.Value; len(body.Required) > 0 {
				got := g.raw(op.Method, path, "application/json", `{}`, auth)
				assert.True(t, got >= 400 && got < 500, "%s without %v: %d", name, body.Required, got)
			}
			big := fmt.Sprintf(`{"zzUnknown":%q}`, strings.Repeat("x", 300))
			assert.Equal(t, http.StatusRequestEntityTooLarge, g.raw(op.Method, path, "application/json", big, auth), "%s too large", name)
		}
		if len(op.Op.Parameters) > 0 {
			assert.Equal(t, http.StatusBadRequest, g.raw(op.Method, path+"?zzUnknown=1", "", "", auth), "%s with an unknown query parameter", name)
		}
	}
	g.noProblems()
	return g
}
