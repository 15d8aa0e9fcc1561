package mockserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
)

// BSS limits the mock enforces.
const (
	bssResourceLimitMax = huawei.MaxPageSize
	bssResourceIDsMax   = huawei.MaxResourceIDs
	bssOrderLimitMax    = huawei.MaxOrderPageSize
	bssProductsLimitMax = 1000
	bssOffsetMax        = 1000000000
	bssDefaultLimit     = 10
)

// Languages of BSS answers (X-Language). BSS documents zh_CN as the
// default on both sites.
const (
	bssLangZH      = "zh_CN"
	bssLangEN      = "en_US"
	bssDefaultLang = bssLangZH
)

// bssName is a name BSS gives in both languages.
type bssName struct{ en, zh string }

func (n bssName) in(lang string) string {
	if lang == bssLangEN {
		return n.en
	}
	return n.zh
}

// bssMarketplaceName is the name of the marketplace service type.
var bssMarketplaceName = bssName{en: "KooGallery", zh: "云商店"}

// bssLanguage is the language r asks for with X-Language, zh_CN when it
// does not, as BSS documents; an unknown language is refused.
func bssLanguage(r *http.Request) (string, bool) {
	switch l := r.Header.Get("X-Language"); l {
	case "":
		return bssDefaultLang, true
	case bssLangZH, bssLangEN:
		return l, true
	}
	return "", false
}

// bssResourceQuery is the body of ListPayPerUseCustomerResources.
type bssResourceQuery struct {
	ResourceIDs      []string `json:"resource_ids"`
	OrderID          *string  `json:"order_id"`
	OnlyMainResource *int     `json:"only_main_resource"`
	StatusList       []int    `json:"status_list"`
	Offset           *int     `json:"offset"`
	Limit            *int     `json:"limit"`
	ExpireTimeBegin  *string  `json:"expire_time_begin"`
	ExpireTimeEnd    *string  `json:"expire_time_end"`
	ServiceTypeCode  *string  `json:"service_type_code"`
	CustomerID       *string  `json:"customer_id"`
}

type bssEnterpriseProject struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// bssResource is OrderInstanceV2 as BSS returns it.
type bssResource struct {
	ID                string               `json:"id"`
	ResourceID        string               `json:"resource_id"`
	ResourceName      string               `json:"resource_name"`
	RegionCode        string               `json:"region_code"`
	ServiceTypeCode   string               `json:"service_type_code"`
	ResourceTypeCode  string               `json:"resource_type_code"`
	ResourceTypeName  string               `json:"resource_type_name"`
	ServiceTypeName   string               `json:"service_type_name"`
	ResourceSpecCode  string               `json:"resource_spec_code"`
	ProjectID         string               `json:"project_id"`
	ProductID         string               `json:"product_id"`
	ParentResourceID  string               `json:"parent_resource_id"`
	IsMainResource    int                  `json:"is_main_resource"`
	Status            int                  `json:"status"`
	EffectiveTime     string               `json:"effective_time"`
	ExpireTime        string               `json:"expire_time"`
	ExpirePolicy      int                  `json:"expire_policy"`
	ProductSpecDesc   string               `json:"product_spec_desc"`
	UpdateTime        string               `json:"update_time"`
	EnterpriseProject bssEnterpriseProject `json:"enterprise_project"`
}

// bssRecordID is the stable BSS record ID ("id") of a purchase.
func bssRecordID(p *Purchase) string {
	sum := sha256.Sum256([]byte("bss-resource|" + p.AccountID + "|" + p.ResourceID))
	return hex.EncodeToString(sum[:16])
}

func (s *Server) bssResourceOf(p *Purchase, acc HuaweiAccount) bssResource {
	return bssResource{
		ID: bssRecordID(p), ResourceID: p.ResourceID, ResourceName: p.ResourceName, RegionCode: p.RegionCode,
		ServiceTypeCode: p.ServiceTypeCode, ResourceTypeCode: p.ResourceTypeCode, ResourceTypeName: "SaaS",
		ServiceTypeName: bssMarketplaceName.in(acc.Site.language()), ResourceSpecCode: p.SpecCode,
		ProjectID: s.hwProjectFor(acc, p.RegionCode).ID, ProductID: p.ProductID, IsMainResource: 1,
		Status: int(p.Status), EffectiveTime: fmtHWTime(p.EffectiveTime), ExpireTime: fmtHWTime(p.ExpireTime),
		ProductSpecDesc: p.ResourceName + " " + p.SpecCode, UpdateTime: fmtHWTime(p.UpdateTime),
		EnterpriseProject: bssEnterpriseProject{ID: "0", Name: "default"},
	}
}

