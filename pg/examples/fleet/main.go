// Command fleet activates many tenants with several worker processes on one
// PostgreSQL, the way a provisioning service spread over machines would:
// activations are River jobs (package riverjob), their checkpoints and
// leases in PostgreSQL (package pgstore), all against one mock server in
// another process, seeded and read back over its control plane. Mid-run it
// kills one worker with SIGKILL; the others take over its activations once
// their leases expire and River rescues their jobs. At the end it reads the
// mock's state and checks exactly one account, binding and workspace per
// tenant.
//
//	go run ./examples/fleet -dsn postgres://... -workers 3 -tenants 1000
//	../.ci/with-postgres go run ./examples/fleet   # with a throwaway PostgreSQL
//
// Without -mock-url it serves the mock itself, on 127.0.0.1, from this
// process (the workers are other processes); with it, it uses one already
// running (go run ./cmd/truewatch-mock -no-demo, from the root module).
// The recovery of a killed worker's activations takes up to about
// 30 seconds: River's rescuer looks for stuck jobs on its leader every 30s.
package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/pg/pgstore"
	"github.com/truewatch-labs/marketplace-go/pg/riverjob"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// roleEnv makes a process started by fleet a worker; mockTokenEnv holds
// the mock's control token (the variable cmd/truewatch-mock reads too);
// keySeedEnv the run's seed of the tenants' Huawei secret keys.
const (
	roleEnv      = "FLEET_ROLE"
	mockTokenEnv = "TRUEWATCH_MOCK_CONTROL_TOKEN"
	keySeedEnv   = "FLEET_TENANT_KEY_SEED"
)

