package koogallery

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// Activity names of the production interface (the body's "activity").
const (
	ActivityNewInstance          = "newInstance"
	ActivityQueryInstance        = "queryInstance"
	ActivityRefreshInstance      = "refreshInstance"
	ActivityUpdateInstanceStatus = "updateInstanceStatus"
	ActivityReleaseInstance      = "releaseInstance"
	ActivityUpgradeInstance      = "upgradeInstance"
	ActivityChangeInstanceCheck  = "changeInstanceCheck"
	ActivityOrderNotify          = "orderNotify"
	// ActivityUpgrade is V1's name for upgradeInstance, still sent to
	// older listings; it is decoded into UpgradeInstanceRequest.
	ActivityUpgrade = "upgrade"
	// ActivityExpireInstance is V1's expiry notice, accepted for older
	// listings.
	ActivityExpireInstance = "expireInstance"
)

// Activity is a typed request of the production interface. Every request
// type of this package implements it; Caller sends one.
type Activity interface {
	// ActivityName is the body's "activity".
	ActivityName() string
	wireBody() ([]byte, error)
}

// Scene says why refreshInstance was sent.
type Scene string

// The documented scenes. Other values reach the vendor as given: the list
// has grown before, and a vendor can refuse what it does not know with
// ErrInvalidParameter.
const (
	SceneTrialToFormal            Scene = "TRIAL_TO_FORMAL"
	SceneRenewal                  Scene = "RENEWAL"
	SceneUnsubscribeRenewalPeriod Scene = "UNSUBSCRIBE_RENEWAL_PERIOD"
)

// InstanceStatus is updateInstanceStatus's status.
type InstanceStatus string

// The two statuses; anything else is refused with 000002.
const (
	StatusFreeze   InstanceStatus = "FREEZE"
	StatusUnfreeze InstanceStatus = "UNFREEZE"
)

// NewInstanceRequest asks the vendor to create an instance for an order
// (newInstance). KooGallery sends it in one of two shapes: the current
// flat one (orderId, orderLineId, businessId, testFlag; the seller fetches
// the order with the Open API) or an older one with buyerInfo and
// orderInfo inline. Both decode into this type; for the inline shape
// OrderID, OrderLineID and BusinessID are those of Orders[0].
//
// KooGallery repeats newInstance for an order (when a first answer failed,
// and whenever the buyer views the order); the Handler answers a repeat
// from its InstanceStore without calling the vendor.
type NewInstanceRequest struct {
	// BusinessID differs on every request; KooGallery recommends the
	// first one as the instance ID.
	BusinessID  string
	OrderID     string
	OrderLineID string
	// Test is testFlag "1": a call from KooGallery's debugging tools.
	Test bool
	// Buyer and Orders are set for the inline shape only.
	Buyer  *BuyerInfo
	Orders []OrderInfo
	// Raw is the body as received, for fields this type does not name.
	Raw json.RawMessage
}

// BuyerInfo is the inline shape's buyer.
type BuyerInfo struct {
	CustomerID   string `json:"customerId"`
	CustomerName string `json:"customerName"`
	UserID       string `json:"userId"`
	UserName     string `json:"userName"`
	MobilePhone  string `json:"mobilePhone"`
	Email        string `json:"email"`
}

// OrderInfo is one order of the inline shape.
type OrderInfo struct {
	BusinessID    string
	OrderID       string
	OrderLineID   string
	Trial         bool // trialFlag "1"
	OrderAmount   json.Number
	ChargingMode  string // e.g. PERIOD
	PeriodType    string // e.g. month, year
	PeriodNumber  int
	ProvisionType int
	Products      []ProductInfo
	CreateTime    time.Time
	ExpireTime    time.Time
	ExtendParams  []ExtendParam
}

// ProductInfo names the product and SKU an order bought.
type ProductInfo struct {
	SKUCode     string      `json:"skuCode"`
	ProductID   string      `json:"productId"`
	LinearValue json.Number `json:"linearValue,omitempty"`
}

// ExtendParam is a name/value pair of an order's extendParams.
type ExtendParam struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ActivityName implements Activity.
func (*NewInstanceRequest) ActivityName() string { return ActivityNewInstance }

// OrderKey returns the order identity newInstance is idempotent on.
func (r *NewInstanceRequest) OrderKey() OrderKey {
	return OrderKey{OrderID: r.OrderID, OrderLineID: r.OrderLineID}
}

