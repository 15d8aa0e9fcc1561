package apierror_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *apierror.Error
		want string
	}{
		{"everything", &apierror.Error{Service: "billing", Operation: "BindWorkspace", HTTPStatus: 409, ErrorCode: apierror.CodeAlreadyBound,
			Message: "workspace already bound", TraceID: "TRACE-1", RequestID: "req-1", Attempts: 3},
			"billing: BindWorkspace: HTTP 409 ft.AlreadyBound: workspace already bound (traceId TRACE-1) (requestId req-1) after 3 attempts"},
		{"one attempt is not mentioned", &apierror.Error{Service: "workspace", Operation: "GetWorkspace", HTTPStatus: 404, Attempts: 1},
			"workspace: GetWorkspace: HTTP 404"},
		{"no response shows the cause", &apierror.Error{Service: "billing", Operation: "GetBinding", Attempts: 5, Err: errors.New("connection refused")},
			"billing: GetBinding: no response: connection refused after 5 attempts"},
		{"message wins over cause", &apierror.Error{HTTPStatus: 200, Message: "malformed response body", Err: errors.New("unexpected EOF")},
			"HTTP 200: malformed response body"},
		{"bare", &apierror.Error{}, "no response"},
		{"a conclusion is not 'no response'", &apierror.Error{Service: "billing", Operation: "AllBindableWorkspaces",
			Err: &apierror.PagingError{Unit: "page", Asked: 2, Got: 1}},
			"billing: AllBindableWorkspaces: inconsistent paging: asked for page 2, got page 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
}

func TestUnwrap(t *testing.T) {
	cause := context.DeadlineExceeded
	err := fmt.Errorf("step: %w", &apierror.Error{Err: cause})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, cause, apiErr.Unwrap())
}

func TestIsMatrix(t *testing.T) {
	all := map[string]error{
		"NotFound": apierror.ErrNotFound, "RateLimited": apierror.ErrRateLimited, "Unauthorized": apierror.ErrUnauthorized,
		"Forbidden": apierror.ErrForbidden, "InvalidCode": apierror.ErrInvalidCode, "CodeExpired": apierror.ErrCodeExpired,
		"AlreadyBound": apierror.ErrAlreadyBound, "NameTaken": apierror.ErrNameTaken, "Validation": apierror.ErrValidation,
		"Conflict": apierror.ErrConflict, "IdempotencyKeyReused": apierror.ErrIdempotencyKeyReused,
		"ResendTooSoon": apierror.ErrResendTooSoon, "Server": apierror.ErrServer, "Transport": apierror.ErrTransport,
		"OwnershipProof": apierror.ErrOwnershipProof, "ProofRequired": apierror.ErrProofRequired,
		"ProofInvalid": apierror.ErrProofInvalid, "ProofAudience": apierror.ErrProofAudience,
		"ProofExpired": apierror.ErrProofExpired, "ProofReused": apierror.ErrProofReused,
		"ProofEndpoint": apierror.ErrProofEndpoint, "ProofAccountMismatch": apierror.ErrProofAccountMismatch,
		"ProofUnverifiable": apierror.ErrProofUnverifiable,
	}
	tests := []struct {
		status int
		code   string
		err    error
		want   []string
	}{
		{404, "", nil, []string{"NotFound"}},
		{400, apierror.CodeWorkspaceNotFound, nil, []string{"NotFound"}},
		{404, apierror.CodeHuaweiResourceNotFound, nil, []string{"NotFound"}},
		{429, "", nil, []string{"RateLimited"}},
		{429, apierror.CodeCodeResendTooSoon, nil, []string{"ResendTooSoon"}},
		{401, apierror.CodeAkRateLimited, nil, []string{"RateLimited"}},
		{401, apierror.CodeWorkspaceRateLimited, nil, []string{"RateLimited"}},
		{429, apierror.CodeHuaweiThrottled, nil, []string{"RateLimited"}},
		{401, "", nil, []string{"Unauthorized"}},
		{401, apierror.CodeHuaweiUnauthorized, nil, []string{"Unauthorized"}},
		{400, apierror.CodeTokenExpired, nil, []string{"Unauthorized"}},
		{403, apierror.CodeHuaweiAccessDenied, nil, []string{"Forbidden"}},
		{401, apierror.CodeHuaweiAccessDenied, nil, []string{"Unauthorized", "Forbidden"}},
		{401, apierror.CodeMarketplaceNoAuthority, nil, []string{"Unauthorized", "Forbidden"}},
		{406, apierror.CodeMarketplaceRateLimited, nil, []string{"RateLimited"}},
		{500, apierror.CodeMarketplaceNotFound, nil, []string{"NotFound", "Server"}},
		{500, apierror.CodeBillingNotFound, nil, []string{"NotFound", "Server"}},
		{400, apierror.CodeInvalidCode, nil, []string{"InvalidCode"}},
		{400, apierror.CodeCodeExpired, nil, []string{"CodeExpired"}},
		{409, apierror.CodeAlreadyBound, nil, []string{"AlreadyBound", "Conflict"}},
		{409, apierror.CodeSettlementLocked, nil, []string{"AlreadyBound", "Conflict"}},
		{409, apierror.CodeWorkspaceNameTaken, nil, []string{"NameTaken", "Conflict"}},
		{400, apierror.CodeTermsNotAccepted, nil, []string{"Validation"}}, // deprecated, still classified
		{415, apierror.CodeUnsupportedMediaType, nil, []string{"Validation"}},
		{400, apierror.CodeHuaweiInvalidParameter, nil, []string{"Validation"}},
		{400, apierror.CodeUnknownSite, nil, []string{"Validation"}},
		{409, apierror.CodeIdempotencyKeyInFlight, nil, []string{"Conflict"}},
		{409, apierror.CodeIdempotencyKeyReused, nil, []string{"IdempotencyKeyReused", "Conflict"}},
		{500, apierror.CodeHuaweiInternal, nil, []string{"Server"}},
		{503, "", nil, []string{"Server"}},
		{0, "", errors.New("dial tcp: refused"), []string{"Transport"}},
		{0, "", nil, nil},
		{0, "", fmt.Errorf("wait: %w", context.Canceled), nil},
		{0, "", context.DeadlineExceeded, []string{"Transport"}},
		{404, apierror.CodeRouteNotFound, nil, nil},
		{200, "", errors.New("unexpected EOF"), nil},
		{401, apierror.CodeProofRequired, nil, []string{"Unauthorized", "OwnershipProof", "ProofRequired"}},
		{401, apierror.CodeProofInvalid, nil, []string{"Unauthorized", "OwnershipProof", "ProofInvalid"}},
		{401, apierror.CodeProofAudience, nil, []string{"Unauthorized", "OwnershipProof", "ProofAudience"}},
		{401, apierror.CodeProofExpired, nil, []string{"Unauthorized", "OwnershipProof", "ProofExpired"}},
		{401, apierror.CodeProofReused, nil, []string{"Unauthorized", "OwnershipProof", "ProofReused"}},
		{401, apierror.CodeProofEndpoint, nil, []string{"Unauthorized", "OwnershipProof", "ProofEndpoint"}},
		{403, apierror.CodeProofAccountMismatch, nil, []string{"Forbidden", "OwnershipProof", "ProofAccountMismatch"}},
		{502, apierror.CodeProofUnverifiable, nil, []string{"Server", "OwnershipProof", "ProofUnverifiable"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.code), func(t *testing.T) {
			e := &apierror.Error{HTTPStatus: tt.status, ErrorCode: tt.code, Err: tt.err}
			for name, s := range all {
				want := false
				for _, w := range tt.want {
					want = want || w == name
				}
				assert.Equal(t, want, errors.Is(e, s), "Is(%s)", name)
			}
			assert.False(t, errors.Is(e, errors.New("not found")), "only the sentinels themselves match")
		})
	}
}

