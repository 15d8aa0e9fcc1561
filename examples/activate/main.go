// Command activate runs a whole TrueWatch activation for a purchase on
// Huawei Cloud Marketplace.
//
// With no flags it is a demo of the whole flow, from the purchase: it
// starts the mock server in-process with the demo Huawei account (real-name
// verified, nothing bought yet), buys TrueWatch on the mock's KooGallery
// (which calls TrueWatch's production interface with a signed newInstance;
// the instance ID TrueWatch answers is what Purchased Services shows), then
// looks up the account ID and the instance ID through the Huawei APIs with
// the demo AK/SK, registers a TrueWatch and Billing Center account with its
// first workspace (reading verification codes from the mock's outbox),
// prints each step and the result, and runs again to show that a second
// run changes nothing:
//
//	go run ./examples/activate
//	go run ./examples/activate -link    # activate with the purchase's activation link instead
//
// The other branches run the same way; the demo first seeds what a
// customer on that branch already has (an existing Billing Center account,
// and a workspace billed to it or a TrueWatch account to create one for):
//
//	go run ./examples/activate -mode bind-workspace
//	go run ./examples/activate -mode create-workspace
//	go run ./examples/activate -mode register-workspace
//
// Given -billing-url (or TRUEWATCH_BILLING_URL) it targets real endpoints: the
// Huawei credentials come from the SDK's standard environment variables
// (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN),
// passwords from TRUEWATCH_PASSWORD, and verification codes are prompted for
// on the terminal. The Huawei credentials are required: besides looking the
// IDs up, they sign the proofs that you own the Huawei account, without
// which the Billing Center changes nothing (the secret key never leaves
// this process; -audience names the Billing Center in the proofs when it
// is not the -billing-url):
//
//	export TRUEWATCH_BILLING_URL=https://billing.example.com
//	export HUAWEICLOUD_SDK_AK=... HUAWEICLOUD_SDK_SK=... TRUEWATCH_PASSWORD=...
//	go run ./examples/activate -site ap1 -mode register -username ada \
//	    -email ada@example.com -company "Analytical Engines" -workspace production
//
// The same works against the standalone mock (go run ./cmd/truewatch-mock):
//
//	TRUEWATCH_PASSWORD=Correct-Horse-9 HUAWEICLOUD_SDK_AK=DEMOAKTRUEWATCHMOCK0001 \
//	HUAWEICLOUD_SDK_SK=demo-secret-key-0001-do-not-use-in-production \
//	go run ./examples/activate -billing-url http://127.0.0.1:8080/billing-center \
//	    -huawei-endpoint http://127.0.0.1:8080 -sites-base http://127.0.0.1:8080
//
// (codes are then read from http://127.0.0.1:8080/_mock/outbox and typed in).
//
// A buyer without Huawei credentials activates with the activation link
// Huawei Cloud's Purchased Services shows ("Start using"), which names the
// account and the instance and proves ownership of them:
//
//	TRUEWATCH_PASSWORD=... go run ./examples/activate -billing-url https://billing.example.com \
//	    -activation-link 'https://billing.example.com/activate?huaweiAccountId=...&instanceId=...&token=...'
//
// Modes: register (no Billing Center account yet), bind-workspace,
// create-workspace and register-workspace (all three bind the existing
// Billing Center account named by -bc-username and -bc-email first). Add
// -plan to print the plan without changing anything, and -state DIR to
// checkpoint progress to files so that an interrupted run can be resumed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/examples/internal/cli"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

