package hwsign_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	sdkconfig "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	bssintl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2"
	intl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2/model"
	iam "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/internal/hwsign"
)

const (
	testAK = "HWSIGNTESTAK0001"
	testSK = "hwsign-test-secret"
)

var now = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func lookup(ak string) (hwsign.Key, bool) {
	if ak == testAK {
		return hwsign.Key{SK: testSK}, true
	}
	return hwsign.Key{}, false
}

func signed(t *testing.T, method, target, body string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "hwsign-test")
	r.Header.Set("X-Domain-Id", "0a1b2c3d4e5f40718293a4b5c6d7e8f9")
	hwsign.Sign(r, []byte(body), testAK, testSK, now)
	return r
}

// resign changes r with change, then signs it again as a client would.
func resign(r *http.Request, change func(), body string) []byte {
	change()
	r.Header.Del("Authorization")
	hwsign.Sign(r, []byte(body), testAK, testSK, now)
	return []byte(body)
}

func kindOf(t *testing.T, err error) hwsign.Kind {
	t.Helper()
	var e *hwsign.Error
	require.True(t, errors.As(err, &e), "error %v is not *hwsign.Error", err)
	assert.NotContains(t, e.Error(), testSK)
	return e.Kind
}

func TestHuaweiVerifyAcceptsOwnSignature(t *testing.T) {
	body := `{"limit":10}` + "\n"
	r := signed(t, http.MethodPost, "http://h/v2/orders/suscriptions/resources/query?b=2&a=1&a=0", body)
	ak, err := hwsign.Verify(r, []byte(body), lookup, now)
	require.NoError(t, err)
	assert.Equal(t, testAK, ak)
}

func TestHuaweiVerifyRefuses(t *testing.T) {
	const body = `{"limit":10}`
	cases := map[string]struct {
		mutate func(r *http.Request) []byte
		now    time.Time
		kind   hwsign.Kind
	}{
		"tampered body": {mutate: func(r *http.Request) []byte { return []byte(`{"limit":11}`) }, kind: hwsign.KindBadSignature},
		"tampered query": {mutate: func(r *http.Request) []byte {
			r.URL.RawQuery = "x=2"
			return []byte(body)
		}, kind: hwsign.KindBadSignature},
		"tampered signed header": {mutate: func(r *http.Request) []byte {
			r.Header.Set("X-Domain-Id", "ffffffffffffffffffffffffffffffff")
			return []byte(body)
		}, kind: hwsign.KindBadSignature},
		"removed signed header": {mutate: func(r *http.Request) []byte {
			r.Header.Del("User-Agent")
			return []byte(body)
		}, kind: hwsign.KindBadSignature},
		"tampered method": {mutate: func(r *http.Request) []byte { r.Method = http.MethodPut; return []byte(body) }, kind: hwsign.KindBadSignature},
		"stale date":      {mutate: func(r *http.Request) []byte { return []byte(body) }, now: now.Add(15*time.Minute + time.Second), kind: hwsign.KindExpired},
		"future date":     {mutate: func(r *http.Request) []byte { return []byte(body) }, now: now.Add(-15*time.Minute - time.Second), kind: hwsign.KindExpired},
		"unknown AK": {mutate: func(r *http.Request) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testAK, "NOPE", 1))
			return []byte(body)
		}, kind: hwsign.KindUnknownKey},
		"missing authorization": {mutate: func(r *http.Request) []byte { r.Header.Del("Authorization"); return []byte(body) }, kind: hwsign.KindMissing},
		"missing date":          {mutate: func(r *http.Request) []byte { r.Header.Del(hwsign.HeaderDate); return []byte(body) }, kind: hwsign.KindMissing},
		"bad date": {mutate: func(r *http.Request) []byte {
			r.Header.Set(hwsign.HeaderDate, "2026-03-04T05:06:07Z")
			return []byte(body)
		}, kind: hwsign.KindMalformed},
		"other scheme": {mutate: func(r *http.Request) []byte {
			r.Header.Set("Authorization", "Bearer abc")
			return []byte(body)
		}, kind: hwsign.KindMalformed},
		"date not signed": {mutate: func(r *http.Request) []byte {
			r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+testAK+", SignedHeaders=user-agent, Signature=00")
			return []byte(body)
		}, kind: hwsign.KindMalformed},
		"fractional date": {mutate: func(r *http.Request) []byte {
			return resign(r, func() { r.Header.Set(hwsign.HeaderDate, now.Format("20060102T150405")+".5Z") }, body)
		}, kind: hwsign.KindMalformed},
		"date without zone": {mutate: func(r *http.Request) []byte {
			return resign(r, func() { r.Header.Set(hwsign.HeaderDate, now.Format("20060102T150405")) }, body)
		}, kind: hwsign.KindMalformed},
		"two dates": {mutate: func(r *http.Request) []byte {
			r.Header.Add(hwsign.HeaderDate, now.Add(time.Hour).Format(hwsign.DateFormat))
			return []byte(body)
		}, kind: hwsign.KindMalformed},
		"two authorization headers": {mutate: func(r *http.Request) []byte {
			r.Header.Add("Authorization", "SDK-HMAC-SHA256 Access=OTHER, SignedHeaders=x-sdk-date, Signature=00")
			return []byte(body)
		}, kind: hwsign.KindMalformed},
		"access given twice": {mutate: func(r *http.Request) []byte {
			r.Header.Set("Authorization", r.Header.Get("Authorization")+", Access="+testAK)
			return []byte(body)
		}, kind: hwsign.KindMalformed},
		"semicolon in query": {mutate: func(r *http.Request) []byte {
			return resign(r, func() { r.URL.RawQuery = "a=1;b=2" }, body)
		}, kind: hwsign.KindMalformed},
		"signed header absent": {mutate: func(r *http.Request) []byte {
			a := strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=", "SignedHeaders=a-missing;", 1)
			r.Header.Set("Authorization", a)
			return []byte(body)
		}, kind: hwsign.KindBadSignature},
		"unsorted signed headers": {mutate: func(r *http.Request) []byte {
			r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+testAK+", SignedHeaders=x-sdk-date;user-agent, Signature=00")
			return []byte(body)
		}, kind: hwsign.KindMalformed},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := signed(t, http.MethodPost, "http://h/v2/orders/suscriptions/resources/query?a=1", body)
			b := tc.mutate(r)
			at := now
			if !tc.now.IsZero() {
				at = tc.now
			}
			_, err := hwsign.Verify(r, b, lookup, at)
			require.Error(t, err)
			assert.Equal(t, tc.kind, kindOf(t, err))
		})
	}
}

