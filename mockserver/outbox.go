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

// OutboxLimits bound the outbox, so that a mock that runs for days (the
// standalone binary) keeps a bounded number of emails however many codes
// it sends. When a limit is reached the oldest email goes first: the
// oldest of its address for PerAddress, the oldest of all for Total. The
// latest code sent to an address is therefore always kept.
type OutboxLimits struct {
	// PerAddress is how many emails are kept per address (addresses
	// compared case-insensitively); default 100.
	PerAddress int `json:"perAddress"`
	// Total is how many emails are kept in all; default 10000 (about 11
	// MB of mail).
	Total int `json:"total"`
}

// DefaultOutboxLimits are the limits of a server built without
// WithOutboxLimits.
func DefaultOutboxLimits() OutboxLimits { return OutboxLimits{PerAddress: 100, Total: 10000} }

// WithOutboxLimits bounds the outbox; a zero field keeps its default,
// negative ones are refused.
func WithOutboxLimits(l OutboxLimits) Option {
	return func(cfg *config) error {
		if l.PerAddress < 0 || l.Total < 0 {
			return errors.New("mockserver: outbox limits must not be negative")
		}
		d := DefaultOutboxLimits()
		if l.PerAddress > 0 {
			d.PerAddress = l.PerAddress
		}
		if l.Total > 0 {
			d.Total = l.Total
		}
		cfg.outboxLimits = d
		return nil
	}
}

// outboxStore holds the emails sent, oldest first, within its limits.
// Adding is O(1) amortised however full it is: dropped emails are marked
// in the global order and skipped, and the order is compacted when more
// than half of it is dropped. Guarded by Server.mu.
type outboxStore struct {
	limits OutboxLimits
	order  []*outboxEntry            // every address, oldest first; entries before head are gone
	head   int                       // index of the oldest entry still in order
	live   int                       // emails kept
	byAddr map[string][]*outboxEntry // normalised address -> its emails kept, oldest first
}

type outboxEntry struct {
	mail    Email
	addr    string // normalised
	dropped bool
}

func newOutboxStore(l OutboxLimits) *outboxStore {
	return &outboxStore{limits: l, byAddr: map[string][]*outboxEntry{}}
}

// add keeps m, dropping the oldest emails beyond the limits.
func (o *outboxStore) add(m Email) {
	e := &outboxEntry{mail: m, addr: rules.NormalizeEmail(m.To)}
	o.order = append(o.order, e)
	mine := append(o.byAddr[e.addr], e)
	o.live++
	if len(mine) > o.limits.PerAddress {
		mine[0].dropped = true
		mine[0] = nil
		mine = mine[1:]
		o.live--
	}
	o.byAddr[e.addr] = mine
	for o.live > o.limits.Total {
		old := o.order[o.head]
		o.order[o.head] = nil
		o.head++
		if old.dropped {
			continue
		}
		// The oldest of all is the oldest of its address.
		rest := o.byAddr[old.addr]
		rest[0] = nil
		if rest = rest[1:]; len(rest) == 0 {
			delete(o.byAddr, old.addr)
		} else {
			o.byAddr[old.addr] = rest
		}
		o.live--
	}
	if n := len(o.order) - o.head; n > 2*o.live+16 || o.head > len(o.order)/2 {
		kept := make([]*outboxEntry, 0, o.live+o.live/4)
		for _, x := range o.order[o.head:] {
			if x != nil && !x.dropped {
				kept = append(kept, x)
			}
		}
		o.order, o.head = kept, 0
	}
}

// all returns the emails kept, oldest first.
func (o *outboxStore) all() []Email {
	out := make([]Email, 0, o.live)
	for _, e := range o.order[o.head:] {
		if e != nil && !e.dropped {
			out = append(out, e.mail)
		}
	}
	return out
}

// to returns the emails kept for an address, oldest first.
func (o *outboxStore) to(email string) []Email {
	mine := o.byAddr[rules.NormalizeEmail(email)]
	out := make([]Email, len(mine))
	for i, e := range mine {
		out[i] = e.mail
	}
	return out
}

// latest returns the newest email kept for an address and purpose.
func (o *outboxStore) latest(email string, p billing.Purpose) (Email, bool) {
	mine := o.byAddr[rules.NormalizeEmail(email)]
	for i := len(mine) - 1; i >= 0; i-- {
		if mine[i].mail.Purpose == p {
			return mine[i].mail, true
		}
	}
	return Email{}, false
}

// Outbox returns every email kept (OutboxLimits) since the server started
// or was reset, oldest first.
func (s *Server) Outbox() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.tw.outbox.all()
}

// OutboxFor returns the emails kept for an address (case-insensitive),
// oldest first.
func (s *Server) OutboxFor(email string) []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.tw.outbox.to(email)
}

// LatestCode returns the verification code most recently sent to email
// (case-insensitive) for purpose, and whether there is one. The code may
// since have been used, replaced or have expired.
func (s *Server) LatestCode(email string, purpose billing.Purpose) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.st.tw.outbox.latest(email, purpose)
	return m.Code.Reveal(), ok
}

// handleOutbox serves GET /_mock/outbox[?email=]: the outbox, or the mail
// of one address.
func (s *Server) handleOutbox(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil {
		if e := checkQuery(r, q, "email"); e != nil {
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
