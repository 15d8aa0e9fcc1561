package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// The state file (WithStateFile): a snapshot of the state, not a journal
// of calls, so that restoring it replays nothing. docs/fixtures.md says
// what is in it and what is not.
const (
	// StateFormat is the "format" of a state file.
	StateFormat = "truewatch-mock-state"
	// StateVersion is the "version" of the state files this mock writes
	// and reads; a file of another version is refused.
	StateVersion = 1
)

// ErrNoStateFile is returned by SaveState (and POST /_mock/snapshot
// answers 409) when the server was built without WithStateFile.
var ErrNoStateFile = errors.New("mockserver: the server has no state file (WithStateFile, -state)")

// WithStateFile makes the server persist its state in path: at start, if
// the file exists, the state is loaded from it instead of being built
// (demo fixture, WithFixture), and New fails, serving nothing, if the file
// is of another format or version, corrupted, truncated or inconsistent;
// on Close (Stop reports the error) and SaveState (POST /_mock/snapshot)
// the state is written to it atomically (a temporary file in the same
// directory, synced, then renamed over it) with mode 0600, since it holds
// keys and tokens.
func WithStateFile(path string) Option {
	return func(cfg *config) error {
		if path == "" {
			return errors.New("mockserver: empty state file path")
		}
		cfg.stateFile = path
		return nil
	}
}

// stateFile is the JSON of a state file.
type stateFile struct {
	Format     string                 `json:"format"`
	Version    int                    `json:"version"`
	SavedAt    time.Time              `json:"savedAt"`
	Namespaces map[string]*savedState `json:"namespaces"`
}

// savedState is one server's (one namespace's) state.
type savedState struct {
	// Seed and IDs are the ID generator's seed and counters, so that IDs
	// made after a restart continue the sequence and never repeat one.
	Seed  string         `json:"seed"`
	IDs   map[string]int `json:"ids"`
	Clock savedClock     `json:"clock"`
	// Fixture is the fixture Reset goes back to, if any.
	Fixture *Fixture `json:"fixture,omitempty"`
	// Strictness and NoDemoFixture are a namespace's own options
	// (CreateNamespace); the default namespace's come from its flags.
	Strictness    Strictness  `json:"strictness,omitempty"`
	NoDemoFixture bool        `json:"noDemoFixture,omitempty"`
	Huawei        savedHuawei `json:"huawei"`
	TrueWatch     savedTW     `json:"trueWatch"`
	Marketplace   savedMarket `json:"marketplace"`
}

type savedClock struct {
	// Now is the mock's time when saved; a restored clock never runs
	// behind it.
	Now time.Time `json:"now"`
	// Offset is how far the mock's clock was ahead of its base clock, in
	// nanoseconds.
	Offset time.Duration `json:"offset"`
}

type savedHuawei struct {
	Accounts  []HuaweiAccount `json:"accounts"`
	Purchases []Purchase      `json:"purchases"`
}

type savedTW struct {
	Accounts        []twapi.Account          `json:"accounts"`
	BillingAccounts []billing.BillingAccount `json:"billingAccounts"`
	Workspaces      []twapi.Workspace        `json:"workspaces"`
	Bindings        []BindingSeed            `json:"bindings"`
	Tokens          []savedToken             `json:"tokens"`
	Codes           []savedCode              `json:"codes"`
	LastSent        []savedSent              `json:"lastSent"`
	Outbox          []savedEmail             `json:"outbox"`
	Subscriptions   []savedSub               `json:"subscriptions"`
	Links           []savedLink              `json:"links"`
	ProofsUsed      []savedProof             `json:"proofsUsed"`
}

type savedToken struct {
	Token            string    `json:"token"`
	BillingAccountID string    `json:"billingAccountId"`
	HuaweiAccountID  string    `json:"huaweiAccountId"`
	InstanceID       string    `json:"instanceId"`
	ExpiresAt        time.Time `json:"expiresAt"`
}

type savedCode struct {
	Email     string          `json:"email"`
	Purpose   billing.Purpose `json:"purpose"`
	Code      string          `json:"code"`
	ExpiresAt time.Time       `json:"expiresAt"`
	Attempts  int             `json:"attempts"`
	Dead      bool            `json:"dead,omitempty"`
}

