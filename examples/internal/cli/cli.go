// Package cli holds what the example programs share about their command
// line: parsing flags, and the exit status Go commands use (0 for success
// and for -h, 2 for a bad command line, 1 for a failure).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// UsageError is a bad command line: the flag set has printed the usage.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the flag package's error.
func (e UsageError) Unwrap() error { return e.Err }

// ParseFlags parses args with fs (which must use flag.ContinueOnError),
// refusing positional arguments. It returns flag.ErrHelp for -h and a
// UsageError for a bad flag or argument.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return UsageError{err}
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fmt.Fprintln(fs.Output(), err)
		fs.Usage()
		return UsageError{err}
	}
	return nil
}

// ExitStatus is the exit status for a program's error: 0 for none and for
// -h (the usage was printed), 2 for a UsageError (so was the usage), 1 for
// anything else, which it prints to stderr after the program's name.
func ExitStatus(program string, err error, stderr io.Writer) int {
	var ue UsageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", program, err)
	return 1
}
