package mockserver

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/hwsign"
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

	// Name, when set, names the fault uniquely on the server (1 to 64
	// letters, digits, '.', '_' and '-', not of the form "fault-N", which
	// IDs take): RemoveFault and DELETE /_mock/faults/{name} take it as
	// they take the ID. A name in use is refused (ErrFaultNameTaken, 409).
	Name string `json:"name,omitempty"`
	// Headers, when set, match only requests carrying every one of these
	// headers with exactly this value (names are case-insensitive). The
	// secret-bearing headers (Authorization, Cookie, X-Security-Token,
	// ...) cannot be matched; AccessKey matches the Huawei key instead.
	Headers map[string]string `json:"headers,omitempty"`
	// AccessKey, when set, matches only Huawei requests signed with this
	// access key (the Access= of their SDK-HMAC-SHA256 Authorization
	// header). Only a fault on the Huawei half may name one.
	AccessKey string `json:"accessKey,omitempty"`
	// Probability, when set, in (0,1], makes a request the fault would
	// fail fail only with that probability, drawn from the fault's seeded
	// source (see Seed); 0, the default, fails every one. The order is:
	// the request matches (operation or path, method, headers, access
	// key) and counts as seen; the first Skip seen pass; each later one is
	// drawn for; those drawn count as hits, up to Times. Once Times is
	// reached the fault draws no more.
	Probability float64 `json:"probability,omitempty"`
	// Latency, instead of a fixed Delay, draws each hit's delay from a
	// distribution, from the fault's seeded source. Alone it is a
	// latency-only fault as a Delay alone is.
	Latency *Latency `json:"latency,omitempty"`
	// Seed, when not 0, seeds this fault's source of Probability and
	// Latency draws, so that its pattern depends on this seed alone. By
	// default the source is seeded from the server's fault seed
	// (WithFaultSeed) and the fault's place in the order faults were
	// added (its ID), so a server given the same seed, faults and requests
	// fails the same requests. Only a fault with a Probability or a
	// Latency may carry one.
	Seed uint64 `json:"seed,omitempty"`
}

// Latency distributions a Fault's Latency may name.
const (
	// LatencyUniform draws a delay uniformly in [Min, Max].
	LatencyUniform = "uniform"
	// LatencyNormal draws a delay from a normal distribution of Mean and
	// StdDev, clipped to [Min, Max] (Min defaults to 0; Max is required).
	LatencyNormal = "normal"
)

// Latency is a distribution of delays, one drawn for each request a fault
// holds. In JSON the durations are seconds or Go duration strings, as a
// Fault's; for example {"distribution":"normal","mean":"80ms",
// "stddev":"30ms","max":"250ms"}.
type Latency struct {
	// Distribution is LatencyUniform or LatencyNormal.
	Distribution string `json:"distribution"`
	// Min and Max bound the delay: the interval of a uniform draw, the
	// clipping of a normal one. Max must be positive.
	Min time.Duration `json:"min,omitempty"`
	Max time.Duration `json:"max,omitempty"`
	// Mean and StdDev shape a normal draw; a uniform one takes neither.
	Mean   time.Duration `json:"mean,omitempty"`
	StdDev time.Duration `json:"stddev,omitempty"`
}

// draw is one delay from l, whose checks (checkLatency) passed.
func (l *Latency) draw(rng *rand.Rand) time.Duration {
	if l.Distribution == LatencyUniform {
		if l.Max == l.Min {
			return l.Min
		}
		return l.Min + time.Duration(rng.Int64N(int64(l.Max-l.Min)+1))
	}
	d := float64(l.Mean) + rng.NormFloat64()*float64(l.StdDev)
	return time.Duration(min(max(d, float64(l.Min)), float64(l.Max)))
}

// MarshalJSON writes durations as Go duration strings ("80ms").
func (l Latency) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Distribution string `json:"distribution"`
		Min          string `json:"min,omitempty"`
		Max          string `json:"max,omitempty"`
		Mean         string `json:"mean,omitempty"`
		StdDev       string `json:"stddev,omitempty"`
	}{l.Distribution, durationText(l.Min), durationText(l.Max), durationText(l.Mean), durationText(l.StdDev)})
}

