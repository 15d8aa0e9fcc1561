package huawei

import (
	"context"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	bssintl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2"
	intl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2/model"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/paging"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
)

// PurchaseStatus is the BSS status of a subscription resource.
type PurchaseStatus int

// BSS resource statuses.
const (
	StatusInUse   PurchaseStatus = 2
	StatusClosed  PurchaseStatus = 3
	StatusFrozen  PurchaseStatus = 4
	StatusExpired PurchaseStatus = 5
)

// String names the status ("in use", "closed", "frozen", "expired").
func (s PurchaseStatus) String() string {
	switch s {
	case StatusInUse:
		return "in use"
	case StatusClosed:
		return "closed"
	case StatusFrozen:
		return "frozen"
	case StatusExpired:
		return "expired"
	}
	return "status " + strconv.Itoa(int(s))
}

// Valid reports whether s is one of the documented statuses.
func (s PurchaseStatus) Valid() bool { return s >= StatusInUse && s <= StatusExpired }

// Purchase is one marketplace purchase as BSS reports it (a yearly/monthly
// subscription resource, OrderInstanceV2).
type Purchase struct {
	// ID is BSS's record ID of the resource.
	ID string
	// InstanceID is the marketplace instance ID the buyer activates: the
	// resource ID unless WithInstanceIDFunc says otherwise.
	InstanceID string
	// ResourceID is BSS's resource_id.
	ResourceID       string
	ResourceName     string
	ProductID        string
	ProductSpecDesc  string
	ServiceTypeCode  string
	ServiceTypeName  string
	ResourceTypeCode string
	ResourceTypeName string
	ResourceSpecCode string
	RegionCode       string
	ProjectID        string
	Status           PurchaseStatus
	// ExpirePolicy is what happens at expiry (0 grace period, 1 to
	// pay-per-use, 2 delete, 3 auto-renew, 4 freeze, 5 delete from
	// retention).
	ExpirePolicy  int
	EffectiveTime time.Time
	ExpireTime    time.Time
	UpdateTime    time.Time
}

// Active reports whether the purchase is in use.
func (p Purchase) Active() bool { return p.Status == StatusInUse }

// PurchaseQuery filters purchases. The zero value (or nil) lists every
// TrueWatch purchase in any status.
type PurchaseQuery struct {
	// Statuses keeps these statuses (server-side); empty keeps all.
	Statuses []PurchaseStatus
	// ResourceIDs keeps these BSS resource IDs (server-side, at most 50).
	ResourceIDs []string
	// OrderID keeps the resources of one order (server-side).
	OrderID string
	// ExpiresAfter and ExpiresBefore bound the expiry time (server-side).
	ExpiresAfter, ExpiresBefore time.Time
	// ServiceTypeCode filters server-side by BSS service type. Empty (the
	// default) sends none: the code SaaS purchases carry is not documented,
	// so purchases are recognised by product ID instead.
	ServiceTypeCode string
	// ProductIDs keeps these KooGallery product IDs (client-side); nil
	// means the client's (WithProductIDs, default TrueWatch).
	ProductIDs []string
	// AllProducts keeps every marketplace purchase instead of filtering by
	// product ID.
	AllProducts bool
	// Offset is the BSS offset of the page (ListPurchases only).
	Offset int
	// Limit is the BSS page size, 1 to 500 (default 100).
	Limit int
}

// Limits of a PurchaseQuery: BSS's for ListPayPerUseCustomerResources
// (MaxPageSize, MaxResourceIDs), which the mock server enforces too.
const (
	MaxPageSize     = 500
	DefaultPageSize = 100
	MaxResourceIDs  = 50
)

// MarketplaceServiceType is the BSS service type code of KooGallery
// purchases (some carry an hws.service.type.mkp.* code instead).
const MarketplaceServiceType = "hws.service.type.marketplace"

