package billing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
)

// sentinels lists every class a caller can branch on.
var sentinels = map[string]error{
	"ErrNotFound": apierror.ErrNotFound, "ErrRateLimited": apierror.ErrRateLimited,
	"ErrUnauthorized": apierror.ErrUnauthorized, "ErrForbidden": apierror.ErrForbidden,
	"ErrInvalidCode": apierror.ErrInvalidCode, "ErrCodeExpired": apierror.ErrCodeExpired,
	"ErrAlreadyBound": apierror.ErrAlreadyBound, "ErrNameTaken": apierror.ErrNameTaken,
	"ErrValidation": apierror.ErrValidation, "ErrConflict": apierror.ErrConflict,
	"ErrIdempotencyKeyReused": apierror.ErrIdempotencyKeyReused, "ErrResendTooSoon": apierror.ErrResendTooSoon,
	"ErrServer": apierror.ErrServer, "ErrTransport": apierror.ErrTransport,
}

func TestErrorDecoding(t *testing.T) {
	tests := []struct {
		reply    testkit.Reply
		status   int
		code     string
		matching []string // every sentinel the error must match; it must match no other
	}{
		{testkit.Fail(404, apierror.CodeSubscriptionNotFound, "no such purchase"), 404, apierror.CodeSubscriptionNotFound, []string{"ErrNotFound"}},
		{testkit.Fail(401, apierror.CodeUnauthorized, "bad token"), 401, apierror.CodeUnauthorized, []string{"ErrUnauthorized"}},
		{testkit.Fail(401, apierror.CodeTokenExpired, "expired"), 401, apierror.CodeTokenExpired, []string{"ErrUnauthorized"}},
		{testkit.Fail(403, apierror.CodeForbidden, "no"), 403, apierror.CodeForbidden, []string{"ErrForbidden"}},
		{testkit.Fail(400, apierror.CodeInvalidCode, "wrong code"), 400, apierror.CodeInvalidCode, []string{"ErrInvalidCode"}},
		{testkit.Fail(400, apierror.CodeCodeExpired, "expired"), 400, apierror.CodeCodeExpired, []string{"ErrCodeExpired"}},
		{testkit.Fail(409, apierror.CodeAlreadyBound, "bound"), 409, apierror.CodeAlreadyBound, []string{"ErrAlreadyBound", "ErrConflict"}},
		{testkit.Fail(409, apierror.CodeSettlementLocked, "locked"), 409, apierror.CodeSettlementLocked, []string{"ErrAlreadyBound", "ErrConflict"}},
		{testkit.Fail(409, apierror.CodeUsernameTaken, "taken"), 409, apierror.CodeUsernameTaken, []string{"ErrNameTaken", "ErrConflict"}},
		{testkit.Fail(409, apierror.CodeEmailTaken, "taken"), 409, apierror.CodeEmailTaken, []string{"ErrNameTaken", "ErrConflict"}},
		{testkit.Fail(400, apierror.CodeValidation, "bad"), 400, apierror.CodeValidation, []string{"ErrValidation"}},
		{testkit.Fail(415, apierror.CodeUnsupportedMediaType, "not JSON"), 415, apierror.CodeUnsupportedMediaType, []string{"ErrValidation"}},
		{testkit.Fail(409, apierror.CodeSettlementChangeLimit, "once a month"), 409, apierror.CodeSettlementChangeLimit, []string{"ErrConflict"}},
		{testkit.Fail(409, apierror.CodeIdempotencyKeyReused, "reused"), 409, apierror.CodeIdempotencyKeyReused, []string{"ErrIdempotencyKeyReused", "ErrConflict"}},
		{testkit.Fail(429, apierror.CodeCodeResendTooSoon, "wait 60s"), 429, apierror.CodeCodeResendTooSoon, []string{"ErrResendTooSoon"}},
		{testkit.Fail(429, "", "slow down"), 429, "", []string{"ErrRateLimited"}},
		{testkit.Fail(401, apierror.CodeAkRateLimited, "limited"), 401, apierror.CodeAkRateLimited, []string{"ErrRateLimited"}},
		{testkit.Fail(500, apierror.CodeInternal, "boom"), 500, apierror.CodeInternal, []string{"ErrServer"}},
		{testkit.Raw(503, "upstream down"), 503, "", []string{"ErrServer"}},
		{testkit.ConnError(), 0, "", []string{"ErrTransport"}},
	}
	for _, tt := range tests {
		name := tt.code
		if name == "" {
			name = "no code"
		}
		t.Run(name+" "+tt.matching[0], func(t *testing.T) {
			e := setup(t, tt.reply)
			_, err := e.c.GetSubscription(context.Background(), accountID, instanceID)
			var apiErr *apierror.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "billing", apiErr.Service)
			assert.Equal(t, "GetSubscription", apiErr.Operation)
			assert.Equal(t, tt.status, apiErr.HTTPStatus)
			assert.Equal(t, tt.code, apiErr.ErrorCode)
			assert.Equal(t, apiErr.Attempts, e.rec.Count())
			if tt.status != 0 {
				assert.Equal(t, testkit.RequestID, apiErr.RequestID)
			}
			if tt.code != "" {
				assert.Equal(t, testkit.TraceID, apiErr.TraceID)
			}
			for name, s := range sentinels {
				want := false
				for _, m := range tt.matching {
					want = want || m == name
				}
				assert.Equal(t, want, errors.Is(err, s), "errors.Is(err, %s)", name)
			}
		})
	}
}

