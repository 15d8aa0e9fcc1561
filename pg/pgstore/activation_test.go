package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/pg/internal/pgtest"
	"github.com/truewatch-labs/marketplace-go/pg/pgstore"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

const (
	tenantAccount  = "a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4"
	tenantInstance = "tw-pg-0001"
	// The tenant's Huawei access key: the activation signs its proofs of
	// ownership with it.
	tenantAK = "PGTENANTAK0001"
	tenantSK = "pg-tenant-secret-key-0001"
)

// tenantMock is a mock with one tenant: a Huawei account, with an access
// key, and one active TrueWatch purchase.
func tenantMock(t *testing.T) *mockserver.Server {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture(), mockserver.WithoutListener())
	if err := srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: tenantAccount,
		Keys: []mockserver.AccessKey{{AK: tenantAK, SK: tenantSK}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddPurchase(mockserver.Purchase{AccountID: tenantAccount, InstanceID: tenantInstance}); err != nil {
		t.Fatal(err)
	}
	return srv
}

func register(srv *mockserver.Server, store truewatch.Store) *truewatch.Activation {
	pw := secret.String("Tenant-Pass-1")
	return truewatchtest.Activation(srv).WithHuaweiCredentials(tenantAK, tenantSK).
		WithHuaweiAccountID(tenantAccount).WithInstanceID(tenantInstance).WithSite(truewatch.SiteAP1).
		Register(truewatch.RegisterInfo{Username: "tenant1", Password: pw, PasswordConfirm: pw, Email: "ops@tenant1.example",
			Company: billing.Company{Name: "Tenant 1"}, WorkspaceName: "prod", WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true}).
		WithStore(store)
}

// exactlyOne checks the mock holds one account, Billing Center account and
// workspace, and an activated subscription.
func exactlyOne(t *testing.T, srv *mockserver.Server) {
	t.Helper()
	st := srv.Snapshot()
	if len(st.Accounts) != 1 || len(st.BillingAccounts) != 1 || len(st.Workspaces) != 1 {
		t.Fatalf("mock holds %d accounts, %d Billing Center accounts, %d workspaces; want one of each",
			len(st.Accounts), len(st.BillingAccounts), len(st.Workspaces))
	}
	sub, _ := srv.Subscription(tenantAccount, tenantInstance)
	if !sub.Activated() || len(sub.Workspaces) != 1 {
		t.Fatalf("subscription %+v is not activated with one workspace", sub)
	}
}

