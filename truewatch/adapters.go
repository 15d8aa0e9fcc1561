package truewatch

import (
	"context"
	"sync"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// WithBillingClient sets the Billing Center client, instead of the one the
// builder would make from WithBillingURL.
func (a *Activation) WithBillingClient(c *billing.Client) *Activation {
	if c == nil {
		return a.problem("billingClient", "is nil")
	}
	return a.derive(keepHuawei, func(b *Activation) { b.billingAPI = billingAdapter{c} })
}

// WithWorkspaceClient sets the workspace client, instead of the one the
// builder would make from WithSiteEndpoints.
func (a *Activation) WithWorkspaceClient(c *workspace.Client) *Activation {
	if c == nil {
		return a.problem("workspaceClient", "is nil")
	}
	return a.derive(keepHuawei, func(b *Activation) { b.workspaceAPI = workspaceAdapter{c} })
}

// apis are the clients one Plan or Run uses.
type apis struct {
	bc billingAPI
	ws workspaceAPI
	hw huaweiAPI
}

// made holds the clients a builder made, once, with why one could not be
// made: the TrueWatch clients (twMade) and the Huawei client (hwMade) are
// kept apart, so that builders derived for many tenants (each its own
// Huawei credentials) share the TrueWatch clients of their base. A With…
// that changes what a client is made from gives the new builder an empty
// one (see derive).
type made struct {
	once     sync.Once
	bc       billingAPI
	ws       workspaceAPI
	hw       huaweiAPI
	problems apierror.Problems
}

// clients returns the given clients and the ones the builder made,
// recording why one cannot be made as a problem. It makes no network call.
func (a *Activation) clients(p *apierror.Problems) apis {
	tw, hw := a.twMade, a.hwMade
	if tw == nil {
		tw = &made{}
	}
	if hw == nil {
		hw = &made{}
	}
	tw.once.Do(func() { tw.bc, tw.ws = a.makeTrueWatchClients(&tw.problems) })
	hw.once.Do(func() { hw.hw = a.makeHuaweiClient(&hw.problems) })
	*p = append(append(*p, tw.problems...), hw.problems...)
	c := apis{a.billingAPI, a.workspaceAPI, a.huaweiAPI}
	if c.bc == nil {
		c.bc = tw.bc
	}
	if c.ws == nil {
		c.ws = tw.ws
	}
	if c.hw == nil {
		c.hw = hw.hw
	}
	return c
}

// makeTrueWatchClients makes the billing and workspace clients that were
// not given.
func (a *Activation) makeTrueWatchClients(p *apierror.Problems) (bc billingAPI, ws workspaceAPI) {
	policy := a.clientPolicy()
	if a.billingAPI == nil && a.billingURL != "" {
		opts := append([]billing.Option{billing.WithBaseURL(a.billingURL), billing.WithLogger(a.logger())}, a.billingTelemetry()...)
		if a.httpClient != nil {
			opts = append(opts, billing.WithHTTPClient(a.httpClient))
		}
		if policy != nil {
			opts = append(opts, billing.WithRetryPolicy(*policy))
		}
		if a.audience != "" {
			opts = append(opts, billing.WithAudience(a.audience))
		}
		if c, err := billing.NewClient(opts...); err != nil {
			p.Add("billingURL", "%v", err)
		} else {
			bc = billingAdapter{c}
		}
	}
	if a.workspaceAPI == nil {
		opts := append([]workspace.Option{workspace.WithLogger(a.logger())}, a.workspaceTelemetry()...)
		if a.endpoints != nil {
			opts = append(opts, workspace.WithEndpoints(*a.endpoints))
		}
		if a.httpClient != nil {
			opts = append(opts, workspace.WithHTTPClient(a.httpClient))
		}
		if policy != nil {
			opts = append(opts, workspace.WithRetryPolicy(*policy))
		}
		if c, err := workspace.NewClient(opts...); err != nil {
			p.Add("siteEndpoints", "%v", err)
		} else {
			ws = workspaceAdapter{c}
		}
	}
	return bc, ws
}

// makeHuaweiClient makes the Huawei client, when it was not given and
// there are credentials: it looks up missing IDs and signs the proofs of
// ownership.
func (a *Activation) makeHuaweiClient(p *apierror.Problems) huaweiAPI {
	if a.huaweiAPI != nil || a.huaweiAK == "" {
		return nil
	}
	c, err := a.newHuaweiClient()
	if err != nil {
		p.Add("huaweiCredentials", "%v", err)
		return nil
	}
	return c
}

// clientPolicy is the retry policy of the clients the builder makes: the
// one given, waiting as the activation does (through a clock that sleeps)
// unless it has its own sleeper.
func (a *Activation) clientPolicy() *retry.Policy {
	sleep := a.sleeper()
	if a.retryPolicy == nil && sleep == nil {
		return nil
	}
	var p retry.Policy
	if a.retryPolicy != nil {
		p = *a.retryPolicy
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	return &p
}

type billingAdapter struct{ c *billing.Client }

func (b billingAdapter) sendCode(ctx context.Context, req *billing.SendCodeRequest) (*billing.SendCodeResult, error) {
	return b.c.SendVerificationCode(ctx, req)
}

// proofOption gives a call the activation's prover, when it has one (else
// the billing client's own, if it was given one).
func proofOption(p billing.OwnershipProver) billing.RequestOption {
	if p == nil {
		return nil
	}
	return billing.WithOwnershipProof(p)
}

func (b billingAdapter) subscription(ctx context.Context, accountID, instanceID string, p billing.OwnershipProver) (*billing.Subscription, error) {
	return b.c.GetSubscription(ctx, accountID, instanceID, proofOption(p))
}

func (b billingAdapter) register(ctx context.Context, req *billing.RegisterRequest, key string, p billing.OwnershipProver) (*billing.RegisterResult, callMeta, error) {
	var info twapi.CallInfo
	res, err := b.c.Register(ctx, req, billing.WithIdempotencyKey(key), billing.WithCallInfo(&info), proofOption(p))
	return res, callMeta{Replayed: info.Replayed}, err
}

func (b billingAdapter) bindAccount(ctx context.Context, req *billing.BindAccountRequest, key string, p billing.OwnershipProver) (*billing.BindAccountResult, callMeta, error) {
	var info twapi.CallInfo
	res, err := b.c.BindBillingAccount(ctx, req, billing.WithIdempotencyKey(key), billing.WithCallInfo(&info), proofOption(p))
	return res, callMeta{Replayed: info.Replayed}, err
}

func (b billingAdapter) workspaces(ctx context.Context, token secret.String) ([]billing.BindableWorkspace, error) {
	var out []billing.BindableWorkspace
	for w, err := range b.c.AllBindableWorkspaces(ctx, token, &billing.ListOptions{PageSize: 100}) {
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func (b billingAdapter) bindWorkspace(ctx context.Context, token secret.String, req *billing.BindWorkspaceRequest, key string) (*billing.BindWorkspaceResult, callMeta, error) {
	var info twapi.CallInfo
	res, err := b.c.BindWorkspace(ctx, token, req, billing.WithIdempotencyKey(key), billing.WithCallInfo(&info))
	return res, callMeta{Replayed: info.Replayed}, err
}

type workspaceAdapter struct{ c *workspace.Client }

func (w workspaceAdapter) create(ctx context.Context, token secret.String, req *workspace.CreateWorkspaceRequest, key string) (*workspace.CreateResult, callMeta, error) {
	var info twapi.CallInfo
	res, err := w.c.CreateWorkspace(ctx, token, req, workspace.WithIdempotencyKey(key), workspace.WithCallInfo(&info))
	return res, callMeta{Replayed: info.Replayed}, err
}

func (w workspaceAdapter) registerAndCreate(ctx context.Context, token secret.String, req *workspace.RegisterAndCreateRequest, key string) (*workspace.CreateResult, callMeta, error) {
	var info twapi.CallInfo
	res, err := w.c.RegisterAndCreate(ctx, token, req, workspace.WithIdempotencyKey(key), workspace.WithCallInfo(&info))
	return res, callMeta{Replayed: info.Replayed}, err
}
