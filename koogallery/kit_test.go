package koogallery

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truewatch-labs/marketplace-go/secret"
)

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func testRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

type recKitVendor struct {
	mu     sync.Mutex
	events []KitEvent
	err    error
}

func (v *recKitVendor) rec(e KitEvent) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.events = append(v.events, e)
	return v.err
}

func (v *recKitVendor) TenantSync(_ context.Context, e *TenantSync) error           { return v.rec(e) }
func (v *recKitVendor) ApplicationSync(_ context.Context, e *ApplicationSync) error { return v.rec(e) }
func (v *recKitVendor) AuthSync(_ context.Context, e *AuthSync) error               { return v.rec(e) }
func (v *recKitVendor) SingleOrgSync(_ context.Context, e *SingleOrgSync) error     { return v.rec(e) }
func (v *recKitVendor) AllOrgSync(_ context.Context, e *AllOrgSync) error           { return v.rec(e) }

type kitFixture struct {
	clock  *clock
	vendor *recKitVendor
	h      *KitHandler
	caller *KitCaller
	signer *KitSigner
}

func setupKit(t *testing.T, padding RSAPadding, opts ...ServerOption) *kitFixture {
	t.Helper()
	f := &kitFixture{clock: newClock(), vendor: &recKitVendor{}}
	key := testRSAKey(t)
	h, err := NewKitHandler(testKitKey, f.vendor, append([]ServerOption{WithClock(f.clock.Now), WithClientSecretKey(key)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	f.signer, _ = NewKitSigner(testKitKey, WithSignerClock(f.clock.Now))
	var copts []CallerOption
	copts = append(copts, WithCallerHandler(h))
	if padding != PaddingAuto {
		copts = append(copts, WithClientSecretPublicKey(&key.PublicKey, padding))
	}
	f.caller, err = NewKitCaller("https://vendor.example.com/saasproduce", f.signer, copts...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *kitFixture) events() []KitEvent {
	f.vendor.mu.Lock()
	defer f.vendor.mu.Unlock()
	return append([]KitEvent(nil), f.vendor.events...)
}

func TestKitEventsEndToEnd(t *testing.T) {
	f := setupKit(t, PaddingOAEPSHA256)
	ctx := context.Background()
	ts := time.Date(2022, 4, 13, 9, 35, 39, 534e6, UTC8)
	events := []KitEvent{
		&TenantSync{InstanceID: "i-1", OrderID: "CS1", TenantID: "t-1", TenantCode: "analytical", Name: "Analytical Engines",
			DomainName: "analytical.example.com", Flag: FlagAdd, TimeStamp: ts},
		&ApplicationSync{InstanceID: "i-1", AppID: "app-1", TenantID: "t-1", ClientID: "client-1",
			ClientSecret: "the-client-secret", Flag: FlagAdd, TimeStamp: ts},
		&AuthSync{InstanceID: "i-1", TenantID: "t-1", AppID: "app-1", Flag: FlagAdd, CurrentSyncTime: "20220413093539534",
			Users: []KitUser{{UserName: "ada", Name: "Ada", OrgCode: "eng", Role: "admin", Enable: true, Extension: []byte(`{"k":"v"}`)},
				{UserName: "bob", Name: "Bob", Role: "user"}}},
		&SingleOrgSync{InstanceID: "i-1", TenantID: "t-1", OrgCode: "eng", Name: "Engineering", ParentCode: "root", Flag: FlagModify},
		&AllOrgSync{InstanceID: "i-1", TenantID: "t-1", Orgs: []Org{{OrgCode: "root", Name: "HQ"}, {OrgCode: "eng", Name: "Engineering", ParentCode: "root"}}},
	}
	for _, ev := range events {
		r, err := f.caller.Send(ctx, ev)
		if err != nil || r.ResultCode != ResultSuccess || r.ResultMsg != "success." {
			t.Fatalf("%s: %+v %v", ev.KitInterface(), r, err)
		}
	}
	got := f.events()
	if len(got) != 5 {
		t.Fatalf("%d events", len(got))
	}
	tsync := got[0].(*TenantSync)
	if tsync.DomainName != "analytical.example.com" || tsync.Flag != FlagAdd || tsync.Test || !tsync.TimeStamp.Equal(ts) {
		t.Errorf("tenantSync %+v", tsync)
	}
	app := got[1].(*ApplicationSync)
	if app.ClientSecret.Reveal() != "the-client-secret" || app.EncryptedClientSecret == "" || app.ClientID != "client-1" {
		t.Errorf("applicationSync %+v", app)
	}
	if strings.Contains(string(app.Raw), "the-client-secret") {
		t.Error("the secret travelled in clear")
	}
	auth := got[2].(*AuthSync)
	if len(auth.Users) != 2 || auth.Users[0].Role != "admin" || !auth.Users[0].Enable || auth.Users[1].Enable ||
		string(auth.Users[0].Extension) != `{"k":"v"}` || auth.CurrentSyncTime != "20220413093539534" {
		t.Errorf("authSync %+v", auth)
	}
	if o := got[3].(*SingleOrgSync); o.ParentCode != "root" || o.Flag != FlagModify {
		t.Errorf("singleOrgSync %+v", o)
	}
	if o := got[4].(*AllOrgSync); len(o.Orgs) != 2 || o.Orgs[1].ParentCode != "root" {
		t.Errorf("allOrgSync %+v", o)
	}
}

// The documented tenantSync example, signed per the documented formula,
// verifies against the handler.
func TestKitDocumentedExample(t *testing.T) {
	c := &clock{t: exampleTime()}
	v := &recKitVendor{}
	h, _ := NewKitHandler(testKitKey, v, WithClock(c.Now))
	req := httptest.NewRequest(http.MethodPost, "/saasproduce/produceAPI/v2/tenantSync", strings.NewReader(exampleKitBody))
	req.Header.Set("x-sign", strings.ToUpper(exampleKitSign))
	req.Header.Set("x-timestamp", exampleTS)
	req.Header.Set("x-nonce", exampleNonce)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.String() != `{"resultCode":"000000","resultMsg":"success."}` || rec.Header().Get("Body-Sign") != "" {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	ev := v.events[0].(*TenantSync)
	if ev.TenantCode != "analytical" || ev.TimeStamp.UTC() != time.Date(2022, 4, 13, 1, 35, 39, 534e6, time.UTC) {
		t.Errorf("%+v", ev)
	}
}

func TestKitRefusals(t *testing.T) {
	f := setupKit(t, PaddingAuto)
	body := exampleKitBody
	sig, _ := f.signer.Sign([]byte(body))
	prodSigner, _ := NewSigner(testKitKey, WithSignerClock(f.clock.Now))
	prodSig, _ := prodSigner.Sign([]byte(body))
	wrongKey, _ := NewKitSigner(testKey, WithSignerClock(f.clock.Now))
	wrongSig, _ := wrongKey.Sign([]byte(body))
	stale, _ := f.signer.SignAt([]byte(body), f.clock.Now().Add(-2*time.Minute), "n-stale")
	cases := []struct {
		name, path, body string
		header           http.Header
		status           int
		code             ResultCode
	}{
		{"unknown interface", "/produceAPI/v2/deleteTenant", body, sig.Header(), 404, ResultInvalidParameter},
		{"V1 path", "/produceAPI/tenantSync", body, sig.Header(), 404, ResultInvalidParameter},
		{"no headers", "/produceAPI/v2/tenantSync", body, http.Header{}, 200, ResultInvalidParameter},
		{"production-style signature", "/produceAPI/v2/tenantSync", body, http.Header{"X-Sign": {prodSig.Signature},
			"X-Timestamp": {prodSig.Timestamp}, "X-Nonce": {prodSig.Nonce}}, 200, ResultAuthFailed},
		{"production key", "/produceAPI/v2/tenantSync", body, wrongSig.Header(), 200, ResultAuthFailed},
		{"stale", "/produceAPI/v2/tenantSync", body, stale.Header(), 200, ResultInvalidParameter},
		{"body changed", "/produceAPI/v2/tenantSync", strings.Replace(body, `"flag":1`, `"flag":0`, 1), sig.Header(), 200, ResultAuthFailed},
		{"malformed JSON", "/produceAPI/v2/tenantSync", `{"flag":`, sig.Header(), 200, ResultInvalidParameter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/saasproduce"+c.path, strings.NewReader(c.body))
			for k, v := range c.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			r, err := decodeResponse(rec.Code, rec.Body.Bytes())
			if err != nil || rec.Code != c.status || r.ResultCode != c.code {
				t.Errorf("HTTP %d %s: %s", rec.Code, rec.Body.String(), err)
			}
		})
	}
	if len(f.events()) != 0 {
		t.Errorf("%d events reached the vendor", len(f.events()))
	}
	// The genuine call still works, once.
	for i, want := range []ResultCode{ResultSuccess, ResultAuthFailed} {
		req := httptest.NewRequest(http.MethodPost, "/saasproduce/produceAPI/v2/tenantSync", strings.NewReader(body))
		for k, v := range sig.Header() {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if r, _ := decodeResponse(rec.Code, rec.Body.Bytes()); r.ResultCode != want {
			t.Errorf("call %d: %s", i, rec.Body.String())
		}
	}
}

func TestKitInvalidEvents(t *testing.T) {
	f := setupKit(t, PaddingAuto)
	for iface, body := range map[string]string{
		KitTenantSync:      `{"instanceId":"i","flag":1}`,
		KitApplicationSync: `{"instanceId":"i","appId":"a","tenantId":"t","flag":1}`,
		KitAuthSync:        `{"instanceId":"i","appId":"a","tenantId":"t","flag":9,"userList":[{"name":"x"}]}`,
		KitSingleOrgSync:   `{"instanceId":"i","tenantId":"t","flag":"x"}`,
		KitAllOrgSync:      `{"instanceId":"i","tenantId":"t","orgInfo":"not json"}`,
	} {
		r, err := f.caller.SendBody(context.Background(), iface, []byte(body))
		if err != nil || r.ResultCode != ResultInvalidParameter {
			t.Errorf("%s: %+v %v", iface, r, err)
		}
	}
	// V1 sends userList and orgInfo as JSON strings: accepted.
	r, err := f.caller.SendBody(context.Background(), KitAllOrgSync,
		[]byte(`{"instanceId":"i","tenantId":"t","orgInfo":"[{\"orgCode\":\"a\",\"name\":\"A\"}]","testFlag":1}`))
	if err != nil || r.ResultCode != ResultSuccess {
		t.Fatalf("%+v %v", r, err)
	}
	if e := f.events()[0].(*AllOrgSync); len(e.Orgs) != 1 || e.Orgs[0].OrgCode != "a" || !e.Test {
		t.Errorf("%+v", e)
	}
	// A deletion carries no secret.
	r, _ = f.caller.SendBody(context.Background(), KitApplicationSync, []byte(`{"instanceId":"i","appId":"a","tenantId":"t","flag":0}`))
	if r.ResultCode != ResultSuccess {
		t.Errorf("applicationSync delete: %s %s", r.ResultCode, r.ResultMsg)
	}
	if _, err := f.caller.SendBody(context.Background(), "nope", []byte(`{}`)); !errors.Is(err, ErrUnknownKitInterface) {
		t.Errorf("unknown interface: %v", err)
	}
}

// oaepEncrypt is RSAES-OAEP with a label hash and an MGF1 hash that may
// differ, which Go 1.25's crypto/rsa cannot encrypt with; Java's
// OAEPWithSHA-256AndMGF1Padding does (SHA-256 label, MGF1-SHA-1).
func oaepEncrypt(t *testing.T, pub *rsa.PublicKey, msg []byte) []byte {
	t.Helper()
	k := pub.Size()
	lHash := sha256.Sum256(nil)
	hLen := len(lHash)
	db := make([]byte, k-hLen-1)
	copy(db, lHash[:])
	db[len(db)-len(msg)-1] = 1
	copy(db[len(db)-len(msg):], msg)
	seed := make([]byte, hLen)
	_, _ = rand.Read(seed)
	mgf := func(seed []byte, n int) []byte {
		var out []byte
		for c := uint32(0); len(out) < n; c++ {
			h := sha1.New()
			h.Write(seed)
			h.Write([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
			out = h.Sum(out)
		}
		return out[:n]
	}
	for i, b := range mgf(seed, len(db)) {
		db[i] ^= b
	}
	for i, b := range mgf(db, hLen) {
		seed[i] ^= b
	}
	em := append(append([]byte{0}, seed...), db...)
	c := new(big.Int).Exp(new(big.Int).SetBytes(em), big.NewInt(int64(pub.E)), pub.N)
	return c.FillBytes(make([]byte, k))
}

func TestDecryptClientSecretPaddings(t *testing.T) {
	key := testRSAKey(t)
	for _, p := range []RSAPadding{PaddingPKCS1v15, PaddingOAEPSHA256, PaddingOAEPSHA1} {
		ct, err := EncryptClientSecret(&key.PublicKey, "s3cret", p)
		if err != nil {
			t.Fatal(err)
		}
		for _, dp := range []RSAPadding{p, PaddingAuto} {
			if got, err := DecryptClientSecret(key, ct, dp); err != nil || got.Reveal() != "s3cret" {
				t.Errorf("encrypt %s, decrypt %s: %q %v", p, dp, got.Reveal(), err)
			}
		}
		other := PaddingOAEPSHA256
		if p == PaddingOAEPSHA256 {
			other = PaddingPKCS1v15
		}
		if _, err := DecryptClientSecret(key, ct, other); !errors.Is(err, ErrClientSecret) {
			t.Errorf("encrypt %s, decrypt %s: %v", p, other, err)
		}
	}
	java := base64.StdEncoding.EncodeToString(oaepEncrypt(t, &key.PublicKey, []byte("java-secret")))
	for _, p := range []RSAPadding{PaddingOAEPSHA256MGF1SHA1, PaddingAuto} {
		if got, err := DecryptClientSecret(key, java, p); err != nil || got.Reveal() != "java-secret" {
			t.Errorf("MGF1-SHA1 with %s: %q %v", p, got.Reveal(), err)
		}
	}
	// A secret longer than one block is encrypted and decrypted in blocks.
	long := secret.String(strings.Repeat("0123456789", 60))
	ct, _ := EncryptClientSecret(&key.PublicKey, long, PaddingPKCS1v15)
	if got, err := DecryptClientSecret(key, ct, PaddingAuto); err != nil || got != long {
		t.Errorf("segmented: %v", err)
	}
	for _, bad := range []string{"", "!!!", base64.StdEncoding.EncodeToString([]byte("short")),
		base64.StdEncoding.EncodeToString(make([]byte, 256))} {
		if _, err := DecryptClientSecret(key, bad, PaddingAuto); !errors.Is(err, ErrClientSecret) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := DecryptClientSecret(nil, ct, PaddingAuto); !errors.Is(err, ErrClientSecret) {
		t.Error("nil key")
	}
	if _, err := EncryptClientSecret(&key.PublicKey, "x", PaddingOAEPSHA256MGF1SHA1); err == nil {
		t.Error("encrypting with MGF1-SHA1 is not supported")
	}
}

func TestApplicationSyncBadSecretIsAppSecretProblem(t *testing.T) {
	f := setupKit(t, PaddingAuto)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	ct, _ := EncryptClientSecret(&other.PublicKey, "s", PaddingOAEPSHA256)
	body := `{"instanceId":"i","appId":"a","tenantId":"t","clientId":"c","clientSecret":"` + ct + `","flag":1}`
	r, err := f.caller.SendBody(context.Background(), KitApplicationSync, []byte(body))
	if err != nil || r.ResultCode != ResultAppSecretProblem || r.ResultMsg != "something wrong with appSecret" {
		t.Errorf("%+v %v", r, err)
	}
	if len(f.events()) != 0 {
		t.Error("vendor called")
	}
	// No private key configured: the same code.
	v := &recKitVendor{}
	h, _ := NewKitHandler(testKitKey, v, WithClock(f.clock.Now))
	c, _ := NewKitCaller("https://vendor.example.com/", f.signer, WithCallerHandler(h))
	if r, _ := c.SendBody(context.Background(), KitApplicationSync, []byte(body)); r.ResultCode != ResultAppSecretProblem {
		t.Errorf("no key: %s", r.ResultCode)
	}
}

func TestParseRSAPrivateKey(t *testing.T) {
	key := testRSAKey(t)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	pkcs1 := x509.MarshalPKCS1PrivateKey(key)
	for name, in := range map[string][]byte{
		"PKCS#8 PEM":    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		"PKCS#1 PEM":    pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1}),
		"base64 PKCS#8": []byte(base64.StdEncoding.EncodeToString(pkcs8)),
		"DER PKCS#1":    pkcs1,
	} {
		k, err := ParseRSAPrivateKey(in)
		if err != nil || !k.Equal(key) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseRSAPrivateKey([]byte("nonsense")); err == nil {
		t.Error("nonsense parsed")
	}
}

func TestUnimplementedKitVendor(t *testing.T) {
	f := setupKit(t, PaddingAuto)
	h, _ := NewKitHandler(testKitKey, UnimplementedKitVendor{}, WithClock(f.clock.Now))
	c, _ := NewKitCaller("https://vendor.example.com/", f.signer, WithCallerHandler(h))
	for ev, want := range map[KitEvent]ResultCode{
		&TenantSync{InstanceID: "i", TenantID: "t"}:                  ResultInternalError,
		&AuthSync{InstanceID: "i", TenantID: "t", AppID: "a"}:        ResultInternalError,
		&SingleOrgSync{InstanceID: "i", TenantID: "t", OrgCode: "o"}: ResultSuccess,
		&AllOrgSync{InstanceID: "i", TenantID: "t"}:                  ResultSuccess,
	} {
		if r, err := c.Send(context.Background(), ev); err != nil || r.ResultCode != want {
			t.Errorf("%s: %+v %v", ev.KitInterface(), r, err)
		}
	}
}
