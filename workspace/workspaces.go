package workspace

import (
	"context"
	"net/http"
	"net/url"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/internal/twcore"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// CreateWorkspace creates a workspace on req.Site for the existing TrueWatch
// account registered there with req.Email, which must have received a
// create_workspace verification code. The token is the Billing Center token
// from billing.Client.BindBillingAccount; the new workspace is associated
// with that Billing Center account.
//
// A name the account already uses returns an error matching
// apierror.ErrNameTaken; an account unknown on that site,
// apierror.ErrNotFound.
func (c *Client) CreateWorkspace(ctx context.Context, token secret.String, req *CreateWorkspaceRequest, opts ...RequestOption) (*CreateResult, error) {
	return create(ctx, c, "CreateWorkspace", routes.CreateWorkspace, token, req, opts)
}

// RegisterAndCreate registers a new TrueWatch account on req.Site and
// creates its first workspace, in one all-or-nothing step. The email must
// have received a create_workspace verification code.
//
// A taken username or email returns an error matching apierror.ErrNameTaken.
func (c *Client) RegisterAndCreate(ctx context.Context, token secret.String, req *RegisterAndCreateRequest, opts ...RequestOption) (*CreateResult, error) {
	return create(ctx, c, "RegisterAndCreate", routes.RegisterAndCreate, token, req, opts)
}

// GetWorkspace reads one workspace of siteCode by its ID ("wksp_…"). An
// unknown workspace returns an error matching apierror.ErrNotFound.
func (c *Client) GetWorkspace(ctx context.Context, token secret.String, siteCode site.Code, workspaceID string, opts ...RequestOption) (*twapi.Workspace, error) {
	const op = "GetWorkspace"
	var p apierror.Problems
	httpcore.Token(&p, "token", token)
	rules.Site(&p, "site", siteCode)
	rules.PathID(&p, "workspaceUUID", workspaceID)
	return send[twapi.Workspace](ctx, c, siteCode, httpcore.Request{
		Operation: op, Method: http.MethodGet, Path: routes.GetWorkspace(url.PathEscape(workspaceID)), Token: token.Reveal(),
	}, p.Err(op), opts)
}

// createRequest is a request that creates a workspace on its site.
type createRequest[T any] interface {
	httpcore.Validator[T]
	site() site.Code
	wire() any
}

func (r *CreateWorkspaceRequest) site() site.Code   { return r.Site }
func (r *RegisterAndCreateRequest) site() site.Code { return r.Site }

// create validates a token call that creates a workspace and sends it to
// the request's site.
func create[T any, P createRequest[T]](ctx context.Context, c *Client, op, path string, token secret.String, req P, opts []RequestOption) (*CreateResult, error) {
	var p apierror.Problems
	httpcore.Token(&p, "token", token)
	hr, invalid := twcore.Post(op, path, p, req, func() any { return req.wire() })
	hr.Token = token.Reveal()
	var code site.Code
	if req != nil {
		code = req.site()
	}
	return send[CreateResult](ctx, c, code, hr, invalid, opts)
}
