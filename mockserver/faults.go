package mockserver

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// Fault scripts a failure for matching requests, counted, so tests can make
// exactly the second call to an endpoint fail, or lose exactly one response.
// Faults apply to the TrueWatch and Huawei halves, never to /_mock/.
//
// A fault names what it fails by Operation or by Path (and Method), not
// both.
type Fault struct {
	// Operation matches every request of one operation, by its name in
	// Operations: "billing.Register", "workspace.CreateWorkspace" (on every
	// site), "bss.ListPayPerUseCustomerResources",
	// "iam.KeystoneListAuthDomains", "sts.GetCallerIdentity".
	Operation string `json:"operation,omitempty"`
	// Method matches the HTTP method; empty matches any. With Operation it
	// may only repeat the operation's method.
	Method string `json:"method,omitempty"`
	// Path matches the request path exactly, as served by the mock, e.g.
	// "/billing-center/api/v1/account/register" or "/v3/auth/domains".
	Path string `json:"path,omitempty"`
	// Skip lets this many matching requests through before the fault
	// applies.
	Skip int `json:"skip,omitempty"`
	// Times is how many matching requests fail (default 1).
	Times int `json:"times,omitempty"`
	// Status is the HTTP status returned (default 503), except for a
	// latency-only fault: one with a Delay and none of Status, ErrorCode,
	// Message, RetryAfter, AfterHandler or DropConnection only holds the
	// request for Delay, then lets it be served normally.
	Status int `json:"status,omitempty"`
	// ErrorCode and Message fill the error body, in the path's error shape.
	// ErrorCode defaults to ft.InjectedFault (TrueWatch) or CBC.0999.
	ErrorCode string `json:"errorCode,omitempty"`
	Message   string `json:"message,omitempty"`
	// RetryAfter, when positive, is sent as the Retry-After header, in
	// whole seconds rounded up. In JSON (POST /_mock/faults) durations are
	// a number of seconds or a Go duration string such as "1.5s".
	RetryAfter time.Duration `json:"retryAfter,omitempty"`
	// Delay holds the request this long (real time) before answering.
	Delay time.Duration `json:"delay,omitempty"`
	// AfterHandler runs the real handler first, so its state change
	// happens, then replaces its answer: a lost response.
	AfterHandler bool `json:"afterHandler,omitempty"`
	// DropConnection closes the connection without an answer instead of
	// writing Status.
	DropConnection bool `json:"dropConnection,omitempty"`
}

// latencyOnly reports whether f only delays: a Delay and nothing that
// makes an error answer.
func (f Fault) latencyOnly() bool {
	return f.Delay > 0 && f.Status == 0 && f.ErrorCode == "" && f.Message == "" && f.RetryAfter == 0 &&
		!f.AfterHandler && !f.DropConnection
}

type activeFault struct {
	Fault
	route string // the mux pattern of Fault.Operation; empty for a path fault
	id    string
	seen  int
	hits  int
}

type faultTable struct {
	mu     sync.Mutex
	faults []*activeFault
	// added counts the faults ever added, for their IDs; Reset does not
	// restart it, so an ID never names two faults of one server.
	added int
}

func (t *faultTable) reset() {
	t.mu.Lock()
	t.faults = nil
	t.mu.Unlock()
}

func (t *faultTable) add(f Fault, route string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.added++
	id := "fault-" + strconv.Itoa(t.added)
	t.faults = append(t.faults, &activeFault{Fault: f, route: route, id: id})
	return id
}

func (t *faultTable) remove(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, f := range t.faults {
		if f.id == id {
			t.faults = slices.Delete(t.faults, i, i+1)
			return true
		}
	}
	return false
}

