package mockserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// readyClients are the server's ready clients, which never retry, so that
// a fault's answer is the call's.
func readyClients(t *testing.T, srv *mockserver.Server) (*billing.Client, *workspace.Client, *huawei.Client) {
	t.Helper()
	bc, err := srv.BillingClient(billing.WithRetryPolicy(retry.Disabled()))
	require.NoError(t, err)
	wc, err := srv.WorkspaceClient(workspace.WithRetryPolicy(retry.Disabled()))
	require.NoError(t, err)
	hw, err := srv.HuaweiClient(huawei.WithRetryPolicy(retry.Disabled()))
	require.NoError(t, err)
	return bc, wc, hw
}

// A fault named by operation fails that operation's call, and the failed
// call's *apierror.Error names the same service and operation: the names
// are the clients' own, whichever half of the mock serves them.
func TestFaultByOperation_NamesAreTheClients(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutListener())
	bc, wc, hw := readyClients(t, srv)
	ctx := context.Background()
	token, err := srv.SeedBinding(mustSeedBillingAccount(t, srv).ID, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	require.NoError(t, err)
	calls := map[string]func() error{
		"billing.SendVerificationCode": func() error {
			_, err := bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister})
			return err
		},
		"billing.GetSubscription": func() error {
			_, err := bc.GetSubscription(ctx, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
			return err
		},
		"billing.ListBindableWorkspaces": func() error {
			_, _, err := bc.ListBindableWorkspaces(ctx, token, nil)
			return err
		},
		"billing.GetBinding": func() error { _, err := bc.GetBinding(ctx, token); return err },
		"workspace.GetWorkspace": func() error {
			_, err := wc.GetWorkspace(ctx, token, site.ZA1, "wksp_00000000000000000000000000000000")
			return err
		},
		"iam.KeystoneListAuthDomains": func() error { _, err := hw.AccountID(ctx); return err },
		"bss.ListPayPerUseCustomerResources": func() error {
			_, err := hw.ListPurchases(ctx, nil)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			id, err := srv.InjectFault(mockserver.Fault{Operation: name, Status: http.StatusServiceUnavailable})
			require.NoError(t, err)
			defer srv.RemoveFault(id)
			err = call()
			var ae *apierror.Error
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, http.StatusServiceUnavailable, ae.HTTPStatus)
			service, _ := strings.CutPrefix(ae.Service, "huawei-")
			assert.Equal(t, name, service+"."+ae.Operation, "the fault's name is the error's")
			assert.Equal(t, 1, hitsOf(srv, id))
		})
	}
}

func mustSeedBillingAccount(t *testing.T, srv *mockserver.Server) billing.BillingAccount {
	t.Helper()
	ba, err := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: "ada@example.com"})
	require.NoError(t, err)
	return ba
}

func hitsOf(srv *mockserver.Server, id string) int {
	for _, f := range srv.Faults() {
		if f.ID == id {
			return f.Hits
		}
	}
	return -1
}

// An operation fault matches the operation wherever its route has
// wildcards (every site), counts with Skip and Times, and leaves other
// operations on the same site alone.
func TestFaultByOperation_EverySite(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutListener())
	_, wc, _ := readyClients(t, srv)
	id, err := srv.InjectFault(mockserver.Fault{Operation: "workspace.CreateWorkspace", Skip: 1, Times: 2,
		Status: http.StatusConflict, ErrorCode: apierror.CodeWorkspaceNameTaken})
	require.NoError(t, err)
	create := func(s site.Code) error {
		_, err := wc.CreateWorkspace(context.Background(), "tok", &workspace.CreateWorkspaceRequest{Name: "prod",
			Language: twapi.LanguageEN, Site: s, Email: "ada@example.com", EmailCode: "123456", TermsAccepted: true})
		return err
	}
	assert.NotErrorIs(t, create(site.US1), apierror.ErrNameTaken, "skipped: the real answer (a bad token)")
	assert.ErrorIs(t, create(site.EU1), apierror.ErrNameTaken)
	assert.ErrorIs(t, create(site.AP1), apierror.ErrNameTaken)
	assert.NotErrorIs(t, create(site.ZA1), apierror.ErrNameTaken, "times used up")
	_, err = wc.GetWorkspace(context.Background(), "tok", site.EU1, "wksp_1")
	assert.NotErrorIs(t, err, apierror.ErrNameTaken, "another operation of the site")
	assert.Equal(t, 2, hitsOf(srv, id))
}

// A lost response by operation name: the registration happens, its answer
// is lost, and the client's retry gets the stored answer.
func TestFaultByOperation_LostResponse(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutListener())
	noWait := retry.Policy{MaxRetries: 2, Sleep: func(context.Context, time.Duration) error { return nil }}
	bc, err := srv.BillingClient(billing.WithRetryPolicy(noWait))
	require.NoError(t, err)
	_, err = srv.InjectFault(mockserver.Fault{Operation: "billing.Register", AfterHandler: true, Status: http.StatusBadGateway})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister})
	require.NoError(t, err)
	code, _ := srv.LatestCode("ada@example.com", billing.PurposeRegister)
	var info twapi.CallInfo
	res, err := bc.Register(ctx, &billing.RegisterRequest{Site: site.AP1, Username: "ada", Password: "Sup3r-secret",
		Email: "ada@example.com", EmailCode: secret.String(code), Company: billing.Company{Name: "Acme"},
		WorkspaceName: "prod", WorkspaceLanguage: twapi.LanguageEN, HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID, TermsAccepted: true}, billing.WithCallInfo(&info))
	require.NoError(t, err)
	assert.True(t, info.Replayed)
	assert.Equal(t, 2, info.Attempts)
	assert.Equal(t, []int{1}, srv.FaultHits())
	assert.Len(t, srv.Workspaces(), 1, "registered once")
	assert.Equal(t, res.Workspace.ID, srv.Workspaces()[0].ID)
}

