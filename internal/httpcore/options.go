package httpcore

import (
	"errors"
	"fmt"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// optionProblem is the error an option returns: its name and what is wrong.
type optionProblem struct{ apierror.Problem }

func (p *optionProblem) Error() string { return p.Field + ": " + p.Message }

// BadOption is the error a functional option returns when it refuses its
// value: option is its name ("WithBaseURL"), the message what is wrong.
func BadOption(option, format string, args ...any) error {
	return &optionProblem{apierror.Problem{Field: option, Message: fmt.Sprintf(format, args...)}}
}

// ApplyOptions applies every option to cfg, skipping nil ones, and returns
// the problems of all that refused, in order: a constructor reports every
// bad option at once instead of the first. An error that is not a
// BadOption is listed without an option name.
func ApplyOptions[T any, O ~func(*T) error](cfg *T, opts []O) apierror.Problems {
	var p apierror.Problems
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(cfg); err != nil {
			p = append(p, AsProblem("", err))
		}
	}
	return p
}

// AsProblem turns an option's error into a Problem, named option unless the
// error names its own.
func AsProblem(option string, err error) apierror.Problem {
	var op *optionProblem
	if errors.As(err, &op) {
		return op.Problem
	}
	return apierror.Problem{Field: option, Message: err.Error()}
}

// OptionErr returns nil when p is empty, else an *apierror.OptionError of
// constructor ("billing.NewClient") listing p.
func OptionErr(constructor string, p apierror.Problems) error {
	if len(p) == 0 {
		return nil
	}
	return &apierror.OptionError{Constructor: constructor, Problems: append([]apierror.Problem(nil), p...)}
}
