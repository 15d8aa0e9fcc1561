package truewatch_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// countingTransport counts the requests it carries, by path.
type countingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.URL.Path]++
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

// take returns the counts so far and starts again.
func (c *countingTransport) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// TestPlanRunRepeatsNoLookup: running a Plan makes no IAM or BSS request
// (the account and instance IDs are the plan's) and reads the subscription
// once more, before the change; every branch ends as Run ends it, with its
// events in order. Running the plan again finds the activation done.
func TestPlanRunRepeatsNoLookup(t *testing.T) {
	for _, b := range branches {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t)
			wsID := b.seed(e)
			ct := &countingTransport{base: e.srv.HTTPClient().Transport, n: map[string]int{}}
			a := b.build(e.builder().WithHTTPClient(&http.Client{Transport: ct}), wsID)

			plan, err := a.Plan(context.Background())
			require.NoError(t, err)
			n := ct.take()
			assert.Equal(t, 1, n[iamPath], "Plan looks the account up")
			assert.Equal(t, 1, n[bssPath], "Plan looks the instance up")
			assert.Equal(t, 1, n[subPath])

			res, err := plan.Run(context.Background())
			require.NoError(t, err)
			n = ct.take()
			assert.Zero(t, n[iamPath], "Plan.Run repeats no IAM look-up")
			assert.Zero(t, n[bssPath], "Plan.Run repeats no BSS look-up")
			assert.Equal(t, 1, n[subPath], "the subscription is read again before the change")
			for _, p := range b.posts {
				assert.Positive(t, n[p], p)
			}
			assertOneOutcome(t, e, b, res)
			assert.Equal(t, plan.Steps, asPlanned(t, plan.Steps, res.Steps), "Plan.Run did what the plan said")
			assertStepEvents(t, e.events, nil)
			assert.NotContains(t, e.events, truewatch.Event{Type: truewatch.StepStarted, Step: truewatch.StepResolveAccountID})

			// Run, for comparison, looks both IDs up again.
			_, err = a.Run(context.Background())
			require.NoError(t, err)
			n = ct.take()
			assert.Equal(t, 1, n[iamPath])
			assert.Equal(t, 1, n[bssPath])

			e.events = nil
			again, err := plan.Run(context.Background())
			require.NoError(t, err)
			assert.True(t, again.AlreadyActivated)
			assert.Equal(t, res.WorkspaceID, again.WorkspaceID)
			assertOneOutcome(t, e, b, again)
			assert.Positive(t, countEvents(e.events, truewatch.StepSkipped))
			assertStepEvents(t, e.events, nil)
		})
	}
}
