package mockserver

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
)

// Activation links: the second form of proof of ownership (internal/proof
// link.go). TrueWatch's production interface answers newInstance with a
// front-end URL carrying a token from crypto/rand, issued for that
// instance; the Billing Center accepts the token, sent as an ownership
// proof, for that instance's Huawei account and that instance only:
//
//   - until it expires (WithActivationLinkTTL, 7 days after it was issued):
//     ft.OwnershipProofExpired after;
//   - for any call about another instance: ft.OwnershipProofAccountMismatch;
//   - once for an activation: the first register or bind of a Billing
//     Center account it proves uses it up. After that, another
//     registration is ft.OwnershipProofReused, and so is a bind of any
//     Billing Center account but the one it bound (binding that one again
//     changes nothing, and lets an interrupted activation get its token
//     back); a retry with the same Idempotency-Key is replayed as for
//     every proof. Look-ups (the subscription) keep working until it
//     expires, so that an interrupted activation can see where it stands.
//
// An unknown token is ft.OwnershipProofInvalid. The Billing Center checks
// tokens against its own records; no call is made.

// DefaultActivationLinkTTL is how long an activation link works after
// newInstance issued it.
const DefaultActivationLinkTTL = 7 * 24 * time.Hour

// WithActivationLinkTTL sets how long an activation link works after it
// was issued (default DefaultActivationLinkTTL).
func WithActivationLinkTTL(d time.Duration) Option {
	return func(cfg *config) error {
		if d <= 0 || d > maxClockMove {
			return errors.New("mockserver: the activation link lifetime must be positive")
		}
		cfg.linkTTL = d
		return nil
	}
}

// linkRec is what the Billing Center keeps of an activation token.
type linkRec struct {
	sub     subKey
	expires time.Time
	// used is set by the first register or bind the token proved;
	// billingAccountID is the Billing Center account it bound.
	used             bool
	billingAccountID string
}

// issueLinkLocked makes the activation token of an instance and returns
// its link.
func (s *Server) issueLinkLocked(k subKey) string {
	tok := newActivationToken()
	s.st.tw.links[tok] = &linkRec{sub: k, expires: s.Now().Add(s.cfg.linkTTL)}
	q := url.Values{"huaweiAccountId": {k.huaweiAccountID}, "instanceId": {k.instanceID}, "token": {tok}}
	return s.BillingURL() + ActivationPath + "?" + q.Encode()
}

// checkLink checks an activation token sent as an ownership proof.
func (s *Server) checkLink(r *http.Request, token, aud string) (provenCaller, *twError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.tw.links[token]
	switch {
	case rec == nil:
		return provenCaller{}, proofErr(&proof.Error{Code: apierror.CodeProofInvalid,
			Msg: "this activation link is not one the Billing Center issued"}, aud)
	case !s.Now().Before(rec.expires):
		return provenCaller{}, proofErr(&proof.Error{Code: apierror.CodeProofExpired,
			Msg: fmt.Sprintf("this activation link expired at %s; prove ownership with Huawei credentials instead",
				rec.expires.UTC().Format(time.RFC3339))}, aud)
	}
	return provenCaller{account: rec.sub.huaweiAccountID, instance: rec.sub.instanceID, link: token}, nil
}

// linkAllowsLocked refuses a change proved by an activation token that was
// used up, unless it binds again the Billing Center account the token
// bound (billingAccountID; "" for a registration, which is never
// allowed again). Other proofs pass.
func (s *Server) linkAllowsLocked(c *call, billingAccountID string) *twError {
	rec := s.st.tw.links[c.proven.link]
	if rec == nil || !rec.used || (billingAccountID != "" && billingAccountID == rec.billingAccountID) {
		return nil
	}
	e := twErr(http.StatusUnauthorized, apierror.CodeProofReused,
		"this activation link was used already; prove ownership with Huawei credentials instead")
	e.challenge = proofChallenge(s.Audience())
	return e
}

// useLinkLocked uses up the activation token a successful register or
// bind was proved with, if it was, recording the Billing Center account
// bound.
func (s *Server) useLinkLocked(c *call, billingAccountID string) {
	if rec := s.st.tw.links[c.proven.link]; rec != nil && !rec.used {
		rec.used, rec.billingAccountID = true, billingAccountID
	}
}

// activationPage serves GET {BillingURL}/activate, the page an activation
// link opens: it says which instance the link is for and how to activate
// with it. It uses nothing up.
func (s *Server) activationPage(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	s.mu.Lock()
	var rec *linkRec
	if err == nil && len(q["token"]) == 1 {
		rec = s.st.tw.links[q.Get("token")]
	}
	var cp linkRec
	if rec != nil {
		cp = *rec
	}
	now := s.Now()
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if rec == nil {
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprintln(w, "TrueWatch activation: this link is not one the Billing Center issued.")
		return
	}
	state := "works until " + cp.expires.UTC().Format(time.RFC3339)
	switch {
	case !now.Before(cp.expires):
		state = "expired; activate with Huawei credentials instead"
	case cp.used:
		state = "used already; activate with Huawei credentials instead"
	}
	_, _ = fmt.Fprintf(w, "TrueWatch activation of instance %s (Huawei account %s).\nThis link %s.\n\n"+
		"Activate with the SDK, without Huawei credentials:\n\n\ttruewatch.NewActivation().WithActivationLink(<this URL>)...\n"+
		"\tgo run ./examples/activate -activation-link '<this URL>'\n",
		cp.sub.instanceID, cp.sub.huaweiAccountID, state)
}