func TestRateLimitedTokenCallIsRetriedThenReported(t *testing.T) {
	e := setup(t, testkit.Fail(401, apierror.CodeAkRateLimited, "limited"))
	_, err := e.c.GetBinding(context.Background(), token)
	require.ErrorIs(t, err, apierror.ErrRateLimited)
	assert.NotErrorIs(t, err, apierror.ErrUnauthorized)
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 4, apiErr.Attempts)
	assert.Equal(t, 4, e.mt.GetTotalCallCount())
}

func TestServerErrorNotRetried(t *testing.T) {
	e := setup(t, testkit.Fail(500, apierror.CodeInternal, "boom"), testkit.OK(nil))
	_, err := e.c.Register(context.Background(), validRegister())
	require.ErrorIs(t, err, apierror.ErrServer)
	assert.Equal(t, 1, e.mt.GetTotalCallCount())
}

func TestMalformedSuccessBody(t *testing.T) {
	for name, reply := range map[string]testkit.Reply{
		"truncated":   testkit.Raw(200, `{"code":200,"success":true,"content":{"huaweiAccountId":"01`),
		"not JSON":    testkit.Raw(200, "OK"),
		"wrong shape": testkit.OK([]int{1, 2}),
	} {
		t.Run(name, func(t *testing.T) {
			e := setup(t, reply)
			sub, err := e.c.GetSubscription(context.Background(), accountID, instanceID)
			assert.Nil(t, sub)
			var apiErr *apierror.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 200, apiErr.HTTPStatus)
			assert.Error(t, apiErr.Err)
			assert.Equal(t, 1, e.rec.Count())
		})
	}
}

func TestCancelDuringRetryWait(t *testing.T) {
	e := setup(t, testkit.Fail(429, "", ""))
	started := make(chan struct{}, 1)
	// A client whose policy blocks in its wait until the context ends.
	c2, err := newClientWithSleep(e, testkit.BlockingSleep(started))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, err = c2.GetBinding(ctx, token)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, e.mt.GetTotalCallCount())
}

func TestResendTooSoonSaysHowLongToWait(t *testing.T) {
	// Against the mock: the refusal of a second code carries the wait, as
	// SendVerificationCode's doc promises.
	srv, bc := newMock()
	defer srv.Close()
	ctx := context.Background()
	req := &billing.SendCodeRequest{Email: "ops@acme.example", Purpose: billing.PurposeRegister}
	res, err := bc.SendVerificationCode(ctx, req)
	require.NoError(t, err)
	_, err = bc.SendVerificationCode(ctx, req)
	require.ErrorIs(t, err, apierror.ErrResendTooSoon)
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Positive(t, apiErr.RetryAfter)
	assert.LessOrEqual(t, apiErr.RetryAfter, 60*time.Second)
	assert.False(t, res.ResendAfter.IsZero())
	assert.Equal(t, 1, apiErr.Attempts, "a refused resend is not retried")
}