// callerPurchases snapshots the purchases of the caller's account.
func (s *Server) callerPurchases(accountID string) []Purchase {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Purchase
	for _, p := range s.st.huawei.byAccount[accountID] {
		out = append(out, *p)
	}
	return out
}

// partnerOnly refuses parameters only partners may use.
func hwPartnerOnly(w http.ResponseWriter, r *http.Request, name string) {
	hwFail(w, r, hwDenied, name+" is available to partners only")
}

// bssQueryResources answers ListPayPerUseCustomerResources with the
// caller's marketplace purchases, filtered and paged as BSS does.
func (s *Server) bssQueryResources(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r, r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	var q bssResourceQuery
	if err := hwDecodeStrict(r, c, &q); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	var problems []string
	// BSS documents customer_id as required when a partner lists a
	// sub-customer's resources and not processed otherwise; it only has
	// to be 0 to 64 characters.
	if q.CustomerID != nil && len(*q.CustomerID) > 64 {
		problems = append(problems, "customer_id must be 0 to 64 characters")
	}
	if len(q.ResourceIDs) > bssResourceIDsMax {
		problems = append(problems, fmt.Sprintf("resource_ids accepts at most %d IDs", bssResourceIDsMax))
	}
	for _, id := range q.ResourceIDs {
		if id == "" || len(id) > 64 {
			problems = append(problems, "resource_ids entries must be 1 to 64 characters")
			break
		}
	}
	if q.OnlyMainResource != nil && *q.OnlyMainResource != 0 && *q.OnlyMainResource != 1 {
		problems = append(problems, "only_main_resource must be 0 or 1")
	}
	for _, st := range q.StatusList {
		if !huawei.PurchaseStatus(st).Valid() {
			problems = append(problems, fmt.Sprintf("status_list entry %d is not one of 2, 3, 4, 5", st))
			break
		}
	}
	offset, limit := 0, bssDefaultLimit
	if q.Offset != nil {
		offset = *q.Offset
		if offset < 0 {
			problems = append(problems, "offset must not be negative")
		}
	}
	if q.Limit != nil {
		limit = *q.Limit
		if limit < 1 || limit > bssResourceLimitMax {
			problems = append(problems, fmt.Sprintf("limit must be from 1 to %d", bssResourceLimitMax))
		}
	}
	var expBegin, expEnd time.Time
	for _, f := range []struct {
		name string
		v    *string
		t    *time.Time
	}{{"expire_time_begin", q.ExpireTimeBegin, &expBegin}, {"expire_time_end", q.ExpireTimeEnd, &expEnd}} {
		if f.v == nil {
			continue
		}
		t, err := time.Parse(hwTimeFormat, *f.v)
		if err != nil {
			problems = append(problems, f.name+" must be UTC yyyy-MM-ddTHH:mm:ssZ")
			continue
		}
		*f.t = t
	}
	if q.ServiceTypeCode != nil && strings.TrimSpace(*q.ServiceTypeCode) == "" {
		problems = append(problems, "service_type_code must not be empty")
	}
	if q.OrderID != nil && *q.OrderID == "" {
		problems = append(problems, "order_id must not be empty")
	}
	if len(problems) > 0 {
		hwBadRequest(w, r, strings.Join(problems, "; "))
		return
	}
	purchases := s.callerPurchases(c.account.ID)
	match := purchases[:0] // filtered in place: callerPurchases returns a copy
	for _, p := range purchases {
		switch {
		case len(q.ResourceIDs) > 0 && !slices.Contains(q.ResourceIDs, p.ResourceID),
			q.OrderID != nil && *q.OrderID != p.OrderID,
			len(q.StatusList) > 0 && !slices.Contains(q.StatusList, int(p.Status)),
			q.ServiceTypeCode != nil && *q.ServiceTypeCode != p.ServiceTypeCode,
			!expBegin.IsZero() && p.ExpireTime.Before(expBegin),
			!expEnd.IsZero() && p.ExpireTime.After(expEnd):
			continue
		}
		// Every marketplace purchase is a main resource, so
		// only_main_resource filters nothing out.
		match = append(match, p)
	}
	// Only the page is converted; the count is of every match.
	lo, hi := hwPage(len(match), offset, limit)
	page := make([]bssResource, 0, hi-lo)
	for i := lo; i < hi; i++ {
		page = append(page, s.bssResourceOf(&match[i], c.account))
	}
	writeJSON(w, http.StatusOK, bssResourcePage{Data: page, TotalCount: len(match)})
}

