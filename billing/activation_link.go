package billing

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// ActivationLink is the marketplace's activation link: the front-end URL
// TrueWatch answers KooGallery's newInstance with, which the buyer opens
// from Huawei Cloud's Purchased Services ("Start using"):
//
//	<Billing Center>/activate?huaweiAccountId=<account>&instanceId=<instance>&token=atk_<32 hex>
//
// Its token, issued for that one instance and shown only to its buyer, is
// the second form of proof of ownership of the Huawei account, for a
// caller without Huawei credentials: an ActivationLink is an
// OwnershipProver. The Billing Center accepts it for calls about that
// instance only (others are ft.OwnershipProofAccountMismatch), until it
// expires (ft.OwnershipProofExpired), and the first register or bind it
// proves uses it up: after it, another registration, or a bind of any
// Billing Center account but the one it bound, is ft.OwnershipProofReused
// (a retry with the same Idempotency-Key is replayed, as for every proof),
// and look-ups keep working until it expires. The link's format is this
// project's (the mock issues it); TrueWatch's production link is not
// public.
//
// The token is a secret: String, GoString, %v and JSON redact it.
type ActivationLink struct {
	HuaweiAccountID string
	InstanceID      string
	Token           secret.String
}

// ParseActivationLink reads an activation link. It needs an absolute http
// or https URL whose query holds token (atk_ and 32 lower-case hex
// characters) and the instance's huaweiAccountId and instanceId, each
// once; errors never repeat the token.
func ParseActivationLink(raw string) (*ActivationLink, error) {
	const op = "ParseActivationLink"
	var p apierror.Problems
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.Add("activationLink", "must be an absolute http(s) URL")
		return nil, p.Err(op)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		p.Add("activationLink", "has a malformed query")
		return nil, p.Err(op)
	}
	one := func(name string) string {
		switch v := q[name]; len(v) {
		case 0:
			p.Add("activationLink."+name, "is missing")
		case 1:
			return v[0]
		default:
			p.Add("activationLink."+name, "is given more than once")
		}
		return ""
	}
	l := &ActivationLink{HuaweiAccountID: one("huaweiAccountId"), InstanceID: one("instanceId"), Token: secret.String(one("token"))}
	if l.HuaweiAccountID != "" {
		rules.HuaweiAccountID(&p, "activationLink.huaweiAccountId", l.HuaweiAccountID)
	}
	if l.InstanceID != "" {
		rules.InstanceID(&p, "activationLink.instanceId", l.InstanceID)
	}
	if !l.Token.IsZero() && !proof.IsLinkToken(l.Token.Reveal()) {
		p.Add("activationLink.token", "must be atk_ and 32 lower-case hex characters")
	}
	if err := p.Err(op); err != nil {
		return nil, err
	}
	return l, nil
}

// OwnershipProof implements OwnershipProver: the link's token, for the
// proof header. The audience is not part of it: the token is good only at
// the Billing Center that issued it.
func (l *ActivationLink) OwnershipProof(context.Context, string) (string, error) {
	if l == nil || !proof.IsLinkToken(l.Token.Reveal()) {
		return "", errors.New("billing: the activation link has no valid token")
	}
	return proof.EncodeLink(l.Token.Reveal()), nil
}

// String describes the link without its token.
func (l *ActivationLink) String() string {
	if l == nil {
		return "<nil>"
	}
	return "activation link for instance " + l.InstanceID + " of Huawei account " + l.HuaweiAccountID + " (token " + l.Token.String() + ")"
}

// GoString is String, so that %#v does not print the token either.
func (l *ActivationLink) GoString() string { return l.String() }
