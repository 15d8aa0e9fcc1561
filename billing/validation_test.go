package billing_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

func TestValidationSendsNothing(t *testing.T) {
	ctx := context.Background()
	register := func(mut func(*billing.RegisterRequest)) func(*billing.Client) error {
		return func(c *billing.Client) error {
			r := validRegister()
			mut(r)
			_, err := c.Register(ctx, r)
			return err
		}
	}
	bind := func(mut func(*billing.BindAccountRequest)) func(*billing.Client) error {
		return func(c *billing.Client) error {
			r := validBind()
			mut(r)
			_, err := c.BindBillingAccount(ctx, r)
			return err
		}
	}
	list := func(tok secret.String, o *billing.ListOptions) func(*billing.Client) error {
		return func(c *billing.Client) error {
			_, _, err := c.ListBindableWorkspaces(ctx, tok, o)
			return err
		}
	}
	tests := []struct {
		name   string
		op     string
		fields []string
		call   func(*billing.Client) error
	}{
		{"send code nil", "SendVerificationCode", []string{""}, func(c *billing.Client) error {
			_, err := c.SendVerificationCode(ctx, nil)
			return err
		}},
		{"send code bad email and purpose", "SendVerificationCode", []string{"email", "purpose"}, func(c *billing.Client) error {
			_, err := c.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "not-an-email", Purpose: "login"})
			return err
		}},
		{"subscription upper-case account ID", "GetSubscription", []string{"huaweiAccountId"}, func(c *billing.Client) error {
			_, err := c.GetSubscription(ctx, "0123456789ABCDEF0123456789ABCDEF", instanceID)
			return err
		}},
		{"subscription short account ID and empty instance", "GetSubscription", []string{"huaweiAccountId", "instanceId"}, func(c *billing.Client) error {
			_, err := c.GetSubscription(ctx, "0123", "")
			return err
		}},
		{"subscription instance ID too long", "GetSubscription", []string{"instanceId"}, func(c *billing.Client) error {
			_, err := c.GetSubscription(ctx, accountID, strings.Repeat("i", 65))
			return err
		}},
		{"register nil", "Register", []string{""}, func(c *billing.Client) error {
			_, err := c.Register(ctx, nil)
			return err
		}},
		{"register weak password", "Register", []string{"password"}, register(func(r *billing.RegisterRequest) { r.Password = "alllowercase" })},
		{"register terms and site", "Register", []string{"site", "termsAccepted"}, register(func(r *billing.RegisterRequest) { r.Site = "mars1"; r.TermsAccepted = false })},
		{"register bad code", "Register", []string{"emailCode"}, register(func(r *billing.RegisterRequest) { r.EmailCode = "12a456" })},
		{"register language", "Register", []string{"workspaceLanguage"}, register(func(r *billing.RegisterRequest) { r.WorkspaceLanguage = "fr" })},
		{"bind nil", "BindBillingAccount", []string{""}, func(c *billing.Client) error {
			_, err := c.BindBillingAccount(ctx, nil)
			return err
		}},
		{"bind missing everything", "BindBillingAccount", []string{"username", "email", "emailCode", "huaweiAccountId", "instanceId"}, bind(func(r *billing.BindAccountRequest) { *r = billing.BindAccountRequest{} })},
		{"list empty token", "ListBindableWorkspaces", []string{"token"}, list("", nil)},
		{"list token with a space", "ListBindableWorkspaces", []string{"token"}, list("a b", nil)},
		{"list page size too large", "ListBindableWorkspaces", []string{"pageSize"}, list(token, &billing.ListOptions{PageSize: 101})},
		{"list negative page", "ListBindableWorkspaces", []string{"pageIndex", "pageSize"}, list(token, &billing.ListOptions{PageIndex: -1, PageSize: -1})},
		{"list unknown site", "ListBindableWorkspaces", []string{"site"}, list(token, &billing.ListOptions{Site: "xx1"})},
		{"bind workspace no token and nil", "BindWorkspace", []string{"token", ""}, func(c *billing.Client) error {
			_, err := c.BindWorkspace(ctx, "", nil)
			return err
		}},
		{"bind workspace empty ID", "BindWorkspace", []string{"workspaceUUID"}, func(c *billing.Client) error {
			_, err := c.BindWorkspace(ctx, token, &billing.BindWorkspaceRequest{})
			return err
		}},
		{"binding empty token", "GetBinding", []string{"token"}, func(c *billing.Client) error {
			_, err := c.GetBinding(ctx, "")
			return err
		}},
		{"empty idempotency key", "Register", []string{"idempotencyKey"}, func(c *billing.Client) error {
			_, err := c.Register(ctx, validRegister(), billing.WithIdempotencyKey(""))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, testkit.OK(nil))
			err := tt.call(e.c)
			require.ErrorIs(t, err, apierror.ErrValidation)
			op, fields, ok := testkit.Refusal(err)
			require.True(t, ok, "a *apierror.ValidationError")
			assert.Equal(t, tt.op, op)
			assert.Equal(t, tt.fields, fields)
			assert.Equal(t, 0, e.mt.GetTotalCallCount())
		})
	}
}

func TestValidationFillsZeroCallInfo(t *testing.T) {
	e := setup(t, testkit.OK(nil))
	info := twapi.CallInfo{Attempts: 7, HTTPStatus: 200}
	_, err := e.c.GetBinding(context.Background(), "", billing.WithCallInfo(&info))
	require.ErrorIs(t, err, apierror.ErrValidation)
	assert.Equal(t, twapi.CallInfo{}, info)
}

func TestAllBindableWorkspaces_ValidationYieldsOnce(t *testing.T) {
	e := setup(t, testkit.OK(nil))
	var errs []error
	for ws, err := range e.c.AllBindableWorkspaces(context.Background(), "", nil) {
		assert.Zero(t, ws)
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], apierror.ErrValidation)
	assert.Equal(t, 0, e.mt.GetTotalCallCount())
}
