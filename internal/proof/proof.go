// Package proof is the proof of ownership of a Huawei Cloud account that
// the Billing Center contract asks for on every call keyed by a Huawei
// account and instance: its wire format, the audience, and the checks a
// Billing Center makes before it believes one.
//
// The design is Vault's AWS IAM auth method, moved to Huawei Cloud. The
// caller signs, with its own AK/SK, a request to Huawei's identity API
// (STS GET /v5/caller-identity, or IAM GET /v3/auth/domains) that carries
// two extra signed headers: X-TrueWatch-Audience, naming the Billing
// Center the proof is for, and X-TrueWatch-Nonce, which makes every proof
// unique. It does not send that request: it sends the signed request itself
// (method, URL, headers, body; never the secret key) to the Billing Center
// in the X-TrueWatch-Ownership-Proof header. The Billing Center checks that
// the request goes to a Huawei identity endpoint it trusts (it never sends
// a proof anywhere else), that the audience is its own and signed, that the
// signing time is within the window, and that the proof was not used
// before; then it sends the request to Huawei, which verifies the signature
// and answers with the account the key belongs to. The caller controls the
// account it could sign for, and nothing else: a proof cannot be made
// without the secret key, cannot be moved to another Billing Center
// (audience), and cannot be used twice.
package proof

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/hwsign"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
)

// Header names and paths of the proof.
const (
	// Header carries the encoded proof on a Billing Center request.
	Header = "X-TrueWatch-Ownership-Proof"
	// HeaderAudience, inside the signed request, names the Billing Center
	// the proof is for. It must be a signed header.
	HeaderAudience = "X-TrueWatch-Audience"
	// HeaderNonce, inside the signed request, is random per proof, so that
	// two proofs signed in the same second differ.
	HeaderNonce = "X-TrueWatch-Nonce"
	// PathCallerIdentity is STS GetCallerIdentity, which answers the
	// account ID to any valid key.
	PathCallerIdentity = "/v5/caller-identity"
	// PathAuthDomains is IAM KeystoneListAuthDomains, which answers the
	// account (domain) to keys allowed to list it.
	PathAuthDomains = "/v3/auth/domains"
	// MaxEncodedLen bounds an encoded proof.
	MaxEncodedLen = 8 << 10
	// Window is how far a proof's signing time may be from the Billing
	// Center's clock, either way: Huawei's own signature window, so that a
	// proof Huawei would accept is never refused as expired, and a proof
	// Huawei would refuse is refused before it is sent.
	Window = hwsign.MaxSkew
)

// allowedHeader reports whether a proof's request may carry the header
// (canonical name). Anything else (Transfer-Encoding, Connection, Cookie,
// ...) could change what the request means to a proxy or to Huawei without
// being signed.
func allowedHeader(name string) bool {
	switch name {
	case "Accept", "Authorization", "Content-Type", "Host", "User-Agent", "X-Domain-Id", "X-Project-Id",
		"X-Sdk-Date", "X-Security-Token",
		textproto.CanonicalMIMEHeaderKey(HeaderAudience), textproto.CanonicalMIMEHeaderKey(HeaderNonce):
		return true
	}
	return false
}

// Request is the signed request a proof carries.
type Request struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers"`
	Body    []byte              `json:"body,omitempty"`
}

// Encode renders r for the Header: base64 (standard, padded) of its JSON.
func Encode(r Request) (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	s := base64.StdEncoding.EncodeToString(b)
	if len(s) > MaxEncodedLen {
		return "", fmt.Errorf("encoded proof is %d bytes, more than %d", len(s), MaxEncodedLen)
	}
	return s, nil
}

// Decode parses a Header value strictly: one JSON object, known fields
// only.
func Decode(s string) (Request, error) {
	var r Request
	if len(s) > MaxEncodedLen {
		return r, fmt.Errorf("the proof is longer than %d bytes", MaxEncodedLen)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return r, errors.New("the proof is not base64")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, errors.New("the proof is not a JSON object of method, url, headers and body")
	}
	if _, err := dec.Token(); err != io.EOF {
		return r, errors.New("the proof holds more than one JSON value")
	}
	return r, nil
}

