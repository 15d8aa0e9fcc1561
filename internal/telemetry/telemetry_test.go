package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
)

func TestErrorType(t *testing.T) {
	for want, err := range map[string]error{
		"":                           nil,
		"canceled":                   fmt.Errorf("step: %w", context.Canceled),
		"deadline_exceeded":          &apierror.Error{Err: context.DeadlineExceeded},
		"ft.InvalidVerificationCode": fmt.Errorf("x: %w", &apierror.Error{HTTPStatus: 400, ErrorCode: "ft.InvalidVerificationCode"}),
		"APIGW.0308":                 &apierror.Error{HTTPStatus: 429, ErrorCode: "APIGW.0308"},
		"transport":                  &apierror.Error{Err: fmt.Errorf("%w: refused", apierror.ErrTransport)},
		"malformed_response":         &apierror.Error{HTTPStatus: 200, Err: apierror.ErrMalformedResponse},
		"validation":                 (&apierror.Problems{{Field: "f", Message: "bad"}}).Err("Op"),
		"502":                        &apierror.Error{HTTPStatus: 502},
		"*errors.errorString":        errors.New("plain"),
	} {
		assert.Equal(t, want, telemetry.ErrorType(err), "%v", err)
	}
}

func TestErrorAttributes(t *testing.T) {
	err := fmt.Errorf("step: %w", &apierror.Error{HTTPStatus: 409, ErrorCode: "ft.AlreadyBound", RequestID: "req-1", TraceID: "TRACE-1", Message: "m"})
	assert.Equal(t, []attribute.KeyValue{semconv.ErrorTypeKey.String("ft.AlreadyBound"), telemetry.ErrorCode.String("ft.AlreadyBound"),
		telemetry.RequestID.String("req-1"), telemetry.ResponseTraceID.String("TRACE-1")}, telemetry.ErrorAttributes(err))
	assert.Nil(t, telemetry.ErrorAttributes(nil))
}
