package mockserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
)

// Proofs of ownership of a Huawei account, as the Billing Center checks
// them (internal/proof has the design). A call keyed by a Huawei account
// and instance carries one in X-TrueWatch-Ownership-Proof; the mock checks
// it without any call (a trusted identity endpoint, the allowed headers,
// the signed audience, the signing window, single use), then sends the
// signed request to its own Huawei half, through the same handler every
// Huawei request goes through (signature verification, faults included),
// and learns the account from STS's (or IAM's) answer. Used proofs are
// remembered, by signature, until their window ends.

// proofTimeout bounds the call to the Huawei half that checks a proof.
const proofTimeout = 10 * time.Second

// access says who may call a TrueWatch operation.
type access int

const (
	// anyone: no credential (sending a verification code).
	anyone access = iota
	// ownerForDetail: anyone, but only a proven owner of the Huawei account
	// gets the complete answer (the subscription lookup).
	ownerForDetail
	// owner: the proven owner of the Huawei account the request names
	// (register, bind a Billing Center account).
	owner
	// tokenHolder: a Billing Center token.
	tokenHolder
)

type provenKey struct{}

// provenCaller is who a request's proof proved: a Huawei account, and for
// an activation link's token, the one instance it is good for.
type provenCaller struct {
	account  string
	instance string // "" for a signed proof: every instance of the account
	link     string // the activation token, for a link proof
}

// provenOf is who the request's proof proved (zero when none).
func provenOf(r *http.Request) provenCaller {
	p, _ := r.Context().Value(provenKey{}).(provenCaller)
	return p
}

// WithAudience sets the audience ownership proofs must name: the identity
// of this Billing Center. The default is BillingURL normalised (scheme and
// host in lower case, no trailing slash), which is what the billing client
// derives from the same URL; set it when clients reach the mock by another
// name than its BillingURL and cannot be told to use WithPublicURL.
func WithAudience(audience string) Option {
	return func(cfg *config) error {
		a, err := proof.Audience(audience)
		if err != nil {
			return fmt.Errorf("mockserver: invalid audience %q: %w", audience, err)
		}
		cfg.audience = a
		return nil
	}
}

// Audience is the audience ownership proofs must name (WithAudience, or
// BillingURL normalised).
func (s *Server) Audience() string {
	if s.cfg.audience != "" {
		return s.cfg.audience
	}
	a, err := proof.Audience(s.BillingURL())
	if err != nil {
		return s.BillingURL()
	}
	return a
}

// ProofEndpoints lists the origins of the Huawei identity endpoints whose
// proofs the mock accepts: its own URL (and its listener's, when
// WithPublicURL names it otherwise). It never sends a proof elsewhere.
func (s *Server) ProofEndpoints() []string { return append([]string(nil), s.proofOrigins...) }

