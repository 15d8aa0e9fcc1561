package billing

import (
	"context"
	"errors"
	"net/http"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/internal/twcore"
)

// ProofHeader is the request header that carries a proof of ownership of a
// Huawei account.
const ProofHeader = proof.Header

// OwnershipProver makes proofs that the caller controls a Huawei Cloud
// account, for the Billing Center calls keyed by a Huawei account and
// instance: GetSubscription (the complete answer), Register and
// BindBillingAccount (required). *huawei.Client is one: it signs a Huawei
// STS caller-identity request with the account's AK/SK (see
// huawei.Client.OwnershipProof and docs/security.md).
//
// OwnershipProof returns a fresh proof for the Billing Center named by
// audience (Client.Audience), encoded for ProofHeader. It is called before
// every HTTP attempt, retries included, since a proof is good for one use;
// it should therefore be local (signing, no I/O) and safe for concurrent
// use.
type OwnershipProver interface {
	OwnershipProof(ctx context.Context, audience string) (string, error)
}

// WithOwnershipProver sets the prover every call keyed by a Huawei account
// uses, unless the call names its own with WithOwnershipProof. A client
// shared by many tenants should leave it out and give each call its
// tenant's prover.
func WithOwnershipProver(p OwnershipProver) Option {
	return own("WithOwnershipProver", func(o *options) error {
		if p == nil {
			return httpcore.BadOption("WithOwnershipProver", "prover is nil")
		}
		o.prover = p
		return nil
	})
}

// WithAudience sets the audience proofs name: the identity of the Billing
// Center, which refuses proofs made for any other. The default is the base
// URL (WithBaseURL), normalised: scheme and host in lower case, no
// trailing slash. Set it when the Billing Center knows itself by another
// name than the URL this client reaches it at (a proxy, a tunnel); the
// Billing Center's refusal (ft.OwnershipProofAudience) says which
// audience it expects.
func WithAudience(audience string) Option {
	return own("WithAudience", func(o *options) error {
		a, err := proof.Audience(audience)
		if err != nil {
			return httpcore.BadOption("WithAudience", "%v", err)
		}
		o.audience = a
		return nil
	})
}

// WithOwnershipProof makes one call prove ownership with p instead of the
// client's WithOwnershipProver.
func WithOwnershipProof(p OwnershipProver) RequestOption {
	return twcore.OwnCall(serviceName, "WithOwnershipProof", func(o *callOptions) { o.prover, o.proverSet = p, true })
}

// OwnershipProver returns the prover given with WithOwnershipProver, or
// nil.
func (c *Client) OwnershipProver() OwnershipProver { return c.prover }

// Audience returns the audience the client's proofs name.
func (c *Client) Audience() string { return c.audience }

// proofNeed says whether a call carries a proof.
type proofNeed int

const (
	proofNone     proofNeed = iota // not keyed by a Huawei account
	proofOptional                  // sent when a prover is set; without it the answer is partial
	proofRequired                  // refused before sending without a prover
)

// attachProof makes req sign a fresh proof before every attempt, with the
// call's or the client's prover. A required proof without a prover is a
// problem of the call, added to invalid so that nothing is sent.
func (c *Client) attachProof(req *httpcore.Request, need proofNeed, o *callOptions, invalid error) error {
	if need == proofNone {
		return invalid
	}
	prover := c.prover
	if o.proverSet {
		prover = o.prover
	}
	if prover == nil {
		if need == proofRequired {
			var p apierror.Problems
			var ve *apierror.ValidationError
			if errors.As(invalid, &ve) {
				p = append(p, ve.Problems...)
			} else if invalid != nil {
				return invalid
			}
			p.Add("ownershipProof", "is required: the call is keyed by a Huawei account, so it must prove control of it "+
				"(billing.WithOwnershipProver on the client or billing.WithOwnershipProof on the call, e.g. with a *huawei.Client)")
			return p.Err(req.Operation)
		}
		return invalid
	}
	audience := c.audience
	req.PrepareAttempt = func(r *http.Request) error {
		v, err := prover.OwnershipProof(r.Context(), audience)
		if err != nil {
			return errors.Join(errors.New("ownership proof"), err)
		}
		// Each attempt gets its own header map: retries copy the request
		// shallowly.
		r.Header = r.Header.Clone()
		r.Header.Set(ProofHeader, v)
		return nil
	}
	return invalid
}
