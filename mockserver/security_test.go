package mockserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// The attacks of an outsider who knows every public identifier (the
// owner's Huawei account ID, instance ID, usernames and emails, the mock's
// seed) but holds only their own Huawei account and Billing Center account.
// Each refused attempt changes nothing.

const (
	strangerHuaweiID = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	strangerInstance = "tw-inst-stranger"
)

// attack is a mock with the demo account as the victim (nothing bound) and
// a stranger with their own Huawei account, purchase and Billing Center
// account.
type attack struct {
	*harness
	stranger existing
}

func newAttack(t *testing.T, opts ...Option) *attack {
	h := newHarness(t, opts...)
	h.addSubscription(strangerHuaweiID, strangerInstance)
	return &attack{harness: h, stranger: h.seedExisting("mallory", "mallory@example.com")}
}

// strangersBind is the stranger binding their Billing Center account to
// the victim's subscription, with a valid code of their own.
func (a *attack) strangersBind() billing.BindAccountRequest {
	return billing.BindAccountRequest{Username: "mallory", Email: "mallory@example.com",
		EmailCode:       a.sendCode("mallory@example.com", billing.PurposeBindBillingAccount),
		HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID}
}

// proofs are the proofs a stranger can come up with for the victim's
// account, each made fresh by its function, and the refusal each gets.
func (a *attack) proofs(t *testing.T) []struct {
	name string
	make func() string
	code string
} {
	t.Helper()
	sign := func(endpoint, audience, ak, sk string, skew time.Duration) func() string {
		return func() string {
			p, err := proof.Sign(endpoint, proof.PathCallerIdentity, audience, ak, sk, "", a.srv.Now().Add(skew))
			require.NoError(t, err)
			return p
		}
	}
	used := a.proofFor(DemoHuaweiAccountID)
	a.requireOK(a.do(http.MethodGet, bcPath(routes.GetSubscription)+"?huaweiAccountId="+DemoHuaweiAccountID+"&instanceId="+DemoInstanceID,
		nil, withProof(used)), nil)
	strangerAK := "AK" + strings.ToUpper(strangerHuaweiID[:16])
	aud := a.srv.Audience()
	return []struct {
		name string
		make func() string
		code string
	}{
		{"no proof", func() string { return "" }, apierror.CodeProofRequired},
		{"the stranger's own account", func() string { return a.proofFor(strangerHuaweiID) }, apierror.CodeProofAccountMismatch},
		{"the victim's AK with a guessed SK", sign(a.srv.URL(), aud, DemoAccessKey, "guess", 0), apierror.CodeProofInvalid},
		{"a proof the victim already used", func() string { return used }, apierror.CodeProofReused},
		{"a proof the victim made for another Billing Center",
			sign(a.srv.URL(), "https://other-billing.example.com", DemoAccessKey, DemoSecretKey, 0), apierror.CodeProofAudience},
		{"an old proof of the victim", sign(a.srv.URL(), aud, DemoAccessKey, DemoSecretKey, -proof.Window-time.Minute),
			apierror.CodeProofExpired},
		{"a proof of the victim from the future", sign(a.srv.URL(), aud, DemoAccessKey, DemoSecretKey, proof.Window+time.Minute),
			apierror.CodeProofExpired},
		{"the stranger's own proof sent to their own server (SSRF)",
			sign("http://attacker.example", aud, strangerAK, "sk-"+strangerHuaweiID, 0), apierror.CodeProofEndpoint},
		{"garbage", func() string { return "bm90IGEgcHJvb2Y=" }, apierror.CodeProofInvalid},
	}
}

func statusOf(code string) int {
	switch code {
	case apierror.CodeProofAccountMismatch:
		return http.StatusForbidden
	case apierror.CodeProofUnverifiable:
		return http.StatusBadGateway
	}
	return http.StatusUnauthorized
}

func proofOpt(p string) reqOpt {
	if p == "" {
		return withoutProof()
	}
	return withProof(p)
}

