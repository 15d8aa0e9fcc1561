package mockserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// TrueWatch's own production interface, the vendor the mock's KooGallery
// calls by default (VendorProducePath). It is built on the koogallery
// package (signature, window, nonces, result codes) and keeps, for each
// instance, TrueWatch's record of the subscription: what the vendor was
// told. The Billing Center answers from that record, so a call the vendor
// has not accepted yet (a delivery being retried) has not changed what
// the activation sees.
//
// What it does with each activity:
//
//	newInstance           creates the subscription (instance ID = the first businessId, as KooGallery
//	                      recommends; idempotent per orderId + orderLineId: a repeat is a pure look-up)
//	                      and answers its activation link as appInfo.frontEndUrl
//	refreshInstance       takes the new expireTime; an expired subscription whose term now runs is in
//	                      use again and its grace period is lifted
//	updateInstanceStatus  FREEZE at or after the end of the term (as the marketplace's order says)
//	                      is an expiry: the grace period starts; before it, a freeze. UNFREEZE puts
//	                      it back in use (and lifts the grace) while the term runs
//	releaseInstance       releases it: the grace period starts (if not already running)
//	upgradeInstance       takes the new SKU
//	queryInstance         answers each known instance with its front-end URL
//	expireInstance (V1)   as an expiry
//
// When the grace period (WithGracePeriod, 14 days) ends, on the mock's
// clock, the workspaces the subscription settles lose their cloud-account
// settlement and are locked: they fall back to Billing Center settlement,
// locked, until unlocked (UnlockWorkspace) or bound to another
// subscription. A released subscription's Billing Center binding goes
// then too.

// twSub is TrueWatch's record of a subscription.
type twSub struct {
	key        subKey
	order      koogallery.OrderKey
	productID  string
	skuCode    string
	status     PurchaseStatus
	expireTime time.Time
	// graceUntil is when the grace period ends (zero when none runs);
	// lockedAt is when one ended and locked the workspaces.
	graceUntil time.Time
	lockedAt   time.Time
	// frontEnd is the activation link (tw_link.go) newInstance answered.
	frontEnd string
}

// twSubLocked is TrueWatch's record of an instance, if it has one.
func (s *Server) twSubLocked(instanceID string) *twSub { return s.st.tw.subs[instanceID] }

// subStatusLocked is the status the TrueWatch half sees for a purchase:
// its own record's, or, for a purchase TrueWatch was never told of (the
// marketplace called another vendor), BSS's.
func (s *Server) subStatusLocked(p *Purchase) PurchaseStatus {
	if sub := s.twSubLocked(p.InstanceID); sub != nil {
		return sub.status
	}
	return p.Status
}

// addTWSubLocked records a subscription and returns it.
func (s *Server) addTWSubLocked(sub *twSub) *twSub {
	s.st.tw.subs[sub.key.instanceID] = sub
	if sub.order.OrderID != "" {
		s.st.tw.subByOrder[sub.order] = sub
	}
	return sub
}

// startGraceLocked starts a subscription's grace period, unless one
// runs. When one already ended since the subscription was last in use,
// its workspaces are locked already and nothing more waits: a release
// then drops the binding at once.
func (s *Server) startGraceLocked(sub *twSub, now time.Time) {
	switch {
	case !sub.graceUntil.IsZero():
	case !sub.lockedAt.IsZero():
		s.lockSettledLocked(sub.key, now.UTC().Truncate(time.Second), sub.status == PurchaseClosed)
	default:
		sub.graceUntil = now.Add(s.cfg.grace)
		s.st.tw.inGrace[sub.key.instanceID] = struct{}{}
	}
}

// resumeLocked puts a subscription back in use: a running grace period is
// lifted, and the next expiry or release starts a new one. Workspaces an
// ended grace period locked stay locked.
func (s *Server) resumeLocked(sub *twSub) {
	sub.status = PurchaseInUse
	sub.lockedAt = time.Time{}
	if !sub.graceUntil.IsZero() {
		sub.graceUntil = time.Time{}
		delete(s.st.tw.inGrace, sub.key.instanceID)
	}
}

