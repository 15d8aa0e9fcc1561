// Package httpcore is the one HTTP core under every client of this module:
// retries through go-retryablehttp used as designed (Retrier: which
// failures retry, capped and context-aware waits, the last response kept),
// shared with the huawei package through Retrier.Transport; and, for the
// billing and workspace clients (Client), TrueWatch's response envelope,
// Idempotency-Key handling, and logging without secrets.
package httpcore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	marketplace "github.com/truewatch-labs/marketplace-go"
	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/retry"
)

// DefaultUserAgent prefixes every request's User-Agent: the module's name
// and version.
const DefaultUserAgent = marketplace.UserAgent

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
	// Telemetry receives a span and a duration for every HTTP attempt, and
	// counts retries; zero: the global providers.
	Telemetry telemetry.Providers
}

// Client sends requests to one base URL.
type Client struct {
	service   string
	base      *url.URL
	retrier   *Retrier
	log       *slog.Logger
	userAgent string
}

// ParseBaseURL checks a service's base URL as New does: absolute http or
// https, without credentials; a trailing slash is dropped. Errors never
// repeat a password the URL holds.
func ParseBaseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("base URL is required")
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
	if err != nil {
		// url.Error repeats the URL, credentials included: keep the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q must be absolute http or https", u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("base URL %q must not contain credentials (calls authenticate with tokens)", u.Redacted())
	}
	return u, nil
}

// New validates cfg and builds a Client. It makes no network call.
func New(cfg Config) (*Client, error) {
	u, err := ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{service: cfg.Service, base: u, log: log, retrier: NewRetrier(cfg.Service, hc, cfg.Retry, log, Rules{}, cfg.Telemetry)}
	c.userAgent = DefaultUserAgent
	if cfg.UserAgent != "" {
		c.userAgent += " " + cfg.UserAgent
	}
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
	// PrepareAttempt, when set, is called before every attempt, the first
	// included, with the request about to be sent (its headers set, its
	// body rewound), to add what must be fresh on each attempt, such as a
	// signature over the attempt's time. Retries run it through
	// go-retryablehttp's PrepareRetry, after the wait. An error ends the
	// call with that error; nothing more is sent.
	PrepareAttempt func(*http.Request) error
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

// directEnvelope is Envelope with its content decoded into the value
// Content points to, in the same pass as the rest.
type directEnvelope struct {
	Code      int       `json:"code"`
	Content   any       `json:"content"`
	PageInfo  *PageInfo `json:"pageInfo,omitempty"`
	ErrorCode string    `json:"errorCode"`
	Message   string    `json:"message"`
	Success   bool      `json:"success"`
	TraceID   string    `json:"traceId"`
}

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
	a := c.retrier.newAttempts(ctx, req.Operation, req.Method != http.MethodPost || req.IdempotencyKey != "")
	if req.PrepareAttempt != nil {
		a.prepare = req.PrepareAttempt
		if err := req.PrepareAttempt(hr.Request); err != nil {
			return nil, info, c.fail(&req, info, err)
		}
	}
	start := time.Now()
	resp, err := a.rc.Do(hr)
	info.Attempts = max(a.n, 1)
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
	var decErr error
	decoded := false
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 && isValuePointer(out) {
		// The usual answer in one pass: the envelope with its content
		// straight into out. Anything else (a failure, content that does
		// not fit) takes the path below, which says what went wrong.
		d := directEnvelope{Content: out}
		if json.Unmarshal(raw, &d) == nil && d.Success && d.ErrorCode == "" {
			env = Envelope{Code: d.Code, PageInfo: d.PageInfo, ErrorCode: d.ErrorCode, Message: d.Message,
				Success: d.Success, TraceID: d.TraceID}
			decoded = true
		} else {
			reflect.ValueOf(out).Elem().SetZero()
		}
	}
	if !decoded {
		decErr = json.Unmarshal(raw, &env)
	}
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
				e.Err = fmt.Errorf("%w: %w", apierror.ErrMalformedResponse, e.Err)
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
	if !decoded && out != nil && len(env.Content) > 0 && string(env.Content) != "null" {
		if err := decodeContent(env.Content, out); err != nil {
			return nil, info, &apierror.Error{Service: c.service, Operation: req.Operation,
				HTTPStatus: resp.StatusCode, Code: env.Code, Message: "malformed response content",
				TraceID: env.TraceID, RequestID: info.RequestID, Attempts: info.Attempts,
				Err: fmt.Errorf("%w: %w", apierror.ErrMalformedResponse, err)}
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
// shapes TrueWatch's APIs use. A list in {"data": ...} is decoded in one
// pass, straight into out.
func decodeContent(raw json.RawMessage, out any) error {
	if isSlicePointer(out) && firstByte(raw) == '{' {
		wrapped := struct {
			Data any `json:"data"`
		}{Data: out}
		if json.Unmarshal(raw, &wrapped) == nil {
			return nil
		}
	}
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

// isValuePointer reports whether v is a non-nil pointer to anything but a
// slice (a list, which may come wrapped: decodeContent).
func isValuePointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() != reflect.Slice
}

func isSlicePointer(v any) bool {
	t := reflect.TypeOf(v)
	return t != nil && t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Slice
}

func firstByte(raw []byte) byte {
	for _, c := range raw {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c
		}
	}
	return 0
}

func (c *Client) fail(req *Request, info CallInfo, err error) error {
	return &apierror.Error{Service: c.service, Operation: req.Operation, Attempts: info.Attempts, Err: err}
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