func TestHuaweiVerifyCanonicalEdges(t *testing.T) {
	for name, target := range map[string]string{
		"repeated keys":          "http://h/v2/x?a=2&a=1&a=10&b=",
		"empty value, no equals": "http://h/v2/x?flag&b=1",
		"escaped segment":        "http://h/v2/orders/customer-orders/details/CS%201%2B2%25",
		"plus and space":         "http://h/v2/x?q=a+b%20c%2Bd",
		"unicode":                "http://h/v2/%C3%BC?%C3%BC=%C3%A9",
	} {
		t.Run(name, func(t *testing.T) {
			r := signed(t, http.MethodGet, target, "")
			_, err := hwsign.Verify(r, nil, lookup, now)
			require.NoError(t, err)
		})
	}
	t.Run("inner spaces in a header value are kept", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "http://h/v3/auth/domains", nil)
		r.Header.Set("X-Custom", "  a  b   c ")
		hwsign.Sign(r, nil, testAK, testSK, now)
		_, err := hwsign.Verify(r, nil, lookup, now)
		require.NoError(t, err, "outer spaces are trimmed")
		r.Header.Set("X-Custom", "a b c")
		_, err = hwsign.Verify(r, nil, lookup, now)
		assert.Equal(t, hwsign.KindBadSignature, kindOf(t, err), "inner spaces are signed as they are")
	})
}

func TestHuaweiVerifyWrongSK(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://h/v3/auth/domains", nil)
	hwsign.Sign(r, nil, testAK, "not-the-secret", now)
	_, err := hwsign.Verify(r, nil, lookup, now)
	assert.Equal(t, hwsign.KindBadSignature, kindOf(t, err))
}

func TestHuaweiVerifySkewBoundaryIsInclusive(t *testing.T) {
	r := signed(t, http.MethodGet, "http://h/v3/auth/domains", "")
	_, err := hwsign.Verify(r, nil, lookup, now.Add(hwsign.MaxSkew))
	require.NoError(t, err)
	_, err = hwsign.Verify(r, nil, lookup, now.Add(-hwsign.MaxSkew))
	require.NoError(t, err)
}

