package mockserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/truewatch-labs/marketplace-go/internal/hwsign"
)

// hwFuzzRoutes are the Huawei routes the fuzzer aims at; a route's path
// ends where the fuzzed suffix (a path parameter, or anything) begins.
var hwFuzzRoutes = []struct{ method, path string }{
	{http.MethodGet, "/v3/auth/domains"},
	{http.MethodGet, "/v3/auth/projects"},
	{http.MethodGet, "/v3/projects"},
	{http.MethodGet, "/v3/users/"},
	{http.MethodGet, "/v3.0/OS-CREDENTIAL/credentials/"},
	{http.MethodGet, "/v5/caller-identity"},
	{http.MethodPost, "/v2/orders/suscriptions/resources/query"},
	{http.MethodGet, "/v2/orders/customer-orders"},
	{http.MethodGet, "/v2/orders/customer-orders/details/"},
	{http.MethodGet, "/v2/products/service-types"},
	{http.MethodGet, "/v2/products/resource-types"},
	{http.MethodGet, "/v3/projects/"},
	{http.MethodGet, "/v3/regions"},
	{http.MethodGet, "/v3/regions/"},
	{http.MethodGet, "/v3/users"},
	{http.MethodGet, "/v3.0/OS-CREDENTIAL/credentials"},
	{http.MethodGet, "/v2/accounts/customer-accounts/balances"},
}

// Fuzz modes: how the request is authenticated and which optional headers
// it carries.
const (
	hwFuzzUnsigned = iota
	hwFuzzSigned
	hwFuzzSignedDomain   // plus X-Domain-Id of the demo account
	hwFuzzSignedHeader   // plus X-Language: header
	hwFuzzSignedWrongKey // signed with a wrong secret key
	hwFuzzModes
)