// settleGraceLocked locks the workspaces of every subscription whose grace
// period has ended on the clock. Every reader of the TrueWatch half calls
// it first, so a lock shows at the instant the grace ends, however the
// clock got there.
func (s *Server) settleGraceLocked() {
	tw := &s.st.tw
	if len(tw.inGrace) == 0 {
		return
	}
	now := s.Now()
	ids := make([]string, 0, len(tw.inGrace))
	for id := range tw.inGrace {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		sub := tw.subs[id]
		if sub == nil {
			delete(tw.inGrace, id)
			continue
		}
		if now.Before(sub.graceUntil) {
			continue
		}
		s.lockSettledLocked(sub.key, sub.graceUntil.UTC().Truncate(time.Second), sub.status == PurchaseClosed)
		sub.lockedAt, sub.graceUntil = sub.graceUntil, time.Time{}
		delete(tw.inGrace, id)
	}
}

// lockSettledLocked locks the workspaces a subscription settles and moves
// them to Billing Center settlement (a forced change, which does not count
// toward the monthly limit, so ChangedAt is kept); dropBinding removes the
// subscription's Billing Center binding too.
func (s *Server) lockSettledLocked(k subKey, at time.Time, dropBinding bool) {
	for _, id := range slices.Clone(s.st.tw.settled[k]) {
		w := s.st.tw.workspaces[id]
		w.IsLocked = true
		s.setSettlementLocked(w, twapi.Settlement{Method: twapi.SettlementBillingCenter, ChangedAt: w.Settlement.ChangedAt})
		w.UpdateAt = twapi.Timestamp{Time: at}
	}
	if dropBinding {
		delete(s.st.tw.bindings, k)
	}
}

// setTWStatusLocked applies a status to TrueWatch's record as if the
// vendor had been told (SetPurchaseStatus, seeds).
func (s *Server) setTWStatusLocked(sub *twSub, st PurchaseStatus, now time.Time) {
	switch st {
	case PurchaseInUse:
		s.resumeLocked(sub)
	case PurchaseExpired, PurchaseClosed:
		sub.status = st
		s.startGraceLocked(sub, now)
	default:
		sub.status = st
	}
}

// newActivationToken is a single-use activation token: "atk_" and 32 hex
// characters from crypto/rand.
func newActivationToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "atk_" + hex.EncodeToString(b[:])
}

// ActivationPath is the Billing Center page of TrueWatch's activation
// links, relative to BillingURL.
const ActivationPath = "/activate"

// twVendor is TrueWatch's side of the production interface.
type twVendor struct {
	koogallery.UnimplementedVendor
	s *Server
}

// lock takes the state's lock, first applying the grace periods that ended
// before this call, and returns the unlock.
func (v twVendor) lock() func() {
	v.s.mu.Lock()
	v.s.settleGraceLocked()
	return v.s.mu.Unlock
}

// NewInstance implements koogallery.Vendor.
func (v twVendor) NewInstance(_ context.Context, req *koogallery.NewInstanceRequest) (*koogallery.NewInstanceResult, error) {
	s := v.s
	defer v.lock()()
	if sub := s.st.tw.subByOrder[req.OrderKey()]; sub != nil {
		return &koogallery.NewInstanceResult{InstanceID: sub.key.instanceID, AppInfo: koogallery.AppInfo{FrontEndURL: sub.frontEnd}}, nil
	}
	sub, err := s.orderOfLocked(req)
	if err != nil {
		return nil, err
	}
	id := req.BusinessID
	if !rules.IsInstanceID(id) {
		return nil, koogallery.NewError(koogallery.ResultInvalidParameter, "businessId must be 1 to 64 printable ASCII characters")
	}
	if s.st.tw.subs[id] != nil || s.st.huawei.byInst[id] != nil {
		return nil, fmt.Errorf("%w: instance ID %s is taken", koogallery.ErrInternal, id)
	}
	sub.key.instanceID = id
	sub.status = PurchaseInUse
	sub.frontEnd = s.issueLinkLocked(sub.key)
	s.addTWSubLocked(sub)
	return &koogallery.NewInstanceResult{InstanceID: id, AppInfo: koogallery.AppInfo{FrontEndURL: sub.frontEnd}}, nil
}

