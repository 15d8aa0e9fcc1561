package mockserver

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// The joint-operation kit's deliveries: every change of an enterprise
// reaches the vendor as a signed kit call (koogallery.KitCaller) to
// <production address>/produceAPI/v2/<interface>, retried as KooGallery
// retries the production interface (DeliveryPolicy) and logged with the
// other deliveries (Deliveries, Delivery.TenantID).
//
// KooGallery does not document whether kit calls of one enterprise may
// overtake each other. The mock delivers them in order: a call waits until
// the one before it for the same enterprise succeeded or was given up, so
// that a vendor never sees a member authorized before its enterprise, or a
// withdrawal before the grant it withdraws.

// DemoClientSecretKeyPEM is the demo RSA key pair (PKCS#8, 2048 bits) that
// applicationSync's clientSecret is encrypted to and TrueWatch's vendor in
// the mock decrypts it with, unless WithClientSecretKey or
// WithClientSecretPublicKey say otherwise. It is public: never use it for
// a real vendor.
const DemoClientSecretKeyPEM = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCh4+30RUz/9qgB
IpHKxAA4NZGefbCSaJ6d/RcPyOPluZ3G9NW1abxaRDnzCaLLnAvyGUn2cU9rj6pQ
y/ot/TsLnFEnfGjalYXW2Lrgx3DbHNarRR7nU5aNe6lL0iGBQwKebK9dYBNkmfAB
T8vfb9bVK5pvBk64JpKopmzv5bYD292OECGLJSGq28x/u3bKAUUcV8RdG2oUiJ6f
5KVxEb9kgduK0Hst39F7yeioMa/l+e+OWgUUfBBDc30hZktOEIj9j+vn70Ju/3nb
VoZz2MFySRPf2MbQZrJm0C8g4wveWhvBFPEVCqHR+vaNb6u9nFqLJjj5CB2ne6k3
BS93utQxAgMBAAECggEAQFEit3pU5hhjlNfcHjeScsJtkQ8UeIZSBiiH4gCI8jq1
QVcCFKnmZ+JVN4ZrhAMCB/QeG2fXCr+wBZuUUHMb4zf+UfauXbEr1DiUvjreTl79
tlumtHbUCG/JydK49vbdcn1ximJiMgSqgormT2XKbzR8jYFvAuBoQdKk0wZrMsqk
TDVZpnZW4UMxeQfZdsO8dpHDDUWiI7wt1+HUf92mnFurSXXCgPnv4HdHOmD9x+N+
L9LBEszwCAZH9/X9pXh/mEJkH+rbYVRLmgpjg/eYtXMk8zX/n4s86r7ZsUbbSE6N
jFDU5DfpqZpGrC5QG5fZ5Fm/vJDbTaDtn2yH8jDBBQKBgQDJCs2esk7WBPIyZZjH
wDRqroTOAIKFW6MEzWMYMxqgyTuY9TAAz3DH4UuprkRqzCQJJ6BZqmaB7oGsF0kX
JffkqI5S518Nn3tXD1qmWV9MbA8lOxOzqOxHiXDREpeVo0+SYkH4s1ShJokqNOa4
LA11bD8rP70QFlzD+b80qDutQwKBgQDOJTp9TbPH/9Y0qVZ3AjKuxW0p82LpLC+I
dUVYfFRI0OBsC6HLvhEcwKj6xiD8S4FDll9cuN6EZtYH65Xqw8wE7PPeQcU35+m2
cW4Fdk5EgxETXP7cLWD8p/x2HSfVnF8QrA1P78SYP0CESAvsPprJgpCbvwyKmQN9
omfMeWtHewKBgQCBtgKsnYbX9yD8+yfz2UL4gdkVwKZ1vIYVlx6UgoRvsOZO7gMm
wrCVhfr3Y4SpE0U80uBWeebhdi0cB3oVAV5LnaUWQEnH1FoT9cgbBBbEjAPJlbBE
fnzUOw0bF8/NsCyq2dKOz8WOo/pjzPX/ZgzY8hpfoSQuuP7pQr3nD5RRWQKBgGLV
jIZZA7IG4e9bpN3oCt6qPx1W2HxMt/lnqDi1Wz+SDZcfuJHTbaboY9vftB7iIHaE
GPJ+nAjEuScQ906YUy+lX4KW6/RS10WmeoZZ40qLwFsVQgfUJeTcsXj7n4aVsypu
Iu/JV+taoBcL59N7bIDifWx+m4eztu28OKHbMOkTAoGAXNPSaJs21bJpmtgu+Gz5
5jixCecHy705jmk2bVO1THGg4zbdCS/O+ZEpSNXwmki+6qHM29m/5t1NyL7uXCL4
tD+E1HgGlUvWZPZXK2OX4Ya12c6X/z8dZkoi7t1ASaFwSEoBNwX3zEQI14Vxm9+E
JXxJc5x47UTPdCEANRxZo3s=
-----END PRIVATE KEY-----
`

// DefaultClientSecretPadding is how the mock's KooGallery pads the
// RSA-encrypted clientSecret: PKCS#1 v1.5, what Java's plain "RSA" cipher
// (the sample's KeyPairUtil) does. The padding is not documented;
// WithClientSecretPadding chooses another, and koogallery's KitHandler
// decrypts every one it knows by default.
const DefaultClientSecretPadding = koogallery.PaddingPKCS1v15

// WithClientSecretKey sets the vendor's RSA key pair: the mock's KooGallery
// encrypts applicationSync's clientSecret to its public half, and
// TrueWatch's vendor in the mock decrypts with it (default
// DemoClientSecretKeyPEM).
func WithClientSecretKey(key *rsa.PrivateKey) Option {
	return func(cfg *config) error {
		if key == nil || key.Validate() != nil {
			return errors.New("mockserver: the client secret key must be a valid RSA private key")
		}
		cfg.secretKey, cfg.secretPub = key, &key.PublicKey
		return nil
	}
}

// WithClientSecretPublicKey sets only the public key clientSecret is
// encrypted to, for a vendor of your own (WithVendorURL) that holds the
// private key. TrueWatch's vendor in the mock then cannot decrypt it and
// answers applicationSync with 000101.
func WithClientSecretPublicKey(pub *rsa.PublicKey) Option {
	return func(cfg *config) error {
		if pub == nil || pub.N == nil || pub.N.BitLen() < 1024 {
			return errors.New("mockserver: the client secret public key must be an RSA key of at least 1024 bits")
		}
		cfg.secretKey, cfg.secretPub = nil, pub
		return nil
	}
}

// WithClientSecretPadding sets the padding of the encrypted clientSecret
// (default DefaultClientSecretPadding): koogallery.PaddingPKCS1v15,
// PaddingOAEPSHA256 or PaddingOAEPSHA1.
func WithClientSecretPadding(p koogallery.RSAPadding) Option {
	return func(cfg *config) error {
		switch p {
		case koogallery.PaddingPKCS1v15, koogallery.PaddingOAEPSHA256, koogallery.PaddingOAEPSHA1:
			cfg.secretPadding = p
			return nil
		}
		return fmt.Errorf("mockserver: cannot encrypt the client secret with padding %s", p)
	}
}

// demoClientSecretKey parses DemoClientSecretKeyPEM.
func demoClientSecretKey() (*rsa.PrivateKey, error) {
	return koogallery.ParseRSAPrivateKey([]byte(DemoClientSecretKeyPEM))
}

// kitQueue holds an enterprise's kit deliveries: one in flight (busy),
// the rest waiting their turn.
type kitQueue struct {
	busy    bool
	waiting []*deliveryJob
}

// kitJobLocked makes the delivery of a kit event of enterprise e and
// queues it; it returns the job when it is to be made now (nothing of the
// enterprise in flight), nil when it waits its turn.
func (s *Server) kitJobLocked(e *enterprise, ev koogallery.KitEvent) *deliveryJob {
	body, err := koogallery.EncodeKitEvent(ev)
	logged := body
	if as, ok := ev.(*koogallery.ApplicationSync); ok && as.EncryptedClientSecret != "" {
		cp := *as
		cp.EncryptedClientSecret = redacted
		logged, _ = koogallery.EncodeKitEvent(&cp)
	}
	q := e.kit
	job := &deliveryJob{activity: ev.KitInterface(), kit: ev.KitInterface(), tenant: e.pub.TenantID,
		instance: e.pub.InstanceID, orderID: e.pub.OrderID, logged: logged}
	job.body = func() ([]byte, error) { return body, err }
	job.succeeded = func(_ *koogallery.Response, at time.Time) error {
		s.kitNextLocked(q, at)
		return nil
	}
	job.failed = func(at time.Time, last bool, _ string) {
		if last {
			s.kitNextLocked(q, at)
		}
	}
	s.newJobLocked(job)
	if q.busy {
		q.waiting = append(q.waiting, job)
		return nil
	}
	q.busy = true
	return job
}

// kitNextLocked starts the next waiting delivery of a queue, at at, or
// marks it idle.
func (s *Server) kitNextLocked(q *kitQueue, at time.Time) {
	if len(q.waiting) == 0 {
		q.busy = false
		return
	}
	next := q.waiting[0]
	q.waiting = q.waiting[1:]
	s.scheduleLocked(dueEvent{at: at, job: next})
}

// deliverKit makes the kit deliveries a change started, then runs what
// they let through (the enterprise's waiting calls) and whatever else fell
// due. It is called without the state's lock.
func (s *Server) deliverKit(ctx context.Context, at time.Time, jobs ...*deliveryJob) {
	for _, j := range jobs {
		if j != nil {
			s.attempt(ctx, j, at)
		}
	}
	s.catchUp(ctx)
}

// kitTime is a kit event's timeStamp: the mock's clock.
func (s *Server) kitTime() time.Time { return s.cfg.clock.Now() }

// tenantEvent is the tenantSync of e with flag.
func (s *Server) tenantEvent(e *enterprise, flag koogallery.SyncFlag) *koogallery.TenantSync {
	return &koogallery.TenantSync{InstanceID: e.pub.InstanceID, OrderID: e.pub.OrderID, TenantID: e.pub.TenantID,
		TenantCode: e.pub.Abbreviation, Name: e.pub.Name, DomainName: s.idpBase(e.pub.Domain), Flag: flag,
		TimeStamp: s.kitTime()}
}

// applicationEvent is the applicationSync of e's application with flag;
// the secret is encrypted to the vendor's public key.
func (s *Server) applicationEvent(e *enterprise, flag koogallery.SyncFlag) (*koogallery.ApplicationSync, error) {
	ev := &koogallery.ApplicationSync{InstanceID: e.pub.InstanceID, AppID: e.app.AppID, TenantID: e.pub.TenantID,
		Flag: flag, TimeStamp: s.kitTime()}
	if flag == koogallery.FlagDelete {
		return ev, nil
	}
	ct, err := koogallery.EncryptClientSecret(s.cfg.secretPub, secret.String(e.app.ClientSecret), s.cfg.secretPadding)
	if err != nil {
		return nil, err
	}
	ev.ClientID, ev.EncryptedClientSecret = e.app.ClientID, ct
	return ev, nil
}

// authEvent is the authSync of members with flag.
func (s *Server) authEvent(e *enterprise, flag koogallery.SyncFlag, members ...*member) *koogallery.AuthSync {
	ev := &koogallery.AuthSync{InstanceID: e.pub.InstanceID, TenantID: e.pub.TenantID, AppID: e.app.AppID,
		Flag: flag, TimeStamp: s.kitTime(), CurrentSyncTime: s.kitTime().In(koogallery.UTC8).Format(koogallery.KitTimeLayout)}
	ev.CurrentSyncTime = strings.ReplaceAll(ev.CurrentSyncTime, ".", "")
	for _, m := range members {
		ev.Users = append(ev.Users, koogallery.KitUser{UserName: m.pub.UserName, Name: m.pub.Name,
			Position: m.pub.Position, OrgCode: m.pub.Department, Role: m.pub.Role, Enable: m.pub.Enabled,
			EmployeeCode: m.pub.EmployeeCode, Extension: memberExtension(m)})
	}
	return ev
}

// memberExtension carries what authSync's documented fields do not: the
// member's email and mobile.
func memberExtension(m *member) json.RawMessage {
	ext := map[string]string{}
	if m.pub.Email != "" {
		ext["email"] = m.pub.Email
	}
	if m.pub.Mobile != "" {
		ext["mobile"] = m.pub.Mobile
	}
	if len(ext) == 0 {
		return nil
	}
	b, _ := json.Marshal(ext)
	return b
}

// orgEvent is the singleOrgSync of d with flag.
func (s *Server) orgEvent(e *enterprise, d Department, flag koogallery.SyncFlag) *koogallery.SingleOrgSync {
	return &koogallery.SingleOrgSync{InstanceID: e.pub.InstanceID, TenantID: e.pub.TenantID, OrgCode: d.OrgCode,
		Name: d.Name, ParentCode: d.ParentCode, Flag: flag, TimeStamp: s.kitTime()}
}

// allOrgEvent is the allOrgSync of e's whole tree.
func (s *Server) allOrgEvent(e *enterprise) *koogallery.AllOrgSync {
	ev := &koogallery.AllOrgSync{InstanceID: e.pub.InstanceID, TenantID: e.pub.TenantID, TimeStamp: s.kitTime()}
	for _, code := range e.dOrder {
		d := e.depts[code]
		ev.Orgs = append(ev.Orgs, koogallery.Org{OrgCode: d.OrgCode, Name: d.Name, ParentCode: d.ParentCode})
	}
	return ev
}