// bssResourcePage is ListPayPerUseCustomerResources' answer, its members
// in the order encoding/json writes a map's (sorted), as the mock has
// always answered.
type bssResourcePage struct {
	Data       []bssResource `json:"data"`
	TotalCount int           `json:"total_count"`
}

// bssOrder is CustomerOrderV3 (a superset of CustomerOrderV2).
type bssOrder struct {
	OrderID             string  `json:"order_id"`
	CustomerID          string  `json:"customer_id"`
	ServiceTypeCode     string  `json:"service_type_code"`
	ServiceTypeName     string  `json:"service_type_name"`
	SourceType          int     `json:"source_type"`
	Status              int     `json:"status"`
	OrderType           int     `json:"order_type"`
	AmountAfterDiscount float64 `json:"amount_after_discount"`
	OfficialAmount      float64 `json:"official_amount"`
	MeasureID           int     `json:"measure_id"`
	CreateTime          string  `json:"create_time"`
	PaymentTime         string  `json:"payment_time"`
	Currency            string  `json:"currency"`
	UserName            string  `json:"user_name,omitempty"`
}

// bssOrderLine is OrderLineItemEntityV2.
type bssOrderLine struct {
	OrderLineItemID     string  `json:"order_line_item_id"`
	ServiceTypeCode     string  `json:"service_type_code"`
	ServiceTypeName     string  `json:"service_type_name"`
	ProductID           string  `json:"product_id"`
	ProductSpecDesc     string  `json:"product_spec_desc"`
	PeriodType          int     `json:"period_type"`
	PeriodNum           int     `json:"period_num"`
	EffectiveTime       string  `json:"effective_time"`
	ExpireTime          string  `json:"expire_time"`
	SubscriptionNum     int     `json:"subscription_num"`
	AmountAfterDiscount float64 `json:"amount_after_discount"`
	OfficialAmount      float64 `json:"official_amount"`
	Currency            string  `json:"currency"`
	CategoryCode        string  `json:"category_code"`
	ProductOwnerService string  `json:"product_owner_service"`
	OrderID             string  `json:"order_id"`
}

// Order statuses and types the mock reports: every purchase was bought by
// a completed "new purchase" order, created a few minutes before the
// purchase took effect and paid just before. Purchases seeded with the same
// OrderID are lines of one order. The mock does not model prices.
const (
	bssOrderCompleted   = int(huawei.OrderCompleted)
	bssOrderTypeNew     = int(huawei.OrderNew)
	bssOrderCreateLead  = 5 * time.Minute
	bssOrderPaymentLead = time.Minute
)

// hwOrder is an order with its lines, derived from the purchases it bought.
type hwOrder struct {
	info          bssOrder
	created, paid time.Time
	lines         []bssOrderLine
}

// callerOrders derives the caller's orders from its purchases, in the
// order their first purchase was seeded, with names in lang and amounts in
// the account's currency.
func (s *Server) callerOrders(acc HuaweiAccount, lang string) []*hwOrder {
	var orders []*hwOrder
	byID := map[string]*hwOrder{}
	for _, p := range s.callerPurchases(acc.ID) {
		o := byID[p.OrderID]
		created := p.EffectiveTime.Add(-bssOrderCreateLead)
		if o == nil {
			o = &hwOrder{info: bssOrder{OrderID: p.OrderID, CustomerID: p.AccountID, ServiceTypeCode: p.ServiceTypeCode,
				ServiceTypeName: bssMarketplaceName.in(lang), SourceType: 1, Status: bssOrderCompleted, OrderType: bssOrderTypeNew,
				MeasureID: 1, Currency: acc.Site.currency(), UserName: acc.Name}, created: created}
			byID[p.OrderID] = o
			orders = append(orders, o)
		}
		if created.Before(o.created) {
			o.created = created
		}
		o.lines = append(o.lines, hwOrderLineOf(&p, len(o.lines)+1, lang, acc.Site.currency()))
	}
	for _, o := range orders {
		o.paid = o.created.Add(bssOrderCreateLead - bssOrderPaymentLead)
		o.info.CreateTime, o.info.PaymentTime = fmtHWTime(o.created), fmtHWTime(o.paid)
	}
	return append(orders, s.callerChangeOrders(acc, lang)...)
}

