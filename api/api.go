// Package api holds the written contract of the TrueWatch Billing Center and
// workspace API: an OpenAPI 3.0.3 document describing every operation the
// billing and workspace clients call and the mock server serves, with the
// envelope, the error codes, the validation limits and the idempotency and
// paging rules.
//
// The document is embedded so that tools can read it without the source tree
// (the mock serves it at GET /_mock/openapi.yaml). So is the description of
// the mock's own control plane, the endpoints under /_mock/ (ControlSpec,
// GET /_mock/control.openapi.yaml). This package depends on
// nothing else in the module and on no OpenAPI library: it hands out bytes,
// and the contract test (api_test) loads and checks them with kin-openapi,
// which therefore never enters the builds of this module's users.
package api

import _ "embed"

//go:embed openapi.yaml
var spec []byte

// Spec returns the OpenAPI document (YAML). The slice is a fresh copy the
// caller may modify.
func Spec() []byte {
	return append([]byte(nil), spec...)
}

//go:embed control.openapi.yaml
var controlSpec []byte

// ControlSpec returns the OpenAPI document of the mock's control plane, the
// endpoints under /_mock/ (YAML; served at GET /_mock/control.openapi.yaml).
// The slice is a fresh copy the caller may modify.
func ControlSpec() []byte {
	return append([]byte(nil), controlSpec...)
}
