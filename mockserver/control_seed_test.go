package mockserver

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// controlCreated posts body to a control endpoint, requires 201 and
// decodes the answer into v.
func (h *harness) controlCreated(path, body string, v any) []byte {
	h.t.Helper()
	status, raw := h.control(http.MethodPost, path, body)
	require.Equal(h.t, http.StatusCreated, status, "POST %s: %s", path, raw)
	require.NoError(h.t, json.Unmarshal(raw, v), "%s", raw)
	return raw
}

// TestControlSeedScenario builds "an existing Billing Center account with
// workspaces, bound to the demo subscription" over HTTP alone, then uses
// the token it got on the Billing Center API and reads the state back.
func TestControlSeedScenario(t *testing.T) {
	h := newHarness(t)

	var bca billing.BillingAccount
	h.controlCreated("/_mock/billing-accounts", `{"username":"acme","email":"ops@acme.example","companyName":"Acme"}`, &bca)
	assert.Equal(t, "acme", bca.Username)
	assert.Equal(t, "Acme", bca.CompanyName)
	require.NotEmpty(t, bca.ID)

	var acc twapi.Account
	h.controlCreated("/_mock/accounts", `{"site":"eu1","username":"acme-ops","email":"ops@acme.example","mobile":"+8613800000000"}`, &acc)
	assert.Equal(t, site.EU1, acc.Site)
	require.NotEmpty(t, acc.ID)

	var prod, stage twapi.Workspace
	h.controlCreated("/_mock/workspaces", `{"ownerAccountUUID":"`+acc.ID+`","name":"prod","language":"zh","billingAccountUUID":"`+bca.ID+
		`","createAt":"2026-01-02T03:04:05Z"}`, &prod)
	assert.Equal(t, twapi.Language("zh"), prod.Language)
	assert.Equal(t, site.EU1, prod.Site)
	assert.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), prod.CreateAt.UTC())
	h.controlCreated("/_mock/workspaces", `{"ownerAccountUUID":"`+acc.ID+`","name":"stage","billingAccountUUID":"`+bca.ID+
		`","settlement":{"method":"billing_center","changedAt":`+
		strconv.FormatInt(testStart.Add(-time.Hour).Unix(), 10)+`}}`, &stage)
	assert.Equal(t, twapi.LanguageEN, stage.Language, "language defaults to English")

	var b SeededBinding
	raw := h.controlCreated("/_mock/bindings", `{"billingAccountId":"`+bca.ID+`","huaweiAccountId":"`+DemoHuaweiAccountID+
		`","instanceId":"`+DemoInstanceID+`"}`, &b)
	assert.Equal(t, BindingSeed{BillingAccountID: bca.ID, HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID}, b.BindingSeed)
	require.NotEmpty(t, b.Token, "the control plane gives the token in clear")
	assert.Contains(t, string(raw), `"token":"`+b.Token+`"`)
	assert.Contains(t, string(raw), `"expiresAt":"`+testStart.Add(time.Hour).Format(time.RFC3339)+`"`)

	// The token works on the Billing Center: both workspaces are listed,
	// the one changed this month not bindable.
	var list []billing.BindableWorkspace
	h.requireOK(h.do(http.MethodGet, bcPath(routes.ListWorkspaces), nil, withToken(secret.String(b.Token))), &list)
	require.Len(t, list, 2)
	assert.Equal(t, []string{"prod", "stage"}, []string{list[0].Name, list[1].Name})
	assert.True(t, list[0].Bindable)
	assert.False(t, list[1].Bindable)

	status, raw := h.control(http.MethodGet, "/_mock/state", nil)
	require.Equal(t, http.StatusOK, status)
	var snap Snapshot
	require.NoError(t, json.Unmarshal(raw, &snap), "%s", raw)
	assert.Equal(t, h.srv.Snapshot(), snap, "the JSON carries the whole snapshot")
	assert.Equal(t, []twapi.Account{acc}, snap.Accounts)
	assert.Equal(t, []billing.BillingAccount{bca}, snap.BillingAccounts)
	assert.Equal(t, []string{prod.ID, stage.ID}, []string{snap.Workspaces[0].ID, snap.Workspaces[1].ID})
	require.Len(t, snap.Subscriptions, 1)
	sub := snap.Subscriptions[0]
	assert.True(t, sub.Bound)
	assert.Equal(t, bca.ID, sub.BillingAccountID)
	assert.Equal(t, "acme", sub.BillingUsername)
	require.Len(t, snap.Purchases, 1)
	assert.Equal(t, DemoInstanceID, snap.Purchases[0].InstanceID)
	for _, key := range []string{`"billingAccounts":[`, `"subscriptions":[`, `"accountId":"` + DemoHuaweiAccountID + `"`,
		`"instanceId":"` + DemoInstanceID + `"`, `"status":2`, `"effectiveTime":"` + testStart.Format(time.RFC3339) + `"`} {
		assert.Contains(t, string(raw), key)
	}
}