// callerChangeOrders are the renewal and upgrade orders the marketplace
// took for the account's purchases (order_type 2 and 3), each with its one
// line; they were created and paid at once.
func (s *Server) callerChangeOrders(acc HuaweiAccount, lang string) []*hwOrder {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*hwOrder
	for _, mo := range s.st.mkt.orders {
		p := s.st.huawei.byInst[mo.InstanceID]
		if mo.Type == OrderNew || mo.HuaweiAccountID != acc.ID || p == nil {
			continue
		}
		line := hwOrderLineOf(p, 1, lang, acc.Site.currency())
		line.OrderID, line.OrderLineItemID = mo.OrderID, mo.OrderLineID
		line.EffectiveTime, line.ExpireTime = fmtHWTime(mo.CreatedAt), fmtHWTime(mo.ExpireTime)
		line.PeriodType, line.PeriodNum = 2, mo.PeriodMonths
		if mo.Type == OrderUpgrade {
			line.PeriodType, line.PeriodNum = 5, 1 // one-time
		}
		out = append(out, &hwOrder{info: bssOrder{OrderID: mo.OrderID, CustomerID: acc.ID, ServiceTypeCode: p.ServiceTypeCode,
			ServiceTypeName: bssMarketplaceName.in(lang), SourceType: 1, Status: bssOrderCompleted, OrderType: mo.Type.bssOrderType(),
			MeasureID: 1, Currency: acc.Site.currency(), UserName: acc.Name, CreateTime: fmtHWTime(mo.CreatedAt), PaymentTime: fmtHWTime(mo.CreatedAt)},
			created: mo.CreatedAt, paid: mo.CreatedAt, lines: []bssOrderLine{line}})
	}
	return out
}

// period expresses the purchase's term as BSS period_type/period_num:
// years or months when the term is whole, else days.
func hwPeriod(from, to time.Time) (periodType, num int) {
	months := (to.Year()-from.Year())*12 + int(to.Month()) - int(from.Month())
	if months > 0 && from.AddDate(0, months, 0).Equal(to) {
		if months%12 == 0 {
			return int(huawei.PeriodYear), months / 12
		}
		return int(huawei.PeriodMonth), months
	}
	return int(huawei.PeriodDay), max(1, int((to.Sub(from)+24*time.Hour-1)/(24*time.Hour)))
}

// hwOrderLineOf is the n-th (from 1) line of p's order: the product, term
// and effective/expire times of the purchase itself.
func hwOrderLineOf(p *Purchase, n int, lang, currency string) bssOrderLine {
	pt, pn := hwPeriod(p.EffectiveTime, p.ExpireTime)
	return bssOrderLine{OrderLineItemID: fmt.Sprintf("%s-%06d", p.OrderID, n), ServiceTypeCode: p.ServiceTypeCode,
		ServiceTypeName: bssMarketplaceName.in(lang), ProductID: p.ProductID, ProductSpecDesc: p.ResourceName + " " + p.SpecCode,
		PeriodType: pt, PeriodNum: pn, EffectiveTime: fmtHWTime(p.EffectiveTime), ExpireTime: fmtHWTime(p.ExpireTime),
		SubscriptionNum: 1, Currency: currency, CategoryCode: "marketplace", ProductOwnerService: p.ServiceTypeCode,
		OrderID: p.OrderID}
}

