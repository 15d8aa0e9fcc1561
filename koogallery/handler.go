package koogallery

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// Defaults of the handlers.
const (
	// DefaultMaxBodyBytes bounds a request body.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultClaimLease is how long a newInstance claims its order while
	// the vendor answers; after it, a repeat may claim the order again.
	DefaultClaimLease = 2 * time.Minute
	// MaxWindow bounds WithWindow and WithFutureSkew.
	MaxWindow = 15 * time.Minute
	// HeaderBodySign is V1's response signature header, still sent by
	// default (see WithoutBodySign).
	HeaderBodySign = "Body-Sign"
)

// ServerOption configures a Handler or a KitHandler. Options validate their
// input; an option that applies to only one of the two is refused by the
// other's constructor.
type ServerOption func(*serverConfig) error

type serverConfig struct {
	now            func() time.Time
	window, skew   time.Duration
	nonces         NonceStore
	forms          BodyForms
	maxBody        int64
	log            *slog.Logger
	loc            *time.Location
	vendorTimeout  time.Duration
	bodyHash       BodyHashFunc
	instances      InstanceStore
	noIdempotency  bool
	lease          time.Duration
	noBodySign     bool
	privateKey     *rsa.PrivateKey
	padding        RSAPadding
	produceOnly    []string
	kitOnly        []string
	instancesGiven bool
}

func produceOnly(name string, f func(*serverConfig) error) ServerOption {
	return func(c *serverConfig) error {
		c.produceOnly = append(c.produceOnly, name)
		return f(c)
	}
}

func kitOnly(name string, f func(*serverConfig) error) ServerOption {
	return func(c *serverConfig) error {
		c.kitOnly = append(c.kitOnly, name)
		return f(c)
	}
}

// WithClock sets the clock that checks timestamps (and drives the default
// nonce and instance stores).
func WithClock(now func() time.Time) ServerOption {
	return func(c *serverConfig) error {
		if now == nil {
			return errors.New("koogallery: clock must not be nil")
		}
		c.now = now
		return nil
	}
}

// WithWindow sets how old a timestamp may be (default 60 s, as
// documented; at most MaxWindow).
func WithWindow(d time.Duration) ServerOption {
	return func(c *serverConfig) error {
		if d <= 0 || d > MaxWindow {
			return fmt.Errorf("koogallery: window must be in (0, %s]", MaxWindow)
		}
		c.window = d
		return nil
	}
}

// WithFutureSkew sets how far ahead of the clock a timestamp may be
// (default 60 s; 0 refuses any future timestamp; at most MaxWindow).
func WithFutureSkew(d time.Duration) ServerOption {
	return func(c *serverConfig) error {
		if d < 0 || d > MaxWindow {
			return fmt.Errorf("koogallery: future skew must be in [0, %s]", MaxWindow)
		}
		c.skew = d
		return nil
	}
}

// WithNonceStore sets where nonces are remembered (default a
// MemoryNonceStore of DefaultNonceCapacity for this handler).
func WithNonceStore(s NonceStore) ServerOption {
	return func(c *serverConfig) error {
		if s == nil {
			return errors.New("koogallery: nonce store must not be nil")
		}
		c.nonces = s
		return nil
	}
}

// WithBodyForms sets which renderings of the body a signature may cover
// (default: the production interface accepts AllBodyForms, the kit
// FormSorted|FormRaw).
func WithBodyForms(forms BodyForms) ServerOption {
	return func(c *serverConfig) error {
		if forms == 0 || forms&^AllBodyForms != 0 {
			return errors.New("koogallery: body forms must be a non-empty combination of FormSorted, FormSortedStrings, FormRaw")
		}
		c.forms = forms
		return nil
	}
}

// WithMaxBodyBytes bounds a request body (default DefaultMaxBodyBytes).
func WithMaxBodyBytes(n int64) ServerOption {
	return func(c *serverConfig) error {
		if n < 256 || n > 64<<20 {
			return errors.New("koogallery: max body bytes must be between 256 and 64 MiB")
		}
		c.maxBody = n
		return nil
	}
}