// TestStrangerCannotSquatASubscription: binding one's own Billing Center
// account, or registering a new one, on another's subscription needs a
// proof of that Huawei account, which no public identifier gives.
func TestStrangerCannotSquatASubscription(t *testing.T) {
	a := newAttack(t)
	for _, p := range a.proofs(t) {
		t.Run(p.name, func(t *testing.T) {
			a.clock.Advance(61 * time.Second) // a new code may be sent
			bind := a.strangersBind()
			reg := registerReq("mallory2", "mallory2@example.com", a.sendCode("mallory2@example.com", billing.PurposeRegister))
			before := a.srv.liveCode("mallory@example.com", billing.PurposeBindBillingAccount)
			require.NotNil(t, before)
			a.requireUnchanged(func() {
				r := a.do(http.MethodPost, bcPath(routes.BindAccount), bind, proofOpt(p.make()), withKey("k-"+strings.ReplaceAll(p.name, " ", "-")))
				requireErr(t, r, statusOf(p.code), p.code)
				if r.status == http.StatusUnauthorized {
					assert.Equal(t, `HuaweiOwnershipProof audience="`+a.srv.Audience()+`"`, r.header.Get("WWW-Authenticate"))
				}
				requireErr(t, a.do(http.MethodPost, bcPath(routes.Register), reg, proofOpt(p.make())), statusOf(p.code), p.code)
			})
			assert.Equal(t, before, a.srv.liveCode("mallory@example.com", billing.PurposeBindBillingAccount),
				"the refused request did not even count as an attempt of the code")
		})
	}
	sub, _ := a.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
	assert.False(t, sub.Bound)
	// The owner still registers.
	a.clock.Advance(61 * time.Second)
	a.register("ada", "ada@example.com")
	sub, _ = a.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
	assert.Equal(t, "ada", sub.BillingUsername)
}

// TestSubscriptionLookupTellsStrangersNothing: without a proof the lookup
// says only what both IDs already reveal; never who bound it or what it
// settles.
func TestSubscriptionLookupTellsStrangersNothing(t *testing.T) {
	a := newAttack(t)
	reg := a.register("ada", "ada@example.com")
	path := bcPath(routes.GetSubscription) + "?" + url.Values{"huaweiAccountId": {DemoHuaweiAccountID}, "instanceId": {DemoInstanceID}}.Encode()

	r := a.do(http.MethodGet, path, nil, withoutProof())
	a.requireOK(r, nil)
	var got map[string]any
	require.NoError(t, json.Unmarshal(r.env.Content, &got))
	assert.Equal(t, map[string]any{"huaweiAccountId": DemoHuaweiAccountID, "instanceId": DemoInstanceID,
		"productId": TrueWatchProductID, "status": "in_use", "active": true, "ownershipProven": false}, got)
	for _, leak := range []string{reg.BillingAccount.ID, `"ada"`, reg.Workspace.ID, `"prod"`, "/login", "bound", "workspaces"} {
		assert.NotContains(t, string(r.env.Content), leak)
	}

	// The stranger's own valid proof does not open the victim's view.
	requireErr(t, a.do(http.MethodGet, path, nil, withProof(a.proofFor(strangerHuaweiID))), http.StatusForbidden,
		apierror.CodeProofAccountMismatch)

	var full billing.Subscription
	a.requireOK(a.do(http.MethodGet, path, nil), &full)
	assert.True(t, full.OwnershipProven)
	assert.Equal(t, "ada", full.BillingUsername)
	assert.Len(t, full.Workspaces, 1)
}