// A fault that names an operation badly is refused with the reason, and
// nothing is added.
func TestFaultByOperation_Refused(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutListener())
	for name, tt := range map[string]struct {
		f    mockserver.Fault
		want string
	}{
		"unknown":       {mockserver.Fault{Operation: "billing.Regster"}, `no operation "billing.Regster" (it serves billing.BindBillingAccount, billing.BindWorkspace,`},
		"not served":    {mockserver.Fault{Operation: "bss.ListCustomerCoupons"}, "no operation"},
		"path too":      {mockserver.Fault{Operation: "billing.Register", Path: "/billing-center/api/v1/account/register"}, "not both"},
		"other method":  {mockserver.Fault{Operation: "billing.Register", Method: "get"}, "is POST, not GET"},
		"neither":       {mockserver.Fault{Status: 500}, "needs an operation"},
		"control plane": {mockserver.Fault{Operation: "_mock.Reset"}, "no operation"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := srv.InjectFault(tt.f)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Empty(t, srv.Faults())
	// The method may repeat the operation's, in any case.
	_, err := srv.InjectFault(mockserver.Fault{Operation: "billing.Register", Method: "post"})
	assert.NoError(t, err)
}

var wildcard = regexp.MustCompile(`\{[a-z_]+\}`)

// Operations is the one table the router serves from: every operation is
// routed at its method and path, each name once; the control plane lists
// the same table and takes its names.
func TestOperations_TableAndControlPlane(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutListener())
	ops := srv.Operations()
	seen := map[string]bool{}
	for _, op := range ops {
		assert.False(t, seen[op.Name], "%s named once", op.Name)
		seen[op.Name] = true
		service, _, ok := strings.Cut(op.Name, ".")
		require.True(t, ok, op.Name)
		assert.Contains(t, []string{"billing", "workspace", "iam", "sts", "bss", "koogallery-login"}, service, op.Name)
		// A path of the route (its wildcards filled in) is routed there.
		path := wildcard.ReplaceAllString(op.Path, "x")
		_, err := srv.InjectFault(mockserver.Fault{Method: op.Method, Path: path})
		assert.NoError(t, err, "%s at %s", op.Name, path)
	}
	srv.ClearFaults()
	for _, name := range []string{"billing.Register", "billing.BindBillingAccount", "workspace.RegisterAndCreate",
		"sts.GetCallerIdentity", "bss.ListPayPerUseCustomerResources", "iam.KeystoneListAuthDomains"} {
		assert.True(t, seen[name], name)
	}

	hc := srv.HTTPClient()
	resp, err := hc.Get(srv.URL() + "/_mock/operations")
	require.NoError(t, err)
	var listed []mockserver.Operation
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&listed))
	resp.Body.Close()
	assert.Equal(t, ops, listed)

	resp, err = hc.Post(srv.URL()+"/_mock/faults", "application/json",
		strings.NewReader(`{"operation":"bss.ListPayPerUseCustomerResources","status":500,"times":2}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	resp, err = hc.Post(srv.URL()+"/_mock/faults", "application/json", strings.NewReader(`{"operation":"bss.Nothing"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	faults := srv.Faults()
	require.Len(t, faults, 1)
	assert.Equal(t, "bss.ListPayPerUseCustomerResources", faults[0].Operation)
	assert.Empty(t, faults[0].Path)
	_, _, hw := readyClients(t, srv)
	_, err = hw.ListPurchases(context.Background(), nil)
	assert.ErrorIs(t, err, apierror.ErrServer)
	raw, err := json.Marshal(srv.Faults())
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"operation":"bss.ListPayPerUseCustomerResources"`)
	assert.Contains(t, string(raw), `"hits":1`)
	assert.NotContains(t, string(raw), `"path"`)
}

// TestOperationsDoc: docs/mock-operations.md is Operations rendered; -update
// rewrites it (with docs/huawei-operations.md).
func TestOperationsDoc(t *testing.T) {
	var b strings.Builder
	b.WriteString("<!-- Generated by go test ./mockserver -run TestOperationsDoc -update; DO NOT EDIT. -->\n\n")
	b.WriteString("# Operations of the mock, by the names faults take\n\n")
	b.WriteString("A fault names what it fails by operation (`mockserver.Fault{Operation: \"billing.Register\"}`, or\n")
	b.WriteString("`{\"operation\":\"billing.Register\"}` to `POST /_mock/faults`) as well as by method and path. The names are\n")
	b.WriteString("the clients' own: the service and operation of the `*apierror.Error` a failed call returns\n")
	b.WriteString("(`billing`, `workspace`; `iam`, `sts`, `bss` with the Huawei SDK's operation name, the huawei client's\n")
	b.WriteString("`huawei-` prefix left out). An operation fault matches the operation on every site and every ID in its\n")
	b.WriteString("path. The mock routes requests from this same table; `Server.Operations()` and `GET /_mock/operations`\n")
	b.WriteString("return it.\n\n")
	b.WriteString("| operation | method | path |\n|---|---|---|\n")
	srv := mockserver.Start(t, mockserver.WithoutListener())
	for _, op := range srv.Operations() {
		fmt.Fprintf(&b, "| `%s` | %s | `%s` |\n", op.Name, op.Method, op.Path)
	}
	const file = "../docs/mock-operations.md"
	if *updateDocs {
		require.NoError(t, os.WriteFile(file, []byte(b.String()), 0o644))
		return
	}
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, b.String(), string(got), "run go test ./mockserver -run TestOperationsDoc -update")
}
