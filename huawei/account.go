package huawei

import (
	"context"
	"errors"
	"fmt"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	iam "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"
	sts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sts/v1"
	stsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sts/v1/model"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
)

// Where an Account's ID came from.
const (
	SourceIAM = "iam" // IAM KeystoneListAuthDomains
	SourceSTS = "sts" // STS GetCallerIdentity
)

// Account is the Huawei Cloud account (domain) the credentials belong to.
type Account struct {
	// ID is the account ID: 32 lower-case hex characters, as shown in the
	// console under My Credentials.
	ID string
	// Name is the account name; empty when the ID came from STS.
	Name string
	// Source is SourceIAM or SourceSTS.
	Source string
}

// AccountID looks up the account the credentials belong to: IAM
// KeystoneListAuthDomains (GET /v3/auth/domains) and, when IAM lists no
// domain (IAM users without permission), STS GetCallerIdentity
// (GET /v5/caller-identity), as the SDK's own discovery does. It always
// asks Huawei, and remembers the answer for later BSS calls.
//
// When neither reveals the ID, the error matches ErrAccountIDUnavailable.
func (c *Client) AccountID(ctx context.Context) (Account, error) {
	const op = "KeystoneListAuthDomains"
	resp, err := invoke(ctx, c, c.iamService(), op, func(hc *core.HcHttpClient) (*iammodel.KeystoneListAuthDomainsResponse, error) {
		return iam.NewIamClient(hc).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	})
	if err != nil {
		return Account{}, err
	}
	if resp == nil || resp.Domains == nil {
		return Account{}, malformed(ServiceIAM, op, "", "no domains in the response")
	}
	var acc Account
	if domains := *resp.Domains; len(domains) > 0 {
		acc = Account{ID: domains[0].Id, Name: domains[0].Name, Source: SourceIAM}
		if !rules.IsHuaweiAccountID(acc.ID) {
			return Account{}, malformed(ServiceIAM, op, "", "domain ID %q is not 32 lower-case hex characters", acc.ID)
		}
	} else {
		if acc, err = c.callerIdentity(ctx); err != nil {
			return Account{}, err
		}
	}
	c.mu.Lock()
	c.account = &acc
	c.mu.Unlock()
	return acc, nil
}

func (c *Client) callerIdentity(ctx context.Context) (Account, error) {
	const op = "GetCallerIdentity"
	if c.stsEP == "" {
		return Account{}, &apierror.Error{Service: ServiceSTS, Operation: op, Err: ErrAccountIDUnavailable,
			Message: "IAM listed no domain and no STS endpoint is known for region " + c.cfg.region + " (use WithSTSEndpoint)"}
	}
	resp, err := invoke(ctx, c, c.stsService(), op, func(hc *core.HcHttpClient) (*stsmodel.GetCallerIdentityResponse, error) {
		return sts.NewStsClient(hc).GetCallerIdentity(&stsmodel.GetCallerIdentityRequest{})
	})
	if err != nil {
		if errors.Is(err, apierror.ErrForbidden) || errors.Is(err, apierror.ErrNotFound) {
			return Account{}, fmt.Errorf("%w: %w", ErrAccountIDUnavailable, err)
		}
		return Account{}, err
	}
	if resp == nil || resp.AccountId == nil || !rules.IsHuaweiAccountID(*resp.AccountId) {
		return Account{}, malformed(ServiceSTS, op, "", "account_id missing or not 32 lower-case hex characters")
	}
	return Account{ID: *resp.AccountId, Source: SourceSTS}, nil
}

// domainID is the account ID for BSS calls: WithDomainID, an earlier
// lookup, or a lookup now.
func (c *Client) domainID(ctx context.Context) (string, error) {
	if c.cfg.domainID != "" {
		return c.cfg.domainID, nil
	}
	c.mu.Lock()
	acc := c.account
	c.mu.Unlock()
	if acc != nil {
		return acc.ID, nil
	}
	a, err := c.AccountID(ctx)
	return a.ID, err
}
