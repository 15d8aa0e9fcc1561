// Package marketplace is the root of marketplace-go: the Go SDK for
// activating TrueWatch bought on Huawei Cloud Marketplace (KooGallery), and
// a stateful mock server of the whole marketplace to test against. The work
// is done by the packages below it: truewatch (the Activation builder),
// billing and workspace (the TrueWatch APIs), huawei (IAM, STS and BSS
// through the official SDK), mockserver, apierror, retry, secret and site.
// This package holds the module's version.
package marketplace

// Version is the version of this module. Every request's User-Agent
// carries it ("marketplace-go/" + Version); CHANGELOG.md says what each
// version changed. A "-dev" suffix marks changes not yet released.
const Version = "0.2.0-dev"

// UserAgent is the product token every client of this module sends in its
// User-Agent.
const UserAgent = "marketplace-go/" + Version
