package koogallery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/truewatch-labs/marketplace-go/secret"
)

// Query parameters of the production interface and headers of the
// joint-operation kit that carry the signature.
const (
	ParamSignature = "signature"
	ParamTimestamp = "timestamp"
	ParamNonce     = "nonce"

	HeaderKitSign      = "x-sign"
	HeaderKitTimestamp = "x-timestamp"
	HeaderKitNonce     = "x-nonce"
)

// BodyHashFunc computes the production interface's inner body hash from
// the access key and the payload; it returns lower-case hex.
type BodyHashFunc func(accessKey, payload []byte) string

// HMACBodyHash is the documented inner hash: lower-case hex of
// HMAC-SHA256 keyed with the access key (the License 2.0 guide states the
// key; the Huawei Java sample uses it). It is the default.
func HMACBodyHash(accessKey, payload []byte) string {
	m := hmac.New(sha256.New, accessKey)
	m.Write(payload)
	return hex.EncodeToString(m.Sum(nil))
}

// SHA256BodyHash is plain lower-case hex SHA-256 of the payload, which one
// third-party implementation uses instead of the HMAC. Unverified against
// KooGallery; available for a listing that signs this way.
func SHA256BodyHash(_, payload []byte) string {
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:])
}

// Signature is the production interface's signature: lower-case hex of
// HMAC-SHA256(accessKey, accessKey + nonce + timestamp + bodyHash).
func Signature(accessKey []byte, nonce, timestamp, bodyHash string) string {
	return hex.EncodeToString(signatureMAC(accessKey, nonce, timestamp, []byte(bodyHash)))
}

// KitSignature is the joint-operation kit's x-sign: lower-case hex of
// HMAC-SHA256(kitKey, kitKey + nonce + timestamp + payload), where payload
// is the canonical body itself (no inner hash).
func KitSignature(kitKey []byte, nonce, timestamp string, payload []byte) string {
	return hex.EncodeToString(signatureMAC(kitKey, nonce, timestamp, payload))
}

func signatureMAC(key []byte, nonce, timestamp string, tail []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(key)
	m.Write([]byte(nonce))
	m.Write([]byte(timestamp))
	m.Write(tail)
	return m.Sum(nil)
}

// NewNonce returns 32 random hex characters from crypto/rand, the shape of
// the nonces in KooGallery's examples.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// SignerOption configures a Signer or KitSigner.
type SignerOption func(*signerConfig) error

type signerConfig struct {
	now      func() time.Time
	nonce    func() string
	form     BodyForms
	bodyHash BodyHashFunc
}

// WithSignerClock sets the clock that stamps signatures (tests, the mock's
// clock).
func WithSignerClock(now func() time.Time) SignerOption {
	return func(c *signerConfig) error {
		if now == nil {
			return errors.New("koogallery: signer clock must not be nil")
		}
		c.now = now
		return nil
	}
}

// WithSignerNonces sets the nonce source (default NewNonce). Nonces must be
// unique: a verifier refuses one it has seen.
func WithSignerNonces(nonce func() string) SignerOption {
	return func(c *signerConfig) error {
		if nonce == nil {
			return errors.New("koogallery: nonce source must not be nil")
		}
		c.nonce = nonce
		return nil
	}
}

// WithSignedForm chooses which rendering of the body the signer covers:
// FormSorted (the default, as KooGallery documents and the Java sample
// verifies), FormSortedStrings or FormRaw. Exactly one form.
func WithSignedForm(form BodyForms) SignerOption {
	return func(c *signerConfig) error {
		if form != FormSorted && form != FormSortedStrings && form != FormRaw {
			return errors.New("koogallery: a signer signs exactly one of FormSorted, FormSortedStrings, FormRaw")
		}
		c.form = form
		return nil
	}
}

// WithSignerBodyHash sets the production interface's inner hash (default
// HMACBodyHash). The kit signer has no inner hash and refuses it.
func WithSignerBodyHash(f BodyHashFunc) SignerOption {
	return func(c *signerConfig) error {
		if f == nil {
			return errors.New("koogallery: body hash must not be nil")
		}
		c.bodyHash = f
		return nil
	}
}

