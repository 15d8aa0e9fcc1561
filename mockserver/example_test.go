package mockserver_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// A new TrueWatch user activates the demo purchase: the mock "mails" the
// verification code to its outbox, and registration binds everything. The
// buyer's Huawei client, with the demo account's keys, proves to the
// Billing Center that the caller owns the Huawei account.
func Example() {
	srv, err := mockserver.New(mockserver.WithoutListener())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	hw, err := srv.HuaweiClient() // the demo account's keys
	if err != nil {
		log.Fatal(err)
	}
	bc, err := srv.BillingClient(billing.WithOwnershipProver(hw))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	if _, err := bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister}); err != nil {
		log.Fatal(err)
	}
	code, _ := srv.LatestCode("ada@example.com", billing.PurposeRegister)
	fmt.Println("code length:", len(code))

	res, err := bc.Register(ctx, &billing.RegisterRequest{
		Site: site.AP1, Username: "ada", Password: "Sup3r-secret", Email: "ada@example.com",
		EmailCode: secret.String(code), Company: billing.Company{Name: "Acme"},
		WorkspaceName: "production", WorkspaceLanguage: twapi.LanguageEN,
		HuaweiAccountID: mockserver.DemoHuaweiAccountID, InstanceID: mockserver.DemoInstanceID, TermsAccepted: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("workspace site:", res.Workspace.Site)
	fmt.Println("settled by:", res.Workspace.Settlement.Method, res.Workspace.Settlement.InstanceID)

	sub, err := bc.GetSubscription(ctx, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("activated:", sub.Activated())
	// Output:
	// code length: 6
	// workspace site: ap1
	// settled by: huaweicloud tw-inst-7d7b0a7e1c2d4e5f
	// activated: true
}

// Seeding builds "an existing Billing Center account with workspaces" in
// one step each, without verification codes; the API then sees it as if it
// had been made through the API.
func ExampleServer_SeedWorkspace() {
	srv, err := mockserver.New(mockserver.WithoutListener())
	if err != nil {
		log.Fatal(err)
	}
	bca, _ := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: "ada@example.com"})
	acc, _ := srv.SeedAccount(mockserver.AccountSeed{Site: site.US1, Username: "ada", Email: "ada@example.com"})
	for _, name := range []string{"production", "staging"} {
		if _, err := srv.SeedWorkspace(mockserver.WorkspaceSeed{OwnerAccountID: acc.ID, BillingAccountID: bca.ID, Name: name}); err != nil {
			log.Fatal(err)
		}
	}
	token, err := srv.SeedBinding(bca.ID, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	if err != nil {
		log.Fatal(err)
	}

	bc, _ := srv.BillingClient()
	items, page, err := bc.ListBindableWorkspaces(context.Background(), token, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range items {
		fmt.Println(w.Name, w.Site, w.Bindable)
	}
	fmt.Println("total:", page.TotalCount)
	// Output:
	// production us1 true
	// staging us1 true
	// total: 2
}

// Releasing the purchase (Huawei: Close resource) is delivered to the
// vendor as releaseInstance; the workspaces it settled keep working for the
// 14-day grace period on the mock's clock, then lock and move back to
// Billing Center settlement.
func ExampleServer_ReleasePurchase() {
	clock := mockserver.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	srv, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	bca, _ := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: "ada@example.com"})
	acc, _ := srv.SeedAccount(mockserver.AccountSeed{Site: site.EU1, Username: "ada", Email: "ada@example.com"})
	ws, _ := srv.SeedWorkspace(mockserver.WorkspaceSeed{OwnerAccountID: acc.ID, BillingAccountID: bca.ID, Name: "prod",
		Settlement: twapi.Settlement{Method: twapi.SettlementHuaweiCloud,
			HuaweiAccountID: mockserver.DemoHuaweiAccountID, InstanceID: mockserver.DemoInstanceID}})

	ctx := context.Background()
	ch, err := srv.ReleasePurchase(ctx, mockserver.DemoInstanceID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ch.Deliveries[0].Activity, ch.Deliveries[0].ResultCode)
	sub, _ := srv.Subscription(mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	fmt.Println(sub.State())

	if _, err := srv.AdvanceClock(ctx, 14*24*time.Hour); err != nil {
		log.Fatal(err)
	}
	after, _ := srv.Workspace(ws.ID)
	fmt.Println(after.Settlement.Method, after.IsLocked)
	// Output:
	// releaseInstance 000000
	// released, in grace until 2026-03-24T12:00:00Z
	// billing_center true
}

// A lost response: the mock sends the code, then answers 502 instead of the
// result. The client retries with the same Idempotency-Key and gets the
// first answer replayed, so exactly one email was sent (a second send would
// have been refused for 60 seconds).
func ExampleServer_InjectFault() {
	srv, err := mockserver.New(mockserver.WithoutListener())
	if err != nil {
		log.Fatal(err)
	}
	_, err = srv.InjectFault(mockserver.Fault{Operation: "billing.SendVerificationCode",
		AfterHandler: true, Status: http.StatusBadGateway})
	if err != nil {
		log.Fatal(err)
	}
	noWait := retry.Policy{Sleep: func(context.Context, time.Duration) error { return nil }}
	bc, _ := srv.BillingClient(billing.WithRetryPolicy(noWait))
	res, err := bc.SendVerificationCode(context.Background(),
		&billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sent to:", res.Email)
	fmt.Println("fault hits:", srv.FaultHits())
	fmt.Println("emails:", len(srv.Outbox()))
	// Output:
	// sent to: ada@example.com
	// fault hits: [1]
	// emails: 1
}