type options struct {
	billingURL     string
	audience       string
	huaweiEndpoint string
	sitesBase      string
	site           string
	mode           string
	username       string
	email          string
	phone          string
	company        string
	workspace      string
	language       string
	bcUsername     string
	bcEmail        string
	workspaceID    string
	instanceID     string
	accountID      string
	stateDir       string
	link           string
	demoLink       bool
	planOnly       bool
	verbose        bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(cli.ExitStatus("activate", err, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	var o options
	fs := flag.NewFlagSet("activate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.billingURL, "billing-url", getenv("TRUEWATCH_BILLING_URL"), "Billing Center base URL; empty runs the demo against the embedded mock")
	fs.StringVar(&o.audience, "audience", getenv("TRUEWATCH_AUDIENCE"), "audience the proofs of Huawei account ownership name (default: the Billing Center URL)")
	fs.StringVar(&o.huaweiEndpoint, "huawei-endpoint", getenv("TRUEWATCH_HUAWEI_ENDPOINT"), "one endpoint for Huawei IAM, STS and BSS (default: Huawei Cloud's)")
	fs.StringVar(&o.sitesBase, "sites-base", getenv("TRUEWATCH_SITES_BASE"), "serve every site from {base}/sites/{site}/{service} (the standalone mock's layout); default: https://{site}-{service}.truewatch.com")
	fs.StringVar(&o.site, "site", envOr(getenv, "TRUEWATCH_SITE", "ap1"), "TrueWatch site: us1, eu1, ap1, za1 or id1 (chosen once, never changes)")
	fs.StringVar(&o.mode, "mode", "register", "register, bind-workspace, create-workspace or register-workspace")
	fs.StringVar(&o.username, "username", "ada", "username of the account to register")
	fs.StringVar(&o.email, "email", "ada@example.com", "email of the account to register, or of the TrueWatch account that gets a new workspace")
	fs.StringVar(&o.phone, "phone", "", "optional phone number")
	fs.StringVar(&o.company, "company", "Analytical Engines Ltd", "company name (register)")
	fs.StringVar(&o.workspace, "workspace", "production", "workspace name (to create, or to bind in bind-workspace mode)")
	fs.StringVar(&o.language, "language", "en", "workspace language: en or zh (chosen once, never changes)")
	fs.StringVar(&o.bcUsername, "bc-username", "", "existing Billing Center username (bind modes)")
	fs.StringVar(&o.bcEmail, "bc-email", "", "the Billing Center account's registered email (bind modes)")
	fs.StringVar(&o.workspaceID, "workspace-id", "", "bind this workspace ID (bind-workspace mode; else -workspace names it)")
	fs.StringVar(&o.instanceID, "instance-id", "", "marketplace instance ID (default: discovered from the purchases)")
	fs.StringVar(&o.accountID, "account-id", "", "Huawei account ID (default: looked up through IAM)")
	fs.StringVar(&o.stateDir, "state", "", "directory to checkpoint progress in (default: memory)")
	fs.StringVar(&o.link, "activation-link", getenv("TRUEWATCH_ACTIVATION_LINK"), "the purchase's activation link (Purchased Services > Start using): proves ownership instead of Huawei credentials, and names the account and instance")
	fs.BoolVar(&o.demoLink, "link", false, "demo only: activate with the purchase's activation link instead of the Huawei credentials")
	fs.BoolVar(&o.planOnly, "plan", false, "print the plan and stop; changes nothing")
	fs.BoolVar(&o.verbose, "v", false, "log HTTP calls to stderr")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./examples/activate [flags]

Activates the TrueWatch purchase of a Huawei account: finds the account and
instance IDs, then registers or binds a Billing Center account and binds or
creates a workspace. Without -billing-url it runs against the embedded mock
server (seeded for the chosen -mode) and reads codes from its outbox.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	logger := slog.New(slog.DiscardHandler)
	if o.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	var act *truewatch.Activation
	password := secret.String(getenv("TRUEWATCH_PASSWORD"))
	demo := o.billingURL == ""
	if demo {
		srv, link, err := demoPurchase(ctx, stdout, func(srv *mockserver.Server) error {
			if err := seedDemo(srv, &o, stdout); err != nil {
				return fmt.Errorf("seed the demo mock server: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		defer srv.Close()
		if password == "" {
			password = "Correct-Horse-9"
		}
		// Everything pointed at the mock; codes from its outbox, printed as
		// they are read; ownership proved with the demo account's keys, or
		// with the purchase's activation link.
		act = truewatchtest.Activation(srv).WithCodes(printedCodes(stdout, truewatch.CodesFromOutbox(srv)))
		if o.demoLink {
			fmt.Fprintf(stdout, "Activating with the activation link (no Huawei credentials)\n\n")
			act = truewatch.NewActivation().WithBillingURL(srv.BillingURL()).WithAudience(srv.Audience()).
				WithSiteEndpoints(srv.SiteEndpoints()).WithHTTPClient(srv.HTTPClient()).WithClock(srv.Clock()).
				WithCodes(printedCodes(stdout, truewatch.CodesFromOutbox(srv))).WithActivationLink(link)
		}
	} else {
		act = truewatch.NewActivation().WithBillingURL(o.billingURL).
			WithCodes(truewatch.PromptCodes(stdin, stderr))
		if o.link != "" {
			act = act.WithActivationLink(o.link)
		} else {
			act = act.WithHuaweiCredentialsFromEnv()
		}
		if o.audience != "" {
			act = act.WithAudience(o.audience)
		}
		if o.huaweiEndpoint != "" {
			act = act.WithHuaweiEndpoint(o.huaweiEndpoint)
		}
		if o.sitesBase != "" {
			eps, err := site.UnderBase(o.sitesBase)
			if err != nil {
				return err
			}
			act = act.WithSiteEndpoints(eps)
		}
	}

	act = act.WithSite(truewatch.Site(o.site)).
		WithLogger(logger).
		WithEvents(printEvent(stdout))
	if o.stateDir != "" {
		act = act.WithStore(truewatch.NewFileStore(o.stateDir))
	}
	if o.accountID != "" {
		act = act.WithHuaweiAccountID(o.accountID)
	}
	if o.instanceID != "" {
		act = act.WithInstanceID(o.instanceID)
	}

	lang := truewatch.Language(o.language)
	switch o.mode {
	case "register":
		act = act.Register(truewatch.RegisterInfo{
			Username: o.username, Password: password, PasswordConfirm: password, Email: o.email, Phone: o.phone,
			Company:       billing.Company{Name: o.company},
			WorkspaceName: o.workspace, WorkspaceLanguage: lang, TermsAccepted: true,
		})
	case "bind-workspace", "create-workspace", "register-workspace":
		act = act.BindBillingAccount(o.bcUsername, o.bcEmail)
		switch o.mode {
		case "bind-workspace":
			if o.workspaceID != "" {
				act = act.BindWorkspaceByID(o.workspaceID)
			} else {
				act = act.BindWorkspaceByName(o.workspace)
			}
		case "create-workspace":
			act = act.CreateWorkspace(truewatch.CreateWorkspaceInfo{Name: o.workspace, Language: lang, Email: o.email, TermsAccepted: true})
		default:
			act = act.RegisterAndCreateWorkspace(truewatch.NewAccountInfo{
				WorkspaceName: o.workspace, WorkspaceLanguage: lang, Username: o.username,
				Password: password, PasswordConfirm: password, Email: o.email, Phone: o.phone, TermsAccepted: true,
			})
		}
	default:
		return fmt.Errorf("unknown -mode %q", o.mode)
	}

	plan, err := act.Plan(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Plan\n%s\n", indent(plan.String()))
	if o.planOnly {
		return nil
	}

	fmt.Fprintln(stdout, "Run")
	res, err := act.Run(ctx)
	var stepErr *truewatch.StepError
	if errors.As(err, &stepErr) {
		return fmt.Errorf("%w\nrun the same command again (with the same -state, if any) to resume: completed steps are not repeated", err)
	}
	if err != nil {
		return err
	}
	printResult(stdout, res)

	if demo {
		fmt.Fprintln(stdout, "\nRun again (nothing should change)")
		again, err := act.Run(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  already activated: %v, workspace %s\n", again.AlreadyActivated, again.WorkspaceID)
	}
	return nil
}

// The Billing Center account the demo seeds for the bind modes, unless
// -bc-username and -bc-email name another.
const (
	demoBCUsername = "acme"
	demoBCEmail    = "ops@acme.example"
)

// seedDemo seeds the embedded mock with what the chosen mode needs besides
// the purchase, as a real customer would already have it: the bind
// modes an existing Billing Center account (-bc-username, -bc-email), and
// bind-workspace a workspace named -workspace billed to it, create-workspace
// a TrueWatch account (-email) on the site to create the workspace for.
// register needs nothing. The same can be seeded into the standalone mock
// over its control plane (see the README).
func seedDemo(srv *mockserver.Server, o *options, w io.Writer) error {
	if o.mode == "register" {
		return nil
	}
	if o.bcUsername == "" && o.bcEmail == "" {
		o.bcUsername, o.bcEmail = demoBCUsername, demoBCEmail
	}
	ba, err := srv.SeedBillingAccount(mockserver.BillingAccountSeed{Username: o.bcUsername, Email: o.bcEmail, CompanyName: o.company})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "      seeded Billing Center account %s (%s, %s)\n", ba.ID, ba.Username, o.bcEmail)
	switch o.mode {
	case "bind-workspace":
		owner, err := srv.SeedAccount(mockserver.AccountSeed{Site: site.Code(o.site), Username: o.bcUsername, Email: o.bcEmail})
		if err != nil {
			return err
		}
		ws, err := srv.SeedWorkspace(mockserver.WorkspaceSeed{OwnerAccountID: owner.ID, Name: o.workspace,
			Language: truewatch.Language(o.language), BillingAccountID: ba.ID})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "      seeded workspace %s %q on %s, billed to it\n", ws.ID, ws.Name, ws.Site)
		o.workspaceID = ""
	case "create-workspace":
		acc, err := srv.SeedAccount(mockserver.AccountSeed{Site: site.Code(o.site), Username: o.username, Email: o.email})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "      seeded TrueWatch account %s (%s) on %s\n", acc.ID, acc.Email, acc.Site)
	}
	return nil
}

// demoPurchase starts the embedded mock with the demo Huawei account and
// nothing bought, lets seed add what the mode needs, buys TrueWatch on the
// mock's KooGallery, and prints the order and the newInstance call it
// made. It returns the server and the purchase's activation link.
func demoPurchase(ctx context.Context, w io.Writer, seed func(*mockserver.Server) error) (*mockserver.Server, string, error) {
	srv, err := mockserver.New(mockserver.WithoutDemoFixture())
	if err != nil {
		return nil, "", err
	}
	fail := func(err error) (*mockserver.Server, string, error) {
		srv.Close()
		return nil, "", err
	}
	if err := srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: mockserver.DemoHuaweiAccountID, Name: mockserver.DemoHuaweiAccountName,
		Keys: []mockserver.AccessKey{{AK: mockserver.DemoAccessKey, SK: mockserver.DemoSecretKey}}}); err != nil {
		return fail(err)
	}
	fmt.Fprintf(w, "Demo: embedded mock server at %s\n", srv.URL())
	fmt.Fprintf(w, "      Huawei account %s (real-name verified), nothing bought yet\n", mockserver.DemoHuaweiAccountID)
	if err := seed(srv); err != nil {
		return fail(err)
	}
	fmt.Fprintln(w)
	o, err := srv.PlaceOrder(ctx, mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID, PeriodMonths: 12})
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(w, "Purchase on Huawei Cloud Marketplace (KooGallery)")
	fmt.Fprintf(w, "  order %s, line %s: product %s, SKU %s, %d months\n", o.OrderID, o.OrderLineID, o.ProductID, o.SKUCode, o.PeriodMonths)
	for _, d := range srv.Deliveries(mockserver.DeliveryFilter{OrderID: o.OrderID}) {
		fmt.Fprintf(w, "  KooGallery → %s\n    %s (signed), answered %s %s\n", d.URL, d.Activity, d.ResultCode, d.ResultMsg)
	}
	if o.Status != mockserver.OrderDelivered {
		return fail(fmt.Errorf("the order was not delivered: %s", o.LastError))
	}
	fmt.Fprintf(w, "  Purchased Services shows instance %s\n", o.InstanceID)
	fmt.Fprintf(w, "  and its activation link %s\n\n", redactedLink(o.FrontEndURL))
	return srv, o.FrontEndURL, nil
}

// redactedLink is an activation link without its token, for printing.
func redactedLink(link string) string {
	if i := strings.Index(link, "token="); i >= 0 {
		return link[:i] + "token=…(secret)"
	}
	return link
}

func printEvent(w io.Writer) func(truewatch.Event) {
	return func(e truewatch.Event) {
		switch e.Type {
		case truewatch.StepStarted:
			fmt.Fprintf(w, "  → %s\n", e.Step)
		case truewatch.StepFinished:
			fmt.Fprintf(w, "  ✓ %s\n", e.Step)
		case truewatch.StepSkipped:
			fmt.Fprintf(w, "  - %s skipped: %s\n", e.Step, e.Reason)
		case truewatch.Retrying:
			fmt.Fprintf(w, "  ↻ %s retrying in %s: %s\n", e.Step, e.Wait, e.Reason)
		case truewatch.CodeRequested:
			fmt.Fprintf(w, "  ✉ %s: verification code requested (attempt %d)\n", e.Step, e.Attempt)
		default:
			if e.Err != nil {
				fmt.Fprintf(w, "  ✗ %s: %v\n", e.Step, e.Err)
			}
		}
	}
}

// printedCodes wraps a provider to say where each code came from, without
// printing the code itself.
func printedCodes(w io.Writer, p truewatch.CodeProvider) truewatch.CodeProvider {
	return func(ctx context.Context, req truewatch.CodeRequest) (secret.String, error) {
		code, err := p(ctx, req)
		if err == nil {
			fmt.Fprintf(w, "    read the %s code for %s from the mock outbox\n", req.Purpose, req.Email)
		}
		return code, err
	}
}

func printResult(w io.Writer, r *truewatch.Result) {
	fmt.Fprintln(w, "\nResult")
	fmt.Fprintf(w, "  Huawei account ID   %s\n", r.HuaweiAccountID)
	fmt.Fprintf(w, "  Instance ID         %s\n", r.InstanceID)
	fmt.Fprintf(w, "  Branch              %s\n", r.Branch)
	fmt.Fprintf(w, "  Subscription        %s\n", r.SubscriptionStatus)
	fmt.Fprintf(w, "  Billing Center      %s (%s)\n", r.BillingAccount.ID, r.BillingAccount.Username)
	fmt.Fprintf(w, "  Workspace           %s on %s\n", r.WorkspaceID, r.Site)
	fmt.Fprintf(w, "  Log in at           %s\n", r.LoginURL)
	fmt.Fprintln(w, "  Steps taken")
	for _, s := range r.Steps {
		key := ""
		if s.IdempotencyKey != "" {
			key = "  key " + s.IdempotencyKey
		}
		fmt.Fprintf(w, "    %-24s %-7s%s\n", s.Name, s.Action, key)
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