type savedSent struct {
	Email   string          `json:"email"`
	Purpose billing.Purpose `json:"purpose"`
	At      time.Time       `json:"at"`
}

type savedEmail struct {
	To      string          `json:"to"`
	Purpose billing.Purpose `json:"purpose"`
	Code    string          `json:"code"`
	Subject string          `json:"subject"`
	Body    string          `json:"body"`
	SentAt  time.Time       `json:"sentAt"`
}

type savedSub struct {
	HuaweiAccountID string         `json:"huaweiAccountId"`
	InstanceID      string         `json:"instanceId"`
	OrderID         string         `json:"orderId,omitempty"`
	OrderLineID     string         `json:"orderLineId,omitempty"`
	ProductID       string         `json:"productId"`
	SKUCode         string         `json:"skuCode"`
	Status          PurchaseStatus `json:"status"`
	ExpireTime      time.Time      `json:"expireTime"`
	GraceUntil      time.Time      `json:"graceUntil,omitzero"`
	LockedAt        time.Time      `json:"lockedAt,omitzero"`
	FrontEndURL     string         `json:"frontEndUrl,omitempty"`
}

type savedLink struct {
	Token            string    `json:"token"`
	HuaweiAccountID  string    `json:"huaweiAccountId"`
	InstanceID       string    `json:"instanceId"`
	ExpiresAt        time.Time `json:"expiresAt"`
	Used             bool      `json:"used,omitempty"`
	BillingAccountID string    `json:"billingAccountId,omitempty"`
}

type savedProof struct {
	ID    string    `json:"id"`
	Until time.Time `json:"until"`
}

type savedMarket struct {
	Orders       []MarketplaceOrder `json:"orders"`
	Seq          int                `json:"seq"`
	NextJob      int                `json:"nextJob"`
	NextDelivery int                `json:"nextDelivery"`
}

