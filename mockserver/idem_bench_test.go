package mockserver

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkIdempotencyInsert measures storing one new idempotent answer
// (claim the key, store the 2xx answer) while the mock already holds the
// records of many tenants. tenants=0 is the floor; the cost must stay flat
// as tenants grow, since expired records leave from a time-ordered queue
// instead of a sweep of every record under the lock:
//
//	go test -run '^$' -bench IdempotencyInsert -benchmem ./mockserver/
func BenchmarkIdempotencyInsert(b *testing.B) {
	for _, tenants := range []int{0, 1_000, 10_000, 50_000} {
		b.Run("tenants="+strconv.Itoa(tenants), func(b *testing.B) {
			clock := NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
			srv, err := New(WithoutListener(), WithClock(clock), WithMaxIdempotencyRecords(1<<30))
			if err != nil {
				b.Fatal(err)
			}
			path := "/billing-center/api/v1/account/register"
			fp := fingerprint(http.MethodPost, path, []byte(`{"a":1}`))
			store := func(slot string) {
				rec, _, e := srv.idemBegin(slot, fp)
				if e != nil {
					b.Fatal(e)
				}
				rw := &recordingWriter{ResponseWriter: &discardWriter{h: http.Header{}}}
				rw.WriteHeader(http.StatusOK)
				_, _ = rw.Write([]byte(`{"code":200}`))
				srv.idemFinish(slot, rec, rw)
			}
			for i := range tenants {
				store(idemSlot(path, "huawei-account:"+fmt.Sprintf("%032x", i), "act_"+strconv.Itoa(i)))
				if i%100 == 0 {
					clock.Advance(time.Second) // records made over time, none expired yet
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				store(idemSlot(path, "huawei-account:bench", "k"+strconv.Itoa(i)))
			}
		})
	}
}
