package mockserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// TestStateRoundTrip: a server with a state file and a fixture is changed
// through the API (a registration, a bind with its token, a code sent and
// not used, a marketplace order), stopped, and a new server on the same
// file has the same state, the token and the code still work, and new IDs
// continue the sequence.
func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	h := newHarness(t, WithStateFile(path), WithFixtureFile("../examples/fixtures/acme.json"))
	require.Len(t, h.srv.BillingAccounts(), 1, "no state file yet: the fixture applies")

	h.register("ada", "ada@example.com")
	bound := h.bind("acmebilling", "billing@acme.example", acmeHuaweiID, "acme-inst-0001")
	h.sendCode("later@example.com", billing.PurposeRegister)
	code, _ := h.srv.LatestCode("later@example.com", billing.PurposeRegister)
	order, err := h.srv.PlaceOrder(context.Background(), OrderRequest{HuaweiAccountID: acmeHuaweiID, PeriodMonths: 1})
	require.NoError(t, err)
	require.Equal(t, OrderDelivered, order.Status)
	h.clock.Advance(5 * time.Minute)

	before := h.srv.exportState()
	require.NoError(t, h.srv.Stop())
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "it holds keys and tokens")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var head stateFile
	require.NoError(t, json.Unmarshal(raw, &head))
	assert.Equal(t, StateFormat, head.Format)
	assert.Equal(t, StateVersion, head.Version)
	assert.Contains(t, head.Namespaces, DefaultNamespace)

	clock := NewManualClock(testStart)
	srv := Start(t, WithoutListener(), WithClock(clock), WithSignatureClock(clock), WithStateFile(path))
	h2 := &harness{t: t, srv: srv, clock: clock, hc: srv.HTTPClient()}
	assert.Equal(t, before, srv.exportState(), "the same state, clock included")
	assert.Equal(t, h.srv.Orders(), srv.Orders())
	assert.Equal(t, h.srv.Outbox(), srv.Outbox())

	r := h2.do(http.MethodGet, bcPath(routes.ListWorkspaces), nil, withToken(bound.Token))
	assert.Equal(t, http.StatusOK, r.status, "the token survived: %s", r.raw)
	req := registerReq("later", "later@example.com", secretOf(code))
	req.HuaweiAccountID, req.InstanceID = acmeHuaweiID, order.InstanceID
	h2.requireOK(h2.do(http.MethodPost, bcPath(routes.Register), req), nil)

	// The registration after the restart took the next Billing Center
	// account ID; this seed takes the one after.
	g := &idGen{seed: before.Seed, counts: clone(before.IDs)}
	_ = g.next("bcac_")
	want := g.next("bcac_")
	b, err := srv.SeedBillingAccount(BillingAccountSeed{Username: "newcomer", Email: "new@example.com"})
	require.NoError(t, err)
	assert.Equal(t, want, b.ID, "IDs continue the sequence")
	for _, old := range before.TrueWatch.BillingAccounts {
		assert.NotEqual(t, old.ID, b.ID)
	}

	require.NoError(t, srv.Reset())
	assert.Len(t, srv.BillingAccounts(), 1, "Reset goes back to the saved fixture")
	assert.Equal(t, "acmebilling", srv.BillingAccounts()[0].Username)
}

// TestStateClockOffset: a system-clock server moved ahead is as far ahead
// after a restart.
func TestStateClockOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	srv, err := New(WithoutListener(), WithStateFile(path))
	require.NoError(t, err)
	_, err = srv.AdvanceClock(context.Background(), 48*time.Hour)
	require.NoError(t, err)
	saved, off := srv.Now(), srv.ClockState().Offset
	require.NoError(t, srv.Stop())

	srv2 := Start(t, WithoutListener(), WithStateFile(path))
	assert.False(t, srv2.Now().Before(saved), "never behind the saved time")
	assert.Less(t, srv2.Now().Sub(saved), time.Hour)
	assert.Equal(t, off, srv2.ClockState().Offset)
}

// TestStateTermEndedWhileDown: a term that was running when the state was
// saved and ended before the restart ends at the first catch-up, and the
// vendor is told, as if the mock had run.
func TestStateTermEndedWhileDown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	h := newHarness(t, WithStateFile(path))
	_, err := h.srv.AddPurchase(Purchase{AccountID: DemoHuaweiAccountID, InstanceID: "short-term", ExpireTime: testStart.Add(2 * time.Hour)})
	require.NoError(t, err)
	require.NoError(t, h.srv.Stop())

	clock := NewManualClock(testStart.Add(3 * time.Hour))
	srv := Start(t, WithoutListener(), WithClock(clock), WithSignatureClock(clock), WithStateFile(path))
	_, err = srv.AdvanceClock(context.Background(), 0)
	require.NoError(t, err)
	sub, ok := srv.Subscription(DemoHuaweiAccountID, "short-term")
	require.True(t, ok)
	assert.Equal(t, billing.StatusExpired, sub.Status)
	assert.NotEmpty(t, srv.Deliveries(DeliveryFilter{InstanceID: "short-term"}), "the vendor was told")
}

