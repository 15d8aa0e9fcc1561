// Package twcore is the one client core of the TrueWatch APIs, under the
// billing and workspace clients: the settings their options fill (one
// option set, defined in package twapi), the per-call settings their
// request options fill, and the sender every call goes through (validation
// first, the request's wire form, the HTTP core of internal/httpcore).
//
// A client keeps only what is its own: billing its base URL and its proofs
// of ownership, workspace its sites. Their own options and request options
// are made with Own and OwnCall, which refuse to be given to another client.
package twcore

import (
	"context"
	"net/http"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
)

// Settings is what a client's options fill before its NewClient builds it.
type Settings struct {
	// Constructor names the NewClient applying the options
	// ("billing.NewClient"), for errors.
	Constructor string
	// HTTP configures the HTTP core: client, logger, retry policy, User-Agent.
	// The constructor sets Service and BaseURL.
	HTTP httpcore.Config
	// own is the client's own settings, set by its options made with Own.
	own any
}

// Apply applies opts to fresh settings of the constructor (for example
// "billing.NewClient") of the service ("billing"), with own as the client's
// own settings (a pointer, or nil when the client has none). It returns the
// problems of every option that refused, in order; nil options are skipped.
func Apply[O ~func(*Settings) error](constructor, service string, own any, opts []O) (*Settings, apierror.Problems) {
	s := &Settings{Constructor: constructor, HTTP: httpcore.Config{Service: service}, own: own}
	return s, httpcore.ApplyOptions(s, opts)
}

// Own makes an option of one client: set receives that client's own
// settings (the *T given to Apply). Given to another client's NewClient,
// the option is refused by name.
func Own[T any](owner, option string, set func(*T) error) func(*Settings) error {
	return func(s *Settings) error {
		t, ok := s.own.(*T)
		if !ok || t == nil {
			return httpcore.BadOption(option, "is an option of %s, not of %s", owner, s.Constructor)
		}
		return set(t)
	}
}

// Call is what a call's request options fill before it is sent.
type Call struct {
	opts     httpcore.CallOptions
	own      any
	problems apierror.Problems
}

// SetIdempotencyKey records the caller's Idempotency-Key; an empty or
// malformed one is refused before anything is sent.
func (c *Call) SetIdempotencyKey(key string) { c.opts.SetIdempotencyKey(key) }

// SetCallInfo records where the call's CallInfo goes when it returns.
func (c *Call) SetCallInfo(info *httpcore.CallInfo) { c.opts.SetCallInfo(info) }

// NewCall applies a call's request options, with own as the client's own
// per-call settings (a pointer, or nil). Nil options are skipped.
func NewCall[O ~func(*Call)](own any, opts []O) *Call {
	c := &Call{own: own}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	return c
}

// OwnCall makes a request option of one client (owner, "billing"): set
// receives that client's own per-call settings (the *T given to NewCall).
// Given to another client's call, the option makes the call fail
// validation, naming the option, before anything is sent.
func OwnCall[T any](owner, option string, set func(*T)) func(*Call) {
	return func(c *Call) {
		t, ok := c.own.(*T)
		if !ok || t == nil {
			c.problems.Add(option, "is a request option of the %s client only", owner)
			return
		}
		set(t)
	}
}

// Send sends req through core with the call's options, unless invalid (the
// problems the client found in the caller's input) or a request option of
// another client makes the call invalid; then nothing is sent. It decodes
// the answer into out and returns the page info of list calls.
func (c *Call) Send(ctx context.Context, core *httpcore.Client, req httpcore.Request, invalid error, out any) (*httpcore.PageInfo, error) {
	if len(c.problems) > 0 {
		invalid = Join(req.Operation, invalid, c.problems)
	}
	return core.Call(ctx, req, out, invalid, c.opts)
}

// Join adds problems to invalid, the validation result of operation op: one
// *apierror.ValidationError listing both. An invalid that is not a
// validation error is returned as it is.
func Join(op string, invalid error, problems apierror.Problems) error {
	var p apierror.Problems
	if invalid != nil {
		ve, ok := invalid.(*apierror.ValidationError)
		if !ok {
			return invalid
		}
		p = append(p, ve.Problems...)
	}
	p = append(p, problems...)
	return p.Err(op)
}

// Post validates req (a nil req is a problem, not a panic), adding the
// problems the caller already found (a missing token), and returns the POST
// to path and the validation result. A valid request gets the body wire
// makes (nil: req itself); an invalid one gets none, and is never sent.
//
// Requests hold their secrets as secret.String, which redacts itself in
// JSON, fmt and slog, however the value is nested. Only the body the core
// encodes carries them: the wire form of a request with secrets is an
// unexported struct its client builds at send time, whose secret fields are
// plain strings. Embedding a pointer to the request keeps every other
// field's encoding, and the outer fields, being shallower, win over the
// embedded secret ones.
func Post[In any, P httpcore.Validator[In]](op, path string, found apierror.Problems, req P, wire func() any) (httpcore.Request, error) {
	invalid := httpcore.Check(op, found, req)
	hr := httpcore.Request{Operation: op, Method: http.MethodPost, Path: path}
	if invalid == nil {
		if wire != nil {
			hr.Body = wire()
		} else {
			hr.Body = req
		}
	}
	return hr, invalid
}
