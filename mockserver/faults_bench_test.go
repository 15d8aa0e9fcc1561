package mockserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkFaultCheck: what a request with no fault pays for fault
// injection. "floor" is the check the request path made before the
// richer faults, for an empty table (its lock, a scan of no fault, its
// unlock); "none" is serveFault, the check it makes now (the X-Mock-Fault
// lookup, then the table's match), with no fault in place; "others" has
// ten faults in place for another path, with headers and probabilities.
// Run with
//
//	go test ./mockserver -run '^$' -bench BenchmarkFaultCheck -benchmem -count 5
func BenchmarkFaultCheck(b *testing.B) {
	srv := Start(b, WithoutListener())
	req := httptest.NewRequest(http.MethodGet, probePath, nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "abc")
	w := httptest.NewRecorder()
	b.Run("floor", func(b *testing.B) {
		for b.Loop() {
			srv.faults.mu.Lock()
			for _, f := range srv.faults.faults {
				b.Fatal("a fault in place:", f.id)
			}
			srv.faults.mu.Unlock()
		}
	})
	b.Run("none", func(b *testing.B) {
		for b.Loop() {
			if srv.serveFault(w, req, srv.mux) {
				b.Fatal("a fault fired")
			}
		}
	})
	for range 10 {
		_, err := srv.InjectFault(Fault{Path: bcPath("/api/v1/account/register"), Probability: 0.5,
			Headers: map[string]string{"X-Suite": "other"}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("others", func(b *testing.B) {
		for b.Loop() {
			if srv.serveFault(w, req, srv.mux) {
				b.Fatal("a fault fired")
			}
		}
	})
}
