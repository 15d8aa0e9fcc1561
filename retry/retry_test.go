package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/retry"
)

func TestNormalize(t *testing.T) {
	assert.Equal(t, retry.Default(), retry.Policy{}.Normalize(), "the zero value is the default")
	d := retry.Default()
	assert.Equal(t, 4, d.MaxRetries)
	assert.Equal(t, 500*time.Millisecond, d.WaitMin)
	assert.Equal(t, 20*time.Second, d.WaitMax)
	assert.Equal(t, time.Minute, d.RetryAfterMax)

	p := retry.Disabled().Normalize()
	assert.Equal(t, 0, p.MaxRetries, "negative disables")

	p = retry.Policy{NoJitter: true}.Normalize()
	assert.Equal(t, 4, p.MaxRetries, "only flags set: default retries")
	assert.True(t, p.NoJitter)

	p = retry.Policy{WaitMin: 2 * time.Second, WaitMax: time.Second}.Normalize()
	assert.Equal(t, 4, p.MaxRetries, "an unset MaxRetries is the default's, whatever else is set")
	assert.Equal(t, 2*time.Second, p.WaitMax, "WaitMax is raised to WaitMin")

	p = retry.Policy{MaxRetries: -1, WaitMax: 5 * time.Second}.Normalize()
	assert.Equal(t, 0, p.MaxRetries, "only a negative MaxRetries disables retries")

	p = retry.Policy{MaxRetries: 2, WaitMin: -time.Second}.Normalize()
	assert.Equal(t, d.WaitMin, p.WaitMin)
	assert.Equal(t, d.RetryAfterMax, p.RetryAfterMax)
}

func TestBackoffExact(t *testing.T) {
	p := retry.Policy{MaxRetries: 10, WaitMin: 100 * time.Millisecond, WaitMax: time.Second, RetryAfterMax: 5 * time.Second, NoJitter: true}
	want := []time.Duration{100, 100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		assert.Equal(t, w*time.Millisecond, p.Backoff(i, 0), "attempt %d", i)
	}
	assert.Equal(t, time.Second, p.Backoff(1000, 0), "no overflow on huge attempts")
}

func TestBackoffJitterBounds(t *testing.T) {
	p := retry.Policy{MaxRetries: 10, WaitMin: 100 * time.Millisecond, WaitMax: time.Second, RetryAfterMax: 5 * time.Second}
	for attempt := 1; attempt <= 6; attempt++ {
		full := p
		full.NoJitter = true
		hi := full.Backoff(attempt, 0)
		seen := map[time.Duration]bool{}
		for range 200 {
			w := p.Backoff(attempt, 0)
			require.GreaterOrEqual(t, w, hi/2, "attempt %d", attempt)
			require.LessOrEqual(t, w, hi, "attempt %d", attempt)
			seen[w] = true
		}
		assert.Greater(t, len(seen), 1, "jitter varies the wait")
	}
}

func TestBackoffRetryAfter(t *testing.T) {
	p := retry.Policy{WaitMin: 100 * time.Millisecond, WaitMax: time.Second, RetryAfterMax: 5 * time.Second}
	assert.Equal(t, 3*time.Second, p.Backoff(1, 3*time.Second), "Retry-After wins and is not jittered")
	assert.Equal(t, 5*time.Second, p.Backoff(1, time.Hour), "Retry-After is capped")
	assert.Equal(t, 2*time.Second, p.Backoff(4, 2*time.Second), "Retry-After wins over a larger backoff too")
	np := p
	np.NoJitter = true
	assert.Equal(t, 100*time.Millisecond, np.Backoff(1, -time.Second), "a negative Retry-After is ignored")
}

func TestWait(t *testing.T) {
	var got []time.Duration
	p := retry.Policy{Sleep: func(_ context.Context, d time.Duration) error {
		got = append(got, d)
		return nil
	}}
	require.NoError(t, p.Wait(context.Background(), time.Hour))
	assert.Equal(t, []time.Duration{time.Hour}, got, "the injected sleeper is used")

	boom := errors.New("boom")
	p.Sleep = func(context.Context, time.Duration) error { return boom }
	assert.ErrorIs(t, p.Wait(context.Background(), time.Second), boom)

	var real retry.Policy
	assert.NoError(t, real.Wait(context.Background(), 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, real.Wait(ctx, time.Hour), context.Canceled, "a cancelled context ends a long wait at once")
	assert.ErrorIs(t, real.Wait(ctx, 0), context.Canceled)
	assert.NoError(t, real.Wait(context.Background(), time.Microsecond))
}

func TestNotifyAndObservers(t *testing.T) {
	var order []string
	p := retry.Policy{OnRetry: func(e retry.Event) { order = append(order, "policy:"+e.Operation) }}
	ctx := retry.WithObserver(context.Background(), func(e retry.Event) { order = append(order, "outer:"+e.Reason) })
	ctx = retry.WithObserver(ctx, func(e retry.Event) { order = append(order, "inner") })
	assert.Equal(t, ctx, retry.WithObserver(ctx, nil), "a nil observer changes nothing")

	p.Notify(ctx, retry.Event{Operation: "Register", Reason: "HTTP 503"})
	assert.Equal(t, []string{"policy:Register", "outer:HTTP 503", "inner"}, order)

	order = nil
	retry.Policy{}.Notify(context.Background(), retry.Event{})
	assert.Empty(t, order)
}

func TestBackoffOfAnUnnormalizedPolicyUsesTheDefaults(t *testing.T) {
	// The zero value means Default(): its Backoff must not wait 0 or drop
	// the server's Retry-After.
	assert.Equal(t, time.Minute, retry.Policy{}.Backoff(1, time.Hour), "Retry-After capped at the default cap")
	assert.Equal(t, 2*time.Second, retry.Policy{}.Backoff(1, 2*time.Second))
	assert.Equal(t, 500*time.Millisecond, retry.Policy{NoJitter: true}.Backoff(1, 0))
	assert.Equal(t, 20*time.Second, retry.Policy{NoJitter: true}.Backoff(30, 0))
}
