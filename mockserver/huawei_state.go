package mockserver

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
)

// The demo fixture every server starts with (unless WithoutDemoFixture).
const (
	DemoHuaweiAccountID   = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
	DemoHuaweiAccountName = "demo-huawei-account"
	DemoAccessKey         = "DEMOAKTRUEWATCHMOCK0001"
	DemoSecretKey         = "demo-secret-key-0001-do-not-use-in-production"
	DemoInstanceID        = "tw-inst-7d7b0a7e1c2d4e5f"
	// The demo account's real-name information.
	DemoHuaweiRealName = "Ada Lovelace"
	DemoHuaweiEmail    = "ada@example.com"
	DemoHuaweiMobile   = "+6591234567"
	DemoProductID      = TrueWatchProductID
	DemoProjectID      = "0d1e2f3a4b5c46d7e8f9a0b1c2d3e4f5"
	DemoRegion         = huawei.DefaultRegion
)

// The Huawei half shares the huawei client's types and rules, so that the
// mock serves what the client reads: the product ID, the service type, the
// purchase statuses and the BSS limits are the client's, named here for
// seeding.

// TrueWatchProductID is the KooGallery product ID of the TrueWatch SaaS
// edition: huawei.TrueWatchProductID.
const TrueWatchProductID = huawei.TrueWatchProductID

// MarketplaceServiceType is the BSS service type code the mock gives
// marketplace purchases by default: huawei.MarketplaceServiceType.
const MarketplaceServiceType = huawei.MarketplaceServiceType

// PurchaseStatus is a Huawei BSS resource status: huawei.PurchaseStatus.
type PurchaseStatus = huawei.PurchaseStatus

// BSS resource statuses: huawei.StatusInUse and the others.
const (
	PurchaseInUse   = huawei.StatusInUse
	PurchaseClosed  = huawei.StatusClosed
	PurchaseFrozen  = huawei.StatusFrozen
	PurchaseExpired = huawei.StatusExpired
)

// HuaweiSite is the Huawei Cloud site an account belongs to; an account
// exists on one site only. It decides the currency BSS answers in and the
// language of names BSS calls without an X-Language parameter answer with.
type HuaweiSite string

// Huawei Cloud sites.
const (
	// HuaweiSiteInternational is Huawei Cloud's international site
	// (BSS international, bss-intl.myhuaweicloud.com): amounts in USD.
	HuaweiSiteInternational HuaweiSite = "international"
	// HuaweiSiteChineseMainland is the Chinese mainland site (BSS,
	// bss.myhuaweicloud.com): amounts in CNY.
	HuaweiSiteChineseMainland HuaweiSite = "chinese-mainland"
)

// currency is what BSS amounts of the site are in, as BSS documents it
// (USD on the international site, CNY on the Chinese mainland).
func (s HuaweiSite) currency() string {
	if s == HuaweiSiteChineseMainland {
		return "CNY"
	}
	return "USD"
}

// language is the language of names in BSS answers that take no
// X-Language parameter: the site's (the mock's choice; Huawei does not
// document it).
func (s HuaweiSite) language() string {
	if s == HuaweiSiteChineseMainland {
		return bssLangZH
	}
	return bssLangEN
}

// hwBalance is a BSS amount: digits with at most two decimals.
var hwBalance = regexp.MustCompile(`^[0-9]{1,15}(\.[0-9]{1,2})?$`)

// HuaweiAccount is a seeded Huawei Cloud account.
type HuaweiAccount struct {
	// ID is the account (domain) ID: 32 lower-case hex characters.
	ID string `json:"id"`
	// Name defaults to "huawei-" and the ID's first 8 characters.
	Name string `json:"name,omitempty"`
	// Keys are the AK/SK pairs that sign requests for this account.
	Keys []AccessKey `json:"keys,omitempty"`
	// ProjectID is the one project /v3/projects?name={region} returns;
	// generated when empty.
	ProjectID string `json:"projectId,omitempty"`
	// HideDomain makes GET /v3/auth/domains return an empty list, as for IAM
	// users without permission, so clients fall back to STS.
	HideDomain bool `json:"hideDomain,omitempty"`
	// Site is HuaweiSiteInternational (the default) or
	// HuaweiSiteChineseMainland.
	Site HuaweiSite `json:"site,omitempty"`
	// Balance is the account's cash balance in its site's currency, as
	// BSS ShowCustomerAccountBalances reports it: a decimal with at most
	// two places, such as "125.50" (default "0.00").
	Balance string `json:"balance,omitempty"`
	// RealNameVerified says whether the account passed Huawei's real-name
	// authentication, which KooGallery requires before a purchase
	// (PlaceOrder refuses the account otherwise). Nil means true; the demo
	// account is verified.
	RealNameVerified *bool `json:"realNameVerified,omitempty"`
	// RealName, Email and Mobile are the account's real-name information,
	// which the joint service's console pre-fills the first member of an
	// enterprise with (AddMember). RealName defaults to Name.
	RealName string `json:"realName,omitempty"`
	Email    string `json:"email,omitempty"`
	Mobile   string `json:"mobile,omitempty"`
}

