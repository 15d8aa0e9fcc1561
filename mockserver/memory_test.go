package mockserver

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// sizes reports the maps that grow with use.
func (s *Server) sizes() (tokens, codes, lastSent, proofs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tw := &s.st.tw
	return len(tw.tokens), len(tw.codes), len(tw.lastSent), len(tw.proofsUsed)
}

// TestExpiredTokensAreFreed: a token is kept a lifetime past its expiry,
// so that using it says ft.TokenExpired, then freed as new ones are made.
func TestExpiredTokensAreFreed(t *testing.T) {
	h := newHarness(t, WithTokenTTL(time.Hour))
	b, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "ada", Email: "ada@example.com"})
	require.NoError(t, err)
	for range 50 {
		_, err := h.srv.SeedBinding(b.ID, DemoHuaweiAccountID, DemoInstanceID)
		require.NoError(t, err)
	}
	old, err := h.srv.SeedBinding(b.ID, DemoHuaweiAccountID, DemoInstanceID)
	require.NoError(t, err)
	h.clock.Advance(90 * time.Minute)
	requireErr(t, h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withToken(old)), http.StatusUnauthorized, apierror.CodeTokenExpired)
	h.clock.Advance(31 * time.Minute)
	_, err = h.srv.SeedBinding(b.ID, DemoHuaweiAccountID, DemoInstanceID)
	require.NoError(t, err)
	tokens, _, _, _ := h.srv.sizes()
	assert.Equal(t, 1, tokens, "the 51 expired tokens are freed")
	requireErr(t, h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withToken(old)), http.StatusUnauthorized, apierror.CodeUnauthorized)
}

// TestExpiredCodesAreFreed: used codes go at once, expired ones a code
// lifetime after expiring, resend marks after the resend interval.
func TestExpiredCodesAreFreed(t *testing.T) {
	h := newHarness(t)
	for i := range 100 {
		h.sendCode(fmt.Sprintf("user%d@example.com", i), billing.PurposeRegister)
	}
	h.register("ada", "ada@example.com")
	_, codes, sent, _ := h.srv.sizes()
	assert.Equal(t, 100, codes, "the used code is gone")
	assert.Equal(t, 101, sent)

	h.clock.Advance(11 * time.Minute)
	requireErr(t, h.do(http.MethodPost, bcPath(routes.Register), registerReq("user0", "user0@example.com", "123456")),
		http.StatusBadRequest, apierror.CodeCodeExpired)
	h.sendCode("late@example.com", billing.PurposeRegister)
	_, codes, sent, _ = h.srv.sizes()
	assert.Equal(t, 101, codes, "expired codes are kept a lifetime, to say they expired")
	assert.Equal(t, 1, sent, "resend marks go after the resend interval")

	h.clock.Advance(10 * time.Minute)
	h.sendCode("later@example.com", billing.PurposeRegister)
	_, codes, _, _ = h.srv.sizes()
	assert.Equal(t, 2, codes)
}

// TestUsedProofsAreFreed: a used proof is remembered until its window
// ends, then freed.
func TestUsedProofsAreFreed(t *testing.T) {
	h := newHarness(t)
	path := bcPath(routes.GetSubscription) + "?huaweiAccountId=" + DemoHuaweiAccountID + "&instanceId=" + DemoInstanceID
	for range 20 {
		h.requireOK(h.do(http.MethodGet, path, nil), nil)
	}
	_, _, _, proofs := h.srv.sizes()
	assert.Equal(t, 20, proofs)
	h.clock.Advance(2*proof.Window + time.Second)
	h.requireOK(h.do(http.MethodGet, path, nil), nil)
	_, _, _, proofs = h.srv.sizes()
	assert.Equal(t, 1, proofs)
}
