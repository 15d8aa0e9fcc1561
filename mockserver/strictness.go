package mockserver

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
)

// Strictness says how the API halves treat what a client sends that the
// contract does not know (WithStrictness, WithNamespaceStrictness).
type Strictness string

const (
	// Strict refuses unknown JSON fields and unknown query parameters
	// (400 in the API's shape): the mock's behaviour by default, so that a
	// client sending what the real service would not read finds out.
	Strict Strictness = "strict"
	// Lenient accepts and ignores unknown JSON fields and unknown query
	// parameters on the API halves, as a service that reads only what it
	// knows does; everything else is still checked (types, a key given
	// twice, a key spelled as a known one only case-insensitively, nulls,
	// limits, repeated parameters, the Validate rules). The control plane
	// stays strict.
	Lenient Strictness = "lenient"
)

func (st Strictness) valid() bool { return st == Strict || st == Lenient }

func (st Strictness) orDefault() Strictness {
	if st == "" {
		return Strict
	}
	return st
}

// WithStrictness sets the server's strictness (Strict by default); each
// namespace has its parent's unless created WithNamespaceStrictness.
func WithStrictness(st Strictness) Option {
	return func(cfg *config) error {
		if !st.valid() {
			return fmt.Errorf("mockserver: unknown strictness %q (strict or lenient)", string(st))
		}
		cfg.strictness = st
		return nil
	}
}

// Strictness is the server's strictness.
func (s *Server) Strictness() Strictness { return s.cfg.strictness.orDefault() }

type lenientKey struct{}

// lenientFor reports whether r, a request to an API half, is served
// leniently: routes marks the requests of a Lenient server.
func lenientFor(r *http.Request) bool {
	return r != nil && r.Context().Value(lenientKey{}) != nil && familyOf(r.URL.Path) != familyControl
}

// foldKnown reports whether key names a field of fields only
// case-insensitively, which Lenient still refuses: encoding/json would
// read it into that field.
func foldKnown(fields map[string]reflect.Type, key []byte) bool {
	for name := range fields {
		if bytes.EqualFold([]byte(name), key) {
			return true
		}
	}
	return false
}
