package huawei

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	bssintl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2"
	intl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2/model"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/paging"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
)

// OrderStatus is a BSS order status.
type OrderStatus int

// BSS order statuses.
const (
	OrderPendingReview       OrderStatus = 1
	OrderProcessing          OrderStatus = 3
	OrderCancelled           OrderStatus = 4
	OrderCompleted           OrderStatus = 5
	OrderPendingPayment      OrderStatus = 6
	OrderPendingConfirmation OrderStatus = 9
)

// String names the status.
func (s OrderStatus) String() string {
	switch s {
	case OrderPendingReview:
		return "pending review"
	case OrderProcessing:
		return "processing"
	case OrderCancelled:
		return "cancelled"
	case OrderCompleted:
		return "completed"
	case OrderPendingPayment:
		return "pending payment"
	case OrderPendingConfirmation:
		return "pending confirmation"
	}
	return "status " + strconv.Itoa(int(s))
}

// OrderType is a BSS order type: 1 new purchase, 2 renewal, 3 change,
// 4 unsubscription, 11 pay-per-use to yearly/monthly, 13 trial, 14 trial
// to commercial, 15 fee adjustment.
type OrderType int

// Common order types.
const (
	OrderNew               OrderType = 1
	OrderRenewal           OrderType = 2
	OrderChange            OrderType = 3
	OrderUnsubscription    OrderType = 4
	OrderTrial             OrderType = 13
	OrderTrialToCommercial OrderType = 14
)

// PeriodType is the unit of an order line's period: 0 day, 1 week, 2 month,
// 3 year, 4 hour, 5 one-time.
type PeriodType int

// Period units.
const (
	PeriodDay     PeriodType = 0
	PeriodWeek    PeriodType = 1
	PeriodMonth   PeriodType = 2
	PeriodYear    PeriodType = 3
	PeriodHour    PeriodType = 4
	PeriodOneTime PeriodType = 5
)

// Order is a BSS customer order with its lines (ShowCustomerOrderDetails).
type Order struct {
	ID                  string
	CustomerID          string
	UserName            string
	ServiceTypeCode     string
	ServiceTypeName     string
	Status              OrderStatus
	Type                OrderType
	CreateTime          time.Time
	PaymentTime         time.Time
	AmountAfterDiscount float64
	OfficialAmount      float64
	Currency            string
	Lines               []OrderLine
}

// OrderLine is one line of an order: one product bought for a period.
type OrderLine struct {
	ID                  string
	ProductID           string
	ProductSpecDesc     string
	ServiceTypeCode     string
	PeriodType          PeriodType
	PeriodNum           int
	SubscriptionNum     int
	EffectiveTime       time.Time
	ExpireTime          time.Time
	AmountAfterDiscount float64
	OfficialAmount      float64
	Currency            string
}

// MaxOrderPageSize is the largest limit BSS's ListCustomerOrders and
// ShowCustomerOrderDetails take, which the client asks for and the mock
// server enforces.
const MaxOrderPageSize = 100

const orderLinesPage = MaxOrderPageSize

// Order returns an order of the account with all its lines
// (GET /v2/orders/customer-orders/details/{order_id}).
func (c *Client) Order(ctx context.Context, orderID string) (*Order, error) {
	const op = "ShowCustomerOrderDetails"
	var p apierror.Problems
	if !rules.IsInstanceID(orderID) {
		p.Add("orderId", "must be 1 to 64 printable ASCII characters without spaces")
	}
	domainID, err := c.bssDomainID(ctx, op, p)
	if err != nil {
		return nil, err
	}
	return c.orderDetails(ctx, domainID, orderID)
}

// orderDetails fetches an order and pages through all its lines.
func (c *Client) orderDetails(ctx context.Context, domainID, orderID string) (*Order, error) {
	const op = "ShowCustomerOrderDetails"
	var o *Order
	var guard paging.Guard
	for offset := 0; ; {
		resp, err := c.orderPage(ctx, domainID, orderID, offset)
		if err != nil {
			return nil, err
		}
		if resp.OrderInfo == nil {
			return nil, malformed(ServiceBSS, op, "", "no order_info in the response")
		}
		total, err := pageTotal(op, "order_line_items", resp.TotalCount, resp.OrderLineItems != nil, offset)
		if err != nil {
			return nil, err
		}
		if o == nil {
			if o, err = toOrder(op, resp.OrderInfo); err != nil {
				return nil, err
			}
		}
		var lines []intl.OrderLineItemEntityV2
		if resp.OrderLineItems != nil {
			lines = *resp.OrderLineItems
		}
		for _, l := range lines {
			line, err := toOrderLine(op, l)
			if err != nil {
				return nil, err
			}
			guard.See(line.key())
			o.Lines = append(o.Lines, line)
		}
		if err := guard.EndPage("offset", offset); err != nil {
			return nil, &apierror.Error{Service: ServiceBSS, Operation: op, Err: err}
		}
		offset += len(lines)
		if len(lines) == 0 || offset >= total {
			return o, nil
		}
	}
}

