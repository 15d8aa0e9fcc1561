// Package httpcore is the one HTTP core under the billing and workspace
// clients: go-retryablehttp configured deliberately (which failures retry,
// capped and context-aware waits, the last response kept), TrueWatch's
// response envelope, Idempotency-Key handling, and logging without secrets.
package httpcore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/retry"
)

// DefaultUserAgent prefixes every request's User-Agent.
const DefaultUserAgent = "marketplace-go/0.1"

// maxResponseBody caps how much of a response is read.
const maxResponseBody = 8 << 20

// Config configures a Client.
type Config struct {
	Service    string       // "billing" or "workspace": names the API in errors and events
	BaseURL    string       // absolute http(s) URL; the /api/v1 prefix is added by Path
	HTTPClient *http.Client // nil: a client with a 30s timeout
	Logger     *slog.Logger // nil: discard
	Retry      retry.Policy // zero: retry.Default()
	UserAgent  string       // appended after DefaultUserAgent
}

// Client sends requests to one base URL.
type Client struct {
	service   string
	base      *url.URL
	rc        *retryablehttp.Client
	log       *slog.Logger
	policy    retry.Policy
	userAgent string
}

// New validates cfg and builds a Client. It makes no network call.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.BaseURL) == "" {
		return nil, fmt.Errorf("%s: base URL is required", cfg.Service)
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/"))
	if err != nil {
		// url.Error repeats the URL, credentials included: keep the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s: invalid base URL: %w", cfg.Service, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: base URL %q must be absolute http or https", cfg.Service, u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: base URL %q must not contain credentials (calls authenticate with tokens)", cfg.Service, u.Redacted())
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{service: cfg.Service, base: u, log: log, policy: cfg.Retry.Normalize()}
	c.userAgent = DefaultUserAgent
	if cfg.UserAgent != "" {
		c.userAgent += " " + cfg.UserAgent
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = hc
	rc.Logger = nil
	rc.RetryMax = c.policy.MaxRetries
	rc.CheckRetry = c.checkRetry
	// The wait happens inside checkRetry, where the context, the reason and
	// an injectable sleeper are all at hand; retryablehttp itself waits 0.
	rc.Backoff = func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 }
	rc.ErrorHandler = func(resp *http.Response, err error, numTries int) (*http.Response, error) {
		return resp, err
	}
	c.rc = rc
	return c, nil
}

// BaseURL returns the base URL requests go to.
func (c *Client) BaseURL() string { return c.base.String() }

// Request is one logical API call.
type Request struct {
	Operation string     // client method name, for errors, logs and events
	Method    string     // GET or POST
	Path      string     // after the base URL, starting with /api/v1; already escaped (url.PathEscape each segment)
	Query     url.Values // optional
	Body      any        // JSON-encoded when non-nil
	Token     string     // Bearer token; never logged
	// IdempotencyKey is sent as Idempotency-Key. For a POST with an empty key
	// Do generates one, so that the POST can be retried; every attempt of the
	// call carries the same key.
	IdempotencyKey string
	// NoIdempotencyKey keeps a POST without a key (and so without retries
	// that could repeat it), for calls that must never be replayed.
	NoIdempotencyKey bool
}

// CallInfo describes how a call went, for callers that want trace IDs,
// idempotency keys or attempt counts of successful calls too.
type CallInfo struct {
	HTTPStatus     int    // final HTTP status
	TraceID        string // envelope traceId
	RequestID      string // X-Request-Id header
	IdempotencyKey string // the Idempotency-Key sent, if any
	Attempts       int    // HTTP attempts made
	Replayed       bool   // the server replayed a stored response (Idempotent-Replayed: true)
}

// PageInfo is TrueWatch's paging block.
type PageInfo struct {
	Count      int `json:"count"`
	PageIndex  int `json:"pageIndex"`
	PageSize   int `json:"pageSize"`
	TotalCount int `json:"totalCount"`
}

// Envelope is TrueWatch's response envelope.
type Envelope struct {
	Code      int             `json:"code"`
	Content   json.RawMessage `json:"content"`
	PageInfo  *PageInfo       `json:"pageInfo,omitempty"`
	ErrorCode string          `json:"errorCode"`
	Message   string          `json:"message"`
	Success   bool            `json:"success"`
	TraceID   string          `json:"traceId"`
}

type callState struct {
	req      *Request
	attempts int
}

type stateKey struct{}

