// Command bulk activates many tenants at once against the embedded mock
// server, the way a service that provisions TrueWatch for its customers
// would: each tenant is a Huawei account with its own TrueWatch purchase,
// activated by registering a new Billing Center account and workspace.
// It shows progress as activations finish and a summary at the end.
//
//	go run ./examples/bulk -n 50 -concurrency 8
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/examples/internal/cli"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	_, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.ExitStatus("bulk", err, os.Stderr))
}

// tenant is one customer to activate.
type tenant struct {
	n          int
	accountID  string
	ak, sk     string
	instanceID string
}

// summary is what a bulk run did.
type summary struct {
	Activated int
	Failed    int
	Elapsed   time.Duration
	P50, P95  time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (summary, error) {
	fs := flag.NewFlagSet("bulk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 20, "how many tenants to activate")
	conc := fs.Int("concurrency", 4, "how many activations run at once")
	siteFlag := fs.String("site", "ap1", "TrueWatch site for every workspace")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./examples/bulk [flags]

Activates many tenants at once against the embedded mock server, each a
Huawei account with its own TrueWatch purchase, and prints progress and a
summary.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := cli.ParseFlags(fs, args); err != nil {
		return summary{}, err
	}
	if *n < 1 || *conc < 1 {
		return summary{}, errors.New("-n and -concurrency must be at least 1")
	}

	srv, err := mockserver.New(mockserver.WithoutDemoFixture())
	if err != nil {
		return summary{}, err
	}
	defer srv.Close()

	tenants := make([]tenant, *n)
	for i := range tenants {
		t := tenant{n: i + 1, accountID: fmt.Sprintf("%032x", 0xb0000+i), ak: fmt.Sprintf("BULKAK%06d", i+1),
			sk: fmt.Sprintf("bulk-secret-%06d", i+1), instanceID: fmt.Sprintf("tw-bulk-%06d", i+1)}
		if err := srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: t.accountID, Keys: []mockserver.AccessKey{{AK: t.ak, SK: t.sk}}}); err != nil {
			return summary{}, err
		}
		if _, err := srv.AddPurchase(mockserver.Purchase{AccountID: t.accountID, InstanceID: t.instanceID}); err != nil {
			return summary{}, err
		}
		tenants[i] = t
	}
	fmt.Fprintf(stdout, "Activating %d tenants, %d at a time, on site %s (mock at %s)\n", *n, *conc, *siteFlag, srv.URL())

	codes := truewatch.CodesFromOutbox(srv)
	var (
		done      atomic.Int64
		mu        sync.Mutex
		durations []time.Duration
		failures  []string
	)
	jobs := make(chan tenant)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range jobs {
				began := time.Now()
				res, err := activate(ctx, srv, codes, truewatch.Site(*siteFlag), t)
				d := time.Since(began)
				k := done.Add(1)
				mu.Lock()
				if err != nil {
					failures = append(failures, fmt.Sprintf("tenant %03d: %v", t.n, err))
					fmt.Fprintf(stdout, "[%3d/%d] tenant %03d FAILED after %s: %v\n", k, *n, t.n, d.Round(time.Millisecond), err)
				} else {
					durations = append(durations, d)
					fmt.Fprintf(stdout, "[%3d/%d] tenant %03d → %s in %s\n", k, *n, t.n, res.WorkspaceID, d.Round(time.Millisecond))
				}
				mu.Unlock()
			}
		}()
	}
	for _, t := range tenants {
		select {
		case jobs <- t:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()

	s := summary{Activated: len(durations), Failed: len(failures), Elapsed: time.Since(start)}
	slices.Sort(durations)
	if len(durations) > 0 {
		s.P50 = durations[len(durations)/2]
		s.P95 = durations[min(len(durations)-1, len(durations)*95/100)]
	}
	fmt.Fprintf(stdout, "\nSummary: %d activated, %d failed in %s (per activation: p50 %s, p95 %s)\n",
		s.Activated, s.Failed, s.Elapsed.Round(time.Millisecond), s.P50.Round(time.Millisecond), s.P95.Round(time.Millisecond))
	fmt.Fprintf(stdout, "Mock state: %d Billing Center accounts, %d workspaces\n", len(srv.BillingAccounts()), len(srv.Workspaces()))
	if ctx.Err() != nil {
		return s, ctx.Err()
	}
	if s.Failed > 0 {
		return s, fmt.Errorf("%d activations failed", s.Failed)
	}
	return s, nil
}

func activate(ctx context.Context, srv *mockserver.Server, codes truewatch.CodeProvider, st truewatch.Site, t tenant) (*truewatch.Result, error) {
	pw := secret.String(fmt.Sprintf("Tenant-Pass-%03d", t.n))
	return truewatchtest.Activation(srv).
		WithHuaweiCredentials(t.ak, secret.String(t.sk)). // the tenant's own Huawei account
		WithSite(st).
		Register(truewatch.RegisterInfo{
			Username: fmt.Sprintf("tenant%03d", t.n), Password: pw, PasswordConfirm: pw,
			Email:         fmt.Sprintf("ops+tenant%03d@example.com", t.n),
			Company:       billing.Company{Name: fmt.Sprintf("Tenant %03d Ltd", t.n)},
			WorkspaceName: "production", WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true,
		}).
		WithCodes(codes).
		Run(ctx)
}
