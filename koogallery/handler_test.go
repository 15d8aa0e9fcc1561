package koogallery

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const newInstanceBody = `{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}`

func TestNewInstanceAnswerOnTheWire(t *testing.T) {
	f := setup(t)
	sig, _ := f.signer.Sign([]byte(newInstanceBody))
	rec, resp := f.post(newInstanceBody, sig.Query().Encode())
	want := `{"resultCode":"000000","resultMsg":"success.","instanceId":"87b94795-0603-4e24-8ae5-69420d60e3c8","appInfo":{"frontEndUrl":"https://app.example.com/i/87b94795-0603-4e24-8ae5-69420d60e3c8","userName":"admin","password":"s3cret-Pass"}}`
	if rec.Body.String() != want {
		t.Errorf("answer:\n got %s\nwant %s", rec.Body.String(), want)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json;charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	m := hmac.New(sha256.New, []byte(testKey.Reveal()))
	m.Write(rec.Body.Bytes())
	wantSign := `sign_type="HMAC-SHA256", signature="` + base64.StdEncoding.EncodeToString(m.Sum(nil)) + `"`
	if got := rec.Header().Get("Body-Sign"); got != wantSign {
		t.Errorf("Body-Sign %q, want %q", got, wantSign)
	}
	if resp.AppInfo == nil || resp.AppInfo.Password.Reveal() != "s3cret-Pass" || fmt.Sprint(resp.AppInfo) == "" ||
		strings.Contains(fmt.Sprintf("%v %+v", *resp.AppInfo, *resp.AppInfo), "s3cret") {
		t.Errorf("AppInfo %+v", resp.AppInfo)
	}
	calls := f.vendor.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d vendor calls", len(calls))
	}
	r := calls[0].(*NewInstanceRequest)
	if r.OrderID != "CS2211181819B4LVS" || r.OrderLineID != "CS2211181819B4LVS-000001" || !r.Test ||
		r.BusinessID != "87b94795-0603-4e24-8ae5-69420d60e3c8" || string(r.Raw) != newInstanceBody {
		t.Errorf("request %+v", r)
	}
}

func TestWithoutBodySign(t *testing.T) {
	f := setup(t, WithoutBodySign())
	sig, _ := f.signer.Sign([]byte(newInstanceBody))
	rec, _ := f.post(newInstanceBody, sig.Query().Encode())
	if rec.Header().Get("Body-Sign") != "" {
		t.Error("Body-Sign sent")
	}
}

