package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain runs main itself, in a child process started by runMain, when
// EXAMPLE_MAIN_ARGS is set, so that tests see the real exit status.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("EXAMPLE_MAIN_ARGS"); ok {
		os.Args = append([]string{"bulk"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs the program with args in a child process and returns its
// exit status and output.
func runMain(t *testing.T, args string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "EXAMPLE_MAIN_ARGS="+args)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	require.NoError(t, err)
	return 0, string(out)
}

// TestExitStatus: -h prints the usage and exits 0, as Go commands do; a
// bad flag or a stray argument exits 2 with the usage.
func TestExitStatus(t *testing.T) {
	status, out := runMain(t, "-h")
	assert.Equal(t, 0, status, out)
	assert.Contains(t, out, "Usage: go run ./examples/bulk")
	status, out = runMain(t, "-no-such-flag")
	assert.Equal(t, 2, status, out)
	assert.Contains(t, out, "Usage:")
	status, out = runMain(t, "stray")
	assert.Equal(t, 2, status, out)
	assert.Contains(t, out, "unexpected argument")
}
