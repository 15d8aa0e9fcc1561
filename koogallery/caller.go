package koogallery

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// CallerService names the vendor's side in a Caller's *apierror.Error.
const CallerService = "koogallery-vendor"

// maxResponseBytes bounds an answer a Caller reads.
const maxResponseBytes = 1 << 20

// CallerOption configures a Caller or KitCaller.
type CallerOption func(*callerConfig) error

type callerConfig struct {
	hc      *http.Client
	pub     *rsa.PublicKey
	padding RSAPadding
}

// WithCallerHTTPClient sets the HTTP client (default: one with a 5 s
// timeout, KooGallery's).
func WithCallerHTTPClient(hc *http.Client) CallerOption {
	return func(c *callerConfig) error {
		if hc == nil {
			return errors.New("koogallery: HTTP client must not be nil")
		}
		c.hc = hc
		return nil
	}
}

// WithCallerHandler sends every call to h in-process, without a network:
// a vendor's tests call their Handler through the same signing path as over
// HTTP.
func WithCallerHandler(h http.Handler) CallerOption {
	return func(c *callerConfig) error {
		if h == nil {
			return errors.New("koogallery: handler must not be nil")
		}
		c.hc = &http.Client{Transport: handlerTransport{h: h}, Timeout: 5 * time.Second}
		return nil
	}
}

// WithClientSecretPublicKey sets the vendor's public key and padding with
// which a KitCaller encrypts ApplicationSync.ClientSecret. KitCaller only.
func WithClientSecretPublicKey(pub *rsa.PublicKey, padding RSAPadding) CallerOption {
	return func(c *callerConfig) error {
		if pub == nil {
			return errors.New("koogallery: public key must not be nil")
		}
		if padding != PaddingPKCS1v15 && padding != PaddingOAEPSHA256 && padding != PaddingOAEPSHA1 {
			return fmt.Errorf("koogallery: cannot encrypt with padding %s", padding)
		}
		c.pub, c.padding = pub, padding
		return nil
	}
}

// handlerTransport is a RoundTripper that serves each request with a
// handler in-process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		defer func() { _ = r.Body.Close() }()
	}
	w := &memResponse{header: http.Header{}}
	t.h.ServeHTTP(w, r)
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return &http.Response{Status: fmt.Sprintf("%d %s", w.code, http.StatusText(w.code)), StatusCode: w.code,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: w.header, Body: io.NopCloser(&w.body),
		ContentLength: int64(w.body.Len()), Request: r}, nil
}

// memResponse is the http.ResponseWriter of handlerTransport.
type memResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (m *memResponse) Header() http.Header { return m.header }

func (m *memResponse) WriteHeader(code int) {
	if m.code == 0 {
		m.code = code
	}
}

func (m *memResponse) Write(b []byte) (int, error) {
	m.WriteHeader(http.StatusOK)
	return m.body.Write(b)
}

func newCallerConfig(target string, opts []CallerOption) (*url.URL, *callerConfig, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, nil, errors.New("koogallery: invalid URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, nil, fmt.Errorf("koogallery: URL %q must be absolute http(s) without credentials", u.Redacted())
	}
	c := &callerConfig{hc: &http.Client{Timeout: 5 * time.Second}}
	for _, o := range opts {
		if o == nil {
			return nil, nil, errors.New("koogallery: nil option")
		}
		if err := o(c); err != nil {
			return nil, nil, err
		}
	}
	return u, c, nil
}

// Caller plays KooGallery towards a vendor's production interface: it
// signs an activity as KooGallery does and POSTs it. Vendors use it to test
// their Handler (WithCallerHandler); a mock of KooGallery uses it to call
// vendors. It is safe for concurrent use.
type Caller struct {
	url    *url.URL
	signer *Signer
	cfg    *callerConfig
}

// NewCaller returns a Caller for the production address; it makes no call.
func NewCaller(productionURL string, signer *Signer, opts ...CallerOption) (*Caller, error) {
	if signer == nil {
		return nil, errors.New("koogallery: signer must not be nil")
	}
	u, cfg, err := newCallerConfig(productionURL, opts)
	if err != nil {
		return nil, err
	}
	if cfg.pub != nil {
		return nil, errors.New("koogallery: WithClientSecretPublicKey applies to KitCaller only")
	}
	return &Caller{url: u, signer: signer, cfg: cfg}, nil
}

