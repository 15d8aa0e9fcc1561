package mockserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// The mock's KooGallery: the marketplace's own half. A buyer's order
// (PlaceOrder, POST /_mock/marketplace/orders) is delivered to the vendor's
// production interface as a signed newInstance; the instance ID the vendor
// answers becomes the purchase BSS lists and the Billing Center looks up.
// Lifecycle actions (RenewPurchase, ExpirePurchase, FreezePurchase,
// UnfreezePurchase, ReleasePurchase, UpgradePurchase) are delivered as
// KooGallery V2 delivers them, and a purchase whose term ends on the mock's
// clock expires by itself. Every call is in the delivery log
// (Deliveries).

// Demo keys of the production interface and the joint-operation kit: what
// the mock's KooGallery signs with and its own TrueWatch vendor verifies,
// unless WithKooGalleryKey and WithKooGalleryKitKey say otherwise. They are
// public; a vendor's real keys come from KooGallery's seller console.
const (
	DemoKooGalleryKey    = "demo-koogallery-key-do-not-use-in-production"
	DemoKooGalleryKitKey = "demo-koogallery-kit-key-do-not-use-in-production"
)

// VendorProducePath is where the mock serves TrueWatch's own production
// interface (the joint-operation kit below it, at
// VendorProducePath+koogallery.KitPathPrefix).
const VendorProducePath = "/vendor/produce"

// TrueWatchSKUCode is the SKU orders name when they name none.
const TrueWatchSKUCode = "truewatch.saas.commercial"

// DefaultGracePeriod is how long the workspaces of an expired or released
// subscription keep working before they are locked: TrueWatch documents a
// 14-day buffer.
const DefaultGracePeriod = 14 * 24 * time.Hour

// ResourceIDMode says what BSS reports as a marketplace purchase's
// resource_id. Whether Huawei reports the seller's instance ID there is not
// documented; the huawei package copes with both (it matches purchases to
// instances by order when they differ).
type ResourceIDMode string

// The modes.
const (
	// ResourceIDIsInstanceID reports the vendor's instance ID (the default).
	ResourceIDIsInstanceID ResourceIDMode = "instance"
	// ResourceIDDistinct reports an ID of BSS's own, unrelated to it.
	ResourceIDDistinct ResourceIDMode = "distinct"
)

// NewInstanceShape is how the mock's KooGallery sends newInstance.
type NewInstanceShape string

// The shapes (koogallery.NewInstanceRequest decodes both).
const (
	// NewInstanceInline carries the buyer (buyerInfo, customerId being the
	// Huawei account ID) and the order (orderInfo: product, SKU, period,
	// expireTime) in the call. It is the default, because the mock does
	// not serve KooGallery's seller Open API, from which a vendor would
	// otherwise read them.
	NewInstanceInline NewInstanceShape = "inline"
	// NewInstanceFlat sends only orderId, orderLineId, businessId and
	// testFlag, as KooGallery's current V2 pages document; the vendor
	// reads the order with the Open API (the mock's own vendor reads it
	// from the marketplace's state).
	NewInstanceFlat NewInstanceShape = "flat"
)

// WithVendorURL points the mock's KooGallery at a vendor's production
// interface (an absolute http or https URL) instead of the mock's own
// TrueWatch vendor at URL()+VendorProducePath, so a vendor tests its
// service against the marketplace.
func WithVendorURL(u string) Option {
	return func(cfg *config) error {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.User != nil {
			return fmt.Errorf("mockserver: vendor URL %q must be an absolute http(s) URL without user information", u)
		}
		cfg.vendorURL = u
		return nil
	}
}

// WithVendorHandler sends the mock's KooGallery calls to h in-process, for
// a vendor's tests without a port; with WithVendorURL, that URL is the
// address the calls name.
func WithVendorHandler(h http.Handler) Option {
	return func(cfg *config) error {
		if h == nil {
			return errors.New("mockserver: nil vendor handler")
		}
		cfg.vendorHandler = h
		return nil
	}
}

// WithKooGalleryKey sets the production interface's access key: the mock's
// KooGallery signs with it and its own vendor verifies with it (default
// DemoKooGalleryKey).
func WithKooGalleryKey(k secret.String) Option {
	return func(cfg *config) error {
		if k.IsZero() {
			return errors.New("mockserver: empty KooGallery key")
		}
		cfg.kgKey = k
		return nil
	}
}

