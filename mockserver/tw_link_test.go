package mockserver

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// linkOf buys through the marketplace and returns the order and its
// activation link's proof.
func (h *harness) linkOf() (MarketplaceOrder, string) {
	h.t.Helper()
	o := h.order(`{"huaweiAccountId":"` + DemoHuaweiAccountID + `"}`)
	require.Equal(h.t, OrderDelivered, o.Status, o.LastError)
	u, err := url.Parse(o.FrontEndURL)
	require.NoError(h.t, err)
	return o, proof.EncodeLink(u.Query().Get("token"))
}

func subPath(huaweiID, instanceID string) string {
	return bcPath(routes.GetSubscription) + "?" + url.Values{"huaweiAccountId": {huaweiID}, "instanceId": {instanceID}}.Encode()
}

// TestActivationLinkProves: the link's token proves the instance's account
// to the subscription look-up and to register, without Huawei keys; the
// registration uses it up: its retry (same key) is replayed and look-ups
// keep working, binding the account it bound again works, and any other
// change with it is refused.
func TestActivationLinkProves(t *testing.T) {
	h := newHarness(t)
	o, link := h.linkOf()
	var sub billing.Subscription
	h.requireOK(h.do(http.MethodGet, subPath(DemoHuaweiAccountID, o.InstanceID), nil, withProof(link)), &sub)
	assert.True(t, sub.OwnershipProven, "the link proves the account")
	assert.True(t, sub.Active)

	req := registerReq("ada", "ada@example.com", h.sendCode("ada@example.com", billing.PurposeRegister))
	req.InstanceID = o.InstanceID
	first := h.do(http.MethodPost, bcPath(routes.Register), req, withProof(link), withKey("reg-1"))
	var reg billing.RegisterResult
	h.requireOK(first, &reg)
	retry := h.do(http.MethodPost, bcPath(routes.Register), req, withProof(link), withKey("reg-1"))
	h.requireOK(retry, nil)
	assert.Equal(t, "true", retry.header.Get("Idempotent-Replayed"), "a retry of the change that used the link is answered")
	h.requireOK(h.do(http.MethodGet, subPath(DemoHuaweiAccountID, o.InstanceID), nil, withProof(link)), &sub)
	assert.True(t, sub.Activated())

	// Binding the account it registered again (an interrupted activation
	// getting its token back) works; another account does not.
	_, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "mallory", Email: "mallory@example.com"})
	require.NoError(t, err)
	again := billing.BindAccountRequest{Username: "ada", Email: "ada@example.com",
		EmailCode: h.sendCode("ada@example.com", billing.PurposeBindBillingAccount), HuaweiAccountID: DemoHuaweiAccountID,
		InstanceID: o.InstanceID}
	h.requireOK(h.do(http.MethodPost, bcPath(routes.BindAccount), again, withProof(link), withKey("bind-ada")), nil)
	other := billing.BindAccountRequest{Username: "mallory", Email: "mallory@example.com",
		EmailCode: h.sendCode("mallory@example.com", billing.PurposeBindBillingAccount), HuaweiAccountID: DemoHuaweiAccountID,
		InstanceID: o.InstanceID}
	h.clock.Advance(codeResendInterval)
	req.EmailCode = h.sendCode("ada@example.com", billing.PurposeRegister)
	h.requireUnchanged(func() {
		requireErr(t, h.do(http.MethodPost, bcPath(routes.BindAccount), other, withProof(link), withKey("bind-1")),
			http.StatusUnauthorized, apierror.CodeProofReused)
		requireErr(t, h.do(http.MethodPost, bcPath(routes.Register), req, withProof(link), withKey("reg-2")),
			http.StatusUnauthorized, apierror.CodeProofReused)
		requireErr(t, h.do(http.MethodPost, bcPath(routes.Register), req, withProof(link)),
			http.StatusUnauthorized, apierror.CodeProofReused)
	})
	assert.NotNil(t, h.srv.liveCode("mallory@example.com", billing.PurposeBindBillingAccount), "the refusal used no code")
}