func decodeNewInstance(f fields) *NewInstanceRequest {
	r := &NewInstanceRequest{Test: f.flag("testFlag")}
	if _, nested := f.lookup("orderInfo"); !nested {
		r.OrderID = f.id("orderId", true)
		r.OrderLineID = f.id("orderLineId", true)
		r.BusinessID = f.id("businessId", true)
		return r
	}
	if b, ok := f.object("buyerInfo", false); ok {
		bf := f.child("buyerInfo", b)
		r.Buyer = &BuyerInfo{
			CustomerID: bf.id("customerId", false), CustomerName: bf.str("customerName", false, maxTextLen),
			UserID: bf.id("userId", false), UserName: bf.str("userName", false, maxTextLen),
			MobilePhone: bf.str("mobilePhone", false, maxTextLen), Email: bf.str("email", false, maxTextLen),
		}
	}
	orders, _ := f.array("orderInfo", true)
	if orders != nil && len(orders) == 0 {
		f.p.Add(f.name("orderInfo"), "must not be empty")
	}
	f.each("orderInfo", orders, func(of fields) {
		o := OrderInfo{
			BusinessID: of.id("businessId", true), OrderID: of.id("orderId", true), OrderLineID: of.id("orderLineId", false),
			Trial: of.flag("trialFlag"), OrderAmount: of.decimal("orderAmount"),
			ChargingMode: of.str("chargingMode", false, maxIDLen), PeriodType: of.str("periodType", false, maxIDLen),
			CreateTime: of.time("createTime", false), ExpireTime: of.time("expireTime", false),
		}
		o.PeriodNumber, _ = of.integer("periodNumber", false)
		o.ProvisionType, _ = of.integer("provisionType", false)
		products, _ := of.array("productInfo", false)
		of.each("productInfo", products, func(pf fields) {
			o.Products = append(o.Products, ProductInfo{SKUCode: pf.id("skuCode", false),
				ProductID: pf.id("productId", false), LinearValue: pf.decimal("linearValue")})
		})
		params, _ := of.array("extendParams", false)
		of.each("extendParams", params, func(ef fields) {
			o.ExtendParams = append(o.ExtendParams, ExtendParam{Name: ef.str("name", true, maxTextLen),
				Value: ef.str("value", false, 4*maxTextLen)})
		})
		r.Orders = append(r.Orders, o)
	})
	if len(r.Orders) > 0 {
		r.OrderID, r.OrderLineID, r.BusinessID = r.Orders[0].OrderID, r.Orders[0].OrderLineID, r.Orders[0].BusinessID
	}
	return r
}

func (r *NewInstanceRequest) wireBody() ([]byte, error) {
	w := newWire(ActivityNewInstance)
	if len(r.Orders) == 0 {
		w.str("businessId", r.BusinessID).str("orderId", r.OrderID).str("orderLineId", r.OrderLineID)
		return w.flagString("testFlag", r.Test).bytes(), nil
	}
	if r.Buyer != nil {
		b := newWire("").opt("customerId", r.Buyer.CustomerID).opt("customerName", r.Buyer.CustomerName).
			opt("userId", r.Buyer.UserID).opt("userName", r.Buyer.UserName).
			opt("mobilePhone", r.Buyer.MobilePhone).opt("email", r.Buyer.Email)
		w.add("buyerInfo", b.value())
	}
	orders := jsonValue{kind: jsonArray}
	for _, o := range r.Orders {
		ow := newWire("").str("businessId", o.BusinessID).str("orderId", o.OrderID).opt("orderLineId", o.OrderLineID).
			flagString("trialFlag", o.Trial)
		if o.OrderAmount != "" {
			ow.add("orderAmount", jsonValue{kind: jsonNumber, s: o.OrderAmount.String()})
		}
		ow.opt("chargingMode", o.ChargingMode).opt("periodType", o.PeriodType)
		if o.PeriodNumber != 0 {
			ow.num("periodNumber", o.PeriodNumber)
		}
		if o.ProvisionType != 0 {
			ow.num("provisionType", o.ProvisionType)
		}
		if len(o.Products) > 0 {
			ps := jsonValue{kind: jsonArray}
			for _, p := range o.Products {
				pw := newWire("").opt("skuCode", p.SKUCode).opt("productId", p.ProductID)
				if p.LinearValue != "" {
					pw.add("linearValue", jsonValue{kind: jsonNumber, s: p.LinearValue.String()})
				}
				ps.arr = append(ps.arr, pw.value())
			}
			ow.add("productInfo", ps)
		}
		ow.optTime("createTime", o.CreateTime, TimeLayout).optTime("expireTime", o.ExpireTime, TimeLayout)
		if len(o.ExtendParams) > 0 {
			es := jsonValue{kind: jsonArray}
			for _, e := range o.ExtendParams {
				es.arr = append(es.arr, newWire("").str("name", e.Name).str("value", e.Value).value())
			}
			ow.add("extendParams", es)
		}
		orders.arr = append(orders.arr, ow.value())
	}
	w.add("orderInfo", orders)
	return w.flagString("testFlag", r.Test).bytes(), nil
}