func (a *HuaweiAccount) realNameVerified() bool {
	return a.RealNameVerified == nil || *a.RealNameVerified
}

// AccessKey is an AK/SK pair of a Huawei account.
type AccessKey struct {
	AK string `json:"ak"`
	// SK is the secret key. It is mock data, so it is a plain string, in
	// clear in JSON too.
	SK string `json:"sk"`
	// SecurityToken, when set, marks a temporary key: requests must carry it
	// in X-Security-Token.
	SecurityToken string `json:"securityToken,omitempty"`
	// UserID is the IAM user owning the key; generated when empty.
	UserID string `json:"userId,omitempty"`
	// UserName defaults to the account's name.
	UserName string `json:"userName,omitempty"`
}

// Purchase is a marketplace purchase of a Huawei account: what BSS lists as
// a subscription resource and what the Billing Center sees as a
// subscription.
//
// In JSON (the control plane) its keys are camelCase and its times RFC
// 3339; fields left out take their defaults.
type Purchase struct {
	// AccountID is the Huawei account that bought it; it must exist.
	AccountID string `json:"accountId"`
	// InstanceID is the marketplace instance ID the buyer copies from
	// Purchased Services (and the Billing Center binds). Required.
	InstanceID string `json:"instanceId"`
	// ResourceID is the BSS resource ID. It defaults to InstanceID: the mock
	// reports a marketplace purchase's instance ID as its BSS resource_id,
	// which is how the huawei package finds instance IDs. Whether Huawei
	// does the same for SaaS purchases is not documented; set ResourceID to
	// something else to model the other case.
	ResourceID string `json:"resourceId,omitempty"`
	// ProductID is the KooGallery product (default TrueWatchProductID).
	ProductID string `json:"productId,omitempty"`
	// OrderID is the order that bought it; generated when empty.
	// Purchases given the same OrderID are lines of one order.
	OrderID          string `json:"orderId,omitempty"`
	ResourceName     string `json:"resourceName,omitempty"`     // default "TrueWatch"
	ServiceTypeCode  string `json:"serviceTypeCode,omitempty"`  // default MarketplaceServiceType
	ResourceTypeCode string `json:"resourceTypeCode,omitempty"` // default "hws.resource.type.marketplace.saas"
	RegionCode       string `json:"regionCode,omitempty"`       // default "ap-southeast-1"; one of RegionIDs
	SpecCode         string `json:"specCode,omitempty"`         // default "truewatch.saas.commercial"
	// Status is one of PurchaseInUse (the default), PurchaseClosed,
	// PurchaseFrozen and PurchaseExpired: the number BSS reports (2 to 5).
	Status        PurchaseStatus `json:"status,omitempty"`
	EffectiveTime time.Time      `json:"effectiveTime,omitzero"` // default: now
	ExpireTime    time.Time      `json:"expireTime,omitzero"`    // default: one year after EffectiveTime
	UpdateTime    time.Time      `json:"updateTime,omitzero"`    // default: now
	// FrontEndURL is the vendor's appInfo.frontEndUrl for a purchase made
	// through the marketplace (PlaceOrder): the link Purchased Services
	// shows the buyer, for TrueWatch the activation link. Seeded purchases
	// have none.
	FrontEndURL string `json:"frontEndUrl,omitempty"`
}

type huaweiState struct {
	accounts  map[string]*HuaweiAccount // by account ID
	keys      map[string]*keyRef        // by AK
	purchases []*Purchase               // in insertion order
	byInst    map[string]*Purchase      // by instance ID
	byAccount map[string][]*Purchase    // by account ID, in insertion order
	orderIDs  map[string]struct{}       // the orders purchases were bought by
}

type keyRef struct {
	account *HuaweiAccount
	key     AccessKey
}

