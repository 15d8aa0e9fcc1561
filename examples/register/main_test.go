package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegisterRunsAgainstTheEmbeddedMock(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out, &errOut), errOut.String())
	assert.Regexp(t, `Workspace\s+wksp_[0-9a-f]{32} "production" on ap1`, out.String())
	assert.Contains(t, out.String(), "bound=true")
	assert.NotContains(t, out.String(), "Correct-Horse-9")
}