func newSignerConfig(opts []SignerOption) (signerConfig, error) {
	c := signerConfig{now: time.Now, nonce: NewNonce, form: FormSorted}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// Signed is one signature over a body: the values KooGallery sends with it.
type Signed struct {
	Signature string
	Timestamp string // Unix milliseconds
	Nonce     string
	// Payload is the rendering of the body that was signed.
	Payload []byte
}

// Query returns signature, timestamp and nonce as URL query values, as the
// production interface sends them.
func (s Signed) Query() url.Values {
	return url.Values{ParamSignature: {s.Signature}, ParamTimestamp: {s.Timestamp}, ParamNonce: {s.Nonce}}
}

// Header returns x-sign, x-timestamp and x-nonce, as the kit sends them.
func (s Signed) Header() http.Header {
	h := http.Header{}
	h.Set(HeaderKitSign, s.Signature)
	h.Set(HeaderKitTimestamp, s.Timestamp)
	h.Set(HeaderKitNonce, s.Nonce)
	return h
}

// Signer signs production-interface calls as KooGallery does. Use it to
// test a Handler, or to play KooGallery (Caller). It is safe for concurrent
// use.
type Signer struct {
	key secret.String
	cfg signerConfig
}

// NewSigner returns a Signer for the seller's access key (the "Key" made in
// the seller console's key management).
func NewSigner(accessKey secret.String, opts ...SignerOption) (*Signer, error) {
	if err := checkKey(accessKey); err != nil {
		return nil, err
	}
	cfg, err := newSignerConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.bodyHash == nil {
		cfg.bodyHash = HMACBodyHash
	}
	return &Signer{key: accessKey, cfg: cfg}, nil
}

func checkKey(k secret.String) error {
	switch {
	case k.IsZero():
		return errors.New("koogallery: access key is empty")
	case len(k.Reveal()) > 1024:
		return errors.New("koogallery: access key is longer than 1024 bytes")
	}
	return nil
}

// Sign signs body (a JSON object) now, with a fresh nonce.
func (s *Signer) Sign(body []byte) (Signed, error) {
	return s.SignAt(body, s.cfg.now(), s.cfg.nonce())
}

// SignAt signs body with the given time and nonce (tests, fixed vectors).
func (s *Signer) SignAt(body []byte, at time.Time, nonce string) (Signed, error) {
	payload, err := render(s.cfg.form, body)
	if err != nil {
		return Signed{}, err
	}
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	key := []byte(s.key.Reveal())
	return Signed{Signature: Signature(key, nonce, ts, s.cfg.bodyHash(key, payload)),
		Timestamp: ts, Nonce: nonce, Payload: payload}, nil
}

// SignURL returns u with the signature of body added to its query.
func (s *Signer) SignURL(u string, body []byte) (string, error) {
	sig, err := s.Sign(body)
	if err != nil {
		return "", err
	}
	return addQuery(u, sig.Query())
}

func addQuery(u string, q url.Values) (string, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("koogallery: invalid URL: %w", err)
	}
	old := pu.Query()
	for k, vs := range q {
		old[k] = vs
	}
	pu.RawQuery = old.Encode()
	return pu.String(), nil
}

// render returns the rendering of body that form names.
func render(form BodyForms, body []byte) ([]byte, error) {
	if form == FormRaw {
		return body, nil
	}
	v, err := parseObject(body)
	if err != nil {
		return nil, fmt.Errorf("koogallery: cannot sign body: %w", err)
	}
	if form == FormSortedStrings {
		p, ok := canonicalStrings(&v)
		if !ok {
			return nil, errors.New("koogallery: cannot sign body in FormSortedStrings: it has a top-level object or array")
		}
		return p, nil
	}
	return canonicalSorted(&v), nil
}

// KitSigner signs joint-operation kit calls (x-sign, x-timestamp, x-nonce)
// with the kit's key, which is not the production interface's key. It is
// safe for concurrent use.
type KitSigner struct {
	key secret.String
	cfg signerConfig
}

// NewKitSigner returns a KitSigner for the kit's access key.
func NewKitSigner(kitKey secret.String, opts ...SignerOption) (*KitSigner, error) {
	if err := checkKey(kitKey); err != nil {
		return nil, err
	}
	cfg, err := newSignerConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.bodyHash != nil {
		return nil, errors.New("koogallery: the kit signature has no inner body hash")
	}
	return &KitSigner{key: kitKey, cfg: cfg}, nil
}

// Sign signs body (a JSON object) now, with a fresh nonce.
func (s *KitSigner) Sign(body []byte) (Signed, error) {
	return s.SignAt(body, s.cfg.now(), s.cfg.nonce())
}

// SignAt signs body with the given time and nonce.
func (s *KitSigner) SignAt(body []byte, at time.Time, nonce string) (Signed, error) {
	payload, err := render(s.cfg.form, body)
	if err != nil {
		return Signed{}, err
	}
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	return Signed{Signature: KitSignature([]byte(s.key.Reveal()), nonce, ts, payload),
		Timestamp: ts, Nonce: nonce, Payload: payload}, nil
}
