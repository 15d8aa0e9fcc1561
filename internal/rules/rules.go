// Package rules holds the validation rules of the Billing Center and
// workspace contract in one place, so that the clients (before sending), the
// activation builder (before planning) and the mock server (before changing
// state) all enforce exactly the same rules.
package rules

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/site"
)

// Limits of the contract. They are documented in api/openapi.yaml.
const (
	UsernameMinLen      = 3
	UsernameMaxLen      = 32
	PasswordMinLen      = 8
	PasswordMaxLen      = 64
	PasswordMinClasses  = 3 // of lower case, upper case, digits, symbols
	WorkspaceNameMaxLen = 256
	InstanceIDMaxLen    = 64
	CompanyNameMaxLen   = 128
	EmailMaxLen         = 254
	PhoneMaxLen         = 20
	CodeLength          = 6
	PageSizeMax         = 100
	PathIDMaxLen        = 64 // an ID in a path, such as getWorkspace's {uuid}
)

// Username checks the rule: 3–32 characters, letters, digits, '_', '-', '.', starting with
// a letter. Usernames are unique and cannot be changed.
func Username(p *apierror.Problems, field, v string) {
	n := utf8.RuneCountInString(v)
	switch {
	case v == "":
		p.Add(field, "is required")
		return
	case n < UsernameMinLen || n > UsernameMaxLen:
		p.Add(field, "must be %d to %d characters", UsernameMinLen, UsernameMaxLen)
		return
	}
	for i, r := range v {
		if i == 0 && !(r < unicode.MaxASCII && unicode.IsLetter(r)) {
			p.Add(field, "must start with an ASCII letter")
			return
		}
		if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.')) {
			p.Add(field, "may contain only ASCII letters, digits, '_', '-' and '.'")
			return
		}
	}
}

// Password checks the rule: 8–64 characters with at least 3 of the 4 classes lower case,
// upper case, digits and symbols, and no spaces. Messages never echo it.
func Password(p *apierror.Problems, field, v string) {
	if v == "" {
		p.Add(field, "is required")
		return
	}
	n := utf8.RuneCountInString(v)
	if n < PasswordMinLen || n > PasswordMaxLen {
		p.Add(field, "must be %d to %d characters", PasswordMinLen, PasswordMaxLen)
		return
	}
	var lower, upper, digit, symbol bool
	for _, r := range v {
		switch {
		case unicode.IsSpace(r) || !unicode.IsPrint(r):
			p.Add(field, "must not contain spaces or control characters")
			return
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			symbol = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, symbol} {
		if b {
			classes++
		}
	}
	if classes < PasswordMinClasses {
		p.Add(field, "must use at least %d of: lower case, upper case, digits, symbols", PasswordMinClasses)
	}
}

// Email checks the rule: a single plain address (no display name), at most 254 characters.
func Email(p *apierror.Problems, field, v string) {
	if v == "" {
		p.Add(field, "is required")
		return
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > EmailMaxLen || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
		p.Add(field, "must be a valid email address")
	}
}

// NormalizeEmail lower-cases an address for uniqueness checks.
func NormalizeEmail(v string) string { return strings.ToLower(strings.TrimSpace(v)) }

// Phone checks the rule: optional; when set, '+' then 6–19 digits, or 6–20 digits.
func Phone(p *apierror.Problems, field, v string) {
	if v == "" {
		return
	}
	d := strings.TrimPrefix(v, "+")
	if len(d) < 6 || len(v) > PhoneMaxLen {
		p.Add(field, "must be 6 to 20 digits, optionally starting with '+'")
		return
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			p.Add(field, "must be 6 to 20 digits, optionally starting with '+'")
			return
		}
	}
}

// Code checks the rule: an email verification code, exactly 6 digits. Messages never echo it.
func Code(p *apierror.Problems, field, v string) {
	if v == "" {
		p.Add(field, "is required")
		return
	}
	if len(v) != CodeLength || strings.Trim(v, "0123456789") != "" {
		p.Add(field, "must be %d digits", CodeLength)
	}
}

