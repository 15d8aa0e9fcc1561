package riverjob_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/pg/internal/pgtest"
	"github.com/truewatch-labs/marketplace-go/pg/pgstore"
	"github.com/truewatch-labs/marketplace-go/pg/riverjob"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// input is what the test's service records about a tenant: no secret.
type input struct {
	Tenant int `json:"tenant"`
}

func accountOf(n int) string  { return fmt.Sprintf("%032x", 0xc0ffee00+n) }
func instanceOf(n int) string { return fmt.Sprintf("tw-river-%04d", n) }
func userOf(n int) string     { return fmt.Sprintf("river%04d", n) }
func akOf(n int) string       { return fmt.Sprintf("RIVERAK%04d", n) }

// service is a test service: a mock, a database, a River client running
// the activation worker.
type service struct {
	srv    *mockserver.Server
	store  *pgstore.Store
	sks    map[int]secret.String // the tenants' Huawei secret keys: the service's secret store
	client *river.Client[pgx.Tx]
	sub    *riverjob.Submitter
	events <-chan *river.Event
	codes  truewatch.CodeProvider
	retry  retry.Policy
	mu     sync.Mutex
	build  func(n int, a *truewatch.Activation) *truewatch.Activation // per-test changes
}

// quickRetry retries a failed job after 50ms, for tests.
type quickRetry struct{}

func (quickRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(50 * time.Millisecond)
}

func newService(t *testing.T, tenants int) *service {
	t.Helper()
	ctx := context.Background()
	s := &service{srv: mockserver.Start(t, mockserver.WithoutDemoFixture(), mockserver.WithoutListener()), sks: map[int]secret.String{}}
	s.codes = truewatch.CodesFromOutbox(s.srv)
	for n := 1; n <= tenants; n++ {
		s.sks[n] = secret.String(rand.Text())
		if err := s.srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: accountOf(n),
			Keys: []mockserver.AccessKey{{AK: akOf(n), SK: s.sks[n].Reveal()}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.srv.AddPurchase(mockserver.Purchase{AccountID: accountOf(n), InstanceID: instanceOf(n)}); err != nil {
			t.Fatal(err)
		}
	}
	pool := pgtest.Pool(t, pgtest.Database(t))
	var err error
	if s.store, err = pgstore.New(pool); err != nil {
		t.Fatal(err)
	}
	if err := riverjob.Migrate(ctx, s.store); err != nil {
		t.Fatal(err)
	}
	w, err := riverjob.NewWorker(s.store, s.rebuild, riverjob.WithOwner("test-worker"), riverjob.WithLeaseTTL(2*time.Second),
		riverjob.WithCodeWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	s.client, err = river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers, RetryPolicy: quickRetry{},
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}, FetchPollInterval: 50 * time.Millisecond,
		FetchCooldown: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var cancel func()
	s.events, cancel = s.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed,
		river.EventKindJobSnoozed)
	t.Cleanup(cancel)
	if err := s.client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.client.Stop(ctx)
	})
	if s.sub, err = riverjob.NewSubmitter(s.client, s.store); err != nil {
		t.Fatal(err)
	}
	return s
}

// activation is how the service makes tenant n's activation, in the
// request handler and again in the worker; the password and the tenant's
// Huawei secret key (which signs the proofs of ownership) come from its
// "secret store".
func (s *service) activation(n int) *truewatch.Activation {
	s.mu.Lock()
	sk := s.sks[n]
	s.mu.Unlock()
	a := s.unproven(n).WithHuaweiEndpoint(s.srv.HuaweiEndpoint()).WithHuaweiCredentials(akOf(n), sk)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retry.MaxRetries != 0 {
		a = a.WithRetryPolicy(s.retry)
	}
	if s.build != nil {
		a = s.build(n, a)
	}
	return a
}

