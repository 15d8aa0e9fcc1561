// Package truewatchtest wires activations to an in-process mock server,
// for tests (and demos) of code that activates TrueWatch: one call instead
// of pointing every endpoint, client, key and code provider at the mock by
// hand.
//
// It is a package of its own, not a method of *mockserver.Server, so that
// mockserver does not import truewatch: the tests of package truewatch
// itself use the mock.
package truewatchtest

import (
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// Activation returns a builder pre-wired to srv: its Billing Center (and
// the audience its proofs must name), every site's endpoints, its Huawei
// endpoint, its HTTPClient (in-process for a server WithoutListener), the
// demo Huawei account's keys (mockserver.DemoAccessKey, DemoSecretKey),
// verification codes read from its outbox, and its clock (so that a
// mockserver.ManualClock given to the server moves with the activation's
// waits). Add the site and the branch as usual; a later With… call
// replaces what Activation set, for example WithHuaweiCredentials with the
// keys of another seeded account.
func Activation(srv *mockserver.Server) *truewatch.Activation {
	return truewatch.NewActivation().
		WithBillingURL(srv.BillingURL()).
		WithAudience(srv.Audience()).
		WithSiteEndpoints(srv.SiteEndpoints()).
		WithHuaweiEndpoint(srv.HuaweiEndpoint()).
		WithHTTPClient(srv.HTTPClient()).
		WithHuaweiCredentials(mockserver.DemoAccessKey, mockserver.DemoSecretKey).
		WithCodes(truewatch.CodesFromOutbox(srv)).
		WithClock(srv.Clock())
}