func TestHuaweiVerifySecurityToken(t *testing.T) {
	withToken := func(ak string) (hwsign.Key, bool) { return hwsign.Key{SK: testSK, SecurityToken: "tok"}, ak == testAK }
	r := httptest.NewRequest(http.MethodGet, "http://h/v5/caller-identity", nil)
	r.Header.Set(hwsign.HeaderSecurityToken, "tok")
	hwsign.Sign(r, nil, testAK, testSK, now)
	_, err := hwsign.Verify(r, nil, withToken, now)
	require.NoError(t, err)

	r = httptest.NewRequest(http.MethodGet, "http://h/v5/caller-identity", nil)
	r.Header.Set(hwsign.HeaderSecurityToken, "other")
	hwsign.Sign(r, nil, testAK, testSK, now)
	_, err = hwsign.Verify(r, nil, withToken, now)
	assert.Equal(t, hwsign.KindBadToken, kindOf(t, err))

	r = signed(t, http.MethodGet, "http://h/v5/caller-identity", "")
	_, err = hwsign.Verify(r, nil, withToken, now)
	assert.Equal(t, hwsign.KindBadToken, kindOf(t, err))
}

func TestHuaweiCanonicalPieces(t *testing.T) {
	assert.Equal(t, "/v2/orders/customer-orders/", hwsign.CanonicalURI("/v2/orders/customer-orders"))
	assert.Equal(t, "/a%20b/c%2Bd/", hwsign.CanonicalURI("/a b/c+d"), "segments are escaped")
	assert.Equal(t, "A-Z_a.z~0%2B%20%2A", hwsign.Escape("A-Z_a.z~0+ *"))
	q := map[string][]string{"b": {"2"}, "a": {"z", "y"}, "c d": {""}}
	assert.Equal(t, "a=y&a=z&b=2&c%20d=", hwsign.CanonicalQuery(q))
	h := http.Header{"Content-Type": {"application/json"}, "X-Sdk-Date": {"x"}, "User-Agent": {"u"}, "X_Odd": {"o"}}
	assert.Equal(t, []string{"user-agent", "x-sdk-date"}, hwsign.SignedHeaderNames(h))
	assert.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hwsign.PayloadHash(http.Header{}, nil))
	assert.Equal(t, "UNSIGNED-PAYLOAD", hwsign.PayloadHash(http.Header{"X-Sdk-Content-Sha256": {"UNSIGNED-PAYLOAD"}}, []byte("x")))
}

// recorder verifies every request the real SDK sends it.
type recorder struct {
	mu   sync.Mutex
	errs []error
	n    int
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	_, err := hwsign.Verify(r, body, lookup, time.Now())
	rec.mu.Lock()
	rec.n++
	if err != nil {
		rec.errs = append(rec.errs, err)
	}
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasPrefix(r.URL.Path, "/v3/auth/domains"):
		_, _ = w.Write([]byte(`{"domains":[{"id":"0a1b2c3d4e5f40718293a4b5c6d7e8f9","name":"n"}]}`))
	default:
		_, _ = w.Write([]byte(`{"total_count":0}`))
	}
}

