// Package hwsign implements Huawei Cloud's APIG "SDK-HMAC-SHA256" request
// signature: the canonical request, the string to sign, signing and, above
// all, verification as the real API gateway does it (constant-time
// comparison, X-Sdk-Date within 15 minutes of the verifier's clock).
//
// The mock server verifies every Huawei request with Verify; tests sign raw
// requests with Sign. The rules match huaweicloud-sdk-go-v3's
// core/auth/signer:
//
//	CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n
//	                   CanonicalHeaders \n SignedHeaders \n HexPayloadHash
//	StringToSign     = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(SHA256(CanonicalRequest))
//	Signature        = hex(HMAC-SHA256(SK, StringToSign))
//
// # What a valid signature binds
//
// A signature that checks out only proves the parts of the request it
// covers, so Verify refuses every part that could change what a request
// means without being covered:
//
//   - The body. X-Sdk-Content-Sha256 stands in for the body's hash only
//     when it is itself a signed header, and then it must be the hash of
//     the body received (hex, either case). Its one other value,
//     UNSIGNED-PAYLOAD, leaves the body unsigned and is accepted exactly
//     where the SDK sends it: signed, with a single Content-Type that
//     contains neither "application/json" nor "application/bson". A
//     server that reads a body as JSON must therefore insist on a JSON
//     Content-Type, and then its body is always bound (the mock does).
//   - The headers Huawei reads to decide what a request does or who makes
//     it: X-Domain-Id, X-Project-Id, X-Security-Token, X-Language and
//     X-Sdk-Content-Sha256. When present they must be signed (KindUnsigned).
//     Other unsigned headers are ignored, as the gateway ignores them:
//     proxies and net/http add their own (X-Forwarded-For,
//     Accept-Encoding), tracing adds W3C trace context after signing
//     (traceparent, tracestate, baggage), and the SDK never signs
//     Content-Type or Host, so none of them can be required. Host is checked when it is signed.
//   - The order of values. The canonical form sorts the values of a
//     header, so a signed header given more than once is refused (the SDK
//     sends each once) rather than letting Header.Get pick a value the
//     signer put second. Repeated query values are sorted the same way,
//     but the SDK does send lists as repeated keys, so that check belongs
//     to the server: one that reads a single value must refuse repeats
//     (every route of the mock does).
//   - The path. The canonical URI is built from the decoded path, so
//     "/a%2Fb" (one segment to a router) and "/a/b" (two) sign alike; an
//     escaped "/" is refused. The SDK sends path parameters unescaped, so
//     it never sends one.
//   - The key. A security token must come, signed, with the temporary key
//     it belongs to, and never with a permanent key.
package hwsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

const (
	// Algorithm is the only scheme verified here.
	Algorithm = "SDK-HMAC-SHA256"
	// DateFormat is the layout of X-Sdk-Date (UTC).
	DateFormat = "20060102T150405Z"
	// MaxSkew is how far X-Sdk-Date may be from the verifier's clock, in
	// either direction, as on Huawei's gateway.
	MaxSkew = 15 * time.Minute
	// HeaderDate carries the signing time.
	HeaderDate = "X-Sdk-Date"
	// HeaderContentSha256 replaces the payload hash ("UNSIGNED-PAYLOAD").
	HeaderContentSha256 = "X-Sdk-Content-Sha256"
	// HeaderSecurityToken carries the token of a temporary AK/SK.
	HeaderSecurityToken = "X-Security-Token"
	// UnsignedPayload in X-Sdk-Content-Sha256 leaves the body unsigned.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
)

// Escape percent-encodes s with the unreserved set A-Z a-z 0-9 - _ . ~ and
// upper-case hex, as the signer does for path segments and query terms.
func Escape(s string) string {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			var b strings.Builder
			b.Grow(len(s) + 8)
			b.WriteString(s[:i])
			escapeTo(&b, s[i:], false)
			return b.String()
		}
	}
	return s // nothing to escape: the usual case, without a copy
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// escapeTo writes s escaped as Escape does, keeping '/' when keepSlash.
func escapeTo(b *strings.Builder, s string, keepSlash bool) {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
}

// CanonicalURI escapes each segment of the decoded path and always ends the
// result with "/".
func CanonicalURI(path string) string {
	// Each segment escaped and joined with "/" is the path escaped with
	// its slashes kept.
	var b strings.Builder
	b.Grow(len(path) + 1)
	escapeTo(&b, path, true)
	if !strings.HasSuffix(path, "/") {
		b.WriteByte('/')
	}
	return b.String()
}