// Every refusal: the documented code, HTTP 200 (405 for the method), and
// no vendor call.
func TestRefusals(t *testing.T) {
	f := setup(t)
	now := f.clock.Now()
	sign := func(body string, at time.Time, nonce string) url.Values {
		sig, err := f.signer.SignAt([]byte(body), at, nonce)
		if err != nil {
			t.Fatal(err)
		}
		return sig.Query()
	}
	good := sign(newInstanceBody, now, "nonce-good")
	with := func(q url.Values, k, v string) string {
		c := url.Values{}
		for kk, vv := range q {
			c[kk] = append([]string(nil), vv...)
		}
		if v == "" {
			c.Del(k)
		} else {
			c.Set(k, v)
		}
		return c.Encode()
	}
	other, _ := NewSigner("another-sellers-key", WithSignerClock(f.clock.Now))
	otherSig, _ := other.SignAt([]byte(newInstanceBody), now, "n-other")
	upper := sign(newInstanceBody, now, "n-upper")
	upper.Set("signature", strings.ToUpper(upper.Get("signature")))
	dupSig := sign(newInstanceBody, now, "n-dup")
	dupSig.Add("nonce", "n-dup2")

	cases := []struct {
		name, method, body, query string
		code                      ResultCode
		status                    int
	}{
		{"GET", http.MethodGet, newInstanceBody, good.Encode(), ResultInvalidParameter, http.StatusMethodNotAllowed},
		{"no signature", "", newInstanceBody, with(good, "signature", ""), ResultAuthFailed, 200},
		{"no timestamp", "", newInstanceBody, with(good, "timestamp", ""), ResultInvalidParameter, 200},
		{"no nonce", "", newInstanceBody, with(good, "nonce", ""), ResultInvalidParameter, 200},
		{"no query", "", newInstanceBody, "", ResultInvalidParameter, 200},
		{"wrong signature", "", newInstanceBody, with(good, "signature", strings.Repeat("ab", 32)), ResultAuthFailed, 200},
		{"signature not hex", "", newInstanceBody, with(good, "signature", "zz"+good.Get("signature")[2:]), ResultAuthFailed, 200},
		{"signature truncated", "", newInstanceBody, with(good, "signature", good.Get("signature")[:62]), ResultAuthFailed, 200},
		{"another key", "", newInstanceBody, otherSig.Query().Encode(), ResultAuthFailed, 200},
		{"signed timestamp changed", "", newInstanceBody, with(good, "timestamp", strconv.FormatInt(now.UnixMilli()-1, 10)), ResultAuthFailed, 200},
		{"signed nonce changed", "", newInstanceBody, with(good, "nonce", "nonce-other"), ResultAuthFailed, 200},
		{"body changed", "", strings.Replace(newInstanceBody, "000001", "000002", 1), good.Encode(), ResultAuthFailed, 200},
		{"stale by 61 s", "", newInstanceBody, sign(newInstanceBody, now.Add(-61*time.Second), "n-stale").Encode(), ResultInvalidParameter, 200},
		{"future by 61 s", "", newInstanceBody, sign(newInstanceBody, now.Add(61*time.Second), "n-future").Encode(), ResultInvalidParameter, 200},
		{"timestamp in seconds", "", newInstanceBody, with(good, "timestamp", strconv.FormatInt(now.Unix(), 10)), ResultInvalidParameter, 200},
		{"timestamp not digits", "", newInstanceBody, with(good, "timestamp", "1680508066618.0"), ResultInvalidParameter, 200},
		{"timestamp negative", "", newInstanceBody, with(good, "timestamp", "-1"), ResultInvalidParameter, 200},
		{"timestamp huge", "", newInstanceBody, with(good, "timestamp", "99999999999999999999"), ResultInvalidParameter, 200},
		{"nonce too long", "", newInstanceBody, with(good, "nonce", strings.Repeat("n", 129)), ResultInvalidParameter, 200},
		{"nonce with space", "", newInstanceBody, with(good, "nonce", "a b"), ResultInvalidParameter, 200},
		{"nonce given twice", "", newInstanceBody, dupSig.Encode(), ResultInvalidParameter, 200},
		{"malformed query", "", newInstanceBody, good.Encode() + "&%zz", ResultInvalidParameter, 200},
		{"empty body", "", "", good.Encode(), ResultInvalidParameter, 200},
		{"malformed JSON", "", `{"activity":`, good.Encode(), ResultInvalidParameter, 200},
		{"JSON array", "", `[1]`, good.Encode(), ResultInvalidParameter, 200},
		{"duplicate key", "", `{"activity":"newInstance","activity":"queryInstance"}`, good.Encode(), ResultInvalidParameter, 200},
		{"oversized body", "", `{"activity":"newInstance","pad":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`, good.Encode(), ResultInvalidParameter, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := c.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/saasproduce?"+c.query, strings.NewReader(c.body))
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			resp, err := decodeResponse(rec.Code, rec.Body.Bytes())
			if err != nil {
				t.Fatalf("answer %q: %v", rec.Body.String(), err)
			}
			if rec.Code != c.status || resp.ResultCode != c.code {
				t.Errorf("HTTP %d %s (%s), want HTTP %d %s", rec.Code, resp.ResultCode, resp.ResultMsg, c.status, c.code)
			}
		})
	}
	// The upper-case signature is accepted (the comparison ignores case).
	if _, resp := f.post(newInstanceBody, upper.Encode()); resp.ResultCode != ResultSuccess {
		t.Errorf("upper-case signature: %s %s", resp.ResultCode, resp.ResultMsg)
	}
	if n := len(f.vendor.Calls()); n != 1 {
		t.Errorf("%d vendor calls, want only the upper-case one", n)
	}
}

func TestReplayedNonceRefused(t *testing.T) {
	f := setup(t)
	body := `{"activity":"releaseInstance","instanceId":"i-1","testFlag":"0"}`
	sig, _ := f.signer.Sign([]byte(body))
	if _, r := f.post(body, sig.Query().Encode()); r.ResultCode != ResultSuccess {
		t.Fatal(r.ResultCode, r.ResultMsg)
	}
	f.clock.Advance(59 * time.Second)
	if _, r := f.post(body, sig.Query().Encode()); r.ResultCode != ResultAuthFailed || r.ResultMsg != "nonce already used" {
		t.Errorf("replay: %s %s", r.ResultCode, r.ResultMsg)
	}
	f.clock.Advance(2 * time.Second)
	if _, r := f.post(body, sig.Query().Encode()); r.ResultCode != ResultInvalidParameter {
		t.Errorf("stale replay: %s %s", r.ResultCode, r.ResultMsg)
	}
	if n := len(f.vendor.Calls()); n != 1 {
		t.Errorf("%d vendor calls", n)
	}
}

