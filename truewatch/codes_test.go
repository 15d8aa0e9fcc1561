package truewatch

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
)

func TestPromptCodes(t *testing.T) {
	var out bytes.Buffer
	p := PromptCodes(strings.NewReader(" 123456 \n654321"), &out)
	ctx := context.Background()
	code, err := p(ctx, CodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister, Attempt: 1})
	require.NoError(t, err)
	assert.Equal(t, "123456", code.Reveal())
	code, err = p(ctx, CodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister, Attempt: 2, Reason: "the code was wrong"})
	require.NoError(t, err)
	assert.Equal(t, "654321", code.Reveal(), "the last line needs no newline")
	_, err = p(ctx, CodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister, Attempt: 3})
	assert.ErrorIs(t, err, ErrNoCode)
	assert.Equal(t, "Enter the verification code sent to ada@example.com (register): "+
		"the code was wrong.\nEnter the verification code sent to ada@example.com (register): "+
		"Enter the verification code sent to ada@example.com (register): ", out.String())

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = PromptCodes(strings.NewReader("123456\n"), &out)(cctx, CodeRequest{})
	assert.ErrorIs(t, err, context.Canceled)
}

type mapOutbox map[string]string

func (m mapOutbox) LatestCode(email string, purpose billing.Purpose) (string, bool) {
	c, ok := m[email+"/"+string(purpose)]
	return c, ok
}

func TestCodesFromOutbox(t *testing.T) {
	p := CodesFromOutbox(mapOutbox{"ada@example.com/register": "111222"})
	code, err := p(context.Background(), CodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister})
	require.NoError(t, err)
	assert.Equal(t, "111222", code.Reveal())
	_, err = p(context.Background(), CodeRequest{Email: "ada@example.com", Purpose: billing.PurposeCreateWorkspace})
	assert.ErrorIs(t, err, ErrNoCode)
}
