package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
)

// Exchange is one JSON round trip as a client made it: what a floor
// replays.
type Exchange struct {
	Method, Path string
	Body         []byte // the request body; nil for none
	Status       int
	Answer       []byte // the response body
}

// Recording is a RoundTripper that records the exchanges it carries.
type Recording struct {
	Next http.RoundTripper
	mu   sync.Mutex
	ex   []Exchange
}

// RoundTrip implements http.RoundTripper.
func (t *Recording) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := t.Next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	answer, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	t.mu.Lock()
	t.ex = append(t.ex, Exchange{Method: r.Method, Path: r.URL.Path, Body: body, Status: resp.StatusCode, Answer: answer})
	t.mu.Unlock()
	return resp, nil
}

// Take returns the exchanges recorded so far and forgets them.
func (t *Recording) Take() []Exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	ex := t.ex
	t.ex = nil
	return ex
}

// BareHandler is the floor of a JSON service: net/http and encoding/json
// alone. It decodes a request's JSON body, if any, and answers the
// Answer of the exchange with the request's method and path.
func BareHandler(exchanges []Exchange) http.Handler {
	answers := map[string]Exchange{}
	for _, e := range exchanges {
		answers[e.Method+" "+e.Path] = e
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			var v any
			if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		e, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.Status)
		_, _ = w.Write(e.Answer)
	})
}

// BareRoundTrip is the client half of the floor: it sends e to base with
// hc and decodes the JSON answer.
func BareRoundTrip(ctx context.Context, hc *http.Client, base string, e Exchange) error {
	var body io.Reader
	if e.Body != nil {
		body = bytes.NewReader(e.Body)
	}
	req, err := http.NewRequestWithContext(ctx, e.Method, base+e.Path, body)
	if err != nil {
		return err
	}
	if e.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return err
	}
	if resp.StatusCode != e.Status {
		return fmt.Errorf("bare %s %s: status %d, want %d", e.Method, e.Path, resp.StatusCode, e.Status)
	}
	return nil
}

// HandlerTransport calls a handler in-process, as a server built without
// a listener is called: the floor of an in-memory round trip.
type HandlerTransport struct{ H http.Handler }

// RoundTrip implements http.RoundTripper.
func (t HandlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		defer func() { _ = r.Body.Close() }()
	}
	rec := httptest.NewRecorder()
	t.H.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// HeapInUse is the live heap after a full collection, for benchmarks
// that report bytes held per item: the difference of two readings.
func HeapInUse() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's finalizers let go
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