// FuzzHuaweiHandlers sends arbitrary methods, path suffixes, queries and
// bodies to every Huawei route, unsigned and signed with the demo key (so
// that requests get past authentication into the handlers), and requires
// an answer below 500 (or the 501 MOCK.0501 of a call the mock does not
// serve), valid JSON, and Huawei's error shape
// ({"error_code","error_msg"} strings) for every 4xx. A panic in a handler
// would surface as the router's 500. Plain `go test` runs the seed corpus.
func FuzzHuaweiHandlers(f *testing.F) {
	srv, err := New(WithoutListener(), WithMaxBodyBytes(4096))
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	userID := srv.st.huawei.keys[DemoAccessKey].key.UserID
	orderID := srv.Purchases()[0].OrderID

	seeds := []struct {
		route         int
		method        string
		suffix, query string
		body          string
	}{
		{0, "GET", "", "", ""},
		{1, "GET", "", "", ""},
		{2, "GET", "", "name=ap-southeast-1", ""},
		{2, "GET", "", "name=cn-north-4&enabled=true&page=1&per_page=10", ""},
		{2, "GET", "", "domain_id=" + DemoHuaweiAccountID, ""},
		{3, "GET", userID, "", ""},
		{3, "GET", "nobody", "", ""},
		{4, "GET", DemoAccessKey, "", ""},
		{5, "GET", "", "", ""},
		{6, "POST", "", "", `{"only_main_resource":1,"status_list":[2],"offset":0,"limit":10}`},
		{6, "POST", "", "", `{"resource_ids":["` + DemoInstanceID + `"],"expire_time_begin":"2020-01-01T00:00:00Z","expire_time_end":"2099-01-01T00:00:00Z"}`},
		{6, "POST", "", "", `{"order_id":"` + orderID + `","service_type_code":"hws.service.type.marketplace"}`},
		{6, "POST", "", "", `{"limit":0}`},
		{6, "POST", "", "", `{"status_list":[1,9],"offset":-5}`},
		{6, "POST", "", "", `{"customer_id":"x"}`},
		{6, "POST", "", "", `{"limit":"10"}`},
		{6, "POST", "", "", `{"expire_time_begin":"tomorrow"}`},
		{6, "POST", "", "", `{"limit":1} {"limit":2}`},
		{6, "POST", "", "", "{\"resource_ids\":[\"\xff\"]}"},
		{6, "POST", "", "", `{"resource_ids":null,"status_list":null,"order_id":null}`},
		{6, "POST", "", "", `[]`},
		{6, "POST", "", "", `{`},
		{6, "POST", "", "", ``},
		{6, "POST", "", "", `{"limit":1e400}`},
		{6, "POST", "", "", `{"limit":9223372036854775807}`},
		{6, "POST", "", "", strings.Repeat(`{"a":`, 2000)},
		{7, "GET", "", "create_time_begin=2020-01-01T00:00:00Z&create_time_end=2099-01-01T00:00:00Z&status=5&order_by=createTime&limit=100&offset=0", ""},
		{7, "GET", "", "service_type_code=hws.service.type.marketplace&order_type=1&method=oneself", ""},
		{7, "GET", "", "payment_time_begin=2020-01-01T00:00:00Z&order_id=" + orderID, ""},
		{7, "GET", "", "limit=-1&offset=abc&status=0", ""},
		{7, "GET", "", "offset=99999999999999999999", ""},
		{7, "GET", "", "method=sub_customer", ""},
		{7, "GET", "", "limit=1&limit=2", ""},
		{7, "GET", "", "%zz=1&a=%", ""},
		{8, "GET", orderID, "", ""},
		{8, "GET", orderID, "limit=1&offset=1", ""},
		{8, "GET", "CS" + strings.Repeat("9", 80), "", ""},
		{8, "GET", "%2F..%2F", "", ""},
		{9, "GET", "", "service_type_name=cloud&offset=1&limit=2", ""},
		{10, "GET", "", "offset=0&limit=100", ""},
		{0, "DELETE", "", "", ""},
		{6, "GET", "", "", ""},
		{0, "HEAD", "", "", ""},
		{0, "GET", "/../../_mock/reset", "", ""},
		{0, "GET", "//x", "", ""},
		{5, "POST", "", "", `{}`},
		{11, "GET", DemoProjectID, "", ""},
		{11, "GET", "nope", "", ""},
		{12, "GET", "", "", ""},
		{13, "GET", DemoRegion, "", ""},
		{13, "GET", "xx-nowhere-1", "", ""},
		{14, "GET", "", "name=" + DemoHuaweiAccountName + "&enabled=true", ""},
		{15, "GET", "", "user_id=" + userID, ""},
		{16, "GET", "", "", ""},
		{16, "GET", "", "x=1", ""},
		{2, "GET", "", "page=2&per_page=3", ""},
		{2, "GET", "", "page=0", ""},
		{6, "POST", "", "", `{"Limit":1}`},
		{6, "POST", "", "", `{"limit":1,"limit":2}`},
		{6, "POST", "", "", `null`},
	}
	for _, s := range seeds {
		for mode := range hwFuzzModes {
			f.Add(uint8(s.route), s.method, s.suffix, s.query, []byte(s.body), uint8(mode), "en_US")
		}
	}
	f.Add(uint8(9), "GET", "", "", []byte(nil), uint8(hwFuzzSignedHeader), "fr_FR")

	f.Fuzz(func(t *testing.T, route uint8, method, suffix, query string, body []byte, mode uint8, header string) {
		rt := hwFuzzRoutes[int(route)%len(hwFuzzRoutes)]
		if method == "" {
			method = rt.method
		}
		req, err := http.NewRequest(method, "http://mock.invalid/", bytes.NewReader(body))
		if err != nil {
			return // not a valid HTTP method: no server would see it
		}
		req.URL.Path, req.URL.RawQuery = rt.path+suffix, query
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
		switch mode % hwFuzzModes {
		case hwFuzzSignedDomain:
			req.Header.Set("X-Domain-Id", DemoHuaweiAccountID)
		case hwFuzzSignedHeader:
			if !validHeaderValue(header) {
				return // the client would refuse to send it
			}
			req.Header.Set("X-Language", header)
		}
		switch mode % hwFuzzModes {
		case hwFuzzUnsigned:
		case hwFuzzSignedWrongKey:
			hwsign.Sign(req, body, DemoAccessKey, DemoSecretKey+"x", srv.Now())
		default:
			hwsign.Sign(req, body, DemoAccessKey, DemoSecretKey, srv.Now())
		}

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := rec.Result()
		raw := rec.Body.Bytes()
		where := method + " " + req.URL.String()
		if resp.StatusCode >= 500 && !(resp.StatusCode == http.StatusNotImplemented && bytes.Contains(raw, []byte(`"error_code":"MOCK.0501"`))) {
			t.Fatalf("HTTP %d for %s body %q: %s", resp.StatusCode, where, body, raw)
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			t.Fatalf("HTTP %d for %s: the mock must not redirect", resp.StatusCode, where)
		}
		if !json.Valid(raw) {
			t.Fatalf("HTTP %d for %s: body is not JSON: %q", resp.StatusCode, where, raw)
		}
		if resp.StatusCode >= 400 && !hwErrorShape(req.URL.Path, resp.StatusCode, raw) {
			t.Fatalf("HTTP %d for %s: not Huawei's error shape: %s", resp.StatusCode, where, raw)
		}
		switch valid := mode%hwFuzzModes != hwFuzzUnsigned && mode%hwFuzzModes != hwFuzzSignedWrongKey; {
		case !valid && resp.StatusCode < 300:
			t.Fatalf("HTTP %d for %s without a valid signature", resp.StatusCode, where)
		case valid && resp.StatusCode == http.StatusUnauthorized:
			// A correct signature must always get past authentication.
			t.Fatalf("HTTP 401 for %s with a valid signature: %s", where, raw)
		}
	})
}

// validHeaderValue reports whether net/http's client would send v as a
// header value.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// hwErrorShape reports whether raw is an error body Huawei sends for path:
// {"error_code","error_msg"} strings, or, from IAM's Keystone APIs
// (/v3/...), {"error":{"code":status,"message","title"}}.
func hwErrorShape(path string, status int, raw []byte) bool {
	var e struct {
		Code     *string `json:"error_code"`
		Msg      *string `json:"error_msg"`
		Keystone *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Title   string `json:"title"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return false
	}
	if e.Keystone != nil {
		return hwServiceOf(path) == svcKeystone && e.Code == nil && e.Msg == nil &&
			e.Keystone.Code == status && e.Keystone.Message != "" && e.Keystone.Title == http.StatusText(status)
	}
	return e.Code != nil && e.Msg != nil && *e.Code != "" && *e.Msg != ""
}
