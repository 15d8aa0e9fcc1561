package mockserver

import (
	"slices"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// Rules of the TrueWatch half that are not request validation.
const (
	// codeTTL is how long a verification code works.
	codeTTL = 10 * time.Minute
	// codeResendInterval is how long a new code for the same email and
	// purpose is refused after one was sent.
	codeResendInterval = 60 * time.Second
	// codeMaxAttempts wrong attempts invalidate a code.
	codeMaxAttempts = 5
)

// twState is the TrueWatch half: console accounts, Billing Center accounts,
// workspaces, subscription bindings, tokens, verification codes, idempotency
// records, the outbox and the rate-limit windows. Subscriptions themselves
// are not stored here: a subscription is a Huawei purchase (huaweiState),
// the one source of truth for whether it exists and is in use.
type twState struct {
	accounts   map[string]*twapi.Account          // by ID
	accountIDs []string                           // creation order
	billing    map[string]*billing.BillingAccount // by ID
	billingIDs []string                           // creation order
	workspaces map[string]*twapi.Workspace        // by ID
	wsIDs      []string                           // creation order
	bindings   map[subKey]*bindingRec             // subscription -> Billing Center account
	tokens     map[string]*tokenRec               // by token
	codes      map[codeKey]*codeRec               // the live code per email and purpose
	lastSent   map[codeKey]time.Time              // when a code was last sent, for the resend rule
	idem       map[string]*idemRecord             // by path + principal + key
	proofsUsed map[string]time.Time               // ownership proofs used, by signature, until their window ends
	outbox     *outboxStore                       // the emails sent, bounded
	windows    map[string]*rateWindow             // by client address

	// Queues that free what expires, oldest first, without sweeping the
	// maps: tokens, codes (and their resend marks), stored idempotent
	// answers and used proofs.
	tokenQ expiryQueue[string]
	codeQ  expiryQueue[codeKey]
	sentQ  expiryQueue[codeKey]
	idemQ  expiryQueue[string]
	proofQ expiryQueue[string]

	// Indexes for the uniqueness rules; usernames and emails never change.
	accountByUser  map[siteKey]string  // site + folded username -> account ID
	accountByEmail map[siteKey]string  // site + normalised email -> account ID
	billingByUser  map[string]string   // folded username -> Billing Center account ID
	billingByEmail map[string]string   // normalised email -> Billing Center account ID
	wsByOwnerName  map[[2]string]bool  // owner account ID + workspace name
	wsPos          map[string]int      // workspace ID -> creation index
	settled        map[subKey][]string // subscription -> IDs of the workspaces it settles, in creation order

	// TrueWatch's records of subscriptions (kg_vendor.go).
	subs       map[string]*twSub              // by instance ID
	subByOrder map[koogallery.OrderKey]*twSub // by the order that created it
	inGrace    map[string]struct{}            // instance IDs whose grace period runs
	links      map[string]*linkRec            // activation tokens (tw_link.go)

	// The joint service as TrueWatch was told of it (tw_joint.go).
	joint twJoint
}

type siteKey struct {
	site site.Code
	key  string
}

func newTWState() twState {
	return twState{
		accounts:   map[string]*twapi.Account{},
		billing:    map[string]*billing.BillingAccount{},
		workspaces: map[string]*twapi.Workspace{},
		bindings:   map[subKey]*bindingRec{},
		tokens:     map[string]*tokenRec{},
		codes:      map[codeKey]*codeRec{},
		lastSent:   map[codeKey]time.Time{},
		idem:       map[string]*idemRecord{},
		proofsUsed: map[string]time.Time{},
		windows:    map[string]*rateWindow{},
		outbox:     newOutboxStore(DefaultOutboxLimits()),

		accountByUser:  map[siteKey]string{},
		accountByEmail: map[siteKey]string{},
		billingByUser:  map[string]string{},
		billingByEmail: map[string]string{},
		wsByOwnerName:  map[[2]string]bool{},
		wsPos:          map[string]int{},
		settled:        map[subKey][]string{},

		subs:       map[string]*twSub{},
		subByOrder: map[koogallery.OrderKey]*twSub{},
		inGrace:    map[string]struct{}{},
		links:      map[string]*linkRec{},
		joint:      newTWJoint(),
	}
}

// subKey names a subscription: a Huawei account's marketplace instance.
type subKey struct {
	huaweiAccountID string
	instanceID      string
}

// bindingRec binds a subscription to a Billing Center account.
type bindingRec struct {
	billingAccountID string
}

// tokenRec is what a Billing Center token grants: acting on one Billing
// Center account for one subscription, until it expires.
type tokenRec struct {
	billingAccountID string
	sub              subKey
	expiresAt        time.Time
}

type codeKey struct {
	email   string // normalized
	purpose billing.Purpose
}

type codeRec struct {
	code      string
	expiresAt time.Time
	attempts  int  // wrong attempts so far
	dead      bool // invalidated after too many wrong attempts
}

// now is the server's clock at wire precision (Unix seconds, UTC).
func (s *Server) now() time.Time { return s.cfg.clock.Now().UTC().Truncate(time.Second) }

func foldKey(v string) string { return strings.ToLower(strings.TrimSpace(v)) }

// accountByUsernameLocked finds a console account by username on a site
// (usernames are compared case-insensitively).
func (s *Server) accountByUsernameLocked(c site.Code, username string) *twapi.Account {
	return s.st.tw.accounts[s.st.tw.accountByUser[siteKey{c, foldKey(username)}]]
}

// accountByEmailLocked finds the console account registered with email on a
// site: one account per email per site.
func (s *Server) accountByEmailLocked(c site.Code, email string) *twapi.Account {
	return s.st.tw.accounts[s.st.tw.accountByEmail[siteKey{c, rules.NormalizeEmail(email)}]]
}

func (s *Server) billingByUsernameLocked(username string) *billing.BillingAccount {
	return s.st.tw.billing[s.st.tw.billingByUser[foldKey(username)]]
}

func (s *Server) billingByEmailLocked(email string) *billing.BillingAccount {
	return s.st.tw.billing[s.st.tw.billingByEmail[rules.NormalizeEmail(email)]]
}

// workspaceNameTakenLocked reports whether the owner already has a
// workspace with this name.
func (s *Server) workspaceNameTakenLocked(ownerID, name string) bool {
	return s.st.tw.wsByOwnerName[[2]string{ownerID, name}]
}

// settledBy reports whether w is settled by the subscription k.
func settledBy(w *twapi.Workspace, k subKey) bool {
	return w.Settlement.Method == twapi.SettlementHuaweiCloud &&
		w.Settlement.HuaweiAccountID == k.huaweiAccountID && w.Settlement.InstanceID == k.instanceID
}

// workspacesSettledByLocked lists the workspaces settled by a subscription,
// in creation order.
func (s *Server) workspacesSettledByLocked(k subKey) []billing.BoundWorkspace {
	out := []billing.BoundWorkspace{}
	for _, id := range s.st.tw.settled[k] {
		w := s.st.tw.workspaces[id]
		out = append(out, billing.BoundWorkspace{ID: w.ID, Name: w.Name, Site: w.Site})
	}
	return out
}

// setSettlementLocked changes w's settlement and keeps the index of
// workspaces per subscription in step.
func (s *Server) setSettlementLocked(w *twapi.Workspace, st twapi.Settlement) {
	if old, ok := settlementKey(w.Settlement); ok {
		ids := s.st.tw.settled[old]
		if i := slices.Index(ids, w.ID); i >= 0 {
			ids = slices.Delete(ids, i, i+1)
		}
		if len(ids) == 0 {
			delete(s.st.tw.settled, old)
		} else {
			s.st.tw.settled[old] = ids
		}
	}
	w.Settlement = st
	if k, ok := settlementKey(st); ok {
		ids := s.st.tw.settled[k]
		pos := s.st.tw.wsPos[w.ID]
		i, _ := slices.BinarySearchFunc(ids, pos, func(id string, p int) int { return s.st.tw.wsPos[id] - p })
		s.st.tw.settled[k] = slices.Insert(ids, i, w.ID)
	}
}

// settlementKey is the subscription a Huawei settlement names.
func settlementKey(st twapi.Settlement) (subKey, bool) {
	if st.Method != twapi.SettlementHuaweiCloud {
		return subKey{}, false
	}
	return subKey{st.HuaweiAccountID, st.InstanceID}, true
}

// subscriptionLocked finds the purchase behind a subscription: it must
// exist and belong to the Huawei account.
func (s *Server) subscriptionLocked(k subKey) *Purchase {
	p := s.purchaseLocked(k.instanceID)
	if p == nil || p.AccountID != k.huaweiAccountID {
		return nil
	}
	return p
}

func subscriptionStatus(st PurchaseStatus) billing.SubscriptionStatus {
	switch st {
	case PurchaseInUse:
		return billing.StatusInUse
	case PurchaseFrozen:
		return billing.StatusFrozen
	case PurchaseExpired:
		return billing.StatusExpired
	default:
		return billing.StatusClosed
	}
}

// lockedByOtherLocked reports whether w is settled by a cloud account other than k
// that has not been released. A Huawei subscription holds its workspaces
// while in use or frozen; other clouds' accounts (seeded only) always hold.
func (s *Server) lockedByOtherLocked(w *twapi.Workspace, k subKey) bool {
	switch w.Settlement.Method {
	case twapi.SettlementBillingCenter, "":
		return false
	case twapi.SettlementHuaweiCloud:
		other := subKey{w.Settlement.HuaweiAccountID, w.Settlement.InstanceID}
		if other == k {
			return false
		}
		p := s.subscriptionLocked(other)
		if p == nil {
			return false
		}
		st := s.subStatusLocked(p)
		return st == PurchaseInUse || st == PurchaseFrozen
	default:
		return true
	}
}

// changedThisMonth reports whether the settlement method of w was changed by
// request in the current calendar month (UTC).
func changedThisMonth(w *twapi.Workspace, now time.Time) bool {
	c := w.Settlement.ChangedAt.Time
	if c.IsZero() {
		return false
	}
	c, now = c.UTC(), now.UTC()
	return c.Year() == now.Year() && c.Month() == now.Month()
}

// loginURL is where users of a site log in on this server.
func (s *Server) loginURL(c site.Code) string {
	u, err := s.SiteEndpoints().LoginURL(c)
	if err != nil {
		return ""
	}
	return u
}
