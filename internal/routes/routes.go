// Package routes names every path of the Billing Center and workspace
// contract (api/openapi.yaml) once, for the clients and the mock server.
package routes

// Billing Center paths, relative to the Billing Center base URL.
const (
	SendCode        = "/api/v1/verification_code/send"         // POST
	GetSubscription = "/api/v1/subscription/get"               // GET ?huaweiAccountId=&instanceId=
	Register        = "/api/v1/account/register"               // POST
	BindAccount     = "/api/v1/billing_account/bind"           // POST
	ListWorkspaces  = "/api/v1/billing_account/workspace/list" // GET ?pageIndex=&pageSize=&site= (token)
	BindWorkspace   = "/api/v1/billing_account/workspace/bind" // POST (token)
	GetBinding      = "/api/v1/billing_account/binding/get"    // GET (token)
)

// Workspace paths, relative to a site's console-API base URL.
const (
	CreateWorkspace    = "/api/v1/workspace/create"              // POST (token)
	RegisterAndCreate  = "/api/v1/workspace/register_and_create" // POST (token)
	GetWorkspacePrefix = "/api/v1/workspace/"                    // GET /api/v1/workspace/{uuid}/get (token)
	GetWorkspaceSuffix = "/get"
)

// GetWorkspace returns the path that reads one workspace.
func GetWorkspace(id string) string { return GetWorkspacePrefix + id + GetWorkspaceSuffix }

// Mock server layout: where each API family is mounted on the one listener.
const (
	MockBillingPrefix = "/billing-center" // Billing Center
	MockSitesPrefix   = "/sites/"         // /sites/{site}/{service}, as site.UnderBase
	MockControlPrefix = "/_mock/"         // control plane
)
