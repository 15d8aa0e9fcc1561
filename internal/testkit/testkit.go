// Package testkit holds what the client tests share: TrueWatch envelope
// replies for an httpmock transport, a recorder of the requests sent, and a
// retry policy that records its waits instead of sleeping. Only tests
// import it.
package testkit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// TraceID is the traceId every reply carries.
const TraceID = "TRACE-00000000-0000-4000-8000-000000000001"

// RequestID is the X-Request-Id every reply carries.
const RequestID = "req-test-1"

// Reply builds one response; it is called once per attempt, so each attempt
// gets a fresh body. It is assignable to httpmock.Responder.
type Reply = func(*http.Request) (*http.Response, error)

// Raw replies with status and body as given, plus the request ID header.
func Raw(status int, body string) Reply {
	return func(req *http.Request) (*http.Response, error) {
		return &http.Response{
			Status:        strconv.Itoa(status) + " " + http.StatusText(status),
			StatusCode:    status,
			Header:        http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {RequestID}},
			Body:          io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)),
			Request:       req,
		}, nil
	}
}

// Envelope returns the JSON of a TrueWatch envelope.
func Envelope(status int, content any, page *httpcore.PageInfo, errorCode, message string) string {
	env := map[string]any{
		"code": status, "content": content, "errorCode": errorCode, "message": message,
		"success": status < 300 && errorCode == "", "traceId": TraceID,
	}
	if page != nil {
		env["pageInfo"] = page
	}
	b, err := json.Marshal(env)
	if err != nil {
		panic(err) // test fixtures only
	}
	return string(b)
}

// OK replies 200 with content in a success envelope.
func OK(content any) Reply { return Raw(http.StatusOK, Envelope(http.StatusOK, content, nil, "", "")) }

// Page replies 200 with a list and its paging block.
func Page(content any, page httpcore.PageInfo) Reply {
	return Raw(http.StatusOK, Envelope(http.StatusOK, content, &page, "", ""))
}

// Fail replies with an error envelope.
func Fail(status int, errorCode, message string) Reply {
	return Raw(status, Envelope(status, map[string]any{}, nil, errorCode, message))
}

// ErrConnection is the error ConnError replies with.
var ErrConnection = errors.New("connection reset by peer")

// ConnError fails the attempt as if the connection broke.
func ConnError() Reply {
	return func(*http.Request) (*http.Response, error) { return nil, ErrConnection }
}

// WithHeader adds a response header to r's responses.
func WithHeader(r Reply, key, value string) Reply {
	return func(req *http.Request) (*http.Response, error) {
		resp, err := r(req)
		if resp != nil {
			resp.Header.Set(key, value)
		}
		return resp, err
	}
}

// Request is a request as the server saw it.
type Request struct {
	Method string
	Host   string
	Path   string // escaped
	Query  url.Values
	Header http.Header
	Body   []byte
}

// JSON decodes the request body into a generic map.
func (r Request) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Recorder records every request and answers with a scripted sequence of
// replies; the last reply answers every further request.
type Recorder struct {
	mu      sync.Mutex
	reqs    []Request
	replies []Reply
}

// NewRecorder returns a Recorder that answers with replies in order.
func NewRecorder(replies ...Reply) *Recorder { return &Recorder{replies: replies} }

// Respond is an httpmock responder (assignable to httpmock.Responder).
func (r *Recorder) Respond(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, Request{Method: req.Method, Host: req.URL.Host, Path: req.URL.EscapedPath(),
		Query: req.URL.Query(), Header: req.Header.Clone(), Body: body})
	n := len(r.reqs)
	r.mu.Unlock()
	if len(r.replies) == 0 {
		return nil, errors.New("testkit: no reply scripted")
	}
	return r.replies[min(n, len(r.replies))-1](req)
}

// Requests returns a copy of the requests recorded so far.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Count returns how many requests were recorded.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// Waits records the waits of a retry policy instead of sleeping.
type Waits struct {
	mu sync.Mutex
	d  []time.Duration
}