// AddHuaweiAccount seeds a Huawei account and its keys.
func (s *Server) AddHuaweiAccount(a HuaweiAccount) error {
	if !rules.IsHuaweiAccountID(a.ID) {
		return atField("id", fmt.Errorf("mockserver: Huawei account ID %q must be 32 lower-case hex characters", a.ID))
	}
	switch a.Site {
	case "", HuaweiSiteInternational, HuaweiSiteChineseMainland:
	default:
		return atField("site", fmt.Errorf("mockserver: Huawei site %q is not %q or %q", a.Site, HuaweiSiteInternational, HuaweiSiteChineseMainland))
	}
	if a.Balance != "" && !hwBalance.MatchString(a.Balance) {
		return atField("balance", fmt.Errorf("mockserver: balance %q must be a decimal with at most two places, such as 125.50", a.Balance))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := &s.st.huawei
	if _, ok := hs.accounts[a.ID]; ok {
		return atField("id", conflictf("mockserver: Huawei account %s already exists", a.ID))
	}
	for i, k := range a.Keys {
		if k.AK == "" || k.SK == "" {
			return atField("keys."+strconv.Itoa(i), errors.New("mockserver: access keys need both AK and SK"))
		}
		if _, ok := hs.keys[k.AK]; ok {
			return atField("keys."+strconv.Itoa(i)+".ak", conflictf("mockserver: access key %s already exists", k.AK))
		}
	}
	if !s.aside {
		aks := make([]string, len(a.Keys))
		for i, k := range a.Keys {
			aks[i] = k.AK
		}
		if err := s.claimNewKeys(aks); err != nil { // an access key routes to one namespace
			return err
		}
	}
	acc := a
	acc.Keys = slices.Clone(a.Keys)
	if acc.Name == "" {
		acc.Name = "huawei-" + a.ID[:8]
	}
	if acc.ProjectID == "" {
		acc.ProjectID = s.ids.hex32("project")
	}
	if acc.Site == "" {
		acc.Site = HuaweiSiteInternational
	}
	if acc.Balance == "" {
		acc.Balance = "0.00"
	}
	verified := a.realNameVerified()
	acc.RealNameVerified = &verified
	for i := range acc.Keys {
		if acc.Keys[i].UserID == "" {
			acc.Keys[i].UserID = s.ids.hex32("user")
		}
		if acc.Keys[i].UserName == "" {
			acc.Keys[i].UserName = acc.Name
		}
	}
	hs.accounts[acc.ID] = &acc
	for _, k := range acc.Keys {
		hs.keys[k.AK] = &keyRef{account: &acc, key: k}
	}
	return nil
}

// AddPurchase seeds a marketplace purchase for an existing Huawei account
// and returns it with defaults filled in. It is a purchase as if KooGallery
// had already delivered it: TrueWatch has a record of it with the same
// status and term (no call is made; PlaceOrder makes one). Its term ends on
// the mock's clock at ExpireTime, if that is still ahead (see
// AdvanceClock).
func (s *Server) AddPurchase(p Purchase) (Purchase, error) {
	if err := checkPurchase(p); err != nil {
		return Purchase{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addPurchaseLocked(p, true)
}

// checkPurchase checks the formats of a purchase to add.
func checkPurchase(p Purchase) error {
	if !rules.IsInstanceID(p.InstanceID) {
		return atField("instanceId", fmt.Errorf("mockserver: instance ID %q must be 1 to 64 printable characters", p.InstanceID))
	}
	if p.OrderID != "" && !rules.IsInstanceID(p.OrderID) {
		return atField("orderId", fmt.Errorf("mockserver: order ID %q must be 1 to 64 printable characters", p.OrderID))
	}
	if p.Status != 0 && !p.Status.Valid() {
		return atField("status", fmt.Errorf("mockserver: invalid purchase status %d (2 in use, 3 closed, 4 frozen, 5 expired)", p.Status))
	}
	if _, ok := hwRegionByID(p.RegionCode); p.RegionCode != "" && !ok {
		return atField("regionCode", fmt.Errorf("mockserver: region %q does not exist (RegionIDs lists the regions)", p.RegionCode))
	}
	return nil
}

// addPurchaseLocked adds a purchase with defaults filled in; seed also
// gives TrueWatch a record of it (a purchase the marketplace delivered
// has the one its vendor made).
func (s *Server) addPurchaseLocked(p Purchase, seed bool) (Purchase, error) {
	hs := &s.st.huawei
	if _, ok := hs.accounts[p.AccountID]; !ok {
		return Purchase{}, atField("accountId", fmt.Errorf("mockserver: unknown Huawei account %q", p.AccountID))
	}
	if _, ok := hs.byInst[p.InstanceID]; ok {
		return Purchase{}, atField("instanceId", conflictf("mockserver: instance %s already exists", p.InstanceID))
	}
	if seed && s.st.tw.subs[p.InstanceID] != nil {
		return Purchase{}, atField("instanceId", fmt.Errorf("mockserver: TrueWatch already has an instance %s", p.InstanceID))
	}
	now := s.cfg.clock.Now().UTC().Truncate(time.Second)
	if p.ResourceID == "" {
		p.ResourceID = p.InstanceID
	}
	if p.ProductID == "" {
		p.ProductID = TrueWatchProductID
	}
	if p.OrderID == "" {
		p.OrderID = "CS" + now.Format("0601021504") + s.ids.hex32("order")[:5]
	}
	if p.ResourceName == "" {
		p.ResourceName = "TrueWatch"
	}
	if p.ServiceTypeCode == "" {
		p.ServiceTypeCode = MarketplaceServiceType
	}
	if p.ResourceTypeCode == "" {
		p.ResourceTypeCode = "hws.resource.type.marketplace.saas"
	}
	if p.RegionCode == "" {
		p.RegionCode = DemoRegion
	}
	if p.SpecCode == "" {
		p.SpecCode = TrueWatchSKUCode
	}
	if p.Status == 0 {
		p.Status = PurchaseInUse
	}
	if p.EffectiveTime.IsZero() {
		p.EffectiveTime = now
	}
	if p.ExpireTime.IsZero() {
		p.ExpireTime = p.EffectiveTime.AddDate(1, 0, 0)
	}
	if p.UpdateTime.IsZero() {
		p.UpdateTime = now
	}
	cp := p
	hs.purchases = append(hs.purchases, &cp)
	hs.byInst[cp.InstanceID] = &cp
	hs.byAccount[cp.AccountID] = append(hs.byAccount[cp.AccountID], &cp)
	hs.orderIDs[cp.OrderID] = struct{}{}
	if seed {
		s.addTWSubLocked(&twSub{key: subKey{cp.AccountID, cp.InstanceID}, productID: cp.ProductID, skuCode: cp.SpecCode,
			status: cp.Status, expireTime: cp.ExpireTime})
	}
	s.armTermLocked(&cp)
	return cp, nil
}

// Purchases returns every seeded purchase, in insertion order.
func (s *Server) Purchases() []Purchase {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Purchase, len(s.st.huawei.purchases))
	for i, p := range s.st.huawei.purchases {
		out[i] = *p
	}
	return out
}

// SetPurchaseStatus sets a purchase's status directly, as a seed: BSS and
// TrueWatch's record change at once, as if KooGallery had delivered the
// change and the vendor accepted it, without a call (the lifecycle
// methods, such as FreezePurchase and ReleasePurchase, make the call).
// Expired and closed start the grace period of the workspaces it settles;
// in use lifts it.
func (s *Server) SetPurchaseStatus(instanceID string, status PurchaseStatus) error {
	if !status.Valid() {
		return fmt.Errorf("mockserver: invalid purchase status %d (2 in use, 3 closed, 4 frozen, 5 expired)", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.purchaseLocked(instanceID)
	if p == nil {
		return fmt.Errorf("%w %q", ErrUnknownInstance, instanceID)
	}
	s.settleGraceLocked()
	now := s.cfg.clock.Now().UTC().Truncate(time.Second)
	p.Status, p.UpdateTime = status, now
	if sub := s.twSubLocked(instanceID); sub != nil {
		s.setTWStatusLocked(sub, status, now)
	}
	s.armTermLocked(p)
	return nil
}

func (s *Server) purchaseLocked(instanceID string) *Purchase {
	return s.st.huawei.byInst[instanceID]
}

func (s *Server) seedDemo() error {
	ak, sk := s.demoKeys()
	if err := s.AddHuaweiAccount(HuaweiAccount{ID: DemoHuaweiAccountID, Name: DemoHuaweiAccountName,
		ProjectID: DemoProjectID, Keys: []AccessKey{{AK: ak, SK: sk}},
		RealName: DemoHuaweiRealName, Email: DemoHuaweiEmail, Mobile: DemoHuaweiMobile}); err != nil {
		return err
	}
	_, err := s.AddPurchase(Purchase{AccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID})
	return err
}