// unproven is tenant n's activation without the Huawei credentials.
func (s *service) unproven(n int) *truewatch.Activation {
	pw := secret.String(fmt.Sprintf("River-Pass-%04d", n))
	return truewatch.NewActivation().
		WithBillingURL(s.srv.BillingURL()).WithSiteEndpoints(s.srv.SiteEndpoints()).WithHTTPClient(s.srv.HTTPClient()).
		WithHuaweiAccountID(accountOf(n)).WithInstanceID(instanceOf(n)).WithSite(truewatch.SiteEU1).
		Register(truewatch.RegisterInfo{Username: userOf(n), Password: pw, PasswordConfirm: pw, Email: userOf(n) + "@example.com",
			Company: billing.Company{Name: "River Ltd"}, WorkspaceName: "prod", WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true}).
		WithCodes(func(ctx context.Context, req truewatch.CodeRequest) (secret.String, error) {
			s.mu.Lock()
			codes := s.codes
			s.mu.Unlock()
			return codes(ctx, req)
		})
}

func (s *service) rebuild(_ context.Context, args riverjob.Args) (*truewatch.Activation, error) {
	var in input
	if err := args.DecodeInput(&in); err != nil {
		return nil, river.JobCancel(err)
	}
	return s.activation(in.Tenant), nil
}

func (s *service) submit(t *testing.T, n int) *riverjob.Submission {
	t.Helper()
	sub, err := s.sub.Submit(context.Background(), s.activation(n), input{Tenant: n})
	if err != nil {
		t.Fatalf("Submit tenant %d: %v", n, err)
	}
	return sub
}

// wait collects job events until want final ones (completed or cancelled)
// arrived.
func (s *service) wait(t *testing.T, want int) map[river.EventKind][]*rivertype.JobRow {
	t.Helper()
	got := map[river.EventKind][]*rivertype.JobRow{}
	timeout := time.After(60 * time.Second)
	for final := 0; final < want; {
		select {
		case e := <-s.events:
			got[e.Kind] = append(got[e.Kind], e.Job)
			if e.Kind == river.EventKindJobCompleted || e.Kind == river.EventKindJobCancelled {
				final++
			}
		case <-timeout:
			t.Fatalf("timed out with %d of %d jobs done: %v", final, want, got)
		}
	}
	return got
}

// oneEach checks tenants 1..n have one account, Billing Center account and
// workspace each, and activated subscriptions.
func (s *service) oneEach(t *testing.T, n int) {
	t.Helper()
	st := s.srv.Snapshot()
	if len(st.Accounts) != n || len(st.BillingAccounts) != n || len(st.Workspaces) != n {
		t.Fatalf("%d accounts, %d Billing Center accounts, %d workspaces; want %d of each", len(st.Accounts), len(st.BillingAccounts), len(st.Workspaces), n)
	}
	for i := 1; i <= n; i++ {
		sub, ok := s.srv.Subscription(accountOf(i), instanceOf(i))
		if !ok || !sub.Activated() || len(sub.Workspaces) != 1 || sub.BillingUsername != userOf(i) {
			t.Fatalf("tenant %d: subscription %+v", i, sub)
		}
	}
}

// TestSubmitRunsEachActivationOnce: submitted activations run on the
// worker, each once; a duplicate submission enqueues nothing and says
// which job carries the activation.
func TestSubmitRunsEachActivationOnce(t *testing.T) {
	const n = 6
	s := newService(t, n)
	subs := map[int]*riverjob.Submission{}
	for i := 1; i <= n; i++ {
		subs[i] = s.submit(t, i)
		if !subs[i].CheckpointCreated {
			t.Fatalf("tenant %d: no first checkpoint", i)
		}
	}
	again, err := s.sub.Submit(context.Background(), s.activation(1), input{Tenant: 1})
	var dup *riverjob.DuplicateError
	if !errors.As(err, &dup) || !errors.Is(err, riverjob.ErrAlreadySubmitted) || again.JobID != subs[1].JobID || dup.JobID != subs[1].JobID {
		t.Fatalf("second Submit: %+v, %v; want a *DuplicateError naming job %d", again, err, subs[1].JobID)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(subs[1].JobID)) {
		t.Fatalf("the duplicate error does not name the job: %v", err)
	}
	events := s.wait(t, n)
	if len(events[river.EventKindJobCompleted]) != n {
		t.Fatalf("events: %v", events)
	}
	s.oneEach(t, n)

	ctx := context.Background()
	for cp, err := range s.store.List(ctx, truewatch.ListFilter{Incomplete: true}) {
		t.Errorf("incomplete after the jobs: %+v, %v", cp, err)
	}
	row, err := s.client.JobGet(ctx, subs[2].JobID)
	if err != nil {
		t.Fatal(err)
	}
	var out riverjob.Output
	if err := json.Unmarshal(row.Output(), &out); err != nil || !strings.HasPrefix(out.WorkspaceID, "wksp_") || out.ActivationID != subs[2].ActivationID {
		t.Fatalf("job output %s (%v) does not record the workspace", row.Output(), err)
	}
	if strings.Contains(string(row.EncodedArgs), "River-Pass") {
		t.Fatalf("job args hold the password: %s", row.EncodedArgs)
	}

	// Submitted again once completed: River still holds the completed job.
	_, err = s.sub.Submit(ctx, s.activation(3), input{Tenant: 3})
	if !errors.As(err, &dup) || dup.State != rivertype.JobStateCompleted {
		t.Fatalf("Submit of a completed activation: %v, want a *DuplicateError in state completed", err)
	}
}

