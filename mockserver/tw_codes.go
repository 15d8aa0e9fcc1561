package mockserver

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"math/big"
	"net/http"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// opSendCode: POST /api/v1/verification_code/send. A code is sent whether or
// not an account uses the address (no account enumeration); it is checked
// when used. A new code replaces the old one.
func (s *Server) opSendCode(_ *call, req *billing.SendCodeRequest) (any, *twError) {
	now := s.now()
	k := codeKey{rules.NormalizeEmail(req.Email), req.Purpose}
	if last, ok := s.st.tw.lastSent[k]; ok {
		if wait := last.Add(codeResendInterval).Sub(s.cfg.clock.Now()); wait > 0 {
			e := twErr(http.StatusTooManyRequests, apierror.CodeCodeResendTooSoon,
				"a %s code was sent to this address less than %s ago; ask again later", req.Purpose, codeResendInterval)
			e.retryAfter = wait
			return nil, e
		}
	}
	s.expireCodesLocked()
	code := newCode()
	s.st.tw.codes[k] = &codeRec{code: code, expiresAt: now.Add(codeTTL)}
	s.st.tw.lastSent[k] = now
	// An expired code is kept for one more lifetime, so that using it says
	// ft.VerificationCodeExpired rather than that there is none.
	s.st.tw.codeQ.push(now.Add(2*codeTTL), k)
	s.st.tw.sentQ.push(now.Add(codeResendInterval), k)
	s.st.tw.outbox.add(Email{
		To:      req.Email,
		Purpose: req.Purpose,
		Code:    secret.String(code),
		Subject: "Your TrueWatch verification code",
		Body: fmt.Sprintf("Your verification code is %s. Use it to %s. It expires in %d minutes.",
			code, purposeText(req.Purpose), int(codeTTL.Minutes())),
		SentAt: now,
	})
	return billing.SendCodeResult{Email: req.Email, Purpose: req.Purpose,
		ExpiresAt:   twapi.Timestamp{Time: now.Add(codeTTL)},
		ResendAfter: twapi.Timestamp{Time: now.Add(codeResendInterval)}}, nil
}

// newCode makes a 6-digit code from crypto/rand, uniform over 000000 to
// 999999: a code must not be predictable from anything an attacker can
// see (IDs, the seed, earlier codes). Tests read codes from the outbox.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		// crypto/rand does not fail on supported platforms; a code nobody
		// can type is the safe answer if it ever does.
		return "no-code"
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// expireCodesLocked frees the codes that expired more than a code lifetime
// ago (used ones are freed when used) and the resend marks older than the
// resend interval.
func (s *Server) expireCodesLocked() {
	now := s.cfg.clock.Now()
	tw := &s.st.tw
	tw.codeQ.expire(now, func(k codeKey) {
		if rec := tw.codes[k]; rec != nil && !now.Before(rec.expiresAt.Add(codeTTL)) {
			delete(tw.codes, k)
		}
	})
	tw.sentQ.expire(now, func(k codeKey) {
		if last, ok := tw.lastSent[k]; ok && !now.Before(last.Add(codeResendInterval)) {
			delete(tw.lastSent, k)
		}
	})
}

// checkCodeLocked verifies a code for email and purpose without using it
// up: the operation consumes it (consumeCodeLocked) only once everything
// else has passed. A wrong code counts as an attempt; the fifth wrong
// attempt invalidates the code.
func (s *Server) checkCodeLocked(email string, purpose billing.Purpose, given secret.String) *twError {
	rec := s.st.tw.codes[codeKey{rules.NormalizeEmail(email), purpose}]
	if rec == nil || rec.dead {
		return twErr(http.StatusBadRequest, apierror.CodeInvalidCode,
			"no valid %s verification code for this email; request a new one", purpose)
	}
	if !s.cfg.clock.Now().Before(rec.expiresAt) {
		return twErr(http.StatusBadRequest, apierror.CodeCodeExpired, "the verification code has expired; request a new one")
	}
	if subtle.ConstantTimeCompare([]byte(rec.code), []byte(given.Reveal())) != 1 {
		rec.attempts++
		if rec.attempts >= codeMaxAttempts {
			rec.dead = true
			return twErr(http.StatusBadRequest, apierror.CodeInvalidCode,
				"wrong verification code; after %d wrong attempts the code no longer works, request a new one", codeMaxAttempts)
		}
		return twErr(http.StatusBadRequest, apierror.CodeInvalidCode,
			"wrong verification code (%d attempts left)", codeMaxAttempts-rec.attempts)
	}
	return nil
}

func (s *Server) consumeCodeLocked(email string, purpose billing.Purpose) {
	delete(s.st.tw.codes, codeKey{rules.NormalizeEmail(email), purpose})
}