// TestActivationLinkScope: a link proves one instance of one account;
// unknown, malformed and expired links are refused; nothing changes.
func TestActivationLinkScope(t *testing.T) {
	h := newHarness(t)
	o, link := h.linkOf()
	other, otherLink := h.linkOf()
	require.NoError(t, h.srv.AddHuaweiAccount(HuaweiAccount{ID: otherHuaweiID}))
	_, err := h.srv.AddPurchase(Purchase{AccountID: otherHuaweiID, InstanceID: otherInstance})
	require.NoError(t, err)
	code := h.sendCode("ada@example.com", billing.PurposeRegister)
	reg := func(huaweiID, instanceID string) billing.RegisterRequest {
		r := registerReq("ada", "ada@example.com", code)
		r.HuaweiAccountID, r.InstanceID = huaweiID, instanceID
		return r
	}
	h.requireUnchanged(func() {
		requireErr(t, h.do(http.MethodPost, bcPath(routes.Register), reg(DemoHuaweiAccountID, DemoInstanceID), withProof(link)),
			http.StatusForbidden, apierror.CodeProofAccountMismatch)
		requireErr(t, h.do(http.MethodGet, subPath(DemoHuaweiAccountID, other.InstanceID), nil, withProof(link)),
			http.StatusForbidden, apierror.CodeProofAccountMismatch)
		requireErr(t, h.do(http.MethodPost, bcPath(routes.Register), reg(otherHuaweiID, otherInstance), withProof(link)),
			http.StatusForbidden, apierror.CodeProofAccountMismatch)
		requireErr(t, h.do(http.MethodGet, subPath(DemoHuaweiAccountID, o.InstanceID), nil,
			withProof(proof.EncodeLink("atk_00000000000000000000000000000000"))), http.StatusUnauthorized, apierror.CodeProofInvalid)
		requireErr(t, h.do(http.MethodGet, subPath(DemoHuaweiAccountID, o.InstanceID), nil,
			withProof("ActivationLink "+strings.Repeat("x", 40))), http.StatusUnauthorized, apierror.CodeProofInvalid)
	})

	h.clock.Advance(DefaultActivationLinkTTL - time.Second)
	h.requireOK(h.do(http.MethodGet, subPath(DemoHuaweiAccountID, other.InstanceID), nil, withProof(otherLink)), nil)
	h.clock.Advance(time.Second)
	h.requireUnchanged(func() {
		r := h.do(http.MethodPost, bcPath(routes.Register), reg(DemoHuaweiAccountID, o.InstanceID), withProof(link))
		requireErr(t, r, http.StatusUnauthorized, apierror.CodeProofExpired)
		assert.NotContains(t, string(r.raw), "atk_")
	})
}

// TestActivationPage: the link opens a page naming the instance; it uses
// nothing up, and unknown links get 404.
func TestActivationPage(t *testing.T) {
	h := newHarness(t)
	o, link := h.linkOf()
	get := func(u string) (int, string) {
		resp, err := h.hc.Get(u)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
		return resp.StatusCode, string(b)
	}
	status, page := get(o.FrontEndURL)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, o.InstanceID)
	assert.Contains(t, page, "WithActivationLink")
	status, _ = get(h.srv.BillingURL() + ActivationPath + "?token=atk_00000000000000000000000000000000")
	assert.Equal(t, http.StatusNotFound, status)

	req := registerReq("ada", "ada@example.com", h.sendCode("ada@example.com", billing.PurposeRegister))
	req.InstanceID = o.InstanceID
	h.requireOK(h.do(http.MethodPost, bcPath(routes.Register), req, withProof(link)), nil)
	_, page = get(o.FrontEndURL)
	assert.Contains(t, page, "used already")
}
