package truewatch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// DefaultLeaseTTL is how long the lease of a Run lasts unless renewed; Run
// renews it every third of its TTL while it works.
const DefaultLeaseTTL = 30 * time.Second

// defaultLeaseOwner names a Run that was given no WithLeaseOwner: the host,
// the process and a random suffix, so that two Runs never share a name.
func defaultLeaseOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])
}

// leaseKeeper holds the lease of one Run: it renews it in the background
// (a timer, so a Run shorter than a third of the TTL starts no goroutine)
// and, once the store says it is lost, cancels the run's context so that
// waits and calls in progress stop.
type leaseKeeper struct {
	ctx    context.Context // the run's, ending when the lease is lost
	store  Store
	ttl    time.Duration
	log    *slog.Logger
	cancel context.CancelCauseFunc
	timer  *time.Timer

	mu       sync.Mutex
	lease    Lease
	lost     *LeaseLostError
	released bool
}

// claimLease claims the activation's lease for the run, waiting up to
// WithLeaseWait while another owner holds it, and starts renewing it. The
// lease's context, under which the run goes on, ends when it is lost.
func (r *runner) claimLease(ctx context.Context) error {
	owner, ttl := r.a.leaseOwner, r.a.leaseTTL
	if owner == "" {
		owner = defaultLeaseOwner()
	}
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	until := time.Now().Add(r.a.leaseWait)
	poll := 25 * time.Millisecond // doubling up to a second: a holder that finishes is noticed soon
	for attempt := 1; ; attempt++ {
		l, err := r.store.Claim(ctx, r.id, owner, ttl)
		var held *LeaseHeldError
		if err == nil {
			lctx, cancel := context.WithCancelCause(ctx)
			k := &leaseKeeper{ctx: lctx, store: r.store, ttl: ttl, log: r.log, cancel: cancel, lease: l}
			k.mu.Lock()
			k.timer = time.AfterFunc(ttl/3, k.tick)
			k.mu.Unlock()
			r.lease = k
			return nil
		}
		if !errors.As(err, &held) || !time.Now().Before(until) {
			return err
		}
		wait := min(max(time.Until(held.ExpiresAt), time.Millisecond), time.Until(until), poll)
		poll = min(2*poll, time.Second)
		reason := fmt.Sprintf("activation leased to %q until %s; waiting", held.Owner, held.ExpiresAt.UTC().Format(time.RFC3339))
		r.emit(Event{Type: Retrying, Step: StepCheckSubscription, Attempt: attempt, Reason: reason, Wait: wait})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// tick renews the lease, every third of its TTL until release or loss. A
// renewal the store could not answer is tried again at the next tick; the
// lease counts as lost only when the store says so.
func (k *leaseKeeper) tick() {
	if k.ctx.Err() != nil {
		return
	}
	if err := k.renew(k.ctx); errors.Is(err, ErrLeaseLost) {
		return
	} else if err != nil {
		k.log.LogAttrs(k.ctx, slog.LevelWarn, "activation lease not renewed", slog.String("activation", k.lease.ActivationID),
			slog.String("error", err.Error()))
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.released {
		k.timer.Reset(k.ttl / 3)
	}
}

// renew renews the lease now. Run calls it before every change, so that a
// change starts with a whole TTL ahead and never after the lease was lost.
func (k *leaseKeeper) renew(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lost != nil {
		return k.lost
	}
	if k.released {
		return nil // a tick that raced the release
	}
	l, err := k.store.Renew(ctx, k.lease, k.ttl)
	var lost *LeaseLostError
	switch {
	case errors.As(err, &lost):
		k.lost = lost
		k.cancel(lost)
		return lost
	case err != nil:
		return &StoreError{Op: "renew lease", ActivationID: k.lease.ActivationID, Err: err}
	}
	k.lease = l
	return nil
}

// lostErr is the *LeaseLostError once the lease was lost.
func (k *leaseKeeper) lostErr() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lost == nil {
		return nil
	}
	return k.lost
}

// release stops the renewals and releases the lease, even when ctx was
// cancelled: the next run need not wait for it to expire.
func (k *leaseKeeper) release(ctx context.Context) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.released = true
	k.timer.Stop()
	k.cancel(nil)
	if k.lost != nil {
		return
	}
	if err := k.store.Release(context.WithoutCancel(ctx), k.lease); err != nil {
		k.log.LogAttrs(ctx, slog.LevelWarn, "activation lease not released; it ends at its expiry",
			slog.String("activation", k.lease.ActivationID), slog.String("error", err.Error()))
	}
}
