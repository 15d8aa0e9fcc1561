package mockserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/koogallery"
)

// PurchaseAction is a lifecycle action of the marketplace on a purchase.
type PurchaseAction string

// The actions, and what the vendor is told (KooGallery V2):
const (
	// ActionRenew adds months to the term: refreshInstance, scene
	// RENEWAL, with a new order and the new expireTime; an expired
	// purchase is back in use, and is also sent updateInstanceStatus
	// UNFREEZE.
	ActionRenew PurchaseAction = "renew"
	// ActionExpire ends the term now: updateInstanceStatus FREEZE (as
	// when the term ends on the clock).
	ActionExpire PurchaseAction = "expire"
	// ActionFreeze freezes the purchase (arrears, a violation):
	// updateInstanceStatus FREEZE.
	ActionFreeze PurchaseAction = "freeze"
	// ActionUnfreeze puts a frozen purchase back in use:
	// updateInstanceStatus UNFREEZE.
	ActionUnfreeze PurchaseAction = "unfreeze"
	// ActionRelease closes the purchase for good (Purchased Services >
	// Close resource): releaseInstance.
	ActionRelease PurchaseAction = "release"
	// ActionUpgrade changes the SKU with a new order: upgradeInstance,
	// which also carries productId and skuCode (as V1's upgrade did),
	// because the mock does not serve the Open API a vendor would read
	// the order from.
	ActionUpgrade PurchaseAction = "upgrade"
)

// purchaseActions is the marketplace's state machine: the statuses each
// action applies to. A closed (released) purchase allows nothing.
var purchaseActions = map[PurchaseAction][]PurchaseStatus{
	ActionRenew:    {PurchaseInUse, PurchaseFrozen, PurchaseExpired},
	ActionExpire:   {PurchaseInUse, PurchaseFrozen},
	ActionFreeze:   {PurchaseInUse},
	ActionUnfreeze: {PurchaseFrozen},
	ActionRelease:  {PurchaseInUse, PurchaseFrozen, PurchaseExpired},
	ActionUpgrade:  {PurchaseInUse},
}

// PurchaseActions lists the lifecycle actions, in the order documented.
func PurchaseActions() []PurchaseAction {
	return []PurchaseAction{ActionRenew, ActionExpire, ActionFreeze, ActionUnfreeze, ActionRelease, ActionUpgrade}
}

// ChangeOptions are the action's parameters: the body of POST
// /_mock/purchases/{instanceId}/{action} (an empty body or {} for the
// actions that take none).
type ChangeOptions struct {
	// PeriodMonths is the renewal's term, 1 to 120 months (default 12).
	// Renew only.
	PeriodMonths int `json:"periodMonths,omitempty"`
	// SKUCode is the SKU to upgrade to. Upgrade only, and required there.
	SKUCode string `json:"skuCode,omitempty"`
}

// PurchaseChange is the outcome of a lifecycle action.
type PurchaseChange struct {
	Action PurchaseAction `json:"action"`
	// Purchase is the purchase after the action, as BSS lists it.
	Purchase Purchase `json:"purchase"`
	// Order is the renewal or upgrade order the action created.
	Order *MarketplaceOrder `json:"order,omitempty"`
	// Deliveries are the first calls made to the vendor for the action
	// (failed ones are made again on the mock's clock).
	Deliveries []Delivery `json:"deliveries"`
}

func (o *ChangeOptions) check(a PurchaseAction) error {
	var p apierror.Problems
	switch a {
	case ActionRenew:
		if o.PeriodMonths == 0 {
			o.PeriodMonths = 12
		}
		if o.PeriodMonths < 1 || o.PeriodMonths > maxPeriodMonths {
			p.Add("periodMonths", "must be from 1 to %d", maxPeriodMonths)
		}
	case ActionUpgrade:
		if !rules.IsInstanceID(o.SKUCode) {
			p.Add("skuCode", "is required: 1 to 64 printable ASCII characters")
		}
	}
	if o.PeriodMonths != 0 && a != ActionRenew {
		p.Add("periodMonths", "applies to renew only")
	}
	if o.SKUCode != "" && a != ActionUpgrade {
		p.Add("skuCode", "applies to upgrade only")
	}
	return p.Err(string(a))
}

