package koogallery

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// KitPathPrefix is where the joint-operation kit's interfaces live below
// the production address: KooGallery POSTs to
// <production address>/produceAPI/v2/<interface>.
const KitPathPrefix = "/produceAPI/v2/"

// The kit's interfaces, the last segment of their path.
const (
	KitTenantSync      = "tenantSync"
	KitApplicationSync = "applicationSync"
	KitAuthSync        = "authSync"
	KitSingleOrgSync   = "singleOrgSync"
	KitAllOrgSync      = "allOrgSync"
)

// UTC8 is the default location of the kit's timeStamp (its V1 page says
// UTC+8).
var UTC8 = time.FixedZone("UTC+8", 8*3600)

// SyncFlag says what a kit event does.
type SyncFlag int

// The flags. FlagCancelAuth exists for authSync only.
const (
	FlagDelete     SyncFlag = 0
	FlagAdd        SyncFlag = 1
	FlagModify     SyncFlag = 2
	FlagCancelAuth SyncFlag = 3
)

func (f SyncFlag) String() string {
	switch f {
	case FlagDelete:
		return "delete"
	case FlagAdd:
		return "add"
	case FlagModify:
		return "modify"
	case FlagCancelAuth:
		return "cancel authorization"
	}
	return fmt.Sprintf("SyncFlag(%d)", int(f))
}

// KitEvent is a typed joint-operation kit call; KitCaller sends one.
type KitEvent interface {
	// KitInterface is the last segment of the event's path.
	KitInterface() string
	wireBody(enc func(secret.String) (string, error)) ([]byte, error)
}

// TenantSync is an enterprise (tenant) created, changed or deleted by the
// buyer (tenantSync). DomainName is the tenant's unified-login domain
// (NewLoginClient), TenantCode its login identifier.
type TenantSync struct {
	InstanceID string
	OrderID    string
	TenantID   string
	TenantCode string
	Name       string
	DomainName string
	Flag       SyncFlag // FlagDelete, FlagAdd, FlagModify (name or domain)
	Test       bool
	TimeStamp  time.Time
	Raw        json.RawMessage
}

// KitInterface implements KitEvent.
func (*TenantSync) KitInterface() string { return KitTenantSync }

// ApplicationSync delivers the OAuth2 credentials of the vendor's
// application in a tenant (applicationSync). ClientSecret is decrypted
// with the vendor's private key (WithClientSecretKey).
type ApplicationSync struct {
	InstanceID string
	AppID      string
	TenantID   string
	ClientID   string
	// ClientSecret is the decrypted secret; EncryptedClientSecret the
	// value as received. Both are empty when the event carries none
	// (deletion).
	ClientSecret          secret.String
	EncryptedClientSecret string
	Flag                  SyncFlag
	Test                  bool
	TimeStamp             time.Time
	Raw                   json.RawMessage
}

// KitInterface implements KitEvent.
func (*ApplicationSync) KitInterface() string { return KitApplicationSync }

// AuthSync authorizes members for the application, changes them, or
// withdraws them (authSync).
type AuthSync struct {
	InstanceID string
	TenantID   string
	AppID      string
	Users      []KitUser
	// CurrentSyncTime is passed through as received; its format is not
	// documented.
	CurrentSyncTime string
	Flag            SyncFlag // FlagDelete, FlagAdd, FlagModify, FlagCancelAuth
	Test            bool
	TimeStamp       time.Time
	Raw             json.RawMessage
}

// KitInterface implements KitEvent.
func (*AuthSync) KitInterface() string { return KitAuthSync }

// KitUser is one member in authSync's userList.
type KitUser struct {
	UserName     string `json:"userName"`
	Name         string `json:"name"`
	Position     string `json:"position,omitempty"`
	OrgCode      string `json:"orgCode,omitempty"`
	Role         string `json:"role,omitempty"` // "admin" or "user"
	Enable       bool   `json:"enable"`
	EmployeeCode string `json:"employeeCode,omitempty"`
	EmployeeType string `json:"employeeType,omitempty"`
	// Extension is the member's extension object as received.
	Extension json.RawMessage `json:"extension,omitempty"`
}

