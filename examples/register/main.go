// Command register shows the typed billing client on its own: against the
// embedded mock server it requests a verification code, reads it from the
// mock's outbox, registers a TrueWatch and Billing Center account for the
// demo Huawei purchase, proving ownership of the Huawei account with the
// demo account's keys, and prints what was created.
//
//	go run ./examples/register
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/examples/internal/cli"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

func main() {
	os.Exit(cli.ExitStatus("register", run(context.Background(), os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("register", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./examples/register

Shows the typed billing client on its own against the embedded mock server:
requests a verification code, reads it from the mock's outbox, registers a
TrueWatch and Billing Center account for the demo purchase, and prints what
was created. It takes no flags.
`)
	}
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	srv, err := mockserver.New()
	if err != nil {
		return err
	}
	defer srv.Close()

	// The buyer's Huawei client signs the proofs of ownership; the secret
	// key never leaves this process.
	hw, err := srv.HuaweiClient() // the demo account's keys
	if err != nil {
		return err
	}
	bc, err := srv.BillingClient(billing.WithOwnershipProver(hw))
	if err != nil {
		return err
	}

	const email = "ada@example.com"
	if _, err := bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: email, Purpose: billing.PurposeRegister}); err != nil {
		return err
	}
	code, ok := srv.LatestCode(email, billing.PurposeRegister)
	if !ok {
		return errors.New("no code in the mock outbox")
	}

	res, err := bc.Register(ctx, &billing.RegisterRequest{
		Site:              site.AP1,
		Username:          "ada",
		Password:          secret.String("Correct-Horse-9"),
		Email:             email,
		EmailCode:         secret.String(code),
		Company:           billing.Company{Name: "Analytical Engines Ltd"},
		WorkspaceName:     "production",
		WorkspaceLanguage: twapi.LanguageEN,
		HuaweiAccountID:   mockserver.DemoHuaweiAccountID,
		InstanceID:        mockserver.DemoInstanceID,
		TermsAccepted:     true,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "TrueWatch account  %s (%s)\n", res.Account.ID, res.Account.Username)
	fmt.Fprintf(stdout, "Billing Center     %s\n", res.BillingAccount.ID)
	fmt.Fprintf(stdout, "Workspace          %s %q on %s, settled by %s\n", res.Workspace.ID, res.Workspace.Name,
		res.Workspace.Site, res.Workspace.Settlement.Method)
	fmt.Fprintf(stdout, "Log in at          %s\n", res.LoginURL)

	sub, err := bc.GetSubscription(ctx, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Subscription       %s: bound=%v, workspaces=%d\n", sub.InstanceID, sub.Bound, len(sub.Workspaces))
	return nil
}
