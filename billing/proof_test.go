package billing_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
)

func TestProofOnEveryAttempt(t *testing.T) {
	e := setup(t, testkit.Raw(503, ""), testkit.Fail(502, "", "bad gateway"), testkit.OK(map[string]any{}))
	_, err := e.c.Register(context.Background(), validRegister())
	require.NoError(t, err)
	var got []string
	for _, r := range e.rec.Requests() {
		got = append(got, r.Header.Get(billing.ProofHeader))
	}
	assert.Equal(t, []string{"client-1:" + baseURL, "client-2:" + baseURL, "client-3:" + baseURL}, got,
		"a fresh proof per attempt, for the client's audience")
}

func TestProofPerCall(t *testing.T) {
	e := setup(t, testkit.OK(map[string]any{}), testkit.OK(map[string]any{}), testkit.OK(map[string]any{}), testkit.OK(map[string]any{}))
	ctx := context.Background()
	tenant := &countingProver{name: "tenant"}
	_, err := e.c.BindBillingAccount(ctx, validBind(), billing.WithOwnershipProof(tenant))
	require.NoError(t, err)
	_, err = e.c.GetSubscription(ctx, accountID, instanceID, billing.WithOwnershipProof(tenant))
	require.NoError(t, err)
	_, err = e.c.GetSubscription(ctx, accountID, instanceID)
	require.NoError(t, err)
	_, err = e.c.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "a@b.example", Purpose: billing.PurposeRegister})
	require.NoError(t, err)
	reqs := e.rec.Requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, "tenant-1:"+baseURL, reqs[0].Header.Get(billing.ProofHeader), "the call's prover wins")
	assert.Equal(t, "tenant-2:"+baseURL, reqs[1].Header.Get(billing.ProofHeader))
	assert.Equal(t, "client-1:"+baseURL, reqs[2].Header.Get(billing.ProofHeader))
	assert.Empty(t, reqs[3].Header.Get(billing.ProofHeader), "calls not keyed by a Huawei account carry no proof")
}

func TestProofRequiredBeforeSending(t *testing.T) {
	mt := httpmock.NewMockTransport()
	rec := testkit.NewRecorder(testkit.OK(map[string]any{}))
	mt.RegisterNoResponder(rec.Respond)
	c, err := billing.NewClient(billing.WithBaseURL(baseURL), billing.WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	ctx := context.Background()

	_, err = c.Register(ctx, validRegister())
	op, fields, ok := testkit.Refusal(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "Register", op)
	assert.Equal(t, []string{"ownershipProof"}, fields)
	bad := validBind()
	bad.Email = "nope"
	_, err = c.BindBillingAccount(ctx, bad)
	_, fields, _ = testkit.Refusal(err)
	assert.Equal(t, []string{"email", "ownershipProof"}, fields, "one error lists every problem")
	assert.Zero(t, rec.Count(), "nothing is sent")

	// The lookup works without a proof (the partial answer).
	_, err = c.GetSubscription(ctx, accountID, instanceID)
	require.NoError(t, err)
	require.Equal(t, 1, rec.Count())
	assert.Empty(t, rec.Requests()[0].Header.Get(billing.ProofHeader))
}

func TestProverErrorSendsNothing(t *testing.T) {
	e := setup(t, testkit.OK(map[string]any{}))
	boom := errors.New("no credentials")
	_, err := e.c.Register(context.Background(), validRegister(), billing.WithOwnershipProof(&countingProver{err: boom}))
	require.ErrorIs(t, err, boom)
	assert.Zero(t, e.rec.Count())
}

func TestAudience(t *testing.T) {
	c, err := billing.NewClient(billing.WithBaseURL("HTTPS://Billing.Example.com/BC/"))
	require.NoError(t, err)
	assert.Equal(t, "https://billing.example.com/BC", c.Audience(), "scheme and host folded, path kept, no trailing slash")
	c, err = billing.NewClient(billing.WithBaseURL(baseURL), billing.WithAudience("https://public.example.com/"))
	require.NoError(t, err)
	assert.Equal(t, "https://public.example.com", c.Audience())
	for _, bad := range []string{"", "not a url", "https://u:p@x.example.com", "https://x.example.com/?q"} {
		_, err = billing.NewClient(billing.WithBaseURL(baseURL), billing.WithAudience(bad))
		assert.Error(t, err, bad)
	}
	_, err = billing.NewClient(billing.WithBaseURL(baseURL), billing.WithOwnershipProver(nil))
	assert.Error(t, err)
}

func TestSubscriptionWithoutProofDecodes(t *testing.T) {
	e := setup(t, testkit.OK(map[string]any{"huaweiAccountId": accountID, "instanceId": instanceID, "productId": "p",
		"status": "in_use", "active": true, "ownershipProven": false}))
	sub, err := e.c.GetSubscription(context.Background(), accountID, instanceID)
	require.NoError(t, err)
	assert.False(t, sub.OwnershipProven)
	assert.False(t, sub.Activated(), "a partial answer never says activated")
}
