package mockserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// The mock's ManualClock is also the activation's clock (truewatch.Clock),
// and its Sleep is a wait that moves it on at once.
func TestManualClock_Sleep(t *testing.T) {
	start := time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC)
	c := mockserver.NewManualClock(start)
	var _ truewatch.Clock = c

	require.NoError(t, c.Sleep(context.Background(), 90*time.Second))
	assert.Equal(t, start.Add(90*time.Second), c.Now())
	require.NoError(t, c.Sleep(context.Background(), -time.Second), "a negative wait is no wait")
	assert.Equal(t, start.Add(90*time.Second), c.Now())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, c.Sleep(ctx, time.Hour), context.Canceled)
	assert.Equal(t, start.Add(90*time.Second), c.Now(), "a cancelled wait does not move the clock")

	srv := mockserver.Start(t, mockserver.WithClock(c), mockserver.WithoutListener())
	assert.Same(t, c, srv.Clock())
	assert.Equal(t, c.Now(), srv.Now())
}
