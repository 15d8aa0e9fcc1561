package huawei_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
)

const audience = "https://billing.example.com/bc"

// verify checks a proof as a Billing Center does, sending it to the mock's
// Huawei half, and returns the account it proves.
func (f *fixture) verify(t *testing.T, p string, now time.Time) (string, *proof.Error) {
	t.Helper()
	origin, err := proof.Origin(f.srv.HuaweiEndpoint())
	require.NoError(t, err)
	c, perr := proof.Check(p, proof.Policy{Audience: audience, Endpoints: []string{origin}, Now: now})
	if perr != nil {
		return "", perr
	}
	return proof.Exchange(context.Background(), f.srv.HTTPClient().Transport, c)
}

func TestOwnershipProofIsAcceptedByHuawei(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{HideDomain: true})
	p, err := f.client(t).OwnershipProof(context.Background(), "HTTPS://Billing.Example.com/bc/")
	require.NoError(t, err)
	id, perr := f.verify(t, p, time.Now())
	require.Nil(t, perr)
	assert.Equal(t, f.accountID, id, "STS names the account even when IAM hides the domain")

	raw, err := base64.StdEncoding.DecodeString(p)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), f.sk, "the secret key never leaves the process")
	req, err := proof.Decode(p)
	require.NoError(t, err)
	assert.Equal(t, f.srv.HuaweiEndpoint()+proof.PathCallerIdentity, req.URL)
	authz := req.Headers["Authorization"][0]
	for _, h := range []string{"host", "x-sdk-date", "x-truewatch-audience", "x-truewatch-nonce"} {
		assert.Contains(t, authz, h, "signed by the official signer")
	}

	q, err := f.client(t).OwnershipProof(context.Background(), audience)
	require.NoError(t, err)
	assert.NotEqual(t, p, q, "every proof is new")
}

func TestOwnershipProofOverIAMWithoutSTS(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	c, err := huawei.NewClient(huawei.WithCredentials(f.ak, secret.String(f.sk)), huawei.WithRegion("xx-nowhere-1"),
		huawei.WithIAMEndpoint(f.srv.HuaweiEndpoint()), huawei.WithBSSEndpoint(f.srv.HuaweiEndpoint()))
	require.NoError(t, err)
	p, err := c.OwnershipProof(context.Background(), audience)
	require.NoError(t, err)
	req, err := proof.Decode(p)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(req.URL, proof.PathAuthDomains))
	id, perr := f.verify(t, p, time.Now())
	require.Nil(t, perr)
	assert.Equal(t, f.accountID, id)
}

func TestOwnershipProofWithTemporaryCredentials(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{Keys: []mockserver.AccessKey{{AK: "TEMPAKPROOF0001", SK: "temp-sk", SecurityToken: "temp-token"}}})
	c, err := huawei.NewClient(huawei.WithCredentials("TEMPAKPROOF0001", "temp-sk"), huawei.WithSecurityToken("temp-token"),
		huawei.WithEndpoint(f.srv.HuaweiEndpoint()))
	require.NoError(t, err)
	p, err := c.OwnershipProof(context.Background(), audience)
	require.NoError(t, err)
	id, perr := f.verify(t, p, time.Now())
	require.Nil(t, perr)
	assert.Equal(t, f.accountID, id)
}

func TestOwnershipProofSignsAtItsClock(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	at := time.Now().Add(-time.Hour)
	p, err := f.client(t, huawei.WithProofClock(func() time.Time { return at })).OwnershipProof(context.Background(), audience)
	require.NoError(t, err)
	_, perr := f.verify(t, p, time.Now())
	require.NotNil(t, perr)
	assert.Equal(t, "ft.OwnershipProofExpired", perr.Code)
}

func TestOwnershipProofRefusals(t *testing.T) {
	f := newFixture(t, mockserver.HuaweiAccount{})
	c := f.client(t)
	_, err := c.OwnershipProof(context.Background(), "not a url")
	assert.Error(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.OwnershipProof(ctx, audience)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = huawei.NewClient(huawei.WithCredentials(f.ak, secret.String(f.sk)), huawei.WithProofClock(nil))
	assert.Error(t, err)
}
