package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions(nil, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, options{addr: "127.0.0.1:8080", tokenTTL: time.Hour, maxBody: 1 << 20}, o)

	o, err = parseOptions(nil, env(map[string]string{"TRUEWATCH_MOCK_ADDR": "0.0.0.0:9000", "TRUEWATCH_MOCK_NO_DEMO": "true",
		"TRUEWATCH_MOCK_RATE_LIMIT": "20", "TRUEWATCH_MOCK_TOKEN_TTL": "5m", "TRUEWATCH_MOCK_SEED": "s", "TRUEWATCH_MOCK_MAX_BODY": "10"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, options{addr: "0.0.0.0:9000", noDemo: true, seed: "s", rateLimit: 20, tokenTTL: 5 * time.Minute, maxBody: 10}, o)

	// Flags win over the environment.
	o, err = parseOptions([]string{"-addr", "127.0.0.1:0", "-no-demo=false"},
		env(map[string]string{"TRUEWATCH_MOCK_ADDR": "0.0.0.0:9000", "TRUEWATCH_MOCK_NO_DEMO": "1"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:0", o.addr)
	assert.False(t, o.noDemo)

	_, err = parseOptions(nil, env(map[string]string{"TRUEWATCH_MOCK_TOKEN_TTL": "soon"}), io.Discard)
	assert.ErrorContains(t, err, "TRUEWATCH_MOCK_TOKEN_TTL")
	_, err = parseOptions([]string{"-bogus"}, env(nil), io.Discard)
	assert.Error(t, err)
	_, err = parseOptions([]string{"extra"}, env(nil), io.Discard)
	assert.ErrorContains(t, err, "unexpected arguments")
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	ready := make(chan *mockserver.Server, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, env(nil), &out, ready) }()
	srv := <-ready

	resp, err := http.Get(srv.URL() + "/_mock/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	banner := out.String()
	for _, want := range []string{srv.BillingURL(), srv.URL() + "/sites/us1/console-api", srv.URL() + "/sites/id1/auth/login/pwd",
		mockserver.DemoHuaweiAccountID, mockserver.DemoAccessKey, mockserver.DemoSecretKey, mockserver.DemoInstanceID} {
		assert.Contains(t, banner, want)
	}

	cancel()
	require.NoError(t, <-done)
	assert.True(t, strings.HasSuffix(out.String(), "shutting down\n"))
	_, err = http.Get(srv.URL() + "/_mock/health")
	assert.Error(t, err, "the listener is closed")
}

func TestRunWithoutDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	ready := make(chan *mockserver.Server, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-no-demo"}, env(nil), &out, ready) }()
	srv := <-ready
	assert.Empty(t, srv.Purchases())
	cancel()
	require.NoError(t, <-done)
	assert.NotContains(t, out.String(), mockserver.DemoSecretKey)
}

func TestRunBadAddress(t *testing.T) {
	err := run(t.Context(), []string{"-addr", "nonsense"}, env(nil), io.Discard, nil)
	assert.ErrorContains(t, err, "invalid address")
}
