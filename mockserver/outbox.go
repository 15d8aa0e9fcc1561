package mockserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// Email is a message the mock "sent": every verification code lands in the
// outbox instead of a mailbox, so tests (and people trying the binary) can
// read it. The code is in Body too: outbox mail is mock data.
type Email struct {
	To      string          `json:"to"`
	Purpose billing.Purpose `json:"purpose"`
	// Code is the verification code; it prints redacted but Email's JSON
	// (GET /_mock/outbox) carries it in clear.
	Code    secret.String `json:"code"`
	Subject string        `json:"subject"`
	Body    string        `json:"body"`
	SentAt  time.Time     `json:"sentAt"`
}

// Outbox returns every email sent since the server started or was reset,
// oldest first.
func (s *Server) Outbox() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Email{}, s.st.tw.outbox...)
}

// OutboxFor returns the emails sent to an address (case-insensitive),
// oldest first.
func (s *Server) OutboxFor(email string) []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outboxForLocked(email)
}

func (s *Server) outboxForLocked(email string) []Email {
	out := []Email{}
	for _, m := range s.st.tw.outbox {
		if rules.NormalizeEmail(m.To) == rules.NormalizeEmail(email) {
			out = append(out, m)
		}
	}
	return out
}

// LatestCode returns the verification code most recently sent to email
// (case-insensitive) for purpose, and whether there is one. The code may
// since have been used, replaced or have expired.
func (s *Server) LatestCode(email string, purpose billing.Purpose) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.st.tw.outbox) - 1; i >= 0; i-- {
		m := s.st.tw.outbox[i]
		if m.Purpose == purpose && rules.NormalizeEmail(m.To) == rules.NormalizeEmail(email) {
			return m.Code.Reveal(), true
		}
	}
	return "", false
}

// handleOutbox serves GET /_mock/outbox[?email=]: the outbox, or the mail
// of one address.
func (s *Server) handleOutbox(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil {
		if e := checkQuery(q, "email"); e != nil {
			err = errors.New(e.msg)
		}
	}
	if err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	if email := q.Get("email"); email != "" {
		writeJSON(w, http.StatusOK, s.OutboxFor(email))
		return
	}
	writeJSON(w, http.StatusOK, s.Outbox())
}

func purposeText(p billing.Purpose) string {
	switch p {
	case billing.PurposeRegister:
		return "register your TrueWatch account"
	case billing.PurposeBindBillingAccount:
		return "bind your Billing Center account to a Huawei Cloud subscription"
	default:
		return "create a TrueWatch workspace"
	}
}

// MarshalJSON encodes the email with its code in clear: the outbox is where
// tests and people trying the mock read codes.
func (e Email) MarshalJSON() ([]byte, error) {
	type plain Email
	return json.Marshal(struct {
		plain
		Code string `json:"code"`
	}{plain(e), e.Code.Reveal()})
}