// CanonicalQuery sorts keys and, per key, values; both escaped, joined as
// k=v&k=v. No parameters give "".
func CanonicalQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vals := slices.Clone(q[k])
		sort.Strings(vals)
		for _, v := range vals {
			parts = append(parts, Escape(k)+"="+Escape(v))
		}
	}
	return strings.Join(parts, "&")
}

// SignedHeaderNames is the SDK's choice of headers to sign: every header
// name lower-cased, except Content-Type* and names containing "_", sorted.
func SignedHeaderNames(h http.Header) []string {
	var names []string
	for k := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "content-type") || strings.Contains(lk, "_") || lk == "authorization" {
			continue
		}
		names = append(names, lk)
	}
	sort.Strings(names)
	return names
}

// CanonicalHeaders renders "name:value\n" for each signed header (values
// trimmed, several values sorted). host is taken from host when the header
// map has none, as a server sees it.
func CanonicalHeaders(h http.Header, host string, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		vals := h.Values(name)
		if len(vals) == 0 && name == "host" && host != "" {
			vals = []string{host}
		}
		if len(vals) > 1 {
			vals = slices.Clone(vals)
			sort.Strings(vals)
		}
		for _, v := range vals {
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(strings.TrimSpace(v))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// PayloadHash is the payload hash a signer uses: X-Sdk-Content-Sha256 when
// present, else the lower-case hex SHA-256 of the exact body bytes. Verify
// does not take the header on trust (see the package doc).
func PayloadHash(h http.Header, body []byte) string {
	if v := h.Get(HeaderContentSha256); v != "" {
		return v
	}
	return bodyHash(body)
}

func bodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// UnsignedPayloadAllowed reports whether a request with this Content-Type
// may leave its body unsigned: the SDK sends UNSIGNED-PAYLOAD when the
// Content-Type contains neither "application/json" nor "application/bson".
func UnsignedPayloadAllowed(contentType string) bool {
	return !strings.Contains(contentType, "application/json") && !strings.Contains(contentType, "application/bson")
}

// CanonicalRequest builds the canonical request of r with body, with the
// signer's payload hash (PayloadHash).
func CanonicalRequest(r *http.Request, body []byte, signed []string) string {
	return canonicalRequest(r, signed, PayloadHash(r.Header, body))
}

func canonicalRequest(r *http.Request, signed []string, payloadHash string) string {
	return r.Method + "\n" +
		CanonicalURI(r.URL.Path) + "\n" +
		CanonicalQuery(r.URL.Query()) + "\n" +
		CanonicalHeaders(r.Header, r.Host, signed) + "\n" +
		strings.Join(signed, ";") + "\n" +
		payloadHash
}

// StringToSign hashes the canonical request under the algorithm and date.
func StringToSign(date, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])
}

// Signature is hex(HMAC-SHA256(sk, stringToSign)).
func Signature(sk, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(sk))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// Sign signs r (with body) at now: it sets X-Sdk-Date (unless present) and
// Authorization over every header already on r, as the SDK does; like the
// SDK, it sets X-Sdk-Content-Sha256 to UNSIGNED-PAYLOAD when r has a
// Content-Type that UnsignedPayloadAllowed and no such header.
func Sign(r *http.Request, body []byte, ak, sk string, now time.Time) {
	if ct := r.Header.Values("Content-Type"); len(ct) > 0 && UnsignedPayloadAllowed(ct[0]) && len(r.Header.Values(HeaderContentSha256)) == 0 {
		r.Header.Set(HeaderContentSha256, UnsignedPayload)
	}
	if r.Header.Get(HeaderDate) == "" {
		r.Header.Set(HeaderDate, now.UTC().Format(DateFormat))
	}
	r.Header.Del("Authorization")
	signed := SignedHeaderNames(r.Header)
	sts := StringToSign(r.Header.Get(HeaderDate), CanonicalRequest(r, body, signed))
	r.Header.Set("Authorization", fmt.Sprintf("%s Access=%s, SignedHeaders=%s, Signature=%s",
		Algorithm, ak, strings.Join(signed, ";"), Signature(sk, sts)))
}

// Authorization is a parsed Authorization header.
type Authorization struct {
	AccessKey     string
	SignedHeaders []string
	Signature     string
}

