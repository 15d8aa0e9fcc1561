package truewatchtest_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

// A ready activation of the mock's demo purchase: the test says only what
// it is about (the site, the branch, a lost answer), not where the mock is.
func ExampleActivation() {
	srv, err := mockserver.New(mockserver.WithoutListener())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	// The Billing Center registers, but its answer is lost once.
	_, err = srv.InjectFault(mockserver.Fault{Operation: "billing.Register", AfterHandler: true, Status: http.StatusBadGateway})
	if err != nil {
		fmt.Println(err)
		return
	}

	res, err := truewatchtest.Activation(srv).
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
	fmt.Println("site:", res.Site, "instance:", res.InstanceID)
	fmt.Println("workspaces:", len(srv.Workspaces()), "fault hits:", srv.FaultHits())
	// Output:
	// site: eu1 instance: tw-inst-7d7b0a7e1c2d4e5f
	// workspaces: 1 fault hits: [1]
}