// HuaweiAccountID checks the rule: the Huawei Cloud account (domain) ID, 32 lower-case hex.
func HuaweiAccountID(p *apierror.Problems, field, v string) {
	if v == "" {
		p.Add(field, "is required")
		return
	}
	if !IsHuaweiAccountID(v) {
		p.Add(field, "must be 32 lower-case hexadecimal characters (Huawei Cloud: My Credentials > Account ID)")
	}
}

// IsHuaweiAccountID reports whether v is 32 lower-case hex characters.
func IsHuaweiAccountID(v string) bool {
	if len(v) != 32 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// InstanceID checks the rule: the marketplace instance ID, 1–64 printable ASCII characters
// without spaces.
func InstanceID(p *apierror.Problems, field, v string) {
	if v == "" {
		p.Add(field, "is required")
		return
	}
	if !IsInstanceID(v) {
		p.Add(field, "must be 1 to %d printable ASCII characters without spaces", InstanceIDMaxLen)
	}
}

// IsInstanceID reports whether v is a well-formed instance ID.
func IsInstanceID(v string) bool {
	if len(v) < 1 || len(v) > InstanceIDMaxLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

// WorkspaceName checks the rule: 1–256 characters, not only white space.
func WorkspaceName(p *apierror.Problems, field, v string) {
	if strings.TrimSpace(v) == "" {
		p.Add(field, "is required")
		return
	}
	if utf8.RuneCountInString(v) > WorkspaceNameMaxLen || !utf8.ValidString(v) {
		p.Add(field, "must be 1 to %d characters", WorkspaceNameMaxLen)
	}
}

// CompanyName checks the rule: required, at most 128 characters.
func CompanyName(p *apierror.Problems, field, v string) {
	if strings.TrimSpace(v) == "" {
		p.Add(field, "is required")
		return
	}
	if utf8.RuneCountInString(v) > CompanyNameMaxLen {
		p.Add(field, "must be at most %d characters", CompanyNameMaxLen)
	}
}

// Terms checks the rule: the terms of service must be accepted.
func Terms(p *apierror.Problems, field string, accepted bool) {
	if !accepted {
		p.Add(field, "the terms of service must be accepted")
	}
}

// Required checks the rule: a non-empty string.
func Required(p *apierror.Problems, field, v string) {
	if strings.TrimSpace(v) == "" {
		p.Add(field, "is required")
	}
}

// PathID checks the rule: an ID that goes in a URL path, 1 to 64
// characters and not a relative path segment ("." or "..", which would
// name another path).
func PathID(p *apierror.Problems, field, v string) {
	switch {
	case strings.TrimSpace(v) == "":
		p.Add(field, "is required")
	case utf8.RuneCountInString(v) > PathIDMaxLen:
		p.Add(field, "must be 1 to %d characters", PathIDMaxLen)
	case v == "." || v == "..":
		p.Add(field, "must not be a relative path segment")
	}
}

// Site checks the rule: a site is required and must be one of site.Codes.
func Site(p *apierror.Problems, field string, c site.Code) {
	switch {
	case c == "":
		p.Add(field, "is required")
	case !c.Valid():
		p.Add(field, "unknown site %q", string(c))
	}
}

// Language checks the rule: a workspace language (twapi.Language) is
// required and must be valid.
func Language[L interface {
	~string
	Valid() bool
}](p *apierror.Problems, field string, l L) {
	switch {
	case l == "":
		p.Add(field, "is required")
	case !l.Valid():
		p.Add(field, "unsupported language %q (supported: zh, en)", string(l))
	}
}

// Page checks the rule: pageIndex from 1, pageSize 1–100. Zero values mean defaults and pass.
func Page(p *apierror.Problems, index, size int) {
	if index < 0 {
		p.Add("pageIndex", "must be 1 or more")
	}
	if size < 0 || size > PageSizeMax {
		p.Add("pageSize", "must be 1 to %d", PageSizeMax)
	}
}
