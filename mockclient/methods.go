package mockclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// Health is the answer of GET /_mock/health.
type Health struct {
	// Status is "ok".
	Status string `json:"status"`
	// Time is the mock's clock.
	Time time.Time `json:"time"`
}

// Health checks that the mock is up and reads its clock. It needs no
// control token, like the probes of a container.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	return h, c.get(ctx, "/_mock/health", nil, &h)
}

// Reset drops all state and faults and reseeds the demo fixture
// (mockserver.Server.Reset).
func (c *Client) Reset(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/_mock/reset", nil, nil, nil, http.StatusOK)
}

// State reads the whole TrueWatch half and the purchases at one instant.
func (c *Client) State(ctx context.Context) (mockserver.Snapshot, error) {
	var s mockserver.Snapshot
	return s, c.get(ctx, "/_mock/state", nil, &s)
}

// --- Fixtures and the state file ---

// LoadFixture replaces the mock's state with a fresh one, as Reset does,
// with f applied, atomically, and makes f the fixture Reset goes back to
// (mockserver.Server.LoadFixture). A fixture the mock refuses changes
// nothing and is a 400 *Error whose message names the place as a JSON
// pointer ("invalid fixture at /accounts/2/email: ...").
func (c *Client) LoadFixture(ctx context.Context, f mockserver.Fixture) (mockserver.FixtureResult, error) {
	var out mockserver.FixtureResult
	return out, c.do(ctx, http.MethodPost, "/_mock/fixture", nil, f, &out, http.StatusOK)
}

// FixtureSchema returns the JSON Schema (draft 2020-12) of the fixture
// format the mock reads (mockserver.FixtureSchema).
func (c *Client) FixtureSchema(ctx context.Context) ([]byte, error) {
	var out []byte
	return out, c.get(ctx, "/_mock/fixture.schema.json", nil, &out)
}

// SaveState makes the mock write its state file now, atomically
// (mockserver.Server.SaveState, POST /_mock/snapshot), and returns the
// file's path. A mock started without one (-state) answers a 409 *Error;
// one that could not write it, a 500 *Error.
func (c *Client) SaveState(ctx context.Context) (string, error) {
	var out struct {
		Path string `json:"path"`
	}
	return out.Path, c.do(ctx, http.MethodPost, "/_mock/snapshot", nil, nil, &out, http.StatusOK)
}

// --- Seeding ---

// AddHuaweiAccount seeds a Huawei account and its keys; it returns the
// account's ID.
func (c *Client) AddHuaweiAccount(ctx context.Context, a mockserver.HuaweiAccount) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	return out.ID, c.do(ctx, http.MethodPost, "/_mock/huawei-accounts", nil, a, &out, http.StatusCreated)
}

// SeedBillingAccount adds a Billing Center account bound to nothing.
func (c *Client) SeedBillingAccount(ctx context.Context, a mockserver.BillingAccountSeed) (billing.BillingAccount, error) {
	var out billing.BillingAccount
	return out, c.do(ctx, http.MethodPost, "/_mock/billing-accounts", nil, a, &out, http.StatusCreated)
}

// SeedAccount adds a TrueWatch console account on a site.
func (c *Client) SeedAccount(ctx context.Context, a mockserver.AccountSeed) (twapi.Account, error) {
	var out twapi.Account
	return out, c.do(ctx, http.MethodPost, "/_mock/accounts", nil, a, &out, http.StatusCreated)
}

// SeedWorkspace adds a workspace.
func (c *Client) SeedWorkspace(ctx context.Context, w mockserver.WorkspaceSeed) (twapi.Workspace, error) {
	var out twapi.Workspace
	return out, c.do(ctx, http.MethodPost, "/_mock/workspaces", nil, w, &out, http.StatusCreated)
}

// SeedBinding binds a Billing Center account to a subscription and
// returns the binding with a token, in clear.
func (c *Client) SeedBinding(ctx context.Context, b mockserver.BindingSeed) (mockserver.SeededBinding, error) {
	var out mockserver.SeededBinding
	return out, c.do(ctx, http.MethodPost, "/_mock/bindings", nil, b, &out, http.StatusCreated)
}

