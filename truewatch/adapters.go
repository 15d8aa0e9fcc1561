package truewatch

import (
	"context"
	"fmt"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// WithBillingClient sets the Billing Center client, instead of the one the
// builder would make from WithBillingURL.
func (a *Activation) WithBillingClient(c *billing.Client) *Activation {
	if c == nil {
		return a.problem("billingClient", "is nil")
	}
	a.billingAPI = billingAdapter{c}
	return a
}

// WithWorkspaceClient sets the workspace client, instead of the one the
// builder would make from WithSiteEndpoints.
func (a *Activation) WithWorkspaceClient(c *workspace.Client) *Activation {
	if c == nil {
		return a.problem("workspaceClient", "is nil")
	}
	a.workspaceAPI = workspaceAdapter{c}
	return a
}

// clients returns the given clients and makes the missing ones. It makes no
// network call. The Huawei client is made only when an ID must be looked up.
func (a *Activation) clients() (billingAPI, workspaceAPI, huaweiAPI, error) {
	bc, ws, hw := a.billingAPI, a.workspaceAPI, a.huaweiAPI
	if bc == nil {
		opts := []billing.Option{billing.WithBaseURL(a.billingURL), billing.WithLogger(a.log)}
		if a.httpClient != nil {
			opts = append(opts, billing.WithHTTPClient(a.httpClient))
		}
		if a.retryPolicy != nil {
			opts = append(opts, billing.WithRetryPolicy(*a.retryPolicy))
		}
		c, err := billing.NewClient(opts...)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("truewatch: billing client: %w", err)
		}
		bc = billingAdapter{c}
	}
	if ws == nil {
		opts := []workspace.Option{workspace.WithLogger(a.log)}
		if a.endpoints != nil {
			opts = append(opts, workspace.WithEndpoints(*a.endpoints))
		}
		if a.httpClient != nil {
			opts = append(opts, workspace.WithHTTPClient(a.httpClient))
		}
		if a.retryPolicy != nil {
			opts = append(opts, workspace.WithRetryPolicy(*a.retryPolicy))
		}
		c, err := workspace.NewClient(opts...)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("truewatch: workspace client: %w", err)
		}
		ws = workspaceAdapter{c}
	}
	if hw == nil && (a.accountID == "" || a.instanceID == "") {
		c, err := a.newHuaweiClient()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("truewatch: huawei client: %w", err)
		}
		hw = c
	}
	return bc, ws, hw, nil
}

type billingAdapter struct{ c *billing.Client }

func (b billingAdapter) sendCode(ctx context.Context, req *billing.SendCodeRequest) (*billing.SendCodeResult, error) {
	return b.c.SendVerificationCode(ctx, req)
}

func (b billingAdapter) subscription(ctx context.Context, accountID, instanceID string) (*billing.Subscription, error) {
	return b.c.GetSubscription(ctx, accountID, instanceID)
}

func (b billingAdapter) register(ctx context.Context, req *billing.RegisterRequest, key string) (*billing.RegisterResult, callMeta, error) {
	var info billing.CallInfo
	res, err := b.c.Register(ctx, req, billing.WithIdempotencyKey(key), billing.WithCallInfo(&info))
	return res, callMeta{Replayed: info.Replayed}, err
}

func (b billingAdapter) bindAccount(ctx context.Context, req *billing.BindAccountRequest, key string) (*billing.BindAccountResult, callMeta, error) {
	var info billing.CallInfo
	res, err := b.c.BindBillingAccount(ctx, req, billing.WithIdempotencyKey(key), billing.WithCallInfo(&info))
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
	var info billing.CallInfo
	res, err := b.c.BindWorkspace(ctx, token, req, billing.WithIdempotencyKey(key), billing.WithCallInfo(&info))
	return res, callMeta{Replayed: info.Replayed}, err
}

type workspaceAdapter struct{ c *workspace.Client }

func (w workspaceAdapter) create(ctx context.Context, token secret.String, req *workspace.CreateWorkspaceRequest, key string) (*workspace.CreateResult, callMeta, error) {
	var info workspace.CallInfo
	res, err := w.c.CreateWorkspace(ctx, token, req, workspace.WithIdempotencyKey(key), workspace.WithCallInfo(&info))
	return res, callMeta{Replayed: info.Replayed}, err
}

func (w workspaceAdapter) registerAndCreate(ctx context.Context, token secret.String, req *workspace.RegisterAndCreateRequest, key string) (*workspace.CreateResult, callMeta, error) {
	var info workspace.CallInfo
	res, err := w.c.RegisterAndCreate(ctx, token, req, workspace.WithIdempotencyKey(key), workspace.WithCallInfo(&info))
	return res, callMeta{Replayed: info.Replayed}, err
}