// bssListOrders answers ListCustomerOrders from the caller's purchases.
func (s *Server) bssListOrders(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	q := r.URL.Query()
	if err := hwCheckQuery(r, q, "order_id", "customer_id", "create_time_begin", "create_time_end", "service_type_code",
		"status", "order_type", "limit", "offset", "order_by", "payment_time_begin", "payment_time_end",
		"indirect_partner_id", "method"); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	// customer_id filters by customer account: empty is no filter, the
	// caller's own ID its own orders, another account's ID is for
	// partners only (the mock has no partners). method takes effect only
	// with customer_id, as documented: oneself (the default) is the
	// customer's own orders, sub_customer the orders it paid for
	// enterprise sub-accounts, of which the mock has none.
	// indirect_partner_id is documented as ignored except for partners.
	if id := q.Get("customer_id"); id != "" && id != c.account.ID {
		hwPartnerOnly(w, r, "customer_id of another account")
		return
	}
	subCustomers := q.Get("customer_id") != "" && q.Get("method") == "sub_customer"
	var problems []string
	if m := q.Get("method"); m != "" && m != "oneself" && m != "sub_customer" {
		problems = append(problems, "method must be oneself or sub_customer")
	}
	limit, err := hwQueryInt(q, "limit", bssDefaultLimit, 1, bssOrderLimitMax)
	if err != nil {
		problems = append(problems, err.Error())
	}
	offset, err := hwQueryInt(q, "offset", 0, 0, bssOffsetMax)
	if err != nil {
		problems = append(problems, err.Error())
	}
	status, err := hwQueryInt(q, "status", 0, 1, 9)
	if err != nil {
		problems = append(problems, err.Error())
	}
	orderType, err := hwQueryInt(q, "order_type", 0, 1, 99)
	if err != nil {
		problems = append(problems, err.Error())
	}
	var window [4]time.Time
	for i, name := range []string{"create_time_begin", "create_time_end", "payment_time_begin", "payment_time_end"} {
		if window[i], err = hwQueryTime(q, name); err != nil {
			problems = append(problems, err.Error())
		}
	}
	orderBy := q.Get("order_by")
	if q.Has("order_by") && orderBy != "createTime" && orderBy != "-createTime" {
		problems = append(problems, "order_by must be createTime or -createTime")
	}
	if len(problems) > 0 {
		hwBadRequest(w, r, strings.Join(problems, "; "))
		return
	}
	inWindow := func(t time.Time, begin, end time.Time) bool {
		return (begin.IsZero() || !t.Before(begin)) && (end.IsZero() || !t.After(end))
	}
	orders := s.callerOrders(c.account, c.account.Site.language())
	if subCustomers {
		orders = nil
	}
	slices.SortStableFunc(orders, func(a, b *hwOrder) int {
		if orderBy == "createTime" {
			return a.created.Compare(b.created)
		}
		return b.created.Compare(a.created)
	})
	match := []bssOrder{}
	for _, o := range orders {
		switch {
		case q.Has("order_id") && q.Get("order_id") != o.info.OrderID,
			q.Has("service_type_code") && q.Get("service_type_code") != o.info.ServiceTypeCode,
			status != 0 && status != o.info.Status,
			orderType != 0 && orderType != o.info.OrderType,
			!inWindow(o.created, window[0], window[1]),
			!inWindow(o.paid, window[2], window[3]):
			continue
		}
		info := o.info
		info.UserName = "" // CustomerOrderV2 has no user_name
		match = append(match, info)
	}
	lo, hi := hwPage(len(match), offset, limit)
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(match), "order_infos": match[lo:hi]})
}

// bssOrderDetails answers ShowCustomerOrderDetails for an order of the
// caller's account; other accounts' orders do not exist for the caller.
func (s *Server) bssOrderDetails(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	q := r.URL.Query()
	if err := hwCheckQuery(r, q, "limit", "offset", "indirect_partner_id"); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	// indirect_partner_id is ignored except for partners, as documented.
	limit, err := hwQueryInt(q, "limit", bssDefaultLimit, 1, bssOrderLimitMax)
	if err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	offset, err := hwQueryInt(q, "offset", 0, 0, bssOffsetMax)
	if err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	lang, ok := bssLanguage(r)
	if !ok {
		hwBadRequest(w, r, "X-Language must be zh_CN or en_US")
		return
	}
	id := r.PathValue("order_id")
	if !rules.IsInstanceID(id) {
		hwBadRequest(w, r, "order_id must be 1 to 64 printable characters")
		return
	}
	for _, o := range s.callerOrders(c.account, lang) {
		if o.info.OrderID != id {
			continue
		}
		lo, hi := hwPage(len(o.lines), offset, limit)
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(o.lines), "order_info": o.info, "order_line_items": o.lines[lo:hi]})
		return
	}
	hwFail(w, r, hwMissing, "The order "+id+" does not exist.")
}

type bssServiceType struct {
	ServiceTypeName string `json:"service_type_name"`
	ServiceTypeCode string `json:"service_type_code"`
	Abbreviation    string `json:"abbreviation"`
}

type bssResourceType struct {
	ResourceTypeCode string `json:"resource_type_code"`
	ResourceTypeName string `json:"resource_type_name"`
	ResourceTypeDesc string `json:"resource_type_desc"`
	ServiceTypeCode  string `json:"service_type_code"`
}

// bssServiceTypes is the service type catalogue. ListServiceTypes is
// documented not to list KooGallery (marketplace) service types, so the
// marketplace is not among them.
var bssServiceTypes = []struct {
	code, abbr string
	name       bssName
}{
	{"hws.service.type.ec2", "ECS", bssName{"Elastic Cloud Server", "弹性云服务器"}},
	{"hws.service.type.ebs", "EVS", bssName{"Elastic Volume Service", "云硬盘"}},
	{"hws.service.type.obs", "OBS", bssName{"Object Storage Service", "对象存储服务"}},
}

