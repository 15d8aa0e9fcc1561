// Command truewatch-mock serves the mock of everything a TrueWatch
// activation on Huawei Cloud Marketplace talks to (the Billing Center, every
// site's workspace API and login page, Huawei IAM, STS and BSS) on one port,
// for trying the SDK by hand and for tests written in other languages.
//
// Usage:
//
//	truewatch-mock [-addr 127.0.0.1:8080] [-public-url URL] [-no-demo] [-seed S]
//	               [-rate-limit N] [-token-ttl 1h] [-max-body 1048576]
//
// Every flag can also be set in the environment: TRUEWATCH_MOCK_ADDR,
// TRUEWATCH_MOCK_PUBLIC_URL, TRUEWATCH_MOCK_NO_DEMO, TRUEWATCH_MOCK_SEED,
// TRUEWATCH_MOCK_RATE_LIMIT, TRUEWATCH_MOCK_TOKEN_TTL,
// TRUEWATCH_MOCK_MAX_BODY. Flags win over the environment. -h lists them.
//
// In a container, listen on every interface and say how clients reach the
// mock, so that the URLs it prints and puts in its answers (login URLs)
// work for them:
//
//	truewatch-mock -addr 0.0.0.0:8080 -public-url http://localhost:8080
//
// Verification codes are not mailed: read them at GET /_mock/outbox. The
// control plane (/_mock/health, /_mock/reset, /_mock/state, seeding of
// purchases, accounts, workspaces and bindings, faults, ...) is listed at
// start-up and described in the mockserver package.
//
// The server stops gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/site"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "truewatch-mock:", err)
		os.Exit(2)
	}
}

// options is the command line after flags and environment.
type options struct {
	addr      string
	publicURL string
	noDemo    bool
	seed      string
	rateLimit int
	tokenTTL  time.Duration
	maxBody   int64
}

// parseOptions reads flags, then fills every flag not given from its
// environment variable (TRUEWATCH_MOCK_ and the flag name in upper case,
// '-' as '_').
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	o := options{}
	fs := newFlagSet(&o, stderr)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		if v := getenv(name); v != "" && !given[f.Name] {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	})
	return o, errors.Join(errs...)
}

// newFlagSet defines the flags, each usage naming its environment
// variable, on o.
func newFlagSet(o *options, output io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("truewatch-mock", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.publicURL, "public-url", "", "URL clients reach the mock at, e.g. http://localhost:8080 when it listens on 0.0.0.0 in a container; every URL it prints and answers uses it (empty: the listener's URL)")
	fs.BoolVar(&o.noDemo, "no-demo", false, "start empty, without the demo Huawei account and purchase")
	fs.StringVar(&o.seed, "seed", "", "seed of the deterministic ID generator")
	fs.IntVar(&o.rateLimit, "rate-limit", 0, "TrueWatch requests per minute per client before HTTP 401 ft.TriggerApiAkCurrentLimiting; 0 disables")
	fs.DurationVar(&o.tokenTTL, "token-ttl", time.Hour, "lifetime of Billing Center tokens")
	fs.Int64Var(&o.maxBody, "max-body", 1<<20, "largest request body in bytes")
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " (env " + envName(f.Name) + ")" })
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: truewatch-mock [flags]

Serves the mock of the TrueWatch Billing Center, every site's workspace API
and Huawei IAM, STS and BSS on one port. Each flag can also be set by the
environment variable shown; a flag given on the command line wins.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}

func envName(flagName string) string {
	return "TRUEWATCH_MOCK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// run serves until ctx is done. ready, when not nil, receives the server
// once it listens (for tests).
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, ready chan<- *mockserver.Server) error {
	o, err := parseOptions(args, getenv, stdout)
	if err != nil {
		return err
	}
	opts := []mockserver.Option{mockserver.WithAddr(o.addr), mockserver.WithRateLimit(o.rateLimit),
		mockserver.WithTokenTTL(o.tokenTTL), mockserver.WithMaxBodyBytes(o.maxBody)}
	if o.noDemo {
		opts = append(opts, mockserver.WithoutDemoFixture())
	}
	if o.seed != "" {
		opts = append(opts, mockserver.WithIDSeed(o.seed))
	}
	if o.publicURL != "" {
		opts = append(opts, mockserver.WithPublicURL(o.publicURL))
	}
	srv, err := mockserver.New(opts...)
	if err != nil {
		return err
	}
	defer srv.Close()
	printBanner(stdout, srv, !o.noDemo, o.publicURL != "")
	if ready != nil {
		ready <- srv
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "truewatch-mock: shutting down")
	return nil
}

func printBanner(w io.Writer, srv *mockserver.Server, demo, public bool) {
	fmt.Fprintf(w, "truewatch-mock listening on %s, serving %s\n", srv.Addr(), srv.URL())
	if host, _, err := net.SplitHostPort(srv.Addr()); !public && err == nil && net.ParseIP(host).IsUnspecified() {
		fmt.Fprintf(w, "  (on every interface: set -public-url to the URL clients reach it at; the URLs below and in its answers use it)\n")
	}
	fmt.Fprintf(w, "\nBilling Center:   %s\n", srv.BillingURL())
	fmt.Fprintf(w, "Huawei endpoint:  %s   (IAM, STS, BSS)\n", srv.HuaweiEndpoint())
	fmt.Fprintf(w, "Outbox:           %s/_mock/outbox?email=you@example.com\n\nSites:\n", srv.URL())
	eps := srv.SiteEndpoints()
	for _, c := range site.Codes() {
		api, _ := eps.URL(c, site.ConsoleAPI)
		login, _ := eps.LoginURL(c)
		fmt.Fprintf(w, "  %-4s console-api %s\n       login       %s\n", c, api, login)
	}
	fmt.Fprintf(w, "\nControl plane (JSON; errors are {\"error\": ...}):\n")
	for _, ep := range srv.ControlEndpoints() {
		fmt.Fprintf(w, "  %-6s %s%s\n         %s\n", ep.Method, srv.URL(), ep.Path, ep.Summary)
	}
	if demo {
		fmt.Fprintf(w, "\nDemo Huawei account (for trying the SDK only):\n")
		fmt.Fprintf(w, "  account ID   %s\n", mockserver.DemoHuaweiAccountID)
		fmt.Fprintf(w, "  access key   %s\n", mockserver.DemoAccessKey)
		fmt.Fprintf(w, "  secret key   %s\n", mockserver.DemoSecretKey)
		fmt.Fprintf(w, "  instance ID  %s\n", mockserver.DemoInstanceID)
	}
	fmt.Fprintln(w)
}
