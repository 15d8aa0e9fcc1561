package billing_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/secret"
)

const proofMarker = "PROOF-DO-NOT-LEAK"

var secrets = []string{password, emailCode, token.Reveal(), proofMarker}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, v := range secrets {
		assert.NotContains(t, s, v)
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	values := []any{
		validRegister(), *validRegister(), validBind(),
		&billing.BindAccountResult{Token: token},
	}
	for _, v := range values {
		out := fmt.Sprintf("%v %+v %#v %s", v, v, v, v)
		assertNoSecret(t, out)
		assert.Contains(t, out, secret.Redacted)
	}
}

func TestSecretsNotInErrorsOrLogs(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mtRec := testkit.NewRecorder(testkit.Raw(503, ""), testkit.Fail(400, apierror.CodeInvalidCode, "verification code is wrong"))
	e := setup(t)
	e.mt.RegisterNoResponder(mtRec.Respond)
	c, err := billing.NewClient(billing.WithBaseURL(baseURL), billing.WithHTTPClient(&http.Client{Transport: e.mt}),
		billing.WithRetryPolicy(e.waits.Policy(3)), billing.WithLogger(logger),
		billing.WithOwnershipProver(&countingProver{name: proofMarker}))
	require.NoError(t, err)

	ctx := context.Background()
	_, err = c.Register(ctx, validRegister())
	require.ErrorIs(t, err, apierror.ErrInvalidCode)
	assertNoSecret(t, err.Error())
	assertNoSecret(t, fmt.Sprintf("%v %+v %#v", err, err, err))

	_, err = c.GetBinding(ctx, token)
	require.Error(t, err)
	assertNoSecret(t, fmt.Sprintf("%v %+v %#v", err, err, err))

	// Validation messages name fields, never values.
	bad := validRegister()
	bad.Password = "short"
	_, err = c.Register(ctx, bad)
	require.ErrorIs(t, err, apierror.ErrValidation)
	assert.NotContains(t, err.Error(), "short")

	// Request and result structs logged by the caller are redacted too.
	logger.Info("caller", slog.Any("req", validRegister()), slog.Any("bind", *validBind()),
		slog.Any("result", &billing.BindAccountResult{Token: token}))
	assert.Contains(t, logs.String(), "acme_admin")

	require.NotZero(t, logs.Len())
	assert.Contains(t, logs.String(), `"op":"Register"`)
	assertNoSecret(t, logs.String())

	// The secrets did go on the wire, where they belong.
	assert.Contains(t, string(mtRec.Requests()[0].Body), password)
	assert.Contains(t, mtRec.Requests()[0].Header.Get(billing.ProofHeader), proofMarker)
}
