package mockserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

const (
	acmeHuaweiID = "1f2e3d4c5b6a47988796a5b4c3d2e1f0"
	acmeSK       = "acme-fixture-secret-key-not-for-production"
)

// fixtureSchemaValidator compiles the embedded schema, formats asserted.
func fixtureSchemaValidator(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(fixtureSchema))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource("fixture.schema.json", doc))
	sch, err := c.Compile("fixture.schema.json")
	require.NoError(t, err)
	return sch
}

func schemaAccepts(t *testing.T, sch *jsonschema.Schema, data []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// stateOf is the server's whole state as it would be saved, but for the
// clock, which runs, and the request IDs, which every request uses up.
func stateOf(s *Server) *savedState {
	st := s.exportState()
	st.Clock = savedClock{}
	delete(st.IDs, "request:")
	return st
}

// exampleFixtures are the fixtures the docs show.
func exampleFixtures(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("../examples/fixtures/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		out[p] = b
	}
	return out
}

// TestFixtureExamplesValid: every example fixture is valid by the schema,
// decodes and loads into a server with the demo fixture.
func TestFixtureExamplesValid(t *testing.T) {
	sch := fixtureSchemaValidator(t)
	for path, data := range exampleFixtures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			require.NoError(t, schemaAccepts(t, sch, data))
			srv := Start(t, WithoutListener(), WithFixtureFile(path))
			assert.NotEmpty(t, srv.BillingAccounts())
		})
	}
}

// TestFixtureAtStart: WithFixtureFile's entries are there, refer to one
// another, follow the seeding rules, and Reset goes back to them.
func TestFixtureAtStart(t *testing.T) {
	h := newHarness(t, WithFixtureFile("../examples/fixtures/acme.json"))
	snap := h.srv.Snapshot()
	require.Len(t, snap.Purchases, 3, "the demo purchase and the fixture's two")
	require.Len(t, snap.BillingAccounts, 1)
	require.Len(t, snap.Accounts, 2)
	require.Len(t, snap.Workspaces, 3)
	bc := snap.BillingAccounts[0]
	assert.Equal(t, "acmebilling", bc.Username)
	prod := snap.Workspaces[0]
	assert.Equal(t, "production", prod.Name)
	assert.Equal(t, site.US1, prod.Site)
	assert.Equal(t, bc.ID, prod.BillingAccountID)
	assert.Equal(t, snap.Accounts[0].ID, prod.OwnerAccountID)
	assert.Equal(t, twapi.SettlementHuaweiCloud, prod.Settlement.Method)
	assert.Equal(t, twapi.Language("zh"), snap.Workspaces[1].Language)
	assert.Equal(t, site.EU1, snap.Workspaces[2].Site)
	sub, ok := h.srv.Subscription(acmeHuaweiID, "acme-inst-0001")
	require.True(t, ok)
	assert.True(t, sub.Bound)
	assert.Equal(t, bc.ID, sub.BillingAccountID)
	assert.Equal(t, PurchaseFrozen, snap.Purchases[2].Status)

	// The Huawei account signs requests with its fixture keys.
	hc, err := h.srv.HuaweiClient()
	require.NoError(t, err)
	_ = hc
	h.srv.mu.Lock()
	acc := h.srv.st.huawei.accounts[acmeHuaweiID]
	h.srv.mu.Unlock()
	require.NotNil(t, acc)
	assert.Equal(t, HuaweiSiteChineseMainland, acc.Site)
	assert.Equal(t, "250.00", acc.Balance)

	_, err = h.srv.SeedBillingAccount(BillingAccountSeed{Username: "other", Email: "other@example.com"})
	require.NoError(t, err)
	require.NoError(t, h.srv.Reset())
	assert.Equal(t, snap.BillingAccounts, h.srv.BillingAccounts(), "Reset goes back to the fixture, IDs and all")
	assert.Equal(t, snap.Workspaces, h.srv.Workspaces())
}

