package koogallery

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/truewatch-labs/marketplace-go/secret"
)

var fuzzSeeds = []string{
	newInstanceBody,
	exampleKitBody,
	`{"activity":"newInstance","buyerInfo":{"customerId":"c"},"orderInfo":[{"businessId":"b","orderId":"o","orderAmount":12.78,"productInfo":[{"skuCode":"s","linearValue":20}],"createTime":"20221024194509"}],"testFlag":"1"}`,
	`{"activity":"queryInstance","instanceId":"a,b,c"}`,
	`{"activity":"refreshInstance","scene":"RENEWAL","instanceId":"i","expireTime":"20240101000000"}`,
	`{"activity":"updateInstanceStatus","instanceId":"i","status":"FREEZE"}`,
	`{"activity":"changeInstanceCheck","instanceId":"i","productInfo":"{\"productId\":\"p\"}"}`,
	`{"activity":"upgrade","instanceId":"i","orderId":"o"}`,
	`{"a":1e400,"b":-0,"c":"\u2028<>&","d":[null,{"z":1,"y":{}}],"\ud83d\ude00":1.50}`,
	`{"a":1,"a":2}`, `{`, `[]`, `{"s":"\ud800"}`, "\xff",
}

// The canonicaliser never panics; what it accepts is valid JSON, and
// canonicalising its own output changes nothing.
func FuzzCanonical(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := Canonical(body)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q from %q", out, body)
		}
		again, err := Canonical(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q (%v)", out, again, err)
		}
		if !json.Valid(body) {
			t.Fatalf("accepted what encoding/json refuses: %q", body)
		}
	})
}

// The decoders never panic; an activity they accept encodes to a body
// they accept again, as the same activity.
func FuzzDecodeActivity(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := DecodeActivity(body, nil)
		if err != nil {
			return
		}
		wire, err := EncodeActivity(a)
		if err != nil {
			t.Fatalf("encode %T: %v", a, err)
		}
		b, err := DecodeActivity(wire, nil)
		if err != nil {
			t.Fatalf("%s re-encoded as %s, which does not decode: %v", body, wire, err)
		}
		if b.ActivityName() != a.ActivityName() {
			t.Fatalf("%s became %s", a.ActivityName(), b.ActivityName())
		}
	})
}

func FuzzDecodeKitEvent(f *testing.F) {
	for _, s := range fuzzSeeds {
		for _, name := range []string{KitTenantSync, KitApplicationSync, KitAuthSync, KitSingleOrgSync, KitAllOrgSync} {
			f.Add(name, []byte(s))
		}
	}
	f.Add(KitAuthSync, []byte(`{"instanceId":"i","tenantId":"t","appId":"a","flag":3,"userList":"[{\"userName\":\"u\",\"enable\":\"true\"}]"}`))
	f.Fuzz(func(t *testing.T, name string, body []byte) {
		ev, err := DecodeKitEvent(name, body, nil)
		if err != nil {
			return
		}
		wire, err := ev.wireBody(func(s secret.String) (string, error) { return "ciphertext", nil })
		if err != nil {
			return // an Extension that is not JSON cannot be re-sent; decoding kept it raw
		}
		if _, err := DecodeKitEvent(name, wire, nil); err != nil {
			t.Fatalf("%s re-encoded as %s, which does not decode: %v", body, wire, err)
		}
	})
}

// The handler never panics or answers 5xx, whatever the query and body;
// a forged call never reaches the vendor, and a correctly signed one is
// never refused as unauthenticated.
func FuzzHandler(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "signature=00&timestamp=1&nonce=n", true)
		f.Add([]byte(s), "", false)
	}
	c := &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	signer, _ := NewSigner(testKey, WithSignerClock(c.Now))
	f.Fuzz(func(t *testing.T, body []byte, query string, sign bool) {
		v := &recVendor{}
		h, err := NewHandler(testKey, v, WithClock(c.Now))
		if err != nil {
			t.Fatal(err)
		}
		signed := false
		if sign {
			if sig, err := signer.Sign(body); err == nil {
				query, signed = sig.Query().Encode(), true
			}
		}
		req := httptest.NewRequest(http.MethodPost, "/p", bytes.NewReader(body))
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d", rec.Code)
		}
		r, err := decodeResponse(rec.Code, rec.Body.Bytes())
		if err != nil || !r.ResultCode.Valid() {
			t.Fatalf("answer %q: %v", rec.Body.String(), err)
		}
		if signed && r.ResultCode == ResultAuthFailed {
			t.Fatalf("a signed call was refused: %s", r.ResultMsg)
		}
		if !signed && len(v.Calls()) > 0 {
			t.Fatal("an unsigned call reached the vendor")
		}
	})
}
