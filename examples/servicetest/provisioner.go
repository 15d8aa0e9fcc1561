// Package servicetest shows how a service that provisions TrueWatch for its
// customers tests its own activation code against the mock server.
//
// Provisioner is the kind of code such a service writes: it wraps the
// activation builder with the service's defaults. provisioner_test.go is the
// point of the example: it starts mockserver in-process, seeds the state
// each test needs, points the Provisioner at it, and asserts on what the
// mock ended up holding, including after an injected failure.
package servicetest

import (
	"context"
	"errors"
	"fmt"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// Endpoints says where the provisioner's APIs are; production uses the real
// hosts, tests use the mock's.
type Endpoints struct {
	BillingURL     string
	Sites          site.Endpoints
	HuaweiEndpoint string // empty: Huawei Cloud's own endpoints
}

// Customer is one tenant of the service.
type Customer struct {
	HuaweiAK, HuaweiSK string
	Username, Email    string
	Password           secret.String
	Company            string
}

// Provisioner activates TrueWatch for customers.
type Provisioner struct {
	Endpoints Endpoints
	Site      truewatch.Site
	Codes     truewatch.CodeProvider
	Store     truewatch.Store
	// Options are applied last, for tests (HTTP client, retry policy, ...).
	Options func(*truewatch.Activation) *truewatch.Activation
}

// Provision activates TrueWatch for c and returns the workspace ID. Calling
// it again for the same customer returns the same workspace.
func (p *Provisioner) Provision(ctx context.Context, c Customer) (string, error) {
	if p.Codes == nil {
		return "", errors.New("provisioner: no verification code provider")
	}
	act := truewatch.NewActivation().
		WithBillingURL(p.Endpoints.BillingURL).
		WithSiteEndpoints(p.Endpoints.Sites).
		WithHuaweiCredentials(c.HuaweiAK, secret.String(c.HuaweiSK)).
		WithSite(p.Site).
		WithCodes(p.Codes).
		Register(truewatch.RegisterInfo{
			Username: c.Username, Password: c.Password, PasswordConfirm: c.Password, Email: c.Email,
			Company:       billing.Company{Name: c.Company},
			WorkspaceName: "production", WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true,
		})
	if p.Endpoints.HuaweiEndpoint != "" {
		act = act.WithHuaweiEndpoint(p.Endpoints.HuaweiEndpoint)
	}
	if p.Store != nil {
		act = act.WithStore(p.Store)
	}
	if p.Options != nil {
		act = p.Options(act)
	}
	res, err := act.Run(ctx)
	if err != nil {
		return "", fmt.Errorf("provision %s: %w", c.Username, err)
	}
	return res.WorkspaceID, nil
}