// --- Purchases and the marketplace ---

// Purchases lists every purchase.
func (c *Client) Purchases(ctx context.Context) ([]mockserver.Purchase, error) {
	var out []mockserver.Purchase
	return out, c.get(ctx, "/_mock/purchases", nil, &out)
}

// AddPurchase seeds a purchase and returns it with its defaults filled in.
func (c *Client) AddPurchase(ctx context.Context, p mockserver.Purchase) (mockserver.Purchase, error) {
	var out mockserver.Purchase
	return out, c.do(ctx, http.MethodPost, "/_mock/purchases", nil, p, &out, http.StatusCreated)
}

// ChangePurchase applies a lifecycle action (renew, expire, freeze,
// unfreeze, release, upgrade) to a purchase and delivers it to the vendor.
func (c *Client) ChangePurchase(ctx context.Context, instanceID string, a mockserver.PurchaseAction, opt mockserver.ChangeOptions) (mockserver.PurchaseChange, error) {
	var out mockserver.PurchaseChange
	return out, c.do(ctx, http.MethodPost, "/_mock/purchases/"+seg(instanceID)+"/"+seg(string(a)), nil, opt, &out, http.StatusOK)
}

// Orders lists the marketplace's orders, oldest first.
func (c *Client) Orders(ctx context.Context) ([]mockserver.MarketplaceOrder, error) {
	var out []mockserver.MarketplaceOrder
	return out, c.get(ctx, "/_mock/marketplace/orders", nil, &out)
}

// PlaceOrder is a buyer's purchase: newInstance to the vendor.
func (c *Client) PlaceOrder(ctx context.Context, req mockserver.OrderRequest) (mockserver.MarketplaceOrder, error) {
	var out mockserver.MarketplaceOrder
	return out, c.do(ctx, http.MethodPost, "/_mock/marketplace/orders", nil, req, &out, http.StatusCreated)
}

// Order reads one order.
func (c *Client) Order(ctx context.Context, orderID string) (mockserver.MarketplaceOrder, error) {
	var out mockserver.MarketplaceOrder
	return out, c.get(ctx, "/_mock/marketplace/orders/"+seg(orderID), nil, &out)
}

// ViewOrder is the buyer viewing a delivered order: newInstance again.
func (c *Client) ViewOrder(ctx context.Context, orderID string) (mockserver.OrderView, error) {
	var out mockserver.OrderView
	return out, c.do(ctx, http.MethodPost, "/_mock/marketplace/orders/"+seg(orderID)+"/view", nil, nil, &out, http.StatusOK)
}