// QueryInstanceRequest asks for the state of instances (queryInstance).
// KooGallery calls it synchronously when the buyer looks at the purchase,
// and to poll an instance whose creation answered 000004.
type QueryInstanceRequest struct {
	// InstanceIDs are the instanceId values (1 to 100; the wire joins them
	// with commas).
	InstanceIDs []string
	Test        bool
	Raw         json.RawMessage
}

// ActivityName implements Activity.
func (*QueryInstanceRequest) ActivityName() string { return ActivityQueryInstance }

func decodeQueryInstance(f fields) *QueryInstanceRequest {
	r := &QueryInstanceRequest{Test: f.flag("testFlag")}
	ids := f.str("instanceId", true, maxQueryIDs*(maxIDLen+1))
	if ids == "" {
		return r
	}
	for _, id := range strings.Split(ids, ",") {
		id = strings.TrimSpace(id)
		switch {
		case id == "":
			f.p.Add(f.name("instanceId"), "must not contain an empty instance ID")
			return r
		case len(id) > maxIDLen:
			f.p.Add(f.name("instanceId"), "each instance ID must be at most %d characters", maxIDLen)
			return r
		}
		r.InstanceIDs = append(r.InstanceIDs, id)
	}
	if len(r.InstanceIDs) > maxQueryIDs {
		f.p.Add(f.name("instanceId"), "must name at most %d instances", maxQueryIDs)
	}
	return r
}

func (r *QueryInstanceRequest) wireBody() ([]byte, error) {
	return newWire(ActivityQueryInstance).str("instanceId", strings.Join(r.InstanceIDs, ",")).
		flagString("testFlag", r.Test).bytes(), nil
}

// RefreshInstanceRequest changes an instance's term (refreshInstance): a
// trial became a paid subscription, a renewal (with a new orderId), or a
// renewal period was unsubscribed.
type RefreshInstanceRequest struct {
	Scene       Scene
	OrderID     string
	OrderLineID string
	InstanceID  string
	// ProductID is set when the billing cycle changed (a new product).
	ProductID string
	// ExpireTime is the new expiry, read from yyyyMMddHHmmss in the
	// handler's location (WithTimeLocation, default UTC).
	ExpireTime time.Time
	Test       bool
	Raw        json.RawMessage
}

// ActivityName implements Activity.
func (*RefreshInstanceRequest) ActivityName() string { return ActivityRefreshInstance }

func decodeRefreshInstance(f fields) *RefreshInstanceRequest {
	return &RefreshInstanceRequest{
		Scene: Scene(f.str("scene", false, maxIDLen)), OrderID: f.id("orderId", false),
		OrderLineID: f.id("orderLineId", false), InstanceID: f.id("instanceId", true),
		ProductID: f.id("productId", false), ExpireTime: f.time("expireTime", true), Test: f.flag("testFlag"),
	}
}

func (r *RefreshInstanceRequest) wireBody() ([]byte, error) {
	return newWire(ActivityRefreshInstance).opt("scene", string(r.Scene)).opt("orderId", r.OrderID).
		opt("orderLineId", r.OrderLineID).str("instanceId", r.InstanceID).opt("productId", r.ProductID).
		optTime("expireTime", r.ExpireTime, TimeLayout).flagString("testFlag", r.Test).bytes(), nil
}

// UpdateInstanceStatusRequest freezes or unfreezes an instance
// (updateInstanceStatus): FREEZE when the subscription expired or was
// frozen, UNFREEZE when it was renewed or unfrozen.
type UpdateInstanceStatusRequest struct {
	InstanceID string
	Status     InstanceStatus
	Test       bool
	Raw        json.RawMessage
}

// ActivityName implements Activity.
func (*UpdateInstanceStatusRequest) ActivityName() string { return ActivityUpdateInstanceStatus }

func decodeUpdateInstanceStatus(f fields) *UpdateInstanceStatusRequest {
	r := &UpdateInstanceStatusRequest{InstanceID: f.id("instanceId", true),
		Status: InstanceStatus(f.str("status", true, maxIDLen)), Test: f.flag("testFlag")}
	if r.Status != "" && r.Status != StatusFreeze && r.Status != StatusUnfreeze {
		f.p.Add(f.name("status"), "must be FREEZE or UNFREEZE")
	}
	return r
}

