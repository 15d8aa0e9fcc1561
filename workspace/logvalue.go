package workspace

import (
	"fmt"
	"log/slog"
)

// The requests below hold secrets. secret.String redacts itself everywhere
// but in JSON, and slog's JSON handler encodes structs as JSON; these
// LogValue methods make slog.Any("req", req) print the redacted fmt form.

// LogValue renders the request with its code redacted.
func (r CreateWorkspaceRequest) LogValue() slog.Value { return slog.StringValue(fmt.Sprintf("%+v", r)) }

// LogValue renders the request with its passwords and code redacted.
func (r RegisterAndCreateRequest) LogValue() slog.Value {
	return slog.StringValue(fmt.Sprintf("%+v", r))
}