// WithLogger sets where refusals and vendor failures are logged (default:
// nowhere). Logs name the activity, the result code and the reason, never
// a key, a signature's expected value or a body.
func WithLogger(l *slog.Logger) ServerOption {
	return func(c *serverConfig) error {
		if l == nil {
			return errors.New("koogallery: logger must not be nil")
		}
		c.log = l
		return nil
	}
}

// WithTimeLocation sets the location of KooGallery's zone-less times
// (expireTime and createTime's yyyyMMddHHmmss; the kit's timeStamp). The
// documentation does not name it; the default is UTC for the production
// interface and UTC+8 for the kit (its V1 page says so).
func WithTimeLocation(loc *time.Location) ServerOption {
	return func(c *serverConfig) error {
		if loc == nil {
			return errors.New("koogallery: location must not be nil")
		}
		c.loc = loc
		return nil
	}
}

// WithVendorTimeout bounds each vendor call (default: the request's own
// context only). KooGallery gives up after 5 seconds.
func WithVendorTimeout(d time.Duration) ServerOption {
	return func(c *serverConfig) error {
		if d <= 0 {
			return errors.New("koogallery: vendor timeout must be positive")
		}
		c.vendorTimeout = d
		return nil
	}
}

// WithBodyHash sets the production interface's inner body hash (default
// HMACBodyHash). Handler only.
func WithBodyHash(f BodyHashFunc) ServerOption {
	return produceOnly("WithBodyHash", func(c *serverConfig) error {
		if f == nil {
			return errors.New("koogallery: body hash must not be nil")
		}
		c.bodyHash = f
		return nil
	})
}

// WithInstanceStore sets the store that makes newInstance idempotent
// (default a MemoryInstanceStore). Handler only.
func WithInstanceStore(s InstanceStore) ServerOption {
	return produceOnly("WithInstanceStore", func(c *serverConfig) error {
		if s == nil {
			return errors.New("koogallery: instance store must not be nil")
		}
		c.instances, c.instancesGiven = s, true
		return nil
	})
}

// WithoutIdempotency hands every newInstance to the vendor, repeats
// included, for a vendor that keeps the order-to-instance mapping itself.
// Handler only.
func WithoutIdempotency() ServerOption {
	return produceOnly("WithoutIdempotency", func(c *serverConfig) error {
		c.noIdempotency = true
		return nil
	})
}

// WithClaimLease sets how long a newInstance holds its order while the
// vendor answers (default DefaultClaimLease). Handler only.
func WithClaimLease(d time.Duration) ServerOption {
	return produceOnly("WithClaimLease", func(c *serverConfig) error {
		if d < time.Second || d > time.Hour {
			return errors.New("koogallery: claim lease must be between 1s and 1h")
		}
		c.lease = d
		return nil
	})
}

// WithoutBodySign leaves out the Body-Sign response header. V1 required it
// (sign_type="HMAC-SHA256", signature="base64(HMAC-SHA256(key, body))");
// V2 does not document it and its sample does not send it. It is sent by
// default because a listing that still checks it needs it and one that
// does not ignores it. Handler only.
func WithoutBodySign() ServerOption {
	return produceOnly("WithoutBodySign", func(c *serverConfig) error {
		c.noBodySign = true
		return nil
	})
}

func newServerConfig(opts []ServerOption, loc *time.Location, forms BodyForms) (*serverConfig, error) {
	c := &serverConfig{now: time.Now, window: DefaultWindow, skew: DefaultFutureSkew, forms: forms,
		maxBody: DefaultMaxBodyBytes, log: slog.New(slog.DiscardHandler), loc: loc, lease: DefaultClaimLease,
		padding: PaddingAuto}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("koogallery: nil option")
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.nonces == nil {
		c.nonces = NewMemoryNonceStore(DefaultNonceCapacity, c.now)
	}
	return c, nil
}

// Handler serves the SaaS production interface V2: KooGallery's POST of a
// JSON activity with signature, timestamp and nonce in the query. It
// verifies the call, decodes the activity, calls the Vendor and answers
// with the result code; see the package documentation for the protocol.
// Every outcome is an HTTP 200 with a resultCode (a method other than POST
// gets 405), never a 5xx.
type Handler struct {
	vendor Vendor
	key    secret.String
	v      verifier
	cfg    *serverConfig
}

