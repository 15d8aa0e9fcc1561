// Package clitest runs an example program's main in a child process, so
// that its tests see the real exit status.
package clitest

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const argsEnv = "EXAMPLE_MAIN_ARGS"

// Main is the body of a test package's TestMain: it runs the program's
// main instead of the tests when Run started the process.
func Main(m *testing.M, main func()) {
	if args, ok := os.LookupEnv(argsEnv); ok {
		os.Args = append([]string{os.Args[0]}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Run runs the program with args in a child process and returns its exit
// status and output.
func Run(t *testing.T, args string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), argsEnv+"="+args)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	require.NoError(t, err)
	return 0, string(out)
}

// CheckExitStatus checks what every example does: -h prints the usage
// (starting with usage) and exits 0, as Go commands do; a bad flag or a
// stray argument exits 2 with the usage.
func CheckExitStatus(t *testing.T, usage string) {
	t.Helper()
	status, out := Run(t, "-h")
	assert.Equal(t, 0, status, out)
	assert.Contains(t, out, usage)
	status, out = Run(t, "-no-such-flag")
	assert.Equal(t, 2, status, out)
	assert.Contains(t, out, "Usage:")
	status, out = Run(t, "stray")
	assert.Equal(t, 2, status, out)
	assert.Contains(t, out, "unexpected argument")
}