// TestSnapshotOnDemand: POST /_mock/snapshot writes the file (SaveState),
// 409 without a state file; the file written is loadable.
func TestSnapshotOnDemand(t *testing.T) {
	h := newHarness(t)
	status, raw := h.control(http.MethodPost, "/_mock/snapshot", "")
	assert.Equal(t, http.StatusConflict, status, "%s", raw)
	assert.ErrorIs(t, h.srv.SaveState(context.Background()), ErrNoStateFile)

	path := filepath.Join(t.TempDir(), "nested-ok", "..", "state.json")
	h = newHarness(t, WithStateFile(path))
	_, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "acme", Email: "ops@acme.example"})
	require.NoError(t, err)
	status, raw = h.control(http.MethodPost, "/_mock/snapshot", "")
	require.Equal(t, http.StatusOK, status, "%s", raw)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	srv := Start(t, WithoutListener(), WithStateFile(path))
	assert.Equal(t, h.srv.BillingAccounts(), srv.BillingAccounts())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, h.srv.SaveState(ctx), context.Canceled)
}

// TestStateFileRefused: a state file of another format or version,
// corrupted, truncated, of unknown fields or inconsistent is a start-up
// error naming the file and the problem, without a secret in it.
func TestStateFileRefused(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	h := newHarness(t, WithStateFile(good))
	h.seedWorkspace(h.seedExisting("acme", "ops@acme.example"), "prod", twapi.Settlement{})
	h.seedExisting("acme2", "ops2@acme.example")
	h.bind("acme", "ops@acme.example", DemoHuaweiAccountID, DemoInstanceID)
	require.NoError(t, h.srv.SaveState(context.Background()))
	valid, err := os.ReadFile(good)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(valid, &doc))
	edit := func(f func(ns map[string]any)) []byte {
		var d map[string]any
		require.NoError(t, json.Unmarshal(valid, &d))
		f(d["namespaces"].(map[string]any)["default"].(map[string]any))
		b, err := json.Marshal(d)
		require.NoError(t, err)
		return b
	}
	tw := func(ns map[string]any) map[string]any { return ns["trueWatch"].(map[string]any) }

	cases := []struct {
		name, want string
		data       []byte
	}{
		{"empty", "corrupted or truncated", []byte{}},
		{"garbage", "corrupted or truncated", []byte("\x00\x01not json")},
		{"truncated", "corrupted or truncated", valid[:len(valid)/2]},
		{"trailing data", "corrupted", append(append([]byte{}, valid...), []byte(`{"x":1}`)...)},
		{"another format", `format "other"`, []byte(`{"format":"other","version":1}`)},
		{"another version", "version 2 is not supported", []byte(`{"format":"truewatch-mock-state","version":2,"namespaces":{}}`)},
		{"no namespace", `no namespace "default"`, []byte(`{"format":"truewatch-mock-state","version":1,"namespaces":{}}`)},
		{"unknown field", "unknown field", edit(func(ns map[string]any) { ns["journal"] = []any{} })},
		{"wrong type", "does not match", edit(func(ns map[string]any) { ns["ids"] = "many" })},
		{"workspace of an unknown owner", "trueWatch.workspaces[0]: unknown owner", edit(func(ns map[string]any) {
			tw(ns)["workspaces"].([]any)[0].(map[string]any)["ownerAccountUUID"] = "acnt_nobody"
		})},
		{"binding to an unknown account", "trueWatch.bindings[0]", edit(func(ns map[string]any) {
			tw(ns)["bindings"].([]any)[0].(map[string]any)["billingAccountId"] = "bcac_nobody"
		})},
		{"token of an unknown account", "a token names unknown Billing Center account", edit(func(ns map[string]any) {
			tw(ns)["tokens"].([]any)[0].(map[string]any)["billingAccountId"] = "bcac_nobody"
		})},
		{"duplicate Huawei account", "huawei.accounts[1]", edit(func(ns map[string]any) {
			hw := ns["huawei"].(map[string]any)
			hw["accounts"] = append(hw["accounts"].([]any), hw["accounts"].([]any)[0])
		})},
		{"purchase of an unknown account", "huawei.purchases[0]", edit(func(ns map[string]any) {
			ns["huawei"].(map[string]any)["purchases"].([]any)[0].(map[string]any)["accountId"] = strings.Repeat("e", 32)
		})},
		{"duplicate username", "trueWatch.billingAccounts[1]", edit(func(ns map[string]any) {
			bcs := tw(ns)["billingAccounts"].([]any)
			bcs[1].(map[string]any)["username"] = bcs[0].(map[string]any)["username"]
		})},
	}
	tokens := h.srv.exportState().TrueWatch.Tokens
	require.NotEmpty(t, tokens)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			require.NoError(t, os.WriteFile(path, c.data, 0o600))
			srv, err := New(WithoutListener(), WithStateFile(path))
			if srv != nil {
				srv.Close()
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), DemoSecretKey)
			for _, tok := range tokens {
				assert.NotContains(t, err.Error(), tok.Token)
			}
			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, c.data, after, "a refused file is left as it is")
		})
	}

	// A directory where the file should be is a start-up error too.
	_, err = New(WithoutListener(), WithStateFile(dir))
	assert.Error(t, err)
	assert.False(t, errors.Is(err, os.ErrNotExist))
}