// NewHandler returns a Handler for the seller's access key and vendor.
func NewHandler(accessKey secret.String, vendor Vendor, opts ...ServerOption) (*Handler, error) {
	if err := checkKey(accessKey); err != nil {
		return nil, err
	}
	if vendor == nil {
		return nil, errors.New("koogallery: vendor must not be nil")
	}
	cfg, err := newServerConfig(opts, time.UTC, AllBodyForms)
	if err != nil {
		return nil, err
	}
	if len(cfg.kitOnly) > 0 {
		return nil, fmt.Errorf("koogallery: %s applies to KitHandler only", strings.Join(cfg.kitOnly, ", "))
	}
	if cfg.noIdempotency && cfg.instancesGiven {
		return nil, errors.New("koogallery: WithoutIdempotency and WithInstanceStore exclude each other")
	}
	if cfg.instances == nil && !cfg.noIdempotency {
		cfg.instances = NewMemoryInstanceStore(cfg.now)
	}
	if cfg.bodyHash == nil {
		cfg.bodyHash = HMACBodyHash
	}
	h := &Handler{vendor: vendor, key: accessKey, cfg: cfg}
	h.v = verifier{key: []byte(accessKey.Reveal()), forms: cfg.forms, bodyHash: cfg.bodyHash, window: cfg.window,
		skew: cfg.skew, nonces: cfg.nonces, scope: "produce:", now: cfg.now}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, attrs := h.serve(r)
	writeResponse(w, resp, h.bodySign)
	logResult(r.Context(), h.cfg.log, resp, attrs)
}

func (h *Handler) bodySign(body []byte) string {
	if h.cfg.noBodySign {
		return ""
	}
	m := hmac.New(sha256.New, []byte(h.key.Reveal()))
	m.Write(body)
	return `sign_type="HMAC-SHA256", signature="` + base64.StdEncoding.EncodeToString(m.Sum(nil)) + `"`
}

// answer is one response and what to log about it.
type answer struct {
	status int
	body   wireResponse
	reason string // why a refusal or failure happened, for the log
}

func failure(code ResultCode, msg, reason string) answer {
	if reason == "" {
		reason = msg
	}
	return answer{status: http.StatusOK, body: wireResponse{ResultCode: code, ResultMsg: msg}, reason: reason}
}

func fromRefusal(r *refusal) answer { return failure(r.code, r.msg, r.reason) }

func (h *Handler) serve(r *http.Request) (answer, []slog.Attr) {
	raw, tree, ref := readCall(r, h.cfg.maxBody)
	if ref != nil {
		return ref.answer(), nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return failure(ResultInvalidParameter, "malformed query string", ""), nil
	}
	for _, k := range []string{ParamSignature, ParamTimestamp, ParamNonce} {
		if len(q[k]) > 1 {
			return failure(ResultInvalidParameter, k+" given more than once", ""), nil
		}
	}
	if rf := h.v.verify(r.Context(), q.Get(ParamSignature), q.Get(ParamTimestamp), q.Get(ParamNonce), raw, tree); rf != nil {
		return fromRefusal(rf), nil
	}
	a, err := decodeActivity(tree, raw, h.cfg.loc)
	if err != nil {
		return decodeFailure(err), activityAttrs(tree)
	}
	attrs := activityAttrs(tree)
	ctx, cancel := vendorContext(r.Context(), h.cfg.vendorTimeout)
	defer cancel()
	return h.dispatch(ctx, a), attrs
}

// callError is what readCall refuses, before any verification.
type callError struct {
	status int
	msg    string
}

func (e *callError) answer() answer {
	a := failure(ResultInvalidParameter, e.msg, "")
	a.status = e.status
	return a
}

