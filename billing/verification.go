package billing

import (
	"context"

	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// SendVerificationCode emails a 6-digit verification code for req.Purpose.
//
// A second code for the same email and purpose within 60 seconds is refused
// with an error matching apierror.ErrTooManyRequests (not retried: waiting
// is the caller's decision); the result's ResendAfter says when to ask again.
func (c *Client) SendVerificationCode(ctx context.Context, req *SendCodeRequest, opts ...RequestOption) (*SendCodeResult, error) {
	return post[SendCodeResult](ctx, c, "SendVerificationCode", routes.SendCode, req, opts)
}