// TestFailedJobRetriesWithoutDoubling: the first attempt loses the
// registration's response; River retries the job and the registration is
// replayed, not repeated.
func TestFailedJobRetriesWithoutDoubling(t *testing.T) {
	s := newService(t, 1)
	s.mu.Lock()
	s.retry = retry.Policy{MaxRetries: -1} // the client gives up at once: the job fails
	s.mu.Unlock()
	if _, err := s.srv.InjectFault(mockserver.Fault{Method: http.MethodPost, Path: "/billing-center/api/v1/account/register",
		Status: http.StatusServiceUnavailable, AfterHandler: true}); err != nil {
		t.Fatal(err)
	}
	sub := s.submit(t, 1)
	events := s.wait(t, 1)
	if len(events[river.EventKindJobFailed]) != 1 || len(events[river.EventKindJobCompleted]) != 1 {
		t.Fatalf("events: %v; want one failed attempt, then completion", events)
	}
	s.oneEach(t, 1)
	row, err := s.client.JobGet(context.Background(), sub.JobID)
	if err != nil || row.Attempt != 2 {
		t.Fatalf("job %+v, %v: want 2 attempts", row, err)
	}
	cp, err := s.store.Load(context.Background(), sub.ActivationID)
	if err != nil || !cp.Completed || cp.Failure != nil {
		t.Fatalf("checkpoint %+v, %v: want completed, the failure cleared", cp, err)
	}
}

// TestPermanentFailureCancelsTheJob: an inactive subscription cancels the
// job instead of retrying it; the checkpoint records the failure; the
// activation may be submitted again.
func TestPermanentFailureCancelsTheJob(t *testing.T) {
	s := newService(t, 1)
	if _, err := s.srv.ReleasePurchase(context.Background(), instanceOf(1)); err != nil {
		t.Fatal(err)
	}
	first := s.submit(t, 1)
	events := s.wait(t, 1)
	if len(events[river.EventKindJobCancelled]) != 1 || len(events[river.EventKindJobFailed]) != 0 {
		t.Fatalf("events: %v; want the job cancelled at once", events)
	}
	var failed []*truewatch.Checkpoint
	for cp, err := range s.store.List(context.Background(), truewatch.ListFilter{Failed: true, HuaweiAccountID: accountOf(1)}) {
		if err != nil {
			t.Fatal(err)
		}
		failed = append(failed, cp)
	}
	if len(failed) != 1 || !strings.Contains(failed[0].Failure.Error, "not in use") {
		t.Fatalf("failed checkpoints %+v", failed)
	}
	again := s.submit(t, 1)
	if again.JobID == first.JobID || again.CheckpointCreated {
		t.Fatalf("resubmission %+v: want a new job on the existing checkpoint", again)
	}
	s.wait(t, 1)
}

