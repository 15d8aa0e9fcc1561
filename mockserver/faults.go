package mockserver

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// Fault scripts a failure for matching requests, counted, so tests can make
// exactly the second call to an endpoint fail, or lose exactly one response.
// Faults apply to the TrueWatch and Huawei halves, never to /_mock/.
type Fault struct {
	// Method matches the HTTP method; empty matches any.
	Method string `json:"method,omitempty"`
	// Path matches the request path exactly, as served by the mock, e.g.
	// "/billing-center/api/v1/account/register" or "/v3/auth/domains".
	Path string `json:"path"`
	// Skip lets this many matching requests through before the fault
	// applies.
	Skip int `json:"skip,omitempty"`
	// Times is how many matching requests fail (default 1).
	Times int `json:"times,omitempty"`
	// Status is the HTTP status returned (default 503).
	Status int `json:"status,omitempty"`
	// ErrorCode and Message fill the error body, in the path's error shape.
	// ErrorCode defaults to ft.InjectedFault (TrueWatch) or CBC.0999.
	ErrorCode string `json:"errorCode,omitempty"`
	Message   string `json:"message,omitempty"`
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter time.Duration `json:"retryAfter,omitempty"`
	// Delay holds the request this long before answering.
	Delay time.Duration `json:"delay,omitempty"`
	// AfterHandler runs the real handler first, so its state change
	// happens, then replaces its answer: a lost response.
	AfterHandler bool `json:"afterHandler,omitempty"`
	// DropConnection closes the connection without an answer instead of
	// writing Status.
	DropConnection bool `json:"dropConnection,omitempty"`
}

type activeFault struct {
	Fault
	seen int
	hits int
}

type faultTable struct {
	mu     sync.Mutex
	faults []*activeFault
}

func (t *faultTable) reset() {
	t.mu.Lock()
	t.faults = nil
	t.mu.Unlock()
}

func (t *faultTable) match(r *http.Request) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.faults {
		if f.Path != r.URL.Path || (f.Method != "" && f.Method != r.Method) {
			continue
		}
		f.seen++
		if f.seen <= f.Skip || f.hits >= f.Times {
			continue
		}
		f.hits++
		return f.Fault, true
	}
	return Fault{}, false
}

// InjectFault adds a fault. Faults are checked in the order added; each
// request triggers at most one.
func (s *Server) InjectFault(f Fault) error {
	if f.Path == "" || f.Path[0] != '/' {
		return errors.New("mockserver: fault path must start with /")
	}
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Times < 0 || f.Skip < 0 {
		return errors.New("mockserver: fault times and skip must not be negative")
	}
	if f.Status == 0 {
		f.Status = http.StatusServiceUnavailable
	}
	if f.Status < 400 || f.Status > 599 {
		return fmt.Errorf("mockserver: fault status %d is not an error status", f.Status)
	}
	s.faults.mu.Lock()
	s.faults.faults = append(s.faults.faults, &activeFault{Fault: f})
	s.faults.mu.Unlock()
	return nil
}

// FaultHits reports how many requests each fault has failed so far, in the
// order the faults were added.
func (s *Server) FaultHits() []int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := make([]int, len(s.faults.faults))
	for i, f := range s.faults.faults {
		out[i] = f.hits
	}
	return out
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.faults.reset() }

// applyFault answers r per f; it returns false when the request should go on
// to the handler untouched (never, today; kept for clarity at the caller).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault, h http.Handler) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return true
		case <-t.C:
		}
	}
	if f.AfterHandler {
		// Let the real handler change state; throw its answer away.
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	if f.DropConnection {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	twCode, hwCode := f.ErrorCode, f.ErrorCode
	if twCode == "" {
		twCode, hwCode = apierror.CodeInjectedFault, apierror.CodeHuaweiInternal
	}
	msg := f.Message
	if msg == "" {
		msg = "injected fault: " + http.StatusText(f.Status)
	}
	writeError(w, r, f.Status, twCode, hwCode, msg)
	return true
}