// TestVerifyRealSDKRequests checks the verifier against requests signed by
// huaweicloud-sdk-go-v3 itself: GET, GET with query, POST with a JSON body,
// an escaped path parameter, empty and odd query values and the SDK's
// internal domain discovery call.
func TestHuaweiVerifyRealSDKRequests(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()

	cred, err := global.NewCredentialsBuilder().WithAk(testAK).WithSk(testSK).WithDomainId("0a1b2c3d4e5f40718293a4b5c6d7e8f9").SafeBuild()
	require.NoError(t, err)
	hc, err := bssintl.BssintlClientBuilder().WithEndpoints([]string{srv.URL}).WithCredential(cred).
		WithHttpConfig(sdkconfig.DefaultHttpConfig()).SafeBuild()
	require.NoError(t, err)
	b := bssintl.NewBssintlClient(hc)
	limit, offset := int32(7), int32(3)
	status := []int32{2, 5}
	stc, ids := "hws.service.type.marketplace", []string{"a b", "ü/x"}
	_, err = b.ListPayPerUseCustomerResources(&intl.ListPayPerUseCustomerResourcesRequest{Body: &intl.QueryResourcesReq{
		Limit: &limit, Offset: &offset, StatusList: &status, ServiceTypeCode: &stc, ResourceIds: &ids}})
	require.NoError(t, err)
	orderBy, begin := "-createTime", "2026-01-01T00:00:00Z"
	_, err = b.ListCustomerOrders(&intl.ListCustomerOrdersRequest{OrderBy: &orderBy, CreateTimeBegin: &begin, Limit: &limit, ServiceTypeCode: &stc})
	require.NoError(t, err)
	_, err = b.ShowCustomerOrderDetails(&intl.ShowCustomerOrderDetailsRequest{OrderId: "CS 1+2/3", Limit: &limit})
	require.NoError(t, err)
	// An empty value goes out as a bare key ("order_id&..."); odd
	// characters are escaped.
	empty, odd := "", "a b+c%d/ü=&"
	_, err = b.ListCustomerOrders(&intl.ListCustomerOrdersRequest{OrderId: &empty, ServiceTypeCode: &odd})
	require.NoError(t, err)

	// The SDK's own discovery: signs only x-sdk-date.
	cred2, err := global.NewCredentialsBuilder().WithAk(testAK + "X").WithSk(testSK).WithIamEndpointOverride(srv.URL).SafeBuild()
	require.NoError(t, err)
	_, err = iam.IamClientBuilder().WithEndpoints([]string{srv.URL}).WithCredential(cred2).SafeBuild()
	require.NoError(t, err)
	ic, err := iam.IamClientBuilder().WithEndpoints([]string{srv.URL}).WithCredential(cred).SafeBuild()
	require.NoError(t, err)
	_, err = iam.NewIamClient(ic).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	require.NoError(t, err)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, 5, rec.n)
	assert.Empty(t, rec.errs)
}

func TestHuaweiParseAuthorization(t *testing.T) {
	a, err := hwsign.ParseAuthorization("SDK-HMAC-SHA256 Access=AK, SignedHeaders=user-agent;x-sdk-date, Signature=abc")
	require.NoError(t, err)
	assert.Equal(t, hwsign.Authorization{AccessKey: "AK", SignedHeaders: []string{"user-agent", "x-sdk-date"}, Signature: "abc"}, a)
	for _, bad := range []string{"", "SDK-HMAC-SHA256 ", "SDK-HMAC-SHA256 Access=AK", "SDK-HMAC-SHA256 Access=AK, Bogus=1, SignedHeaders=x-sdk-date, Signature=a",
		"SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature=a", "SDK-HMAC-SHA256 Access=AK, SignedHeaders=X-Sdk-Date, Signature=a",
		"SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=a, Signature=b"} {
		_, err := hwsign.ParseAuthorization(bad)
		assert.Error(t, err, bad)
	}
}

