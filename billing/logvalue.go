package billing

import (
	"fmt"
	"log/slog"
)

// The types below hold secrets. secret.String redacts itself everywhere but
// in JSON, and slog's JSON handler encodes structs as JSON; these LogValue
// methods make slog.Any("req", req) print the redacted fmt form instead.

// LogValue renders the request with its password and code redacted.
func (r RegisterRequest) LogValue() slog.Value { return redacted(r) }

// LogValue renders the request with its code redacted.
func (r BindAccountRequest) LogValue() slog.Value { return redacted(r) }

// LogValue renders the result with its token redacted.
func (r BindAccountResult) LogValue() slog.Value { return redacted(r) }

// redacted formats v with fmt, which honours secret.String's redaction
// (fmt never calls LogValue, so this does not recurse).
func redacted(v any) slog.Value { return slog.StringValue(fmt.Sprintf("%+v", v)) }