// TestFixtureAtStartRefused: New fails naming the file and the place.
func TestFixtureAtStartRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"version":1,"accounts":[{"ref":"a","site":"us1","username":"grace","email":"nope"}]}`), 0o600))
	_, err := New(WithoutListener(), WithFixtureFile(path))
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "/accounts/0/email")
	var fe *FixtureError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/accounts/0/email", fe.Pointer)

	_, err = New(WithoutListener(), WithFixtureFile(filepath.Join(t.TempDir(), "missing.json")))
	assert.ErrorContains(t, err, "missing.json")
}

// badFixture is a fixture the loader refuses at pointer; schema says
// whether the schema refuses it too (the rest need the state: references,
// uniqueness, the seeding rules).
type badFixture struct {
	name, body, pointer string
	schema              bool
}

var (
	hwA   = `{"id":"` + acmeHuaweiID + `","keys":[{"ak":"AKFIXTUREA","sk":"` + acmeSK + `"}]}`
	purA  = `{"accountId":"` + acmeHuaweiID + `","instanceId":"inst-a"}`
	bcA   = `{"ref":"bc","username":"acme","email":"ops@acme.example"}`
	accA  = `{"ref":"ada","site":"us1","username":"ada","email":"ada@acme.example"}`
	wsA   = `{"owner":"ada","billingAccount":"bc","name":"prod"}`
	bindA = `{"billingAccount":"bc","huaweiAccountId":"` + acmeHuaweiID + `","instanceId":"inst-a"}`
)

func fx(parts ...string) string { return `{"version":1` + strings.Join(parts, "") + `}` }

var badFixtures = []badFixture{
	{"malformed", `{"version":1,`, "", true},
	{"truncated", fx(`,"accounts":[` + accA), "", true},
	{"not an object", `[1]`, "", true},
	{"no version", `{"accounts":[]}`, "/version", true},
	{"other version", `{"version":2}`, "/version", true},
	{"version as a string", `{"version":"1"}`, "/version", true},
	{"unknown top-level key", fx(`,"tenants":[]`), "/tenants", true},
	{"key in the wrong case", fx(`,"Accounts":[]`), "/Accounts", true},
	{"key given twice", `{"version":1,"accounts":[],"accounts":[]}`, "/accounts", false},
	{"null list", fx(`,"accounts":null`), "/accounts", true},
	{"list as an object", fx(`,"accounts":{}`), "/accounts", true},
	{"unknown entry key", fx(`,"accounts":[{"ref":"a","site":"us1","username":"ada","email":"a@b.example","password":"x"}]`), "/accounts/0/password", true},
	{"wrong type", fx(`,"huaweiAccounts":[{"id":"` + acmeHuaweiID + `","hideDomain":"yes"}]`), "/huaweiAccounts/0/hideDomain", true},
	{"null field", fx(`,"huaweiAccounts":[{"id":"` + acmeHuaweiID + `","name":null}]`), "/huaweiAccounts/0/name", true},
	{"unknown key in a key", fx(`,"huaweiAccounts":[{"id":"` + acmeHuaweiID + `","keys":[{"ak":"A","sk":"B","secret":"C"}]}]`), "/huaweiAccounts/0/keys/0/secret", true},
	{"bad time", fx(`,"huaweiAccounts":[` + hwA + `],"purchases":[{"accountId":"` + acmeHuaweiID + `","instanceId":"i","expireTime":"tomorrow"}]`), "/purchases/0/expireTime", true},
	{"Huawei ID not hex", fx(`,"huaweiAccounts":[{"id":"XYZ"}]`), "/huaweiAccounts/0/id", true},
	{"unknown site", fx(`,"huaweiAccounts":[{"id":"` + acmeHuaweiID + `","site":"mars"}]`), "/huaweiAccounts/0/site", true},
	{"bad balance", fx(`,"huaweiAccounts":[{"id":"` + acmeHuaweiID + `","balance":"1.234"}]`), "/huaweiAccounts/0/balance", true},
	{"key without SK", fx(`,"huaweiAccounts":[{"id":"` + acmeHuaweiID + `","keys":[{"ak":"A","sk":""}]}]`), "/huaweiAccounts/0/keys/0", true},
	{"bad status", fx(`,"huaweiAccounts":[` + hwA + `],"purchases":[{"accountId":"` + acmeHuaweiID + `","instanceId":"i","status":9}]`), "/purchases/0/status", true},
	{"instance ID with a space", fx(`,"huaweiAccounts":[` + hwA + `],"purchases":[{"accountId":"` + acmeHuaweiID + `","instanceId":"a b"}]`), "/purchases/0/instanceId", true},
	{"bad email", fx(`,"accounts":[{"ref":"a","site":"us1","username":"ada","email":"nope"}]`), "/accounts/0/email", true},
	{"bad username", fx(`,"billingAccounts":[{"ref":"a","username":"1x","email":"a@b.example"}]`), "/billingAccounts/0/username", true},
	{"missing ref", fx(`,"billingAccounts":[{"username":"acme","email":"a@b.example"}]`), "/billingAccounts/0/ref", true},
	{"bad ref", fx(`,"billingAccounts":[{"ref":"-x","username":"acme","email":"a@b.example"}]`), "/billingAccounts/0/ref", true},
	{"unknown site code", fx(`,"accounts":[{"ref":"a","site":"xx1","username":"ada","email":"a@b.example"}]`), "/accounts/0/site", true},
	{"bad language", fx(`,"accounts":[` + accA + `],"workspaces":[{"owner":"ada","name":"w","language":"fr"}]`), "/workspaces/0/language", true},
	{"blank workspace name", fx(`,"accounts":[` + accA + `],"workspaces":[{"owner":"ada","name":"  "}]`), "/workspaces/0/name", true},
	{"settlement method unknown", fx(`,"accounts":[` + accA + `],"workspaces":[{"owner":"ada","name":"w","settlement":{"method":"gcp"}}]`), "/workspaces/0/settlement/method", true},
	{"settlement names a subscription without huaweicloud", fx(`,"accounts":[` + accA + `],"workspaces":[{"owner":"ada","name":"w","settlement":{"method":"aws","instanceId":"i"}}]`), "/workspaces/0/settlement", true},
	{"binding without instance", fx(`,"billingAccounts":[` + bcA + `],"bindings":[{"billingAccount":"bc","huaweiAccountId":"` + acmeHuaweiID + `"}]`), "/bindings/0/instanceId", true},

	// What only the loader can know.
	{"duplicate ref", fx(`,"billingAccounts":[` + bcA + `,{"ref":"bc","username":"other","email":"o@acme.example"}]`), "/billingAccounts/1/ref", false},
	{"duplicate Huawei account", fx(`,"huaweiAccounts":[` + hwA + `,{"id":"` + acmeHuaweiID + `"}]`), "/huaweiAccounts/1/id", false},
	{"the demo's Huawei account", fx(`,"huaweiAccounts":[{"id":"` + DemoHuaweiAccountID + `"}]`), "/huaweiAccounts/0/id", false},
	{"duplicate access key", fx(`,"huaweiAccounts":[` + hwA + `,{"id":"2a3b4c5d6e7f48a9b0c1d2e3f4a5b6c7","keys":[{"ak":"AKFIXTUREA","sk":"x"}]}]`), "/huaweiAccounts/1/keys/0/ak", false},
	{"purchase of an unknown account", fx(`,"purchases":[` + purA + `]`), "/purchases/0/accountId", false},
	{"duplicate instance", fx(`,"huaweiAccounts":[` + hwA + `],"purchases":[` + purA + `,` + purA + `]`), "/purchases/1/instanceId", false},
	{"unknown region", fx(`,"huaweiAccounts":[` + hwA + `],"purchases":[{"accountId":"` + acmeHuaweiID + `","instanceId":"i","regionCode":"mars-1"}]`), "/purchases/0/regionCode", false},
	{"duplicate username", fx(`,"billingAccounts":[` + bcA + `,{"ref":"bc2","username":"ACME","email":"o@acme.example"}]`), "/billingAccounts/1/username", false},
	{"duplicate email on a site", fx(`,"accounts":[` + accA + `,{"ref":"b","site":"us1","username":"bob","email":"ADA@acme.example"}]`), "/accounts/1/email", false},
	{"workspace of an unknown owner", fx(`,"workspaces":[{"owner":"nobody","name":"w"}]`), "/workspaces/0/owner", false},
	{"workspace of an unknown Billing Center account", fx(`,"accounts":[` + accA + `],"workspaces":[{"owner":"ada","billingAccount":"nobody","name":"w"}]`), "/workspaces/0/billingAccount", false},
	{"workspace name taken", fx(`,"billingAccounts":[` + bcA + `],"accounts":[` + accA + `],"workspaces":[` + wsA + `,` + wsA + `]`), "/workspaces/1/name", false},
	{"settlement by an unknown purchase", fx(`,"accounts":[` + accA + `],"workspaces":[{"owner":"ada","name":"w","settlement":{"method":"huaweicloud","huaweiAccountId":"` + acmeHuaweiID + `","instanceId":"nope"}}]`), "/workspaces/0/settlement/instanceId", false},
	{"binding to an unknown Billing Center account", fx(`,"huaweiAccounts":[` + hwA + `],"purchases":[` + purA + `],"bindings":[` + bindA + `]`), "/bindings/0/billingAccount", false},
	{"binding to an unknown purchase", fx(`,"billingAccounts":[` + bcA + `],"bindings":[{"billingAccount":"bc","huaweiAccountId":"` + acmeHuaweiID + `","instanceId":"nope"}]`), "/bindings/0", false},
	{"binding to a frozen purchase", fx(`,"huaweiAccounts":[` + hwA + `],"purchases":[{"accountId":"` + acmeHuaweiID + `","instanceId":"inst-a","status":4}],"billingAccounts":[` + bcA + `],"bindings":[` + bindA + `]`), "/bindings/0", false},
}

// TestFixtureSchemaAndLoaderAgree: for every bad fixture the loader
// refuses it at the right place, the schema refuses those it can see, and
// a valid variant of the same shape passes both (so each case is refused
// for the reason named, not another).
func TestFixtureSchemaAndLoaderAgree(t *testing.T) {
	sch := fixtureSchemaValidator(t)
	good := fx(`,"huaweiAccounts":[` + hwA + `],"purchases":[` + purA + `],"billingAccounts":[` + bcA + `],"accounts":[` + accA + `],"workspaces":[` + wsA + `],"bindings":[` + bindA + `]`)
	require.NoError(t, schemaAccepts(t, sch, []byte(good)))
	f, err := DecodeFixture([]byte(good))
	require.NoError(t, err)
	_, err = Start(t, WithoutListener()).LoadFixture(f)
	require.NoError(t, err)

	for _, c := range badFixtures {
		t.Run(c.name, func(t *testing.T) {
			serr := schemaAccepts(t, sch, []byte(c.body))
			if c.schema {
				assert.Error(t, serr, "the schema refuses it")
			}
			srv := Start(t, WithoutListener())
			before := stateOf(srv)
			f, err := DecodeFixture([]byte(c.body))
			if err == nil {
				_, err = srv.LoadFixture(f)
			}
			require.Error(t, err, "the loader refuses it")
			var fe *FixtureError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, c.pointer, fe.Pointer, "%v", err)
			assert.NotEmpty(t, fe.Reason)
			assert.NotContains(t, err.Error(), acmeSK)
			assert.Equal(t, before, stateOf(srv), "nothing changed")
		})
	}
}

// TestFixtureSchemaRefusalsAreLoaderRefusals mutates the valid example
// fixture one value at a time; whatever the schema refuses, the loader
// refuses too.
func TestFixtureSchemaRefusalsAreLoaderRefusals(t *testing.T) {
	sch := fixtureSchemaValidator(t)
	base, err := os.ReadFile("../examples/fixtures/acme.json")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(base, &doc))
	odd := []any{nil, "", "x", 0, -1, 2.5, true, []any{}, map[string]any{}}
	refused := 0
	var walk func(v any, set func(any), path string)
	walk = func(v any, set func(any), path string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(e, func(n any) { x[k] = n }, path+"/"+k)
			}
			x["zzUnknown"] = 1
			check(t, sch, doc, path+"/zzUnknown", &refused)
			delete(x, "zzUnknown")
		case []any:
			for i, e := range x {
				walk(e, func(n any) { x[i] = n }, path+"/"+strconv.Itoa(i))
			}
		}
		if set == nil {
			return
		}
		for _, o := range odd {
			set(o)
			check(t, sch, doc, path, &refused)
		}
		set(v)
	}
	walk(doc, nil, "")
	assert.Greater(t, refused, 100, "the mutations exercised the schema")
}

func check(t *testing.T, sch *jsonschema.Schema, doc map[string]any, path string, refused *int) {
	t.Helper()
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	if schemaAccepts(t, sch, b) == nil {
		return
	}
	*refused++
	f, err := DecodeFixture(b)
	if err == nil {
		srv, nerr := New(WithoutListener())
		require.NoError(t, nerr)
		defer srv.Close()
		_, err = srv.LoadFixture(f)
	}
	assert.Error(t, err, "the schema refuses %s = this, the loader must too: %s", path, b)
}

// TestFixtureOverHTTP: POST /_mock/fixture replaces the state, answers
// the IDs and tokens it made (the token works), and a bad fixture is a
// 400 naming the place that changes nothing, faults included.
func TestFixtureOverHTTP(t *testing.T) {
	h := newHarness(t)
	_, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "before", Email: "before@example.com"})
	require.NoError(t, err)
	_, err = h.srv.InjectFault(Fault{Operation: "billing.Register", Status: 503})
	require.NoError(t, err)

	body, err := os.ReadFile("../examples/fixtures/minimal.json")
	require.NoError(t, err)
	before := stateOf(h.srv)
	status, raw := h.control(http.MethodPost, "/_mock/fixture", `{"version":1,"accounts":[{"ref":"a","site":"us1","username":"ada","email":"a@b.example"}],"workspaces":[{"owner":"b","name":"w"}]}`)
	require.Equal(t, http.StatusBadRequest, status, "%s", raw)
	assert.Contains(t, string(raw), "/workspaces/0/owner")
	assert.Equal(t, before, stateOf(h.srv), "nothing changed")
	assert.Len(t, h.srv.Faults(), 1, "the faults stay")

	status, raw = h.control(http.MethodPost, "/_mock/fixture", `{"version":1,`)
	require.Equal(t, http.StatusBadRequest, status, "%s", raw)
	assert.Contains(t, string(raw), "malformed JSON at line 1")

	status, raw = h.control(http.MethodPost, "/_mock/fixture", string(body))
	require.Equal(t, http.StatusOK, status, "%s", raw)
	var res FixtureResult
	require.NoError(t, json.Unmarshal(raw, &res))
	require.Len(t, res.Bindings, 1)
	assert.Equal(t, res.BillingAccounts["ops"], res.Bindings[0].BillingAccountID)
	bcs := h.srv.BillingAccounts()
	require.Len(t, bcs, 1, "replaced: the earlier account is gone")
	assert.Equal(t, "opsbilling", bcs[0].Username)
	assert.Empty(t, h.srv.Faults(), "as Reset, the faults go")
	r := h.do(http.MethodGet, bcPath(routes.ListWorkspaces), nil, withToken(secretOf(res.Bindings[0].Token)))
	assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)

	require.NoError(t, h.srv.Reset())
	assert.Equal(t, bcs, h.srv.BillingAccounts(), "Reset goes back to the posted fixture")

	status, raw = h.control(http.MethodGet, "/_mock/fixture.schema.json", "")
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, string(fixtureSchema), string(raw))
}
