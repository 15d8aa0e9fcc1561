package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBulkActivatesEveryTenantOnce(t *testing.T) {
	var out, errOut bytes.Buffer
	s, err := run(context.Background(), []string{"-n", "12", "-concurrency", "4"}, &out, &errOut)
	require.NoError(t, err, out.String()+errOut.String())
	assert.Equal(t, 12, s.Activated)
	assert.Zero(t, s.Failed)
	assert.Contains(t, out.String(), "Mock state: 12 Billing Center accounts, 12 workspaces")
}

func TestBulkRejectsBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	_, err := run(context.Background(), []string{"-n", "0"}, &out, &errOut)
	require.Error(t, err)
}