// Deliveries reads the delivery log (every call made to the vendor),
// oldest first, filtered.
func (c *Client) Deliveries(ctx context.Context, f mockserver.DeliveryFilter) ([]mockserver.Delivery, error) {
	q := url.Values{}
	for k, v := range map[string]string{"activity": f.Activity, "instanceId": f.InstanceID, "orderId": f.OrderID, "tenantId": f.TenantID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out []mockserver.Delivery
	return out, c.get(ctx, "/_mock/marketplace/deliveries", q, &out)
}

// UnlockWorkspace unlocks a locked workspace, as its owner does in the
// Billing Center.
func (c *Client) UnlockWorkspace(ctx context.Context, uuid string) (twapi.Workspace, error) {
	var out twapi.Workspace
	return out, c.do(ctx, http.MethodPost, "/_mock/workspaces/"+seg(uuid)+"/unlock", nil, nil, &out, http.StatusOK)
}

// --- The clock ---

// Clock reads the mock's time.
func (c *Client) Clock(ctx context.Context) (mockserver.ClockState, error) {
	var out mockserver.ClockState
	return out, c.get(ctx, "/_mock/clock", nil, &out)
}

// AdvanceClock moves the mock's clock forward by d (positive) and runs
// what fell due on the way.
func (c *Client) AdvanceClock(ctx context.Context, d time.Duration) (mockserver.ClockState, error) {
	var out mockserver.ClockState
	return out, c.do(ctx, http.MethodPost, "/_mock/clock", nil, map[string]string{"advance": d.String()}, &out, http.StatusOK)
}

// SetClock moves the mock's clock to t, never back (a 409 *Error).
func (c *Client) SetClock(ctx context.Context, t time.Time) (mockserver.ClockState, error) {
	var out mockserver.ClockState
	return out, c.do(ctx, http.MethodPost, "/_mock/clock", nil, map[string]string{"set": t.Format(time.RFC3339Nano)}, &out, http.StatusOK)
}

// --- Faults ---

// Operations lists the API operations, by the names faults take.
func (c *Client) Operations(ctx context.Context) ([]mockserver.Operation, error) {
	var out []mockserver.Operation
	return out, c.get(ctx, "/_mock/operations", nil, &out)
}

// Faults lists the faults in place with their IDs and hits.
func (c *Client) Faults(ctx context.Context) ([]mockserver.FaultStatus, error) {
	var out []mockserver.FaultStatus
	return out, c.get(ctx, "/_mock/faults", nil, &out)
}

// InjectFault adds a fault and returns its ID. A fault the mock refuses
// is an *Error with the Pointer of the field at fault: 409 for a name
// another fault has, 400 otherwise.
func (c *Client) InjectFault(ctx context.Context, f mockserver.Fault) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	return out.ID, c.do(ctx, http.MethodPost, "/_mock/faults", nil, f, &out, http.StatusCreated)
}

// InjectFaults adds a fault script atomically, in order, and returns the
// faults' IDs (mockserver.Server.InjectFaults): when the mock refuses one,
// none is added and the *Error's Pointer names it and its field
// ("/1/latency/max"); 409 for a name taken, 400 otherwise.
func (c *Client) InjectFaults(ctx context.Context, faults ...mockserver.Fault) ([]string, error) {
	if len(faults) == 0 {
		return nil, errors.New("mockclient: InjectFaults needs at least one fault")
	}
	var out struct {
		IDs []string `json:"ids"`
	}
	return out.IDs, c.do(ctx, http.MethodPost, "/_mock/faults", nil, faults, &out, http.StatusCreated)
}

// RemoveFault removes one fault by its ID or its name (a 404 *Error when
// there is none); the other faults keep their counts.
func (c *Client) RemoveFault(ctx context.Context, idOrName string) error {
	return c.do(ctx, http.MethodDelete, "/_mock/faults/"+seg(idOrName), nil, nil, nil, http.StatusOK)
}

// ClearFaults removes every fault.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/_mock/faults", nil, nil, nil, http.StatusOK)
}

// --- Outbox and journal ---

// Outbox lists the verification emails sent, oldest first, codes in
// clear.
func (c *Client) Outbox(ctx context.Context) ([]mockserver.Email, error) {
	var out []mockserver.Email
	return out, c.get(ctx, "/_mock/outbox", nil, &out)
}

// OutboxFor lists the emails sent to one address (case-insensitive).
func (c *Client) OutboxFor(ctx context.Context, email string) ([]mockserver.Email, error) {
	if email == "" {
		return nil, fmt.Errorf("mockclient: OutboxFor needs an address")
	}
	var out []mockserver.Email
	return out, c.get(ctx, "/_mock/outbox", url.Values{"email": {email}}, &out)
}

// LatestCode returns the verification code most recently sent to email
// for purpose, and whether there is one, like mockserver's LatestCode.
func (c *Client) LatestCode(ctx context.Context, email string, purpose billing.Purpose) (string, bool, error) {
	mails, err := c.OutboxFor(ctx, email)
	if err != nil {
		return "", false, err
	}
	for i := len(mails) - 1; i >= 0; i-- {
		if mails[i].Purpose == purpose {
			return mails[i].Code.Reveal(), true, nil
		}
	}
	return "", false, nil
}