// How OrderFor narrows and matches orders.
const (
	// OrderSearchBefore is how long before a purchase took effect its
	// order may have been created: orders wait for payment (Huawei cancels
	// unpaid yearly/monthly orders after at most a few weeks).
	OrderSearchBefore = 31 * 24 * time.Hour
	// OrderSearchAfter is how long after a purchase took effect its order
	// may have been created, a margin for clock and rounding differences.
	OrderSearchAfter = 24 * time.Hour
	// OrderTimeTolerance is how far an order line's effective and expire
	// times may be from the purchase's and still match.
	OrderTimeTolerance = time.Minute
	ordersPage         = MaxOrderPageSize
)

// OrderFor finds the order that bought a purchase. BSS does not link the
// two: a subscription resource (OrderInstanceV2) carries no order ID, and
// an order line no resource ID. OrderFor therefore searches:
//
//  1. ListCustomerOrders (GET /v2/orders/customer-orders), every page,
//     keeping completed orders (status 5; a resource exists only once its
//     order has completed) created from OrderSearchBefore before to
//     OrderSearchAfter after the purchase's EffectiveTime, and first only
//     those of the purchase's service type. When none of those matches,
//     the search is repeated without the service type, since Huawei does
//     not document whether a SaaS order carries its resource's code.
//  2. ShowCustomerOrderDetails of each candidate.
//  3. An order matches when one of its lines has the purchase's ProductID
//     and effective and expire times within OrderTimeTolerance of the
//     purchase's EffectiveTime and ExpireTime.
//
// The rule is a heuristic: Huawei documents neither that an order line's
// times equal its resource's nor how renewals and changes appear. A
// purchase renewed or changed since it was bought has a later expire time
// than the line of its original order, so it usually matches no order.
// Two purchases of the same product bought for the same term at the same
// moment cannot be told apart.
//
// With no match the error is an *apierror.Error whose cause is a
// *NotFoundError (matching apierror.ErrNotFound); with several, one whose
// cause is an *OrderMatchError listing the candidate order IDs (matching
// ErrAmbiguous). Listings that repeat a page end with an
// *apierror.PagingError cause (apierror.ErrPaging). Each call is retried like
// every other call of the package. It makes one list call per page and one
// details call per candidate order, so it suits occasional use, not loops
// over many purchases.
func (c *Client) OrderFor(ctx context.Context, p Purchase) (*Order, error) {
	const op = "OrderFor"
	var pr apierror.Problems
	if !rules.IsInstanceID(p.ProductID) {
		pr.Add("productId", "the purchase has no valid product ID")
	}
	if p.EffectiveTime.IsZero() {
		pr.Add("effectiveTime", "the purchase has no effective time")
	}
	if p.ExpireTime.IsZero() {
		pr.Add("expireTime", "the purchase has no expire time")
	}
	domainID, err := c.bssDomainID(ctx, op, pr)
	if err != nil {
		return nil, err
	}
	passes := []string{""}
	if p.ServiceTypeCode != "" {
		passes = []string{p.ServiceTypeCode, ""}
	}
	checked := map[string]bool{}
	var matches []*Order
	for _, serviceType := range passes {
		ids, err := c.candidateOrders(ctx, domainID, p, serviceType)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if checked[id] {
				continue
			}
			checked[id] = true
			o, err := c.orderDetails(ctx, domainID, id)
			if errors.Is(err, apierror.ErrNotFound) {
				continue // listed, then gone
			}
			if err != nil {
				return nil, err
			}
			if slices.ContainsFunc(o.Lines, func(l OrderLine) bool { return lineMatches(l, p) }) {
				matches = append(matches, o)
			}
		}
		if len(matches) > 0 {
			break
		}
	}
	switch len(matches) {
	case 0:
		return nil, &apierror.Error{Service: ServiceBSS, Operation: op, Err: &NotFoundError{Kind: "order for purchase", ID: purchaseName(p)}}
	case 1:
		return matches[0], nil
	}
	ids := make([]string, len(matches))
	for i, o := range matches {
		ids[i] = o.ID
	}
	return nil, &apierror.Error{Service: ServiceBSS, Operation: op, Err: &OrderMatchError{InstanceID: purchaseName(p), OrderIDs: ids}}
}

func purchaseName(p Purchase) string {
	if p.InstanceID != "" {
		return p.InstanceID
	}
	return p.ResourceID
}

func lineMatches(l OrderLine, p Purchase) bool {
	near := func(a, b time.Time) bool { d := a.Sub(b); return d <= OrderTimeTolerance && d >= -OrderTimeTolerance }
	return l.ProductID == p.ProductID && near(l.EffectiveTime, p.EffectiveTime) && near(l.ExpireTime, p.ExpireTime)
}