// TestComputedKeyReplayGetsNoToken: the owner's Idempotency-Key, even if a
// stranger knows it, replays nothing to the stranger: keys live in the
// scope of the proven account, and the proof is checked first.
func TestComputedKeyReplayGetsNoToken(t *testing.T) {
	a := newAttack(t)
	a.seedExisting("ada", "ada@example.com")
	const key = "act_the-owners-key"
	owner := billing.BindAccountRequest{Username: "ada", Email: "ada@example.com",
		EmailCode:       a.sendCode("ada@example.com", billing.PurposeBindBillingAccount),
		HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID}
	var first billing.BindAccountResult
	a.requireOK(a.do(http.MethodPost, bcPath(routes.BindAccount), owner, withKey(key)), &first)

	replay := owner
	replay.EmailCode = "000000" // the code is left out of the fingerprint
	a.requireUnchanged(func() {
		for _, opt := range []reqOpt{withoutProof(), withProof(a.proofFor(strangerHuaweiID))} {
			r := a.do(http.MethodPost, bcPath(routes.BindAccount), replay, withKey(key), opt)
			assert.NotEqual(t, http.StatusOK, r.status)
			assert.Empty(t, r.header.Get(IdempotentReplayedHeader))
			assert.NotContains(t, string(r.raw), first.Token.Reveal(), "the owner's token never reaches the stranger")
		}
	})
	// The owner's own retry, with a fresh proof, gets the stored answer.
	var again billing.BindAccountResult
	r := a.do(http.MethodPost, bcPath(routes.BindAccount), replay, withKey(key))
	a.requireOK(r, &again)
	assert.Equal(t, "true", r.header.Get(IdempotentReplayedHeader))
	assert.Equal(t, first.Token, again.Token)
}

// TestPoisonedKeyBlocksNobody: a stranger who sends the owner's key first,
// with other inputs, only fills their own scope; the owner's request with
// that key is done as if the key were new.
func TestPoisonedKeyBlocksNobody(t *testing.T) {
	a := newAttack(t)
	const key = "act_the-owners-key"
	// The stranger uses the key for their own, legitimate, binding.
	mine := a.strangersBind()
	mine.HuaweiAccountID, mine.InstanceID = strangerHuaweiID, strangerInstance
	a.requireOK(a.do(http.MethodPost, bcPath(routes.BindAccount), mine, withKey(key)), nil)
	// And for requests on the victim's subscription, which are refused
	// before the key is looked at.
	a.requireUnchanged(func() {
		requireErr(t, a.do(http.MethodPost, bcPath(routes.Register),
			registerReq("mallory3", "m3@example.com", "123456"), withKey(key), withoutProof()),
			http.StatusUnauthorized, apierror.CodeProofRequired)
	})

	var res billing.RegisterResult
	r := a.do(http.MethodPost, bcPath(routes.Register),
		registerReq("ada", "ada@example.com", a.sendCode("ada@example.com", billing.PurposeRegister)), withKey(key))
	a.requireOK(r, &res)
	assert.Empty(t, r.header.Get(IdempotentReplayedHeader), "the owner's request is not the stranger's")
	sub, _ := a.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID)
	assert.Equal(t, "ada", sub.BillingUsername)
}

// TestProofIsSingleUse: a proof works once, even when two requests race
// with it.
func TestProofIsSingleUse(t *testing.T) {
	h := newHarness(t)
	path := bcPath(routes.GetSubscription) + "?huaweiAccountId=" + DemoHuaweiAccountID + "&instanceId=" + DemoInstanceID
	p := h.proofFor(DemoHuaweiAccountID)
	h.requireOK(h.do(http.MethodGet, path, nil, withProof(p)), nil)
	requireErr(t, h.do(http.MethodGet, path, nil, withProof(p)), http.StatusUnauthorized, apierror.CodeProofReused)

	const racers = 8
	p = h.proofFor(DemoHuaweiAccountID)
	var wg sync.WaitGroup
	statuses := make([]int, racers)
	for i := range racers {
		wg.Go(func() { statuses[i] = h.doAsync(http.MethodGet, path, nil, withProof(p)).status })
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			ok++
		} else {
			assert.Equal(t, http.StatusUnauthorized, s)
		}
	}
	assert.Equal(t, 1, ok, "exactly one of the racers gets through")

	// A proof given twice in one request is refused, not guessed at.
	r := h.do(http.MethodGet, path, nil, withProof(h.proofFor(DemoHuaweiAccountID)),
		func(r *http.Request) { r.Header.Add(proof.Header, h.proofFor(DemoHuaweiAccountID)) })
	requireErr(t, r, http.StatusUnauthorized, apierror.CodeProofInvalid)
}

