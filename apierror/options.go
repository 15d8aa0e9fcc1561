package apierror

import "strings"

// OptionError lists every bad option a client constructor was given
// (billing.NewClient, workspace.NewClient, huawei.NewClient); nothing was
// built. Each Problem's Field names the option (for example "WithBaseURL";
// empty for a problem of the options together, such as a required option
// missing). It matches ErrValidation.
type OptionError struct {
	// Constructor is the refusing function, e.g. "billing.NewClient".
	Constructor string
	// Problems lists every bad option, in the order given.
	Problems []Problem
}

// Error lists every problem, separated by semicolons.
func (e *OptionError) Error() string {
	var b strings.Builder
	b.WriteString(e.Constructor)
	b.WriteString(": invalid options: ")
	writeProblems(&b, e.Problems)
	return b.String()
}

// Is makes errors.Is(err, ErrValidation) true.
func (e *OptionError) Is(target error) bool { return target == ErrValidation }