// Do sends req, retrying per the policy, and decodes the envelope's content
// into out (which may be nil). It returns the page info for list calls.
func (c *Client) Do(ctx context.Context, req Request, out any) (*PageInfo, CallInfo, error) {
	info := CallInfo{}
	if ctx == nil {
		var p apierror.Problems
		p.Add("ctx", "must not be nil")
		return nil, info, p.Err(req.Operation)
	}
	if req.Method == http.MethodPost && req.IdempotencyKey == "" && !req.NoIdempotencyKey {
		req.IdempotencyKey = NewIdempotencyKey()
	}
	info.IdempotencyKey = req.IdempotencyKey
	u, err := c.resolve(req.Path)
	if err != nil {
		return nil, info, c.fail(&req, info, err)
	}
	if len(req.Query) > 0 {
		u.RawQuery = req.Query.Encode()
	}
	var body any
	if req.Body != nil {
		b, err := json.Marshal(req.Body)
		if err != nil {
			return nil, info, c.fail(&req, info, fmt.Errorf("encode request: %w", err))
		}
		body = b
	}
	st := &callState{req: &req}
	ctx = context.WithValue(ctx, stateKey{}, st)
	hr, err := retryablehttp.NewRequestWithContext(ctx, req.Method, u.String(), body)
	if err != nil {
		return nil, info, c.fail(&req, info, err)
	}
	hr.Header.Set("Accept", "application/json")
	if body != nil {
		hr.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	hr.Header.Set("User-Agent", c.userAgent)
	if req.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	if req.IdempotencyKey != "" {
		hr.Header.Set("Idempotency-Key", req.IdempotencyKey)
	}
	start := time.Now()
	resp, err := c.rc.Do(hr)
	info.Attempts = max(st.attempts, 1)
	if err != nil {
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "request failed", slog.String("service", c.service),
			slog.String("op", req.Operation), slog.String("method", req.Method), slog.String("path", req.Path),
			slog.Int("attempts", info.Attempts), slog.String("error", RedactURL(err).Error()))
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return nil, info, c.fail(&req, info, ctxErr)
		}
		return nil, info, c.fail(&req, info, RedactURL(err))
	}
	defer func() { _ = resp.Body.Close() }()
	info.HTTPStatus = resp.StatusCode
	info.RequestID = resp.Header.Get("X-Request-Id")
	info.Replayed = resp.Header.Get("Idempotent-Replayed") == "true"
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		// The answer was cut short: keep what identifies it, and let the
		// error match ErrTransport (and the cause) like a lost connection.
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			err = ctxErr
		} else {
			err = fmt.Errorf("%w: %w", apierror.ErrTransport, err)
		}
		return nil, info, &apierror.Error{Service: c.service, Operation: req.Operation, HTTPStatus: resp.StatusCode,
			RequestID: info.RequestID, Attempts: info.Attempts, Err: fmt.Errorf("read response: %w", err)}
	}
	var env Envelope
	decErr := json.Unmarshal(raw, &env)
	info.TraceID = env.TraceID
	c.log.LogAttrs(ctx, slog.LevelDebug, "request", slog.String("service", c.service),
		slog.String("op", req.Operation), slog.String("method", req.Method), slog.String("path", req.Path),
		slog.Int("status", resp.StatusCode), slog.Int("attempts", info.Attempts),
		slog.String("traceId", env.TraceID), slog.Duration("elapsed", time.Since(start)))
	if resp.StatusCode < 200 || resp.StatusCode > 299 || decErr != nil || !env.Success || env.ErrorCode != "" {
		e := &apierror.Error{Service: c.service, Operation: req.Operation, HTTPStatus: resp.StatusCode,
			Code: env.Code, ErrorCode: env.ErrorCode, Message: env.Message, TraceID: env.TraceID,
			RequestID: info.RequestID, Attempts: info.Attempts, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
		if decErr != nil {
			e.Err = fmt.Errorf("decode response envelope: %w", decErr)
			if e.Message == "" && resp.StatusCode >= 200 && resp.StatusCode < 300 {
				e.Message = "malformed response body"
			} else if e.Message == "" {
				e.Message = http.StatusText(resp.StatusCode)
			}
		} else if e.Message == "" && e.ErrorCode == "" {
			e.Message = http.StatusText(resp.StatusCode)
			if resp.StatusCode >= 200 && resp.StatusCode < 300 {
				e.Message = "response envelope reports failure without an error code"
			}
		}
		return nil, info, e
	}
	if out != nil && len(env.Content) > 0 && string(env.Content) != "null" {
		if err := decodeContent(env.Content, out); err != nil {
			return nil, info, &apierror.Error{Service: c.service, Operation: req.Operation,
				HTTPStatus: resp.StatusCode, Code: env.Code, Message: "malformed response content",
				TraceID: env.TraceID, RequestID: info.RequestID, Attempts: info.Attempts, Err: err}
		}
	}
	return env.PageInfo, info, nil
}

