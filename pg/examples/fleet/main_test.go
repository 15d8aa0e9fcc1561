package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/truewatch-labs/marketplace-go/pg/internal/pgtest"
)

var long = flag.Bool("fleet.long", false, "run the fleet proof with -fleet.tenants tenants")
var tenantsFlag = flag.Int("fleet.tenants", 1000, "tenants in the long fleet proof")

// TestMain makes the test binary a fleet worker when the fleet starts it
// as one.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "worker" {
		if err := worker(os.Args[1:], os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "fleet worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestFleetSurvivesAKilledWorker: three worker processes activate the
// tenants; one is killed with SIGKILL mid-run while it holds leases; the
// others finish its activations; the mock holds exactly one account,
// binding and workspace per tenant. The default is a short variant; the
// long one:
//
//	../.ci/with-postgres go test ./examples/fleet/ -run Fleet -fleet.long -v
func TestFleetSurvivesAKilledWorker(t *testing.T) {
	dsn := pgtest.Database(t)
	tenants := 150
	if *long {
		tenants = *tenantsFlag
	}
	var out, errOut bytes.Buffer
	s, err := run(context.Background(), []string{"-dsn", dsn, "-workers", "3", "-tenants", fmt.Sprint(tenants),
		"-concurrency", "6", "-timeout", "3m"}, &out, &errOut)
	t.Log("\n" + out.String())
	if errOut.Len() > 0 {
		t.Log("workers' errors:\n" + errOut.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	if s.Completed != tenants || len(s.Problems) > 0 {
		t.Fatalf("summary %+v", s)
	}
	if s.Killed == 0 || s.InFlight == 0 || s.TakenOver != s.InFlight {
		t.Fatalf("the kill did not test a takeover: %+v", s)
	}
	if n := s.ByWorker[workerID(s.Killed)]; n >= tenants {
		t.Fatalf("the killed worker completed %d of %d", n, tenants)
	}
}

func TestFleetRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-dsn", ""},
		{"-dsn", "x", "-workers", "0"},
		{"-dsn", "x", "-workers", "1"},
		{"-dsn", "x", "-lease-ttl", "10s", "-rescue-after", "5s"},
	} {
		if _, err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