func (q *PurchaseQuery) validate(op string) error {
	var p apierror.Problems
	for _, s := range q.Statuses {
		if !s.Valid() {
			p.Add("statuses", "status %d is not one of 2 (in use), 3 (closed), 4 (frozen), 5 (expired)", int(s))
		}
	}
	if len(q.ResourceIDs) > MaxResourceIDs {
		p.Add("resourceIds", "at most %d resource IDs", MaxResourceIDs)
	}
	for _, id := range q.ResourceIDs {
		if !rules.IsInstanceID(id) {
			p.Add("resourceIds", "%q must be 1 to 64 printable ASCII characters without spaces", id)
		}
	}
	if q.OrderID != "" && !rules.IsInstanceID(q.OrderID) {
		p.Add("orderId", "must be 1 to 64 printable ASCII characters without spaces")
	}
	if !q.ExpiresAfter.IsZero() && !q.ExpiresBefore.IsZero() && q.ExpiresBefore.Before(q.ExpiresAfter) {
		p.Add("expiresBefore", "must not be before expiresAfter")
	}
	if q.ServiceTypeCode != "" && strings.TrimSpace(q.ServiceTypeCode) == "" {
		p.Add("serviceTypeCode", "must not be blank")
	}
	for _, id := range q.ProductIDs {
		if !rules.IsInstanceID(id) {
			p.Add("productIds", "%q is not a product ID", id)
		}
	}
	if q.Offset < 0 {
		p.Add("offset", "must not be negative")
	}
	if q.Limit < 0 || q.Limit > MaxPageSize {
		p.Add("limit", "must be from 1 to %d (0 for the default)", MaxPageSize)
	}
	return p.Err(op)
}

func (q *PurchaseQuery) request() *intl.QueryResourcesReq {
	main := int32(1)
	offset, limit := int32(q.Offset), int32(q.Limit)
	if limit == 0 {
		limit = DefaultPageSize
	}
	r := &intl.QueryResourcesReq{OnlyMainResource: &main, Offset: &offset, Limit: &limit}
	if len(q.Statuses) > 0 {
		sl := make([]int32, len(q.Statuses))
		for i, s := range q.Statuses {
			sl[i] = int32(s)
		}
		r.StatusList = &sl
	}
	if len(q.ResourceIDs) > 0 {
		ids := slices.Clone(q.ResourceIDs)
		r.ResourceIds = &ids
	}
	if q.OrderID != "" {
		r.OrderId = &q.OrderID
	}
	if !q.ExpiresAfter.IsZero() {
		v := q.ExpiresAfter.UTC().Format(bssTimeFormat)
		r.ExpireTimeBegin = &v
	}
	if !q.ExpiresBefore.IsZero() {
		v := q.ExpiresBefore.UTC().Format(bssTimeFormat)
		r.ExpireTimeEnd = &v
	}
	if q.ServiceTypeCode != "" {
		r.ServiceTypeCode = &q.ServiceTypeCode
	}
	return r
}

// PurchasePage is one BSS page of purchases.
type PurchasePage struct {
	// Purchases are the page's purchases that passed the product filter.
	Purchases []Purchase
	// TotalCount is BSS's count of resources matching the server-side
	// filters, before the product filter.
	TotalCount int
	// Offset is this page's offset; NextOffset the next page's.
	Offset, NextOffset int
	// Scanned is how many resources BSS returned in this page.
	Scanned int

	resourceIDs []string // of every resource scanned, for the paging guard
}

// HasMore reports whether another page follows.
func (p *PurchasePage) HasMore() bool { return p.Scanned > 0 && p.NextOffset < p.TotalCount }

const bssTimeFormat = "2006-01-02T15:04:05Z"