// ChangePurchase applies a lifecycle action to a purchase on the
// marketplace and delivers it to the vendor; it returns the purchase after
// the action and the calls made. An unknown instance is ErrUnknownInstance;
// an action its status does not allow, or any action on a released
// instance, is ErrNotAllowed; both name the instance and change nothing.
// The marketplace's state changes whatever the vendor answers (it is
// Huawei's truth); a failed call is made again on the mock's clock, and the
// TrueWatch half changes only when the vendor accepted the call.
func (s *Server) ChangePurchase(ctx context.Context, instanceID string, a PurchaseAction, opt ChangeOptions) (PurchaseChange, error) {
	if ctx == nil {
		return PurchaseChange{}, errors.New("mockserver: nil context")
	}
	if _, ok := purchaseActions[a]; !ok {
		return PurchaseChange{}, fmt.Errorf("%w: unknown action %q", ErrNotAllowed, a)
	}
	if err := opt.check(a); err != nil {
		return PurchaseChange{}, err
	}
	s.catchUp(ctx)
	s.mu.Lock()
	p := s.st.huawei.byInst[instanceID]
	if p == nil {
		s.mu.Unlock()
		return PurchaseChange{}, fmt.Errorf("%w %q", ErrUnknownInstance, instanceID)
	}
	now := s.now()
	order, jobs, err := s.applyActionLocked(p, a, opt, now)
	if err != nil {
		s.mu.Unlock()
		return PurchaseChange{}, err
	}
	p.UpdateTime = now
	s.mu.Unlock()
	out := PurchaseChange{Action: a, Deliveries: []Delivery{}}
	for _, j := range jobs {
		out.Deliveries = append(out.Deliveries, s.attempt(ctx, j, now))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out.Purchase = *p
	if order != nil {
		cp := *order
		out.Order = &cp
	}
	return out, nil
}

// applyActionLocked checks that a applies to p, changes the marketplace's
// state and returns the deliveries to make.
func (s *Server) applyActionLocked(p *Purchase, a PurchaseAction, opt ChangeOptions, now time.Time) (*MarketplaceOrder, []*deliveryJob, error) {
	if p.Status == PurchaseClosed {
		return nil, nil, fmt.Errorf("%w: instance %s is released", ErrNotAllowed, p.InstanceID)
	}
	allowed := false
	for _, st := range purchaseActions[a] {
		allowed = allowed || st == p.Status
	}
	if !allowed {
		return nil, nil, fmt.Errorf("%w: cannot %s instance %s: it is %s", ErrNotAllowed, a, p.InstanceID, p.Status)
	}
	status := func(st koogallery.InstanceStatus) *deliveryJob {
		return s.activityJobLocked(&koogallery.UpdateInstanceStatusRequest{InstanceID: p.InstanceID, Status: st}, p.InstanceID, nil)
	}
	switch a {
	case ActionRenew:
		end := p.ExpireTime.AddDate(0, opt.PeriodMonths, 0)
		if !end.After(now) {
			return nil, nil, fmt.Errorf("%w: renewing instance %s for %d months from its end %s still ends before now; renew for longer",
				ErrNotAllowed, p.InstanceID, opt.PeriodMonths, p.ExpireTime.Format(time.RFC3339))
		}
		o := s.newOrderLocked(OrderRenew, p.AccountID, p.ProductID, p.SpecCode, now)
		o.InstanceID, o.PeriodMonths, o.ExpireTime = p.InstanceID, opt.PeriodMonths, end
		wasExpired := p.Status == PurchaseExpired
		p.ExpireTime = end
		if wasExpired {
			p.Status = PurchaseInUse
		}
		s.armTermLocked(p)
		jobs := []*deliveryJob{s.activityJobLocked(&koogallery.RefreshInstanceRequest{Scene: koogallery.SceneRenewal,
			OrderID: o.OrderID, OrderLineID: o.OrderLineID, InstanceID: p.InstanceID, ProductID: p.ProductID, ExpireTime: end},
			p.InstanceID, o)}
		if wasExpired {
			jobs = append(jobs, status(koogallery.StatusUnfreeze))
		}
		return o, jobs, nil
	case ActionExpire:
		p.ExpireTime, p.Status = now, PurchaseExpired
		delete(s.st.mkt.expiries, p.InstanceID)
		return nil, []*deliveryJob{status(koogallery.StatusFreeze)}, nil
	case ActionFreeze:
		p.Status = PurchaseFrozen
		return nil, []*deliveryJob{status(koogallery.StatusFreeze)}, nil
	case ActionUnfreeze:
		p.Status = PurchaseInUse
		return nil, []*deliveryJob{status(koogallery.StatusUnfreeze)}, nil
	case ActionRelease:
		p.Status = PurchaseClosed
		delete(s.st.mkt.expiries, p.InstanceID)
		return nil, []*deliveryJob{s.activityJobLocked(&koogallery.ReleaseInstanceRequest{InstanceID: p.InstanceID}, p.InstanceID, nil)}, nil
	default: // ActionUpgrade
		o := s.newOrderLocked(OrderUpgrade, p.AccountID, p.ProductID, opt.SKUCode, now)
		o.InstanceID, o.ExpireTime = p.InstanceID, p.ExpireTime
		p.SpecCode = opt.SKUCode
		return o, []*deliveryJob{s.activityJobLocked(&koogallery.UpgradeInstanceRequest{InstanceID: p.InstanceID,
			OrderID: o.OrderID, OrderLineID: o.OrderLineID, ProductID: p.ProductID, SKUCode: opt.SKUCode}, p.InstanceID, o)}, nil
	}
}

// activityJobLocked is the delivery of one lifecycle activity; the order,
// when given, follows its outcome (delivered, or failed once the attempts
// ran out).
func (s *Server) activityJobLocked(a koogallery.Activity, instanceID string, o *MarketplaceOrder) *deliveryJob {
	body, err := koogallery.EncodeActivity(a)
	job := &deliveryJob{activity: a.ActivityName(), instance: instanceID}
	if o != nil {
		job.orderID, job.lineID = o.OrderID, o.OrderLineID
	}
	job.body = func() ([]byte, error) { return body, err }
	job.succeeded = func(*koogallery.Response, time.Time) error {
		if o != nil {
			o.Attempts, o.Status, o.NextAttemptAt, o.LastError = job.attempts, OrderDelivered, time.Time{}, ""
		}
		return nil
	}
	job.failed = func(at time.Time, last bool, why string) {
		if o == nil {
			return
		}
		o.Attempts, o.LastError, o.NextAttemptAt = job.attempts, why, at.Add(s.cfg.delivery.Interval)
		if last {
			o.Status, o.NextAttemptAt = OrderFailed, time.Time{}
		}
	}
	return s.newJobLocked(job)
}

// armTermLocked makes p expire by itself when the clock reaches its
// ExpireTime, if that is still ahead and p is in use or frozen; a purchase
// seeded with an end already past keeps the status it was seeded with.
func (s *Server) armTermLocked(p *Purchase) {
	m := &s.st.mkt
	if (p.Status != PurchaseInUse && p.Status != PurchaseFrozen) || !p.ExpireTime.After(s.Now()) {
		delete(m.expiries, p.InstanceID)
		return
	}
	if m.expiries[p.InstanceID].Equal(p.ExpireTime) {
		return
	}
	m.expiries[p.InstanceID] = p.ExpireTime
	s.scheduleLocked(dueEvent{at: p.ExpireTime, instance: p.InstanceID})
}

// termEndLocked is the armed end of an instance's term (zero if none).
func (s *Server) termEndLocked(instanceID string) time.Time { return s.st.mkt.expiries[instanceID] }

// endTermLocked expires a purchase whose term ended at at and returns the
// FREEZE to deliver.
func (s *Server) endTermLocked(instanceID string, at time.Time) *deliveryJob {
	delete(s.st.mkt.expiries, instanceID)
	p := s.st.huawei.byInst[instanceID]
	if p == nil || (p.Status != PurchaseInUse && p.Status != PurchaseFrozen) {
		return nil
	}
	p.Status, p.UpdateTime = PurchaseExpired, at
	return s.activityJobLocked(&koogallery.UpdateInstanceStatusRequest{InstanceID: instanceID, Status: koogallery.StatusFreeze}, instanceID, nil)
}

// RenewPurchase renews a purchase for months (ActionRenew).
func (s *Server) RenewPurchase(ctx context.Context, instanceID string, months int) (PurchaseChange, error) {
	return s.ChangePurchase(ctx, instanceID, ActionRenew, ChangeOptions{PeriodMonths: months})
}

// ExpirePurchase ends a purchase's term now (ActionExpire).
func (s *Server) ExpirePurchase(ctx context.Context, instanceID string) (PurchaseChange, error) {
	return s.ChangePurchase(ctx, instanceID, ActionExpire, ChangeOptions{})
}

// FreezePurchase freezes a purchase (ActionFreeze).
func (s *Server) FreezePurchase(ctx context.Context, instanceID string) (PurchaseChange, error) {
	return s.ChangePurchase(ctx, instanceID, ActionFreeze, ChangeOptions{})
}

// UnfreezePurchase unfreezes a frozen purchase (ActionUnfreeze).
func (s *Server) UnfreezePurchase(ctx context.Context, instanceID string) (PurchaseChange, error) {
	return s.ChangePurchase(ctx, instanceID, ActionUnfreeze, ChangeOptions{})
}

// ReleasePurchase closes a purchase for good (ActionRelease; Huawei:
// Purchased Services > Close resource). The workspaces it settles keep
// working for the grace period, then lock (see the package docs).
func (s *Server) ReleasePurchase(ctx context.Context, instanceID string) (PurchaseChange, error) {
	return s.ChangePurchase(ctx, instanceID, ActionRelease, ChangeOptions{})
}

// UpgradePurchase moves a purchase to another SKU (ActionUpgrade).
func (s *Server) UpgradePurchase(ctx context.Context, instanceID, skuCode string) (PurchaseChange, error) {
	return s.ChangePurchase(ctx, instanceID, ActionUpgrade, ChangeOptions{SKUCode: skuCode})
}

// handlePurchaseAction serves POST /_mock/purchases/{instanceId}/{action}.
func (s *Server) handlePurchaseAction(a PurchaseAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var opt ChangeOptions
		if !decodeOptionalControl(w, r, &opt) {
			return
		}
		out, err := s.ChangePurchase(r.Context(), r.PathValue("instanceId"), a, opt)
		if err != nil {
			controlError(w, marketStatus(err), err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}