// TestSubmitRefusesBadInput: secrets in the input, an activation without
// its identity, or an invalid one enqueue nothing.
func TestSubmitRefusesBadInput(t *testing.T) {
	s := newService(t, 1)
	ctx := context.Background()
	type leaky struct {
		Password secret.String `json:"password"`
	}
	if _, err := s.sub.Submit(ctx, s.activation(1), leaky{Password: "hunter2-Hunter"}); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("Submit with a secret in the input: %v", err)
	}
	noID := truewatch.NewActivation().WithBillingURL(s.srv.BillingURL()).WithHuaweiCredentials("AK", "SK").WithSite(truewatch.SiteEU1).
		BindBillingAccount("ada", "ada@example.com").BindWorkspaceByID("w").WithCodes(s.codes)
	if _, err := s.sub.Submit(ctx, noID, input{Tenant: 1}); !errors.Is(err, apierror.ErrValidation) {
		t.Fatalf("Submit without the IDs: %v, want a validation error", err)
	}
	if _, err := s.sub.Submit(ctx, truewatch.NewActivation().WithHuaweiAccountID(accountOf(1)).WithInstanceID(instanceOf(1)), nil); err == nil {
		t.Fatal("Submit of an invalid activation succeeded")
	}
	var jobs, checkpoints int
	if err := s.store.Pool().QueryRow(ctx, "SELECT (SELECT count(*) FROM river_job), (SELECT count(*) FROM truewatch_checkpoints)").Scan(&jobs, &checkpoints); err != nil {
		t.Fatal(err)
	}
	if jobs != 0 || checkpoints != 0 {
		t.Fatalf("refused submissions left %d jobs and %d checkpoints", jobs, checkpoints)
	}
}

// TestBuilderRebuildingAnotherActivation: a Builder that makes another
// activation than the job's is caught before any change.
func TestBuilderRebuildingAnotherActivation(t *testing.T) {
	s := newService(t, 2)
	s.submit(t, 1)
	s.mu.Lock()
	s.build = func(n int, a *truewatch.Activation) *truewatch.Activation { return a.WithInstanceID(instanceOf(2)) }
	s.mu.Unlock()
	events := s.wait(t, 1)
	if len(events[river.EventKindJobCancelled]) != 1 {
		t.Fatalf("events: %v", events)
	}
	if errs := events[river.EventKindJobCancelled][0].Errors; len(errs) == 0 || !strings.Contains(errs[len(errs)-1].Error, "rebuilt another activation") {
		t.Fatalf("job errors %+v", errs)
	}
	if n := len(s.srv.Outbox()) + len(s.srv.BillingAccounts()); n != 0 {
		t.Fatalf("the mismatched job changed something (%d)", n)
	}
}

// TestCodeNotYetEntered: while the person has not entered the code the
// job is snoozed, not failed; once entered, the activation finishes.
func TestCodeNotYetEntered(t *testing.T) {
	s := newService(t, 1)
	var mu sync.Mutex
	asked := 0
	outbox := truewatch.CodesFromOutbox(s.srv)
	s.mu.Lock()
	s.codes = func(ctx context.Context, req truewatch.CodeRequest) (secret.String, error) {
		mu.Lock()
		defer mu.Unlock()
		if asked++; asked <= 2 {
			return "", truewatch.ErrNoCode // the person has not typed it yet
		}
		return outbox(ctx, req)
	}
	s.mu.Unlock()
	s.submit(t, 1)
	events := s.wait(t, 1)
	if len(events[river.EventKindJobSnoozed]) != 2 || len(events[river.EventKindJobFailed]) != 0 {
		t.Fatalf("events: %v; want two snoozes and no failure", events)
	}
	s.oneEach(t, 1)
	if sent := len(s.srv.OutboxFor(userOf(1) + "@example.com")); sent != 1 {
		t.Fatalf("%d codes sent; the snoozed attempts should reuse the first", sent)
	}
}

