package billing

import (
	"context"

	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// SendVerificationCode emails a 6-digit verification code for req.Purpose.
//
// A second code for the same email and purpose within 60 seconds is refused
// with an error matching apierror.ErrResendTooSoon (not retried: waiting
// is the caller's decision); that *apierror.Error's RetryAfter says how long
// to wait. After a successful send, the result's ResendAfter says when the
// next code may be requested.
func (c *Client) SendVerificationCode(ctx context.Context, req *SendCodeRequest, opts ...RequestOption) (*SendCodeResult, error) {
	return post[SendCodeResult](ctx, c, "SendVerificationCode", routes.SendCode, proofNone, req, opts)
}