// ParseAuthorization parses "SDK-HMAC-SHA256 Access=..., SignedHeaders=...,
// Signature=...".
func ParseAuthorization(v string) (Authorization, error) {
	var a Authorization
	rest, ok := strings.CutPrefix(v, Algorithm+" ")
	if !ok {
		return a, errors.New("authorization scheme is not " + Algorithm)
	}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, fmt.Errorf("malformed authorization element %q", strings.TrimSpace(part))
		}
		if seen[k] {
			return a, fmt.Errorf("authorization element %q given more than once", k)
		}
		seen[k] = true
		switch k {
		case "Access":
			a.AccessKey = val
		case "SignedHeaders":
			if val != "" {
				a.SignedHeaders = strings.Split(val, ";")
			}
		case "Signature":
			a.Signature = val
		default:
			return a, fmt.Errorf("unknown authorization element %q", k)
		}
	}
	switch {
	case a.AccessKey == "":
		return a, errors.New("authorization has no Access")
	case a.Signature == "":
		return a, errors.New("authorization has no Signature")
	case !slices.Contains(a.SignedHeaders, "x-sdk-date"):
		return a, errors.New("x-sdk-date is not signed")
	}
	for i, h := range a.SignedHeaders {
		if h == "" || h != strings.ToLower(h) || (i > 0 && a.SignedHeaders[i-1] >= h) {
			return a, errors.New("signed headers must be lower-case, sorted and unique")
		}
	}
	return a, nil
}

// Key is what the verifier knows about an access key.
type Key struct {
	SK string
	// SecurityToken, when set, must arrive (signed) in X-Security-Token;
	// when empty (a permanent key), X-Security-Token must be absent.
	SecurityToken string
}

// Lookup finds the key of an AK; ok is false for an unknown AK.
type Lookup func(ak string) (key Key, ok bool)

// Kind classifies a verification failure.
type Kind int

// Verification failure kinds. Every kind is an HTTP 401 APIGW.0301 on
// Huawei's gateway.
const (
	KindMissing      Kind = iota + 1 // no Authorization or X-Sdk-Date
	KindMalformed                    // a part cannot be parsed or is ambiguous (given twice, an escaped '/')
	KindUnknownKey                   // the AK does not exist
	KindExpired                      // X-Sdk-Date is more than MaxSkew from now
	KindBadToken                     // security token missing, wrong, or given with a permanent key
	KindBadSignature                 // the signature does not match
	KindUnsigned                     // a header that must be signed is not, or UNSIGNED-PAYLOAD where not allowed
)

// Error is a verification failure. Its message never contains the SK or
// the expected signature.
type Error struct {
	Kind      Kind
	AccessKey string
	Detail    string
}

func (e *Error) Error() string { return "signature verification failed: " + e.Detail }

// Verify checks r's signature over body at now, and that the signature
// binds every part of r that changes its meaning (see the package doc). It
// returns the AK on success and an *Error otherwise.
func Verify(r *http.Request, body []byte, lookup Lookup, now time.Time) (string, error) {
	authz := r.Header.Get("Authorization")
	date := r.Header.Get(HeaderDate)
	if authz == "" {
		return "", &Error{Kind: KindMissing, Detail: "missing Authorization header"}
	}
	if date == "" {
		return "", &Error{Kind: KindMissing, Detail: "missing X-Sdk-Date header"}
	}
	// One value each: with several, which one was signed is a guess.
	if len(r.Header.Values("Authorization")) > 1 || len(r.Header.Values(HeaderDate)) > 1 {
		return "", &Error{Kind: KindMalformed, Detail: "Authorization and X-Sdk-Date must each be given once"}
	}
	a, err := ParseAuthorization(authz)
	if err != nil {
		return "", &Error{Kind: KindMalformed, Detail: err.Error()}
	}
	// time.Parse would also take a fractional second ("...T050607.5Z");
	// the gateway wants exactly the layout.
	t, err := time.Parse(DateFormat, date)
	if err != nil || t.Format(DateFormat) != date {
		return "", &Error{Kind: KindMalformed, AccessKey: a.AccessKey, Detail: "X-Sdk-Date is not " + DateFormat}
	}
	// A query Go cannot parse (a ";" separator, a bad escape) would be
	// signed by the client as sent but canonicalised here without the
	// pairs Go drops.
	if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
		return "", &Error{Kind: KindMalformed, AccessKey: a.AccessKey, Detail: "query string cannot be parsed"}
	}
	if strings.Contains(strings.ToLower(r.URL.EscapedPath()), "%2f") {
		return "", &Error{Kind: KindMalformed, AccessKey: a.AccessKey,
			Detail: "the path has an escaped '/' (%2F), which the signature cannot tell from a '/'"}
	}
	key, ok := lookup(a.AccessKey)
	if !ok {
		return "", &Error{Kind: KindUnknownKey, AccessKey: a.AccessKey, Detail: "ak " + a.AccessKey + " not exist"}
	}
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return "", &Error{Kind: KindExpired, AccessKey: a.AccessKey,
			Detail: fmt.Sprintf("X-Sdk-Date %s is more than %s from the server time", date, MaxSkew)}
	}
	if err := checkSignedHeaders(r, a); err != nil {
		return "", err
	}
	if err := checkToken(r, a, key); err != nil {
		return "", err
	}
	payload, err := verifiedPayloadHash(r, body, a)
	if err != nil {
		return "", err
	}
	want := Signature(key.SK, StringToSign(date, canonicalRequest(r, a.SignedHeaders, payload)))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(a.Signature))) {
		return "", &Error{Kind: KindBadSignature, AccessKey: a.AccessKey, Detail: "verify aksk signature fail"}
	}
	return a.AccessKey, nil
}