// WithKooGalleryKitKey sets the joint-operation kit's key, which the mock's
// own vendor verifies kit calls with (default DemoKooGalleryKitKey).
func WithKooGalleryKitKey(k secret.String) Option {
	return func(cfg *config) error {
		if k.IsZero() {
			return errors.New("mockserver: empty KooGallery kit key")
		}
		cfg.kgKitKey = k
		return nil
	}
}

// WithBSSResourceIDs says what BSS reports as a marketplace purchase's
// resource_id (default ResourceIDIsInstanceID). It applies to purchases
// made through the marketplace; a seeded Purchase says its own.
func WithBSSResourceIDs(m ResourceIDMode) Option {
	return func(cfg *config) error {
		if m != ResourceIDIsInstanceID && m != ResourceIDDistinct {
			return fmt.Errorf("mockserver: resource ID mode %q is not %q or %q", m, ResourceIDIsInstanceID, ResourceIDDistinct)
		}
		cfg.resourceIDs = m
		return nil
	}
}

// WithNewInstanceShape chooses how newInstance is sent (default
// NewInstanceInline).
func WithNewInstanceShape(sh NewInstanceShape) Option {
	return func(cfg *config) error {
		if sh != NewInstanceInline && sh != NewInstanceFlat {
			return fmt.Errorf("mockserver: newInstance shape %q is not %q or %q", sh, NewInstanceInline, NewInstanceFlat)
		}
		cfg.shape = sh
		return nil
	}
}

// WithGracePeriod sets how long the workspaces of an expired or released
// subscription keep working before they lock (default DefaultGracePeriod).
func WithGracePeriod(d time.Duration) Option {
	return func(cfg *config) error {
		if d <= 0 || d > maxClockMove {
			return errors.New("mockserver: the grace period must be positive")
		}
		cfg.grace = d
		return nil
	}
}

// OrderType says what an order bought.
type OrderType string

// The order types (BSS order_type 1, 2, 3).
const (
	OrderNew     OrderType = "new"
	OrderRenew   OrderType = "renew"
	OrderUpgrade OrderType = "upgrade"
)

// bssOrderType is the BSS order_type of an order type.
func (t OrderType) bssOrderType() int {
	switch t {
	case OrderRenew:
		return 2
	case OrderUpgrade:
		return 3
	}
	return bssOrderTypeNew
}

// OrderStatus says where an order's delivery to the vendor stands.
type OrderStatus string

// The statuses.
const (
	// OrderPending: the vendor has not accepted the order yet; KooGallery
	// calls again at NextAttemptAt.
	OrderPending OrderStatus = "pending"
	// OrderDelivered: the vendor accepted it (a new order: the vendor
	// returned the instance).
	OrderDelivered OrderStatus = "delivered"
	// OrderCancelled: a new order whose newInstance failed every attempt.
	OrderCancelled OrderStatus = "cancelled"
	// OrderFailed: a renewal or upgrade whose delivery failed every
	// attempt; the marketplace applied it all the same.
	OrderFailed OrderStatus = "failed"
)

// OrderRequest is a buyer's purchase on the marketplace: the body of POST
// /_mock/marketplace/orders.
type OrderRequest struct {
	// HuaweiAccountID is the buyer; it must exist and be real-name
	// verified. Required.
	HuaweiAccountID string `json:"huaweiAccountId"`
	// ProductID defaults to TrueWatchProductID.
	ProductID string `json:"productId,omitempty"`
	// SKUCode defaults to TrueWatchSKUCode.
	SKUCode string `json:"skuCode,omitempty"`
	// PeriodMonths is the term bought, 1 to 120 months (default 12).
	PeriodMonths int `json:"periodMonths,omitempty"`
}