// orderOfLocked reads what a newInstance bought: from the call (the
// inline shape), or, for the flat shape, from the marketplace's order, as
// a vendor reads it with the Open API.
func (s *Server) orderOfLocked(req *koogallery.NewInstanceRequest) (*twSub, error) {
	sub := &twSub{order: req.OrderKey(), productID: TrueWatchProductID, skuCode: TrueWatchSKUCode}
	if len(req.Orders) == 0 {
		o := s.st.mkt.byID[req.OrderID]
		if o == nil || o.OrderLineID != req.OrderLineID || o.Type != OrderNew {
			return nil, koogallery.NewError(koogallery.ResultInvalidParameter,
				fmt.Sprintf("order %s line %s is not a new order of the marketplace", req.OrderID, req.OrderLineID))
		}
		sub.key.huaweiAccountID, sub.productID, sub.skuCode, sub.expireTime = o.HuaweiAccountID, o.ProductID, o.SKUCode, o.ExpireTime
		return sub, nil
	}
	if req.Buyer == nil || !rules.IsHuaweiAccountID(req.Buyer.CustomerID) {
		return nil, koogallery.NewError(koogallery.ResultInvalidParameter,
			"buyerInfo.customerId must be the buyer's Huawei account ID (32 lower-case hex characters)")
	}
	o := req.Orders[0]
	if o.ExpireTime.IsZero() {
		return nil, koogallery.NewError(koogallery.ResultInvalidParameter, "orderInfo.expireTime is required")
	}
	sub.key.huaweiAccountID, sub.expireTime = req.Buyer.CustomerID, o.ExpireTime
	if len(o.Products) > 0 {
		if p := o.Products[0]; p.ProductID != "" {
			sub.productID = p.ProductID
		}
		if p := o.Products[0]; p.SKUCode != "" {
			sub.skuCode = p.SKUCode
		}
	}
	return sub, nil
}

// knownLocked returns TrueWatch's record of an instance that has not been
// released, or the error to answer.
func (s *Server) knownLocked(instanceID string, releasedOK bool) (*twSub, error) {
	sub := s.st.tw.subs[instanceID]
	switch {
	case sub == nil:
		return nil, koogallery.ErrInstanceNotFound
	case sub.status == PurchaseClosed && !releasedOK:
		return nil, koogallery.NewError(koogallery.ResultInvalidParameter, "instance "+instanceID+" is released")
	}
	return sub, nil
}

// QueryInstances implements koogallery.Vendor.
func (v twVendor) QueryInstances(_ context.Context, req *koogallery.QueryInstanceRequest) ([]koogallery.InstanceInfo, error) {
	s := v.s
	defer v.lock()()
	out := []koogallery.InstanceInfo{}
	for _, id := range req.InstanceIDs {
		if sub := s.st.tw.subs[id]; sub != nil {
			out = append(out, koogallery.InstanceInfo{InstanceID: id, AppInfo: koogallery.AppInfo{FrontEndURL: sub.frontEnd}})
		}
	}
	return out, nil
}

// RefreshInstance implements koogallery.Vendor.
func (v twVendor) RefreshInstance(_ context.Context, req *koogallery.RefreshInstanceRequest) error {
	s := v.s
	defer v.lock()()
	sub, err := s.knownLocked(req.InstanceID, false)
	if err != nil {
		return err
	}
	sub.expireTime = req.ExpireTime
	if req.ProductID != "" {
		sub.productID = req.ProductID
	}
	if sub.status == PurchaseExpired && req.ExpireTime.After(s.Now()) {
		s.resumeLocked(sub)
	}
	return nil
}

// termEnd is the end of a subscription's term as TrueWatch knows it: the
// marketplace's order when it has the purchase (what the Open API would
// say), else what the calls said.
func (s *Server) termEndOfLocked(sub *twSub) time.Time {
	if p := s.st.huawei.byInst[sub.key.instanceID]; p != nil {
		return p.ExpireTime
	}
	return sub.expireTime
}

// UpdateInstanceStatus implements koogallery.Vendor.
func (v twVendor) UpdateInstanceStatus(_ context.Context, req *koogallery.UpdateInstanceStatusRequest) error {
	s := v.s
	defer v.lock()()
	sub, err := s.knownLocked(req.InstanceID, false)
	if err != nil {
		return err
	}
	now := s.Now()
	sub.expireTime = s.termEndOfLocked(sub)
	running := now.Before(sub.expireTime)
	switch {
	case req.Status == koogallery.StatusFreeze && running:
		if sub.status == PurchaseInUse {
			sub.status = PurchaseFrozen
		}
	case req.Status == koogallery.StatusFreeze:
		sub.status = PurchaseExpired
		s.startGraceLocked(sub, now)
	case running: // UNFREEZE
		s.resumeLocked(sub)
	}
	return nil
}