// terminateConnections ends every other connection to the test's database,
// as a database restart or a network failure would.
func terminateConnections(t *testing.T, admin *pgxpool.Pool) {
	t.Helper()
	pgtest.Exec(t, admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	time.Sleep(100 * time.Millisecond) // the backends exit
}

// TestConnectionLostMidActivation: the database connections drop while the
// registration is in flight, so its checkpoint cannot be saved, or just
// before it, so the lease cannot be renewed. Either way the run stops with a
// *truewatch.StoreError that says to run again; the next run resumes and
// finishes with one of everything (a sent registration is found done).
func TestConnectionLostMidActivation(t *testing.T) {
	for _, c := range []struct {
		name   string
		during bool // while the registration is in flight
		op     string
	}{{"after the change", true, "save checkpoint"}, {"before the change", false, "renew lease"}} {
		t.Run(c.name, func(t *testing.T) {
			dsn := pgtest.Database(t)
			admin := pgtest.Pool(t, dsn)
			store, err := pgstore.New(pgtest.Pool(t, dsn))
			if err != nil {
				t.Fatal(err)
			}
			if err := store.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			srv := tenantMock(t)
			if c.during {
				if _, err := srv.InjectFault(mockserver.Fault{Method: "POST", Path: "/billing-center/api/v1/account/register",
					Delay: 400 * time.Millisecond}); err != nil {
					t.Fatal(err)
				}
			}
			var once sync.Once
			_, err = register(srv, store).WithEvents(func(e truewatch.Event) {
				if e.Type == truewatch.CodeRequested && e.Step == truewatch.StepRegister {
					once.Do(func() {
						if !c.during {
							terminateConnections(t, admin)
							return
						}
						go func() {
							time.Sleep(150 * time.Millisecond) // the registration is held by the mock
							terminateConnections(t, admin)
						}()
					})
				}
			}).Run(context.Background())
			var se *truewatch.StoreError
			if !errors.As(err, &se) || !errors.Is(err, truewatch.ErrStoreFailed) || se.Op != c.op {
				t.Fatalf("run with the connection lost: %v, want a *truewatch.StoreError of %s", err, c.op)
			}
			if !strings.Contains(err.Error(), "run the activation again") {
				t.Fatalf("the error does not name the recovery: %v", err)
			}
			if got, want := len(srv.BillingAccounts()), map[bool]int{true: 1, false: 0}[c.during]; got != want {
				t.Fatalf("%d Billing Center accounts after the failed run, want %d", got, want)
			}

			res, err := register(srv, store).Run(context.Background())
			if err != nil {
				t.Fatalf("run again: %v", err)
			}
			exactlyOne(t, srv)
			if c.during && !res.AlreadyActivated {
				t.Fatalf("the second run did not find the registration done: %+v", res.Steps)
			}
		})
	}
}

// TestRowEditedByHand: a checkpoint row edited by hand stops the run before
// any change with ErrBadCheckpoint naming the recovery; after the Delete it
// names, the activation finishes with one of everything.
func TestRowEditedByHand(t *testing.T) {
	store, _ := migrated(t)
	srv := tenantMock(t)
	id, err := register(srv, store).Identity()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := truewatch.NewCheckpoint(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(ctx, id.ActivationID, first); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]string{
		"another activation": `jsonb_set(data, '{activationId}', '"actv_someone_else"')`,
		"another shape":      `jsonb_set(data, '{steps}', '{"register": true}')`,
		"another version":    `jsonb_set(data, '{version}', '7')`,
	} {
		t.Run(name, func(t *testing.T) {
			pgtest.Exec(t, store.Pool(), "UPDATE truewatch_checkpoints SET data = "+edit+" WHERE activation_id = $1", id.ActivationID)
			_, err := register(srv, store).Run(ctx)
			if !errors.Is(err, truewatch.ErrBadCheckpoint) {
				t.Fatalf("run over a row edited by hand: %v, want ErrBadCheckpoint", err)
			}
			if want := fmt.Sprintf("Store.Delete(ctx, %q)", id.ActivationID); !strings.Contains(err.Error(), want) {
				t.Fatalf("the error does not name the recovery %s: %v", want, err)
			}
			if n := len(srv.Outbox()) + len(srv.BillingAccounts()); n != 0 {
				t.Fatalf("the refused run changed something: %d emails and accounts", n)
			}
			pgtest.Exec(t, store.Pool(), "UPDATE truewatch_checkpoints SET data = $2 WHERE activation_id = $1", id.ActivationID,
				fmt.Sprintf(`{"version": 1, "revision": 1, "activationId": %q, "huaweiAccountId": %q, "steps": []}`, id.ActivationID, tenantAccount))
		})
	}
	pgtest.Exec(t, store.Pool(), "UPDATE truewatch_checkpoints SET data = '{}' WHERE activation_id = $1", id.ActivationID)
	if err := store.Delete(ctx, id.ActivationID); err != nil {
		t.Fatal(err)
	}
	if _, err := register(srv, store).Run(ctx); err != nil {
		t.Fatalf("run after the Delete: %v", err)
	}
	exactlyOne(t, srv)
}

// TestLeaseTakenOverAfterExpiry: a run stalls past its lease's expiry;
// another takes the activation over and finishes it; the first, when it
// goes on, stops with a *truewatch.LeaseLostError before its next change.
func TestLeaseTakenOverAfterExpiry(t *testing.T) {
	store, _ := migrated(t)
	srv := tenantMock(t)
	ctx := context.Background()
	var second *truewatch.Result
	var secondErr error
	_, err := register(srv, store).WithLeaseOwner("stalled-worker").WithEvents(func(e truewatch.Event) {
		if e.Type == truewatch.CodeRequested && e.Step == truewatch.StepRegister && second == nil {
			// The stalled worker's lease runs out (a pause longer than its TTL).
			pgtest.Exec(t, store.Pool(), "UPDATE truewatch_leases SET expires_at = now() - interval '1 second'")
			second, secondErr = register(srv, store).WithLeaseOwner("healthy-worker").Run(ctx)
		}
	}).Run(ctx)
	if secondErr != nil {
		t.Fatalf("the takeover run: %v", secondErr)
	}
	var lost *truewatch.LeaseLostError
	if !errors.As(err, &lost) || lost.Owner != "stalled-worker" {
		t.Fatalf("the stalled run: %v, want a *truewatch.LeaseLostError of stalled-worker", err)
	}
	exactlyOne(t, srv)
	cp, err := store.Load(ctx, second.ActivationID)
	if err != nil || !cp.Completed {
		t.Fatalf("checkpoint after the takeover: %+v, %v", cp, err)
	}
	if ls, err := store.Leases(ctx); err != nil || len(ls) != 0 {
		t.Fatalf("leases left: %+v, %v", ls, err)
	}
}

// TestMigrate: Migrate is idempotent and safe when processes race; a store
// used before it says so.
func TestMigrate(t *testing.T) {
	dsn := pgtest.Database(t)
	ctx := context.Background()
	s, err := pgstore.New(pgtest.Pool(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, "actv_1"); !errors.Is(err, pgstore.ErrNotMigrated) {
		t.Fatalf("Load before Migrate: %v, want ErrNotMigrated", err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("SchemaVersion before Migrate = %d, %v", v, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other, err := pgstore.New(pgtest.Pool(t, dsn))
			if err == nil {
				err = other.Migrate(ctx)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	ms, err := pgstore.Migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("Migrations: %v, %v", ms, err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != ms[len(ms)-1].Version {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, ms[len(ms)-1].Version)
	}
	var applied int
	if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM truewatch_schema_migrations").Scan(&applied); err != nil || applied != len(ms) {
		t.Fatalf("%d migrations recorded, %v; want %d", applied, err, len(ms))
	}
	if _, err := pgstore.New(nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
	if _, err := pgstore.New(s.Pool(), pgstore.WithListBatchSize(0)); err == nil {
		t.Fatal("WithListBatchSize(0) succeeded")
	}
}