// A nonce of a call whose signature failed is not recorded, so an attacker
// without the key cannot burn KooGallery's nonces or fill the store.
func TestFailedSignatureRecordsNoNonce(t *testing.T) {
	store := NewMemoryNonceStore(10, nil)
	f := setup(t, WithNonceStore(store))
	sig, _ := f.signer.Sign([]byte(newInstanceBody))
	q := sig.Query()
	bad := url.Values{"signature": {strings.Repeat("00", 32)}, "timestamp": q["timestamp"], "nonce": q["nonce"]}
	for range 20 {
		f.post(newInstanceBody, bad.Encode())
	}
	if store.Len() != 0 {
		t.Errorf("%d nonces recorded from forged calls", store.Len())
	}
	if _, r := f.post(newInstanceBody, q.Encode()); r.ResultCode != ResultSuccess {
		t.Errorf("the genuine call after forged ones with its nonce: %s", r.ResultCode)
	}
}

type failingNonces struct{}

func (failingNonces) Use(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("redis down")
}

func TestNonceStoreFailureIsInternalError(t *testing.T) {
	f := setup(t, WithNonceStore(failingNonces{}))
	if r := f.signed(newInstanceBody); r.ResultCode != ResultInternalError || strings.Contains(r.ResultMsg, "redis") {
		t.Errorf("%s %s", r.ResultCode, r.ResultMsg)
	}
	if len(f.vendor.Calls()) != 0 {
		t.Error("vendor called")
	}
}

// The raw-body and Map<String,String> renderings verify too, and the
// vendor gets the same decoded values.
func TestAcceptedBodyForms(t *testing.T) {
	body := `{"testFlag":1, "orderId":"CS1","activity":"orderNotify"}`
	for _, form := range []BodyForms{FormSorted, FormSortedStrings, FormRaw} {
		f := setup(t)
		s, _ := NewSigner(testKey, WithSignedForm(form), WithSignerClock(f.clock.Now))
		sig, _ := s.Sign([]byte(body))
		if _, r := f.post(body, sig.Query().Encode()); r.ResultCode != ResultSuccess {
			t.Errorf("form %d: %s %s", form, r.ResultCode, r.ResultMsg)
			continue
		}
		if r := f.vendor.Calls()[0].(*OrderNotifyRequest); r.OrderID != "CS1" || !r.Test {
			t.Errorf("form %d: %+v", form, r)
		}
	}
	// A handler restricted to FormSorted refuses a raw-body signature.
	f := setup(t, WithBodyForms(FormSorted))
	s, _ := NewSigner(testKey, WithSignedForm(FormRaw), WithSignerClock(f.clock.Now))
	sig, _ := s.Sign([]byte(body))
	if _, r := f.post(body, sig.Query().Encode()); r.ResultCode != ResultAuthFailed {
		t.Errorf("raw form against FormSorted only: %s", r.ResultCode)
	}
}

func TestSHA256BodyHashOption(t *testing.T) {
	f := setup(t, WithBodyHash(SHA256BodyHash))
	s, _ := NewSigner(testKey, WithSignerBodyHash(SHA256BodyHash), WithSignerClock(f.clock.Now))
	sig, _ := s.Sign([]byte(newInstanceBody))
	if _, r := f.post(newInstanceBody, sig.Query().Encode()); r.ResultCode != ResultSuccess {
		t.Errorf("%s %s", r.ResultCode, r.ResultMsg)
	}
	if r := f.signed(newInstanceBody); r.ResultCode != ResultAuthFailed {
		t.Errorf("HMAC-hashed call to a SHA-256 handler: %s", r.ResultCode)
	}
}