// ReleaseInstance implements koogallery.Vendor.
func (v twVendor) ReleaseInstance(_ context.Context, req *koogallery.ReleaseInstanceRequest) error {
	s := v.s
	defer v.lock()()
	sub, err := s.knownLocked(req.InstanceID, true)
	if err != nil {
		return err
	}
	sub.status = PurchaseClosed
	s.startGraceLocked(sub, s.Now())
	return nil
}

// UpgradeInstance implements koogallery.Vendor.
func (v twVendor) UpgradeInstance(_ context.Context, req *koogallery.UpgradeInstanceRequest) error {
	s := v.s
	defer v.lock()()
	sub, err := s.knownLocked(req.InstanceID, false)
	if err != nil {
		return err
	}
	switch o := s.st.mkt.byID[req.OrderID]; {
	case o != nil && o.InstanceID == req.InstanceID:
		sub.skuCode = o.SKUCode
	case req.SKUCode != "":
		sub.skuCode = req.SKUCode
	}
	return nil
}

// ExpireInstance implements koogallery.Vendor (V1's expiry notice).
func (v twVendor) ExpireInstance(_ context.Context, req *koogallery.ExpireInstanceRequest) error {
	s := v.s
	defer v.lock()()
	sub, err := s.knownLocked(req.InstanceID, false)
	if err != nil {
		return err
	}
	sub.status = PurchaseExpired
	s.startGraceLocked(sub, s.Now())
	return nil
}

// newVendor builds TrueWatch's production interface and kit. Their
// signatures are checked against the signature clock (the wall clock
// unless WithSignatureClock), as a vendor's are: the mock's KooGallery
// stamps its calls with it, however far the mock's clock was moved.
func (s *Server) newVendor() error {
	h, err := koogallery.NewHandler(s.cfg.kgKey, twVendor{s: s}, koogallery.WithoutIdempotency(),
		koogallery.WithClock(s.cfg.sigClock.Now),
		koogallery.WithMaxBodyBytes(max(256, min(s.cfg.maxBody, koogallery.DefaultMaxBodyBytes))))
	if err != nil {
		return fmt.Errorf("mockserver: vendor: %w", err)
	}
	kitOpts := []koogallery.ServerOption{koogallery.WithClock(s.cfg.sigClock.Now)}
	if s.cfg.secretKey != nil {
		kitOpts = append(kitOpts, koogallery.WithClientSecretKey(s.cfg.secretKey))
	}
	kit, err := koogallery.NewKitHandler(s.cfg.kgKitKey, twKitVendor{s: s}, kitOpts...)
	if err != nil {
		return fmt.Errorf("mockserver: vendor kit: %w", err)
	}
	s.vendor, s.vendorKit = h, kit
	return nil
}

// registerVendor mounts TrueWatch's production interface and kit.
func (s *Server) registerVendor(mux registrar) {
	mux.Handle(VendorProducePath, s.vendor)
	mux.Handle(VendorProducePath+koogallery.KitPathPrefix, s.vendorKit)
}

// UnlockWorkspace unlocks a locked workspace, as its owner does in the
// Billing Center (Workspace Management): it stays on, or falls back to,
// Billing Center settlement (a forced change, which does not count toward
// the monthly limit). Unlocking a workspace that is not locked changes
// nothing. Binding a locked workspace to another subscription
// (BindWorkspace) unlocks it too.
//
// The contract has no route for it: a Billing Center token is scoped to a
// subscription in use, which the owner of a workspace locked by a released
// subscription may not have, and the Billing Center's own UI is where this
// happens; the control plane (POST /_mock/workspaces/{uuid}/unlock) plays
// that UI.
func (s *Server) UnlockWorkspace(id string) (twapi.Workspace, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleGraceLocked()
	w := s.st.tw.workspaces[id]
	if w == nil {
		return twapi.Workspace{}, fmt.Errorf("mockserver: unknown workspace %q", id)
	}
	if !w.IsLocked {
		return *w, nil
	}
	w.IsLocked = false
	if w.Settlement.Method != twapi.SettlementBillingCenter {
		s.setSettlementLocked(w, twapi.Settlement{Method: twapi.SettlementBillingCenter, ChangedAt: w.Settlement.ChangedAt})
	}
	w.UpdateAt = twapi.Timestamp{Time: s.now()}
	return *w, nil
}