// Requests reads the request journal, oldest first, filtered.
func (c *Client) Requests(ctx context.Context, f mockserver.RequestFilter) ([]mockserver.RecordedRequest, error) {
	q := url.Values{}
	if f.Operation != "" {
		q.Set("operation", f.Operation)
	}
	if f.Status != 0 {
		q.Set("status", itoa(f.Status))
	}
	if f.PathPrefix != "" {
		q.Set("pathPrefix", f.PathPrefix)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if f.TraceID != "" {
		q.Set("traceId", f.TraceID)
	}
	if f.Limit != 0 {
		q.Set("limit", itoa(f.Limit))
	}
	var out []mockserver.RecordedRequest
	return out, c.get(ctx, "/_mock/requests", q, &out)
}

// ClearRequests empties the request journal.
func (c *Client) ClearRequests(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/_mock/requests", nil, nil, nil, http.StatusOK)
}

// --- The joint service ---

func ent(tenantID string) string { return "/_mock/enterprises/" + seg(tenantID) }

// Enterprises lists the joint service's enterprises, oldest first.
func (c *Client) Enterprises(ctx context.Context) ([]mockserver.Enterprise, error) {
	var out []mockserver.Enterprise
	return out, c.get(ctx, "/_mock/enterprises", nil, &out)
}

// CreateEnterprise creates an enterprise for a purchase; it is activating,
// then active.
func (c *Client) CreateEnterprise(ctx context.Context, req mockserver.EnterpriseRequest) (mockserver.Enterprise, error) {
	var out mockserver.Enterprise
	return out, c.do(ctx, http.MethodPost, "/_mock/enterprises", nil, req, &out, http.StatusCreated)
}

// Enterprise reads one enterprise.
func (c *Client) Enterprise(ctx context.Context, tenantID string) (mockserver.Enterprise, error) {
	var out mockserver.Enterprise
	return out, c.get(ctx, ent(tenantID), nil, &out)
}

// UpdateEnterprise changes an enterprise's domain.
func (c *Client) UpdateEnterprise(ctx context.Context, tenantID string, ch mockserver.EnterpriseChange) (mockserver.Enterprise, error) {
	var out mockserver.Enterprise
	return out, c.do(ctx, http.MethodPost, ent(tenantID), nil, ch, &out, http.StatusOK)
}

// DeleteEnterprise deletes an enterprise.
func (c *Client) DeleteEnterprise(ctx context.Context, tenantID string) error {
	return c.do(ctx, http.MethodDelete, ent(tenantID), nil, nil, nil, http.StatusOK)
}

// EnterpriseApplication reads an enterprise's application, its client
// secret in clear.
func (c *Client) EnterpriseApplication(ctx context.Context, tenantID string) (mockserver.Application, error) {
	var out mockserver.Application
	return out, c.get(ctx, ent(tenantID)+"/application", nil, &out)
}

// RotateClientSecret gives the application a new client secret.
func (c *Client) RotateClientSecret(ctx context.Context, tenantID string) (mockserver.Application, error) {
	var out mockserver.Application
	return out, c.do(ctx, http.MethodPost, ent(tenantID)+"/application/rotate-secret", nil, nil, &out, http.StatusOK)
}

// Members lists an enterprise's members.
func (c *Client) Members(ctx context.Context, tenantID string) ([]mockserver.Member, error) {
	var out []mockserver.Member
	return out, c.get(ctx, ent(tenantID)+"/members", nil, &out)
}

// AddMember adds a member; the answer has the initial password in clear.
func (c *Client) AddMember(ctx context.Context, tenantID string, req mockserver.MemberRequest) (mockserver.Member, error) {
	var out mockserver.Member
	return out, c.do(ctx, http.MethodPost, ent(tenantID)+"/members", nil, req, &out, http.StatusCreated)
}

// UpdateMember changes a member.
func (c *Client) UpdateMember(ctx context.Context, tenantID, userName string, ch mockserver.MemberChange) (mockserver.Member, error) {
	var out mockserver.Member
	return out, c.do(ctx, http.MethodPost, ent(tenantID)+"/members/"+seg(userName), nil, ch, &out, http.StatusOK)
}

// RemoveMember removes a member.
func (c *Client) RemoveMember(ctx context.Context, tenantID, userName string) error {
	return c.do(ctx, http.MethodDelete, ent(tenantID)+"/members/"+seg(userName), nil, nil, nil, http.StatusOK)
}

// ResetMemberPassword gives a member a new initial password (generated
// when password is empty), which lifts a lock.
func (c *Client) ResetMemberPassword(ctx context.Context, tenantID, userName, password string) (mockserver.Member, error) {
	var out mockserver.Member
	body := map[string]string{}
	if password != "" {
		body["initialPassword"] = password
	}
	return out, c.do(ctx, http.MethodPost, ent(tenantID)+"/members/"+seg(userName)+"/password", nil, body, &out, http.StatusOK)
}

// AuthorizeMembers authorizes members for the application.
func (c *Client) AuthorizeMembers(ctx context.Context, tenantID string, req mockserver.AuthorizationRequest) ([]mockserver.Member, error) {
	var out []mockserver.Member
	return out, c.do(ctx, http.MethodPost, ent(tenantID)+"/authorizations", nil, req, &out, http.StatusOK)
}

// DeauthorizeMembers withdraws members' authorization.
func (c *Client) DeauthorizeMembers(ctx context.Context, tenantID string, req mockserver.AuthorizationRequest) ([]mockserver.Member, error) {
	var out []mockserver.Member
	return out, c.do(ctx, http.MethodPost, ent(tenantID)+"/deauthorizations", nil, req, &out, http.StatusOK)
}

// Departments lists an enterprise's departments, the root first.
func (c *Client) Departments(ctx context.Context, tenantID string) ([]mockserver.Department, error) {
	var out []mockserver.Department
	return out, c.get(ctx, ent(tenantID)+"/departments", nil, &out)
}

// AddDepartment adds a department.
func (c *Client) AddDepartment(ctx context.Context, tenantID string, d mockserver.Department) (mockserver.Department, error) {
	var out mockserver.Department
	return out, c.do(ctx, http.MethodPost, ent(tenantID)+"/departments", nil, d, &out, http.StatusCreated)
}

// UpdateDepartment renames or moves a department; empty fields of ch keep
// their values.
func (c *Client) UpdateDepartment(ctx context.Context, tenantID, orgCode string, ch mockserver.Department) (mockserver.Department, error) {
	var out mockserver.Department
	return out, c.do(ctx, http.MethodPost, ent(tenantID)+"/departments/"+seg(orgCode), nil, ch, &out, http.StatusOK)
}

// RemoveDepartment removes an empty department.
func (c *Client) RemoveDepartment(ctx context.Context, tenantID, orgCode string) error {
	return c.do(ctx, http.MethodDelete, ent(tenantID)+"/departments/"+seg(orgCode), nil, nil, nil, http.StatusOK)
}

// SyncDepartments sends the whole department tree to the vendor again.
func (c *Client) SyncDepartments(ctx context.Context, tenantID string) error {
	return c.do(ctx, http.MethodPost, ent(tenantID)+"/org-sync", nil, nil, nil, http.StatusOK)
}

// TrueWatchTenants reads what TrueWatch's vendor was told of enterprises.
func (c *Client) TrueWatchTenants(ctx context.Context) ([]mockserver.TrueWatchTenant, error) {
	var out []mockserver.TrueWatchTenant
	return out, c.get(ctx, "/_mock/truewatch/tenants", nil, &out)
}

// --- Documents ---

// ContractSpec returns the Billing Center and workspace contract the mock
// serves (api/openapi.yaml).
func (c *Client) ContractSpec(ctx context.Context) ([]byte, error) {
	var out []byte
	return out, c.get(ctx, "/_mock/openapi.yaml", nil, &out)
}

// ControlSpec returns the control plane's own document
// (api/control.openapi.yaml).
func (c *Client) ControlSpec(ctx context.Context) ([]byte, error) {
	var out []byte
	return out, c.get(ctx, "/_mock/control.openapi.yaml", nil, &out)
}
