package koogallery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// OpenAPIService names KooGallery's seller Open API in *apierror.Error.
const OpenAPIService = "koogallery-openapi"

// The Open API's hosts per site. The Chinese mainland host has a fallback,
// used when it cannot be reached (KooGallery's own advice).
const (
	EndpointInternational = "https://mkt-intl.myhuaweicloud.com"
	EndpointEurope        = "https://mkt.myhuaweicloud.eu"
	EndpointChina         = "https://mkt.myhuaweicloud.com"
	EndpointChinaFallback = "https://mkt.myhuaweicloud.cn"
)

// QueryOrderPath is the query-order API's path.
const QueryOrderPath = "/api/mkp-openapi-public/global/v1/order/query"

// OpenAPISuccess is the Open API's success resultCode.
const OpenAPISuccess = "MKT.0000"

// Site selects the Open API's hosts.
type Site int

// The sites.
const (
	SiteInternational Site = iota
	SiteEurope
	SiteChina
)

// OpenAPIOption configures an OpenAPIClient. Options validate their input
// and NewOpenAPIClient returns the first error.
type OpenAPIOption func(*openAPIConfig) error

type openAPIConfig struct {
	endpoints []string
	hc        *http.Client
	policy    retry.Policy
	log       *slog.Logger
	now       func() time.Time
}

// WithSite picks the hosts of a site (default SiteInternational).
func WithSite(s Site) OpenAPIOption {
	return func(c *openAPIConfig) error {
		switch s {
		case SiteInternational:
			c.endpoints = []string{EndpointInternational}
		case SiteEurope:
			c.endpoints = []string{EndpointEurope}
		case SiteChina:
			c.endpoints = []string{EndpointChina, EndpointChinaFallback}
		default:
			return fmt.Errorf("koogallery: unknown site %d", int(s))
		}
		return nil
	}
}

// WithOpenAPIEndpoint sends calls to endpoint (scheme and host, no path;
// a mock server), then to each fallback in turn when a host cannot be
// reached or answers 502, 503 or 504.
func WithOpenAPIEndpoint(endpoint string, fallbacks ...string) OpenAPIOption {
	return func(c *openAPIConfig) error {
		eps := append([]string{endpoint}, fallbacks...)
		for i, e := range eps {
			u, err := url.Parse(strings.TrimRight(e, "/"))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
				u.Path != "" || u.RawQuery != "" {
				return fmt.Errorf("koogallery: Open API endpoint %q must be http(s)://host[:port] without a path", e)
			}
			eps[i] = u.String()
		}
		c.endpoints = eps
		return nil
	}
}

// WithOpenAPIHTTPClient sets the HTTP client (default: 30 s timeout).
func WithOpenAPIHTTPClient(hc *http.Client) OpenAPIOption {
	return func(c *openAPIConfig) error {
		if hc == nil {
			return errors.New("koogallery: HTTP client must not be nil")
		}
		c.hc = hc
		return nil
	}
}

// WithOpenAPIRetry sets the retry policy (default retry.Default()). Every
// Open API call here is a GET, so connection errors, rate limits (429,
// 406 CBC.0250) and 502/503/504 are retried.
func WithOpenAPIRetry(p retry.Policy) OpenAPIOption {
	return func(c *openAPIConfig) error {
		c.policy = p
		return nil
	}
}

// WithOpenAPILogger logs retries and failures (default: nowhere); never
// the AK/SK or the signature.
func WithOpenAPILogger(l *slog.Logger) OpenAPIOption {
	return func(c *openAPIConfig) error {
		if l == nil {
			return errors.New("koogallery: logger must not be nil")
		}
		c.log = l
		return nil
	}
}

// WithOpenAPIClock sets the clock that dates signatures (X-Sdk-Date).
func WithOpenAPIClock(now func() time.Time) OpenAPIOption {
	return func(c *openAPIConfig) error {
		if now == nil {
			return errors.New("koogallery: clock must not be nil")
		}
		c.now = now
		return nil
	}
}

// OpenAPIClient calls KooGallery's seller Open API with the seller's
// Huawei Cloud AK/SK, each request signed by the official Huawei SDK's
// SDK-HMAC-SHA256 signer. The constructor makes no call; the client is
// safe for concurrent use.
type OpenAPIClient struct {
	ak  string
	sk  secret.String
	cfg openAPIConfig
}

// NewOpenAPIClient returns a client for the seller's AK/SK.
func NewOpenAPIClient(ak string, sk secret.String, opts ...OpenAPIOption) (*OpenAPIClient, error) {
	if ak == "" || len(ak) > 128 || !printableASCII(ak) {
		return nil, errors.New("koogallery: access key must be 1 to 128 printable ASCII characters")
	}
	if sk.IsZero() {
		return nil, errors.New("koogallery: secret key is empty")
	}
	c := openAPIConfig{endpoints: []string{EndpointInternational}, hc: &http.Client{Timeout: 30 * time.Second},
		policy: retry.Default(), log: slog.New(slog.DiscardHandler), now: time.Now}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("koogallery: nil option")
		}
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	c.policy = c.policy.Normalize()
	return &OpenAPIClient{ak: ak, sk: sk, cfg: c}, nil
}

