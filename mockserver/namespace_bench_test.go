package mockserver_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/truewatch-labs/marketplace-go/internal/routes"
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

// TestManyNamespacesAreCheap: 2,000 namespaces on one server, each served
// a request in its own state, keep under 64 KiB of heap each (about 17
// KiB measured, BenchmarkNamespaceCreate), and deleting them gives the
// memory back.
func TestManyNamespacesAreCheap(t *testing.T) {
	const n = 2000
	srv := mockserver.Start(t, mockserver.WithoutListener(), mockserver.WithExplicitNamespaces(), mockserver.WithMaxNamespaces(n))
	hc := srv.HTTPClient()
	before := heapAfterGC()
	for i := range n {
		name := fmt.Sprintf("load-%d", i)
		ns, err := srv.CreateNamespace(name)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL()+"/billing-center/api/v1/verification_code/send",
			strings.NewReader(`{"email":"a@example.com","purpose":"register"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(mockserver.NamespaceHeader, name)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(ns.OutboxFor("a@example.com")) != 1 {
			t.Fatalf("%s: status %d %s, outbox %v", name, resp.StatusCode, body, ns.OutboxFor("a@example.com"))
		}
	}
	per := float64(heapAfterGC()-before) / n
	t.Logf("%.0f B of heap per namespace", per)
	if per > 64<<10 {
		t.Fatalf("%.0f B per namespace, over 64 KiB", per)
	}
	if got := len(srv.OutboxFor("a@example.com")); got != 0 {
		t.Fatalf("the default namespace has %d mails", got)
	}
	for i := range n {
		if err := srv.DeleteNamespace(fmt.Sprintf("load-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if names := srv.Namespaces(); len(names) != 1 {
		t.Fatalf("left: %v", names[:min(len(names), 5)])
	}
	if after := heapAfterGC(); after > before+uint64(n*per/4) {
		t.Fatalf("deleting kept %d B of %.0f", after-before, n*per)
	}
}

// BenchmarkNamespaceDispatch measures what choosing a namespace costs a
// request (a public getSubscription): in the default namespace of a
// server without namespaces (the floor: the path every request took
// before namespaces), in the default namespace and in a namespace of one
// holding 1,000 of them, by header and by path prefix.
//
//	go test ./mockserver/ -run '^$' -bench NamespaceDispatch -benchmem
func BenchmarkNamespaceDispatch(b *testing.B) {
	path := routes.MockBillingPrefix + routes.GetSubscription + "?huaweiAccountId=" + mockserver.DemoHuaweiAccountID +
		"&instanceId=" + mockserver.DemoInstanceID
	bare, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithJournalSize(0))
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()
	b.Run("floor: no namespaces", func(b *testing.B) {
		h := bare.Handler()
		for b.Loop() {
			serve(b, h, http.MethodGet, path, nil)
		}
	})
	srv, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithJournalSize(0))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for i := range 1000 {
		if _, err := srv.CreateNamespace(fmt.Sprintf("ns-%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	h := srv.Handler()
	b.Run("default of 1000", func(b *testing.B) {
		for b.Loop() {
			serve(b, h, http.MethodGet, path, nil)
		}
	})
	b.Run("header", func(b *testing.B) {
		for b.Loop() {
			serve(b, h, http.MethodGet, path, nil, mockserver.NamespaceHeader, "ns-500")
		}
	})
	b.Run("path prefix", func(b *testing.B) {
		for b.Loop() {
			serve(b, h, http.MethodGet, "/ns/ns-500"+path, nil)
		}
	})
}