// TestControlStateEmpty: an empty server's lists are [] in JSON, not null.
func TestControlStateEmpty(t *testing.T) {
	h := newHarness(t, WithoutDemoFixture())
	status, raw := h.control(http.MethodGet, "/_mock/state", nil)
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"accounts":[],"billingAccounts":[],"workspaces":[],"subscriptions":[],"purchases":[]}`, string(raw))
}

// TestControlSeedRefusesBadInput: every malformed or refused seed is a
// 4xx {"error": ...} and changes nothing.
func TestControlSeedRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	e := h.seedExisting("taken", "taken@example.com")
	h.seedWorkspace(e, "prod", twapi.Settlement{})
	other, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "other", Email: "other@example.com"})
	require.NoError(t, err)
	_, err = h.srv.SeedBinding(other.ID, DemoHuaweiAccountID, DemoInstanceID)
	require.NoError(t, err)
	demo := `"huaweiAccountId":"` + DemoHuaweiAccountID + `","instanceId":"` + DemoInstanceID + `"`

	// Refusals the API answers with another status keep it; the rest are 400.
	statusOf := map[string]int{
		"billing: username taken":           http.StatusConflict,
		"account: email taken on the site":  http.StatusConflict,
		"workspace: name taken":             http.StatusConflict,
		"binding: bound to another account": http.StatusConflict,
		"binding: unknown purchase":         http.StatusNotFound,
	}
	for _, tc := range []struct{ name, path, body string }{
		{"billing: empty", "/_mock/billing-accounts", ``},
		{"billing: null", "/_mock/billing-accounts", `null`},
		{"billing: array", "/_mock/billing-accounts", `[]`},
		{"billing: trailing data", "/_mock/billing-accounts", `{"username":"ada","email":"ada@example.com"} {}`},
		{"billing: unknown field", "/_mock/billing-accounts", `{"username":"ada","email":"ada@example.com","password":"x"}`},
		{"billing: key in the wrong case", "/_mock/billing-accounts", `{"Username":"ada","email":"ada@example.com"}`},
		{"billing: key twice", "/_mock/billing-accounts", `{"username":"ada","username":"bob","email":"ada@example.com"}`},
		{"billing: wrong type", "/_mock/billing-accounts", `{"username":1,"email":"ada@example.com"}`},
		{"billing: bad email", "/_mock/billing-accounts", `{"username":"ada","email":"not-an-email"}`},
		{"billing: username taken", "/_mock/billing-accounts", `{"username":"TAKEN","email":"ada@example.com"}`},
		{"account: unknown site", "/_mock/accounts", `{"site":"xx1","username":"ada","email":"ada@example.com"}`},
		{"account: no username", "/_mock/accounts", `{"site":"us1","email":"ada@example.com"}`},
		{"account: email taken on the site", "/_mock/accounts", `{"site":"ap1","username":"ada","email":"taken@example.com"}`},
		{"account: unknown field", "/_mock/accounts", `{"site":"us1","username":"ada","email":"ada@example.com","id":"acnt_1"}`},
		{"workspace: unknown owner", "/_mock/workspaces", `{"ownerAccountUUID":"acnt_nobody","name":"w"}`},
		{"workspace: no name", "/_mock/workspaces", `{"ownerAccountUUID":"` + e.account.ID + `"}`},
		{"workspace: name taken", "/_mock/workspaces", `{"ownerAccountUUID":"` + e.account.ID + `","name":"prod"}`},
		{"workspace: unknown billing account", "/_mock/workspaces",
			`{"ownerAccountUUID":"` + e.account.ID + `","name":"w","billingAccountUUID":"bcac_nobody"}`},
		{"workspace: bad language", "/_mock/workspaces", `{"ownerAccountUUID":"` + e.account.ID + `","name":"w","language":"fr"}`},
		{"workspace: unknown purchase", "/_mock/workspaces", `{"ownerAccountUUID":"` + e.account.ID +
			`","name":"w","settlement":{"method":"huaweicloud","huaweiAccountId":"` + DemoHuaweiAccountID + `","instanceId":"nope"}}`},
		{"workspace: bad time", "/_mock/workspaces", `{"ownerAccountUUID":"` + e.account.ID + `","name":"w","createAt":"yesterday"}`},
		{"binding: unknown billing account", "/_mock/bindings", `{"billingAccountId":"bcac_nobody",` + demo + `}`},
		{"binding: unknown purchase", "/_mock/bindings",
			`{"billingAccountId":"` + e.billing.ID + `","huaweiAccountId":"` + DemoHuaweiAccountID + `","instanceId":"nope"}`},
		{"binding: bound to another account", "/_mock/bindings", `{"billingAccountId":"` + e.billing.ID + `",` + demo + `}`},
		{"binding: unknown field", "/_mock/bindings", `{"billingAccountId":"` + other.ID + `",` + demo + `,"token":"t"}`},
		{"purchase: status 7", "/_mock/purchases", `{"accountId":"` + DemoHuaweiAccountID + `","instanceId":"p-7","status":7}`},
		{"purchase: key in the wrong case", "/_mock/purchases", `{"AccountID":"` + DemoHuaweiAccountID + `","instanceId":"p-1"}`},
		{"huawei account: bad ID", "/_mock/huawei-accounts", `{"id":"ABC"}`},
		{"huawei account: key without SK", "/_mock/huawei-accounts", `{"id":"00112233445566778899aabbccddeeff","keys":[{"ak":"AK1"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			purchases := h.srv.Purchases()
			h.requireUnchanged(func() {
				want := http.StatusBadRequest
				if st, ok := statusOf[tc.name]; ok {
					want = st
				}
				status, raw := h.control(http.MethodPost, tc.path, tc.body)
				assert.Equal(t, want, status, "%s", raw)
				var e controlErr
				require.NoError(t, json.Unmarshal(raw, &e), "%s", raw)
				assert.NotEmpty(t, e.Error)
			})
			assert.Equal(t, purchases, h.srv.Purchases())
		})
	}
}

// TestAddPurchaseStatus: only the four BSS statuses are accepted; zero
// means in use.
func TestAddPurchaseStatus(t *testing.T) {
	srv := Start(t, WithoutListener())
	for _, st := range []PurchaseStatus{1, 6, 7, -1} {
		_, err := srv.AddPurchase(Purchase{AccountID: DemoHuaweiAccountID, InstanceID: "p-bad", Status: st})
		assert.ErrorContains(t, err, "invalid purchase status", "status %d", st)
	}
	assert.Len(t, srv.Purchases(), 1, "nothing added")
	for i, st := range []PurchaseStatus{PurchaseInUse, PurchaseClosed, PurchaseFrozen, PurchaseExpired} {
		p, err := srv.AddPurchase(Purchase{AccountID: DemoHuaweiAccountID, InstanceID: "p-" + strconv.Itoa(int(st)), Status: st})
		require.NoError(t, err)
		assert.Equal(t, st, p.Status)
		assert.Len(t, srv.Purchases(), i+2)
	}
	p, err := srv.AddPurchase(Purchase{AccountID: DemoHuaweiAccountID, InstanceID: "p-default"})
	require.NoError(t, err)
	assert.Equal(t, PurchaseInUse, p.Status)
}

// TestControlJSONNames: the control plane's types read and write the
// documented camelCase keys, with times in RFC 3339.
func TestControlJSONNames(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		v    any
		want string
	}{
		{Purchase{AccountID: "a", InstanceID: "i", ResourceID: "r", ProductID: "p", OrderID: "o", ResourceName: "n",
			ServiceTypeCode: "s", ResourceTypeCode: "t", RegionCode: "g", SpecCode: "c", Status: PurchaseFrozen,
			EffectiveTime: ts, ExpireTime: ts, UpdateTime: ts},
			`{"accountId":"a","instanceId":"i","resourceId":"r","productId":"p","orderId":"o","resourceName":"n",
			"serviceTypeCode":"s","resourceTypeCode":"t","regionCode":"g","specCode":"c","status":4,
			"effectiveTime":"2026-01-02T03:04:05Z","expireTime":"2026-01-02T03:04:05Z","updateTime":"2026-01-02T03:04:05Z"}`},
		{Purchase{AccountID: "a", InstanceID: "i"}, `{"accountId":"a","instanceId":"i"}`},
		{HuaweiAccount{ID: "d", Name: "n", ProjectID: "p", HideDomain: true,
			Keys: []AccessKey{{AK: "ak", SK: "sk", SecurityToken: "st", UserID: "u", UserName: "un"}}},
			`{"id":"d","name":"n","projectId":"p","hideDomain":true,
			"keys":[{"ak":"ak","sk":"sk","securityToken":"st","userId":"u","userName":"un"}]}`},
		{BillingAccountSeed{Username: "u", Email: "e", CompanyName: "c"}, `{"username":"u","email":"e","companyName":"c"}`},
		{AccountSeed{Site: site.US1, Username: "u", Email: "e", Phone: "p"}, `{"site":"us1","username":"u","email":"e","mobile":"p"}`},
		{WorkspaceSeed{OwnerAccountID: "o", Name: "n"}, `{"ownerAccountUUID":"o","name":"n"}`},
		{WorkspaceSeed{OwnerAccountID: "o", Name: "n", Language: twapi.LanguageZH, BillingAccountID: "b", IsLocked: true,
			CreateAt: ts, Settlement: twapi.Settlement{Method: twapi.SettlementBillingCenter}},
			`{"ownerAccountUUID":"o","name":"n","language":"zh","billingAccountUUID":"b","isLocked":true,
			"createAt":"2026-01-02T03:04:05Z","settlement":{"method":"billing_center","changedAt":0}}`},
		{SeededBinding{BindingSeed: BindingSeed{BillingAccountID: "b", HuaweiAccountID: "h", InstanceID: "i"}, Token: "t", ExpiresAt: ts},
			`{"billingAccountId":"b","huaweiAccountId":"h","instanceId":"i","token":"t","expiresAt":"2026-01-02T03:04:05Z"}`},
	} {
		raw := mustJSON(t, tc.v)
		assert.JSONEq(t, tc.want, string(raw))
	}
}

// TestControlEndpointsDocumented: every endpoint the control plane serves
// is in ControlEndpoints and in registerControl's doc comment, and answers
// its method.
func TestControlEndpointsDocumented(t *testing.T) {
	h := newHarness(t)
	src, err := os.ReadFile("control.go")
	require.NoError(t, err)
	eps := h.srv.ControlEndpoints()
	require.NotEmpty(t, eps)
	seen := map[string]bool{}
	for _, ep := range eps {
		key := ep.Method + " " + ep.Path
		assert.False(t, seen[key], "%s listed twice", key)
		seen[key] = true
		assert.NotEmpty(t, ep.Summary, key)
		assert.Regexp(t, `(?m)^//\s+`+ep.Method+`\s+`+regexp.QuoteMeta(ep.Path)+`[\s\[]`, string(src), "%s is documented", key)
	}
	for _, want := range []string{"POST /_mock/billing-accounts", "POST /_mock/accounts", "POST /_mock/workspaces",
		"POST /_mock/bindings", "GET /_mock/state"} {
		assert.True(t, seen[want], want)
	}
}
