// Package exchlog keeps what a validating test transport saw: the
// exchanges it passed and the problems it found. The contract tests of
// the API (api) and of the control plane (internal/ctlcontract) share it.
package exchlog

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
)

// Log is a list of exchanges of type E and of problems; its zero value is
// ready, and it is safe for concurrent use.
type Log[E any] struct {
	mu       sync.Mutex
	entries  []E
	problems []string
}

// Add records an exchange.
func (l *Log[E]) Add(e E) {
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.mu.Unlock()
}

// Fail records err as a problem; a nil err is none.
func (l *Log[E]) Fail(err error) {
	if err == nil {
		return
	}
	l.mu.Lock()
	l.problems = append(l.problems, err.Error())
	l.mu.Unlock()
}

// Problems returns every problem recorded so far.
func (l *Log[E]) Problems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.problems)
}

// Entries returns every exchange recorded so far.
func (l *Log[E]) Entries() []E {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// Send sends req through next and reads the answer's body, which it also
// puts back in the response for the caller. reqErr is what validating req
// found, recorded if the request could not be sent. ok is false when
// there is no body to validate: the request failed (err, passed on) or
// the body could not be read (a problem recorded).
func (l *Log[E]) Send(next http.RoundTripper, req *http.Request, reqErr error) (resp *http.Response, body []byte, ok bool, err error) {
	resp, err = next.RoundTrip(req)
	if err != nil {
		l.Fail(reqErr)
		return nil, nil, false, err
	}
	body, err = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		l.Fail(fmt.Errorf("%s %s: read response: %w", req.Method, req.URL.Path, err))
		return resp, nil, false, nil
	}
	return resp, body, true, nil
}