// SingleOrgSync is one department created, changed or deleted
// (singleOrgSync). Its field names are not documented publicly; the ones
// read here follow allOrgSync's orgInfo, and Raw has the rest.
type SingleOrgSync struct {
	InstanceID string
	TenantID   string
	OrgCode    string
	Name       string
	ParentCode string
	Flag       SyncFlag
	Test       bool
	TimeStamp  time.Time
	Raw        json.RawMessage
}

// KitInterface implements KitEvent.
func (*SingleOrgSync) KitInterface() string { return KitSingleOrgSync }

// AllOrgSync is the tenant's whole department tree (allOrgSync).
type AllOrgSync struct {
	InstanceID string
	TenantID   string
	Orgs       []Org
	Test       bool
	TimeStamp  time.Time
	Raw        json.RawMessage
}

// KitInterface implements KitEvent.
func (*AllOrgSync) KitInterface() string { return KitAllOrgSync }

// Org is one department.
type Org struct {
	OrgCode    string `json:"orgCode"`
	Name       string `json:"name"`
	ParentCode string `json:"parentCode,omitempty"`
}

// KitVendor is the seller's side of the joint-operation kit, one method
// per interface. Every method must be idempotent: a repeated add or delete
// succeeds. Errors map to result codes as for Vendor. Embed
// UnimplementedKitVendor to implement only some.
type KitVendor interface {
	TenantSync(ctx context.Context, ev *TenantSync) error
	ApplicationSync(ctx context.Context, ev *ApplicationSync) error
	AuthSync(ctx context.Context, ev *AuthSync) error
	SingleOrgSync(ctx context.Context, ev *SingleOrgSync) error
	AllOrgSync(ctx context.Context, ev *AllOrgSync) error
}

// UnimplementedKitVendor returns ErrNotImplemented (000005) for the
// tenant, application and authorization events, which a joint-operation
// product cannot ignore, and acknowledges the department events, which
// many products do not use.
type UnimplementedKitVendor struct{}

// TenantSync returns ErrNotImplemented.
func (UnimplementedKitVendor) TenantSync(context.Context, *TenantSync) error {
	return ErrNotImplemented
}

// ApplicationSync returns ErrNotImplemented.
func (UnimplementedKitVendor) ApplicationSync(context.Context, *ApplicationSync) error {
	return ErrNotImplemented
}

// AuthSync returns ErrNotImplemented.
func (UnimplementedKitVendor) AuthSync(context.Context, *AuthSync) error { return ErrNotImplemented }

// SingleOrgSync acknowledges the event.
func (UnimplementedKitVendor) SingleOrgSync(context.Context, *SingleOrgSync) error { return nil }

// AllOrgSync acknowledges the event.
func (UnimplementedKitVendor) AllOrgSync(context.Context, *AllOrgSync) error { return nil }

// WithClientSecretKey sets the vendor's RSA private key that decrypts
// applicationSync's clientSecret (see ParseRSAPrivateKey). Without it,
// an applicationSync that carries a secret is answered with
// ResultAppSecretProblem. KitHandler only.
func WithClientSecretKey(key *rsa.PrivateKey) ServerOption {
	return kitOnly("WithClientSecretKey", func(c *serverConfig) error {
		if key == nil {
			return errors.New("koogallery: private key must not be nil")
		}
		if err := key.Validate(); err != nil {
			return fmt.Errorf("koogallery: private key: %w", err)
		}
		c.privateKey = key
		return nil
	})
}

// WithRSAPadding sets the clientSecret's padding (default PaddingAuto).
// KitHandler only.
func WithRSAPadding(p RSAPadding) ServerOption {
	return kitOnly("WithRSAPadding", func(c *serverConfig) error {
		if !p.valid() {
			return fmt.Errorf("koogallery: unknown RSA padding %d", int(p))
		}
		c.padding = p
		return nil
	})
}

// KitHandler serves the five joint-operation kit interfaces at
// .../produceAPI/v2/{tenantSync,applicationSync,authSync,singleOrgSync,allOrgSync}
// (it routes on the path's end, so mount it at the production address's
// path plus KitPathPrefix, or anywhere above). Calls are verified with
// x-sign, x-timestamp and x-nonce under the kit key, which is not the
// production interface's key. Answers are as the Handler's.
type KitHandler struct {
	vendor KitVendor
	v      verifier
	cfg    *serverConfig
}