// exportState is the server's state at one instant, as a state file holds
// it for one namespace.
func (s *Server) exportState() *savedState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	c := s.clock()
	c.mu.Lock()
	off := c.off
	c.mu.Unlock()
	s.ids.mu.Lock()
	out := &savedState{Seed: s.ids.seed, IDs: clone(s.ids.counts), Clock: savedClock{Now: s.Now().UTC(), Offset: off}, Fixture: s.fixture}
	s.ids.mu.Unlock()
	hs, tw, m := &s.st.huawei, &s.st.tw, &s.st.mkt
	for _, p := range hs.purchases {
		out.Huawei.Purchases = append(out.Huawei.Purchases, *p)
	}
	// Maps are saved in a fixed order (by ID, or by time then key), so
	// that the file is the same for the same state.
	for _, id := range sortedKeys(hs.accounts) {
		a := *hs.accounts[id]
		a.Keys = slices.Clone(a.Keys)
		out.Huawei.Accounts = append(out.Huawei.Accounts, a)
	}
	out.TrueWatch.Accounts = inOrder(tw.accountIDs, tw.accounts)
	out.TrueWatch.BillingAccounts = inOrder(tw.billingIDs, tw.billing)
	out.TrueWatch.Workspaces = inOrder(tw.wsIDs, tw.workspaces)
	for k, b := range tw.bindings {
		out.TrueWatch.Bindings = append(out.TrueWatch.Bindings, BindingSeed{BillingAccountID: b.billingAccountID,
			HuaweiAccountID: k.huaweiAccountID, InstanceID: k.instanceID})
	}
	slices.SortFunc(out.TrueWatch.Bindings, func(a, b BindingSeed) int {
		return cmpStr(a.InstanceID+"|"+a.HuaweiAccountID, b.InstanceID+"|"+b.HuaweiAccountID)
	})
	for tok, r := range tw.tokens {
		out.TrueWatch.Tokens = append(out.TrueWatch.Tokens, savedToken{Token: tok, BillingAccountID: r.billingAccountID,
			HuaweiAccountID: r.sub.huaweiAccountID, InstanceID: r.sub.instanceID, ExpiresAt: r.expiresAt.UTC()})
	}
	slices.SortFunc(out.TrueWatch.Tokens, func(a, b savedToken) int { return a.ExpiresAt.Compare(b.ExpiresAt)*2 + cmpStr(a.Token, b.Token) })
	for k, r := range tw.codes {
		out.TrueWatch.Codes = append(out.TrueWatch.Codes, savedCode{Email: k.email, Purpose: k.purpose, Code: r.code,
			ExpiresAt: r.expiresAt.UTC(), Attempts: r.attempts, Dead: r.dead})
	}
	slices.SortFunc(out.TrueWatch.Codes, func(a, b savedCode) int {
		return a.ExpiresAt.Compare(b.ExpiresAt)*2 + cmpStr(a.Email+string(a.Purpose), b.Email+string(b.Purpose))
	})
	for k, at := range tw.lastSent {
		out.TrueWatch.LastSent = append(out.TrueWatch.LastSent, savedSent{Email: k.email, Purpose: k.purpose, At: at.UTC()})
	}
	slices.SortFunc(out.TrueWatch.LastSent, func(a, b savedSent) int {
		return a.At.Compare(b.At)*2 + cmpStr(a.Email+string(a.Purpose), b.Email+string(b.Purpose))
	})
	for _, e := range tw.outbox.all() {
		out.TrueWatch.Outbox = append(out.TrueWatch.Outbox, savedEmail{To: e.To, Purpose: e.Purpose, Code: e.Code.Reveal(),
			Subject: e.Subject, Body: e.Body, SentAt: e.SentAt.UTC()})
	}
	for _, id := range sortedKeys(tw.subs) {
		sub := tw.subs[id]
		out.TrueWatch.Subscriptions = append(out.TrueWatch.Subscriptions, savedSub{HuaweiAccountID: sub.key.huaweiAccountID,
			InstanceID: sub.key.instanceID, OrderID: sub.order.OrderID, OrderLineID: sub.order.OrderLineID, ProductID: sub.productID,
			SKUCode: sub.skuCode, Status: sub.status, ExpireTime: sub.expireTime.UTC(), GraceUntil: sub.graceUntil.UTC(),
			LockedAt: sub.lockedAt.UTC(), FrontEndURL: sub.frontEnd})
	}
	for _, tok := range sortedKeys(tw.links) {
		l := tw.links[tok]
		out.TrueWatch.Links = append(out.TrueWatch.Links, savedLink{Token: tok, HuaweiAccountID: l.sub.huaweiAccountID,
			InstanceID: l.sub.instanceID, ExpiresAt: l.expires.UTC(), Used: l.used, BillingAccountID: l.billingAccountID})
	}
	for id, until := range tw.proofsUsed {
		out.TrueWatch.ProofsUsed = append(out.TrueWatch.ProofsUsed, savedProof{ID: id, Until: until.UTC()})
	}
	slices.SortFunc(out.TrueWatch.ProofsUsed, func(a, b savedProof) int { return a.Until.Compare(b.Until)*2 + cmpStr(a.ID, b.ID) })
	for _, o := range m.orders {
		out.Marketplace.Orders = append(out.Marketplace.Orders, *o)
	}
	out.Marketplace.Seq, out.Marketplace.NextJob, out.Marketplace.NextDelivery = m.seq, m.nextJob, m.nextDelivery
	return out
}

