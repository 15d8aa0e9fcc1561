package proof

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/hwsign"
)

const (
	testAK      = "PROOFTESTAK0001"
	testSK      = "proof-test-secret"
	testAccount = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
	testAud     = "https://billing.example.com/bc"
	testEP      = "https://sts.ap-southeast-1.myhuaweicloud.com"
)

var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func policy() Policy {
	return Policy{Audience: testAud, Endpoints: []string{testEP}, Now: testNow}
}

func sign(t *testing.T, endpoint, path, aud string, at time.Time) string {
	t.Helper()
	p, err := Sign(endpoint, path, aud, testAK, testSK, "", at)
	require.NoError(t, err)
	return p
}

// edit decodes a proof, changes it and encodes it again (the signature is
// left as it was).
func edit(t *testing.T, p string, f func(*Request)) string {
	t.Helper()
	r, err := Decode(p)
	require.NoError(t, err)
	f(&r)
	out, err := Encode(r)
	require.NoError(t, err)
	return out
}

func TestAudience(t *testing.T) {
	for in, want := range map[string]string{
		"https://Billing.Example.com/bc/":    "https://billing.example.com/bc",
		"HTTP://127.0.0.1:8080":              "http://127.0.0.1:8080",
		"http://mock.invalid/billing-center": "http://mock.invalid/billing-center",
	} {
		got, err := Audience(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "billing.example.com", "ftp://x", "https://u:p@x", "https://x/?q=1", "https://x/#f"} {
		_, err := Audience(bad)
		assert.Error(t, err, bad)
	}
}

func TestCheckAcceptsAGoodProof(t *testing.T) {
	for _, path := range []string{PathCallerIdentity, PathAuthDomains} {
		c, err := Check(sign(t, testEP, path, testAud, testNow.Add(-Window)), policy())
		require.Nil(t, err)
		assert.Equal(t, path, c.Path)
		assert.Equal(t, testNow, c.Until, "remembered until the end of its window")
		assert.Regexp(t, `^[0-9a-f]{64}$`, c.ID)
		assert.Equal(t, testEP+path, c.Request.URL.String())
		assert.Equal(t, "sts.ap-southeast-1.myhuaweicloud.com", c.Request.Host)
		assert.Empty(t, c.Request.Header.Get("Host"), "the Host travels in Request.Host")
		assert.Equal(t, testAud, c.Request.Header.Get(HeaderAudience))
	}
	a, b := sign(t, testEP, PathCallerIdentity, testAud, testNow), sign(t, testEP, PathCallerIdentity, testAud, testNow)
	ca, _ := Check(a, policy())
	cb, _ := Check(b, policy())
	assert.NotEqual(t, ca.ID, cb.ID, "the nonce makes two proofs of one second differ")
}

func TestCheckRefuses(t *testing.T) {
	good := sign(t, testEP, PathCallerIdentity, testAud, testNow)
	raw := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.StdEncoding.EncodeToString(b)
	}
	tests := []struct {
		name, proof, code, msg string
	}{
		{"none", "", apierror.CodeProofRequired, Header},
		{"not base64", "%%%", apierror.CodeProofInvalid, "base64"},
		{"not JSON", base64.StdEncoding.EncodeToString([]byte("[1]")), apierror.CodeProofInvalid, "JSON"},
		{"unknown field", raw(map[string]any{"method": "GET", "url": testEP + PathCallerIdentity, "sk": "x"}), apierror.CodeProofInvalid, "JSON"},
		{"too long", strings.Repeat("A", MaxEncodedLen+4), apierror.CodeProofInvalid, "longer"},
		{"POST", edit(t, good, func(r *Request) { r.Method = http.MethodPost }), apierror.CodeProofEndpoint, "GET"},
		{"another host (SSRF)", sign(t, "http://169.254.169.254", PathCallerIdentity, testAud, testNow), apierror.CodeProofEndpoint, "trusts"},
		{"URL changed after signing", edit(t, good, func(r *Request) { r.URL = "https://evil.example.com" + PathCallerIdentity }),
			apierror.CodeProofEndpoint, "trusts"},
		{"another path", sign(t, testEP, "/v3/users/u1", testAud, testNow), apierror.CodeProofEndpoint, "/v5/caller-identity"},
		{"a query", edit(t, good, func(r *Request) { r.URL += "?x=1" }), apierror.CodeProofEndpoint, "query"},
		{"userinfo", edit(t, good, func(r *Request) { r.URL = "https://a:b@sts.ap-southeast-1.myhuaweicloud.com" + PathCallerIdentity }),
			apierror.CodeProofEndpoint, "absolute"},
		{"a body", edit(t, good, func(r *Request) { r.Body = []byte("{}") }), apierror.CodeProofInvalid, "body"},
		{"a smuggling header", edit(t, good, func(r *Request) { r.Headers["Transfer-Encoding"] = []string{"chunked"} }),
			apierror.CodeProofInvalid, "not allowed"},
		{"a header twice", edit(t, good, func(r *Request) { r.Headers["X-Sdk-Date"] = append(r.Headers["X-Sdk-Date"], "x") }),
			apierror.CodeProofInvalid, "once"},
		{"no Authorization", edit(t, good, func(r *Request) { delete(r.Headers, "Authorization") }), apierror.CodeProofInvalid, "Authorization"},
		{"another audience", sign(t, testEP, PathCallerIdentity, "https://other.example.com", testNow), apierror.CodeProofAudience, "other.example.com"},
		{"no audience", edit(t, good, func(r *Request) { delete(r.Headers, "X-Truewatch-Audience") }), apierror.CodeProofAudience, "sign"},
		{"audience not signed", unsignedAudience(t), apierror.CodeProofAudience, "sign"},
		{"expired", sign(t, testEP, PathCallerIdentity, testAud, testNow.Add(-Window-time.Second)), apierror.CodeProofExpired, "signed at"},
		{"from the future", sign(t, testEP, PathCallerIdentity, testAud, testNow.Add(Window+time.Second)), apierror.CodeProofExpired, "signed at"},
		{"bad date", edit(t, good, func(r *Request) { r.Headers["X-Sdk-Date"] = []string{"yesterday"} }), apierror.CodeProofInvalid, "X-Sdk-Date"},
		{"Host of another endpoint", edit(t, good, func(r *Request) { r.Headers["Host"] = []string{"iam.example.com"} }),
			apierror.CodeProofEndpoint, "Host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Check(tt.proof, policy())
			assert.Nil(t, c)
			require.NotNil(t, err)
			assert.Equal(t, tt.code, err.Code)
			assert.Contains(t, err.Msg, tt.msg)
			assert.NotContains(t, err.Error(), testSK)
		})
	}
}