// Send signs and posts a typed activity. The error reports a call that got
// no well-formed answer (*apierror.Error); a vendor's refusal is a Response
// whose ResultCode is not ResultSuccess (see Response.Err).
func (c *Caller) Send(ctx context.Context, a Activity) (*Response, error) {
	body, err := EncodeActivity(a)
	if err != nil {
		return nil, err
	}
	return c.SendBody(ctx, body)
}

// SendBody signs and posts a body as given (any JSON object), for
// activities and fields this package does not type.
func (c *Caller) SendBody(ctx context.Context, body []byte) (*Response, error) {
	sig, err := c.signer.Sign(body)
	if err != nil {
		return nil, err
	}
	u := *c.url
	q := u.Query()
	for k, v := range sig.Query() {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return post(ctx, c.cfg.hc, u.String(), body, nil, operationOf(body))
}

func operationOf(body []byte) string {
	v, err := parseObject(body)
	if err != nil {
		return "call"
	}
	if a, ok := v.get("activity"); ok && a.kind == jsonString {
		return truncate(a.s, maxIDLen)
	}
	return "call"
}

// KitCaller plays KooGallery towards a vendor's joint-operation kit: it
// signs an event with x-sign, x-timestamp and x-nonce and POSTs it to
// <production address>/produceAPI/v2/<interface>. It is safe for
// concurrent use.
type KitCaller struct {
	base   *url.URL
	signer *KitSigner
	cfg    *callerConfig
}

// NewKitCaller returns a KitCaller for the production address (the kit
// paths are added to it); it makes no call.
func NewKitCaller(productionURL string, signer *KitSigner, opts ...CallerOption) (*KitCaller, error) {
	if signer == nil {
		return nil, errors.New("koogallery: kit signer must not be nil")
	}
	u, cfg, err := newCallerConfig(productionURL, opts)
	if err != nil {
		return nil, err
	}
	return &KitCaller{base: u, signer: signer, cfg: cfg}, nil
}

// Send signs and posts a typed kit event; an ApplicationSync's ClientSecret
// is encrypted with the key given by WithClientSecretPublicKey. Errors are
// as for Caller.Send.
func (c *KitCaller) Send(ctx context.Context, ev KitEvent) (*Response, error) {
	if ev == nil {
		return nil, errors.New("koogallery: no kit event to send")
	}
	var enc func(secret.String) (string, error)
	if c.cfg.pub != nil {
		enc = func(s secret.String) (string, error) { return EncryptClientSecret(c.cfg.pub, s, c.cfg.padding) }
	}
	body, err := ev.wireBody(enc)
	if err != nil {
		return nil, err
	}
	return c.SendBody(ctx, ev.KitInterface(), body)
}

// SendBody signs and posts a body as given to the named interface.
func (c *KitCaller) SendBody(ctx context.Context, iface string, body []byte) (*Response, error) {
	if kitInterfaceOf(KitPathPrefix+iface) == "" {
		return nil, fmt.Errorf("%w %q", ErrUnknownKitInterface, iface)
	}
	sig, err := c.signer.Sign(body)
	if err != nil {
		return nil, err
	}
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + KitPathPrefix + iface
	u.RawPath = ""
	return post(ctx, c.cfg.hc, u.String(), body, sig.Header(), iface)
}

func post(ctx context.Context, hc *http.Client, target string, body []byte, header http.Header, op string) (*Response, error) {
	fail := func(status int, msg string, err error) error {
		return &apierror.Error{Service: CallerService, Operation: op, HTTPStatus: status, Message: msg, Err: err}
	}
	if ctx == nil {
		return nil, fail(0, "nil context", errors.New("koogallery: nil context"))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fail(0, "cannot build request", err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fail(0, "", ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL carries the signature
		}
		return nil, fail(0, "", fmt.Errorf("%w: %w", apierror.ErrTransport, err))
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fail(resp.StatusCode, "answer cut short", fmt.Errorf("%w: %w", apierror.ErrTransport, err))
	}
	out, err := decodeResponse(resp.StatusCode, raw)
	if err != nil || out.ResultCode == "" {
		if err == nil {
			err = errors.New("no resultCode")
		}
		return out, fail(resp.StatusCode, "malformed answer", err)
	}
	return out, nil
}