// Order is an order as the query-order API returns it. KooGallery's field
// table for OrderInfo is not public in full; the fields named here are
// those its examples and the inline newInstance shape show, and Raw holds
// the orderInfo object as received. Times are kept as received.
type Order struct {
	OrderID      string      `json:"orderId"`
	OrderType    string      `json:"orderType,omitempty"`
	OrderAmount  json.Number `json:"orderAmount,omitempty"`
	CreateTime   string      `json:"createTime,omitempty"`
	CustomerID   string      `json:"customerId,omitempty"`
	CustomerName string      `json:"customerName,omitempty"`
	UserID       string      `json:"userId,omitempty"`
	UserName     string      `json:"userName,omitempty"`
	MobilePhone  string      `json:"mobilePhone,omitempty"`
	Email        string      `json:"email,omitempty"`
	Lines        []OrderLine `json:"orderLine,omitempty"`
	// Raw is the orderInfo object as received.
	Raw json.RawMessage `json:"-"`
}

// OrderLine is one line of an order.
type OrderLine struct {
	OrderLineID  string        `json:"orderLineId"`
	ChargingMode string        `json:"chargingMode,omitempty"`
	PeriodType   string        `json:"periodType,omitempty"`
	PeriodNumber json.Number   `json:"periodNumber,omitempty"`
	CreateTime   string        `json:"createTime,omitempty"`
	ExpireTime   string        `json:"expireTime,omitempty"`
	Products     []ProductInfo `json:"productInfo,omitempty"`
}

// QueryOrder returns an order (GET .../order/query?orderId=&orderLineId=);
// orderLineID may be empty. KooGallery's debugging orders
// (MOCKPERIODYEARNEW and the others) work with real credentials.
//
// Errors are *apierror.Error with Service OpenAPIService: ErrorCode is the
// Open API's code (CBC.0150 illegal operation, CBC.0151 no authority,
// CBC.0154 illegal token, CBC.0250 rate limited, MKT.9001 / CBC.9001 not
// found, ...), and errors.Is matches apierror.ErrUnauthorized,
// ErrForbidden, ErrNotFound, ErrRateLimited, ErrServer and ErrTransport.
func (c *OpenAPIClient) QueryOrder(ctx context.Context, orderID, orderLineID string) (*Order, error) {
	const op = "QueryOrder"
	var p apierror.Problems
	if ctx == nil {
		p.Add("ctx", "must not be nil")
	}
	switch {
	case strings.TrimSpace(orderID) == "":
		p.Add("orderId", "is required")
	case len(orderID) > maxIDLen || !printableASCII(orderID):
		p.Add("orderId", "must be at most %d printable ASCII characters", maxIDLen)
	}
	if len(orderLineID) > maxIDLen || (orderLineID != "" && !printableASCII(orderLineID)) {
		p.Add("orderLineId", "must be at most %d printable ASCII characters", maxIDLen)
	}
	if err := p.Err(op); err != nil {
		return nil, err
	}
	q := [][2]string{{"orderId", orderID}}
	if orderLineID != "" {
		q = append(q, [2]string{"orderLineId", orderLineID})
	}
	var body struct {
		ResultCode string          `json:"resultCode"`
		ResultMsg  string          `json:"resultMsg"`
		OrderInfo  json.RawMessage `json:"orderInfo"`
	}
	res, err := c.get(ctx, op, QueryOrderPath, q)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(res.body, &body); err != nil || len(body.OrderInfo) == 0 || string(body.OrderInfo) == "null" {
		return nil, &apierror.Error{Service: OpenAPIService, Operation: op, HTTPStatus: res.status, ErrorCode: body.ResultCode,
			Message: "malformed response body: no orderInfo", RequestID: res.requestID, Attempts: res.attempts, Err: err}
	}
	var o Order
	if err := json.Unmarshal(body.OrderInfo, &o); err != nil {
		return nil, &apierror.Error{Service: OpenAPIService, Operation: op, HTTPStatus: res.status,
			Message: "malformed orderInfo", RequestID: res.requestID, Attempts: res.attempts, Err: err}
	}
	o.Raw = body.OrderInfo
	return &o, nil
}

type openAPIResult struct {
	status    int
	body      []byte
	requestID string
	attempts  int
}