// MarketplaceOrder is an order on the mock's marketplace: a new purchase,
// a renewal or an upgrade, and where its delivery to the vendor stands.
type MarketplaceOrder struct {
	OrderID     string    `json:"orderId"`
	OrderLineID string    `json:"orderLineId"`
	Type        OrderType `json:"type"`
	// HuaweiAccountID is the buyer.
	HuaweiAccountID string `json:"huaweiAccountId"`
	ProductID       string `json:"productId"`
	SKUCode         string `json:"skuCode"`
	// PeriodMonths is the term bought (new and renewal orders).
	PeriodMonths int       `json:"periodMonths,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	// ExpireTime is when the term ends once this order applies.
	ExpireTime time.Time `json:"expireTime,omitzero"`
	// InstanceID is the vendor's instance: returned by newInstance for a
	// new order (empty until then), the instance renewed or upgraded
	// otherwise.
	InstanceID string      `json:"instanceId,omitempty"`
	Status     OrderStatus `json:"status"`
	// Attempts counts the calls made to deliver the order.
	Attempts int `json:"attempts"`
	// NextAttemptAt is when KooGallery calls again (OrderPending).
	NextAttemptAt time.Time `json:"nextAttemptAt,omitzero"`
	// LastError says why the last attempt failed.
	LastError string `json:"lastError,omitempty"`
	// FrontEndURL is the vendor's appInfo.frontEndUrl, what the buyer is
	// shown to start using the product (for TrueWatch, the activation
	// link). It is the buyer's, so the control plane shows it in clear; the
	// delivery log does not.
	FrontEndURL string `json:"frontEndUrl,omitempty"`
}

// marketState is the marketplace's half of the state: orders, deliveries
// waiting for a retry, armed term ends and the delivery log.
type marketState struct {
	orders       []*MarketplaceOrder
	byID         map[string]*MarketplaceOrder
	queue        dueQueue
	seq          int
	expiries     map[string]time.Time // instance ID -> the term end that will expire it
	nextJob      int
	nextDelivery int
	log          []Delivery
}

func newMarketState() marketState {
	return marketState{byID: map[string]*MarketplaceOrder{}, expiries: map[string]time.Time{}}
}

// Errors of the marketplace, for errors.Is.
var (
	// ErrRealNameRequired: the buyer's Huawei account is not real-name
	// verified, which KooGallery requires before a purchase.
	ErrRealNameRequired = errors.New("mockserver: the Huawei account must be real-name verified to purchase")
	// ErrUnknownHuaweiAccount: no such Huawei account.
	ErrUnknownHuaweiAccount = errors.New("mockserver: unknown Huawei account")
	// ErrUnknownInstance: no purchase has this instance ID.
	ErrUnknownInstance = errors.New("mockserver: unknown instance")
	// ErrUnknownOrder: no order has this ID.
	ErrUnknownOrder = errors.New("mockserver: unknown order")
	// ErrNotAllowed: the purchase's status does not allow the action (a
	// released instance allows none).
	ErrNotAllowed = errors.New("mockserver: not allowed")
)

// marketError is an error of the marketplace with its control-plane
// status.
func marketStatus(err error) int {
	var ve *apierror.ValidationError
	switch {
	case errors.Is(err, ErrUnknownHuaweiAccount), errors.Is(err, ErrUnknownInstance), errors.Is(err, ErrUnknownOrder):
		return http.StatusNotFound
	case errors.Is(err, ErrRealNameRequired):
		return http.StatusForbidden
	case errors.Is(err, ErrNotAllowed):
		return http.StatusConflict
	case errors.As(err, &ve):
		return http.StatusBadRequest
	}
	return http.StatusBadRequest
}

const maxPeriodMonths = 120

func (r *OrderRequest) normalize() error {
	if r.ProductID == "" {
		r.ProductID = TrueWatchProductID
	}
	if r.SKUCode == "" {
		r.SKUCode = TrueWatchSKUCode
	}
	if r.PeriodMonths == 0 {
		r.PeriodMonths = 12
	}
	var p apierror.Problems
	rules.HuaweiAccountID(&p, "huaweiAccountId", r.HuaweiAccountID)
	if !rules.IsInstanceID(r.ProductID) {
		p.Add("productId", "must be 1 to 64 printable ASCII characters")
	}
	if !rules.IsInstanceID(r.SKUCode) {
		p.Add("skuCode", "must be 1 to 64 printable ASCII characters")
	}
	if r.PeriodMonths < 1 || r.PeriodMonths > maxPeriodMonths {
		p.Add("periodMonths", "must be from 1 to %d", maxPeriodMonths)
	}
	return p.Err("PlaceOrder")
}

// PlaceOrder is a buyer's purchase on the marketplace ("SaaS subscription
// task submitted"). It checks the buyer (an existing, real-name verified
// Huawei account: ErrUnknownHuaweiAccount, ErrRealNameRequired), creates
// the order (an order ID, its line, product, SKU and term), calls the
// vendor's production interface with a signed newInstance and returns the
// order once that first call is answered: OrderDelivered with the vendor's
// instance ID (now a purchase in BSS and the Billing Center), or
// OrderPending with the time of the next attempt. Failed calls are made
// again on the mock's clock (DeliveryPolicy); when the attempts run out the
// order is cancelled. A refused order changes nothing.
func (s *Server) PlaceOrder(ctx context.Context, req OrderRequest) (MarketplaceOrder, error) {
	if ctx == nil {
		return MarketplaceOrder{}, errors.New("mockserver: nil context")
	}
	if err := req.normalize(); err != nil {
		return MarketplaceOrder{}, err
	}
	s.catchUp(ctx)
	s.mu.Lock()
	acc := s.st.huawei.accounts[req.HuaweiAccountID]
	switch {
	case acc == nil:
		s.mu.Unlock()
		return MarketplaceOrder{}, fmt.Errorf("%w %s", ErrUnknownHuaweiAccount, req.HuaweiAccountID)
	case !acc.realNameVerified():
		s.mu.Unlock()
		return MarketplaceOrder{}, fmt.Errorf("%w: account %s is not", ErrRealNameRequired, acc.ID)
	}
	now := s.now()
	o := s.newOrderLocked(OrderNew, req.HuaweiAccountID, req.ProductID, req.SKUCode, now)
	o.PeriodMonths = req.PeriodMonths
	o.ExpireTime = now.AddDate(0, req.PeriodMonths, 0)
	job := s.newInstanceJobLocked(o, *acc, false)
	s.mu.Unlock()
	s.attempt(ctx, job, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	return *o, nil
}

// newOrderLocked creates an order (and its one line) of the current state.
func (s *Server) newOrderLocked(t OrderType, account, product, sku string, now time.Time) *MarketplaceOrder {
	m := &s.st.mkt
	id := ""
	for id == "" || m.byID[id] != nil || s.orderIDTakenLocked(id) {
		id = "CS" + now.Format("0601021504") + strings.ToUpper(s.ids.hex32("order")[:5])
	}
	o := &MarketplaceOrder{OrderID: id, OrderLineID: id + "-" + itoa6(1), Type: t, HuaweiAccountID: account,
		ProductID: product, SKUCode: sku, CreatedAt: now, Status: OrderPending}
	m.orders = append(m.orders, o)
	m.byID[id] = o
	return o
}

func (s *Server) orderIDTakenLocked(id string) bool {
	_, taken := s.st.huawei.orderIDs[id]
	return taken
}

// newInstanceJobLocked is the delivery of a new order: newInstance, with
// a new businessId on every attempt. once makes it a single call (a buyer
// viewing the order), which changes nothing whatever the answer.
func (s *Server) newInstanceJobLocked(o *MarketplaceOrder, acc HuaweiAccount, once bool) *deliveryJob {
	job := &deliveryJob{activity: koogallery.ActivityNewInstance, orderID: o.OrderID, lineID: o.OrderLineID,
		instance: o.InstanceID}
	job.body = func() ([]byte, error) {
		return koogallery.EncodeActivity(s.newInstanceBody(o, acc, uuidOf(s.ids.hex32("business"))))
	}
	if once {
		job.succeeded = func(*koogallery.Response, time.Time) error { return nil }
		job.failed = func(time.Time, bool, string) {}
		job.once = true
		return s.newJobLocked(job)
	}
	job.succeeded = func(res *koogallery.Response, at time.Time) error {
		o.Attempts = job.attempts
		if err := s.deliveredLocked(o, res, at); err != nil {
			return err
		}
		o.Status, o.NextAttemptAt, o.LastError = OrderDelivered, time.Time{}, ""
		return nil
	}
	job.failed = func(at time.Time, last bool, why string) {
		o.Attempts, o.LastError = job.attempts, why
		if last {
			o.Status, o.NextAttemptAt = OrderCancelled, time.Time{}
			return
		}
		o.NextAttemptAt = at.Add(s.cfg.delivery.Interval)
	}
	return s.newJobLocked(job)
}

func (s *Server) newInstanceBody(o *MarketplaceOrder, acc HuaweiAccount, businessID string) *koogallery.NewInstanceRequest {
	if s.cfg.shape == NewInstanceFlat {
		return &koogallery.NewInstanceRequest{BusinessID: businessID, OrderID: o.OrderID, OrderLineID: o.OrderLineID}
	}
	buyer := &koogallery.BuyerInfo{CustomerID: acc.ID, CustomerName: acc.Name, UserName: acc.Name}
	if len(acc.Keys) > 0 {
		buyer.UserID = acc.Keys[0].UserID
	}
	periodType, n := "month", o.PeriodMonths
	if n%12 == 0 {
		periodType, n = "year", n/12
	}
	return &koogallery.NewInstanceRequest{Buyer: buyer, Orders: []koogallery.OrderInfo{{
		BusinessID: businessID, OrderID: o.OrderID, OrderLineID: o.OrderLineID, ChargingMode: "PERIOD",
		PeriodType: periodType, PeriodNumber: n, ProvisionType: 1,
		Products:   []koogallery.ProductInfo{{SKUCode: o.SKUCode, ProductID: o.ProductID}},
		CreateTime: o.CreatedAt, ExpireTime: o.ExpireTime,
	}}}
}

// deliveredLocked records the instance a vendor returned for a new order:
// the purchase BSS lists and the Billing Center looks up.
func (s *Server) deliveredLocked(o *MarketplaceOrder, res *koogallery.Response, at time.Time) error {
	id := res.InstanceID
	if !rules.IsInstanceID(id) {
		return errors.New("the vendor answered no instance ID, or one that is not 1 to 64 printable ASCII characters")
	}
	if res.AppInfo == nil || res.AppInfo.FrontEndURL == "" {
		return errors.New("the vendor answered no appInfo.frontEndUrl")
	}
	if p := s.st.huawei.byInst[id]; p != nil {
		return fmt.Errorf("the vendor answered instance ID %s, which already names another purchase", id)
	}
	resource := id
	if s.cfg.resourceIDs == ResourceIDDistinct {
		resource = uuidOf(s.ids.hex32("resource"))
	}
	p := Purchase{AccountID: o.HuaweiAccountID, InstanceID: id, ResourceID: resource, ProductID: o.ProductID,
		OrderID: o.OrderID, SpecCode: o.SKUCode, EffectiveTime: o.CreatedAt, ExpireTime: o.ExpireTime,
		UpdateTime: at, FrontEndURL: res.AppInfo.FrontEndURL}
	if _, err := s.addPurchaseLocked(p, false); err != nil {
		return err
	}
	o.InstanceID, o.FrontEndURL = id, res.AppInfo.FrontEndURL
	return nil
}

// Orders returns every marketplace order, oldest first.
func (s *Server) Orders() []MarketplaceOrder {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MarketplaceOrder, len(s.st.mkt.orders))
	for i, o := range s.st.mkt.orders {
		out[i] = *o
	}
	return out
}

// Order returns one order.
func (s *Server) Order(id string) (MarketplaceOrder, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.st.mkt.byID[id]; o != nil {
		return *o, true
	}
	return MarketplaceOrder{}, false
}

// OrderView is what ViewOrder answers: the order and the newInstance the
// view caused.
type OrderView struct {
	Order    MarketplaceOrder `json:"order"`
	Delivery Delivery         `json:"delivery"`
	// InstanceKept is true when the vendor answered the order's instance
	// ID again, as KooGallery requires ("do not update the order's
	// instanceId then").
	InstanceKept bool `json:"instanceKept"`
}

// ViewOrder is a buyer viewing a delivered order in KooGallery, which calls
// newInstance again for it (with a new businessId). A conforming vendor
// answers with the same instance ID and changes nothing; InstanceKept says
// whether it did. The view changes nothing on the marketplace and is not
// retried.
func (s *Server) ViewOrder(ctx context.Context, orderID string) (OrderView, error) {
	if ctx == nil {
		return OrderView{}, errors.New("mockserver: nil context")
	}
	s.mu.Lock()
	o := s.st.mkt.byID[orderID]
	if o == nil {
		s.mu.Unlock()
		return OrderView{}, fmt.Errorf("%w %s", ErrUnknownOrder, orderID)
	}
	if o.Type != OrderNew || o.Status != OrderDelivered {
		s.mu.Unlock()
		return OrderView{}, fmt.Errorf("%w: order %s is a %s order, %s; only a delivered new order is viewed with newInstance",
			ErrNotAllowed, orderID, o.Type, o.Status)
	}
	acc := s.st.huawei.accounts[o.HuaweiAccountID]
	job := s.newInstanceJobLocked(o, *acc, true)
	s.mu.Unlock()
	d := s.attempt(ctx, job, s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	var answered struct {
		InstanceID string `json:"instanceId"`
	}
	_ = json.Unmarshal(d.Response, &answered) // a body that is not an object leaves it empty
	return OrderView{Order: *o, Delivery: d, InstanceKept: d.Outcome == DeliverySucceeded && answered.InstanceID == o.InstanceID}, nil
}

// VendorURL is the production interface the mock's KooGallery calls:
// WithVendorURL's, or TrueWatch's own at URL()+VendorProducePath.
func (s *Server) VendorURL() string { return s.kg.target }