// ListPurchases returns one page of marketplace purchases
// (ListPayPerUseCustomerResources, POST /v2/orders/suscriptions/resources/query),
// keeping only the configured products. A page may hold fewer purchases
// than Limit; use HasMore and NextOffset, or Purchases for all pages.
func (c *Client) ListPurchases(ctx context.Context, q *PurchaseQuery) (*PurchasePage, error) {
	const op = "ListPayPerUseCustomerResources"
	if q == nil {
		q = &PurchaseQuery{}
	}
	if err := q.validate(op); err != nil {
		return nil, err
	}
	domainID, err := c.domainID(ctx)
	if err != nil {
		return nil, err
	}
	req := &intl.ListPayPerUseCustomerResourcesRequest{Body: q.request()}
	resp, err := bssCall(ctx, c, domainID, op, req, (*bssintl.BssintlClient).ListPayPerUseCustomerResources,
		(*bss.BssClient).ListPayPerUseCustomerResources)
	if err != nil {
		return nil, err
	}
	pg := &PurchasePage{Offset: int(*req.Body.Offset)}
	if pg.TotalCount, err = pageTotal(op, "data", resp.TotalCount, resp.Data != nil, pg.Offset); err != nil {
		return nil, err
	}
	var data []intl.OrderInstanceV2
	if resp.Data != nil {
		data = *resp.Data
	}
	pg.Scanned = len(data)
	pg.NextOffset = pg.Offset + len(data)
	products := q.ProductIDs
	if products == nil {
		products = c.products
	}
	for _, r := range data {
		p, err := c.toPurchase(op, r)
		if err != nil {
			return nil, err
		}
		pg.resourceIDs = append(pg.resourceIDs, p.ResourceID)
		if q.AllProducts && isMarketplace(p) || !q.AllProducts && slices.Contains(products, p.ProductID) {
			pg.Purchases = append(pg.Purchases, p)
		}
	}
	return pg, nil
}

// isMarketplace recognises a KooGallery purchase by its service type (the
// codes Huawei's console treats as marketplace) or its offering ID.
func isMarketplace(p Purchase) bool {
	return p.ServiceTypeCode == MarketplaceServiceType ||
		strings.HasPrefix(p.ServiceTypeCode, "hws.service.type.mkp.") ||
		strings.HasPrefix(p.ServiceTypeCode, MarketplaceServiceType) ||
		strings.HasPrefix(p.ProductID, "OFFI")
}

// Purchases iterates over every page of ListPurchases (Offset is the
// starting point). Iteration stops at the first error, which is yielded
// with a zero Purchase. BSS pages by offset, so a purchase made or removed
// while the pages are read can shift entries: one may then be yielded
// twice or skipped. A page that holds only resources earlier pages already
// held (BSS repeating a page, or ignoring the offset) ends the iteration
// with an *apierror.Error whose cause is an *apierror.PagingError
// (errors.Is(err, apierror.ErrPaging)), instead of asking for pages for
// ever.
func (c *Client) Purchases(ctx context.Context, q *PurchaseQuery) iter.Seq2[Purchase, error] {
	var query PurchaseQuery
	if q != nil {
		query = *q
		query.Statuses = slices.Clone(q.Statuses)
		query.ResourceIDs = slices.Clone(q.ResourceIDs)
		query.ProductIDs = slices.Clone(q.ProductIDs)
	}
	return func(yield func(Purchase, error) bool) {
		var guard paging.Guard
		for {
			pg, err := c.ListPurchases(ctx, &query)
			if err != nil {
				yield(Purchase{}, err)
				return
			}
			for _, id := range pg.resourceIDs {
				guard.See(id)
			}
			if err := guard.EndPage("offset", pg.Offset); err != nil {
				yield(Purchase{}, &apierror.Error{Service: ServiceBSS, Operation: "Purchases", Err: err})
				return
			}
			for _, p := range pg.Purchases {
				if !yield(p, nil) {
					return
				}
			}
			if !pg.HasMore() {
				return
			}
			query.Offset = pg.NextOffset
		}
	}
}

// Purchase returns the purchase whose instance ID (or BSS resource ID) is
// id, among the configured products, in any status. When there is none the
// error is an *apierror.Error whose cause is a *NotFoundError (matching
// apierror.ErrNotFound).
func (c *Client) Purchase(ctx context.Context, id string) (*Purchase, error) {
	var p apierror.Problems
	rules.InstanceID(&p, "instanceId", id)
	if err := p.Err("Purchase"); err != nil {
		return nil, err
	}
	pg, err := c.ListPurchases(ctx, &PurchaseQuery{ResourceIDs: []string{id}})
	if err != nil {
		return nil, err
	}
	for _, pu := range pg.Purchases {
		if pu.InstanceID == id || pu.ResourceID == id {
			return &pu, nil
		}
	}
	if c.cfg.instanceID != nil {
		// A custom mapping may give instance IDs unlike resource IDs.
		for pu, err := range c.Purchases(ctx, nil) {
			if err != nil {
				return nil, err
			}
			if pu.InstanceID == id {
				return &pu, nil
			}
		}
	}
	return nil, &apierror.Error{Service: ServiceBSS, Operation: "Purchase", Err: &NotFoundError{Kind: "purchase", ID: id}}
}