// get signs and sends one GET per attempt (a fresh X-Sdk-Date each time),
// moving to the next endpoint after a connection error or a 502/503/504.
func (c *OpenAPIClient) get(ctx context.Context, op, path string, query [][2]string) (*openAPIResult, error) {
	ep := 0
	for attempt := 1; ; attempt++ {
		res, reason, retryable, err := c.attempt(ctx, op, c.cfg.endpoints[ep], path, query)
		if err == nil {
			res.attempts = attempt
			return res, nil
		}
		var ae *apierror.Error
		if errors.As(err, &ae) {
			ae.Attempts = attempt
		}
		if !retryable || attempt > c.cfg.policy.MaxRetries || ctx.Err() != nil {
			return nil, err
		}
		if ae != nil && (ae.HTTPStatus == 0 || ae.HTTPStatus >= 502) {
			ep = (ep + 1) % len(c.cfg.endpoints)
		}
		retryAfter := time.Duration(0)
		if ae != nil {
			retryAfter = ae.RetryAfter
		}
		wait := c.cfg.policy.Backoff(attempt, retryAfter)
		c.cfg.policy.Notify(ctx, retry.Event{Service: OpenAPIService, Operation: op, Attempt: attempt, Reason: reason, Wait: wait})
		c.cfg.log.LogAttrs(ctx, slog.LevelInfo, "retrying", slog.String("service", OpenAPIService), slog.String("op", op),
			slog.Int("attempt", attempt), slog.String("reason", reason), slog.Duration("wait", wait))
		if werr := c.cfg.policy.Wait(ctx, wait); werr != nil {
			return nil, &apierror.Error{Service: OpenAPIService, Operation: op, Attempts: attempt, Err: werr}
		}
	}
}

func (c *OpenAPIClient) attempt(ctx context.Context, op, endpoint, path string, query [][2]string) (*openAPIResult, string, bool, error) {
	fail := func(status int, err error) *apierror.Error {
		return &apierror.Error{Service: OpenAPIService, Operation: op, HTTPStatus: status, Err: err}
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, "", false, fail(0, err)
	}
	b := request.NewHttpRequestBuilder().WithEndpoint(endpoint).WithPath(path).WithMethod(http.MethodGet).
		AddHeaderParam("Content-Type", "application/json;charset=UTF-8").
		AddHeaderParam("Host", u.Host).
		AddHeaderParam(signer.HeaderXDate, c.cfg.now().UTC().Format(signer.BasicDateFormat))
	vals := url.Values{}
	for _, kv := range query {
		// The SDK's signer reads query values as reflect.Value.
		b.AddQueryParam(kv[0], reflect.ValueOf(kv[1]))
		vals.Set(kv[0], kv[1])
	}
	sdkReq := b.Build()
	signed, err := signer.Sign(sdkReq, c.ak, c.sk.Reveal())
	if err != nil {
		return nil, "", false, fail(0, fmt.Errorf("sign request: %w", err))
	}
	target := endpoint + path
	if len(vals) > 0 {
		target += "?" + strings.ReplaceAll(vals.Encode(), "+", "%20")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, "", false, fail(0, err)
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	for k, v := range signed {
		req.Header.Set(k, v)
	}
	resp, err := c.cfg.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", false, fail(0, ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var ne net.Error
		retryable := errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		return nil, "connection error: " + err.Error(), retryable, fail(0, fmt.Errorf("%w: %w", apierror.ErrTransport, err))
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	requestID := resp.Header.Get("X-Request-Id")
	if err != nil {
		e := fail(resp.StatusCode, fmt.Errorf("%w: read response: %w", apierror.ErrTransport, err))
		e.RequestID = requestID
		return nil, "answer cut short", true, e
	}
	var env struct {
		ResultCode string `json:"resultCode"`
		ResultMsg  string `json:"resultMsg"`
		ErrorCode  string `json:"error_code"`
		ErrorMsg   string `json:"error_msg"`
	}
	decErr := json.Unmarshal(raw, &env)
	code, msg := env.ResultCode, env.ResultMsg
	if code == "" {
		code, msg = env.ErrorCode, env.ErrorMsg
	}
	if resp.StatusCode == http.StatusOK && decErr == nil && code == OpenAPISuccess {
		return &openAPIResult{status: resp.StatusCode, body: raw, requestID: requestID}, "", false, nil
	}
	e := &apierror.Error{Service: OpenAPIService, Operation: op, HTTPStatus: resp.StatusCode, ErrorCode: code,
		Message: msg, RequestID: requestID, RetryAfter: retryAfterOf(resp.Header.Get("Retry-After"))}
	if decErr != nil {
		e.Message, e.Err = "malformed response body", decErr
	} else if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || code == apierror.CodeMarketplaceRateLimited || code == apierror.CodeHuaweiThrottled:
		return nil, "rate limited (" + strconv.Itoa(resp.StatusCode) + " " + code + ")", true, e
	case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout:
		return nil, "HTTP " + strconv.Itoa(resp.StatusCode), true, e
	}
	return nil, "", false, e
}

func retryAfterOf(v string) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}
