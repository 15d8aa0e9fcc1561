package mockserver

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/secret"
)

func (h *harness) tryRegister(code secret.String) *wireResp {
	h.t.Helper()
	return h.do(http.MethodPost, bcPath(routes.Register), registerReq("ada", "ada@example.com", code))
}

func TestCodeExpiry(t *testing.T) {
	h := newHarness(t)
	code := h.sendCode("ada@example.com", billing.PurposeRegister)
	h.clock.Advance(codeTTL)
	h.requireUnchanged(func() {
		r := h.tryRegister(code)
		requireErr(t, r, http.StatusBadRequest, apierror.CodeCodeExpired)
		assert.NotContains(t, r.env.Message, code.Reveal())
	})

	code = h.sendCode("ada@example.com", billing.PurposeRegister)
	h.clock.Advance(codeTTL - time.Second)
	h.requireOK(h.tryRegister(code), nil)
}

func TestCodeWrongAttempts(t *testing.T) {
	h := newHarness(t)
	code := h.sendCode("ada@example.com", billing.PurposeRegister)
	wrong := wrongCode(code)
	h.requireUnchanged(func() {
		for i := 1; i < codeMaxAttempts; i++ {
			r := h.tryRegister(wrong)
			requireErr(t, r, http.StatusBadRequest, apierror.CodeInvalidCode)
			assert.Contains(t, r.env.Message, "attempts left")
			assert.NotContains(t, r.env.Message, code.Reveal())
			assert.NotContains(t, r.env.Message, wrong.Reveal())
		}
		// The fifth wrong attempt invalidates the code, so that even the
		// right code fails from now on.
		requireErr(t, h.tryRegister(wrong), http.StatusBadRequest, apierror.CodeInvalidCode)
		requireErr(t, h.tryRegister(code), http.StatusBadRequest, apierror.CodeInvalidCode)
	})
	// A new code (after the resend interval) works.
	requireErr(t, h.do(http.MethodPost, bcPath(routes.SendCode), billing.SendCodeRequest{Email: "ada@example.com",
		Purpose: billing.PurposeRegister}), http.StatusTooManyRequests, apierror.CodeCodeResendTooSoon)
	h.clock.Advance(codeResendInterval)
	h.requireOK(h.tryRegister(h.sendCode("ada@example.com", billing.PurposeRegister)), nil)
}

func TestCodeRightAfterWrongAttempts(t *testing.T) {
	h := newHarness(t)
	code := h.sendCode("ada@example.com", billing.PurposeRegister)
	for i := 1; i < codeMaxAttempts; i++ {
		requireErr(t, h.tryRegister(wrongCode(code)), http.StatusBadRequest, apierror.CodeInvalidCode)
	}
	h.requireOK(h.tryRegister(code), nil)
}

func TestCodePurposeAndEmail(t *testing.T) {
	h := newHarness(t)
	// A code works only for its purpose and its address.
	bindCode := h.sendCode("ada@example.com", billing.PurposeBindBillingAccount)
	otherCode := h.sendCode("bob@example.com", billing.PurposeRegister)
	h.requireUnchanged(func() {
		requireErr(t, h.tryRegister(bindCode), http.StatusBadRequest, apierror.CodeInvalidCode)
		requireErr(t, h.tryRegister(otherCode), http.StatusBadRequest, apierror.CodeInvalidCode)
	})
	// Addresses compare case-insensitively.
	code := h.sendCode("ADA@Example.COM", billing.PurposeRegister)
	h.requireOK(h.tryRegister(code), nil)
	// A code is consumed by its successful use.
	assert.Nil(t, h.srv.liveCode("ada@example.com", billing.PurposeRegister))
	require.Len(t, h.srv.Accounts(), 1)
}

// TestCodeReuseAfterSuccess: a code that did its work is gone; using it
// again (without an Idempotency-Key, so not a replay) is an invalid code,
// and changes nothing. Resending exactly 60 s after the last send works.
func TestCodeReuseAfterSuccess(t *testing.T) {
	h := newHarness(t)
	h.seedExisting("ada", "ada@example.com")
	code := h.sendCode("ada@example.com", billing.PurposeBindBillingAccount)
	req := billing.BindAccountRequest{Username: "ada", Email: "ada@example.com", EmailCode: code,
		HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID}
	h.requireOK(h.do(http.MethodPost, bcPath(routes.BindAccount), req), nil)
	h.requireUnchanged(func() {
		requireErr(t, h.do(http.MethodPost, bcPath(routes.BindAccount), req), http.StatusBadRequest, apierror.CodeInvalidCode)
	})
	send := billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeBindBillingAccount}
	h.clock.Advance(codeResendInterval - time.Nanosecond)
	r := h.do(http.MethodPost, bcPath(routes.SendCode), send)
	requireErr(t, r, http.StatusTooManyRequests, apierror.CodeCodeResendTooSoon)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	h.clock.Advance(time.Nanosecond)
	h.requireOK(h.do(http.MethodPost, bcPath(routes.SendCode), send), nil)
}