func (r *UpdateInstanceStatusRequest) wireBody() ([]byte, error) {
	return newWire(ActivityUpdateInstanceStatus).str("instanceId", r.InstanceID).str("status", string(r.Status)).
		flagString("testFlag", r.Test).bytes(), nil
}

// ReleaseInstanceRequest releases an instance (releaseInstance): the
// subscription ended, or was unsubscribed (then OrderID and OrderLineID
// name the unsubscription).
type ReleaseInstanceRequest struct {
	InstanceID  string
	OrderID     string
	OrderLineID string
	Test        bool
	Raw         json.RawMessage
}

// ActivityName implements Activity.
func (*ReleaseInstanceRequest) ActivityName() string { return ActivityReleaseInstance }

func decodeReleaseInstance(f fields) *ReleaseInstanceRequest {
	return &ReleaseInstanceRequest{InstanceID: f.id("instanceId", true), OrderID: f.id("orderId", false),
		OrderLineID: f.id("orderLineId", false), Test: f.flag("testFlag")}
}

func (r *ReleaseInstanceRequest) wireBody() ([]byte, error) {
	return newWire(ActivityReleaseInstance).str("instanceId", r.InstanceID).opt("orderId", r.OrderID).
		opt("orderLineId", r.OrderLineID).flagString("testFlag", r.Test).bytes(), nil
}

// UpgradeInstanceRequest changes an instance's specification
// (upgradeInstance, or V1's upgrade). The instance ID stays; OrderID is the
// upgrade order, to be read with the Open API.
type UpgradeInstanceRequest struct {
	InstanceID  string
	OrderID     string
	OrderLineID string
	// ProductID and SKUCode are set by V1's upgrade.
	ProductID string
	SKUCode   string
	Test      bool
	// V1 is true when the activity was V1's "upgrade".
	V1  bool
	Raw json.RawMessage
}

// ActivityName implements Activity.
func (r *UpgradeInstanceRequest) ActivityName() string {
	if r.V1 {
		return ActivityUpgrade
	}
	return ActivityUpgradeInstance
}

func decodeUpgradeInstance(f fields, v1 bool) *UpgradeInstanceRequest {
	return &UpgradeInstanceRequest{InstanceID: f.id("instanceId", true), OrderID: f.id("orderId", true),
		OrderLineID: f.id("orderLineId", false), ProductID: f.id("productId", false),
		SKUCode: f.id("skuCode", false), Test: f.flag("testFlag"), V1: v1}
}

func (r *UpgradeInstanceRequest) wireBody() ([]byte, error) {
	return newWire(r.ActivityName()).str("instanceId", r.InstanceID).str("orderId", r.OrderID).
		opt("orderLineId", r.OrderLineID).opt("productId", r.ProductID).opt("skuCode", r.SKUCode).
		flagString("testFlag", r.Test).bytes(), nil
}

// ChangeInstanceCheckRequest asks whether an instance may change to another
// product at renewal (changeInstanceCheck); the vendor answers nil to
// allow it.
type ChangeInstanceCheckRequest struct {
	InstanceID string
	// ProductInfo is the productInfo object as received (also when sent
	// as a string holding JSON); ProductID and SKUCode are read from it
	// when present.
	ProductInfo json.RawMessage
	ProductID   string
	SKUCode     string
	Test        bool
	Raw         json.RawMessage
}

// ActivityName implements Activity.
func (*ChangeInstanceCheckRequest) ActivityName() string { return ActivityChangeInstanceCheck }

func decodeChangeInstanceCheck(f fields) *ChangeInstanceCheckRequest {
	r := &ChangeInstanceCheckRequest{InstanceID: f.id("instanceId", true), Test: f.flag("testFlag")}
	if pi, ok := f.object("productInfo", true); ok {
		pf := f.child("productInfo", pi)
		r.ProductInfo, r.ProductID, r.SKUCode = rawJSON(pi), pf.id("productId", false), pf.id("skuCode", false)
	}
	return r
}

func (r *ChangeInstanceCheckRequest) wireBody() ([]byte, error) {
	w := newWire(ActivityChangeInstanceCheck).str("instanceId", r.InstanceID)
	switch {
	case len(r.ProductInfo) > 0:
		if err := w.rawValue("productInfo", r.ProductInfo); err != nil {
			return nil, err
		}
	default:
		w.add("productInfo", newWire("").opt("productId", r.ProductID).opt("skuCode", r.SKUCode).value())
	}
	return w.flagString("testFlag", r.Test).bytes(), nil
}

