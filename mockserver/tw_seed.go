package mockserver

import (
	"fmt"
	"net/http"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// Seeding puts the TrueWatch half in a state that would take several API
// calls (and verification codes) to reach, such as "an existing Billing
// Center account with existing workspaces on two sites, one of them settled
// by another subscription". Seeds obey the same rules as the API (formats,
// uniqueness, existing references) and return the created objects as the
// API shows them. Seeds made before Reset are dropped by it.

// AccountSeed is a TrueWatch console account to seed. Its JSON keys are
// those of the twapi.Account it creates.
type AccountSeed struct {
	// Site the account is registered on (required).
	Site site.Code `json:"site"`
	// Username is unique per site (case-insensitive); required.
	Username string `json:"username"`
	// Email is unique per site (case-insensitive); required.
	Email string `json:"email"`
	// Phone is optional.
	Phone string `json:"mobile,omitempty"`
}

// SeedAccount creates a TrueWatch console account, as if it had registered
// on its site. Its workspaces are created with SeedWorkspace.
func (s *Server) SeedAccount(a AccountSeed) (twapi.Account, error) {
	var p apierror.Problems
	rules.Site(&p, "site", a.Site)
	rules.Username(&p, "username", a.Username)
	rules.Email(&p, "email", a.Email)
	rules.Phone(&p, "mobile", a.Phone)
	if err := p.Err("SeedAccount"); err != nil {
		return twapi.Account{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	if e := s.checkNewAccountLocked(a.Site, a.Username, a.Email); e != nil {
		return twapi.Account{}, seedErr(e)
	}
	return *s.insertAccountLocked(a.Site, a.Username, a.Email, a.Phone, s.now()), nil
}

// BillingAccountSeed is a Billing Center account to seed. Its JSON keys
// are those of the billing.BillingAccount it creates.
type BillingAccountSeed struct {
	// Username is globally unique (case-insensitive); required. It is what
	// BindBillingAccount names the account by.
	Username string `json:"username"`
	// Email is globally unique (case-insensitive); required. It receives
	// the bind_billing_account code.
	Email string `json:"email"`
	// CompanyName is optional.
	CompanyName string `json:"companyName,omitempty"`
}

// SeedBillingAccount creates a Billing Center account that is bound to no
// subscription. Associate workspaces with it through
// WorkspaceSeed.BillingAccountID; bind it with SeedBinding or through
// BindBillingAccount.
func (s *Server) SeedBillingAccount(b BillingAccountSeed) (billing.BillingAccount, error) {
	var p apierror.Problems
	rules.Username(&p, "username", b.Username)
	rules.Email(&p, "email", b.Email)
	if b.CompanyName != "" {
		rules.CompanyName(&p, "companyName", b.CompanyName)
	}
	if err := p.Err("SeedBillingAccount"); err != nil {
		return billing.BillingAccount{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	if e := s.checkNewBillingAccountLocked(b.Username, b.Email); e != nil {
		return billing.BillingAccount{}, seedErr(e)
	}
	return *s.insertBillingAccountLocked(b.Username, b.Email, b.CompanyName, s.now()), nil
}

// WorkspaceSeed is a workspace to seed. Its JSON keys are those of the
// twapi.Workspace it creates, except CreateAt, which is RFC 3339.
type WorkspaceSeed struct {
	// OwnerAccountID is the console account that owns the workspace
	// (required); the workspace is on that account's site.
	OwnerAccountID string `json:"ownerAccountUUID"`
	// Name is unique per owner; required, 1 to 256 characters.
	Name string `json:"name"`
	// Language defaults to English.
	Language twapi.Language `json:"language,omitempty"`
	// BillingAccountID, when set, associates the workspace with that
	// Billing Center account, so that ListWorkspaces shows it.
	BillingAccountID string `json:"billingAccountUUID,omitempty"`
	// Settlement defaults to Billing Center settlement. A huaweicloud
	// settlement must name an existing purchase (AddPurchase); while that
	// purchase is in use or frozen the workspace cannot be bound to another
	// subscription. ChangedAt in the current calendar month (UTC) makes
	// BindWorkspace refuse with ft.SettlementChangeLimit. Other clouds
	// (aws, aliyun, azure) hold the workspace for good. In JSON it is the
	// API's settlement object, ChangedAt in Unix seconds.
	Settlement twapi.Settlement `json:"settlement,omitzero"`
	// IsLocked marks the workspace locked, as after a released
	// subscription.
	IsLocked bool `json:"isLocked,omitempty"`
	// CreateAt defaults to the server's clock; RFC 3339 in JSON.
	CreateAt time.Time `json:"createAt,omitzero"`
}

// SeedWorkspace creates a workspace as described and returns it.
func (s *Server) SeedWorkspace(ws WorkspaceSeed) (twapi.Workspace, error) {
	if ws.Language == "" {
		ws.Language = twapi.LanguageEN
	}
	var p apierror.Problems
	rules.Required(&p, "ownerAccountUUID", ws.OwnerAccountID)
	rules.WorkspaceName(&p, "name", ws.Name)
	rules.Language(&p, "language", ws.Language)
	st := ws.Settlement
	switch st.Method {
	case "":
		st.Method = twapi.SettlementBillingCenter
	case twapi.SettlementHuaweiCloud:
		rules.HuaweiAccountID(&p, "settlement.huaweiAccountId", st.HuaweiAccountID)
		rules.InstanceID(&p, "settlement.instanceId", st.InstanceID)
	case twapi.SettlementBillingCenter, twapi.SettlementAWS, twapi.SettlementAliyun, twapi.SettlementAzure:
	default:
		p.Add("settlement.method", "unknown settlement method %q", string(st.Method))
	}
	if st.Method != twapi.SettlementHuaweiCloud && (st.HuaweiAccountID != "" || st.InstanceID != "") {
		p.Add("settlement", "Huawei account and instance go only with the huaweicloud method")
	}
	if err := p.Err("SeedWorkspace"); err != nil {
		return twapi.Workspace{}, err
	}
	if !st.ChangedAt.IsZero() {
		st.ChangedAt = twapi.Timestamp{Time: st.ChangedAt.UTC().Truncate(time.Second)}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	owner := s.st.tw.accounts[ws.OwnerAccountID]
	if owner == nil {
		return twapi.Workspace{}, atField("ownerAccountUUID", fmt.Errorf("mockserver: unknown console account %q", ws.OwnerAccountID))
	}
	if ws.BillingAccountID != "" && s.st.tw.billing[ws.BillingAccountID] == nil {
		return twapi.Workspace{}, atField("billingAccountUUID", fmt.Errorf("mockserver: unknown Billing Center account %q", ws.BillingAccountID))
	}
	if st.Method == twapi.SettlementHuaweiCloud && s.subscriptionLocked(subKey{st.HuaweiAccountID, st.InstanceID}) == nil {
		return twapi.Workspace{}, atField("settlement.instanceId", fmt.Errorf("mockserver: Huawei account %s has no purchase %s; add it with AddPurchase first",
			st.HuaweiAccountID, st.InstanceID))
	}
	if s.workspaceNameTakenLocked(owner.ID, ws.Name) {
		return twapi.Workspace{}, atField("name", seedErr(twErr(http.StatusConflict, apierror.CodeWorkspaceNameTaken,
			"account %s already has a workspace named %q", owner.Username, ws.Name)))
	}
	now := s.now()
	if !ws.CreateAt.IsZero() {
		now = ws.CreateAt.UTC().Truncate(time.Second)
	}
	return *s.insertWorkspaceLocked(twapi.Workspace{Name: ws.Name, Language: ws.Language, Site: owner.Site,
		OwnerAccountID: owner.ID, BillingAccountID: ws.BillingAccountID, Settlement: st, IsLocked: ws.IsLocked}, now), nil
}

// SeedBinding binds a Billing Center account to a subscription (a purchase
// in use) without a verification code, as BindBillingAccount does, and
// returns a token for that account and subscription. Binding an account to
// a subscription it is already bound to only issues a new token.
func (s *Server) SeedBinding(billingAccountID, huaweiAccountID, instanceID string) (secret.String, error) {
	b, err := s.seedBinding(BindingSeed{BillingAccountID: billingAccountID, HuaweiAccountID: huaweiAccountID, InstanceID: instanceID})
	return secret.String(b.Token), err
}

// BindingSeed is the body of POST /_mock/bindings: SeedBinding's
// arguments.
type BindingSeed struct {
	BillingAccountID string `json:"billingAccountId"`
	HuaweiAccountID  string `json:"huaweiAccountId"`
	InstanceID       string `json:"instanceId"`
}

// SeededBinding is the answer of POST /_mock/bindings: the binding and a
// token for it. The token is in clear, unlike in the SDK's types, because
// the control plane is where tests get it.
type SeededBinding struct {
	BindingSeed
	Token string `json:"token"`
	// ExpiresAt is when the token expires (WithTokenTTL); RFC 3339.
	ExpiresAt time.Time `json:"expiresAt"`
}

func (s *Server) seedBinding(b BindingSeed) (SeededBinding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	k := subKey{b.HuaweiAccountID, b.InstanceID}
	if s.st.tw.billing[b.BillingAccountID] == nil {
		return SeededBinding{}, fmt.Errorf("mockserver: unknown Billing Center account %q", b.BillingAccountID)
	}
	if e := s.checkBindableLocked(b.BillingAccountID, k); e != nil {
		return SeededBinding{}, seedErr(e)
	}
	s.bindLocked(b.BillingAccountID, k)
	tok, exp := s.issueTokenLocked(b.BillingAccountID, k)
	return SeededBinding{BindingSeed: b, Token: tok, ExpiresAt: exp.Time}, nil
}

// Snapshot is the whole TrueWatch half, and the purchases behind it, at one
// instant: what GET /_mock/state returns. Every list is in creation order
// and never nil, so that its JSON has [] rather than null.
type Snapshot struct {
	Accounts        []twapi.Account          `json:"accounts"`
	BillingAccounts []billing.BillingAccount `json:"billingAccounts"`
	Workspaces      []twapi.Workspace        `json:"workspaces"`
	// Subscriptions has one entry per purchase, as GetSubscription shows
	// it: status, the Billing Center account bound to it (Bound,
	// BillingAccountID, BillingUsername) and the workspaces it settles.
	Subscriptions []billing.Subscription `json:"subscriptions"`
	Purchases     []Purchase             `json:"purchases"`
}

// Snapshot reads the state at one instant, under one lock, unlike a
// sequence of Accounts, Workspaces and Purchases calls, between which
// requests may change it.
func (s *Server) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	out := Snapshot{
		Accounts:        inOrder(s.st.tw.accountIDs, s.st.tw.accounts),
		BillingAccounts: inOrder(s.st.tw.billingIDs, s.st.tw.billing),
		Workspaces:      inOrder(s.st.tw.wsIDs, s.st.tw.workspaces),
		Subscriptions:   make([]billing.Subscription, 0, len(s.st.huawei.purchases)),
		Purchases:       make([]Purchase, 0, len(s.st.huawei.purchases)),
	}
	for _, p := range s.st.huawei.purchases {
		out.Subscriptions = append(out.Subscriptions, s.subscriptionViewLocked(p))
		out.Purchases = append(out.Purchases, *p)
	}
	return out
}

// Accounts returns every TrueWatch console account, in creation order.
func (s *Server) Accounts() []twapi.Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	return inOrder(s.st.tw.accountIDs, s.st.tw.accounts)
}

// BillingAccounts returns every Billing Center account, in creation order.
func (s *Server) BillingAccounts() []billing.BillingAccount {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	return inOrder(s.st.tw.billingIDs, s.st.tw.billing)
}

// Workspaces returns every workspace, in creation order.
func (s *Server) Workspaces() []twapi.Workspace {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	return inOrder(s.st.tw.wsIDs, s.st.tw.workspaces)
}

// Workspace returns one workspace by ID.
func (s *Server) Workspace(id string) (twapi.Workspace, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	if w := s.st.tw.workspaces[id]; w != nil {
		return *w, true
	}
	return twapi.Workspace{}, false
}

// Subscription returns a subscription as GetSubscription shows it, and
// whether the Huawei account has that purchase.
func (s *Server) Subscription(huaweiAccountID, instanceID string) (billing.Subscription, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	p := s.subscriptionLocked(subKey{huaweiAccountID, instanceID})
	if p == nil {
		return billing.Subscription{}, false
	}
	return s.subscriptionViewLocked(p), true
}

// inOrder copies the values of m in the order of ids.
func inOrder[T any](ids []string, m map[string]*T) []T {
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		out = append(out, *m[id])
	}
	return out
}

// seedErr turns an API refusal into a seeding error; the control plane
// answers with the refusal's status (409 for a conflict).
func seedErr(e *twError) error { return fmt.Errorf("mockserver: %w", e) }
