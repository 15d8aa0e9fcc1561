package mockserver_test

import (
	"fmt"
	"testing"

	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// BenchmarkHeapPerTenant reports the mock's live heap per tenant held
// (bytes/tenant: runtime.MemStats after a collection, the empty mock's
// heap taken away), a tenant being a Huawei account with its access key
// and a TrueWatch purchase, as AddHuaweiAccount and AddPurchase seed
// them; one op seeds one tenant. The target is at most 4 KiB.
//
//	go test -run '^$' -bench HeapPerTenant -benchtime 20000x ./mockserver/
func BenchmarkHeapPerTenant(b *testing.B) {
	srv, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithoutDemoFixture())
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	before := testkit.HeapInUse()
	i := 0
	for b.Loop() {
		i++
		acct := fmt.Sprintf("%032x", 0xa00000+i)
		if err := srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: acct,
			Keys: []mockserver.AccessKey{{AK: fmt.Sprintf("HEAPAK%08d", i), SK: "heap-sk"}}}); err != nil {
			b.Fatal(err)
		}
		if _, err := srv.AddPurchase(mockserver.Purchase{AccountID: acct, InstanceID: fmt.Sprintf("heap-inst-%08d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	after := testkit.HeapInUse()
	b.ReportMetric(float64(int64(after)-int64(before))/float64(i), "bytes/tenant")
}
