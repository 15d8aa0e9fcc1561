package truewatch_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

// threeWaits makes an activation of srv's demo purchase wait three times:
// a 503 with Retry-After 20 s on the registration (the billing client's
// retry waits), a first code that expires while the customer takes 11
// minutes (pass, which sleeps or moves a clock), and a resend the Billing
// Center refuses with Retry-After 37 s (the activation waits). It returns
// the code provider.
func threeWaits(t *testing.T, srv *mockserver.Server, pass func(time.Duration)) truewatch.CodeProvider {
	t.Helper()
	_, err := srv.InjectFault(mockserver.Fault{Operation: "billing.Register", Status: http.StatusServiceUnavailable,
		RetryAfter: 20 * time.Second})
	require.NoError(t, err)
	_, err = srv.InjectFault(mockserver.Fault{Operation: "billing.SendVerificationCode", Skip: 1,
		Status: http.StatusTooManyRequests, ErrorCode: apierror.CodeCodeResendTooSoon, RetryAfter: 37 * time.Second})
	require.NoError(t, err)
	outbox := truewatch.CodesFromOutbox(srv)
	return func(ctx context.Context, req truewatch.CodeRequest) (secret.String, error) {
		if req.Attempt == 1 {
			pass(11 * time.Minute)
		}
		return outbox(ctx, req)
	}
}

// TestSynctest_NoClockInjected runs an activation that must wait three
// times, in a testing/synctest bubble with nothing injected: no fake clock,
// no retry sleeper, the mock on its default clock. The bubble's fake time
// passes every wait at once: a 503 with Retry-After retried by the billing
// client, a code left to expire (the code provider sleeps 11 minutes), and
// the resend the Billing Center then refuses with a Retry-After the
// activation waits out. The mock, built WithoutListener so that every
// goroutine stays in the bubble, sees the same fake time, so the code
// really expires and the resend interval really passes.
func TestSynctest_NoClockInjected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := mockserver.Start(t, mockserver.WithoutListener())
		codes := threeWaits(t, srv, time.Sleep) // the customer is slow: the first code expires
		var waits []time.Duration
		start := time.Now()
		// The ready activation sets no clock of its own: it takes the mock's,
		// the system clock, whose time in the bubble is the bubble's.
		res, err := truewatchtest.Activation(srv).
			WithSite(truewatch.SiteUS1).
			WithCodes(codes).
			WithEvents(func(ev truewatch.Event) {
				if ev.Type == truewatch.Retrying {
					waits = append(waits, ev.Wait)
				}
			}).
			Register(registerInfo()).
			Run(context.Background())
		elapsed := time.Since(start)
		require.NoError(t, err)
		assert.NotEmpty(t, res.WorkspaceID)
		assert.Equal(t, []int{1, 1}, srv.FaultHits(), "both faults fired")
		assert.Len(t, srv.OutboxFor(adaEmail), 2, "the expired code was replaced")
		assert.Equal(t, []time.Duration{20 * time.Second, 37 * time.Second}, waits,
			"the client's retry waited the 503's Retry-After, the activation the refused resend's")
		assert.Equal(t, 11*time.Minute+57*time.Second, elapsed, "fake time: every wait, exactly")
		sub, ok := srv.Subscription(mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
		require.True(t, ok)
		assert.True(t, sub.Activated())
	})
}

// TestManualClock_DoesEveryWait: where a clock must be injected (a mock in
// another goroutine's real time, a date to test against), one option does
// it. The mock's ManualClock given to both the mock and WithClock makes
// every wait, the billing client's retry included, move that one clock on
// at once instead of sleeping.
func TestManualClock_DoesEveryWait(t *testing.T) {
	clock := mockserver.NewManualClock(time.Now().UTC())
	srv := mockserver.Start(t, mockserver.WithClock(clock))
	codes := threeWaits(t, srv, clock.Advance) // the first code expires
	before, realStart := clock.Now(), time.Now()
	res, err := truewatchtest.Activation(srv).
		WithClock(clock). // truewatchtest gives it srv.Clock() already; this is the one option
		WithSite(truewatch.SiteUS1).
		WithCodes(codes).
		Register(registerInfo()).
		Run(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, res.WorkspaceID)
	assert.Equal(t, []int{1, 1}, srv.FaultHits())
	assert.Equal(t, 11*time.Minute+57*time.Second, clock.Now().Sub(before), "the waits moved the clock")
	assert.Less(t, time.Since(realStart), 15*time.Second, "and nothing slept 57 s")
}
