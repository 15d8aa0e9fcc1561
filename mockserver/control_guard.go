package mockserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/truewatch-labs/marketplace-go/secret"
)

// ControlHeader must be on every state-changing control request (any
// method but GET and HEAD), with the value "1". A web page cannot add a
// custom header to a cross-origin request without a CORS preflight, which
// the mock never grants, so a form posted from a page in the user's
// browser never reaches the control plane.
const ControlHeader = "X-Mock-Control"

// minControlTokenLen is the shortest control token WithControlToken takes.
const minControlTokenLen = 16

// WithControlToken makes every control-plane request but GET /_mock/health
// carry "Authorization: Bearer <token>"; others get 401 and change
// nothing. Use it when the mock listens where others can reach it (a
// shared machine, 0.0.0.0 in a container). The token is compared in
// constant time and never logged or printed; HTTPClient sends it. It must
// be at least 16 characters of printable ASCII without spaces.
func WithControlToken(token string) Option {
	return func(cfg *config) error {
		if len(token) < minControlTokenLen {
			return errors.New("mockserver: the control token must be at least 16 characters")
		}
		for i := 0; i < len(token); i++ {
			if c := token[i]; c <= ' ' || c > '~' {
				return errors.New("mockserver: the control token must be printable ASCII without spaces")
			}
		}
		cfg.controlToken = secret.String(token)
		return nil
	}
}

// guardControl lets a control-plane request through, or answers it with
// an error and reports false. In order:
//
//   - Host must name the mock (controlHostAllowed): a DNS-rebound page
//     sends its own name and is refused, 403.
//   - A request from a browser on another origin is refused, 403: an
//     Origin other than the mock's own (scheme://Host), or "null", or
//     Sec-Fetch-Site "cross-site" or "same-site". A URL typed into the
//     address bar (Sec-Fetch-Site "none", no Origin) and curl go through.
//   - With a control token, it must come as a bearer token, 401; the
//     health check is exempt, so container and orchestrator probes keep
//     working.
//   - A state-changing request (any method but GET and HEAD) needs the
//     X-Mock-Control: 1 header, 403, and a body only under a JSON
//     Content-Type, 415.
//
// No answer carries a CORS header, so a preflight always fails.
func (s *Server) guardControl(w http.ResponseWriter, r *http.Request) bool {
	if !s.controlHostAllowed(r.Host) {
		controlError(w, http.StatusForbidden, errors.New("the control plane answers only to the mock's own names "+
			"(its listener, its public URL, localhost or an IP address), not Host "+quoteHost(r.Host)))
		return false
	}
	if why := crossOrigin(r); why != "" {
		controlError(w, http.StatusForbidden, errors.New("cross-origin requests to the control plane are refused: "+why))
		return false
	}
	if tok := s.cfg.controlToken.Reveal(); tok != "" && r.URL.Path != "/_mock/health" && !bearerMatches(r, tok) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="truewatch-mock control plane"`)
		controlError(w, http.StatusUnauthorized, errors.New("the control plane needs its token: Authorization: Bearer <control token>"))
		return false
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	if r.Header.Get(ControlHeader) != "1" {
		controlError(w, http.StatusForbidden, errors.New(r.Method+" to the control plane needs the header "+ControlHeader+": 1"))
		return false
	}
	if r.ContentLength != 0 {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			controlError(w, http.StatusUnsupportedMediaType, errors.New("a control request body must be sent as Content-Type: application/json"))
			return false
		}
	}
	return true
}

func quoteHost(h string) string {
	if h == "" {
		return "(none)"
	}
	return `"` + h + `"`
}

// controlHostAllowed reports whether host (a Host header) names the mock:
// the host of its URL (the public URL, or the listener's), its listener's
// address, localhost, or an IP address. A rebinding attack needs a name of
// the attacker's, so an IP address (any port) is safe to accept; so is
// localhost, which browsers resolve themselves.
func (s *Server) controlHostAllowed(host string) bool {
	if s.parent != nil {
		return s.parent.controlHostAllowed(host) // a namespace answers to its parent's names
	}
	h := stripDefaultPort(strings.ToLower(host))
	if h == "" {
		return false
	}
	if u, err := url.Parse(s.url); err == nil && h == stripDefaultPort(u.Host) {
		return true
	}
	if s.ln != nil && h == s.ln.Addr().String() {
		return true
	}
	name := h
	if n, _, err := net.SplitHostPort(h); err == nil {
		name = n
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	return name == "localhost" || net.ParseIP(name) != nil
}

func stripDefaultPort(h string) string {
	return strings.TrimSuffix(strings.TrimSuffix(h, ":80"), ":443")
}

// crossOrigin says why r comes from a browser on another origin, or "".
func crossOrigin(r *http.Request) string {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return "Sec-Fetch-Site is " + r.Header.Get("Sec-Fetch-Site")
	}
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return ""
	}
	u, err := url.Parse(origins[0])
	if len(origins) > 1 || err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") ||
		stripDefaultPort(strings.ToLower(u.Host)) != stripDefaultPort(strings.ToLower(r.Host)) {
		return "Origin " + origins[0] + " is not the mock's own"
	}
	return ""
}

// bearerMatches compares r's bearer token with want in constant time (over
// digests, so that the length does not leak either).
func bearerMatches(r *http.Request, want string) bool {
	auth := r.Header.Values("Authorization")
	if len(auth) != 1 {
		return false
	}
	scheme, got, ok := strings.Cut(auth[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