// TestSubmitKeepsTheKeySecretInTheCheckpoint: Submit creates the first
// checkpoint with a fresh key secret, in the transaction that enqueues the
// job; the job's args, output and the River tables never hold it; the
// worker's run keeps it (its keys are that secret's).
func TestSubmitKeepsTheKeySecretInTheCheckpoint(t *testing.T) {
	s := newService(t, 2)
	ctx := context.Background()
	secrets := map[string]string{}
	var jobs []int64
	err := pgx.BeginFunc(ctx, s.store.Pool(), func(tx pgx.Tx) error {
		for n := 1; n <= 2; n++ {
			sub, err := s.sub.SubmitTx(ctx, tx, s.activation(n), input{Tenant: n})
			if err != nil {
				return err
			}
			var ks *string
			if err := tx.QueryRow(ctx, "SELECT key_secret FROM truewatch_checkpoints WHERE activation_id = $1", sub.ActivationID).Scan(&ks); err != nil {
				return err
			}
			if ks == nil {
				return fmt.Errorf("tenant %d: the first checkpoint has no key secret", n)
			}
			secrets[sub.ActivationID] = *ks
			jobs = append(jobs, sub.JobID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 2 || secrets[jobArgsID(t, s, jobs[0])] == secrets[jobArgsID(t, s, jobs[1])] {
		t.Fatalf("the activations do not each have their own secret")
	}
	s.wait(t, 2)
	s.oneEach(t, 2)

	var riverText string
	if err := s.store.Pool().QueryRow(ctx, `SELECT coalesce(string_agg(to_jsonb(j)::text, ' '), '') FROM river_job j`).Scan(&riverText); err != nil {
		t.Fatal(err)
	}
	for id, ks := range secrets {
		if strings.Contains(riverText, ks) {
			t.Fatalf("River's job table holds the key secret of %s", id)
		}
		cp, err := s.store.Load(ctx, id)
		if err != nil || !cp.Completed {
			t.Fatalf("checkpoint %s: %+v, %v", id, cp, err)
		}
		enc, err := json.Marshal(cp.KeySecret)
		if err != nil || string(enc) != `"`+ks+`"` {
			t.Fatalf("the run of %s replaced the key secret Submit made (%v)", id, err)
		}
	}
}

// jobArgsID is the activation ID in job id's args.
func jobArgsID(t *testing.T, s *service, id int64) string {
	t.Helper()
	row, err := s.client.JobGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var args riverjob.Args
	if err := json.Unmarshal(row.EncodedArgs, &args); err != nil {
		t.Fatal(err)
	}
	return args.ActivationID
}

// TestUnprovenActivationIsCancelled: a Builder that gives no way to prove
// ownership of the Huawei account, or the credentials of another account,
// has its job cancelled, not retried, and nothing changes.
func TestUnprovenActivationIsCancelled(t *testing.T) {
	for name, rebuild := range map[string]func(s *service, n int, a *truewatch.Activation) *truewatch.Activation{
		"no credentials": func(s *service, n int, _ *truewatch.Activation) *truewatch.Activation { return s.unproven(n) },
		"another account's credentials": func(s *service, n int, a *truewatch.Activation) *truewatch.Activation {
			return a.WithHuaweiCredentials(akOf(n+1), s.sks[n+1])
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := newService(t, 2)
			s.mu.Lock()
			s.build = func(n int, a *truewatch.Activation) *truewatch.Activation { return rebuild(s, n, a) }
			s.mu.Unlock()
			sub := s.submit(t, 1)
			events := s.wait(t, 1)
			if len(events[river.EventKindJobCancelled]) != 1 || len(events[river.EventKindJobFailed]) != 0 {
				t.Fatalf("events: %v; want the job cancelled at once", events)
			}
			errs := events[river.EventKindJobCancelled][0].Errors
			if len(errs) == 0 || !strings.Contains(strings.ToLower(errs[len(errs)-1].Error), "proof") {
				t.Fatalf("job errors %+v do not say what proof is wrong", errs)
			}
			if n := len(s.srv.Outbox()) + len(s.srv.BillingAccounts()); n != 0 {
				t.Fatalf("the unproven job changed something (%d)", n)
			}
			cp, err := s.store.Load(context.Background(), sub.ActivationID)
			if err != nil || cp.Failure == nil || !strings.Contains(strings.ToLower(cp.Failure.Error), "proof") {
				t.Fatalf("checkpoint %+v, %v: want the failure recorded", cp, err)
			}
		})
	}
}
