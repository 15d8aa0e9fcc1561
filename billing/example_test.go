package billing_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// newMock starts an in-process mock server (no port) and a Billing Center
// client that reaches it. Its demo fixture is a Huawei account with one
// TrueWatch purchase in use, bound to nothing. The buyer's Huawei client,
// with that account's keys, proves ownership of the account on the calls
// keyed by it.
func newMock() (*mockserver.Server, *billing.Client) {
	srv, err := mockserver.New(mockserver.WithoutListener())
	if err != nil {
		log.Fatal(err)
	}
	hw, err := srv.HuaweiClient() // the demo account's keys
	if err != nil {
		log.Fatal(err)
	}
	bc, err := srv.BillingClient(billing.WithOwnershipProver(hw))
	if err != nil {
		log.Fatal(err)
	}
	return srv, bc
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

// A subscription with no Billing Center account: Register creates the
// TrueWatch account, the Billing Center account and the first workspace,
// settled by the Huawei subscription, all or nothing.
func ExampleClient_Register() {
	srv, bc := newMock()
	defer srv.Close()
	ctx := context.Background()

	res, err := bc.Register(ctx, &billing.RegisterRequest{
		Site:              site.EU1,
		Username:          "ada",
		Password:          "S3cret-pass!",
		Email:             "ada@example.com",
		EmailCode:         sendCode(ctx, srv, bc, "ada@example.com", billing.PurposeRegister),
		Company:           billing.Company{Name: "Analytical Engines"},
		WorkspaceName:     "production",
		WorkspaceLanguage: twapi.LanguageEN,
		HuaweiAccountID:   mockserver.DemoHuaweiAccountID,
		InstanceID:        mockserver.DemoInstanceID,
		TermsAccepted:     true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("billing account:", res.BillingAccount.Username)
	fmt.Println("workspace:", res.Workspace.Name, res.Workspace.Site, res.Workspace.Language)
	fmt.Println("settled by:", res.Workspace.Settlement.Method, res.Workspace.Settlement.InstanceID)
	fmt.Println("login:", strings.TrimPrefix(res.LoginURL, srv.URL()))
	// Output:
	// billing account: ada
	// workspace: production eu1 en
	// settled by: huaweicloud tw-inst-7d7b0a7e1c2d4e5f
	// login: /sites/eu1/auth/login/pwd
}

// An existing Billing Center account is bound to the subscription after
// its registered email is verified; the token that comes back authorises
// the workspace calls. Like every secret, it prints redacted.
func ExampleClient_BindBillingAccount() {
	srv, bc := newMock()
	defer srv.Close()
	ctx := context.Background()
	if _, err := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: "ada@example.com"}); err != nil {
		log.Fatal(err)
	}

	bound, err := bc.BindBillingAccount(ctx, &billing.BindAccountRequest{
		Username:        "ada",
		Email:           "ada@example.com",
		EmailCode:       sendCode(ctx, srv, bc, "ada@example.com", billing.PurposeBindBillingAccount),
		HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID:      mockserver.DemoInstanceID,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bound:", bound.BillingAccount.Username)
	fmt.Println("token:", bound.Token)

	sub, err := bc.GetSubscription(ctx, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("subscription bound:", sub.Bound, "activated:", sub.Activated())
	// Output:
	// bound: ada
	// token: [REDACTED]
	// subscription bound: true activated: false
}

// AllBindableWorkspaces walks every page of the account's workspaces; the
// Site option keeps those of one site. Each says whether it can be bound to
// the token's subscription and, if not, why.
func ExampleClient_AllBindableWorkspaces() {
	srv, bc := newMock()
	defer srv.Close()
	ctx := context.Background()
	ba, _ := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: "ada@example.com"})
	for _, s := range []site.Code{site.US1, site.EU1} {
		acc, err := srv.SeedAccount(mockserver.AccountSeed{Site: s, Username: "ada", Email: "ada@example.com"})
		if err != nil {
			log.Fatal(err)
		}
		for _, name := range []string{"production", "staging"} {
			if _, err := srv.SeedWorkspace(mockserver.WorkspaceSeed{OwnerAccountID: acc.ID, Name: name, BillingAccountID: ba.ID}); err != nil {
				log.Fatal(err)
			}
		}
	}
	// SeedBinding stands for BindBillingAccount: it binds without a code
	// and returns the token.
	token, err := srv.SeedBinding(ba.ID, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	if err != nil {
		log.Fatal(err)
	}

	for w, err := range bc.AllBindableWorkspaces(ctx, token, &billing.ListOptions{Site: site.EU1, PageSize: 1}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(w.Name, w.Site, w.Bindable)
	}
	// Output:
	// production eu1 true
	// staging eu1 true
}

// BindWorkspace settles an existing workspace by the subscription, which
// completes the activation.
func ExampleClient_BindWorkspace() {
	srv, bc := newMock()
	defer srv.Close()
	ctx := context.Background()
	ba, _ := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: "ada@example.com"})
	acc, _ := srv.SeedAccount(mockserver.AccountSeed{Site: site.AP1, Username: "ada", Email: "ada@example.com"})
	w, err := srv.SeedWorkspace(mockserver.WorkspaceSeed{OwnerAccountID: acc.ID, Name: "production", BillingAccountID: ba.ID})
	if err != nil {
		log.Fatal(err)
	}
	token, err := srv.SeedBinding(ba.ID, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	if err != nil {
		log.Fatal(err)
	}

	res, err := bc.BindWorkspace(ctx, token, &billing.BindWorkspaceRequest{WorkspaceID: w.ID})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("changed:", res.Changed, "settled by:", res.Workspace.Settlement.Method)
	fmt.Println("login:", strings.TrimPrefix(res.LoginURL, srv.URL()))

	binding, err := bc.GetBinding(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("workspaces bound:", len(binding.Workspaces))
	// Output:
	// changed: true settled by: huaweicloud
	// login: /sites/ap1/auth/login/pwd
	// workspaces bound: 1
}

// Failed calls return an *apierror.Error with the HTTP status and the
// service's error code; errors.Is matches it against the apierror
// sentinels, so callers branch on meaning rather than on codes. Input that
// breaks a documented rule is refused before anything is sent.
func ExampleClient_Register_errors() {
	srv, bc := newMock()
	defer srv.Close()
	ctx := context.Background()
	if _, err := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: "ada", Email: "ada@example.com"}); err != nil {
		log.Fatal(err)
	}
	req := &billing.RegisterRequest{
		Site: site.US1, Username: "ada", Password: "S3cret-pass!", Email: "ada@example.com",
		EmailCode: sendCode(ctx, srv, bc, "ada@example.com", billing.PurposeRegister),
		Company:   billing.Company{Name: "Analytical Engines"}, WorkspaceName: "production",
		WorkspaceLanguage: twapi.LanguageEN, HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID, TermsAccepted: true,
	}

	_, err := bc.Register(ctx, req)
	var apiErr *apierror.Error
	if errors.As(err, &apiErr) {
		fmt.Println("status:", apiErr.HTTPStatus, "code:", apiErr.ErrorCode)
	}
	fmt.Println("name taken:", errors.Is(err, apierror.ErrNameTaken))

	req.Email = "not-an-email"
	_, err = bc.Register(ctx, req)
	var ve *apierror.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println("problem:", p.Field)
		}
	}
	fmt.Println("validation:", errors.Is(err, apierror.ErrValidation))
	// Output:
	// status: 409 code: ft.UsernameTaken
	// name taken: true
	// problem: email
	// validation: true
}