func TestValidationError(t *testing.T) {
	var p apierror.Problems
	assert.NoError(t, p.Err("Register"))
	p.Add("username", "is required")
	p.Add("password", "must be %d to %d characters", 8, 64)
	p.Add("", "request must not be nil")
	err := p.Err("Register")
	assert.Equal(t, "Register: invalid request: username: is required; password: must be 8 to 64 characters; request must not be nil", err.Error())
	assert.ErrorIs(t, err, apierror.ErrValidation)
	assert.NotErrorIs(t, err, apierror.ErrConflict)

	var ve *apierror.ValidationError
	require.ErrorAs(t, fmt.Errorf("wrapped: %w", err), &ve)
	assert.Equal(t, "Register", ve.Operation)
	require.Len(t, ve.Problems, 3)

	// The error owns a copy: later additions do not change it.
	p.Add("email", "is required")
	assert.Len(t, ve.Problems, 3)

	assert.Equal(t, "invalid request: x: y", (&apierror.ValidationError{Problems: []apierror.Problem{{Field: "x", Message: "y"}}}).Error())
}

func TestResendTooSoonKeepsItsOldName(t *testing.T) {
	assert.Same(t, apierror.ErrResendTooSoon, apierror.ErrTooManyRequests) //nolint:staticcheck // the deprecated alias is the test's subject
	e := &apierror.Error{HTTPStatus: 429, ErrorCode: apierror.CodeCodeResendTooSoon}
	assert.ErrorIs(t, e, apierror.ErrTooManyRequests) //nolint:staticcheck // the deprecated alias is the test's subject
	assert.NotErrorIs(t, e, apierror.ErrRateLimited, "a refused resend is not throttling")
}

func TestConclusionsAreNotTransportFailures(t *testing.T) {
	// An Error whose cause is a conclusion drawn from good answers has no
	// HTTP status, yet nothing is wrong with the network.
	notFound := fmt.Errorf("no such purchase: %w", apierror.ErrNotFound)
	ambiguous := fmt.Errorf("two purchases: %w", apierror.ErrAmbiguous)
	paging := &apierror.PagingError{Unit: "offset", Asked: 100, Items: 100}
	for _, cause := range []error{notFound, ambiguous, paging} {
		e := &apierror.Error{Service: "huawei-bss", Operation: "Op", Err: cause}
		assert.NotErrorIs(t, e, apierror.ErrTransport, "%v", cause)
		assert.NotContains(t, e.Error(), "no response")
		assert.ErrorIs(t, e, cause)
	}
	assert.ErrorIs(t, &apierror.Error{Err: paging}, apierror.ErrPaging)
	assert.ErrorIs(t, &apierror.Error{Err: notFound}, apierror.ErrNotFound)
	assert.Equal(t, "inconsistent paging: offset 100 repeats earlier pages (100 items, none new)", paging.Error())
}

func TestOptionError(t *testing.T) {
	err := error(&apierror.OptionError{Constructor: "billing.NewClient", Problems: []apierror.Problem{
		{Field: "WithBaseURL", Message: "must not be empty"}, {Field: "WithLogger", Message: "must not be nil"}}})
	assert.Equal(t, "billing.NewClient: invalid options: WithBaseURL: must not be empty; WithLogger: must not be nil", err.Error())
	assert.ErrorIs(t, err, apierror.ErrValidation)
	var oe *apierror.OptionError
	require.ErrorAs(t, fmt.Errorf("wrapped: %w", err), &oe)
	assert.Len(t, oe.Problems, 2)
}
