package truewatch_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

// A subscription with no Billing Center account: register one, with the
// TrueWatch account and the first workspace. The Huawei account ID and the
// instance ID are looked up with the Huawei credentials.
func Example() {
	srv, err := mockserver.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	res, err := truewatchtest.Activation(srv).
		WithSite(truewatch.SiteUS1).
		Register(truewatch.RegisterInfo{
			Username: "ada", Password: "S3cret-pass!", PasswordConfirm: "S3cret-pass!", Email: "ada@example.com",
			Company:       billing.Company{Name: "Analytical Engines"},
			WorkspaceName: "production", WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true,
		}).
		Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range res.Steps {
		fmt.Println(s.Action, s.Name)
	}
	fmt.Println("instance:", res.InstanceID)
	fmt.Println("billing account:", res.BillingAccount.Username)
	fmt.Println("site:", res.Site)
	fmt.Println("login:", strings.TrimPrefix(res.LoginURL, srv.URL()))
	// Output:
	// read resolve_account_id
	// read resolve_instance_id
	// read check_subscription
	// change register
	// instance: tw-inst-7d7b0a7e1c2d4e5f
	// billing account: ada
	// site: us1
	// login: /sites/us1/auth/login/pwd
}

// Plan says what Run would do, and why, without changing anything.
func ExampleActivation_Plan() {
	srv, err := mockserver.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	if _, err := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: "ada@example.com"}); err != nil {
		fmt.Println(err)
		return
	}

	plan, err := truewatchtest.Activation(srv).
		WithHuaweiAccountID(mockserver.DemoHuaweiAccountID).
		WithInstanceID(mockserver.DemoInstanceID).
		WithSite(truewatch.SiteEU1).
		BindBillingAccount("ada", "ada@example.com").
		CreateWorkspace(truewatch.CreateWorkspaceInfo{Name: "production", Language: truewatch.LanguageEN,
			Email: "ada@example.com", TermsAccepted: true}).
		Plan(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(plan)
	// Output:
	// activation actv_746de8c60168c03bbf8cf3cff30acd6e: Huawei account 0a1b2c3d4e5f40718293a4b5c6d7e8f9, instance tw-inst-7d7b0a7e1c2d4e5f, site eu1, branch create_workspace
	// 1. [read] check_subscription: subscription in use, no Billing Center account bound, 0 workspace(s) settled
	// 2. [change] bind_billing_account: bind Billing Center account "ada" to instance tw-inst-7d7b0a7e1c2d4e5f, verified by a code sent to ada@example.com
	// 3. [change] create_workspace: create workspace "production" (en) on site eu1 for the TrueWatch account registered with ada@example.com, settled by instance tw-inst-7d7b0a7e1c2d4e5f
	// note: site eu1 is final: a workspace's site never changes once it exists
}

// An existing Billing Center account binds an existing workspace, chosen by
// name. A lost response makes the first Run fail; the second finishes the
// activation from the checkpoint, reusing the idempotency keys, without a
// second binding.
func ExampleActivation_BindWorkspaceByName() {
	srv, err := mockserver.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ba, _ := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: "ada@example.com"})
	acc, _ := srv.SeedAccount(mockserver.AccountSeed{Site: site.AP1, Username: "ada", Email: "ada@example.com"})
	if _, err := srv.SeedWorkspace(mockserver.WorkspaceSeed{OwnerAccountID: acc.ID, Name: "production", BillingAccountID: ba.ID}); err != nil {
		fmt.Println(err)
		return
	}
	// The Billing Center binds the account, but its answer is lost, every time.
	_, _ = srv.InjectFault(mockserver.Fault{Operation: "billing.BindBillingAccount", AfterHandler: true, Times: 100})

	store := truewatch.NewMemoryStore()
	activation := func() *truewatch.Activation {
		return truewatchtest.Activation(srv).
			WithRetryPolicy(retry.Disabled()).
			WithStore(store).
			WithSite(truewatch.SiteAP1).
			BindBillingAccount("ada", "ada@example.com").
			BindWorkspaceByName("production")
	}
	_, err = activation().Run(context.Background())
	fmt.Println("first run:", err != nil)

	srv.ClearFaults()
	res, err := activation().Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range res.Steps {
		if s.Action == truewatch.ActionChange {
			fmt.Printf("%s replayed=%v\n", s.Name, s.Replayed)
		}
	}
	sub, _ := srv.Subscription(mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	fmt.Println("bound to:", sub.BillingUsername, "workspaces settled:", len(sub.Workspaces), "site:", res.Site)
	// Output:
	// first run: true
	// bind_billing_account replayed=true
	// bind_workspace replayed=false
	// bound to: ada workspaces settled: 1 site: ap1
}

// With no branch, an activation only checks: a provisioning service asks
// whether a tenant's subscription needs work, without choosing a site or
// giving a code provider. Nothing changes either way. The Billing Center
// tells how a subscription is bound only to whoever proves they control its
// Huawei account, here with the tenant's Huawei credentials; the IDs alone
// get no further than its status.
func ExampleActivation_Run_check() {
	srv, err := mockserver.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	byIDs := func() *truewatch.Activation {
		return truewatch.NewActivation().
			WithBillingURL(srv.BillingURL()).
			WithHuaweiAccountID(mockserver.DemoHuaweiAccountID).
			WithInstanceID(mockserver.DemoInstanceID)
	}
	check := func() *truewatch.Activation {
		return byIDs().
			WithHuaweiEndpoint(srv.HuaweiEndpoint()).
			WithHuaweiCredentials(mockserver.DemoAccessKey, mockserver.DemoSecretKey)
	}

	_, err = byIDs().Run(context.Background())
	fmt.Println("IDs alone:", errors.Is(err, truewatch.ErrOwnershipUnproven))

	_, err = check().Run(context.Background())
	var nb *truewatch.NeedsBranchError
	if errors.As(err, &nb) {
		fmt.Println("needs a branch:", errors.Is(err, truewatch.ErrNeedsBranch), nb.Branches)
	}

	_, err = truewatchtest.Activation(srv).
		WithSite(truewatch.SiteEU1).
		Register(truewatch.RegisterInfo{
			Username: "ada", Password: "S3cret-pass!", Email: "ada@example.com",
			Company:       billing.Company{Name: "Analytical Engines"},
			WorkspaceName: "production", WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true,
		}).
		Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}

	res, err := check().Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("branch:", res.Branch, "already activated:", res.AlreadyActivated)
	fmt.Println("billing account:", res.BillingAccount.Username, "workspaces:", len(res.Workspaces), "site:", res.Site)
	fmt.Println("login:", strings.TrimPrefix(res.LoginURL, srv.URL()))
	// Output:
	// IDs alone: true
	// needs a branch: true [register bind_workspace create_workspace register_and_create_workspace]
	// branch: check already activated: true
	// billing account: ada workspaces: 1 site: eu1
	// login: /sites/eu1/auth/login/pwd
}
