package mockserver

import (
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// The typed clients of this module, ready to call this server, as
// fake-gcs-server's Client: each is pointed at the server and sends through
// HTTPClient (in-process for a server WithoutListener). opts come after
// the server's and win, so a test changes what it needs (a retry policy,
// another Huawei account's keys) and keeps the rest. They make no call.

// BillingClient returns a Billing Center client of this server: its
// BillingURL, Audience and HTTPClient, and the demo Huawei account's
// ownership prover (OwnershipProver(DemoHuaweiAccountID)), so that calls
// keyed by the demo purchase prove ownership. For another account, add
// billing.WithOwnershipProver(srv.OwnershipProver(accountID)), or a
// *huawei.Client from HuaweiClient.
func (s *Server) BillingClient(opts ...billing.Option) (*billing.Client, error) {
	return billing.NewClient(append([]billing.Option{
		billing.WithBaseURL(s.BillingURL()),
		billing.WithAudience(s.Audience()),
		billing.WithHTTPClient(s.HTTPClient()),
		billing.WithOwnershipProver(s.OwnershipProver(DemoHuaweiAccountID)),
	}, opts...)...)
}

// WorkspaceClient returns a workspace client of this server: every site's
// console API (SiteEndpoints) through HTTPClient.
func (s *Server) WorkspaceClient(opts ...workspace.Option) (*workspace.Client, error) {
	return workspace.NewClient(append([]workspace.Option{
		workspace.WithEndpoints(s.SiteEndpoints()),
		workspace.WithHTTPClient(s.HTTPClient()),
	}, opts...)...)
}

// HuaweiClient returns a Huawei client of this server with the demo
// account's keys (DemoAccessKey, DemoSecretKey; in a namespace, those
// DemoKeysFor gives): IAM, STS and BSS at
// HuaweiEndpoint, through HTTPClient's transport. For another seeded
// account, add huawei.WithCredentials with one of its keys.
func (s *Server) HuaweiClient(opts ...huawei.Option) (*huawei.Client, error) {
	ak, sk := s.demoKeys()
	return huawei.NewClient(append([]huawei.Option{
		huawei.WithCredentials(ak, secret.String(sk)),
		huawei.WithEndpoint(s.HuaweiEndpoint()),
		huawei.WithHTTPRoundTripper(s.rt),
	}, opts...)...)
}
