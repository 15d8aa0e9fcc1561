package mockserver_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/internal/hwsign"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// TestHuaweiBodySwapIsRefused is the body swap against the mock: the
// owner's signed query for one resource, replayed with another body and an
// unsigned X-Sdk-Content-Sha256 carrying the hash of the signed body, must
// not list anything.
func TestHuaweiBodySwapIsRefused(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	a.buy(t, mockserver.Purchase{InstanceID: "swap-1"})
	a.buy(t, mockserver.Purchase{InstanceID: "swap-2"})
	const path = "/v2/orders/suscriptions/resources/query"
	const signedBody = `{"resource_ids":["none"]}`
	ok := a.raw(t, http.MethodPost, path, signedBody, nil)
	require.Equal(t, 200, ok.status)
	require.EqualValues(t, 0, ok.body["total_count"])

	swapped := a.raw(t, http.MethodPost, path, signedBody, func(r *http.Request, b *[]byte) {
		sum := sha256.Sum256([]byte(signedBody))
		r.Header.Set(hwsign.HeaderContentSha256, hex.EncodeToString(sum[:]))
		*b = []byte(`{"limit":500}`)
	})
	assertHuaweiError(t, swapped, 401, "APIGW.0301")
	assert.NotContains(t, swapped.body, "data")
}

// TestHuaweiUnsignedBodyIsNeverRead: a body left unsigned (UNSIGNED-PAYLOAD,
// allowed by the gateway for non-JSON content) is not read as JSON: the BSS
// query takes only a JSON Content-Type, so its body is always signed.
func TestHuaweiUnsignedBodyIsNeverRead(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	a.buy(t, mockserver.Purchase{InstanceID: "ub-1"})
	const path = "/v2/orders/suscriptions/resources/query"
	r := a.raw(t, http.MethodPost, path, `{"limit":500}`, func(r *http.Request, b *[]byte) {
		r.Header.Set("Content-Type", "text/plain")
		r.Header.Del("Authorization")
		hwsign.Sign(r, []byte("signed"), a.ak, a.sk, srv.Now()) // adds UNSIGNED-PAYLOAD, as the SDK does
		require.Equal(t, hwsign.UnsignedPayload, r.Header.Get(hwsign.HeaderContentSha256))
	})
	assertHuaweiError(t, r, 400, "CBC.0100")
	assert.Contains(t, r.body["error_msg"], "UNSIGNED-PAYLOAD")
	r = a.raw(t, http.MethodPost, path, ``, func(r *http.Request, b *[]byte) {
		r.Header.Set("Content-Type", "text/plain")
		r.Header.Del("Authorization")
		hwsign.Sign(r, []byte(`{"limit":1}`), a.ak, a.sk, srv.Now())
	})
	assertHuaweiError(t, r, 400, "CBC.0100") // not even an empty body: it is not the one signed

	// With the body signed, a Content-Type that is not JSON changes nothing
	// of what the body is; it is still refused, so only JSON is ever read.
	r = a.raw(t, http.MethodPost, path, `{"limit":500}`, func(r *http.Request, b *[]byte) { r.Header.Set("Content-Type", "text/plain") })
	assertHuaweiError(t, r, 400, "CBC.0100")
	assert.Contains(t, r.body["error_msg"], "Content-Type")
	r = a.raw(t, http.MethodPost, path, `{"limit":500}`, func(r *http.Request, b *[]byte) {
		r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	})
	assert.Equal(t, 200, r.status, "%v", r.body)
	r = a.raw(t, http.MethodPost, path, ``, func(r *http.Request, b *[]byte) { r.Header.Del("Content-Type") })
	assert.Equal(t, 200, r.status, "an empty body needs no Content-Type: %v", r.body)
}

// TestHuaweiUnsignedHeadersAreRefused: X-Domain-Id, X-Project-Id,
// X-Language and X-Security-Token added to a signed request are refused
// on every route.
func TestHuaweiUnsignedHeadersAreRefused(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	for _, h := range []struct{ name, value string }{
		{"X-Domain-Id", a.id}, {"X-Project-Id", a.id}, {"X-Language", "en_US"}, {"X-Security-Token", "t"},
	} {
		for _, path := range []string{"/v3/auth/domains", "/v5/caller-identity", "/v2/products/service-types"} {
			r := a.raw(t, http.MethodGet, path, "", func(r *http.Request, _ *[]byte) { r.Header.Set(h.name, h.value) })
			assertHuaweiError(t, r, 401, "APIGW.0301")
			assert.Contains(t, r.body["error_msg"], "not signed", "%s on %s", h.name, path)
		}
	}
}

// TestHuaweiAmbiguousRequestsAreRefused: what the signature cannot tell
// apart is refused before it is read: repeated query values (sorted by the
// canonical form, read first-wins by a handler) on every route, and an
// escaped "/" in a path parameter.
func TestHuaweiAmbiguousRequestsAreRefused(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	for _, path := range []string{"/v3/auth/domains?x=1&x=2", "/v3/projects?name=a&name=b", "/v2/orders/customer-orders?limit=1&limit=100",
		"/v2/products/service-types?limit=2&limit=1", "/v2/products/resource-types?offset=1&offset=0", "/v5/caller-identity?a=&a="} {
		r := a.raw(t, http.MethodGet, path, "", nil)
		assert.Equal(t, 400, r.status, "%s: %v", path, r.body)
		assert.Contains(t, r.msg(), "more than once", path)
	}
	r := a.raw(t, http.MethodGet, "/v3/users/"+a.userID+"/x", "", func(r *http.Request, _ *[]byte) {
		r.URL.RawPath = "/v3/users/" + a.userID + "%2Fx"
	})
	assertHuaweiError(t, r, 401, "APIGW.0301")
}