// bssResourceTypes is the resource type catalogue, sorted by code.
var bssResourceTypes = []struct {
	code, service string
	name, desc    bssName
}{
	{"hws.resource.type.marketplace.saas", MarketplaceServiceType, bssName{"SaaS", "SaaS"},
		bssName{"KooGallery SaaS product", "云商店SaaS商品"}},
	{"hws.resource.type.obs", "hws.service.type.obs", bssName{"OBS", "对象存储"},
		bssName{"Object Storage Service bucket", "对象存储服务桶"}},
	{"hws.resource.type.vm", "hws.service.type.ec2", bssName{"ECS", "云服务器"},
		bssName{"Elastic Cloud Server", "弹性云服务器"}},
	{"hws.resource.type.volume", "hws.service.type.ebs", bssName{"EVS", "云硬盘"},
		bssName{"Elastic Volume Service disk", "云硬盘"}},
}

// hwProductPage validates offset/limit and X-Language of the product
// catalogue calls.
func hwProductPage(w http.ResponseWriter, r *http.Request, allowed ...string) (offset, limit int, lang string, ok bool) {
	q := r.URL.Query()
	if err := hwCheckQuery(r, q, append([]string{"offset", "limit"}, allowed...)...); err != nil {
		hwBadRequest(w, r, err.Error())
		return 0, 0, "", false
	}
	if lang, ok = bssLanguage(r); !ok {
		hwBadRequest(w, r, "X-Language must be zh_CN or en_US")
		return 0, 0, "", false
	}
	offset, err := hwQueryInt(q, "offset", 0, 0, bssOffsetMax)
	if err == nil {
		limit, err = hwQueryInt(q, "limit", bssDefaultLimit, 1, bssProductsLimitMax)
	}
	if err != nil {
		hwBadRequest(w, r, err.Error())
		return 0, 0, "", false
	}
	return offset, limit, lang, true
}

// bssServiceTypes answers ListServiceTypes, names in the requested
// language; service_type_name matches a part of the name in that
// language, ignoring case.
func (s *Server) bssServiceTypes(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	offset, limit, lang, ok := hwProductPage(w, r, "service_type_name")
	if !ok {
		return
	}
	name := strings.ToLower(r.URL.Query().Get("service_type_name"))
	match := []bssServiceType{}
	for _, t := range bssServiceTypes {
		if n := t.name.in(lang); strings.Contains(strings.ToLower(n), name) {
			match = append(match, bssServiceType{ServiceTypeName: n, ServiceTypeCode: t.code, Abbreviation: t.abbr})
		}
	}
	lo, hi := hwPage(len(match), offset, limit)
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(match), "service_types": match[lo:hi]})
}

// bssResourceTypes answers ListResourceTypes, names in the requested
// language.
func (s *Server) bssResourceTypes(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	offset, limit, lang, ok := hwProductPage(w, r)
	if !ok {
		return
	}
	all := make([]bssResourceType, len(bssResourceTypes))
	for i, t := range bssResourceTypes {
		all[i] = bssResourceType{ResourceTypeCode: t.code, ResourceTypeName: t.name.in(lang),
			ResourceTypeDesc: t.desc.in(lang), ServiceTypeCode: t.service}
	}
	lo, hi := hwPage(len(all), offset, limit)
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(all), "resource_types": all[lo:hi]})
}

// bssBalances answers ShowCustomerAccountBalances: the account's cash
// balance (account type 1) in its site's currency, no debt.
func (s *Server) bssBalances(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r, r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	cur := c.account.Site.currency()
	writeJSON(w, http.StatusOK, map[string]any{
		"account_balances": []map[string]any{{
			"account_id": bssBalanceAccountID(c.account.ID), "account_type": 1, "amount": json.Number(c.account.Balance),
			"currency": cur, "designated_amount": json.Number("0.00"), "measure_id": 1,
		}},
		"debt_amount": json.Number("0.00"), "measure_id": 1, "currency": cur,
	})
}

// bssBalanceAccountID is the stable ID of an account's cash balance.
func bssBalanceAccountID(accountID string) string {
	sum := sha256.Sum256([]byte("balance|" + accountID))
	return hex.EncodeToString(sum[:16])
}