// NewKitHandler returns a KitHandler for the kit's access key and vendor.
func NewKitHandler(kitKey secret.String, vendor KitVendor, opts ...ServerOption) (*KitHandler, error) {
	if err := checkKey(kitKey); err != nil {
		return nil, err
	}
	if vendor == nil {
		return nil, errors.New("koogallery: kit vendor must not be nil")
	}
	cfg, err := newServerConfig(opts, UTC8, FormSorted|FormRaw)
	if err != nil {
		return nil, err
	}
	if len(cfg.produceOnly) > 0 {
		return nil, fmt.Errorf("koogallery: %s applies to Handler only", strings.Join(cfg.produceOnly, ", "))
	}
	h := &KitHandler{vendor: vendor, cfg: cfg}
	h.v = verifier{key: []byte(kitKey.Reveal()), forms: cfg.forms, window: cfg.window, skew: cfg.skew,
		nonces: cfg.nonces, scope: "kit:", now: cfg.now}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *KitHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, attrs := h.serve(r)
	writeResponse(w, resp, nil)
	logResult(r.Context(), h.cfg.log, resp, attrs)
}

func kitInterfaceOf(path string) string {
	i := strings.LastIndex(path, KitPathPrefix)
	if i < 0 {
		return ""
	}
	switch name := path[i+len(KitPathPrefix):]; name {
	case KitTenantSync, KitApplicationSync, KitAuthSync, KitSingleOrgSync, KitAllOrgSync:
		return name
	}
	return ""
}

func (h *KitHandler) serve(r *http.Request) (answer, []slog.Attr) {
	name := kitInterfaceOf(r.URL.Path)
	if name == "" {
		a := failure(ResultInvalidParameter, "no such kit interface", "path "+truncate(r.URL.Path, 128))
		a.status = http.StatusNotFound
		return a, nil
	}
	raw, tree, ref := readCall(r, h.cfg.maxBody)
	if ref != nil {
		return ref.answer(), nil
	}
	for _, k := range []string{HeaderKitSign, HeaderKitTimestamp, HeaderKitNonce} {
		if len(r.Header.Values(k)) > 1 {
			return failure(ResultInvalidParameter, k+" given more than once", ""), nil
		}
	}
	if rf := h.v.verify(r.Context(), r.Header.Get(HeaderKitSign), r.Header.Get(HeaderKitTimestamp),
		r.Header.Get(HeaderKitNonce), raw, tree); rf != nil {
		return fromRefusal(rf), nil
	}
	attrs := append(activityAttrs(tree), slog.String("interface", name))
	ev, err := decodeKitEvent(name, tree, raw, h.cfg.loc)
	if err != nil {
		return decodeFailure(err), attrs
	}
	if as, ok := ev.(*ApplicationSync); ok && as.EncryptedClientSecret != "" {
		plain, err := DecryptClientSecret(h.cfg.privateKey, as.EncryptedClientSecret, h.cfg.padding)
		if err != nil {
			return failure(ResultAppSecretProblem, ResultAppSecretProblem.defaultMessage(), err.Error()), attrs
		}
		as.ClientSecret = plain
	}
	ctx, cancel := vendorContext(r.Context(), h.cfg.vendorTimeout)
	defer cancel()
	var verr error
	call := func(fn func() error) { verr = safeCall(h.cfg.log, name, fn) }
	switch e := ev.(type) {
	case *TenantSync:
		call(func() error { return h.vendor.TenantSync(ctx, e) })
	case *ApplicationSync:
		call(func() error { return h.vendor.ApplicationSync(ctx, e) })
	case *AuthSync:
		call(func() error { return h.vendor.AuthSync(ctx, e) })
	case *SingleOrgSync:
		call(func() error { return h.vendor.SingleOrgSync(ctx, e) })
	case *AllOrgSync:
		call(func() error { return h.vendor.AllOrgSync(ctx, e) })
	}
	return vendorAnswer(name, verr), attrs
}

func (f fields) syncFlag(key string, max SyncFlag) SyncFlag {
	n, ok := f.integer(key, true)
	if ok && (n < 0 || SyncFlag(n) > max) {
		f.p.Add(f.name(key), "must be between 0 and %d", int(max))
	}
	return SyncFlag(n)
}

func (f fields) kitTime(key string) time.Time { return f.timeIn(key, KitTimeLayout, false, f.loc) }

