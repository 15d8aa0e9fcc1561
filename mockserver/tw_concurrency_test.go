package mockserver

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// TestConcurrentRegistrations registers many users on their own
// subscriptions at once, over a real listener, while others read; run with
// -race.
func TestConcurrentRegistrations(t *testing.T) {
	const n = 24
	srv := Start(t, WithoutDemoFixture())
	hwID := "00000000000000000000000000000abc"
	require.NoError(t, srv.AddHuaweiAccount(HuaweiAccount{ID: hwID, Keys: []AccessKey{{AK: "CONCURRENTAK0001", SK: "sk"}}}))
	for i := range n {
		_, err := srv.AddPurchase(Purchase{AccountID: hwID, InstanceID: fmt.Sprintf("inst-%02d", i)})
		require.NoError(t, err)
	}
	h := &harness{t: t, srv: srv, hc: srv.HTTPClient()}

	var wg sync.WaitGroup
	results := make([]billing.RegisterResult, n)
	statuses := make([]int, n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			email := fmt.Sprintf("user%02d@example.com", i)
			r := h.doAsync(http.MethodPost, bcPath(routes.SendCode), billing.SendCodeRequest{Email: email, Purpose: billing.PurposeRegister})
			if r.status != http.StatusOK {
				statuses[i] = r.status
				return
			}
			code, _ := srv.LatestCode(email, billing.PurposeRegister)
			req := registerReq(fmt.Sprintf("user%02d", i), email, secretOf(code))
			req.HuaweiAccountID, req.InstanceID = hwID, fmt.Sprintf("inst-%02d", i)
			r = h.doAsync(http.MethodPost, bcPath(routes.Register), req)
			statuses[i] = r.status
			_ = decodeContent(r, &results[i])
		}()
		go func() {
			defer wg.Done()
			_ = srv.Workspaces()
			_ = h.doAsync(http.MethodGet, bcPath(routes.GetSubscription)+"?huaweiAccountId="+hwID+"&instanceId=inst-00", nil)
		}()
	}
	wg.Wait()

	ids := map[string]bool{}
	for i := range n {
		require.Equal(t, http.StatusOK, statuses[i], "user %d", i)
		for _, id := range []string{results[i].Account.ID, results[i].BillingAccount.ID, results[i].Workspace.ID} {
			assert.False(t, ids[id], "duplicate ID %s", id)
			ids[id] = true
		}
	}
	assert.Len(t, srv.Accounts(), n)
	assert.Len(t, srv.BillingAccounts(), n)
	assert.Len(t, srv.Workspaces(), n)
}

// TestConcurrentRegistrationsOneSubscription: many users race to register
// on the same subscription; exactly one wins, the rest are AlreadyBound,
// and nothing half-made is left behind.
func TestConcurrentRegistrationsOneSubscription(t *testing.T) {
	const n = 16
	h := newHarness(t)
	reqs := make([]billing.RegisterRequest, n)
	for i := range n {
		email := fmt.Sprintf("user%02d@example.com", i)
		reqs[i] = registerReq(fmt.Sprintf("user%02d", i), email, h.sendCode(email, billing.PurposeRegister))
	}
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = h.doAsync(http.MethodPost, bcPath(routes.Register), reqs[i]).env.ErrorCode
		}()
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		if c == "" {
			won++
			continue
		}
		assert.Equal(t, apierror.CodeAlreadyBound, c)
	}
	assert.Equal(t, 1, won)
	assert.Len(t, h.srv.Accounts(), 1)
	assert.Len(t, h.srv.BillingAccounts(), 1)
	assert.Len(t, h.srv.Workspaces(), 1)
}
