package huawei

import (
	"context"
	"fmt"
	"slices"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
)

// Matching purchases to marketplace instances by order.
//
// The instance ID the buyer copies from Purchased Services is the one the
// seller returned to KooGallery's newInstance; BSS lists a purchase under
// a resource_id, and whether the two are equal for SaaS products is not
// documented. What both sides certainly share is the order: the seller is
// told orderId and orderLineId in newInstance, the buyer's BSS knows each
// order (ShowCustomerOrderDetails, order_line_item_id) and lists the
// resources an order bought (ListPayPerUseCustomerResources filtered by
// order_id). PurchaseForOrder and MatchInstances use that, and never the
// resource_id, to say which purchase an instance is. Only the order that
// bought a purchase (a new purchase) is known to list it; renewal and
// change orders may not.

// OrderLineRef names an order line: the orderId and orderLineId
// KooGallery's newInstance carried, which are BSS's order_id and
// order_line_item_id.
type OrderLineRef struct {
	OrderID string
	// OrderLineID may be empty when the order has one line.
	OrderLineID string
}

// PurchaseForOrder returns the purchase an order line bought: the
// account's resources of that order (BSS filters them by order_id,
// server-side), among the configured products; when the order bought
// several, the one whose product, effective and expire times match the
// line's (ShowCustomerOrderDetails), within OrderTimeTolerance. Its
// InstanceID is as every listing gives it (the resource ID, or
// WithInstanceIDFunc's); MatchInstances sets the seller's.
//
// With none the error is an *apierror.Error whose cause is a
// *NotFoundError (apierror.ErrNotFound); with several that the line does
// not tell apart, one whose cause is a *PurchaseSelectionError listing
// them (apierror.ErrAmbiguous).
func (c *Client) PurchaseForOrder(ctx context.Context, ref OrderLineRef) (*Purchase, error) {
	const op = "PurchaseForOrder"
	var p apierror.Problems
	if !rules.IsInstanceID(ref.OrderID) {
		p.Add("orderId", "must be 1 to 64 printable ASCII characters without spaces")
	}
	if ref.OrderLineID != "" && !rules.IsInstanceID(ref.OrderLineID) {
		p.Add("orderLineId", "must be 1 to 64 printable ASCII characters without spaces")
	}
	if err := p.Err(op); err != nil {
		return nil, err
	}
	var found []Purchase
	seen := map[string]bool{}
	for pu, err := range c.Purchases(ctx, &PurchaseQuery{OrderID: ref.OrderID}) {
		if err != nil {
			return nil, err
		}
		if !seen[pu.ResourceID] {
			seen[pu.ResourceID] = true
			found = append(found, pu)
		}
	}
	if len(found) > 1 && ref.OrderLineID != "" {
		o, err := c.Order(ctx, ref.OrderID)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(o.Lines, func(l OrderLine) bool { return l.ID == ref.OrderLineID })
		if i < 0 {
			return nil, &apierror.Error{Service: ServiceBSS, Operation: op,
				Err: &NotFoundError{Kind: "order line", ID: ref.OrderID + " " + ref.OrderLineID}}
		}
		found = slices.DeleteFunc(found, func(pu Purchase) bool { return !lineMatches(o.Lines[i], pu) })
	}
	switch len(found) {
	case 0:
		return nil, &apierror.Error{Service: ServiceBSS, Operation: op, Err: &NotFoundError{Kind: "purchase of order", ID: refName(ref)}}
	case 1:
		return &found[0], nil
	}
	return nil, &apierror.Error{Service: ServiceBSS, Operation: op, Err: &PurchaseSelectionError{Candidates: found}}
}

func refName(ref OrderLineRef) string {
	if ref.OrderLineID == "" {
		return ref.OrderID
	}
	return ref.OrderID + " line " + ref.OrderLineID
}

// MatchInstances pairs marketplace instances with the account's purchases
// by order: instances maps each instance ID to the order line that created
// it (as the seller knows it), and the answer maps each instance ID to its
// purchase, whose InstanceID is that instance ID. It calls PurchaseForOrder
// for each, in instance ID order, and stops at the first failure, naming
// the instance.
func (c *Client) MatchInstances(ctx context.Context, instances map[string]OrderLineRef) (map[string]Purchase, error) {
	ids := make([]string, 0, len(instances))
	for id := range instances {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var p apierror.Problems
	for _, id := range ids {
		rules.InstanceID(&p, "instances["+id+"]", id)
	}
	if err := p.Err("MatchInstances"); err != nil {
		return nil, err
	}
	out := make(map[string]Purchase, len(ids))
	for _, id := range ids {
		pu, err := c.PurchaseForOrder(ctx, instances[id])
		if err != nil {
			return nil, fmt.Errorf("instance %s: %w", id, err)
		}
		pu.InstanceID = id
		out[id] = *pu
	}
	return out, nil
}
