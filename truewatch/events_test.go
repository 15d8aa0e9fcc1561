package truewatch_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// assertStepEvents checks that every step starts, then ends once, finished
// or failed, before the next step starts (skipped steps only say so), that
// retries and code requests happen inside a started step, and that a run
// that failed ends with its step's StepFailed.
func assertStepEvents(t *testing.T, events []truewatch.Event, runErr error) {
	t.Helper()
	var open truewatch.StepName
	var trace []string
	for _, ev := range events {
		trace = append(trace, fmt.Sprintf("%s:%s", ev.Type, ev.Step))
		switch ev.Type {
		case truewatch.StepStarted:
			require.Empty(t, open, "%s started while %s is open: %v", ev.Step, open, trace)
			open = ev.Step
		case truewatch.StepFinished, truewatch.StepFailed:
			require.Equal(t, open, ev.Step, "ends a step that is not open: %v", trace)
			open = ""
		case truewatch.StepSkipped:
			require.Empty(t, open, "skipped inside a step: %v", trace)
		case truewatch.Retrying, truewatch.CodeRequested:
			require.Equal(t, open, ev.Step, "outside its step: %v", trace)
		}
	}
	assert.Empty(t, open, "a step never ended: %v", trace)
	if runErr != nil {
		require.NotEmpty(t, events)
		last := events[len(events)-1]
		assert.Equal(t, truewatch.StepFailed, last.Type, "a failed run ends with StepFailed: %v", trace)
		var se *truewatch.StepError
		require.ErrorAs(t, runErr, &se)
		assert.Equal(t, se.Step, last.Step)
	}
}

func TestEventsAreOrderedInEveryBranch(t *testing.T) {
	for _, b := range branches {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t)
			wsID := b.seed(e)
			e.loseChangeResponses(b)
			_, err := b.build(e.builder(), wsID).Run(context.Background())
			require.NoError(t, err)
			assertStepEvents(t, e.events, nil)

			e.events = nil
			_, err = b.build(e.builder(), wsID).Run(context.Background())
			require.NoError(t, err)
			assert.Positive(t, countEvents(e.events, truewatch.StepSkipped))
			assertStepEvents(t, e.events, nil)
		})
	}
	t.Run("refused after reading the subscription", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.checker().Run(context.Background())
		require.ErrorIs(t, err, truewatch.ErrNeedsBranch)
		assertStepEvents(t, e.events, err)

		e = newEnv(t)
		require.NoError(t, e.srv.SetPurchaseStatus(mockserver.DemoInstanceID, mockserver.PurchaseFrozen))
		_, err = e.builder().WithInstanceID(mockserver.DemoInstanceID).Register(registerInfo()).Run(context.Background())
		require.ErrorIs(t, err, truewatch.ErrSubscriptionInactive)
		assertStepEvents(t, e.events, err)
	})
	t.Run("failed change step", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.builder().WithCodes(func(context.Context, truewatch.CodeRequest) (secret.String, error) { return "000000", nil }).
			Register(registerInfo()).Run(context.Background())
		require.Error(t, err)
		assertStepEvents(t, e.events, err)
	})
}
