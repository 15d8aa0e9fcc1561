// Package soaktest proves, under load and injected failures, the promise
// the activation builder makes: however often a run fails (lost responses,
// dropped connections, 5xx, rate limits, cancelled contexts, Huawei failing
// to confirm an ownership proof), running it again finishes the activation
// with exactly one Billing Center account, one binding and one workspace
// per purchase.
//
// The default run is short enough for CI. The long proof is behind a flag:
//
//	go test ./internal/soaktest/ -run Soak -soak -soak.tenants 1000 -soak.concurrency 8 -v
package soaktest

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

var (
	long        = flag.Bool("soak", false, "run the long soak proof")
	tenants     = flag.Int("soak.tenants", 400, "tenants in the long soak proof")
	concurrency = flag.Int("soak.concurrency", 8, "activations at once in the long soak proof")
)

type tenant struct {
	n                int
	accountID, ak    string
	instanceID, user string
}

// TestSoakActivationsUnderFaults activates many tenants concurrently while
// the mock fails a share of every kind of call, re-running each activation
// from its checkpoint until it succeeds, then checks that every tenant has
// exactly one of everything.
//
// It runs in a testing/synctest bubble: every wait (the retries' backoff,
// Retry-After, resend intervals) passes at once in fake time, which the
// mock, built WithoutListener inside the bubble, shares. Nothing is
// injected to make the waits instant.
func TestSoakActivationsUnderFaults(t *testing.T) {
	synctest.Test(t, soak)
}

func soak(t *testing.T) {
	n, conc := 24, 4
	if *long {
		n, conc = *tenants, *concurrency
	}
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture(), mockserver.WithoutListener())

	all := make([]tenant, n)
	for i := range all {
		tn := tenant{n: i + 1, accountID: fmt.Sprintf("%032x", 0x50a0000+i), ak: fmt.Sprintf("SOAKAK%07d", i+1),
			instanceID: fmt.Sprintf("tw-soak-%07d", i+1), user: fmt.Sprintf("soak%07d", i+1)}
		require.NoError(t, srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: tn.accountID, Keys: []mockserver.AccessKey{{AK: tn.ak, SK: "soak-sk"}}}))
		_, err := srv.AddPurchase(mockserver.Purchase{AccountID: tn.accountID, InstanceID: tn.instanceID})
		require.NoError(t, err)
		all[i] = tn
	}

	// Faults of every kind, spread over the run: each fault fails the
	// (skip+1)-th matching call, whichever tenant makes it.
	rng := rand.New(rand.NewPCG(1, 2))
	paths := []struct{ method, path string }{
		{http.MethodGet, "/v3/auth/domains"},
		{http.MethodGet, "/v5/caller-identity"}, // the Billing Center checking ownership proofs
		{http.MethodPost, "/v2/orders/suscriptions/resources/query"},
		{http.MethodGet, routes.MockBillingPrefix + routes.GetSubscription},
		{http.MethodPost, routes.MockBillingPrefix + routes.SendCode},
		{http.MethodPost, routes.MockBillingPrefix + routes.Register},
	}
	kinds := []mockserver.Fault{
		{Status: http.StatusServiceUnavailable},
		{Status: http.StatusBadGateway, AfterHandler: true},
		{DropConnection: true},
		{DropConnection: true, AfterHandler: true},
		{Status: http.StatusTooManyRequests, RetryAfter: time.Second},
		{Status: http.StatusInternalServerError, AfterHandler: true},
	}
	faults := 0
	for _, p := range paths {
		for skip := 0; skip < n; skip += 1 + rng.IntN(3) {
			f := kinds[rng.IntN(len(kinds))]
			f.Method, f.Path, f.Skip, f.Times = p.method, p.path, skip, 1
			_, err := srv.InjectFault(f)
			require.NoError(t, err)
			faults++
		}
	}

	store := truewatch.NewMemoryStore()
	codes := truewatch.CodesFromOutbox(srv)
	var mu sync.Mutex
	runs := map[int]int{}
	jobs := make(chan tenant)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tn := range jobs {
				for attempt := 1; ; attempt++ {
					mu.Lock()
					runs[tn.n] = attempt
					mu.Unlock()
					ctx, cancel := context.WithCancel(context.Background())
					act := activation(srv, store, codes, tn)
					if attempt%3 == 1 && tn.n%4 == 0 {
						// Cancel some runs part-way, as a timeout or a deploy would.
						act = act.WithEvents(func(e truewatch.Event) {
							if e.Type == truewatch.StepStarted && e.Step == truewatch.StepCheckSubscription {
								cancel()
							}
						})
					}
					_, err := act.Run(ctx)
					cancel()
					if err == nil {
						break
					}
					if attempt >= 20 {
						t.Errorf("tenant %d: still failing after %d runs: %v", tn.n, attempt, err)
						break
					}
				}
			}
		}()
	}
	for _, tn := range all {
		jobs <- tn
	}
	close(jobs)
	wg.Wait()

	hits := 0
	for _, h := range srv.FaultHits() {
		hits += h
	}
	reruns := 0
	for _, r := range runs {
		reruns += r - 1
	}
	t.Logf("%d tenants, %d faults injected, %d hit, %d re-runs", n, faults, hits, reruns)
	assert.Positive(t, hits, "the soak must actually inject failures")

	assert.Len(t, srv.BillingAccounts(), n, "one Billing Center account per tenant")
	assert.Len(t, srv.Accounts(), n, "one TrueWatch account per tenant")
	assert.Len(t, srv.Workspaces(), n, "one workspace per tenant")
	for _, tn := range all {
		sub, ok := srv.Subscription(tn.accountID, tn.instanceID)
		require.True(t, ok)
		assert.True(t, sub.Activated(), "tenant %d", tn.n)
		assert.Len(t, sub.Workspaces, 1, "tenant %d", tn.n)
		assert.Equal(t, tn.user, sub.BillingUsername, "tenant %d", tn.n)
	}
}

func activation(srv *mockserver.Server, store truewatch.Store, codes truewatch.CodeProvider, tn tenant) *truewatch.Activation {
	pw := secret.String("Soak-Pass-1")
	return truewatchtest.Activation(srv).WithHuaweiCredentials(tn.ak, "soak-sk").
		WithRetryPolicy(retry.Policy{MaxRetries: 2}).
		WithStore(store).WithCodes(codes).WithSite(truewatch.SiteZA1).
		Register(truewatch.RegisterInfo{Username: tn.user, Password: pw, PasswordConfirm: pw,
			Email: tn.user + "@example.com", Company: billing.Company{Name: "Soak Ltd"},
			WorkspaceName: "prod", WorkspaceLanguage: truewatch.LanguageZH, TermsAccepted: true})
}