// mustBeSigned reports whether a header (lower case) changes what a
// request means to Huawei, so that it counts only when signed.
func mustBeSigned(name string) bool {
	switch name {
	case "x-domain-id", "x-project-id", "x-security-token", "x-language", "x-sdk-content-sha256":
		return true
	}
	return false
}

// checkSignedHeaders: every signed header is present exactly once (host
// may come from r.Host), and every header that must be signed is.
func checkSignedHeaders(r *http.Request, a Authorization) error {
	for _, h := range a.SignedHeaders {
		switch n := len(r.Header.Values(h)); {
		case n == 0 && h != "host":
			return &Error{Kind: KindBadSignature, AccessKey: a.AccessKey, Detail: "signed header " + h + " is missing"}
		case n > 1:
			return &Error{Kind: KindMalformed, AccessKey: a.AccessKey,
				Detail: "signed header " + h + " is given more than once: the signature does not fix the order of its values"}
		}
	}
	for name := range r.Header {
		if lk := strings.ToLower(name); mustBeSigned(lk) && !slices.Contains(a.SignedHeaders, lk) {
			return &Error{Kind: KindUnsigned, AccessKey: a.AccessKey, Detail: "header " + name + " is present but not signed"}
		}
	}
	return nil
}

// checkToken: a temporary key needs its token, signed; a permanent key
// takes none.
func checkToken(r *http.Request, a Authorization, key Key) error {
	got := r.Header.Values(HeaderSecurityToken)
	if key.SecurityToken == "" {
		if len(got) > 0 {
			return &Error{Kind: KindBadToken, AccessKey: a.AccessKey, Detail: "a security token was given with a permanent access key"}
		}
		return nil
	}
	if len(got) != 1 || !hmac.Equal([]byte(got[0]), []byte(key.SecurityToken)) {
		return &Error{Kind: KindBadToken, AccessKey: a.AccessKey, Detail: "security token missing or invalid"}
	}
	return nil
}

// verifiedPayloadHash is the payload hash to check the signature with: the
// body's own hash, or X-Sdk-Content-Sha256 when it is signed (checked by
// checkSignedHeaders) and either matches the body or is UNSIGNED-PAYLOAD
// where the SDK sends it.
func verifiedPayloadHash(r *http.Request, body []byte, a Authorization) (string, error) {
	sum := bodyHash(body)
	v := r.Header.Get(HeaderContentSha256)
	switch {
	case len(r.Header.Values(HeaderContentSha256)) == 0:
		return sum, nil
	case v == UnsignedPayload:
		if ct := r.Header.Values("Content-Type"); len(ct) != 1 || !UnsignedPayloadAllowed(ct[0]) {
			return "", &Error{Kind: KindUnsigned, AccessKey: a.AccessKey,
				Detail: "UNSIGNED-PAYLOAD is accepted only with one Content-Type that is neither JSON nor BSON"}
		}
		return v, nil
	case !strings.EqualFold(v, sum):
		return "", &Error{Kind: KindBadSignature, AccessKey: a.AccessKey, Detail: "X-Sdk-Content-Sha256 does not match the body"}
	}
	return v, nil
}
