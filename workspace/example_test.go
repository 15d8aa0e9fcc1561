package workspace_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// newMock starts an in-process mock server (no port) with a Billing Center
// client and a workspace client that reach it. Its demo fixture is a Huawei
// account with one TrueWatch purchase in use, bound to nothing; the
// Billing Center client proves ownership of that account with the mock's
// prover (a real one uses the buyer's *huawei.Client).
func newMock(opts ...mockserver.Option) (*mockserver.Server, *billing.Client, *workspace.Client) {
	srv, err := mockserver.New(append([]mockserver.Option{mockserver.WithoutListener()}, opts...)...)
	if err != nil {
		log.Fatal(err)
	}
	bc, err := billing.NewClient(billing.WithBaseURL(srv.BillingURL()), billing.WithHTTPClient(srv.HTTPClient()),
		billing.WithOwnershipProver(srv.OwnershipProver(mockserver.DemoHuaweiAccountID)))
	if err != nil {
		log.Fatal(err)
	}
	wc, err := workspace.NewClient(workspace.WithEndpoints(srv.SiteEndpoints()), workspace.WithHTTPClient(srv.HTTPClient()))
	if err != nil {
		log.Fatal(err)
	}
	return srv, bc, wc
}

// sendCode asks the Billing Center for a verification code and reads it
// from the mock's outbox, where a real user would read their mail.
func sendCode(ctx context.Context, srv *mockserver.Server, bc *billing.Client, email string, purpose billing.Purpose) secret.String {
	if _, err := bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: email, Purpose: purpose}); err != nil {
		log.Fatal(err)
	}
	code, _ := srv.LatestCode(email, purpose)
	return secret.String(code)
}

// An existing Billing Center account is bound first (billing); its token
// then creates a workspace for an existing TrueWatch account, on that
// account's site, settled by the subscription.
func ExampleClient_CreateWorkspace() {
	clock := mockserver.NewManualClock(time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC))
	srv, bc, wc := newMock(mockserver.WithClock(clock))
	defer srv.Close()
	ctx := context.Background()
	if _, err := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: "ada@example.com"}); err != nil {
		log.Fatal(err)
	}
	if _, err := srv.SeedAccount(mockserver.AccountSeed{Site: site.EU1, Username: "ada", Email: "ada@example.com"}); err != nil {
		log.Fatal(err)
	}
	bound, err := bc.BindBillingAccount(ctx, &billing.BindAccountRequest{
		Username: "ada", Email: "ada@example.com",
		EmailCode:       sendCode(ctx, srv, bc, "ada@example.com", billing.PurposeBindBillingAccount),
		HuaweiAccountID: mockserver.DemoHuaweiAccountID, InstanceID: mockserver.DemoInstanceID,
	})
	if err != nil {
		log.Fatal(err)
	}

	res, err := wc.CreateWorkspace(ctx, bound.Token, &workspace.CreateWorkspaceRequest{
		Name:          "production",
		Language:      twapi.LanguageZH,
		Site:          site.EU1,
		Email:         "ada@example.com",
		EmailCode:     sendCode(ctx, srv, bc, "ada@example.com", billing.PurposeCreateWorkspace),
		TermsAccepted: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("workspace:", res.Workspace.Name, res.Workspace.Site, res.Workspace.Language)
	fmt.Println("owner:", res.Account.Username)
	fmt.Println("settled by:", res.Workspace.Settlement.Method, res.Workspace.Settlement.InstanceID)
	fmt.Println("login:", strings.TrimPrefix(res.LoginURL, srv.URL()))

	// The name is unique per owner account. (A new code for the same
	// address and purpose can be sent a minute after the last one.)
	clock.Advance(time.Minute)
	_, err = wc.CreateWorkspace(ctx, bound.Token, &workspace.CreateWorkspaceRequest{
		Name: "production", Language: twapi.LanguageEN, Site: site.EU1, Email: "ada@example.com",
		EmailCode:     sendCode(ctx, srv, bc, "ada@example.com", billing.PurposeCreateWorkspace),
		TermsAccepted: true,
	})
	fmt.Println("again, name taken:", errors.Is(err, apierror.ErrNameTaken))
	// Output:
	// workspace: production eu1 zh
	// owner: ada
	// settled by: huaweicloud tw-inst-7d7b0a7e1c2d4e5f
	// login: /sites/eu1/auth/login/pwd
	// again, name taken: true
}

// GetWorkspace reads a workspace from its site's API, with the token of the
// Billing Center account it belongs to. An unknown ID matches
// apierror.ErrNotFound.
func ExampleClient_GetWorkspace() {
	srv, _, wc := newMock()
	defer srv.Close()
	ctx := context.Background()
	ba, _ := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: "ada@example.com"})
	acc, _ := srv.SeedAccount(mockserver.AccountSeed{Site: site.AP1, Username: "ada", Email: "ada@example.com"})
	seeded, err := srv.SeedWorkspace(mockserver.WorkspaceSeed{OwnerAccountID: acc.ID, Name: "production",
		Language: twapi.LanguageEN, BillingAccountID: ba.ID})
	if err != nil {
		log.Fatal(err)
	}
	// SeedBinding stands for billing.Client.BindBillingAccount: it binds
	// without a code and returns the token.
	token, err := srv.SeedBinding(ba.ID, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	if err != nil {
		log.Fatal(err)
	}

	w, err := wc.GetWorkspace(ctx, token, site.AP1, seeded.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Name, w.Site, w.Language, w.Settlement.Method, w.IsLocked)
	fmt.Println("same workspace:", w.ID == seeded.ID)

	_, err = wc.GetWorkspace(ctx, token, site.AP1, "wksp_00000000000000000000000000000000")
	fmt.Println("unknown:", errors.Is(err, apierror.ErrNotFound))
	// Output:
	// production ap1 en billing_center false
	// same workspace: true
	// unknown: true
}
