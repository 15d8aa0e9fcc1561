// Package retry holds the retry policy shared by every client in this module:
// which failures are retried, how long to wait between attempts, and how a
// caller observes the retries.
//
// The policy is safe by construction: a request that could have changed
// state (a POST) is retried only when it carries an Idempotency-Key, except
// after a rate-limit answer, which proves the server did not act.
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy configures retries. The zero value means "use Default()".
type Policy struct {
	// MaxRetries is how many times a failed attempt is retried (so at most
	// MaxRetries+1 attempts). Zero means the default; negative (see
	// Disabled) disables retries.
	MaxRetries int
	// WaitMin is the first backoff; each retry doubles it.
	WaitMin time.Duration
	// WaitMax caps the exponential backoff.
	WaitMax time.Duration
	// RetryAfterMax caps a server's Retry-After; a longer Retry-After is
	// waited for only this long.
	RetryAfterMax time.Duration
	// NoJitter turns off the jitter that spreads retries (a wait w becomes
	// a value in [w/2, w]); tests set it for exact waits.
	NoJitter bool
	// Sleep waits d or until ctx is done. Nil uses a timer. It is a hook
	// for tests that record each wait; a test that only needs the waits to
	// pass at once needs none: run it in a testing/synctest bubble, whose
	// fake time passes the timer at once. An activation's clients wait
	// through the activation's clock when it sleeps (truewatch's WithClock).
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, if set, is called before each wait.
	OnRetry func(Event)
}

// Default returns the policy the clients use unless told otherwise:
// 4 retries, 500ms doubling to at most 20s, Retry-After honoured up to 60s.
func Default() Policy {
	return Policy{MaxRetries: 4, WaitMin: 500 * time.Millisecond, WaitMax: 20 * time.Second, RetryAfterMax: 60 * time.Second}
}

// Disabled returns a policy that never retries.
func Disabled() Policy { return Policy{MaxRetries: -1} }

// Normalize fills zero fields from Default(), MaxRetries included (so
// Policy{WaitMax: 5 * time.Second} retries as often as the default, with
// shorter waits); a Policy with MaxRetries < 0 keeps retries disabled.
func (p Policy) Normalize() Policy {
	d := Default()
	switch {
	case p.MaxRetries == 0:
		p.MaxRetries = d.MaxRetries
	case p.MaxRetries < 0:
		p.MaxRetries = 0
	}
	if p.WaitMin <= 0 {
		p.WaitMin = d.WaitMin
	}
	if p.WaitMax <= 0 {
		p.WaitMax = d.WaitMax
	}
	if p.WaitMax < p.WaitMin {
		p.WaitMax = p.WaitMin
	}
	if p.RetryAfterMax <= 0 {
		p.RetryAfterMax = d.RetryAfterMax
	}
	return p
}

// Backoff returns the wait before retry number attempt (1 for the first
// retry). retryAfter, when positive, is the server's Retry-After and wins
// over the exponential backoff, capped at RetryAfterMax. Zero fields take
// their Default() values, as in Normalize.
func (p Policy) Backoff(attempt int, retryAfter time.Duration) time.Duration {
	p = p.Normalize()
	if retryAfter > 0 {
		return min(retryAfter, p.RetryAfterMax)
	}
	if attempt < 1 {
		attempt = 1
	}
	w := p.WaitMin
	for i := 1; i < attempt && w < p.WaitMax; i++ {
		w *= 2
	}
	w = min(w, p.WaitMax)
	if !p.NoJitter && w > 1 {
		half := w / 2
		w = half + rand.N(w-half+1)
	}
	return w
}

// Wait sleeps d through p.Sleep, or a timer that stops when ctx is done.
func (p Policy) Wait(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Event describes one retry about to happen.
type Event struct {
	Service   string        // "billing", "workspace", "huawei-bss", ...
	Operation string        // the client method, e.g. "BindWorkspace"
	Attempt   int           // the attempt that failed, from 1
	Reason    string        // why: "HTTP 503", "rate limited (ft.TriggerApiAkCurrentLimiting)", "connection error: ..."
	Wait      time.Duration // how long until the next attempt
}

type observerKey struct{}

// WithObserver returns a context whose calls report retries to fn, in
// addition to the client's Policy.OnRetry. The activation builder uses it to
// tag retries with the step they belong to.
func WithObserver(ctx context.Context, fn func(Event)) context.Context {
	if fn == nil {
		return ctx
	}
	if prev, ok := ctx.Value(observerKey{}).(func(Event)); ok {
		next := fn
		fn = func(e Event) { prev(e); next(e) }
	}
	return context.WithValue(ctx, observerKey{}, fn)
}

// Notify reports e to the policy's OnRetry and to the context's observers.
func (p Policy) Notify(ctx context.Context, e Event) {
	if p.OnRetry != nil {
		p.OnRetry(e)
	}
	if fn, ok := ctx.Value(observerKey{}).(func(Event)); ok {
		fn(e)
	}
}