// Policy returns an exact (no jitter) policy with maxRetries retries (0:
// none), waits of 100ms doubling to 1s, Retry-After capped at 5s, and a
// Sleep that records each wait and returns at once.
func (w *Waits) Policy(maxRetries int) retry.Policy {
	if maxRetries == 0 {
		maxRetries = -1
	}
	return retry.Policy{
		MaxRetries: maxRetries, WaitMin: 100 * time.Millisecond, WaitMax: time.Second,
		RetryAfterMax: 5 * time.Second, NoJitter: true,
		Sleep: func(ctx context.Context, d time.Duration) error {
			w.mu.Lock()
			w.d = append(w.d, d)
			w.mu.Unlock()
			return ctx.Err()
		},
	}
}

// All returns the waits recorded so far.
func (w *Waits) All() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// BlockingSleep returns a Sleep that signals started and then blocks until
// ctx is done, for testing cancellation during a wait.
func BlockingSleep(started chan<- struct{}) func(context.Context, time.Duration) error {
	return func(ctx context.Context, _ time.Duration) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}
}

// Refusal returns the operation and problem fields of a validation error,
// and false when err is not an *apierror.ValidationError.
func Refusal(err error) (op string, fields []string, ok bool) {
	var ve *apierror.ValidationError
	if !errors.As(err, &ve) {
		return "", nil, false
	}
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	return ve.Operation, fields, true
}

// WireJSON encodes v as the clients send it: json.Marshal, except that the
// secret.String fields of a struct (or pointer to one) are in clear. The
// public request types never write their secrets (they redact in JSON);
// tests that post raw requests to the mock encode them with WireJSON.
// Only top-level fields are revealed, which covers every request type.
func WireJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return b, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	secretType := reflect.TypeFor[secret.String]()
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Type != secretType || !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		clear, err := json.Marshal(rv.Field(i).Interface().(secret.String).Reveal())
		if err != nil {
			return nil, err
		}
		fields[name] = clear
	}
	return json.Marshal(fields)
}

// Paired benchmarks a call against its floor in the same run: each
// iteration makes both, in alternating order, so that drift on a shared
// machine and order effects (a warm connection, the server's garbage) hit
// both alike. Besides ns/op (the pair) it reports each side's mean
// ("floor-ns/op", "call-ns/op") and the median of the per-iteration ratios
// call/floor ("median-ratio"), the figure a target is checked against.
func Paired(b *testing.B, floor, call func() error) {
	b.Helper()
	PairedPrepared(b, nil, floor, call)
}

// PairedPrepared is Paired with an untimed prepare before each iteration
// (and each warm-up): the seed a call needs, say a fresh tenant.
func PairedPrepared(b *testing.B, prepare, floor, call func() error) {
	b.Helper()
	if prepare == nil {
		prepare = func() error { return nil }
	}
	for range 20 { // warm connections, caches and the server
		if err := prepare(); err != nil {
			b.Fatal(err)
		}
		if err := floor(); err != nil {
			b.Fatal(err)
		}
		if err := call(); err != nil {
			b.Fatal(err)
		}
	}
	timed := func(f func() error) time.Duration {
		t := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		return time.Since(t)
	}
	var ratios []float64
	var sumFloor, sumCall time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if err := prepare(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var df, dc time.Duration
		if i%2 == 0 {
			df, dc = timed(floor), timed(call)
		} else {
			dc, df = timed(call), timed(floor)
		}
		sumFloor += df
		sumCall += dc
		ratios = append(ratios, float64(dc)/float64(df))
	}
	slices.Sort(ratios)
	n := float64(len(ratios))
	b.ReportMetric(float64(sumFloor.Nanoseconds())/n, "floor-ns/op")
	b.ReportMetric(float64(sumCall.Nanoseconds())/n, "call-ns/op")
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
}