// readCall checks the method, reads the bounded body and parses it.
func readCall(r *http.Request, max int64) ([]byte, *jsonValue, *callError) {
	if r.Method != http.MethodPost {
		return nil, nil, &callError{status: http.StatusMethodNotAllowed, msg: "method must be POST"}
	}
	if r.Body == nil {
		return nil, nil, &callError{status: http.StatusOK, msg: "empty body"}
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	switch {
	case err != nil:
		return nil, nil, &callError{status: http.StatusOK, msg: "body could not be read"}
	case int64(len(raw)) > max:
		return nil, nil, &callError{status: http.StatusOK, msg: fmt.Sprintf("body larger than %d bytes", max)}
	case len(bytes.TrimSpace(raw)) == 0:
		return nil, nil, &callError{status: http.StatusOK, msg: "empty body"}
	}
	tree, err := parseObject(raw)
	if err != nil {
		return nil, nil, &callError{status: http.StatusOK, msg: "body is not a well-formed JSON object: " + err.Error()}
	}
	return raw, &tree, nil
}

func decodeFailure(err error) answer {
	var ve *apierror.ValidationError
	var ke *Error
	switch {
	case errors.Is(err, ErrUnknownActivity):
		return failure(ResultInvalidParameter, strings.TrimPrefix(err.Error(), "koogallery: "), "")
	case errors.As(err, &ve):
		return failure(ResultInvalidParameter, ve.Error(), "")
	case errors.As(err, &ke):
		return failure(ke.Code, ke.Message, "")
	}
	return failure(ResultInvalidParameter, err.Error(), "")
}

func vendorContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return context.WithCancel(ctx)
}

// activityAttrs names the call in logs: its activity and IDs, no personal
// data.
func activityAttrs(tree *jsonValue) []slog.Attr {
	var attrs []slog.Attr
	for _, k := range []string{"activity", "instanceId", "orderId", "orderLineId", "tenantId", "appId"} {
		if v, ok := tree.get(k); ok && v.kind == jsonString {
			attrs = append(attrs, slog.String(k, truncate(v.s, 128)))
		}
	}
	return attrs
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// safeCall runs a vendor method, turning a panic into ErrInternal.
func safeCall(log *slog.Logger, activity string, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("vendor panicked", slog.String("activity", activity), slog.Any("panic", p),
				slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("%w: vendor panicked", ErrInternal)
		}
	}()
	return fn()
}

func vendorAnswer(activity string, err error) answer {
	code, msg := resultFor(activity, err)
	a := answer{status: http.StatusOK, body: wireResponse{ResultCode: code, ResultMsg: msg}}
	if err != nil {
		a.reason = err.Error()
	}
	return a
}

func (h *Handler) dispatch(ctx context.Context, a Activity) answer {
	name := a.ActivityName()
	var err error
	call := func(fn func() error) { err = safeCall(h.cfg.log, name, fn) }
	switch r := a.(type) {
	case *NewInstanceRequest:
		return h.newInstance(ctx, r)
	case *QueryInstanceRequest:
		var infos []InstanceInfo
		call(func() (e error) { infos, e = h.vendor.QueryInstances(ctx, r); return })
		if err != nil {
			return vendorAnswer(name, err)
		}
		out := vendorAnswer(name, nil)
		list := make([]wireInstanceInfo, 0, len(infos))
		for _, in := range infos {
			list = append(list, wireInstanceInfo{InstanceID: in.InstanceID, AppInfo: toWireAppInfo(in.AppInfo)})
		}
		out.body.Info = &list
		return out
	case *RefreshInstanceRequest:
		call(func() error { return h.vendor.RefreshInstance(ctx, r) })
	case *UpdateInstanceStatusRequest:
		call(func() error { return h.vendor.UpdateInstanceStatus(ctx, r) })
	case *ReleaseInstanceRequest:
		call(func() error { return h.vendor.ReleaseInstance(ctx, r) })
	case *UpgradeInstanceRequest:
		call(func() error { return h.vendor.UpgradeInstance(ctx, r) })
	case *ChangeInstanceCheckRequest:
		call(func() error { return h.vendor.ChangeInstanceCheck(ctx, r) })
	case *OrderNotifyRequest:
		call(func() error { return h.vendor.OrderNotify(ctx, r) })
	case *ExpireInstanceRequest:
		call(func() error { return h.vendor.ExpireInstance(ctx, r) })
	}
	return vendorAnswer(name, err)
}

