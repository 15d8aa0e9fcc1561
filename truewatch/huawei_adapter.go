package truewatch

import (
	"cmp"
	"context"

	"github.com/truewatch-labs/marketplace-go/huawei"
)

// WithHuaweiClient sets the Huawei Cloud client that looks up the account
// ID (IAM) and the instance ID (BSS) when they are not given and signs the
// proofs of ownership of the account, instead of the one the builder would
// make from WithHuaweiCredentials.
func (a *Activation) WithHuaweiClient(c *huawei.Client) *Activation {
	if c == nil {
		return a.problem("huaweiClient", "is nil")
	}
	return a.derive(keepTrueWatch, func(b *Activation) { b.huaweiAPI = huaweiAdapter{c} })
}

// newHuaweiClient makes the Huawei client from the builder's settings.
func (a *Activation) newHuaweiClient() (huaweiAPI, error) {
	opts := append([]huawei.Option{huawei.WithLogger(a.logger()), huawei.WithCredentials(a.huaweiAK, a.huaweiSK)}, a.huaweiTelemetry()...)
	if !a.huaweiToken.IsZero() {
		opts = append(opts, huawei.WithSecurityToken(a.huaweiToken))
	}
	if id := cmp.Or(a.accountID, a.huaweiDomain); id != "" {
		opts = append(opts, huawei.WithDomainID(id))
	}
	if a.huaweiEndpoint != "" {
		opts = append(opts, huawei.WithEndpoint(a.huaweiEndpoint))
	}
	if a.httpClient != nil && a.httpClient.Transport != nil {
		opts = append(opts, huawei.WithHTTPRoundTripper(a.httpClient.Transport))
	}
	if policy := a.clientPolicy(); policy != nil {
		opts = append(opts, huawei.WithRetryPolicy(*policy))
	}
	c, err := huawei.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return huaweiAdapter{c}, nil
}

type huaweiAdapter struct{ c *huawei.Client }

func (h huaweiAdapter) accountID(ctx context.Context) (string, error) {
	acc, err := h.c.AccountID(ctx)
	if err != nil {
		return "", err
	}
	return acc.ID, nil
}

// OwnershipProof signs a proof of the account (billing.OwnershipProver).
func (h huaweiAdapter) OwnershipProof(ctx context.Context, audience string) (string, error) {
	return h.c.OwnershipProof(ctx, audience)
}

func (h huaweiAdapter) instanceID(ctx context.Context) (string, error) {
	p, err := h.c.ActiveTrueWatchPurchase(ctx)
	if err != nil {
		return "", err
	}
	return p.InstanceID, nil
}