// Every activity, signed, decoded into its typed request.
func TestActivitiesDecoded(t *testing.T) {
	f := setup(t)
	cases := []struct {
		body  string
		check func(Activity) bool
	}{
		{`{"activity":"queryInstance","instanceId":"i-1, i-2","testFlag":"1"}`, func(a Activity) bool {
			r := a.(*QueryInstanceRequest)
			return len(r.InstanceIDs) == 2 && r.InstanceIDs[1] == "i-2" && r.Test
		}},
		{`{"activity":"refreshInstance","scene":"RENEWAL","orderId":"CS2","orderLineId":"CS2-000001","instanceId":"i-1","productId":"OFFI1","expireTime":"20240101000000","testFlag":"0"}`, func(a Activity) bool {
			r := a.(*RefreshInstanceRequest)
			return r.Scene == SceneRenewal && r.OrderID == "CS2" && r.ProductID == "OFFI1" &&
				r.ExpireTime.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) && !r.Test
		}},
		{`{"activity":"refreshInstance","scene":"TRIAL_TO_FORMAL","instanceId":"i-1","expireTime":"20240101000000"}`, func(a Activity) bool {
			return a.(*RefreshInstanceRequest).Scene == SceneTrialToFormal
		}},
		{`{"activity":"refreshInstance","scene":"UNSUBSCRIBE_RENEWAL_PERIOD","instanceId":"i-1","expireTime":"20240101000000"}`, func(a Activity) bool {
			return a.(*RefreshInstanceRequest).Scene == SceneUnsubscribeRenewalPeriod
		}},
		{`{"activity":"refreshInstance","scene":"RENEWAL_CHANGE","instanceId":"i-1","expireTime":"20240101000000"}`, func(a Activity) bool {
			return a.(*RefreshInstanceRequest).Scene == "RENEWAL_CHANGE"
		}},
		{`{"activity":"updateInstanceStatus","instanceId":"i-1","status":"FREEZE","testFlag":"1"}`, func(a Activity) bool {
			return a.(*UpdateInstanceStatusRequest).Status == StatusFreeze
		}},
		{`{"activity":"updateInstanceStatus","instanceId":"i-1","status":"UNFREEZE"}`, func(a Activity) bool {
			return a.(*UpdateInstanceStatusRequest).Status == StatusUnfreeze
		}},
		{`{"activity":"releaseInstance","instanceId":"i-1","orderId":"CS3","orderLineId":"CS3-000001","testFlag":"0"}`, func(a Activity) bool {
			r := a.(*ReleaseInstanceRequest)
			return r.InstanceID == "i-1" && r.OrderID == "CS3" && r.OrderLineID == "CS3-000001"
		}},
		{`{"activity":"upgradeInstance","instanceId":"i-1","orderId":"CS4","orderLineId":"CS4-000001","testFlag":"0"}`, func(a Activity) bool {
			r := a.(*UpgradeInstanceRequest)
			return r.OrderID == "CS4" && !r.V1 && r.ActivityName() == ActivityUpgradeInstance
		}},
		{`{"activity":"upgrade","instanceId":"i-1","orderId":"CS5","productId":"OFFI2","skuCode":"sku2"}`, func(a Activity) bool {
			r := a.(*UpgradeInstanceRequest)
			return r.V1 && r.SKUCode == "sku2" && r.ActivityName() == ActivityUpgrade
		}},
		{`{"activity":"changeInstanceCheck","instanceId":"i-1","productInfo":{"productId":"OFFI3","skuCode":"s3","x":[1]},"testFlag":"1"}`, func(a Activity) bool {
			r := a.(*ChangeInstanceCheckRequest)
			return r.ProductID == "OFFI3" && string(r.ProductInfo) == `{"productId":"OFFI3","skuCode":"s3","x":[1]}`
		}},
		{`{"activity":"changeInstanceCheck","instanceId":"i-1","productInfo":"{\"productId\":\"OFFI4\"}"}`, func(a Activity) bool {
			return a.(*ChangeInstanceCheckRequest).ProductID == "OFFI4"
		}},
		{`{"activity":"orderNotify","orderId":"CS6","orderLineId":"CS6-000001","testFlag":"1"}`, func(a Activity) bool {
			r := a.(*OrderNotifyRequest)
			return r.OrderID == "CS6" && r.OrderLineID == "CS6-000001" && r.Test
		}},
		{`{"activity":"expireInstance","instanceId":"i-1","testFlag":"0"}`, func(a Activity) bool {
			return a.(*ExpireInstanceRequest).InstanceID == "i-1"
		}},
	}
	for i, c := range cases {
		r := f.signed(c.body)
		if r.ResultCode != ResultSuccess {
			t.Errorf("%s: %s %s", c.body, r.ResultCode, r.ResultMsg)
			continue
		}
		calls := f.vendor.Calls()
		if len(calls) != i+1 || !c.check(calls[i]) {
			t.Errorf("%s: decoded %+v", c.body, calls[len(calls)-1])
		}
	}
}