// Audience normalises a Billing Center base URL into the audience a proof
// names: scheme and host in lower case, the path without a trailing slash,
// no user information, query or fragment. The SDK's default audience is
// its Billing Center base URL, the mock's is its own BillingURL; both go
// through this function so that they compare equal.
func Audience(baseURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	switch {
	case err != nil:
		return "", errors.New("audience is not a URL")
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return "", errors.New("audience must be an absolute http or https URL")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", errors.New("audience must not have user information, a query or a fragment")
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// Origin is scheme://host of an endpoint URL, in lower case: what a
// Billing Center's list of trusted identity endpoints holds.
func Origin(endpoint string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("endpoint %q must be an absolute http or https URL without user information", endpoint)
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), nil
}

// NewNonce returns a fresh HeaderNonce value: 32 hex characters from
// crypto/rand.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Sign makes a proof with this package's own signer (internal/hwsign): a
// GET of path (PathCallerIdentity or PathAuthDomains) on endpoint, for
// audience, signed by ak/sk (and the security token of a temporary key) at
// now. The SDK signs through the official Huawei signer instead
// (huawei.Client.OwnershipProof); this one is for the mock's tests and
// tools, which need proofs at a mock clock's time.
func Sign(endpoint, path, audience, ak, sk, securityToken string, now time.Time) (string, error) {
	u, err := url.Parse(strings.TrimRight(endpoint, "/") + path)
	if err != nil {
		return "", err
	}
	r := &http.Request{Method: http.MethodGet, URL: u, Host: u.Host, Header: http.Header{}}
	r.Header.Set("Host", u.Host)
	r.Header.Set(HeaderAudience, audience)
	r.Header.Set(HeaderNonce, NewNonce())
	if securityToken != "" {
		r.Header.Set(hwsign.HeaderSecurityToken, securityToken)
	}
	hwsign.Sign(r, nil, ak, sk, now)
	return Encode(Request{Method: r.Method, URL: u.String(), Headers: r.Header})
}

// Error is a refused proof: Code is one of apierror's CodeProof* codes and
// Msg says why, without any secret.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string { return e.Code + ": " + e.Msg }

func fail(code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Policy is what a Billing Center accepts.
type Policy struct {
	// Audience is the Billing Center's own audience (see Audience).
	Audience string
	// Endpoints are the origins (see Origin) of the Huawei identity
	// endpoints the Billing Center sends proofs to. A proof for any other
	// URL is refused before anything is sent: the Billing Center never
	// becomes a proxy to a host the caller chose.
	Endpoints []string
	// Now is the Billing Center's clock.
	Now time.Time
}

// Checked is a proof that passed every check that needs no call: the
// request to send to Huawei, its identity and how long it must be
// remembered.
type Checked struct {
	// Request is the signed request, ready to send to Huawei.
	Request *http.Request
	// Path is PathCallerIdentity or PathAuthDomains.
	Path string
	// ID identifies the proof for single use: its signature.
	ID string
	// Until is when the proof stops being accepted (signing time plus
	// Window); a used proof must be remembered until then.
	Until time.Time
}

// Check decodes and checks a proof without any call: the request must be a
// GET of a Huawei identity path on a trusted endpoint, carry only the
// allowed headers (one value each), sign the audience header with the
// policy's audience, and be signed within Window of the policy's clock.
// The signature itself is Huawei's to verify (see Exchange).
func Check(header string, p Policy) (*Checked, *Error) {
	if strings.TrimSpace(header) == "" {
		return nil, fail(apierror.CodeProofRequired, "the call needs an %s header", Header)
	}
	req, err := Decode(header)
	if err != nil {
		return nil, fail(apierror.CodeProofInvalid, "%v", err)
	}
	u, uerr := url.Parse(req.URL)
	if uerr != nil {
		return nil, fail(apierror.CodeProofEndpoint, "the proof's URL does not parse")
	}
	origin, oerr := Origin(req.URL)
	switch {
	case req.Method != http.MethodGet:
		return nil, fail(apierror.CodeProofEndpoint, "the proof must be a GET, not %q", req.Method)
	case oerr != nil || u.Opaque != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fail(apierror.CodeProofEndpoint, "the proof's URL must be an absolute http(s) URL without query or fragment")
	case u.Path != PathCallerIdentity && u.Path != PathAuthDomains:
		return nil, fail(apierror.CodeProofEndpoint, "the proof must be a GET of %s (STS) or %s (IAM), not %q",
			PathCallerIdentity, PathAuthDomains, u.Path)
	case !slices.Contains(p.Endpoints, origin):
		return nil, fail(apierror.CodeProofEndpoint, "%s is not a Huawei identity endpoint this Billing Center trusts", origin)
	case len(req.Body) > 0:
		return nil, fail(apierror.CodeProofInvalid, "the proof's request must have no body")
	}
	h := http.Header{}
	for name, vals := range req.Headers {
		cn := textproto.CanonicalMIMEHeaderKey(name)
		if !allowedHeader(cn) {
			return nil, fail(apierror.CodeProofInvalid, "header %q is not allowed in a proof", name)
		}
		if len(vals) != 1 || len(h.Values(cn)) > 0 {
			return nil, fail(apierror.CodeProofInvalid, "header %q must be given once", name)
		}
		h.Set(cn, vals[0])
	}
	authz, err := hwsign.ParseAuthorization(h.Get("Authorization"))
	if err != nil {
		return nil, fail(apierror.CodeProofInvalid, "the proof's Authorization: %v", err)
	}
	switch aud := h.Get(HeaderAudience); {
	case aud == "" || !slices.Contains(authz.SignedHeaders, strings.ToLower(HeaderAudience)):
		return nil, fail(apierror.CodeProofAudience, "the proof must sign the %s header", HeaderAudience)
	case aud != p.Audience:
		return nil, fail(apierror.CodeProofAudience, "the proof is for audience %q; this Billing Center is %q", aud, p.Audience)
	}
	date := h.Get(hwsign.HeaderDate)
	t, err := time.Parse(hwsign.DateFormat, date)
	if err != nil || t.Format(hwsign.DateFormat) != date {
		return nil, fail(apierror.CodeProofInvalid, "the proof's %s is not %s", hwsign.HeaderDate, hwsign.DateFormat)
	}
	if d := p.Now.Sub(t); d > Window || d < -Window {
		return nil, fail(apierror.CodeProofExpired, "the proof was signed at %s, more than %s from the Billing Center's time %s",
			t.UTC().Format(time.RFC3339), Window, p.Now.UTC().Format(time.RFC3339))
	}
	host := u.Host
	if hv := h.Get("Host"); hv != "" {
		if !strings.EqualFold(hv, u.Host) {
			return nil, fail(apierror.CodeProofEndpoint, "the proof's Host header does not match its URL")
		}
		host = hv
		h.Del("Host")
	}
	hr := &http.Request{Method: http.MethodGet, URL: u, Host: host, Header: h, Body: http.NoBody,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	return &Checked{Request: hr, Path: u.Path, ID: strings.ToLower(authz.Signature), Until: t.Add(Window)}, nil
}

// maxAnswer bounds how much of Huawei's answer is read.
const maxAnswer = 1 << 20

// Exchange sends a checked proof to Huawei through rt and returns the
// account ID Huawei answers with. Huawei refusing the signature (4xx) is
// ft.OwnershipProofInvalid; no answer, throttling, a 5xx or an answer
// without an account is ft.OwnershipProofUnverifiable, which a fresh
// proof may get past.
func Exchange(ctx context.Context, rt http.RoundTripper, c *Checked) (string, *Error) {
	resp, err := rt.RoundTrip(c.Request.WithContext(ctx))
	if err != nil {
		return "", fail(apierror.CodeProofUnverifiable, "Huawei could not be reached to verify the proof")
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return "", fail(apierror.CodeProofUnverifiable, "Huawei's answer to the proof was cut short")
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return "", fail(apierror.CodeProofUnverifiable, "Huawei answered HTTP %d to the proof", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		var hw struct {
			Msg string `json:"error_msg"`
		}
		_ = json.Unmarshal(body, &hw)
		if hw.Msg == "" {
			hw.Msg = http.StatusText(resp.StatusCode)
		}
		return "", fail(apierror.CodeProofInvalid, "Huawei refused the proof's signature (HTTP %d): %s", resp.StatusCode, hw.Msg)
	}
	var id string
	if c.Path == PathCallerIdentity {
		var sts struct {
			AccountID string `json:"account_id"`
		}
		_ = json.Unmarshal(body, &sts)
		id = sts.AccountID
	} else {
		var iam struct {
			Domains []struct {
				ID string `json:"id"`
			} `json:"domains"`
		}
		_ = json.Unmarshal(body, &iam)
		if len(iam.Domains) == 0 {
			return "", fail(apierror.CodeProofInvalid, "IAM lists no domain for this key; sign STS %s instead", PathCallerIdentity)
		}
		id = iam.Domains[0].ID
	}
	if !rules.IsHuaweiAccountID(id) {
		return "", fail(apierror.CodeProofUnverifiable, "Huawei's answer to the proof names no account")
	}
	return id, nil
}
