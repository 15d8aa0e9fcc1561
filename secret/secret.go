// Package secret holds String, the type this module uses for every password,
// verification code and token in a request or response struct, so that
// printing, logging or wrapping a struct never reveals one.
package secret

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Redacted is what a String prints as everywhere but on the wire.
const Redacted = "[REDACTED]"

// String is a secret value. It prints as "[REDACTED]" everywhere: through
// fmt (%v, %+v, %#v, %s, %q), slog (text and JSON handlers) and
// encoding/json, however deeply it is nested. No public type of this
// module writes one in clear: the clients put the value on the wire
// through unexported structs built when a request is sent. So a request, a
// result, or a struct of your own that holds a String stays redacted
// however it is logged or encoded.
type String string

// Reveal returns the secret value. Call it only to put the value on the wire.
func (s String) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool { return s == "" }

// String returns "[REDACTED]" (or "" for an empty secret, so that callers can
// see a missing value).
func (s String) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString makes %#v redact too.
func (s String) GoString() string { return fmt.Sprintf("secret.String(%q)", s.String()) }

// Format redacts the value for every fmt verb.
func (s String) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		_, _ = fmt.Fprintf(f, "%q", s.String())
	case 'v':
		if f.Flag('#') {
			_, _ = fmt.Fprint(f, s.GoString())
			return
		}
		_, _ = fmt.Fprint(f, s.String())
	default:
		_, _ = fmt.Fprint(f, s.String())
	}
}

// LogValue redacts the value in slog output.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes "[REDACTED]" (or "" for an empty secret).
func (s String) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText is deliberately not implemented: encoders that use it for map
// keys or text formats would otherwise reveal the value.

// UnmarshalJSON reads the value.
func (s *String) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = String(v)
	return nil
}