func TestInlineOrderShape(t *testing.T) {
	f := setup(t)
	body := `{"activity":"newInstance","buyerInfo":{"customerId":"688055390f3049f283fe9f1aa90f1858","customerName":"CBC_marketplace_x","userId":"1e86","userName":"buyer","mobilePhone":"18600000000","email":"buyer@huawei.com"},"orderInfo":[{"businessId":"8a2c4e6f-1","orderId":"CS2210101920BWXLK","trialFlag":"0","orderAmount":12.78,"chargingMode":"PERIOD","periodType":"month","periodNumber":5,"provisionType":1,"productInfo":[{"skuCode":"a63ee5c9","productId":"OFFI788963615933718528","linearValue":20}],"createTime":"20221024194509","expireTime":"20221224194509","extendParams":[{"name":"emailDomainName","value":"test.xxxx.com"}]}],"testFlag":"1"}`
	if r := f.signed(body); r.ResultCode != ResultSuccess || r.InstanceID != "8a2c4e6f-1" {
		t.Fatalf("%s %s %s", r.ResultCode, r.ResultMsg, r.InstanceID)
	}
	r := f.vendor.Calls()[0].(*NewInstanceRequest)
	if r.Buyer == nil || r.Buyer.CustomerID != "688055390f3049f283fe9f1aa90f1858" || r.Buyer.Email != "buyer@huawei.com" {
		t.Errorf("buyer %+v", r.Buyer)
	}
	if r.OrderID != "CS2210101920BWXLK" || r.BusinessID != "8a2c4e6f-1" || r.OrderLineID != "" || len(r.Orders) != 1 {
		t.Fatalf("request %+v", r)
	}
	o := r.Orders[0]
	if o.OrderAmount != "12.78" || o.PeriodNumber != 5 || o.ProvisionType != 1 || o.ChargingMode != "PERIOD" ||
		len(o.Products) != 1 || o.Products[0].LinearValue != "20" || o.Products[0].SKUCode != "a63ee5c9" ||
		!o.ExpireTime.Equal(time.Date(2022, 12, 24, 19, 45, 9, 0, time.UTC)) || o.ExtendParams[0].Value != "test.xxxx.com" {
		t.Errorf("order %+v", o)
	}
	// The typed request encodes back to a body that decodes the same.
	wire, err := EncodeActivity(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DecodeActivity(wire, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := again.(*NewInstanceRequest)
	if a.Orders[0].OrderAmount != "12.78" || a.Buyer.UserName != "buyer" || !a.Orders[0].CreateTime.Equal(o.CreateTime) {
		t.Errorf("round trip %+v", a)
	}
}

// Missing, mistyped, oversized and unknown fields: 000002 naming the field,
// no vendor call.
func TestInvalidParameters(t *testing.T) {
	f := setup(t)
	long := strings.Repeat("x", 65)
	cases := []struct{ body, inMsg string }{
		{`{"orderId":"CS1"}`, "activity: is required"},
		{`{"activity":7}`, "activity: must be a string"},
		{`{"activity":"deleteEverything"}`, `unknown activity "deleteEverything"`},
		{`{"activity":"newInstance","orderLineId":"l","businessId":"b"}`, "orderId: is required"},
		{`{"activity":"newInstance","orderId":"","orderLineId":"l","businessId":"b"}`, "orderId: must not be empty"},
		{`{"activity":"newInstance","orderId":"` + long + `","orderLineId":"l","businessId":"b"}`, "orderId: must be at most 64 characters"},
		{`{"activity":"newInstance","orderId":5,"orderLineId":"l","businessId":"b"}`, "orderId: must be a string, not a number"},
		{`{"activity":"newInstance","orderId":null,"orderLineId":"l","businessId":"b"}`, "orderId: is required"},
		{`{"activity":"newInstance","orderId":"o","orderLineId":"l","businessId":"b","testFlag":"yes"}`, `testFlag: must be "0" or "1"`},
		{`{"activity":"newInstance","orderInfo":[]}`, "orderInfo: must not be empty"},
		{`{"activity":"newInstance","orderInfo":[{"orderId":"o","periodNumber":"five"}]}`, "orderInfo[0].businessId: is required; orderInfo[0].periodNumber: must be an integer"},
		{`{"activity":"newInstance","orderInfo":[7]}`, "orderInfo[0]: must be an object"},
		{`{"activity":"queryInstance"}`, "instanceId: is required"},
		{`{"activity":"queryInstance","instanceId":"a,,b"}`, "must not contain an empty instance ID"},
		{`{"activity":"queryInstance","instanceId":"` + strings.Repeat("i,", 100) + `i"}`, "at most 100 instances"},
		{`{"activity":"refreshInstance","instanceId":"i"}`, "expireTime: is required"},
		{`{"activity":"refreshInstance","instanceId":"i","expireTime":"2024-01-01"}`, "expireTime: must be a time in the form 20060102150405"},
		{`{"activity":"updateInstanceStatus","instanceId":"i","status":"DELETE"}`, "status: must be FREEZE or UNFREEZE"},
		{`{"activity":"releaseInstance"}`, "instanceId: is required"},
		{`{"activity":"upgradeInstance","instanceId":"i"}`, "orderId: is required"},
		{`{"activity":"changeInstanceCheck","instanceId":"i","productInfo":[1]}`, "productInfo: must be an object"},
		{`{"activity":"orderNotify"}`, "orderId: is required"},
		{`{"activity":"expireInstance","instanceId":{}}`, "instanceId: must be a string, not a object"},
	}
	for _, c := range cases {
		r := f.signed(c.body)
		if r.ResultCode != ResultInvalidParameter || !strings.Contains(r.ResultMsg, c.inMsg) {
			t.Errorf("%s:\n got %s %q\nwant 000002 containing %q", c.body, r.ResultCode, r.ResultMsg, c.inMsg)
		}
	}
	if n := len(f.vendor.Calls()); n != 0 {
		t.Errorf("%d vendor calls", n)
	}
}

func TestVendorErrorsMapToCodes(t *testing.T) {
	body := `{"activity":"releaseInstance","instanceId":"i-1"}`
	cases := []struct {
		err  error
		code ResultCode
		msg  string
	}{
		{ErrInstanceNotFound, ResultInstanceNotFound, "instance not found"},
		{fmt.Errorf("release i-1: %w", ErrInstanceNotFound), ResultInstanceNotFound, "instance not found"},
		{ErrProcessing, ResultProcessing, "request is processing"},
		{ErrNoResources, ResultNoResources, "no instance resource available"},
		{ErrInvalidParameter, ResultInvalidParameter, "invalid request parameter"},
		{NewError("000107", "email domain already used"), "000107", "email domain already used"},
		{NewError("000107", ""), "000107", "internal error"},
		{errors.New("pq: connection refused to 10.0.0.5 password=hunter2"), ResultInternalError, "internal error"},
		{ErrNotImplemented, ResultInternalError, "releaseInstance not implemented"},
		{&Error{Code: "bogus", Message: "x"}, ResultInternalError, "internal error"},
	}
	for _, c := range cases {
		f := setup(t)
		f.vendor.err = c.err
		if r := f.signed(body); r.ResultCode != c.code || r.ResultMsg != c.msg {
			t.Errorf("%v: got %s %q, want %s %q", c.err, r.ResultCode, r.ResultMsg, c.code, c.msg)
		}
	}
}

func TestVendorPanicIsInternalError(t *testing.T) {
	var logs bytes.Buffer
	f := setup(t, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	f.vendor.panicMsg = "boom"
	if r := f.signed(`{"activity":"releaseInstance","instanceId":"i-1"}`); r.ResultCode != ResultInternalError {
		t.Errorf("%s", r.ResultCode)
	}
	if !strings.Contains(logs.String(), "vendor panicked") {
		t.Errorf("logs: %s", logs.String())
	}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	f := setup(t, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	sig, _ := f.signer.Sign([]byte(newInstanceBody))
	f.post(newInstanceBody, sig.Query().Encode())
	f.post(newInstanceBody, sig.Query().Encode()) // replay
	f.signed(`{"activity":"newInstance"}`)
	out := logs.String()
	for _, s := range []string{testKey.Reveal(), "s3cret-Pass", sig.Signature} {
		if strings.Contains(out, s) {
			t.Errorf("logs contain %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "resultCode=000001") || !strings.Contains(out, "nonce already used") {
		t.Errorf("logs lack the refusal:\n%s", out)
	}
}

func TestQueryInstanceAnswer(t *testing.T) {
	f := setup(t)
	f.vendor.infos = []InstanceInfo{{InstanceID: "i-1", AppInfo: AppInfo{FrontEndURL: "https://a.example.com/?x=1&y=<2>", Memo: "ok"}}}
	sig, _ := f.signer.Sign([]byte(`{"activity":"queryInstance","instanceId":"i-1"}`))
	rec, resp := f.post(`{"activity":"queryInstance","instanceId":"i-1"}`, sig.Query().Encode())
	want := `{"resultCode":"000000","resultMsg":"success.","info":[{"instanceId":"i-1","appInfo":{"frontEndUrl":"https://a.example.com/?x=1&y=<2>","memo":"ok"}}]}`
	if rec.Body.String() != want {
		t.Errorf("got %s\nwant %s", rec.Body.String(), want)
	}
	if len(resp.Info) != 1 || resp.Info[0].AppInfo.Memo != "ok" {
		t.Errorf("%+v", resp.Info)
	}
	f.vendor.infos = nil
	sig, _ = f.signer.Sign([]byte(`{"activity":"queryInstance","instanceId":"i-2"}`))
	if rec, _ := f.post(`{"activity":"queryInstance","instanceId":"i-2"}`, sig.Query().Encode()); !strings.Contains(rec.Body.String(), `"info":[]`) {
		t.Errorf("no instances: %s", rec.Body.String())
	}
}

// KooGallery repeats newInstance (failed answers, and the buyer viewing the
// order); the repeat is a lookup with the same instance ID.
func TestNewInstanceRepeatIsALookup(t *testing.T) {
	store := NewMemoryInstanceStore(nil)
	f := setup(t, WithInstanceStore(store))
	first := f.signed(newInstanceBody)
	repeat := strings.Replace(newInstanceBody, "87b94795-0603-4e24-8ae5-69420d60e3c8", "ffffffff-another-business-id", 1)
	for range 3 {
		f.clock.Advance(time.Hour)
		r := f.signed(repeat)
		if r.ResultCode != ResultSuccess || r.InstanceID != first.InstanceID || r.AppInfo.FrontEndURL != first.AppInfo.FrontEndURL {
			t.Errorf("repeat: %s %s, want %s", r.ResultCode, r.InstanceID, first.InstanceID)
		}
	}
	if n := len(f.vendor.Calls()); n != 1 {
		t.Errorf("%d vendor calls, want 1", n)
	}
	if rec, ok := store.Lookup(OrderKey{"CS2211181819B4LVS", "CS2211181819B4LVS-000001"}); !ok || rec.InstanceID != first.InstanceID {
		t.Errorf("store %+v %v", rec, ok)
	}
	// Another order line is another instance.
	other := strings.Replace(repeat, "-000001", "-000002", 1)
	if r := f.signed(other); r.InstanceID != "ffffffff-another-business-id" {
		t.Errorf("other line: %s", r.InstanceID)
	}
}

func TestNewInstanceFailureIsNotRecorded(t *testing.T) {
	f := setup(t)
	f.vendor.err = ErrNoResources
	if r := f.signed(newInstanceBody); r.ResultCode != ResultNoResources {
		t.Fatalf("%s", r.ResultCode)
	}
	f.vendor.err = nil
	if r := f.signed(newInstanceBody); r.ResultCode != ResultSuccess {
		t.Errorf("retry after failure: %s", r.ResultCode)
	}
	if n := len(f.vendor.Calls()); n != 2 {
		t.Errorf("%d vendor calls, want 2", n)
	}
}

func TestNewInstanceBadVendorResult(t *testing.T) {
	for _, res := range []*NewInstanceResult{
		{InstanceID: "", AppInfo: AppInfo{FrontEndURL: "https://x"}},
		{InstanceID: strings.Repeat("i", 65), AppInfo: AppInfo{FrontEndURL: "https://x"}},
		{InstanceID: "has space", AppInfo: AppInfo{FrontEndURL: "https://x"}},
		{InstanceID: "i-1"},
	} {
		f := setup(t)
		f.vendor.result = res
		if r := f.signed(newInstanceBody); r.ResultCode != ResultInternalError || r.InstanceID != "" {
			t.Errorf("%+v: %s %s", res, r.ResultCode, r.InstanceID)
		}
	}
}

// Concurrent newInstance calls for one order reach the vendor once; the
// others are told to come back (000004) or get the recorded instance.
func TestNewInstanceConcurrentRepeats(t *testing.T) {
	f := setup(t)
	f.vendor.block = make(chan struct{})
	var wg sync.WaitGroup
	results := make(chan *Response, 10)
	for i := range 10 {
		body := strings.Replace(newInstanceBody, "87b94795", fmt.Sprintf("b%07d", i), 1)
		sig, _ := f.signer.Sign([]byte(body))
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, r := f.post(body, sig.Query().Encode())
			results <- r
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the calls reach the store
	close(f.vendor.block)
	wg.Wait()
	close(results)
	ids := map[string]bool{}
	for r := range results {
		switch r.ResultCode {
		case ResultSuccess:
			ids[r.InstanceID] = true
		case ResultProcessing:
		default:
			t.Errorf("%s %s", r.ResultCode, r.ResultMsg)
		}
	}
	if len(ids) != 1 || len(f.vendor.Calls()) != 1 {
		t.Errorf("instance IDs %v, %d vendor calls", ids, len(f.vendor.Calls()))
	}
}

func TestWithoutIdempotencyCallsVendorEveryTime(t *testing.T) {
	f := setup(t, WithoutIdempotency())
	f.signed(newInstanceBody)
	f.signed(newInstanceBody)
	if n := len(f.vendor.Calls()); n != 2 {
		t.Errorf("%d vendor calls", n)
	}
}

func TestUnimplementedVendor(t *testing.T) {
	type minimal struct{ UnimplementedVendor }
	c := newClock()
	h, err := NewHandler(testKey, minimal{}, WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := NewSigner(testKey, WithSignerClock(c.Now))
	caller, _ := NewCaller("http://vendor.invalid/saasproduce", s, WithCallerHandler(h))
	for body, want := range map[string]ResultCode{
		newInstanceBody: ResultInternalError,
		`{"activity":"orderNotify","orderId":"CS1"}`:                                    ResultSuccess,
		`{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{}}`:          ResultSuccess,
		`{"activity":"updateInstanceStatus","instanceId":"i","status":"FREEZE"}`:        ResultInternalError,
		`{"activity":"refreshInstance","instanceId":"i","expireTime":"20300101000000"}`: ResultInternalError,
	} {
		r, err := caller.SendBody(context.Background(), []byte(body))
		if err != nil || r.ResultCode != want {
			t.Errorf("%s: %v %v", body, r, err)
		}
	}
}

func TestHandlerOptionsValidate(t *testing.T) {
	v := &recVendor{}
	bad := [][]ServerOption{
		{WithWindow(0)}, {WithWindow(time.Hour)}, {WithFutureSkew(-time.Second)}, {WithNonceStore(nil)},
		{WithBodyForms(0)}, {WithBodyForms(8)}, {WithMaxBodyBytes(10)}, {WithLogger(nil)}, {WithClock(nil)},
		{WithTimeLocation(nil)}, {WithVendorTimeout(0)}, {WithBodyHash(nil)}, {WithInstanceStore(nil)},
		{WithClaimLease(0)}, {WithClientSecretKey(nil)}, {WithRSAPadding(PaddingAuto)},
		{WithoutIdempotency(), WithInstanceStore(NewMemoryInstanceStore(nil))}, {nil},
	}
	for i, opts := range bad {
		if _, err := NewHandler(testKey, v, opts...); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
	if _, err := NewHandler("", v); err == nil {
		t.Error("empty key")
	}
	if _, err := NewHandler(testKey, nil); err == nil {
		t.Error("nil vendor")
	}
	if _, err := NewKitHandler(testKitKey, UnimplementedKitVendor{}, WithInstanceStore(NewMemoryInstanceStore(nil))); err == nil {
		t.Error("kit handler took a Handler option")
	}
}

func TestWithTimeLocation(t *testing.T) {
	f := setup(t, WithTimeLocation(UTC8))
	f.signed(`{"activity":"refreshInstance","instanceId":"i","expireTime":"20240101080000"}`)
	r := f.vendor.Calls()[0].(*RefreshInstanceRequest)
	if !r.ExpireTime.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("expireTime %v", r.ExpireTime)
	}
}

func TestVendorTimeout(t *testing.T) {
	v := &ctxVendor{}
	c := newClock()
	h, _ := NewHandler(testKey, v, WithClock(c.Now), WithVendorTimeout(10*time.Millisecond))
	s, _ := NewSigner(testKey, WithSignerClock(c.Now))
	caller, _ := NewCaller("http://vendor.invalid/", s, WithCallerHandler(h))
	r, err := caller.Send(context.Background(), &ReleaseInstanceRequest{InstanceID: "i"})
	if err != nil || r.ResultCode != ResultInternalError || !errors.Is(v.err, context.DeadlineExceeded) {
		t.Errorf("%v %v %v", r, err, v.err)
	}
}

type ctxVendor struct {
	UnimplementedVendor
	err error
}

func (v *ctxVendor) ReleaseInstance(ctx context.Context, _ *ReleaseInstanceRequest) error {
	<-ctx.Done()
	v.err = ctx.Err()
	return v.err
}