// UnmarshalJSON reads a latency strictly (unknown fields are an error),
// with durations as a number of seconds or a Go duration string.
func (l *Latency) UnmarshalJSON(b []byte) error {
	var aux struct {
		Distribution string       `json:"distribution"`
		Min          jsonDuration `json:"min"`
		Max          jsonDuration `json:"max"`
		Mean         jsonDuration `json:"mean"`
		StdDev       jsonDuration `json:"stddev"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		return err
	}
	*l = Latency{aux.Distribution, time.Duration(aux.Min), time.Duration(aux.Max), time.Duration(aux.Mean), time.Duration(aux.StdDev)}
	return nil
}

// FaultError says what is wrong with a fault InjectFault, InjectFaults or
// POST /_mock/faults refused, as a JSON pointer into what was sent:
// "/2/probability" for the third fault of a script, "/probability" for a
// single fault.
type FaultError struct {
	// Index is the fault's place in the script; -1 for a single fault.
	Index int
	// Field is the JSON name of the field at fault ("probability",
	// "latency/max"); empty when the fault as a whole is.
	Field string
	// Reason says what is wrong, e.g. "must be in (0,1]".
	Reason string
	err    error // ErrFaultNameTaken, for errors.Is
}

// ErrFaultNameTaken is wrapped by the FaultError of a fault whose name
// another fault of the server (or of the same script) has.
var ErrFaultNameTaken = errors.New("fault name taken")

// Pointer is the JSON pointer of what is wrong: "/2/probability".
func (e *FaultError) Pointer() string {
	p := ""
	if e.Index >= 0 {
		p = "/" + strconv.Itoa(e.Index)
	}
	if e.Field != "" {
		p += "/" + e.Field
	}
	return p
}

func (e *FaultError) Error() string {
	if p := e.Pointer(); p != "" {
		return "mockserver: fault " + p + ": " + e.Reason
	}
	return "mockserver: fault: " + e.Reason
}

func (e *FaultError) Unwrap() error { return e.err }

func faultErr(field, format string, args ...any) *FaultError {
	return &FaultError{Index: -1, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// latencyOnly reports whether f only delays: a Delay or a Latency and
// nothing that makes an error answer.
func (f Fault) latencyOnly() bool {
	return (f.Delay > 0 || f.Latency != nil) && f.Status == 0 && f.ErrorCode == "" && f.Message == "" && f.RetryAfter == 0 &&
		!f.AfterHandler && !f.DropConnection
}

type activeFault struct {
	Fault
	route   string // the mux pattern of Fault.Operation; empty for a path fault
	headers []headerMatch
	rng     *rand.Rand // Probability and Latency draws; nil when neither
	id      string
	seen    int
	hits    int
}

type headerMatch struct{ name, value string }

type faultTable struct {
	mu     sync.Mutex
	faults []*activeFault
	// added counts the faults ever added, for their IDs; Reset does not
	// restart it, so an ID never names two faults of one server.
	added int
	// seed seeds the draws of faults without a Seed of their own, with
	// the fault's number (WithFaultSeed; set once, before serving).
	seed uint64
	// n is len(faults), kept under mu, read without it: a request with no
	// fault in place takes no lock (BenchmarkFaultCheck).
	n atomic.Int64
}

func (t *faultTable) reset() {
	t.mu.Lock()
	t.faults = nil
	t.n.Store(0)
	t.mu.Unlock()
}

// addAll adds the prepared faults, all or none: a name taken by a fault
// in place or earlier in fs refuses them all.
func (t *faultTable) addAll(fs []*activeFault) ([]string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	names := map[string]bool{}
	for _, f := range t.faults {
		if f.Name != "" {
			names[f.Name] = true
		}
	}
	for i, f := range fs {
		if f.Name == "" {
			continue
		}
		if names[f.Name] {
			return nil, &FaultError{Index: i, Field: "name", Reason: fmt.Sprintf("a fault named %q is in place already", f.Name), err: ErrFaultNameTaken}
		}
		names[f.Name] = true
	}
	ids := make([]string, len(fs))
	for i, f := range fs {
		t.added++
		f.id = "fault-" + strconv.Itoa(t.added)
		if f.Probability > 0 || f.Latency != nil {
			if f.Seed != 0 {
				f.rng = rand.New(rand.NewPCG(f.Seed, f.Seed))
			} else {
				f.rng = rand.New(rand.NewPCG(t.seed, uint64(t.added)))
			}
		}
		ids[i] = f.id
	}
	t.faults = append(t.faults, fs...)
	t.n.Store(int64(len(t.faults)))
	return ids, nil
}

func (t *faultTable) remove(idOrName string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, f := range t.faults {
		if f.id == idOrName || (f.Name != "" && f.Name == idOrName) {
			t.faults = slices.Delete(t.faults, i, i+1)
			t.n.Store(int64(len(t.faults)))
			return true
		}
	}
	return false
}

// match finds the fault r triggers, if any, with its Delay drawn from its
// Latency; route gives r's mux pattern, asked for only when a fault names
// an operation.
func (t *faultTable) match(r *http.Request, route func() string) (Fault, bool) {
	if t.n.Load() == 0 {
		return Fault{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	pattern, routed := "", false
	ak, parsed := "", false
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
		if !f.headersMatch(r.Header) {
			continue
		}
		if f.AccessKey != "" {
			if !parsed {
				ak, parsed = accessKeyOf(r.Header), true
			}
			if f.AccessKey != ak {
				continue
			}
		}
		f.seen++
		if f.seen <= f.Skip || f.hits >= f.Times {
			continue
		}
		if f.Probability > 0 && f.Probability < 1 && f.rng.Float64() >= f.Probability {
			continue
		}
		f.hits++
		out := f.Fault
		if f.Latency != nil {
			out.Delay = f.Latency.draw(f.rng)
		}
		return out, true
	}
	return Fault{}, false
}

func (f *activeFault) headersMatch(h http.Header) bool {
	for _, m := range f.headers {
		if v := h[m.name]; len(v) != 1 || v[0] != m.value {
			return false
		}
	}
	return true
}

// accessKeyOf is the Access= of an SDK-HMAC-SHA256 Authorization header;
// empty when there is none.
func accessKeyOf(h http.Header) string {
	a, err := hwsign.ParseAuthorization(h.Get("Authorization"))
	if err != nil {
		return ""
	}
	return a.AccessKey
}

// InjectFault adds a fault and returns its ID ("fault-1", "fault-2", ...;
// never reused by the server), which RemoveFault takes. Faults are checked
// in the order added; each request triggers at most one. A fault that
// could never fire (an operation the mock does not serve, a path, or a
// method and path, that no route of the mock serves, or a /_mock/ path) is
// refused, as are negative counts and durations, out-of-range
// probabilities and latencies, and impossible combinations; the error is a
// *FaultError naming the field.
func (s *Server) InjectFault(f Fault) (string, error) {
	ids, err := s.injectFaults([]Fault{f}, -1)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// InjectFaults adds a script of faults atomically, in order, and returns
// their IDs: when one is refused (a *FaultError with its Index) none is
// added. POST /_mock/faults with a JSON array does the same.
func (s *Server) InjectFaults(faults ...Fault) ([]string, error) { return s.injectFaults(faults, 0) }

// injectFaults checks and adds fs; index is the Index of fs[0] in errors
// (-1 for a single fault, 0 for a script).
func (s *Server) injectFaults(fs []Fault, index int) ([]string, error) {
	prepared := make([]*activeFault, len(fs))
	for i, f := range fs {
		af, err := s.prepareFault(f)
		if err != nil {
			err.Index = index
			if index >= 0 {
				err.Index = i
			}
			return nil, err
		}
		prepared[i] = af
	}
	ids, err := s.faults.addAll(prepared)
	if fe := (*FaultError)(nil); errors.As(err, &fe) && index < 0 {
		fe.Index = -1
	}
	return ids, err
}

// faultNamePattern is what a fault's name may be.
var faultNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// secretHeaders carry credentials: no fault matches on them, so that no
// secret is kept in a fault or listed by GET /_mock/faults.
var secretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "X-Security-Token"}

// prepareFault checks f and fills in its defaults; the error's Index is
// for the caller to set.
func (s *Server) prepareFault(f Fault) (*activeFault, *FaultError) {
	f.Method = strings.ToUpper(f.Method)
	route, err := s.faultTarget(f)
	if err != nil {
		return nil, err
	}
	if f.Times == 0 {
		f.Times = 1
	}
	switch {
	case f.Times < 0:
		return nil, faultErr("times", "must not be negative")
	case f.Skip < 0:
		return nil, faultErr("skip", "must not be negative")
	case f.Delay < 0:
		return nil, faultErr("delay", "must not be negative")
	case f.RetryAfter < 0:
		return nil, faultErr("retryAfter", "must not be negative")
	case f.Probability != 0 && !(f.Probability > 0 && f.Probability <= 1):
		return nil, faultErr("probability", "must be in (0,1]")
	case f.Seed != 0 && f.Probability == 0 && f.Latency == nil:
		return nil, faultErr("seed", "only a fault with a probability or a latency draws from a seed")
	case f.Name != "" && !faultNamePattern.MatchString(f.Name):
		return nil, faultErr("name", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	case f.Name != "" && faultIDPattern.MatchString(f.Name):
		return nil, faultErr("name", "%q has the form of a fault ID", f.Name)
	}
	if f.Latency != nil {
		if f.Delay != 0 {
			return nil, faultErr("latency", "a fault has a delay or a latency, not both")
		}
		if err := checkLatency(*f.Latency); err != nil {
			return nil, err
		}
		l := *f.Latency
		f.Latency = &l // the caller's Latency stays the caller's
	}
	af := &activeFault{route: route}
	if f.Headers != nil {
		if len(f.Headers) == 0 {
			return nil, faultErr("headers", "must name at least one header when given")
		}
		canonical := make(map[string]string, len(f.Headers))
		for name, value := range f.Headers {
			c := http.CanonicalHeaderKey(name)
			switch {
			case !validHeaderName(name):
				return nil, faultErr("headers", "%q is not a header name", name)
			case strings.ContainsAny(value, "\r\n\x00"):
				return nil, faultErr("headers/"+c, "a header value has no line break or NUL")
			case slices.Contains(secretHeaders, c):
				return nil, faultErr("headers/"+c, "headers bearing secrets are not matched (a Huawei fault can match accessKey)")
			case c == FaultHeader:
				return nil, faultErr("headers/"+c, "a request with %s is failed by it, never by a fault in place", FaultHeader)
			}
			if _, dup := canonical[c]; dup {
				return nil, faultErr("headers/"+c, "given twice, in different cases")
			}
			canonical[c] = value
			af.headers = append(af.headers, headerMatch{c, value})
		}
		slices.SortFunc(af.headers, func(a, b headerMatch) int { return cmp.Compare(a.name, b.name) })
		f.Headers = canonical
	}
	if f.AccessKey != "" && s.faultFamily(f) != familyHuawei {
		return nil, faultErr("accessKey", "only requests to the Huawei half carry a Huawei access key")
	}
	if f.Status == 0 && !f.latencyOnly() {
		f.Status = http.StatusServiceUnavailable
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return nil, faultErr("status", "%d is not an error status (400 to 599)", f.Status)
	}
	af.Fault = f
	return af, nil
}

// faultIDPattern is the form of the IDs faults are given.
var faultIDPattern = regexp.MustCompile(`^fault-[0-9]+$`)

// checkLatency checks a latency distribution.
func checkLatency(l Latency) *FaultError {
	switch {
	case l.Distribution != LatencyUniform && l.Distribution != LatencyNormal:
		return faultErr("latency/distribution", "must be %q or %q", LatencyUniform, LatencyNormal)
	case l.Min < 0:
		return faultErr("latency/min", "must not be negative")
	case l.Max <= 0:
		return faultErr("latency/max", "must be positive")
	case l.Max < l.Min:
		return faultErr("latency/max", "must not be below min")
	case l.Distribution == LatencyUniform && (l.Mean != 0 || l.StdDev != 0):
		return faultErr("latency", "a uniform latency takes min and max, not mean or stddev")
	case l.Distribution == LatencyNormal && l.StdDev <= 0:
		return faultErr("latency/stddev", "must be positive")
	case l.Distribution == LatencyNormal && (l.Mean < l.Min || l.Mean > l.Max):
		return faultErr("latency/mean", "must be within [min, max]")
	}
	return nil
}

// validHeaderName reports whether name is an HTTP token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := range len(name) {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// faultFamily is the API half f fails.
func (s *Server) faultFamily(f Fault) family {
	if op, ok := s.operation(f.Operation); ok && f.Operation != "" {
		return familyOf(op.Path)
	}
	return familyOf(f.Path)
}

// faultTarget checks what f names: an operation the mock serves (its route
// is returned) or a path a route serves (an empty route is returned).
func (s *Server) faultTarget(f Fault) (string, *FaultError) {
	if f.Operation != "" {
		op, ok := s.operation(f.Operation)
		switch {
		case f.Path != "":
			return "", faultErr("path", "a fault names an operation or a path, not both")
		case !ok:
			return "", faultErr("operation", "the mock serves no operation %q (it serves %s)", f.Operation, s.operationNames())
		case f.Method != "" && f.Method != op.Method:
			return "", faultErr("method", "operation %s is %s, not %s", op.Name, op.Method, f.Method)
		}
		return op.route(), nil
	}
	if f.Path == "" || f.Path[0] != '/' {
		return "", faultErr("path", "a fault needs an operation (see Operations) or a path starting with /")
	}
	if familyOf(f.Path) == familyControl {
		return "", faultErr("path", "faults never apply to the control plane (/_mock/)")
	}
	if f.Method != "" && !slices.Contains(faultMethods, f.Method) {
		return "", faultErr("method", "%q is not one of %s", f.Method, strings.Join(faultMethods, ", "))
	}
	if !s.routed(f.Method, f.Path) {
		return "", faultErr("path", "no route of the mock serves %s %s, so the fault would never fire",
			cmp.Or(f.Method, "any method on"), f.Path)
	}
	return "", nil
}

// RemoveFault removes the fault with the given ID (from InjectFault or GET
// /_mock/faults) or name and reports whether there was one; the other
// faults keep their counts.
func (s *Server) RemoveFault(idOrName string) bool { return s.faults.remove(idOrName) }

// WithFaultSeed seeds the source that faults without a Seed of their own
// draw their Probability and Latency from, with their number. By default
// the seed is derived from the ID seed (WithIDSeed), so servers started
// alike fail alike.
func WithFaultSeed(seed uint64) Option {
	return func(cfg *config) error { cfg.faultSeed, cfg.faultSeedSet = seed, true; return nil }
}

// faultSeedOf is the fault seed of cfg: WithFaultSeed's, or one derived
// from the ID seed.
func faultSeedOf(cfg *config) uint64 {
	if cfg.faultSeedSet {
		return cfg.faultSeed
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("faults|" + cfg.seed))
	return h.Sum64()
}

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
		RetryAfter  jsonDuration `json:"retryAfter"`
		Delay       jsonDuration `json:"delay"`
		Probability *float64     `json:"probability"`
	}
	aux.plain = (*plain)(f)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		return err
	}
	f.RetryAfter, f.Delay = time.Duration(aux.RetryAfter), time.Duration(aux.Delay)
	if p := aux.Probability; p != nil {
		if *p == 0 {
			// 0 means "always" only in Go, where it is the zero value; in
			// JSON, leave probability out for that.
			return faultErr("probability", "must be in (0,1]")
		}
		f.Probability = *p
	}
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
