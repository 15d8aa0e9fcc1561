package truewatch

import "time"

// EventType says what happened.
type EventType string

// The event types.
const (
	// StepStarted: a step begins.
	StepStarted EventType = "step_started"
	// StepFinished: a step succeeded.
	StepFinished EventType = "step_finished"
	// StepFailed: a step failed; Err says why.
	StepFailed EventType = "step_failed"
	// StepSkipped: a step was not needed; Reason says why.
	StepSkipped EventType = "step_skipped"
	// Retrying: a call is about to be retried after Wait; Reason says why.
	// Waits for a verification code to be sendable again are reported the
	// same way.
	Retrying EventType = "retrying"
	// CodeRequested: the CodeProvider is asked for a verification code.
	CodeRequested EventType = "code_requested"
)

// Event reports the progress of Run. Events never carry a secret.
type Event struct {
	Type EventType
	// Step is the step the event belongs to.
	Step StepName
	// Attempt counts retries (Retrying) or code requests (CodeRequested),
	// from 1.
	Attempt int
	// Reason explains a retry, a skip or a code request.
	Reason string
	// Wait is how long until the next attempt (Retrying).
	Wait time.Duration
	// Err is the failure (StepFailed).
	Err error
}