// candidateOrders lists, page by page, the IDs of the completed orders
// created around p's effective time, of serviceType when not empty.
func (c *Client) candidateOrders(ctx context.Context, domainID string, p Purchase, serviceType string) ([]string, error) {
	const op = "ListCustomerOrders"
	begin := p.EffectiveTime.Add(-OrderSearchBefore).UTC().Format(bssTimeFormat)
	end := p.EffectiveTime.Add(OrderSearchAfter).UTC().Format(bssTimeFormat)
	status, limit, orderBy := int32(OrderCompleted), int32(ordersPage), "createTime"
	var ids []string
	var guard paging.Guard
	for offset := 0; ; {
		off := int32(offset)
		req := &intl.ListCustomerOrdersRequest{CreateTimeBegin: &begin, CreateTimeEnd: &end, Status: &status,
			Limit: &limit, Offset: &off, OrderBy: &orderBy}
		if serviceType != "" {
			req.ServiceTypeCode = &serviceType
		}
		resp, err := bssCall(ctx, c, domainID, op, req, (*bssintl.BssintlClient).ListCustomerOrders,
			(*bss.BssClient).ListCustomerOrders)
		if err != nil {
			return nil, err
		}
		total, err := pageTotal(op, "order_infos", resp.TotalCount, resp.OrderInfos != nil, offset)
		if err != nil {
			return nil, err
		}
		var page []intl.CustomerOrderV2
		if resp.OrderInfos != nil {
			page = *resp.OrderInfos
		}
		for _, o := range page {
			id := str(o.OrderId)
			guard.See(id)
			if id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if err := guard.EndPage("offset", offset); err != nil {
			return nil, &apierror.Error{Service: ServiceBSS, Operation: op, Err: err}
		}
		offset += len(page)
		if len(page) == 0 || offset >= total {
			return ids, nil
		}
	}
}

func (c *Client) orderPage(ctx context.Context, domainID, orderID string, offset int) (*intl.ShowCustomerOrderDetailsResponse, error) {
	limit, off := int32(orderLinesPage), int32(offset)
	req := &intl.ShowCustomerOrderDetailsRequest{OrderId: orderID, Limit: &limit, Offset: &off}
	return bssCall(ctx, c, domainID, "ShowCustomerOrderDetails", req, (*bssintl.BssintlClient).ShowCustomerOrderDetails,
		(*bss.BssClient).ShowCustomerOrderDetails)
}

func toOrder(op string, r *intl.CustomerOrderV3) (*Order, error) {
	o := &Order{ID: str(r.OrderId), CustomerID: str(r.CustomerId), UserName: str(r.UserName),
		ServiceTypeCode: str(r.ServiceTypeCode), ServiceTypeName: str(r.ServiceTypeName), Currency: str(r.Currency),
		AmountAfterDiscount: f64(r.AmountAfterDiscount), OfficialAmount: f64(r.OfficialAmount)}
	if o.ID == "" {
		return nil, malformed(ServiceBSS, op, "", "order_info has no order_id")
	}
	if r.Status != nil {
		o.Status = OrderStatus(*r.Status)
	}
	if r.OrderType != nil {
		o.Type = OrderType(*r.OrderType)
	}
	var err error
	if o.CreateTime, err = parseTime(r.CreateTime); err != nil {
		return nil, malformed(ServiceBSS, op, "", "create_time: %v", err)
	}
	if o.PaymentTime, err = parseTime(r.PaymentTime); err != nil {
		return nil, malformed(ServiceBSS, op, "", "payment_time: %v", err)
	}
	return o, nil
}

func toOrderLine(op string, l intl.OrderLineItemEntityV2) (OrderLine, error) {
	line := OrderLine{ID: str(l.OrderLineItemId), ProductID: str(l.ProductId), ProductSpecDesc: str(l.ProductSpecDesc),
		ServiceTypeCode: str(l.ServiceTypeCode), Currency: str(l.Currency),
		AmountAfterDiscount: f64(l.AmountAfterDiscount), OfficialAmount: f64(l.OfficialAmount)}
	if l.PeriodType != nil {
		line.PeriodType = PeriodType(*l.PeriodType)
	}
	if l.PeriodNum != nil {
		line.PeriodNum = int(*l.PeriodNum)
	}
	if l.SubscriptionNum != nil {
		line.SubscriptionNum = int(*l.SubscriptionNum)
	}
	var err error
	if line.EffectiveTime, err = parseTime(l.EffectiveTime); err != nil {
		return OrderLine{}, malformed(ServiceBSS, op, "", "order line %s: effective_time: %v", line.ID, err)
	}
	if line.ExpireTime, err = parseTime(l.ExpireTime); err != nil {
		return OrderLine{}, malformed(ServiceBSS, op, "", "order line %s: expire_time: %v", line.ID, err)
	}
	return line, nil
}

// key identifies a line for the paging guard: its ID, or what it bought
// when BSS gives none.
func (l OrderLine) key() string {
	if l.ID != "" {
		return l.ID
	}
	return l.ProductID + "|" + l.EffectiveTime.String() + "|" + l.ExpireTime.String()
}

func f64(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