// proofOriginsFor lists the origins of the given URLs, once each.
func proofOriginsFor(urls ...string) []string {
	var out []string
	for _, u := range urls {
		if o, err := proof.Origin(u); err == nil && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// checkProof verifies the request's ownership proof and returns who it
// proves; zero when there is none and need allows that. A proof is a
// signed Huawei request, or an activation link's token (checkLink).
func (s *Server) checkProof(r *http.Request, need access) (provenCaller, *twError) {
	vals := r.Header.Values(proof.Header)
	if len(vals) == 0 && need == ownerForDetail {
		return provenCaller{}, nil
	}
	aud := s.Audience()
	if len(vals) > 1 {
		return provenCaller{}, proofErr(&proof.Error{Code: apierror.CodeProofInvalid, Msg: "give one " + proof.Header + " header"}, aud)
	}
	header := ""
	if len(vals) == 1 {
		header = vals[0]
		if strings.TrimSpace(header) == "" {
			// Given but empty is a malformed proof, not none.
			return provenCaller{}, proofErr(&proof.Error{Code: apierror.CodeProofInvalid, Msg: "the " + proof.Header + " header is empty"}, s.Audience())
		}
	}
	if token, isLink, perr := proof.DecodeLink(header); isLink {
		if perr != nil {
			return provenCaller{}, proofErr(perr, aud)
		}
		return s.checkLink(r, token, aud)
	}
	c, perr := proof.Check(header, proof.Policy{Audience: aud, Endpoints: s.proofOrigins, Now: s.cfg.sigClock.Now()})
	if perr != nil {
		return provenCaller{}, proofErr(perr, aud)
	}
	if s.proofUsed(c.ID) {
		return provenCaller{}, proofErr(reusedProof(), aud)
	}
	ctx, cancel := context.WithTimeout(r.Context(), proofTimeout)
	defer cancel()
	account, perr := proof.Exchange(ctx, handlerTransport{s.handler}, c)
	if perr != nil {
		return provenCaller{}, proofErr(perr, aud)
	}
	// Checked again under the lock: of two requests racing with one
	// proof, one wins.
	if !s.useProof(c.ID, c.Until) {
		return provenCaller{}, proofErr(reusedProof(), aud)
	}
	return provenCaller{account: account}, nil
}

func reusedProof() *proof.Error {
	return &proof.Error{Code: apierror.CodeProofReused,
		Msg: "this ownership proof was already used; sign a fresh one for every call and every retry"}
}

// proofErr is the answer to a refused proof: 403 for a valid proof of
// another account, 502 when Huawei could not be asked, 401 otherwise.
func proofErr(e *proof.Error, audience string) *twError {
	status := http.StatusUnauthorized
	switch e.Code {
	case apierror.CodeProofAccountMismatch:
		status = http.StatusForbidden
	case apierror.CodeProofUnverifiable:
		status = http.StatusBadGateway
	}
	te := twErr(status, e.Code, "%s", e.Msg)
	te.challenge = proofChallenge(audience)
	return te
}

// proofChallenge is the WWW-Authenticate of a refused proof: the scheme
// and the audience to sign for.
func proofChallenge(audience string) string {
	return `HuaweiOwnershipProof audience="` + strings.ReplaceAll(audience, `"`, `%22`) + `"`
}

// proofUsed reports whether a proof was used already.
func (s *Server) proofUsed(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, used := s.st.tw.proofsUsed[id]
	return used
}

// useProof marks a proof used until its window ends; false if it already
// was. Proofs whose window has ended are freed first. The window is that
// of the signature, so it is measured by the signature clock
// (WithSignatureClock), like the signature's own skew check.
func (s *Server) useProof(id string, until time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.sigClock.Now()
	tw := &s.st.tw
	tw.proofQ.expire(now, func(k string) {
		if at, ok := tw.proofsUsed[k]; ok && !now.Before(at) {
			delete(tw.proofsUsed, k)
		}
	})
	if _, used := tw.proofsUsed[id]; used {
		return false
	}
	tw.proofsUsed[id] = until
	// A proof's window ends at most 2*Window after now (it was signed at
	// most Window ahead); queueing at that time keeps the queue in clock
	// order whatever the callers' clocks.
	tw.proofQ.push(now.Add(2*proof.Window), id)
	return true
}

// ownerOf checks that the proven account of a call is the account of the
// subscription it names (and, for an activation link, its instance);
// every operation for owners calls it before anything else, so a proof of
// one's own account never acts on another's.
func (c *call) ownerOf(k subKey) *twError {
	switch {
	case c.proven.account == "":
		return twErr(http.StatusUnauthorized, apierror.CodeProofRequired,
			"this call needs a proof of ownership of Huawei account %s (%s)", k.huaweiAccountID, proof.Header)
	case c.proven.account != k.huaweiAccountID:
		return &twError{status: http.StatusForbidden, code: apierror.CodeProofAccountMismatch,
			msg: fmt.Sprintf("the ownership proof is for another Huawei account than %s", k.huaweiAccountID)}
	case c.proven.instance != "" && c.proven.instance != k.instanceID:
		return &twError{status: http.StatusForbidden, code: apierror.CodeProofAccountMismatch,
			msg: fmt.Sprintf("the activation link is for another instance than %s", k.instanceID)}
	}
	return nil
}

// OwnershipProver returns a prover for the Huawei account huaweiAccountID,
// for tests: it signs with the account's first access key, at the
// server's signature clock (the wall clock unless WithSignatureClock; so
// a ManualClock given WithClock anywhere in time works), against the
// server's own STS endpoint. A real caller proves with its own keys
// instead, through *huawei.Client, which is a billing.OwnershipProver too.
// A prover for an account without keys fails when asked for a proof.
func (s *Server) OwnershipProver(huaweiAccountID string) billing.OwnershipProver {
	return serverProver{s: s, account: huaweiAccountID}
}

type serverProver struct {
	s       *Server
	account string
}

func (p serverProver) OwnershipProof(_ context.Context, audience string) (string, error) {
	s := p.s
	s.mu.Lock()
	acc := s.st.huawei.accounts[p.account]
	var key AccessKey
	if acc != nil && len(acc.Keys) > 0 {
		key = acc.Keys[0]
	}
	s.mu.Unlock()
	if key.AK == "" {
		return "", fmt.Errorf("mockserver: Huawei account %s has no access key to prove it with", p.account)
	}
	return proof.Sign(s.HuaweiEndpoint(), proof.PathCallerIdentity, audience, key.AK, key.SK, key.SecurityToken, s.cfg.sigClock.Now())
}

// listenerURL is the URL of the server's own listener, "" without one.
func (s *Server) listenerURL() string {
	if s.ln == nil {
		return ""
	}
	return s.scheme() + "://" + s.ln.Addr().String()
}
