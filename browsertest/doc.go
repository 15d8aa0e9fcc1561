// Package browsertest drives the mock's unified login in a real browser:
// headless Chromium (Debian's chromium package) through chromedp. It is a
// module of its own, so that users of marketplace-go never compile
// chromedp; .ci/run vets, checks and tests it.
//
// The test skips when no Chromium is found, unless
// MARKETPLACE_REQUIRE_CHROMIUM=1 (set by .ci/run), when it fails. CHROMIUM
// names the binary (default: chromium on the PATH). Screenshots are written
// to $MARKETPLACE_ARTIFACTS (default: marketplace-artifacts in the
// system's temporary directory).
package browsertest
