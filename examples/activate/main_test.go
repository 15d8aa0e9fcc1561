package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

func noEnv(string) string { return "" }

func TestDemoRunsAFullActivationAndIsIdempotent(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), nil, strings.NewReader(""), &out, &errOut, noEnv)
	require.NoError(t, err, errOut.String())
	s := out.String()
	assert.Contains(t, s, "Huawei account ID   "+mockserver.DemoHuaweiAccountID)
	assert.Contains(t, s, "Instance ID         "+mockserver.DemoInstanceID)
	assert.Contains(t, s, "✓ register")
	assert.Regexp(t, `Workspace\s+wksp_[0-9a-f]{32} on ap1`, s)
	assert.Contains(t, s, "already activated: true")
	assert.NotContains(t, s, "Correct-Horse-9", "the demo password must never be printed")
}

func TestDemoPlanOnlyChangesNothing(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-plan"}, strings.NewReader(""), &out, &errOut, noEnv))
	assert.Contains(t, out.String(), "[change] register")
	assert.NotContains(t, out.String(), "Result")
}

func TestBadInputIsRefusedWithEveryProblem(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-site", "mars", "-language", "fr"}, strings.NewReader(""), &out, &errOut, noEnv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "site")
	assert.Contains(t, err.Error(), "language")

	err = run(context.Background(), []string{"-mode", "teleport"}, strings.NewReader(""), &out, &errOut, noEnv)
	require.Error(t, err)
}
