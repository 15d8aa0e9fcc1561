package mockserver_test

import (
	"context"
	"fmt"
	"log"

	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// Step 2 in Go: an enterprise for the demo purchase, a member authorized,
// and the member's first login through the unified login, changing the
// initial password, into the subscription's workspace.
func ExampleServer_LogInToTrueWatch() {
	ctx := context.Background()
	srv, err := mockserver.New(mockserver.WithoutListener())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	// The subscription's workspace (an activation would make it).
	acc, _ := srv.SeedAccount(mockserver.AccountSeed{Site: site.AP1, Username: "ada", Email: "ada@example.com"})
	_, err = srv.SeedWorkspace(mockserver.WorkspaceSeed{OwnerAccountID: acc.ID, Name: "production",
		Settlement: twapi.Settlement{Method: twapi.SettlementHuaweiCloud, HuaweiAccountID: mockserver.DemoHuaweiAccountID,
			InstanceID: mockserver.DemoInstanceID}})
	if err != nil {
		log.Fatal(err)
	}

	ent, _ := srv.CreateEnterprise(ctx, mockserver.EnterpriseRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID, Name: "Analytical Engines", Domain: "engines.example", Abbreviation: "engines"})
	fmt.Println(ent.Status)
	_, _ = srv.AdvanceClock(ctx, mockserver.DefaultEnterpriseActivation)
	m, _ := srv.AddMember(ctx, ent.TenantID, mockserver.MemberRequest{UserName: "charles", Name: "Charles Babbage"})
	_, _ = srv.AuthorizeMembers(ctx, ent.TenantID, mockserver.AuthorizationRequest{UserNames: []string{"charles"}, AgreementAccepted: true})
	for _, d := range srv.Deliveries(mockserver.DeliveryFilter{TenantID: ent.TenantID}) {
		fmt.Println(d.Activity, d.Outcome)
	}

	landing, err := srv.LogInToTrueWatch(ctx, ent.TenantID, mockserver.MemberLogin{Enterprise: "engines",
		Account: "charles", Password: m.InitialPassword, NewPassword: "Br1ght-Morning-42"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(landing.Site, landing.NextURL)
	// Output:
	// activating
	// tenantSync succeeded
	// applicationSync succeeded
	// allOrgSync succeeded
	// authSync succeeded
	// ap1 http://mock.invalid/sites/ap1/auth/login/pwd
}