func main() {
	if os.Getenv(roleEnv) == "worker" {
		if err := worker(os.Args[1:], os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "fleet worker:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

// summary is what a fleet run did.
type summary struct {
	Tenants, Workers int
	Completed        int
	Elapsed          time.Duration
	// Killed is the worker killed (0: none) and InFlight the activations it
	// held leases on when it died; TakenOver of those were finished by
	// other workers.
	Killed              int
	InFlight, TakenOver int
	// ByWorker counts the jobs each worker completed.
	ByWorker map[string]int
	// Retries counts job attempts beyond the first; RetryReasons counts
	// the errors of the failed attempts.
	Retries      int
	RetryReasons map[string]int
	Problems     []string
}

type options struct {
	dsn, mockURL              string
	workers, tenants, conc    int
	kill                      bool
	killAfter                 float64
	leaseTTL, rescue, timeout time.Duration
	latency                   time.Duration
	mockToken                 secret.String
	keySeed                   secret.String
	submitters, seeders       int
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dsn, "dsn", os.Getenv("MARKETPLACE_TEST_POSTGRES_DSN"), "PostgreSQL DSN (default $MARKETPLACE_TEST_POSTGRES_DSN)")
	fs.StringVar(&o.mockURL, "mock-url", "", "URL of a running truewatch-mock (default: serve one from this process); its control token, if any, in $"+mockTokenEnv)
	fs.IntVar(&o.workers, "workers", 3, "worker processes")
	fs.IntVar(&o.tenants, "tenants", 1000, "tenants to activate")
	fs.IntVar(&o.conc, "concurrency", 8, "activations at once per worker")
	fs.BoolVar(&o.kill, "kill", true, "kill one worker with SIGKILL mid-run")
	fs.Float64Var(&o.killAfter, "kill-after", 0.2, "share of the tenants completed before the kill")
	fs.DurationVar(&o.leaseTTL, "lease-ttl", 3*time.Second, "activation lease TTL")
	fs.DurationVar(&o.rescue, "rescue-after", 5*time.Second, "River's RescueStuckJobsAfter (more than -lease-ttl)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after")
	fs.DurationVar(&o.latency, "latency", 40*time.Millisecond, "network latency the workers add to each API call, as real endpoints have")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.mockToken = secret.String(os.Getenv(mockTokenEnv))
	switch {
	case o.dsn == "":
		return o, errors.New("-dsn (or MARKETPLACE_TEST_POSTGRES_DSN) is required")
	case o.workers < 1 || o.tenants < 1 || o.conc < 1:
		return o, errors.New("-workers, -tenants and -concurrency must be at least 1")
	case o.kill && o.workers < 2:
		return o, errors.New("-kill needs at least 2 workers")
	case o.rescue <= o.leaseTTL || o.rescue < 2*time.Second:
		return o, errors.New("-rescue-after must be at least 2s and more than -lease-ttl")
	}
	o.submitters, o.seeders = 8, 8
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (*summary, error) {
	o, err := parse(args, stderr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	start := time.Now()

	pool, err := pgxpool.New(ctx, o.dsn)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	store, err := pgstore.New(pool)
	if err != nil {
		return nil, err
	}
	if err := riverjob.Migrate(ctx, store); err != nil {
		return nil, err
	}

	if o.mockURL == "" {
		// Its control plane (seeding, codes, state) only for this run.
		o.mockToken = secret.String(rand.Text())
		srv, err := mockserver.New(mockserver.WithAddr("127.0.0.1:0"), mockserver.WithoutDemoFixture(),
			mockserver.WithControlToken(o.mockToken.Reveal()))
		if err != nil {
			return nil, err
		}
		defer srv.Close()
		o.mockURL = srv.URL()
	}
	mock := newMockClient(o.mockURL, o.mockToken, o.seeders+o.submitters, 0)
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	runID := binary.BigEndian.Uint32(rb[:])
	o.keySeed = secret.String(rand.Text())
	tenants := make([]tenant, o.tenants)
	for i := range tenants {
		tenants[i] = newTenant(runID, i+1, o.keySeed)
	}
	fmt.Fprintf(stdout, "fleet run %08x: %d tenants, %d workers × %d, mock at %s\n", runID, o.tenants, o.workers, o.conc, o.mockURL)
	if err := parallel(ctx, o.seeders, tenants, func(t tenant) error { return mock.seed(ctx, t) }); err != nil {
		return nil, fmt.Errorf("seed the mock: %w", err)
	}

	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, err
	}
	sub, err := riverjob.NewSubmitter(inserter, store)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(tenants))
	err = parallel(ctx, o.submitters, tenants, func(t tenant) error {
		act, err := mock.activation(input{Run: runID, Tenant: t.n}, o.keySeed)
		if err != nil {
			return err
		}
		s, err := sub.Submit(ctx, act, input{Run: runID, Tenant: t.n})
		if err != nil {
			return err
		}
		ids[t.n-1] = s.ActivationID
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	fmt.Fprintf(stdout, "seeded and submitted in %s\n", time.Since(start).Round(time.Millisecond))

	procs, err := startWorkers(o, stderr)
	defer stopWorkers(procs)
	if err != nil {
		return nil, err
	}
	s := &summary{Tenants: o.tenants, Workers: o.workers, ByWorker: map[string]int{}, RetryReasons: map[string]int{}}
	var inFlight []string
	lastShown := -1
	for s.Completed < o.tenants {
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("%d of %d completed: %w", s.Completed, o.tenants, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
		// Done is a completed job: its activation finished and River knows.
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'
			AND args->>'activation_id' = ANY($2)`, riverjob.Kind, ids).Scan(&s.Completed); err != nil {
			return s, err
		}
		if step := max(o.tenants/20, 1); s.Completed/step != lastShown/step || s.Completed == o.tenants {
			lastShown = s.Completed
			fmt.Fprintf(stdout, "[%*d/%d] completed after %s\n", len(fmt.Sprint(o.tenants)), s.Completed, o.tenants, time.Since(start).Round(time.Millisecond))
		}
		if o.kill && s.Killed == 0 && float64(s.Completed) >= o.killAfter*float64(o.tenants) {
			if victim, held := pickVictim(ctx, pool, store, o.workers); victim > 0 {
				if err := procs[victim-1].Process.Kill(); err != nil {
					return s, err
				}
				s.Killed, inFlight = victim, held
				fmt.Fprintf(stdout, "SIGKILL %s holding the leases of %d activations; the others take them over\n", workerID(victim), len(held))
			}
		}
	}
	s.Elapsed = time.Since(start)
	if o.kill && s.Killed == 0 {
		s.Problems = append(s.Problems, "no worker was killed: the run finished before one held a lease past -kill-after")
	}
	if err := tally(ctx, pool, ids, inFlight, s); err != nil {
		return s, err
	}
	var checkpoints int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM truewatch_checkpoints WHERE completed AND NOT failed AND activation_id = ANY($1)", ids).
		Scan(&checkpoints); err != nil {
		return s, err
	}
	if checkpoints != o.tenants {
		s.Problems = append(s.Problems, fmt.Sprintf("%d of %d checkpoints completed", checkpoints, o.tenants))
	}
	st, err := mock.state(ctx)
	if err != nil {
		return s, err
	}
	s.Problems = append(s.Problems, check(st, tenants)...)
	fmt.Fprintf(stdout, "\nSummary: %d/%d tenants activated by %d workers in %s (%d job retries)\n", s.Completed, o.tenants, o.workers,
		s.Elapsed.Round(time.Millisecond), s.Retries)
	names := make([]string, 0, len(s.ByWorker))
	for n := range s.ByWorker {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(stdout, "  %s completed %d\n", n, s.ByWorker[n])
	}
	for reason, n := range s.RetryReasons {
		fmt.Fprintf(stdout, "  %d× retried after: %s\n", n, reason)
	}
	if s.Killed > 0 {
		fmt.Fprintf(stdout, "  %s was killed holding %d activations; %d of them were finished by the others\n", workerID(s.Killed), s.InFlight, s.TakenOver)
	}
	fmt.Fprintf(stdout, "Mock state: %d Billing Center accounts, %d accounts, %d workspaces for %d tenants\n",
		len(st.BillingAccounts), len(st.Accounts), len(st.Workspaces), o.tenants)
	if len(s.Problems) > 0 {
		for _, p := range s.Problems {
			fmt.Fprintln(stdout, "PROBLEM:", p)
		}
		return s, fmt.Errorf("%d problems", len(s.Problems))
	}
	fmt.Fprintln(stdout, "OK: exactly one account, binding and workspace per tenant")
	return s, nil
}

// pickVictim chooses a worker to kill: one that holds activation leases now
// and is not River's leader (whose death would also delay the rescue of its
// jobs by a leader election). It returns the worker and the activations it
// holds.
func pickVictim(ctx context.Context, pool *pgxpool.Pool, store *pgstore.Store, workers int) (int, []string) {
	var leader string
	_ = pool.QueryRow(ctx, "SELECT leader_id FROM river_leader LIMIT 1").Scan(&leader)
	ls, err := store.Leases(ctx)
	if err != nil {
		return 0, nil
	}
	for w := workers; w >= 1; w-- {
		if workerID(w) == leader {
			continue
		}
		var held []string
		for _, l := range ls {
			if l.Owner == workerID(w) {
				held = append(held, l.ActivationID)
			}
		}
		if len(held) > 0 {
			return w, held
		}
	}
	return 0, nil
}

// tally reads who completed what from River's jobs. Of the activations
// the killed worker held, those it finished itself just before it died are
// not counted as in flight.
func tally(ctx context.Context, pool *pgxpool.Pool, ids, inFlight []string, s *summary) error {
	rows, err := pool.Query(ctx, `SELECT args->>'activation_id', attempt, attempted_by,
		coalesce((SELECT array_agg(e->>'error') FROM jsonb_array_elements(to_jsonb(errors)) e), '{}') FROM river_job
		WHERE kind = $1 AND state = 'completed' AND args->>'activation_id' = ANY($2)`, riverjob.Kind, ids)
	if err != nil {
		return err
	}
	held := map[string]bool{}
	for _, id := range inFlight {
		held[id] = true
	}
	var (
		id      string
		attempt int
		by      []string
		errs    []string
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &attempt, &by, &errs}, func() error {
		for _, e := range errs {
			if len(e) > 160 {
				e = e[:160] + "..."
			}
			s.RetryReasons[e]++
		}
		last := ""
		if len(by) > 0 {
			last = by[len(by)-1]
		}
		s.ByWorker[last]++
		s.Retries += max(attempt-1, 0)
		switch {
		case !held[id]:
		case last == workerID(s.Killed):
			delete(held, id) // done before the kill
		default:
			s.TakenOver++
		}
		return nil
	})
	s.InFlight = len(held)
	if err == nil && s.TakenOver != s.InFlight {
		s.Problems = append(s.Problems, fmt.Sprintf("%d of the killed worker's %d activations were finished by others", s.TakenOver, s.InFlight))
	}
	return err
}

// startWorkers starts the worker processes: this program again, as a
// worker, its output prefixed with the worker's name.
func startWorkers(o options, stderr io.Writer) ([]*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var procs []*exec.Cmd
	var mu sync.Mutex
	for w := 1; w <= o.workers; w++ {
		cmd := exec.Command(exe, "-id", fmt.Sprint(w), "-dsn", o.dsn, "-mock-url", o.mockURL, "-concurrency", fmt.Sprint(o.conc),
			"-lease-ttl", o.leaseTTL.String(), "-rescue-after", o.rescue.String(), "-latency", o.latency.String())
		// Secrets in the environment, not in the arguments, which ps shows.
		cmd.Env = append(os.Environ(), roleEnv+"=worker", mockTokenEnv+"="+o.mockToken.Reveal(), keySeedEnv+"="+o.keySeed.Reveal())
		cmd.Stderr = &prefixed{mu: &mu, w: stderr, prefix: "[" + workerID(w) + "] "}
		if err := cmd.Start(); err != nil {
			return procs, err
		}
		procs = append(procs, cmd)
	}
	return procs, nil
}

// prefixed writes what a worker logs to w, each write prefixed with the
// worker's name.
type prefixed struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
}

func (p *prefixed) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			if _, err := io.WriteString(p.w, p.prefix+line); err != nil {
				return 0, err
			}
		}
	}
	return len(b), nil
}

// stopWorkers asks the workers still alive to stop, and waits for them.
func stopWorkers(procs []*exec.Cmd) {
	for _, p := range procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
}

// parallel calls fn for every tenant, n at a time, and returns the first
// error.
func parallel(ctx context.Context, n int, tenants []tenant, fn func(tenant) error) error {
	ch := make(chan tenant)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range ch {
				if err := fn(t); err != nil {
					errs <- fmt.Errorf("tenant %d: %w", t.n, err)
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, t := range tenants {
		select {
		case ch <- t:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(ch)
	go func() { wg.Wait(); close(errs) }()
	for e := range errs {
		if err == nil {
			err = e
		}
	}
	return err
}
