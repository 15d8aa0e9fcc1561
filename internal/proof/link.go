package proof

import (
	"regexp"
	"strings"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// The second form of proof: the token of the marketplace's activation
// link. TrueWatch answers KooGallery's newInstance with a front-end URL
// that carries a random, single-use token issued for that instance; only
// the buyer sees it (in KooGallery's Purchased Services). Sent in Header
// as LinkScheme, a space and the token, it proves the instance's Huawei
// account to the Billing Center that issued it, for that instance only,
// until it expires; the first register or bind it proves uses it up (a
// retry of that same call, with its Idempotency-Key, is still answered).
// Unlike a signed request it needs no Huawei credentials, and the Billing
// Center checks it against its own records, with no call.

// LinkScheme starts a Header value that is an activation link's token.
const LinkScheme = "ActivationLink"

var linkToken = regexp.MustCompile(`^atk_[0-9a-f]{32}$`)

// IsLinkToken reports whether t has the shape of an activation token:
// "atk_" and 32 lower-case hex characters.
func IsLinkToken(t string) bool { return linkToken.MatchString(t) }

// EncodeLink returns the Header value of an activation token.
func EncodeLink(token string) string { return LinkScheme + " " + token }

// DecodeLink reports whether a Header value is an activation link's (it
// starts with LinkScheme) and returns its token, or the refusal of a
// malformed one.
func DecodeLink(header string) (token string, isLink bool, err *Error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(header), LinkScheme)
	if !ok {
		return "", false, nil
	}
	token = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, " ") || !IsLinkToken(token) {
		return "", true, fail(apierror.CodeProofInvalid, "an activation link proof is %q, a space and the link's token (atk_ and 32 hex characters)", LinkScheme)
	}
	return token, true, nil
}