// BenchmarkVerify measures one verification of a signed BSS query.
//
//	go test -run '^$' -bench Verify -benchmem ./internal/hwsign/
func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"status_list":[2],"limit":100,"offset":0,"only_main_resource":1}` + "\n")
	r := httptest.NewRequest(http.MethodPost, "http://h/v2/orders/suscriptions/resources/query", bytes.NewReader(body))
	r.Header.Set("User-Agent", "bench")
	r.Header.Set("X-Domain-Id", "0a1b2c3d4e5f40718293a4b5c6d7e8f9")
	hwsign.Sign(r, body, testAK, testSK, now)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := hwsign.Verify(r, body, lookup, now); err != nil {
			b.Fatal(err)
		}
	}
}

func sha256Hex(b string) string {
	sum := sha256.Sum256([]byte(b))
	return hex.EncodeToString(sum[:])
}

// TestHuaweiVerifyBindsTheBody is the body swap: a signature over one body
// must not let another body through, whatever X-Sdk-Content-Sha256 says.
func TestHuaweiVerifyBindsTheBody(t *testing.T) {
	const (
		target     = "http://h/v2/orders/suscriptions/resources/query"
		signedBody = `{"limit":1}`
		otherBody  = `{"limit":500,"resource_ids":["someone-elses"]}`
	)
	t.Run("unsigned content hash of the signed body", func(t *testing.T) {
		r := signed(t, http.MethodPost, target, signedBody)
		r.Header.Set(hwsign.HeaderContentSha256, sha256Hex(signedBody)) // added after signing
		_, err := hwsign.Verify(r, []byte(otherBody), lookup, now)
		assert.Equal(t, hwsign.KindUnsigned, kindOf(t, err))
		_, err = hwsign.Verify(r, []byte(signedBody), lookup, now)
		assert.Equal(t, hwsign.KindUnsigned, kindOf(t, err), "even with the right body: the header is not signed")
	})
	t.Run("unsigned UNSIGNED-PAYLOAD", func(t *testing.T) {
		r := signed(t, http.MethodPost, target, signedBody)
		r.Header.Set(hwsign.HeaderContentSha256, hwsign.UnsignedPayload)
		_, err := hwsign.Verify(r, []byte(otherBody), lookup, now)
		assert.Equal(t, hwsign.KindUnsigned, kindOf(t, err))
	})
	t.Run("signed content hash that does not match the body", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, target, nil)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(hwsign.HeaderContentSha256, sha256Hex(signedBody))
		hwsign.Sign(r, []byte(signedBody), testAK, testSK, now)
		_, err := hwsign.Verify(r, []byte(signedBody), lookup, now)
		require.NoError(t, err, "a signed hash of the body is what the SDK may send")
		_, err = hwsign.Verify(r, []byte(otherBody), lookup, now)
		assert.Equal(t, hwsign.KindBadSignature, kindOf(t, err))
	})
	t.Run("signed content hash in upper case", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, target, nil)
		r.Header.Set(hwsign.HeaderContentSha256, strings.ToUpper(sha256Hex(signedBody)))
		hwsign.Sign(r, []byte(signedBody), testAK, testSK, now)
		_, err := hwsign.Verify(r, []byte(signedBody), lookup, now)
		require.NoError(t, err)
	})
	t.Run("content hash given twice", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, target, nil)
		r.Header.Add(hwsign.HeaderContentSha256, sha256Hex(signedBody))
		r.Header.Add(hwsign.HeaderContentSha256, sha256Hex(otherBody))
		hwsign.Sign(r, []byte(signedBody), testAK, testSK, now)
		_, err := hwsign.Verify(r, []byte(otherBody), lookup, now)
		assert.Equal(t, hwsign.KindMalformed, kindOf(t, err))
	})
}

// TestHuaweiVerifyUnsignedPayload: UNSIGNED-PAYLOAD is accepted exactly
// where the SDK sends it: signed, with one Content-Type that names neither
// JSON nor BSON.
func TestHuaweiVerifyUnsignedPayload(t *testing.T) {
	for _, tc := range []struct {
		contentType []string
		ok          bool
	}{
		{[]string{"application/octet-stream"}, true},
		{[]string{"text/plain; charset=utf-8"}, true},
		{[]string{"application/json"}, false},
		{[]string{"application/json;charset=UTF-8"}, false},
		{[]string{"application/bson"}, false},
		{[]string{"text/plain; x=application/json"}, false}, // the SDK's test is Contains
		{nil, false},
		{[]string{"text/plain", "application/json"}, false},
	} {
		t.Run(strings.Join(tc.contentType, ","), func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "http://h/v2/upload", nil)
			for _, ct := range tc.contentType {
				r.Header.Add("Content-Type", ct)
			}
			r.Header.Set(hwsign.HeaderContentSha256, hwsign.UnsignedPayload)
			hwsign.Sign(r, []byte("signed"), testAK, testSK, now)
			require.Contains(t, r.Header.Get("Authorization"), "x-sdk-content-sha256")
			_, err := hwsign.Verify(r, []byte("any other body"), lookup, now)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			assert.Equal(t, hwsign.KindUnsigned, kindOf(t, err))
		})
	}
	t.Run("Sign adds it as the SDK does", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "http://h/v2/upload", nil)
		r.Header.Set("Content-Type", "application/octet-stream")
		hwsign.Sign(r, []byte("x"), testAK, testSK, now)
		assert.Equal(t, hwsign.UnsignedPayload, r.Header.Get(hwsign.HeaderContentSha256))
		r = httptest.NewRequest(http.MethodPost, "http://h/v2/upload", nil)
		r.Header.Set("Content-Type", "application/json;charset=UTF-8")
		hwsign.Sign(r, []byte("x"), testAK, testSK, now)
		assert.Empty(t, r.Header.Values(hwsign.HeaderContentSha256))
	})
}

// TestHuaweiVerifyRefusesUnsignedMeaning: a header that changes what a
// request means on Huawei's side counts only when signed; a signature
// leaves nothing ambiguous (the order of a header's values, an escaped
// "/" in the path); a security token never rides on a permanent key.
func TestHuaweiVerifyRefusesUnsignedMeaning(t *testing.T) {
	for _, h := range []string{"X-Domain-Id", "X-Project-Id", "X-Security-Token", "X-Language", "X-Sdk-Content-Sha256"} {
		t.Run("unsigned "+h, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://h/v3/auth/domains", nil)
			r.Header.Set("User-Agent", "hwsign-test")
			hwsign.Sign(r, nil, testAK, testSK, now)
			r.Header.Set(h, "0a1b2c3d4e5f40718293a4b5c6d7e8f9")
			_, err := hwsign.Verify(r, nil, lookup, now)
			assert.Equal(t, hwsign.KindUnsigned, kindOf(t, err))
		})
	}
	t.Run("unsigned header the verifier does not know is harmless", func(t *testing.T) {
		r := signed(t, http.MethodGet, "http://h/v3/auth/domains", "")
		r.Header.Set("X-Forwarded-For", "10.0.0.1") // added by a proxy
		r.Header.Set("Accept-Encoding", "gzip")     // added by net/http
		r.Header.Set("Content-Type", "text/plain")  // never signed by the SDK; the body is still hashed
		_, err := hwsign.Verify(r, nil, lookup, now)
		require.NoError(t, err)
	})
	t.Run("trace context added after signing is harmless", func(t *testing.T) {
		// The module's transports add W3C trace context after the SDK
		// signed the request, so it is never among SignedHeaders.
		r := signed(t, http.MethodGet, "http://h/v3/auth/domains", "")
		r.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
		r.Header.Set("tracestate", "vendor=value")
		r.Header.Set("baggage", "k=v")
		_, err := hwsign.Verify(r, nil, lookup, now)
		require.NoError(t, err)
	})
	t.Run("the order of a signed header's values", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "http://h/v3/auth/domains", nil)
		r.Header["X-Domain-Id"] = []string{"aaaa", "bbbb"}
		hwsign.Sign(r, nil, testAK, testSK, now)
		r.Header["X-Domain-Id"] = []string{"bbbb", "aaaa"} // Header.Get now reads bbbb
		_, err := hwsign.Verify(r, nil, lookup, now)
		assert.Equal(t, hwsign.KindMalformed, kindOf(t, err))
	})
	t.Run("escaped slash in the path", func(t *testing.T) {
		r := signed(t, http.MethodGet, "http://h/v3/users/a/b", "")
		r.URL.RawPath = "/v3/users/a%2Fb" // one segment "a/b" to a router, two to the signature
		require.Equal(t, "/v3/users/a/b", r.URL.Path)
		_, err := hwsign.Verify(r, nil, lookup, now)
		assert.Equal(t, hwsign.KindMalformed, kindOf(t, err))
		r.URL.RawPath = "/v3/users/a%2fb"
		_, err = hwsign.Verify(r, nil, lookup, now)
		assert.Equal(t, hwsign.KindMalformed, kindOf(t, err))
	})
	t.Run("security token for a permanent key", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "http://h/v5/caller-identity", nil)
		r.Header.Set(hwsign.HeaderSecurityToken, "tok")
		hwsign.Sign(r, nil, testAK, testSK, now)
		_, err := hwsign.Verify(r, nil, lookup, now)
		assert.Equal(t, hwsign.KindBadToken, kindOf(t, err))
	})
}

// splitJoinURI is CanonicalURI as the signer defines it: each segment
// escaped, joined with "/", ending with "/".
func splitJoinURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		var b strings.Builder
		for j := 0; j < len(s); j++ {
			if c := s[j]; 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		segs[i] = b.String()
	}
	u := strings.Join(segs, "/")
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// FuzzCanonicalURI holds CanonicalURI and Escape (written in one pass, to
// spare allocations) to the segment-by-segment definition.
func FuzzCanonicalURI(f *testing.F) {
	for _, s := range []string{"", "/", "//", "/v3/auth/domains", "/a b/ü/%2F/~x_y.z-", "a", "/x/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		if got, want := hwsign.CanonicalURI(path), splitJoinURI(path); got != want {
			t.Fatalf("CanonicalURI(%q) = %q, want %q", path, got, want)
		}
		if !strings.Contains(path, "/") {
			if got, want := hwsign.Escape(path)+"/", splitJoinURI(path); got != want {
				t.Fatalf("Escape(%q) = %q, want %q", path, got, strings.TrimSuffix(want, "/"))
			}
		}
	})
}