// ActiveTrueWatchPurchase returns the one TrueWatch purchase in use. With
// none, or several, it returns an *apierror.Error whose cause is a
// *PurchaseSelectionError listing the candidates (matching
// apierror.ErrNotFound or ErrAmbiguous).
//
// Only BSS status 2 (in use) counts as active, as for the Billing Center's
// subscription: a frozen purchase (4) cannot be activated until Huawei
// unfreezes it, and a closed (3) or expired (5) one is over. The status is
// BSS's word; the expire time is not compared with the clock. Purchases
// are recognised by product ID on the client (WithProductIDs), whatever
// service type BSS gives them, and one listed twice (the pages shifted
// while they were read) counts once.
func (c *Client) ActiveTrueWatchPurchase(ctx context.Context) (*Purchase, error) {
	var all, active []Purchase
	seen := map[string]bool{}
	for p, err := range c.Purchases(ctx, nil) {
		if err != nil {
			return nil, err
		}
		if seen[p.ResourceID] {
			continue
		}
		seen[p.ResourceID] = true
		all = append(all, p)
		if p.Active() {
			active = append(active, p)
		}
	}
	sel := &PurchaseSelectionError{Candidates: active}
	switch len(active) {
	case 1:
		return &active[0], nil
	case 0:
		sel.Candidates = all
	}
	return nil, &apierror.Error{Service: ServiceBSS, Operation: "ActiveTrueWatchPurchase", Err: sel}
}

func (c *Client) toPurchase(op string, r intl.OrderInstanceV2) (Purchase, error) {
	p := Purchase{ID: str(r.Id), ResourceID: str(r.ResourceId), ResourceName: str(r.ResourceName),
		ProductID: str(r.ProductId), ProductSpecDesc: str(r.ProductSpecDesc), ServiceTypeCode: str(r.ServiceTypeCode),
		ServiceTypeName: str(r.ServiceTypeName), ResourceTypeCode: str(r.ResourceTypeCode),
		ResourceTypeName: str(r.ResourceTypeName), ResourceSpecCode: str(r.ResourceSpecCode),
		RegionCode: str(r.RegionCode), ProjectID: str(r.ProjectId)}
	if p.ResourceID == "" {
		return Purchase{}, malformed(ServiceBSS, op, "", "a resource has no resource_id")
	}
	if r.Status == nil {
		return Purchase{}, malformed(ServiceBSS, op, "", "resource %s has no status", p.ResourceID)
	}
	p.Status = PurchaseStatus(*r.Status)
	if r.ExpirePolicy != nil {
		p.ExpirePolicy = int(*r.ExpirePolicy)
	}
	var err error
	for _, f := range []struct {
		name string
		v    *string
		dst  *time.Time
	}{{"effective_time", r.EffectiveTime, &p.EffectiveTime}, {"expire_time", r.ExpireTime, &p.ExpireTime},
		{"update_time", r.UpdateTime, &p.UpdateTime}} {
		if *f.dst, err = parseTime(f.v); err != nil {
			return Purchase{}, malformed(ServiceBSS, op, "", "resource %s: %s: %v", p.ResourceID, f.name, err)
		}
	}
	p.InstanceID = p.ResourceID
	if c.cfg.instanceID != nil {
		p.InstanceID = c.cfg.instanceID(p)
	}
	return p, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// parseTime reads BSS times (UTC "2006-01-02T15:04:05Z", RFC 3339, or
// "2006-01-02 15:04:05"); absent or empty gives the zero time.
func parseTime(v *string) (time.Time, error) {
	if v == nil || *v == "" {
		return time.Time{}, nil
	}
	var err error
	for _, layout := range []string{bssTimeFormat, time.RFC3339, "2006-01-02 15:04:05"} {
		var t time.Time
		if t, err = time.Parse(layout, *v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}
