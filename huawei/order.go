package huawei

import (
	"context"
	"strconv"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	bssmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
	bssintl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2"
	intl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2/model"

	"github.com/truewatch-labs/marketplace-go/apierror"
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

const orderLinesPage = 100

// Order returns an order of the account with all its lines
// (GET /v2/orders/customer-orders/details/{order_id}).
func (c *Client) Order(ctx context.Context, orderID string) (*Order, error) {
	const op = "ShowCustomerOrderDetails"
	var p apierror.Problems
	if !rules.IsInstanceID(orderID) {
		p.Add("orderId", "must be 1 to 64 printable ASCII characters without spaces")
	}
	if err := p.Err(op); err != nil {
		return nil, err
	}
	domainID, err := c.domainID(ctx)
	if err != nil {
		return nil, err
	}
	var o *Order
	for offset := 0; ; {
		resp, err := c.orderPage(ctx, domainID, orderID, offset)
		if err != nil {
			return nil, err
		}
		if resp == nil || resp.OrderInfo == nil {
			return nil, malformed(ServiceBSS, op, "", "no order_info in the response")
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
			o.Lines = append(o.Lines, line)
		}
		offset += len(lines)
		if len(lines) == 0 || resp.TotalCount == nil || offset >= int(*resp.TotalCount) {
			return o, nil
		}
	}
}

func (c *Client) orderPage(ctx context.Context, domainID, orderID string, offset int) (*intl.ShowCustomerOrderDetailsResponse, error) {
	limit, off := int32(orderLinesPage), int32(offset)
	req := &intl.ShowCustomerOrderDetailsRequest{OrderId: orderID, Limit: &limit, Offset: &off}
	return invoke(ctx, c, c.bssService(domainID), "ShowCustomerOrderDetails", func(hc *core.HcHttpClient) (*intl.ShowCustomerOrderDetailsResponse, error) {
		if !c.cfg.chineseMainland {
			return bssintl.NewBssintlClient(hc).ShowCustomerOrderDetails(req)
		}
		r, err := bss.NewBssClient(hc).ShowCustomerOrderDetails(&bssmodel.ShowCustomerOrderDetailsRequest{
			OrderId: orderID, Limit: &limit, Offset: &off})
		if err != nil {
			return nil, err
		}
		var out intl.ShowCustomerOrderDetailsResponse
		return &out, convert(r, &out)
	})
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

func f64(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