// OrderNotifyRequest tells the vendor an order was paid (orderNotify); the
// vendor reads it with the Open API (OpenAPIClient.QueryOrder).
type OrderNotifyRequest struct {
	OrderID     string
	OrderLineID string
	Test        bool
	Raw         json.RawMessage
}

// ActivityName implements Activity.
func (*OrderNotifyRequest) ActivityName() string { return ActivityOrderNotify }

func decodeOrderNotify(f fields) *OrderNotifyRequest {
	return &OrderNotifyRequest{OrderID: f.id("orderId", true), OrderLineID: f.id("orderLineId", false), Test: f.flag("testFlag")}
}

func (r *OrderNotifyRequest) wireBody() ([]byte, error) {
	return newWire(ActivityOrderNotify).str("orderId", r.OrderID).opt("orderLineId", r.OrderLineID).
		flagString("testFlag", r.Test).bytes(), nil
}

// ExpireInstanceRequest is V1's notice that an instance expired
// (expireInstance), still sent to listings made before V2.
type ExpireInstanceRequest struct {
	InstanceID string
	Test       bool
	Raw        json.RawMessage
}

// ActivityName implements Activity.
func (*ExpireInstanceRequest) ActivityName() string { return ActivityExpireInstance }

func decodeExpireInstance(f fields) *ExpireInstanceRequest {
	return &ExpireInstanceRequest{InstanceID: f.id("instanceId", true), Test: f.flag("testFlag")}
}

func (r *ExpireInstanceRequest) wireBody() ([]byte, error) {
	return newWire(ActivityExpireInstance).str("instanceId", r.InstanceID).flagString("testFlag", r.Test).bytes(), nil
}

// DecodeActivity decodes a production-interface body into its typed
// request (one of this package's *...Request types), as the Handler does
// after verifying the signature. loc is the location of yyyyMMddHHmmss
// times (nil means UTC). It returns an *apierror.ValidationError listing
// every problem, or ErrUnknownActivity.
func DecodeActivity(body []byte, loc *time.Location) (Activity, error) {
	v, err := parseObject(body)
	if err != nil {
		return nil, invalidBody(err)
	}
	return decodeActivity(&v, body, loc)
}

// ErrUnknownActivity is returned (wrapped, with the name) by DecodeActivity
// for an activity this package does not know; the Handler answers it with
// 000002.
var ErrUnknownActivity = errors.New("koogallery: unknown activity")

func invalidBody(err error) error {
	var p apierror.Problems
	p.Add("", "%v", err)
	return p.Err("decode")
}

func decodeActivity(v *jsonValue, raw []byte, loc *time.Location) (Activity, error) {
	if loc == nil {
		loc = time.UTC
	}
	var p apierror.Problems
	f := fields{obj: v, p: &p, loc: loc}
	name := f.str("activity", true, maxIDLen)
	if len(p) > 0 {
		return nil, p.Err("decode")
	}
	var a Activity
	rawMsg := json.RawMessage(append([]byte(nil), raw...))
	switch name {
	case ActivityNewInstance:
		r := decodeNewInstance(f)
		r.Raw, a = rawMsg, r
	case ActivityQueryInstance:
		r := decodeQueryInstance(f)
		r.Raw, a = rawMsg, r
	case ActivityRefreshInstance:
		r := decodeRefreshInstance(f)
		r.Raw, a = rawMsg, r
	case ActivityUpdateInstanceStatus:
		r := decodeUpdateInstanceStatus(f)
		r.Raw, a = rawMsg, r
	case ActivityReleaseInstance:
		r := decodeReleaseInstance(f)
		r.Raw, a = rawMsg, r
	case ActivityUpgradeInstance, ActivityUpgrade:
		r := decodeUpgradeInstance(f, name == ActivityUpgrade)
		r.Raw, a = rawMsg, r
	case ActivityChangeInstanceCheck:
		r := decodeChangeInstanceCheck(f)
		r.Raw, a = rawMsg, r
	case ActivityOrderNotify:
		r := decodeOrderNotify(f)
		r.Raw, a = rawMsg, r
	case ActivityExpireInstance:
		r := decodeExpireInstance(f)
		r.Raw, a = rawMsg, r
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownActivity, truncate(name, maxIDLen))
	}
	if err := p.Err(name); err != nil {
		return nil, err
	}
	return a, nil
}

// EncodeActivity returns the wire body of a typed request, as KooGallery
// sends it (before signing).
func EncodeActivity(a Activity) ([]byte, error) {
	if a == nil || reflect.ValueOf(a).IsNil() {
		return nil, errors.New("koogallery: no activity to encode")
	}
	return a.wireBody()
}