// DecodeKitEvent decodes a kit body for the interface named (the last path
// segment) into its typed event, as the KitHandler does after verifying
// the call; applicationSync's ClientSecret stays encrypted. loc is the
// location of timeStamp (nil means UTC+8).
func DecodeKitEvent(name string, body []byte, loc *time.Location) (KitEvent, error) {
	v, err := parseObject(body)
	if err != nil {
		return nil, invalidBody(err)
	}
	if loc == nil {
		loc = UTC8
	}
	return decodeKitEvent(name, &v, body, loc)
}

// ErrUnknownKitInterface is returned by DecodeKitEvent for a name that is
// not one of the five interfaces.
var ErrUnknownKitInterface = errors.New("koogallery: unknown kit interface")

func decodeKitEvent(name string, v *jsonValue, raw []byte, loc *time.Location) (KitEvent, error) {
	var p apierror.Problems
	f := fields{obj: v, p: &p, loc: loc}
	rawMsg := json.RawMessage(append([]byte(nil), raw...))
	var ev KitEvent
	switch name {
	case KitTenantSync:
		ev = &TenantSync{InstanceID: f.id("instanceId", true), OrderID: f.id("orderId", false),
			TenantID: f.id("tenantId", true), TenantCode: f.id("tenantCode", false),
			Name: f.str("name", false, maxTextLen), DomainName: f.str("domainName", false, maxTextLen),
			Flag: f.syncFlag("flag", FlagModify), Test: f.flag("testFlag"), TimeStamp: f.kitTime("timeStamp"), Raw: rawMsg}
	case KitApplicationSync:
		e := &ApplicationSync{InstanceID: f.id("instanceId", true), AppID: f.id("appId", true),
			TenantID: f.id("tenantId", true), Flag: f.syncFlag("flag", FlagModify), Test: f.flag("testFlag"),
			TimeStamp: f.kitTime("timeStamp"), Raw: rawMsg}
		adding := e.Flag != FlagDelete
		e.ClientID = f.str("clientId", adding, maxTextLen)
		e.EncryptedClientSecret = f.str("clientSecret", adding, 8192)
		ev = e
	case KitAuthSync:
		e := &AuthSync{InstanceID: f.id("instanceId", true), TenantID: f.id("tenantId", true),
			AppID: f.id("appId", true), CurrentSyncTime: f.str("currentSyncTime", false, maxIDLen),
			Flag: f.syncFlag("flag", FlagCancelAuth), Test: f.flag("testFlag"), TimeStamp: f.kitTime("timeStamp"), Raw: rawMsg}
		users, _ := f.array("userList", true)
		f.each("userList", users, func(uf fields) {
			u := KitUser{UserName: uf.str("userName", true, maxTextLen), Name: uf.str("name", false, maxTextLen),
				Position: uf.str("position", false, maxTextLen), OrgCode: uf.str("orgCode", false, maxTextLen),
				Role: uf.str("role", false, maxIDLen), Enable: uf.boolean("enable"),
				EmployeeCode: uf.str("employeeCode", false, maxTextLen), EmployeeType: uf.str("employeeType", false, maxTextLen)}
			if x, ok := uf.lookup("extension"); ok {
				u.Extension = rawJSON(x)
			}
			e.Users = append(e.Users, u)
		})
		ev = e
	case KitSingleOrgSync:
		ev = &SingleOrgSync{InstanceID: f.id("instanceId", true), TenantID: f.id("tenantId", true),
			OrgCode: f.str("orgCode", true, maxTextLen), Name: f.str("name", false, maxTextLen),
			ParentCode: f.str("parentCode", false, maxTextLen), Flag: f.syncFlag("flag", FlagModify),
			Test: f.flag("testFlag"), TimeStamp: f.kitTime("timeStamp"), Raw: rawMsg}
	case KitAllOrgSync:
		e := &AllOrgSync{InstanceID: f.id("instanceId", true), TenantID: f.id("tenantId", true),
			Test: f.flag("testFlag"), TimeStamp: f.kitTime("timeStamp"), Raw: rawMsg}
		orgs, _ := f.array("orgInfo", true)
		f.each("orgInfo", orgs, func(of fields) {
			e.Orgs = append(e.Orgs, Org{OrgCode: of.str("orgCode", true, maxTextLen),
				Name: of.str("name", false, maxTextLen), ParentCode: of.str("parentCode", false, maxTextLen)})
		})
		ev = e
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownKitInterface, truncate(name, maxIDLen))
	}
	if err := p.Err(name); err != nil {
		return nil, err
	}
	return ev, nil
}