// unsignedAudience is a proof whose audience header was added after
// signing: Huawei would accept the signature, but the audience proves
// nothing.
func unsignedAudience(t *testing.T) string {
	t.Helper()
	u := testEP + PathCallerIdentity
	r := httptest.NewRequest(http.MethodGet, u, nil)
	r.Header = http.Header{}
	hwsign.Sign(r, nil, testAK, testSK, testNow)
	r.Header.Set(HeaderAudience, testAud)
	p, err := Encode(Request{Method: http.MethodGet, URL: u, Headers: r.Header})
	require.NoError(t, err)
	return p
}

// fakeHuawei verifies signatures as the gateway does and answers as STS
// and IAM do for one account.
func fakeHuawei(t *testing.T, domains bool) http.RoundTripper {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lookup := func(ak string) (hwsign.Key, bool) { return hwsign.Key{SK: testSK}, ak == testAK }
		if _, err := hwsign.Verify(r, nil, lookup, testNow); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error_code":"APIGW.0301","error_msg":"verify aksk signature fail"}`))
			return
		}
		switch r.URL.Path {
		case PathCallerIdentity:
			_, _ = w.Write([]byte(`{"account_id":"` + testAccount + `"}`))
		case PathAuthDomains:
			if domains {
				_, _ = w.Write([]byte(`{"domains":[{"id":"` + testAccount + `"}]}`))
			} else {
				_, _ = w.Write([]byte(`{"domains":[]}`))
			}
		}
	})
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestExchange(t *testing.T) {
	ctx := context.Background()
	for _, path := range []string{PathCallerIdentity, PathAuthDomains} {
		c, perr := Check(sign(t, testEP, path, testAud, testNow), policy())
		require.Nil(t, perr)
		id, perr := Exchange(ctx, fakeHuawei(t, true), c)
		require.Nil(t, perr, path)
		assert.Equal(t, testAccount, id)
	}

	// A proof signed with another secret key: Huawei refuses it.
	forged, err := Sign(testEP, PathCallerIdentity, testAud, testAK, "guessed-secret", "", testNow)
	require.NoError(t, err)
	c, perr := Check(forged, policy())
	require.Nil(t, perr, "nothing but Huawei can tell a forged signature")
	_, perr = Exchange(ctx, fakeHuawei(t, true), c)
	require.NotNil(t, perr)
	assert.Equal(t, apierror.CodeProofInvalid, perr.Code)
	assert.Contains(t, perr.Msg, "verify aksk signature fail")

	// The audience changed after signing breaks the signature too.
	moved := edit(t, sign(t, testEP, PathCallerIdentity, "https://other.example.com", testNow), func(r *Request) {
		r.Headers["X-Truewatch-Audience"] = []string{testAud}
	})
	c, perr = Check(moved, policy())
	require.Nil(t, perr)
	_, perr = Exchange(ctx, fakeHuawei(t, true), c)
	require.NotNil(t, perr)
	assert.Equal(t, apierror.CodeProofInvalid, perr.Code)

	// IAM listing no domain cannot name the account.
	c, _ = Check(sign(t, testEP, PathAuthDomains, testAud, testNow), policy())
	_, perr = Exchange(ctx, fakeHuawei(t, false), c)
	require.NotNil(t, perr)
	assert.Equal(t, apierror.CodeProofInvalid, perr.Code)

	// No answer, or a failing Huawei: worth a fresh proof later.
	for name, rt := range map[string]http.RoundTripper{
		"down": roundTripper(func(*http.Request) (*http.Response, error) { return nil, context.DeadlineExceeded }),
		"503": roundTripper(func(r *http.Request) (*http.Response, error) {
			rec := httptest.NewRecorder()
			rec.WriteHeader(http.StatusServiceUnavailable)
			return rec.Result(), nil
		}),
		"no account": roundTripper(func(r *http.Request) (*http.Response, error) {
			rec := httptest.NewRecorder()
			_, _ = rec.WriteString(`{"account_id":"not-an-id"}`)
			return rec.Result(), nil
		}),
	} {
		c, _ := Check(sign(t, testEP, PathCallerIdentity, testAud, testNow), policy())
		_, perr := Exchange(ctx, rt, c)
		require.NotNil(t, perr, name)
		assert.Equal(t, apierror.CodeProofUnverifiable, perr.Code, name)
	}
}
