package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/pg/pgstore"
	"github.com/truewatch-labs/marketplace-go/pg/riverjob"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// tenant is one customer of the service: a Huawei account with a TrueWatch
// purchase, activated by registering a Billing Center account. Its access
// key (ak, sk) signs the proofs that the service acts for the account.
type tenant struct {
	n                     int
	accountID, instanceID string
	username              string
	ak                    string
	sk                    secret.String
}

// input is what a job carries about its tenant: no secret.
type input struct {
	Run    uint32 `json:"run"`
	Tenant int    `json:"tenant"`
}

// newTenant is tenant n of a run. Its Huawei secret key stands for one the
// service keeps in its secret store: derived from the run's random keySeed,
// which the workers get in their environment, never in a job's args.
func newTenant(run uint32, n int, keySeed secret.String) tenant {
	ak := fmt.Sprintf("FLEETAK%08x%06d", run, n)
	mac := hmac.New(sha256.New, []byte(keySeed.Reveal()))
	mac.Write([]byte(ak))
	return tenant{n: n, accountID: fmt.Sprintf("%08x%024x", run, n), instanceID: fmt.Sprintf("tw-fleet-%08x-%06d", run, n),
		username: fmt.Sprintf("f%08x%06d", run, n), ak: ak, sk: secret.String(hex.EncodeToString(mac.Sum(nil)))}
}

// activation is how the service makes a tenant's activation, when it
// submits it and again in a worker. The password and the Huawei secret key
// stand for ones the service keeps in its secret store; codes come from the
// mock's outbox.
func (m *mockClient) activation(in input, keySeed secret.String) (*truewatch.Activation, error) {
	t := newTenant(in.Run, in.Tenant, keySeed)
	eps, err := m.siteEndpoints()
	if err != nil {
		return nil, err
	}
	pw := secret.String(fmt.Sprintf("Fleet-Pass-%06d", t.n))
	return truewatch.NewActivation().
		WithBillingURL(m.billingURL()).WithSiteEndpoints(eps).WithHTTPClient(m.hc).
		WithHuaweiEndpoint(m.base).WithHuaweiCredentials(t.ak, t.sk).
		WithHuaweiAccountID(t.accountID).WithInstanceID(t.instanceID).WithSite(truewatch.SiteAP1).
		Register(truewatch.RegisterInfo{Username: t.username, Password: pw, PasswordConfirm: pw, Email: t.username + "@fleet.example",
			Company: billing.Company{Name: fmt.Sprintf("Tenant %d Ltd", t.n)}, WorkspaceName: "production",
			WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true}).
		WithCodes(m.codes()), nil
}

// quickRetry retries a failed job soon: the mock answers in milliseconds.
type quickRetry struct{}

func (quickRetry) NextRetry(j *rivertype.JobRow) time.Time {
	return time.Now().Add(time.Duration(j.Attempt) * 250 * time.Millisecond)
}

func workerID(id int) string { return fmt.Sprintf("fleet-worker-%d", id) }

// worker is a worker process: a River client running activation jobs until
// SIGTERM or SIGINT.
func worker(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("fleet worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.Int("id", 1, "worker number")
	dsn := fs.String("dsn", "", "PostgreSQL DSN")
	mockURL := fs.String("mock-url", "", "the mock's URL")
	conc := fs.Int("concurrency", 8, "activations at once")
	ttl := fs.Duration("lease-ttl", 3*time.Second, "activation lease TTL")
	rescue := fs.Duration("rescue-after", 5*time.Second, "River's RescueStuckJobsAfter")
	latency := fs.Duration("latency", 0, "latency added to each API call")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	cfg, err := pgxpool.ParseConfig(*dsn)
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(*conc + 6)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	store, err := pgstore.New(pool)
	if err != nil {
		return err
	}
	mock := newMockClient(*mockURL, secret.String(os.Getenv(mockTokenEnv)), *conc*2, *latency)
	keySeed := secret.String(os.Getenv(keySeedEnv))
	if keySeed.IsZero() {
		return errors.New("$" + keySeedEnv + " is not set: the fleet starts its workers with it")
	}
	name := workerID(*id)
	w, err := riverjob.NewWorker(store, func(_ context.Context, a riverjob.Args) (*truewatch.Activation, error) {
		var in input
		if err := a.DecodeInput(&in); err != nil {
			return nil, river.JobCancel(err)
		}
		return mock.activation(in, keySeed)
	}, riverjob.WithOwner(name), riverjob.WithLeaseTTL(*ttl))
	if err != nil {
		return err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{ID: name, Workers: workers, Logger: log,
		Queues:      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: *conc}},
		RetryPolicy: quickRetry{}, JobTimeout: *rescue - time.Second, RescueStuckJobsAfter: *rescue,
		FetchPollInterval: 100 * time.Millisecond, FetchCooldown: 20 * time.Millisecond})
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return client.Stop(sctx)
}
