package mockserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// DefaultJournalSize is how many requests the journal keeps by default
// (WithJournalSize).
const DefaultJournalSize = 10000

// maxJournalSize bounds WithJournalSize: an entry takes up to about 2 KiB.
const maxJournalSize = 1_000_000

// DefaultNamespace is the namespace of every request today; the field is
// in the journal so that its shape stays when namespaces come.
const DefaultNamespace = "default"

// Bounds on what one entry keeps of a request, so that a client sending
// huge paths or headers cannot make the journal large.
const (
	maxJournalPath   = 1024
	maxJournalMethod = 16
	maxJournalKey    = 255
	maxJournalCode   = 64
)

// WithJournalSize sets how many requests the journal keeps (default
// DefaultJournalSize, at most 1,000,000); the oldest go first. 0 turns the
// journal off.
func WithJournalSize(n int) Option {
	return func(cfg *config) error {
		if n < 0 || n > maxJournalSize {
			return fmt.Errorf("mockserver: the journal size must be between 0 and %d", maxJournalSize)
		}
		cfg.journalSize = n
		return nil
	}
}

// RecordedRequest is one request to the mock's API halves (the Billing
// Center, the workspace APIs, the login pages, Huawei IAM, STS and BSS), as
// the journal keeps it: what was asked, how it was answered, and the
// trace context it came with. It holds no body, no query string and no
// header value but the Idempotency-Key, so no password, verification
// code, token, signature, secret key or proof of ownership. Control-plane
// requests (/_mock/...) are not journaled.
type RecordedRequest struct {
	// Seq numbers the requests the server journaled, from 1; it keeps
	// counting across ClearRequests and Reset.
	Seq int64 `json:"seq"`
	// Time is when the request arrived, by the server's clock.
	Time time.Time `json:"time"`
	// Namespace is the mock namespace that served it (DefaultNamespace).
	Namespace string `json:"namespace"`
	Method    string `json:"method"`
	// Path is the request path as sent (escaped), without the query.
	Path string `json:"path"`
	// Operation names what was served, e.g. billing.Register or
	// bss.ListPayPerUseCustomerResources (OperationUnrouted without a
	// route).
	Operation string `json:"operation"`
	// Status is the HTTP status answered; 0 when the connection was
	// dropped without an answer (Dropped).
	Status int `json:"status"`
	// Latency is how long the mock took to answer, fault delays included
	// (real time). In JSON: latencyMs, in milliseconds.
	Latency time.Duration `json:"-"`
	// RequestID is the X-Request-Id the mock answered with.
	RequestID string `json:"requestId"`
	// IdempotencyKey is the Idempotency-Key sent, if any (its first 255
	// characters).
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// ErrorCode is the error code answered (ft.*, APIGW.*, CBC.*), if any.
	ErrorCode string `json:"errorCode,omitempty"`
	// TraceID and SpanID are the W3C trace context the request carried
	// (traceparent): its trace, and the client span that sent it, which is
	// the parent of the mock's server span. Empty without one.
	TraceID string `json:"traceId,omitempty"`
	SpanID  string `json:"spanId,omitempty"`
	// Dropped is true when the connection was closed without an answer (a
	// DropConnection fault).
	Dropped bool `json:"dropped,omitempty"`
}

type recordedRequestJSON struct {
	recordedRequestFields
	LatencyMs float64 `json:"latencyMs"`
}

// recordedRequestFields is RecordedRequest without its methods, for JSON.
type recordedRequestFields RecordedRequest

// MarshalJSON encodes the latency as latencyMs.
func (r RecordedRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(recordedRequestJSON{recordedRequestFields(r), float64(r.Latency) / float64(time.Millisecond)})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (r *RecordedRequest) UnmarshalJSON(b []byte) error {
	var v recordedRequestJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = RecordedRequest(v.recordedRequestFields)
	// Rounded, not truncated: 253306 ns is 0.253306 ms, which times 1e6
	// is 253305.99999 in floating point.
	r.Latency = time.Duration(math.Round(v.LatencyMs * float64(time.Millisecond)))
	return nil
}

// RequestFilter selects journaled requests; zero fields match everything.
type RequestFilter struct {
	// Operation matches exactly, e.g. "billing.Register".
	Operation string
	// Status matches exactly (0: any; see DroppedOnly for dropped ones).
	Status int
	// PathPrefix matches the start of the path, e.g. "/v2/" for BSS.
	PathPrefix string
	// Since keeps the requests that arrived at or after it (server clock).
	Since time.Time
	// TraceID matches the incoming trace ID (32 lower-case hex digits).
	TraceID string
	// Limit keeps only the newest Limit matches (0: all).
	Limit int
}

func (f RequestFilter) match(e *RecordedRequest) bool {
	return (f.Operation == "" || e.Operation == f.Operation) &&
		(f.Status == 0 || e.Status == f.Status) &&
		(f.PathPrefix == "" || strings.HasPrefix(e.Path, f.PathPrefix)) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.TraceID == "" || e.TraceID == f.TraceID)
}

