package truewatch_test

import (
	"context"
	"flag"
	"strconv"
	"testing"

	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

var benchLarge = flag.Bool("bench.large", false, "BenchmarkActivationAtScale: also the 50,000-tenant case (about a minute of seeding)")

// BenchmarkActivationAtScale is a whole first activation against a mock
// already holding many activated tenants (each seeded by an activation
// through the SDK: account, purchase, registration, idempotency records,
// outbox, journal), beside the same activation against a mock holding
// 1,000 in the same run (testkit.PairedPrepared): median-ratio is the
// time per activation at the size over the time at 1,000, the inverse of
// their activations per second; the target is within 10%. Both mocks are
// in memory. heap-bytes/tenant is the larger mock's live heap per
// activated tenant. The 50,000 case needs -bench.large:
//
//	go test -run '^$' -bench ActivationAtScale -benchtime 300x ./truewatch/ -bench.large
func BenchmarkActivationAtScale(b *testing.B) {
	sizes := []int{1_000, 10_000}
	if *benchLarge {
		sizes = append(sizes, 50_000)
	}
	ctx := context.Background()
	seed := func(b *testing.B, n int) *benchTenants {
		t := newBenchTenants(b, mockserver.WithoutListener())
		for range n {
			a, err := t.next()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := a.Run(ctx); err != nil {
				b.Fatal(err)
			}
		}
		return t
	}
	small := seed(b, 1_000)
	for _, n := range sizes {
		b.Run("tenants="+strconv.Itoa(n), func(b *testing.B) {
			before := testkit.HeapInUse()
			large := small
			if n != 1_000 {
				large = seed(b, n)
			}
			heap := float64(int64(testkit.HeapInUse())-int64(before)) / float64(n)
			var onSmall, onLarge *truewatch.Activation
			prepare := func() error {
				var err error
				if onSmall, err = small.next(); err != nil {
					return err
				}
				onLarge, err = large.next()
				return err
			}
			run := func(a **truewatch.Activation) func() error {
				return func() error { _, err := (*a).Run(ctx); return err }
			}
			testkit.PairedPrepared(b, prepare, run(&onSmall), run(&onLarge))
			if n != 1_000 {
				b.ReportMetric(heap, "heap-bytes/tenant")
			}
		})
	}
}
