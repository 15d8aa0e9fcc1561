package main

import (
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunControlToken: with a control token the control plane wants it,
// the health check does not, and the banner says so without printing it.
func TestRunControlToken(t *testing.T) {
	const token = "ctl-token-0123456789"
	srv, out := startRun(t, []string{"-addr", "127.0.0.1:0"}, map[string]string{"TRUEWATCH_MOCK_CONTROL_TOKEN": token})
	assert.NotContains(t, out.String(), token)
	assert.Contains(t, out.String(), "Authorization: Bearer <the control token>")
	get := func(path, auth string) int {
		req, err := http.NewRequest(http.MethodGet, srv.URL()+path, nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, get("/_mock/outbox", ""))
	assert.Equal(t, http.StatusOK, get("/_mock/outbox", "Bearer "+token))
	assert.Equal(t, http.StatusOK, get("/_mock/health", ""))

	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-control-token", "short"}, env(nil), io.Discard, nil)
	assert.ErrorContains(t, err, "control token")
	assert.NotContains(t, err.Error(), "short")
}

// TestBinaryStopsOnSIGTERM builds the binary, puts one request in a
// one-hour fault delay and another in a body that never ends, and sends
// SIGTERM: the process exits 0 within its grace period.
func TestBinaryStopsOnSIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	bin := buildBinary(t)
	const grace = 3 * time.Second
	p := startBinary(t, bin, "-addr", "127.0.0.1:0", "-shutdown-grace", grace.String(), "-read-timeout", "1h", "-write-timeout", "1h")
	cmd, exited, rest, base := p.cmd, p.exited, p.rest, p.base
	addr := strings.TrimPrefix(base, "http://")

	req, err := http.NewRequest(http.MethodPost, base+"/_mock/faults", strings.NewReader(`{"path":"/v3/auth/domains","delay":"1h"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Mock-Control", "1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	delayed := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/v3/auth/domains")
		if err != nil {
			delayed <- 0
			return
		}
		resp.Body.Close()
		delayed <- resp.StatusCode
	}()
	slow, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer func() { _ = slow.Close() }()
	_, err = io.WriteString(slow, "POST /billing-center/api/v1/verification_code/send HTTP/1.1\r\nHost: "+addr+
		"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/_mock/faults")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `"hits":1`)
	}, 5*time.Second, 10*time.Millisecond, "the request is in the delay")

	start := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "exit status 0")
		assert.Less(t, time.Since(start), grace, "neither the delay nor the slow body held it")
	case <-time.After(grace + 10*time.Second):
		t.Fatal("the binary did not exit on SIGTERM")
	}
	assert.Contains(t, <-rest, "truewatch-mock: stopped")
	select {
	case status := <-delayed:
		assert.Equal(t, http.StatusServiceUnavailable, status)
	case <-time.After(5 * time.Second):
		t.Fatal("the delayed request was never answered")
	}
}