// EncodeKitEvent returns the JSON body KitCaller sends for ev, for a
// caller that signs and sends it itself (KitCaller.SendBody) or logs what
// it sent. An ApplicationSync is encoded with its EncryptedClientSecret
// (see EncryptClientSecret); one that carries only a clear ClientSecret is
// refused, since the secret never goes on the wire in clear.
func EncodeKitEvent(ev KitEvent) ([]byte, error) {
	if ev == nil || reflect.ValueOf(ev).IsNil() {
		return nil, errors.New("koogallery: no kit event to encode")
	}
	return ev.wireBody(nil)
}

// --- wire bodies of the kit events (KitCaller) ------------------------------

func (e *TenantSync) wireBody(func(secret.String) (string, error)) ([]byte, error) {
	return newWire("").str("instanceId", e.InstanceID).opt("orderId", e.OrderID).str("tenantId", e.TenantID).
		opt("tenantCode", e.TenantCode).opt("name", e.Name).opt("domainName", e.DomainName).
		num("flag", int(e.Flag)).flagNumber("testFlag", e.Test).optTime("timeStamp", e.TimeStamp, KitTimeLayout).bytes(), nil
}

func (e *ApplicationSync) wireBody(enc func(secret.String) (string, error)) ([]byte, error) {
	ct := e.EncryptedClientSecret
	if ct == "" && !e.ClientSecret.IsZero() {
		if enc == nil {
			return nil, errors.New("koogallery: applicationSync has a clientSecret but the caller has no public key to encrypt it (WithClientSecretPublicKey)")
		}
		var err error
		if ct, err = enc(e.ClientSecret); err != nil {
			return nil, err
		}
	}
	return newWire("").str("instanceId", e.InstanceID).str("appId", e.AppID).str("tenantId", e.TenantID).
		opt("clientId", e.ClientID).opt("clientSecret", ct).num("flag", int(e.Flag)).
		flagNumber("testFlag", e.Test).optTime("timeStamp", e.TimeStamp, KitTimeLayout).bytes(), nil
}

func (e *AuthSync) wireBody(func(secret.String) (string, error)) ([]byte, error) {
	users := jsonValue{kind: jsonArray, arr: []jsonValue{}}
	for _, u := range e.Users {
		uw := newWire("").str("userName", u.UserName).opt("name", u.Name).opt("position", u.Position).
			opt("orgCode", u.OrgCode).opt("role", u.Role).add("enable", jsonValue{kind: jsonBool, b: u.Enable}).
			opt("employeeCode", u.EmployeeCode).opt("employeeType", u.EmployeeType)
		if err := uw.rawValue("extension", u.Extension); err != nil {
			return nil, err
		}
		users.arr = append(users.arr, uw.value())
	}
	return newWire("").str("instanceId", e.InstanceID).str("tenantId", e.TenantID).str("appId", e.AppID).
		add("userList", users).opt("currentSyncTime", e.CurrentSyncTime).num("flag", int(e.Flag)).
		flagNumber("testFlag", e.Test).optTime("timeStamp", e.TimeStamp, KitTimeLayout).bytes(), nil
}

func (e *SingleOrgSync) wireBody(func(secret.String) (string, error)) ([]byte, error) {
	return newWire("").str("instanceId", e.InstanceID).str("tenantId", e.TenantID).str("orgCode", e.OrgCode).
		opt("name", e.Name).opt("parentCode", e.ParentCode).num("flag", int(e.Flag)).
		flagNumber("testFlag", e.Test).optTime("timeStamp", e.TimeStamp, KitTimeLayout).bytes(), nil
}

func (e *AllOrgSync) wireBody(func(secret.String) (string, error)) ([]byte, error) {
	orgs := jsonValue{kind: jsonArray, arr: []jsonValue{}}
	for _, o := range e.Orgs {
		orgs.arr = append(orgs.arr, newWire("").str("orgCode", o.OrgCode).opt("name", o.Name).opt("parentCode", o.ParentCode).value())
	}
	return newWire("").str("instanceId", e.InstanceID).str("tenantId", e.TenantID).add("orgInfo", orgs).
		flagNumber("testFlag", e.Test).optTime("timeStamp", e.TimeStamp, KitTimeLayout).bytes(), nil
}