// TestProofVerificationGoesThroughHuawei: the mock asks its own Huawei
// half, through the same handler (and faults) every Huawei call sees. A
// Huawei that does not answer makes the proof unverifiable (502, worth a
// fresh proof); the next proof goes through.
func TestProofVerificationGoesThroughHuawei(t *testing.T) {
	h := newHarness(t)
	_, err := h.srv.InjectFault(Fault{Path: proof.PathCallerIdentity, Status: http.StatusServiceUnavailable})
	require.NoError(t, err)
	path := bcPath(routes.GetSubscription) + "?huaweiAccountId=" + DemoHuaweiAccountID + "&instanceId=" + DemoInstanceID
	requireErr(t, h.do(http.MethodGet, path, nil), http.StatusBadGateway, apierror.CodeProofUnverifiable)
	_, err = h.srv.InjectFault(Fault{Path: proof.PathCallerIdentity, DropConnection: true})
	require.NoError(t, err)
	requireErr(t, h.do(http.MethodGet, path, nil), http.StatusBadGateway, apierror.CodeProofUnverifiable)
	var sub billing.Subscription
	h.requireOK(h.do(http.MethodGet, path, nil), &sub)
	assert.True(t, sub.OwnershipProven)
	assert.Equal(t, []int{1, 1}, h.srv.FaultHits())

	// A key that Huawei no longer knows proves nothing.
	h.srv.mu.Lock()
	delete(h.srv.st.huawei.keys, DemoAccessKey)
	h.srv.mu.Unlock()
	requireErr(t, h.do(http.MethodGet, path, nil), http.StatusUnauthorized, apierror.CodeProofInvalid)
}

// TestCredentialsAreUnpredictable: tokens and codes come from crypto/rand,
// not from the seed that makes IDs deterministic: two servers with the
// same seed and the same calls give the same IDs but other credentials,
// and the token the old generator would have made is no token.
func TestCredentialsAreUnpredictable(t *testing.T) {
	run := func() (ids []string, tokens []string, codes []string) {
		h := newHarness(t)
		for i := range 4 {
			email := "user" + string(rune('a'+i)) + "@example.com"
			codes = append(codes, h.sendCode(email, billing.PurposeRegister).Reveal())
		}
		b, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "ada", Email: "ada@example.com"})
		require.NoError(t, err)
		ids = append(ids, b.ID)
		tok, err := h.srv.SeedBinding(b.ID, DemoHuaweiAccountID, DemoInstanceID)
		require.NoError(t, err)
		tokens = append(tokens, tok.Reveal())
		res := h.bind("ada", "ada@example.com", DemoHuaweiAccountID, DemoInstanceID)
		tokens = append(tokens, res.Token.Reveal())
		return ids, tokens, codes
	}
	ids1, tok1, codes1 := run()
	ids2, tok2, codes2 := run()
	assert.Equal(t, ids1, ids2, "IDs stay deterministic (WithIDSeed)")
	assert.NotEqual(t, codes1, codes2)
	for i := range tok1 {
		assert.Regexp(t, `^bctk_[0-9a-f]{32}$`, tok1[i])
		assert.NotEqual(t, tok1[i], tok2[i])
	}

	h := newHarness(t)
	sum := sha256.Sum256([]byte("truewatch-mock|bctk_|1"))
	predicted := "bctk_" + hex.EncodeToString(sum[:16])
	requireErr(t, h.do(http.MethodGet, bcPath(routes.GetBinding), nil, withHeader("Authorization", "Bearer "+predicted)),
		http.StatusUnauthorized, apierror.CodeUnauthorized)
}