// newInstance answers a repeat from the store and calls the vendor once
// per order otherwise.
func (h *Handler) newInstance(ctx context.Context, r *NewInstanceRequest) answer {
	store := h.cfg.instances
	key := r.OrderKey()
	var token string
	if store != nil {
		rec, tok, err := store.Claim(ctx, key, h.cfg.lease)
		switch {
		case errors.Is(err, ErrClaimed):
			return failure(ResultProcessing, ResultProcessing.defaultMessage(), "another newInstance for the order is in progress")
		case err != nil:
			return failure(ResultInternalError, "internal error", "instance store: "+err.Error())
		case rec != nil:
			out := newInstanceAnswer(*rec)
			out.reason = "repeat answered from the instance store"
			return out
		}
		token = tok
	}
	var res *NewInstanceResult
	err := safeCall(h.cfg.log, ActivityNewInstance, func() (e error) { res, e = h.vendor.NewInstance(ctx, r); return })
	if err == nil {
		err = checkNewInstanceResult(res)
	}
	// The store is updated even if KooGallery hung up meanwhile: the
	// vendor acted, and the next repeat must see it.
	bg := context.WithoutCancel(ctx)
	if err != nil {
		if store != nil {
			if rerr := store.Release(bg, key, token); rerr != nil {
				h.cfg.log.Warn("instance store release failed", slog.String("error", rerr.Error()))
			}
		}
		return vendorAnswer(ActivityNewInstance, err)
	}
	rec := InstanceRecord{InstanceID: res.InstanceID, AppInfo: res.AppInfo, Test: r.Test, Created: h.cfg.now()}
	if store != nil {
		final, cerr := store.Complete(bg, key, token, rec)
		if cerr != nil {
			return failure(ResultInternalError, "internal error", "instance store: "+cerr.Error())
		}
		rec = final
	}
	return newInstanceAnswer(rec)
}

func newInstanceAnswer(rec InstanceRecord) answer {
	a := vendorAnswer(ActivityNewInstance, nil)
	a.body.InstanceID, a.body.AppInfo = rec.InstanceID, toWireAppInfo(rec.AppInfo)
	return a
}

// checkNewInstanceResult refuses an answer KooGallery would reject, so the
// mistake shows in the vendor's tests and logs.
func checkNewInstanceResult(res *NewInstanceResult) error {
	switch {
	case res == nil:
		return fmt.Errorf("%w: vendor returned no result for newInstance", ErrInternal)
	case strings.TrimSpace(res.InstanceID) == "" || len(res.InstanceID) > maxIDLen || !printableASCII(res.InstanceID):
		return fmt.Errorf("%w: vendor returned an instance ID that is empty, longer than %d or not printable ASCII", ErrInternal, maxIDLen)
	case res.AppInfo.FrontEndURL == "" || len(res.AppInfo.FrontEndURL) > maxURLLen:
		return fmt.Errorf("%w: vendor returned no frontEndUrl, or one longer than %d", ErrInternal, maxURLLen)
	}
	return nil
}

// writeResponse writes the JSON answer; sign, when non-nil, supplies the
// Body-Sign header.
func writeResponse(w http.ResponseWriter, a answer, sign func([]byte) string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(a.body) // wireResponse always encodes
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	if a.status == http.StatusMethodNotAllowed {
		h.Set("Allow", http.MethodPost)
	}
	if sign != nil {
		if v := sign(body); v != "" {
			h.Set(HeaderBodySign, v)
		}
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(body)
}

func logResult(ctx context.Context, log *slog.Logger, a answer, attrs []slog.Attr) {
	level := slog.LevelDebug
	switch a.body.ResultCode {
	case ResultSuccess:
	case ResultAuthFailed, ResultInvalidParameter:
		level = slog.LevelWarn
	case ResultInternalError:
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	attrs = append(attrs, slog.String("resultCode", string(a.body.ResultCode)))
	if a.reason != "" {
		attrs = append(attrs, slog.String("reason", a.reason))
	}
	log.LogAttrs(ctx, level, "koogallery call", attrs...)
}
