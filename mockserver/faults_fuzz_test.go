package mockserver

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// formatFaultHeader writes f in X-Mock-Fault's grammar.
func formatFaultHeader(f Fault) string {
	var items []string
	if f.Status != 0 && !f.DropConnection {
		items = append(items, "status="+strconv.Itoa(f.Status))
	}
	if f.RetryAfter != 0 {
		items = append(items, "retry-after="+f.RetryAfter.String())
	}
	if f.ErrorCode != "" {
		items = append(items, "code="+f.ErrorCode)
	}
	if f.Delay != 0 {
		items = append(items, "delay="+f.Delay.String())
	}
	if f.AfterHandler {
		items = append(items, "lost")
	}
	if f.DropConnection {
		items = append(items, "drop")
	}
	return strings.Join(items, "; ")
}

// FuzzFaultHeader: parsing X-Mock-Fault never panics; what it accepts is
// within bounds and reads back the same from its own rendering; served,
// a refused header is a 400 in the envelope, an accepted one is the fault
// it says (delays and drops are not served here, to keep runs fast).
func FuzzFaultHeader(f *testing.F) {
	for _, s := range []string{"status=503; retry-after=2", "drop", "lost", "delay=200ms", "lost; drop",
		"STATUS=429;code=ft.X", "retry-after=1.5s", "", ";", "status", "status=99", "drop;status=503",
		"delay=2h", "retry-after=3601", "code=a b", "lost=1", "status=503;status=503", "delay=1ms;status=500"} {
		f.Add(s)
	}
	srv := Start(f, WithoutListener())
	f.Fuzz(func(t *testing.T, v string) {
		got, err := parseFaultHeader([]string{v})
		if err == nil {
			switch {
			case got.Status == 0 && !(got.latencyOnly() && got.Delay > 0):
				t.Fatalf("%q: no status, yet not latency only: %+v", v, got)
			case got.Status != 0 && (got.Status < 400 || got.Status > 599):
				t.Fatalf("%q: status %d", v, got.Status)
			case got.Delay < 0 || got.Delay > MaxFaultHeaderDelay:
				t.Fatalf("%q: delay %v", v, got.Delay)
			case got.RetryAfter < 0 || got.RetryAfter > maxFaultHeaderRetryAfter:
				t.Fatalf("%q: retry-after %v", v, got.RetryAfter)
			case got.DropConnection && (got.RetryAfter != 0 || got.ErrorCode != ""):
				t.Fatalf("%q: drop with an answer: %+v", v, got)
			}
			again, err := parseFaultHeader([]string{formatFaultHeader(got)})
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("%q: rendered %q reads back %+v, %v; want %+v", v, formatFaultHeader(got), again, err, got)
			}
			if got.Delay > 0 || got.DropConnection || got.AfterHandler {
				return
			}
		}
		if !strings.Contains(v, "\n") && !strings.Contains(v, "\r") {
			req := httptest.NewRequest(http.MethodGet, probePath, nil)
			req.Header[FaultHeader] = []string{v}
			rec := httptest.NewRecorder()
			done := make(chan struct{})
			go func() { defer close(done); srv.Handler().ServeHTTP(rec, req) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("%q: no answer", v)
			}
			want := got.Status
			if err != nil {
				want = http.StatusBadRequest
			}
			if rec.Code != want {
				t.Fatalf("%q: status %d, want %d (%v): %s", v, rec.Code, want, err, rec.Body)
			}
		}
	})
}
