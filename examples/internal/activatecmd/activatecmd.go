// Package activatecmd is the command behind examples/activate and
// examples/otel (the same command, exporting its traces and metrics over
// OTLP): its flags, the demo against the embedded mock, the real-endpoint
// mode, and what it prints. See examples/activate for its usage.
package activatecmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/examples/internal/cli"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

// Env is where the command reads and writes, and what a program adds.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Flags, when set, adds the program's own flags before parsing.
	Flags func(*flag.FlagSet)
	// Telemetry, when set, is called once the flags are parsed: it returns
	// the providers the activation (and, in the demo, the embedded mock)
	// report to, and a function that flushes them, called at the end.
	Telemetry func(context.Context) (Telemetry, func(context.Context) error, error)
}

// Telemetry are the OpenTelemetry providers a run reports to; nil fields
// leave the global ones.
type Telemetry struct {
	Tracer trace.TracerProvider
	Meter  metric.MeterProvider
}

// mockOptions give the embedded mock the same providers.
func (t Telemetry) mockOptions() []mockserver.Option {
	var o []mockserver.Option
	if t.Tracer != nil {
		o = append(o, mockserver.WithTracerProvider(t.Tracer))
	}
	if t.Meter != nil {
		o = append(o, mockserver.WithMeterProvider(t.Meter))
	}
	return o
}

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

// Run parses args as the command named name (usage says how it is run, e.g.
// "go run ./examples/activate") and runs it.
func Run(ctx context.Context, name, usage string, args []string, env Env) (err error) {
	stdin, stdout, stderr, getenv := env.Stdin, env.Stdout, env.Stderr, env.Getenv
	var o options
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
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
		fmt.Fprint(fs.Output(), `Usage: `+usage+` [flags]

Activates the TrueWatch purchase of a Huawei account: finds the account and
instance IDs, then registers or binds a Billing Center account and binds or
creates a workspace. Without -billing-url it runs against the embedded mock
server (seeded for the chosen -mode) and reads codes from its outbox.

Flags:
`)
		fs.PrintDefaults()
	}
	if env.Flags != nil {
		env.Flags(fs)
	}
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var tel Telemetry
	if env.Telemetry != nil {
		var flush func(context.Context) error
		if tel, flush, err = env.Telemetry(ctx); err != nil {
			return err
		}
		defer func() {
			// Flush even when the run was cancelled: its spans say why.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if ferr := flush(fctx); ferr != nil && err == nil {
				err = fmt.Errorf("export telemetry: %w", ferr)
			}
		}()
	}

	logger := slog.New(slog.DiscardHandler)
	if o.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	var act *truewatch.Activation
	password := secret.String(getenv("TRUEWATCH_PASSWORD"))
	demo := o.billingURL == ""
	if demo {
		srv, link, err := demoPurchase(ctx, stdout, tel, func(srv *mockserver.Server) error {
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
	if tel.Tracer != nil {
		act = act.WithTracerProvider(tel.Tracer)
	}
	if tel.Meter != nil {
		act = act.WithMeterProvider(tel.Meter)
	}
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
func demoPurchase(ctx context.Context, w io.Writer, tel Telemetry, seed func(*mockserver.Server) error) (*mockserver.Server, string, error) {
	srv, err := mockserver.New(append(tel.mockOptions(), mockserver.WithoutDemoFixture())...)
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