// resolve joins the base URL and an escaped request path. Setting both Path
// and RawPath keeps escapes such as %2F in a path segment intact.
func (c *Client) resolve(escapedPath string) (url.URL, error) {
	u := *c.base
	raw := c.base.EscapedPath() + escapedPath
	p, err := url.PathUnescape(raw)
	if err != nil {
		return u, fmt.Errorf("invalid request path: %w", err)
	}
	u.Path, u.RawPath = p, raw
	return u, nil
}

// decodeContent accepts a list as a bare array or as {"data": [...]}, the two
// shapes TrueWatch's APIs use.
func decodeContent(raw json.RawMessage, out any) error {
	err := json.Unmarshal(raw, out)
	if err == nil {
		return nil
	}
	var wrapped struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(raw, &wrapped) == nil && len(wrapped.Data) > 0 {
		if err2 := json.Unmarshal(wrapped.Data, out); err2 == nil {
			return nil
		}
	}
	return err
}

func (c *Client) fail(req *Request, info CallInfo, err error) error {
	return &apierror.Error{Service: c.service, Operation: req.Operation, Attempts: info.Attempts, Err: err}
}

// checkRetry decides whether to retry and, if so, waits (context-aware,
// through the policy's sleeper) before returning true.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st, _ := ctx.Value(stateKey{}).(*callState)
	if st == nil {
		st = &callState{req: &Request{}}
	}
	st.attempts++
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	reason, retryAfter, retryable, serverActed := classify(resp, err)
	if !retryable {
		return false, nil
	}
	// A POST without an Idempotency-Key is retried only when the answer
	// proves the server did not act on it (rate limited).
	if st.req.Method == http.MethodPost && st.req.IdempotencyKey == "" && serverActed {
		return false, nil
	}
	if st.attempts > c.policy.MaxRetries {
		return false, nil
	}
	wait := c.policy.Backoff(st.attempts, retryAfter)
	c.policy.Notify(ctx, retry.Event{Service: c.service, Operation: st.req.Operation, Attempt: st.attempts, Reason: reason, Wait: wait})
	c.log.LogAttrs(ctx, slog.LevelInfo, "retrying", slog.String("service", c.service),
		slog.String("op", st.req.Operation), slog.Int("attempt", st.attempts), slog.String("reason", reason),
		slog.Duration("wait", wait))
	if werr := c.policy.Wait(ctx, wait); werr != nil {
		return false, werr
	}
	return true, nil
}

// classify reports why an attempt failed, the server's Retry-After, whether
// the failure is retryable, and whether the server may have acted on it.
func classify(resp *http.Response, err error) (reason string, retryAfter time.Duration, retryable, serverActed bool) {
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ue.Err != nil {
			err = ue.Err
		}
		if isPermanentTransportError(err) {
			return err.Error(), 0, false, true
		}
		return "connection error: " + err.Error(), 0, true, true
	}
	if resp == nil {
		return "", 0, false, true
	}
	retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		code := peekErrorCode(resp)
		if code == apierror.CodeCodeResendTooSoon {
			return "", 0, false, true
		}
		return "rate limited (HTTP 429)", retryAfter, true, false
	case http.StatusConflict:
		// The first request with this key is still running, so this
		// attempt did nothing; a later one gets the first answer replayed.
		if peekErrorCode(resp) == apierror.CodeIdempotencyKeyInFlight {
			return "idempotency key in flight (" + apierror.CodeIdempotencyKeyInFlight + ")", retryAfter, true, false
		}
		return "", 0, false, true
	case http.StatusUnauthorized:
		code := peekErrorCode(resp)
		if code == apierror.CodeAkRateLimited || code == apierror.CodeWorkspaceRateLimited {
			return "rate limited (" + code + ")", retryAfter, true, false
		}
		return "", 0, false, true
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return "HTTP " + strconv.Itoa(resp.StatusCode), retryAfter, true, true
	}
	return "", 0, false, true
}

func isPermanentTransportError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"stopped after", "unsupported protocol scheme", "invalid header", "certificate is not trusted", "x509:"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// peekErrorCode reads the envelope's errorCode from the first 64 KiB of the
// body and puts those bytes back in front of the rest, so that the body can
// still be read in full.
func peekErrorCode(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(raw), resp.Body), resp.Body}
	var env struct {
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal(raw, &env)
	return env.ErrorCode
}

func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if strings.Trim(v, "0123456789") == "" {
		// Seconds too many for a Duration mean "a very long time": the
		// longest Duration, which the policy then caps.
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil || s > int64(math.MaxInt64/time.Second) {
			return math.MaxInt64
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// RedactURL drops the query string from URL errors (it could carry
// identifiers users did not expect in logs).
func RedactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

// NewIdempotencyKey returns a random key: "idem_" and 32 hex characters.
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "idem_" + hex.EncodeToString(b[:])
}