// match finds the fault r triggers, if any; route gives r's mux pattern,
// asked for only when a fault names an operation.
func (t *faultTable) match(r *http.Request, route func() string) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pattern, routed := "", false
	for _, f := range t.faults {
		if f.route != "" {
			if !routed {
				pattern, routed = route(), true
			}
			if f.route != pattern {
				continue
			}
		} else if f.Path != r.URL.Path || (f.Method != "" && f.Method != r.Method) {
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

// InjectFault adds a fault and returns its ID ("fault-1", "fault-2", ...;
// never reused by the server), which RemoveFault takes. Faults are checked
// in the order added; each request triggers at most one. A fault that
// could never fire (an operation the mock does not serve, a path, or a
// method and path, that no route of the mock serves, or a /_mock/ path) is
// refused, as are negative counts and durations.
func (s *Server) InjectFault(f Fault) (string, error) {
	f.Method = strings.ToUpper(f.Method)
	route, err := s.faultTarget(f)
	if err != nil {
		return "", err
	}
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Times < 0 || f.Skip < 0 {
		return "", errors.New("mockserver: fault times and skip must not be negative")
	}
	if f.Delay < 0 || f.RetryAfter < 0 {
		return "", errors.New("mockserver: fault delay and retryAfter must not be negative")
	}
	if f.Status == 0 && !f.latencyOnly() {
		f.Status = http.StatusServiceUnavailable
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return "", fmt.Errorf("mockserver: fault status %d is not an error status", f.Status)
	}
	return s.faults.add(f, route), nil
}

// faultTarget checks what f names: an operation the mock serves (its route
// is returned) or a path a route serves (an empty route is returned).
func (s *Server) faultTarget(f Fault) (string, error) {
	if f.Operation != "" {
		op, ok := s.operation(f.Operation)
		switch {
		case f.Path != "":
			return "", errors.New("mockserver: a fault names an operation or a path, not both")
		case !ok:
			return "", fmt.Errorf("mockserver: the mock serves no operation %q (it serves %s)", f.Operation, s.operationNames())
		case f.Method != "" && f.Method != op.Method:
			return "", fmt.Errorf("mockserver: operation %s is %s, not %s", op.Name, op.Method, f.Method)
		}
		return op.route(), nil
	}
	if f.Path == "" || f.Path[0] != '/' {
		return "", errors.New("mockserver: a fault needs an operation (see Operations) or a path starting with /")
	}
	if familyOf(f.Path) == familyControl {
		return "", errors.New("mockserver: faults never apply to the control plane (/_mock/)")
	}
	if f.Method != "" && !slices.Contains(faultMethods, f.Method) {
		return "", fmt.Errorf("mockserver: fault method %q is not one of %s", f.Method, strings.Join(faultMethods, ", "))
	}
	if !s.routed(f.Method, f.Path) {
		return "", fmt.Errorf("mockserver: no route of the mock serves %s %s, so the fault would never fire",
			cmp.Or(f.Method, "any method on"), f.Path)
	}
	return "", nil
}

// RemoveFault removes the fault with the given ID (from InjectFault or GET
// /_mock/faults) and reports whether there was one; the other faults keep
// their counts.
func (s *Server) RemoveFault(id string) bool { return s.faults.remove(id) }

// faultMethods are the methods a fault may name.
var faultMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// routed reports whether a route of the mock serves path for method (any
// method when empty).
func (s *Server) routed(method, path string) bool {
	if cleanPath(path) != path {
		return false
	}
	methods := faultMethods
	if method != "" {
		methods = []string{method}
	}
	for _, m := range methods {
		r, err := http.NewRequest(m, "http://mock"+path, nil)
		if err != nil {
			return false
		}
		if _, pattern := s.mux.Handler(r); pattern != "" {
			return true
		}
	}
	return false
}

// Faults returns the faults in place (added and not removed), in order,
// with their IDs and the number of requests each has failed (or delayed).
func (s *Server) Faults() []FaultStatus {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := make([]FaultStatus, len(s.faults.faults))
	for i, f := range s.faults.faults {
		out[i] = FaultStatus{ID: f.id, Fault: f.Fault, Hits: f.hits}
	}
	return out
}

// FaultStatus is a fault, its ID and how many requests it has failed (or
// delayed, for a latency-only fault).
type FaultStatus struct {
	ID string `json:"id"`
	Fault
	Hits int `json:"hits"`
}

// MarshalJSON writes durations as Go duration strings ("1.5s").
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault
	return json.Marshal(struct {
		plain
		RetryAfter string `json:"retryAfter,omitempty"`
		Delay      string `json:"delay,omitempty"`
	}{plain(f), durationText(f.RetryAfter), durationText(f.Delay)})
}

// MarshalJSON keeps ID and Hits next to the fault's fields (Fault's own
// MarshalJSON would otherwise be promoted and drop them).
func (f FaultStatus) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(f.Fault)
	if err != nil {
		return nil, err
	}
	id, err := json.Marshal(f.ID)
	if err != nil {
		return nil, err
	}
	b = append(append(append(b[:len(b)-1], `,"id":`...), id...), `,"hits":`...)
	b = strconv.AppendInt(b, int64(f.Hits), 10)
	return append(b, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *FaultStatus) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for name, dst := range map[string]any{"hits": &f.Hits, "id": &f.ID} {
		if v, ok := m[name]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return err
			}
			delete(m, name)
		}
	}
	rest, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return f.Fault.UnmarshalJSON(rest)
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// UnmarshalJSON reads a fault strictly (unknown fields are an error), with
// durations as a number of seconds or a Go duration string.
func (f *Fault) UnmarshalJSON(b []byte) error {
	type plain Fault
	var aux struct {
		*plain
		RetryAfter jsonDuration `json:"retryAfter"`
		Delay      jsonDuration `json:"delay"`
	}
	aux.plain = (*plain)(f)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		return err
	}
	f.RetryAfter, f.Delay = time.Duration(aux.RetryAfter), time.Duration(aux.Delay)
	return nil
}

// jsonDuration is a duration in JSON: seconds, or a Go duration string.
type jsonDuration time.Duration

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case float64:
		if math.Abs(v) > math.MaxInt64/float64(time.Second) {
			return fmt.Errorf("duration %v s is out of range", v)
		}
		*d = jsonDuration(v * float64(time.Second))
	case string:
		p, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*d = jsonDuration(p)
	case nil:
		*d = 0
	default:
		return errors.New("a duration is a number of seconds or a string such as \"1.5s\"")
	}
	return nil
}

// FaultHits reports how many requests each fault has failed so far, in the
// order the faults were added.
func (s *Server) FaultHits() []int {
	faults := s.Faults()
	out := make([]int, len(faults))
	for i, f := range faults {
		out[i] = f.Hits
	}
	return out
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.faults.reset() }

// applyFault answers r per f; it returns false when the request should go on
// to the handler untouched (a latency-only fault, once its delay is over).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault, h http.Handler) bool {
	if f.Delay > 0 {
		// Wait on a timer, the client and Close, never in time.Sleep, so
		// that Close does not wait for the delay.
		s.holdDeadlines(w, f.Delay)
		t := time.NewTimer(f.Delay)
		select {
		case <-r.Context().Done():
		case <-s.done:
		case <-t.C:
		}
		t.Stop()
		if s.closing() {
			w.Header().Set("Connection", "close")
			writeError(w, r, http.StatusServiceUnavailable, apierror.CodeInjectedFault, apierror.CodeHuaweiInternal,
				"the mock server is shutting down")
			return true
		}
		if r.Context().Err() != nil {
			return true // the client is gone
		}
	}
	if f.Status == 0 { // latency only: InjectFault set a status on every other fault
		return false
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
