package mockserver_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// heapAfterGC is the live heap, measured after two collections.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkNamespaceCreate creates namespaces on one server and reports
// the live heap each keeps (B/namespace); BenchmarkServerNew is its floor
// and its alternative: a whole server per test, what a namespace saves.
//
//	go test ./mockserver/ -run '^$' -bench 'NamespaceCreate|ServerNew' -benchtime 200x
func BenchmarkNamespaceCreate(b *testing.B) {
	srv, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithMaxNamespaces(b.N))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	before := heapAfterGC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := srv.CreateNamespace(fmt.Sprintf("ns-%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(heapAfterGC()-before)/float64(b.N), "B/namespace")
}

func BenchmarkServerNew(b *testing.B) {
	servers := make([]*mockserver.Server, 0, b.N)
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	before := heapAfterGC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithIDSeed(fmt.Sprintf("s-%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		servers = append(servers, s)
	}
	b.StopTimer()
	b.ReportMetric(float64(heapAfterGC()-before)/float64(b.N), "B/server")
}