// journal is a ring of the newest requests: it grows to size entries,
// then each new one replaces the oldest, at head.
type journal struct {
	mu   sync.Mutex
	ring []RecordedRequest // ring[(head+i)%len(ring)] is the i-th oldest
	size int
	head int
	seq  int64
}

func newJournal(size int) *journal { return &journal{size: size} }

func (j *journal) add(e RecordedRequest) {
	if j.size == 0 {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	if len(j.ring) < j.size {
		// Grown as it fills, so that an idle mock holds no 10,000 slots.
		j.ring = append(j.ring, e)
		return
	}
	j.ring[j.head] = e
	j.head = (j.head + 1) % j.size
}

// list returns the matching entries, oldest first.
func (j *journal) list(f RequestFilter) []RecordedRequest {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []RecordedRequest{}
	for i := range len(j.ring) {
		e := &j.ring[(j.head+i)%len(j.ring)]
		if f.match(e) {
			out = append(out, *e)
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out
}

func (j *journal) clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ring, j.head = nil, 0
}

// Requests returns the journaled requests that match f, oldest first: the
// Go twin of GET /_mock/requests. The journal keeps the newest
// WithJournalSize requests (DefaultJournalSize).
func (s *Server) Requests(f RequestFilter) []RecordedRequest { return s.journal.list(f) }

// ClearRequests empties the journal (DELETE /_mock/requests); Reset does
// too.
func (s *Server) ClearRequests() { s.journal.clear() }

// clip cuts v to n bytes.
func clip(v string, n int) string {
	if len(v) > n {
		return v[:n]
	}
	return v
}

// parseRequestFilter reads GET /_mock/requests's query strictly: known
// parameters only, each at most once, each well-formed.
func (s *Server) parseRequestFilter(raw string) (RequestFilter, error) {
	var f RequestFilter
	q, err := url.ParseQuery(raw)
	if err != nil {
		return f, errors.New("the query cannot be parsed")
	}
	if e := checkQuery(nil, q, "operation", "status", "pathPrefix", "since", "traceId", "limit"); e != nil {
		return f, errors.New(e.msg)
	}
	var problems []string
	bad := func(name, why string) { problems = append(problems, name+": "+why) }
	if v, ok := q["operation"]; ok {
		if f.Operation = v[0]; f.Operation == "" || len(f.Operation) > 128 {
			bad("operation", "must be 1 to 128 characters, e.g. billing.Register")
		}
	}
	if v, ok := q["status"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 100 || n > 599 {
			bad("status", "must be an HTTP status from 100 to 599")
		}
		f.Status = n
	}
	if v, ok := q["pathPrefix"]; ok {
		if f.PathPrefix = v[0]; !strings.HasPrefix(f.PathPrefix, "/") || len(f.PathPrefix) > maxJournalPath {
			bad("pathPrefix", "must start with / and be at most 1024 characters")
		}
	}
	if v, ok := q["since"]; ok {
		t, err := time.Parse(time.RFC3339Nano, v[0])
		if err != nil {
			bad("since", "must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
		}
		f.Since = t
	}
	if v, ok := q["traceId"]; ok {
		id, err := trace.TraceIDFromHex(v[0])
		if err != nil || !id.IsValid() || id.String() != v[0] {
			bad("traceId", "must be 32 lower-case hexadecimal digits, not all zero")
		}
		f.TraceID = v[0]
	}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxJournalSize {
			bad("limit", fmt.Sprintf("must be a whole number from 1 to %d", maxJournalSize))
		}
		f.Limit = n
	}
	if len(problems) > 0 {
		return f, errors.New("invalid query: " + strings.Join(problems, "; "))
	}
	return f, nil
}

func (s *Server) handleRequests(w http.ResponseWriter, r *http.Request) {
	f, err := s.parseRequestFilter(r.URL.RawQuery)
	if err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, s.Requests(f))
}
