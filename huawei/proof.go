package huawei

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"

	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
)

// OwnershipProof signs a proof that the caller controls the Huawei account
// its credentials belong to, for the Billing Center named by audience, and
// returns it encoded for the X-TrueWatch-Ownership-Proof header. It
// satisfies billing.OwnershipProver, so a Client can be given to
// billing.WithOwnershipProver or billing.WithOwnershipProof as it is.
//
// The proof is a GET of STS /v5/caller-identity (IAM /v3/auth/domains when
// no STS endpoint is known for the region) with two extra headers,
// X-TrueWatch-Audience and a random X-TrueWatch-Nonce, signed with the
// official SDK's SDK-HMAC-SHA256 signer; the host, the signing time and the
// security token of temporary credentials are signed too. It is not sent to
// Huawei: the Billing Center sends it, within Huawei's 15-minute signature
// window, and learns the account from Huawei's answer. The secret key never
// leaves the process; a proof is good for one call and one Billing Center.
//
// Signing is local: OwnershipProof makes no network call, so a client can
// sign a fresh proof for every attempt of a call. ctx is only checked for
// cancellation.
func (c *Client) OwnershipProof(ctx context.Context, audience string) (string, error) {
	if ctx == nil {
		return "", errors.New("huawei: OwnershipProof: nil context")
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	aud, err := proof.Audience(audience)
	if err != nil {
		return "", fmt.Errorf("huawei: OwnershipProof: %w", err)
	}
	ep, path := c.stsEP, proof.PathCallerIdentity
	if ep == "" {
		ep, path = c.iamEP, proof.PathAuthDomains
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("huawei: OwnershipProof: endpoint %q is not a URL", ep)
	}
	b := request.NewHttpRequestBuilder().WithEndpoint(ep).WithPath(path).WithMethod(http.MethodGet).
		AddHeaderParam("Host", u.Host).
		AddHeaderParam(proof.HeaderAudience, aud).
		AddHeaderParam(proof.HeaderNonce, proof.NewNonce()).
		AddHeaderParam(signer.HeaderXDate, c.cfg.now().UTC().Format(signer.BasicDateFormat))
	if c.cfg.token != "" {
		b = b.AddHeaderParam("X-Security-Token", c.cfg.token.Reveal())
	}
	req := b.Build()
	signed, err := signer.Sign(req, c.cfg.ak, c.cfg.sk.Reveal())
	if err != nil {
		return "", fmt.Errorf("huawei: OwnershipProof: sign: %w", err)
	}
	headers := map[string][]string{}
	for k, v := range req.GetHeaderParams() {
		headers[k] = []string{v}
	}
	for k, v := range signed {
		headers[k] = []string{v}
	}
	return proof.Encode(proof.Request{Method: http.MethodGet, URL: ep + path, Headers: headers})
}

// WithProofClock sets the clock OwnershipProof signs at (default
// time.Now). The official SDK always signs its own calls at the system
// time; this exists for tests whose Billing Center runs on a fake clock.
func WithProofClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return httpcore.BadOption("WithProofClock", "clock is nil")
		}
		c.now = now
		return nil
	}
}
