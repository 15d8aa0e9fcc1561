package mockserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/site"
)

// TestStressResetRequestsAndSeeding mixes Resets, API calls (with and
// without Idempotency-Key, with tokens that a Reset or a release makes
// stale), seeding, releases and reads, over a real listener; run with
// -race. No request may get a 5xx, and the state must be consistent
// afterwards.
func TestStressResetRequestsAndSeeding(t *testing.T) {
	srv := Start(t)
	h := &harness{t: t, srv: srv, hc: srv.HTTPClient()}
	const workers, rounds = 6, 25
	var wg sync.WaitGroup
	check := func(r *wireResp) {
		assert.Less(t, r.status, 500, "%s", r.raw)
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				user := fmt.Sprintf("u%d-%d", w, i)
				email := user + "@example.com"
				switch (w + i) % 5 {
				case 0:
					assert.NoError(t, srv.Reset())
				case 1: // register through the API
					r := h.doAsync(http.MethodPost, bcPath(routes.SendCode), billing.SendCodeRequest{Email: email, Purpose: billing.PurposeRegister})
					check(r)
					code, _ := srv.LatestCode(email, billing.PurposeRegister)
					check(h.doAsync(http.MethodPost, bcPath(routes.Register), registerReq(user, email, secretOf(code)),
						withKey("k-"+user)))
				case 2: // seed, bind, then use the token
					b, err := srv.SeedBillingAccount(BillingAccountSeed{Username: user, Email: email})
					if err != nil {
						continue
					}
					if a, err := srv.SeedAccount(AccountSeed{Site: site.AP1, Username: user, Email: email}); err == nil {
						_, _ = srv.SeedWorkspace(WorkspaceSeed{OwnerAccountID: a.ID, BillingAccountID: b.ID, Name: "w"})
					}
					tok, err := srv.SeedBinding(b.ID, DemoHuaweiAccountID, DemoInstanceID)
					if err != nil {
						continue
					}
					r := h.doAsync(http.MethodGet, bcPath(routes.ListWorkspaces), nil, withToken(tok))
					check(r)
					var list []billing.BindableWorkspace
					if r.status == http.StatusOK && decodeContent(r, &list) == nil && len(list) > 0 {
						check(h.doAsync(http.MethodPost, bcPath(routes.BindWorkspace),
							billing.BindWorkspaceRequest{WorkspaceID: list[0].ID}, withToken(tok), withKey("b-"+user)))
					}
					check(h.doAsync(http.MethodGet, bcPath(routes.GetBinding), nil, withToken(tok)))
					check(h.doAsync(http.MethodPost, sitePath(site.AP1, routes.CreateWorkspace), createReq("123456"), withToken(tok)))
				case 3: // release and buy again
					_, _ = srv.ReleasePurchase(context.Background(), DemoInstanceID)
					_, _ = srv.AddPurchase(Purchase{AccountID: DemoHuaweiAccountID, InstanceID: "inst-" + user})
				case 4: // read
					_ = srv.Workspaces()
					_, _ = srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
					check(h.doAsync(http.MethodGet, bcPath(routes.GetSubscription)+"?huaweiAccountId="+DemoHuaweiAccountID+
						"&instanceId="+DemoInstanceID, nil))
					_ = srv.Outbox()
				}
			}
		}()
	}
	wg.Wait()
	srv.requireConsistent(t)
}

// requireConsistent checks the invariants of the TrueWatch state: every
// reference resolves, and every index agrees with the records.
func (s *Server) requireConsistent(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	tw := &s.st.tw
	require.Len(t, tw.accountIDs, len(tw.accounts))
	require.Len(t, tw.billingIDs, len(tw.billing))
	require.Len(t, tw.wsIDs, len(tw.workspaces))
	for _, a := range tw.accounts {
		require.Equal(t, a.ID, tw.accountByUser[siteKey{a.Site, foldKey(a.Username)}])
	}
	for _, b := range tw.billing {
		require.Equal(t, b.ID, tw.billingByUser[foldKey(b.Username)])
	}
	settled := map[subKey][]string{}
	for i, id := range tw.wsIDs {
		w := tw.workspaces[id]
		require.NotNil(t, tw.accounts[w.OwnerAccountID], "owner of %s", id)
		if w.BillingAccountID != "" {
			require.NotNil(t, tw.billing[w.BillingAccountID], "billing account of %s", id)
		}
		require.Equal(t, i, tw.wsPos[id])
		if k, ok := settlementKey(w.Settlement); ok {
			require.NotNil(t, s.subscriptionLocked(k), "subscription settling %s", id)
			settled[k] = append(settled[k], id)
		}
	}
	require.Len(t, tw.settled, len(settled))
	for k, ids := range settled {
		require.True(t, slices.Equal(ids, tw.settled[k]), "settled index of %v", k)
	}
	for k, b := range tw.bindings {
		require.NotNil(t, tw.billing[b.billingAccountID])
		p := s.subscriptionLocked(k)
		require.NotNil(t, p)
		if s.subStatusLocked(p) == PurchaseClosed {
			require.False(t, tw.subs[k.instanceID].graceUntil.IsZero(), "a released subscription keeps its binding only in its grace period")
		}
	}
	for id, sub := range tw.subs {
		_, listed := tw.inGrace[id]
		require.Equal(t, !sub.graceUntil.IsZero(), listed, "grace index of %s", id)
		require.Equal(t, id, sub.key.instanceID)
	}
	for _, tok := range tw.tokens {
		require.NotNil(t, tw.billing[tok.billingAccountID])
	}
}
