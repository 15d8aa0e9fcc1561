package truewatch

import (
	"context"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// callMeta is what a state-changing call reports besides its result.
type callMeta struct {
	// Replayed is true when the server replayed a stored response for the
	// idempotency key instead of doing the work again.
	Replayed bool
}

// The activation reaches the services through these small interfaces, so
// that its logic can be tested with fakes; adapters.go makes the module's
// clients satisfy them.

// The calls keyed by a Huawei account take the prover of ownership of the
// account (nil: none, and the subscription answer is partial).
type billingAPI interface {
	sendCode(ctx context.Context, req *billing.SendCodeRequest) (*billing.SendCodeResult, error)
	subscription(ctx context.Context, accountID, instanceID string, p billing.OwnershipProver) (*billing.Subscription, error)
	register(ctx context.Context, req *billing.RegisterRequest, key string, p billing.OwnershipProver) (*billing.RegisterResult, callMeta, error)
	bindAccount(ctx context.Context, req *billing.BindAccountRequest, key string, p billing.OwnershipProver) (*billing.BindAccountResult, callMeta, error)
	// workspaces lists every workspace of the token's Billing Center account.
	workspaces(ctx context.Context, token secret.String) ([]billing.BindableWorkspace, error)
	bindWorkspace(ctx context.Context, token secret.String, req *billing.BindWorkspaceRequest, key string) (*billing.BindWorkspaceResult, callMeta, error)
}

type workspaceAPI interface {
	create(ctx context.Context, token secret.String, req *workspace.CreateWorkspaceRequest, key string) (*workspace.CreateResult, callMeta, error)
	registerAndCreate(ctx context.Context, token secret.String, req *workspace.RegisterAndCreateRequest, key string) (*workspace.CreateResult, callMeta, error)
}

type huaweiAPI interface {
	accountID(ctx context.Context) (string, error)
	instanceID(ctx context.Context) (string, error)
}