func clone[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// restoreState builds, aside, the state ss describes and returns it with
// its ID counters; it moves the server's clock to the saved time (never
// back). Every entry is checked as it is put back (formats, uniqueness,
// references), so an inconsistent file is refused, naming the entry
// (never a key or token), before the clock is touched.
func (s *Server) restoreState(ss *savedState) (*state, map[string]int, error) {
	scratch := &Server{cfg: s.cfg, ids: idGen{seed: ss.Seed, counts: map[string]int{}}, st: newState(), aside: true}
	scratch.st.tw.outbox = newOutboxStore(s.cfg.outboxLimits)
	for k, n := range ss.IDs {
		if n < 0 {
			return nil, nil, fmt.Errorf("ids[%q]: a counter is not negative", k)
		}
	}
	// Terms are armed against the clock before it moves, so that one that
	// ended while the mock was down still expires at the first catch-up;
	// a refused file leaves the clock alone.
	if err := scratch.restoreLocked(ss); err != nil {
		return nil, nil, err
	}
	c := s.clock()
	if _, ok := c.base.(settableClock); !ok {
		c.mu.Lock()
		c.off = ss.Clock.Offset
		c.mu.Unlock()
	}
	if !ss.Clock.Now.IsZero() && c.Now().Before(ss.Clock.Now) {
		c.moveTo(ss.Clock.Now)
	}
	return scratch.st, clone(ss.IDs), nil
}

// restoreLocked puts ss back into s, a scratch server no request sees.
func (s *Server) restoreLocked(ss *savedState) error {
	for i, a := range ss.Huawei.Accounts {
		if err := s.AddHuaweiAccount(a); err != nil {
			return fmt.Errorf("huawei.accounts[%d]: %w", i, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tw, m := &s.st.tw, &s.st.mkt
	for i, p := range ss.Huawei.Purchases {
		err := checkPurchase(p)
		if err == nil {
			_, err = s.addPurchaseLocked(p, false)
		}
		if err != nil {
			return fmt.Errorf("huawei.purchases[%d]: %w", i, err)
		}
		// A term that was running when saved and ended since (the clock
		// given ran past it) ends at the first catch-up, as if the mock
		// had run.
		running := p.Status == PurchaseInUse || p.Status == PurchaseFrozen
		if running && p.ExpireTime.After(ss.Clock.Now) && !p.ExpireTime.After(s.Now()) {
			m.expiries[p.InstanceID] = p.ExpireTime
			s.scheduleLocked(dueEvent{at: p.ExpireTime, instance: p.InstanceID})
		}
	}
	for i, a := range ss.TrueWatch.Accounts {
		switch {
		case a.ID == "" || tw.accounts[a.ID] != nil:
			return fmt.Errorf("trueWatch.accounts[%d]: the ID %q is empty or given twice", i, a.ID)
		case !a.Site.Valid():
			return fmt.Errorf("trueWatch.accounts[%d]: unknown site %q", i, a.Site)
		}
		if e := s.checkNewAccountLocked(a.Site, a.Username, a.Email); e != nil {
			return fmt.Errorf("trueWatch.accounts[%d]: %w", i, e)
		}
		s.putAccountLocked(&a)
	}
	for i, b := range ss.TrueWatch.BillingAccounts {
		if b.ID == "" || tw.billing[b.ID] != nil {
			return fmt.Errorf("trueWatch.billingAccounts[%d]: the ID %q is empty or given twice", i, b.ID)
		}
		if e := s.checkNewBillingAccountLocked(b.Username, b.Email); e != nil {
			return fmt.Errorf("trueWatch.billingAccounts[%d]: %w", i, e)
		}
		s.putBillingAccountLocked(&b)
	}
	for i, w := range ss.TrueWatch.Workspaces {
		k, huawei := settlementKey(w.Settlement)
		switch {
		case w.ID == "" || tw.workspaces[w.ID] != nil:
			return fmt.Errorf("trueWatch.workspaces[%d]: the ID %q is empty or given twice", i, w.ID)
		case tw.accounts[w.OwnerAccountID] == nil:
			return fmt.Errorf("trueWatch.workspaces[%d]: unknown owner %q", i, w.OwnerAccountID)
		case w.BillingAccountID != "" && tw.billing[w.BillingAccountID] == nil:
			return fmt.Errorf("trueWatch.workspaces[%d]: unknown Billing Center account %q", i, w.BillingAccountID)
		case huawei && s.subscriptionLocked(k) == nil:
			return fmt.Errorf("trueWatch.workspaces[%d]: its settlement names no purchase (%s of %s)", i, k.instanceID, k.huaweiAccountID)
		case s.workspaceNameTakenLocked(w.OwnerAccountID, w.Name):
			return fmt.Errorf("trueWatch.workspaces[%d]: its owner has another workspace named %q", i, w.Name)
		}
		s.putWorkspaceLocked(w)
	}
	for i, sub := range ss.TrueWatch.Subscriptions {
		k := subKey{sub.HuaweiAccountID, sub.InstanceID}
		switch {
		case s.subscriptionLocked(k) == nil:
			return fmt.Errorf("trueWatch.subscriptions[%d]: no purchase %s of %s", i, k.instanceID, k.huaweiAccountID)
		case tw.subs[k.instanceID] != nil:
			return fmt.Errorf("trueWatch.subscriptions[%d]: instance %s is given twice", i, k.instanceID)
		case !sub.Status.Valid():
			return fmt.Errorf("trueWatch.subscriptions[%d]: invalid status %d", i, sub.Status)
		}
		rec := s.addTWSubLocked(&twSub{key: k, order: koogallery.OrderKey{OrderID: sub.OrderID, OrderLineID: sub.OrderLineID},
			productID: sub.ProductID, skuCode: sub.SKUCode, status: sub.Status, expireTime: sub.ExpireTime,
			graceUntil: sub.GraceUntil, lockedAt: sub.LockedAt, frontEnd: sub.FrontEndURL})
		if !rec.graceUntil.IsZero() {
			tw.inGrace[k.instanceID] = struct{}{}
		}
	}
	for i, b := range ss.TrueWatch.Bindings {
		k := subKey{b.HuaweiAccountID, b.InstanceID}
		switch {
		case tw.billing[b.BillingAccountID] == nil:
			return fmt.Errorf("trueWatch.bindings[%d]: unknown Billing Center account %q", i, b.BillingAccountID)
		case s.subscriptionLocked(k) == nil:
			return fmt.Errorf("trueWatch.bindings[%d]: no purchase %s of %s", i, k.instanceID, k.huaweiAccountID)
		case tw.bindings[k] != nil:
			return fmt.Errorf("trueWatch.bindings[%d]: instance %s is bound twice", i, k.instanceID)
		}
		s.bindLocked(b.BillingAccountID, k)
	}
	toks := slices.Clone(ss.TrueWatch.Tokens)
	slices.SortStableFunc(toks, func(a, b savedToken) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	for i, t := range toks {
		switch {
		case t.Token == "" || tw.tokens[t.Token] != nil:
			return fmt.Errorf("trueWatch.tokens: a token is empty or given twice (entry %d by expiry)", i)
		case tw.billing[t.BillingAccountID] == nil:
			return fmt.Errorf("trueWatch.tokens: a token names unknown Billing Center account %q", t.BillingAccountID)
		}
		tw.tokens[t.Token] = &tokenRec{billingAccountID: t.BillingAccountID, sub: subKey{t.HuaweiAccountID, t.InstanceID}, expiresAt: t.ExpiresAt}
		tw.tokenQ.push(t.ExpiresAt.Add(s.cfg.tokenTTL), t.Token)
	}
	codes := slices.Clone(ss.TrueWatch.Codes)
	slices.SortStableFunc(codes, func(a, b savedCode) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	for _, c := range codes {
		k := codeKey{rules.NormalizeEmail(c.Email), c.Purpose}
		if !c.Purpose.Valid() || tw.codes[k] != nil {
			return fmt.Errorf("trueWatch.codes: the code for %s (%s) is of an unknown purpose or given twice", c.Email, c.Purpose)
		}
		tw.codes[k] = &codeRec{code: c.Code, expiresAt: c.ExpiresAt, attempts: c.Attempts, dead: c.Dead}
		tw.codeQ.push(c.ExpiresAt.Add(codeTTL), k)
	}
	sent := slices.Clone(ss.TrueWatch.LastSent)
	slices.SortStableFunc(sent, func(a, b savedSent) int { return a.At.Compare(b.At) })
	for _, x := range sent {
		k := codeKey{rules.NormalizeEmail(x.Email), x.Purpose}
		tw.lastSent[k] = x.At
		tw.sentQ.push(x.At.Add(codeResendInterval), k)
	}
	for _, e := range ss.TrueWatch.Outbox {
		tw.outbox.add(Email{To: e.To, Purpose: e.Purpose, Code: secret.String(e.Code), Subject: e.Subject, Body: e.Body, SentAt: e.SentAt})
	}
	for i, l := range ss.TrueWatch.Links {
		if l.Token == "" || tw.links[l.Token] != nil {
			return fmt.Errorf("trueWatch.links[%d]: the token is empty or given twice", i)
		}
		tw.links[l.Token] = &linkRec{sub: subKey{l.HuaweiAccountID, l.InstanceID}, expires: l.ExpiresAt, used: l.Used,
			billingAccountID: l.BillingAccountID}
	}
	proofs := slices.Clone(ss.TrueWatch.ProofsUsed)
	slices.SortStableFunc(proofs, func(a, b savedProof) int { return a.Until.Compare(b.Until) })
	for _, p := range proofs {
		tw.proofsUsed[p.ID] = p.Until
		// Kept at most 2*Window past the end of their window, as useProof keeps them.
		tw.proofQ.push(p.Until.Add(proof.Window), p.ID)
	}
	for i, o := range ss.Marketplace.Orders {
		if o.OrderID == "" || m.byID[o.OrderID] != nil {
			return fmt.Errorf("marketplace.orders[%d]: the order ID %q is empty or given twice", i, o.OrderID)
		}
		cp := o
		m.orders = append(m.orders, &cp)
		m.byID[cp.OrderID] = &cp
	}
	m.seq = max(m.seq, ss.Marketplace.Seq)
	m.nextJob, m.nextDelivery = ss.Marketplace.NextJob, ss.Marketplace.NextDelivery
	return nil
}

// startState gives a new server its first state: from the state file when
// there is one, else built (demo fixture, WithFixture).
func (s *Server) startState() error {
	if s.cfg.stateFile != "" {
		data, err := os.ReadFile(s.cfg.stateFile)
		switch {
		case err == nil:
			return s.loadStateFile(data)
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("mockserver: state file: %w", err)
		}
	}
	st, ids, _, err := s.buildState(s.fixture)
	if err != nil {
		if s.cfg.fixturePath != "" {
			return &fixtureFileError{path: s.cfg.fixturePath, err: err}
		}
		return err
	}
	s.st, s.ids.counts = st, ids
	return nil
}

// loadStateFile restores the server from a state file's bytes.
func (s *Server) loadStateFile(data []byte) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("mockserver: state file %s: %s", s.cfg.stateFile, fmt.Sprintf(format, args...))
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fail("corrupted or truncated (not one JSON document of the state format): %s", syntaxWhere(data, err))
	}
	if head.Format != StateFormat {
		return fail("format %q is not %q", head.Format, StateFormat)
	}
	if head.Version != StateVersion {
		return fail("version %d is not supported: this mock reads version %d", head.Version, StateVersion)
	}
	var f stateFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fail("does not match the state format: %s", syntaxWhere(data, err))
	}
	if dec.More() {
		return fail("corrupted: data after the JSON document")
	}
	ss := f.Namespaces[DefaultNamespace]
	if ss == nil {
		return fail("has no namespace %q", DefaultNamespace)
	}
	if n := len(f.Namespaces) - 1; n > s.cfg.maxNS {
		return fail("holds %d namespaces besides the default, more than the limit of %d (WithMaxNamespaces, -max-namespaces)", n, s.cfg.maxNS)
	}
	for name, ns := range f.Namespaces {
		if name == DefaultNamespace {
			continue
		}
		if err := validNamespace(name); err != nil {
			return fail("namespaces: %v", strings.TrimPrefix(err.Error(), "mockserver: "))
		}
		if ns == nil {
			return fail("namespaces[%q] is null", name)
		}
		if ns.Strictness != "" && !ns.Strictness.valid() {
			return fail("namespaces[%q].strictness %q is not strict or lenient", name, string(ns.Strictness))
		}
	}
	st, ids, err := s.restoreState(ss)
	if err != nil {
		return fail("%v", err)
	}
	s.st, s.ids.counts, s.ids.seed = st, ids, ss.Seed
	if s.fixture == nil {
		s.fixture = ss.Fixture
	}
	// The other namespaces are restored once the server has its URL and
	// transport, which they share (restoreNamespaces).
	s.savedNS = f.Namespaces
	delete(s.savedNS, DefaultNamespace)
	return nil
}

// restoreNamespaces creates the namespaces the state file held (New, after
// the listener): each restored as the default is, with its own options.
func (s *Server) restoreNamespaces() error {
	saved := s.savedNS
	s.savedNS = nil
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	for _, name := range sortedKeys(saved) {
		ss := saved[name]
		o := nsOptions{seed: ss.Seed, restore: ss}
		if ss.Strictness != "" {
			o.strictness = &ss.Strictness
		}
		o.noFixture = &ss.NoDemoFixture
		if _, err := s.createLocked(name, o); err != nil {
			return fmt.Errorf("mockserver: state file %s: namespaces[%q]: %s", s.cfg.stateFile, name, strings.TrimPrefix(err.Error(), "mockserver: "))
		}
	}
	return nil
}

// syntaxWhere describes a decoding error without quoting the data, which
// may hold keys.
func syntaxWhere(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(data, se.Offset)
		return fmt.Sprintf("%s at line %d, column %d", se.Error(), line, col)
	case errors.As(err, &te):
		return fmt.Sprintf("%s has a %s where a %s belongs", te.Field, te.Value, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "it ends in the middle"
	}
	return err.Error()
}

// SaveState writes the state to the state file (WithStateFile) now,
// atomically: a reader of the file sees the previous snapshot or this one.
// It returns ErrNoStateFile without one.
func (s *Server) SaveState(ctx context.Context) error {
	if s.root().cfg.stateFile == "" {
		return ErrNoStateFile
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s = s.root()
	f := stateFile{Format: StateFormat, Version: StateVersion, SavedAt: time.Now().UTC(),
		Namespaces: map[string]*savedState{DefaultNamespace: s.exportState()}}
	for _, c := range s.ns.namespaces() {
		ss := c.exportState()
		ss.Strictness = c.cfg.strictness.orDefault()
		ss.NoDemoFixture = c.cfg.noFixture
		f.Namespaces[c.name] = ss
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("mockserver: state file: %w", err)
	}
	return writeFileAtomic(s.cfg.stateFile, append(data, '\n'))
}

// writeFileAtomic writes data to path through a temporary file in the
// same directory, synced and renamed over path, mode 0600.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("mockserver: state file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("mockserver: state file: %w", err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("mockserver: state file: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("mockserver: state file: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("mockserver: state file: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("mockserver: state file: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // the rename itself, where the platform allows
		_ = d.Close()
	}
	return nil
}

// Stop is Close that reports whether the state was written to the state
// file (WithStateFile); without one it returns nil.
func (s *Server) Stop() error {
	s.Close()
	return s.saveErr
}

// closeUnsaved closes a server New is giving up on without writing its
// state file, which still holds what the server could not restore.
func (s *Server) closeUnsaved() {
	s.noSave = true
	s.Close()
}

// saveOnClose writes the state file as Close ends, once nothing serves.
func (s *Server) saveOnClose() {
	if s.cfg.stateFile != "" && !s.noSave {
		s.saveErr = s.SaveState(context.Background())
	}
}

func (s *Server) persistRoutes() []controlRoute {
	return []controlRoute{
		{ControlEndpoint{http.MethodPost, "/_mock/snapshot", "write the state to the state file (-state) now; 409 without one"},
			func(w http.ResponseWriter, r *http.Request) {
				if !decodeOptionalControl(w, r, &struct{}{}) {
					return
				}
				err := s.SaveState(r.Context())
				switch {
				case errors.Is(err, ErrNoStateFile):
					controlError(w, http.StatusConflict, err)
				case err != nil:
					controlError(w, http.StatusInternalServerError, err)
				default:
					writeJSON(w, http.StatusOK, map[string]string{"status": "saved", "path": s.cfg.stateFile})
				}
			}},
	}
}
