package mockserver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	bssmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
	bssintl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2"
	intl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2/model"
	iam "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"
	sts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sts/v1"
	stsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sts/v1/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/hwsign"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// hwAcct is a Huawei account seeded for one test, with an AK unique to the
// test: the SDK caches discovered domain IDs per AK for the whole process.
type hwAcct struct {
	srv          *mockserver.Server
	id, ak, sk   string
	name, userID string
}

func hexOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

func newHWAcct(t *testing.T, srv *mockserver.Server, suffix string, hide bool) hwAcct {
	t.Helper()
	a := hwAcct{srv: srv, id: hexOf("acct|" + t.Name() + suffix), ak: "AK" + strings.ToUpper(hexOf("ak|" + t.Name() + suffix))[:20],
		sk: "sk-" + hexOf("sk|"+t.Name()+suffix), name: "acct-" + suffix, userID: hexOf("user|" + t.Name() + suffix)}
	require.NoError(t, srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: a.id, Name: a.name, HideDomain: hide,
		Keys: []mockserver.AccessKey{{AK: a.ak, SK: a.sk, UserID: a.userID, UserName: "alice"}}}))
	return a
}

func (a hwAcct) global(t *testing.T, domainID string) *global.Credentials {
	t.Helper()
	b := global.NewCredentialsBuilder().WithAk(a.ak).WithSk(a.sk)
	if domainID != "" {
		b = b.WithDomainId(domainID)
	}
	c, err := b.SafeBuild()
	require.NoError(t, err)
	return c
}

func (a hwAcct) build(t *testing.T, b *core.HcHttpClientBuilder, cred any) *core.HcHttpClient {
	t.Helper()
	switch c := cred.(type) {
	case *global.Credentials:
		b = b.WithCredential(c)
	case *basic.Credentials:
		b = b.WithCredential(c)
	}
	hc, err := b.WithEndpoints([]string{a.srv.HuaweiEndpoint()}).SafeBuild()
	require.NoError(t, err)
	return hc
}

func (a hwAcct) bss(t *testing.T) *bssintl.BssintlClient {
	return bssintl.NewBssintlClient(a.build(t, bssintl.BssintlClientBuilder(), a.global(t, a.id)))
}

func (a hwAcct) iam(t *testing.T) *iam.IamClient {
	return iam.NewIamClient(a.build(t, iam.IamClientBuilder(), a.global(t, "")))
}

func (a hwAcct) sts(t *testing.T) *sts.StsClient {
	c, err := basic.NewCredentialsBuilder().WithAk(a.ak).WithSk(a.sk).SafeBuild()
	require.NoError(t, err)
	return sts.NewStsClient(a.build(t, sts.StsClientBuilder(), c))
}

func (a hwAcct) buy(t *testing.T, p mockserver.Purchase) mockserver.Purchase {
	t.Helper()
	p.AccountID = a.id
	out, err := a.srv.AddPurchase(p)
	require.NoError(t, err)
	return out
}

func sdkErr(t *testing.T, err error) *sdkerr.ServiceResponseError {
	t.Helper()
	var sre *sdkerr.ServiceResponseError
	require.True(t, errors.As(err, &sre), "want *sdkerr.ServiceResponseError, got %T: %v", err, err)
	assert.Regexp(t, `^[0-9a-f]{32}$`, sre.RequestId, "every answer carries X-Request-Id in Huawei's format")
	return sre
}

func ptr[T any](v T) *T { return &v }

func TestHuaweiIAMWithRealSDK(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	c := a.iam(t)

	doms, err := c.KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	require.NoError(t, err)
	require.NotNil(t, doms.Domains)
	require.Len(t, *doms.Domains, 1)
	assert.Equal(t, a.id, (*doms.Domains)[0].Id)
	assert.Equal(t, a.name, (*doms.Domains)[0].Name)

	projects, err := c.KeystoneListProjects(&iammodel.KeystoneListProjectsRequest{Name: ptr("ap-southeast-3")})
	require.NoError(t, err)
	require.Len(t, *projects.Projects, 1)
	assert.Equal(t, a.id, (*projects.Projects)[0].DomainId)
	assert.Equal(t, "ap-southeast-3", (*projects.Projects)[0].Name)
	none, err := c.KeystoneListProjects(&iammodel.KeystoneListProjectsRequest{Name: ptr("No Such Region")})
	require.NoError(t, err)
	assert.Empty(t, *none.Projects)

	cred, err := c.ShowPermanentAccessKey(&iammodel.ShowPermanentAccessKeyRequest{AccessKey: a.ak})
	require.NoError(t, err)
	assert.Equal(t, a.userID, cred.Credential.UserId)
	user, err := c.KeystoneShowUser(&iammodel.KeystoneShowUserRequest{UserId: a.userID})
	require.NoError(t, err)
	assert.Equal(t, a.id, user.User.DomainId)

	_, err = c.ShowPermanentAccessKey(&iammodel.ShowPermanentAccessKeyRequest{AccessKey: "SOMEONEELSE"})
	assert.Equal(t, 404, sdkErr(t, err).StatusCode)
}

// TestHuaweiSDKDiscovery lets the SDK discover the domain ID (WithRegion)
// and the project ID (basic credentials) from the mock, as it does against
// Huawei, then checks the discovered IDs reach BSS and IAM.
func TestHuaweiSDKDiscovery(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	a.buy(t, mockserver.Purchase{InstanceID: "disc-1"})

	cred, err := global.NewCredentialsBuilder().WithAk(a.ak).WithSk(a.sk).WithIamEndpointOverride(srv.HuaweiEndpoint()).SafeBuild()
	require.NoError(t, err)
	hc, err := bssintl.BssintlClientBuilder().WithRegion(region.NewRegion("ap-southeast-1", srv.HuaweiEndpoint())).
		WithCredential(cred).SafeBuild()
	require.NoError(t, err)
	assert.Equal(t, a.id, cred.DomainId)
	resp, err := bssintl.NewBssintlClient(hc).ListPayPerUseCustomerResources(&intl.ListPayPerUseCustomerResourcesRequest{Body: &intl.QueryResourcesReq{}})
	require.NoError(t, err)
	assert.EqualValues(t, 1, *resp.TotalCount)

	bc, err := basic.NewCredentialsBuilder().WithAk(a.ak).WithSk(a.sk).WithIamEndpointOverride(srv.HuaweiEndpoint()).SafeBuild()
	require.NoError(t, err)
	ihc, err := iam.IamClientBuilder().WithRegion(region.NewRegion("ap-southeast-1", srv.HuaweiEndpoint())).WithCredential(bc).SafeBuild()
	require.NoError(t, err)
	assert.Len(t, bc.ProjectId, 32, "project discovered through GET /v3/projects?name=")
	_, err = iam.NewIamClient(ihc).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	require.NoError(t, err, "X-Project-Id header is signed and accepted")
}

func TestHuaweiSTSFallbackForHiddenDomain(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", true)

	doms, err := a.iam(t).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	require.NoError(t, err)
	require.NotNil(t, doms.Domains, "the domains key is present even when empty")
	assert.Empty(t, *doms.Domains)

	id, err := a.sts(t).GetCallerIdentity(&stsmodel.GetCallerIdentityRequest{})
	require.NoError(t, err)
	assert.Equal(t, a.id, *id.AccountId)
	assert.Equal(t, a.userID, *id.PrincipalId)
	assert.Equal(t, "iam::"+a.id+":user:alice", *id.PrincipalUrn)
}

func TestHuaweiRejectsBadCredentials(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)

	wrongSK := a
	wrongSK.sk = "not-the-secret"
	_, err := wrongSK.bss(t).ListPayPerUseCustomerResources(&intl.ListPayPerUseCustomerResourcesRequest{Body: &intl.QueryResourcesReq{}})
	sre := sdkErr(t, err)
	assert.Equal(t, 401, sre.StatusCode)
	assert.Equal(t, "APIGW.0301", sre.ErrorCode)
	assert.Contains(t, sre.ErrorMessage, "verify aksk signature fail")
	assert.NotContains(t, sre.ErrorMessage, a.sk)

	unknown := a
	unknown.ak = "AKUNKNOWN" + strings.ToUpper(hexOf(t.Name()))[:10]
	_, err = unknown.iam(t).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	sre = sdkErr(t, err)
	assert.Equal(t, 401, sre.StatusCode)
	assert.Equal(t, "APIGW.0301", sre.ErrorCode)
	assert.Contains(t, sre.ErrorMessage, "not exist")

	_, err = bssintl.NewBssintlClient(a.build(t, bssintl.BssintlClientBuilder(), a.global(t, "ffffffffffffffffffffffffffffffff"))).
		ListPayPerUseCustomerResources(&intl.ListPayPerUseCustomerResourcesRequest{Body: &intl.QueryResourcesReq{}})
	sre = sdkErr(t, err)
	assert.Equal(t, 403, sre.StatusCode, "X-Domain-Id of another account")
	assert.Equal(t, "CBC.0150", sre.ErrorCode)
}

func TestHuaweiRejectsStaleAndFutureDates(t *testing.T) {
	for name, skew := range map[string]time.Duration{"stale": 16 * time.Minute, "future": -16 * time.Minute, "within": 14 * time.Minute} {
		t.Run(name, func(t *testing.T) {
			clock := mockserver.NewManualClock(time.Now().Add(skew))
			srv := mockserver.Start(t, mockserver.WithoutDemoFixture(), mockserver.WithSignatureClock(clock))
			a := newHWAcct(t, srv, name, false)
			_, err := a.iam(t).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
			if name == "within" {
				require.NoError(t, err)
				return
			}
			sre := sdkErr(t, err)
			assert.Equal(t, 401, sre.StatusCode)
			assert.Equal(t, "APIGW.0301", sre.ErrorCode)
		})
	}
}

// TestHuaweiSignaturesIgnoreTheMockClock: moving the mock's clock (to
// expire codes, tokens or subscriptions) leaves Huawei calls working, as
// the SDK signs with the wall clock; WithSignatureClock is what moves the
// skew window.
func TestHuaweiSignaturesIgnoreTheMockClock(t *testing.T) {
	clock := mockserver.NewManualClock(time.Now())
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture(), mockserver.WithClock(clock))
	a := newHWAcct(t, srv, "", false)
	a.buy(t, mockserver.Purchase{InstanceID: "clock-1"})
	clock.Advance(400 * 24 * time.Hour)
	_, err := a.iam(t).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	require.NoError(t, err, "IAM after the mock's clock moved on")
	resp, err := a.bss(t).ListPayPerUseCustomerResources(&intl.ListPayPerUseCustomerResourcesRequest{Body: &intl.QueryResourcesReq{}})
	require.NoError(t, err, "BSS after the mock's clock moved on")
	assert.EqualValues(t, 1, *resp.TotalCount)

	_, err = mockserver.New(mockserver.WithSignatureClock(nil))
	assert.Error(t, err)
}

// raw sends a request signed by hwsign (so tests can break it on purpose).
type raw struct {
	status int
	header http.Header
	body   map[string]any
}

func (a hwAcct) raw(t *testing.T, method, path, body string, mutate func(r *http.Request, body *[]byte)) raw {
	t.Helper()
	req, err := http.NewRequest(method, a.srv.HuaweiEndpoint()+path, nil)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "raw-test")
	b := []byte(body)
	hwsign.Sign(req, b, a.ak, a.sk, a.srv.Now())
	if mutate != nil {
		mutate(req, &b)
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	resp, err := a.srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out := raw{status: resp.StatusCode, header: resp.Header}
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &out.body), "body %s", data)
	assert.Regexp(t, `^[0-9a-f]{32}$`, resp.Header.Get("X-Request-Id"), "Huawei's request ID format")
	return out
}

// msg is the error message of either error shape.
func (r raw) msg() string {
	if m, ok := r.body["error_msg"].(string); ok {
		return m
	}
	if e, ok := r.body["error"].(map[string]any); ok {
		m, _ := e["message"].(string)
		return m
	}
	return ""
}

// assertHuaweiError checks status and the Huawei error shape:
// {"error_code","error_msg","request_id"}.
func assertHuaweiError(t *testing.T, r raw, status int, code string) {
	t.Helper()
	assert.Equal(t, status, r.status, "body %v", r.body)
	assert.Equal(t, code, r.body["error_code"], "body %v", r.body)
	assert.NotEmpty(t, r.body["error_msg"])
	assert.Equal(t, r.header.Get("X-Request-Id"), r.body["request_id"])
}

// assertKeystoneError checks status and the shape of IAM's Keystone APIs:
// {"error":{"code":status,"message","title"}}, nothing else.
func assertKeystoneError(t *testing.T, r raw, status int) {
	t.Helper()
	assert.Equal(t, status, r.status, "body %v", r.body)
	require.Len(t, r.body, 1, "body %v", r.body)
	e, ok := r.body["error"].(map[string]any)
	require.True(t, ok, "body %v", r.body)
	assert.EqualValues(t, status, e["code"], "body %v", r.body)
	assert.Equal(t, http.StatusText(status), e["title"])
	assert.NotEmpty(t, e["message"])
}

func TestHuaweiSignatureOnRawRequests(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	const path = "/v2/orders/suscriptions/resources/query"

	ok := a.raw(t, http.MethodPost, path, `{"limit":5}`, nil)
	assert.Equal(t, 200, ok.status)

	tampered := a.raw(t, http.MethodPost, path, `{"limit":5}`, func(r *http.Request, b *[]byte) { *b = []byte(`{"limit":50}`) })
	assertHuaweiError(t, tampered, 401, "APIGW.0301")

	noAuth := a.raw(t, http.MethodGet, "/v3/auth/domains", "", func(r *http.Request, _ *[]byte) { r.Header.Del("Authorization") })
	assertHuaweiError(t, noAuth, 401, "APIGW.0301")

	stale := a.raw(t, http.MethodGet, "/v3/auth/domains", "", func(r *http.Request, _ *[]byte) {
		r.Header.Set("X-Sdk-Date", srv.Now().Add(-time.Hour).UTC().Format(hwsign.DateFormat))
		r.Header.Del("Authorization")
		hwsign.Sign(r, nil, a.ak, a.sk, srv.Now())
	})
	assertHuaweiError(t, stale, 401, "APIGW.0301")
	assert.Contains(t, stale.body["error_msg"], "X-Sdk-Date")
}

func TestHuaweiMalformedRequestsGet4xx(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture(), mockserver.WithMaxBodyBytes(2048))
	a := newHWAcct(t, srv, "", false)
	const q = "/v2/orders/suscriptions/resources/query"
	cases := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", q, `{"limit":`, 400, "CBC.0100"},
		{"POST", q, `{"limit":5,"bogus":1}`, 400, "CBC.0100"},
		{"POST", q, `{"limit":5} {"limit":6}`, 400, "CBC.0100"},
		{"POST", q, `[1,2]`, 400, "CBC.0100"},
		{"POST", q, `{"limit":0}`, 400, "CBC.0100"},
		{"POST", q, `{"limit":501}`, 400, "CBC.0100"},
		{"POST", q, `{"offset":-1}`, 400, "CBC.0100"},
		{"POST", q, `{"status_list":[7]}`, 400, "CBC.0100"},
		{"POST", q, `{"only_main_resource":2}`, 400, "CBC.0100"},
		{"POST", q, `{"service_type_code":""}`, 400, "CBC.0100"},
		{"POST", q, `{"expire_time_begin":"2026-01-01"}`, 400, "CBC.0100"},
		{"POST", q, `{"resource_ids":[` + strings.Repeat(`"x",`, 50) + `"y"]}`, 400, "CBC.0100"},
		{"POST", q, `{"customer_id":"` + strings.Repeat("c", 65) + `"}`, 400, "CBC.0100"},
		{"POST", q, `{"limit":5,"order_id":"` + strings.Repeat("x", 3000) + `"}`, 413, "APIGW.0201"},
		{"POST", q + "?x=1", `{}`, 400, "CBC.0100"},
		{"GET", "/v2/orders/customer-orders?limit=abc", "", 400, "CBC.0100"},
		{"GET", "/v2/orders/customer-orders?limit=101", "", 400, "CBC.0100"},
		{"GET", "/v2/orders/customer-orders?order_by=name", "", 400, "CBC.0100"},
		{"GET", "/v2/orders/customer-orders?create_time_begin=yesterday", "", 400, "CBC.0100"},
		{"GET", "/v2/orders/customer-orders?customer_id=x", "", 403, "CBC.0150"},
		{"GET", "/v2/orders/customer-orders?customer_id=x&method=sub_customer", "", 403, "CBC.0150"},
		{"GET", "/v2/orders/customer-orders?method=everyone", "", 400, "CBC.0100"},
		{"GET", "/v2/orders/customer-orders?%zz=1", "", 400, "CBC.0100"},
		{"GET", "/v2/orders/customer-orders?a=1;b=2", "", 400, "CBC.0100"},
		{"GET", "/v2/orders/customer-orders?nope=1", "", 400, "CBC.0100"},
		{"GET", "/v2/orders/customer-orders/details/NOPE", "", 404, "CBC.0101"},
		{"GET", "/v2/products/service-types?limit=0", "", 400, "CBC.0100"},
		{"POST", q, `{"limit":5}]`, 400, "CBC.0100"},
		{"POST", q, `{"limit":5}}`, 400, "CBC.0100"},
		{"POST", q, `{"limit":5,"limit":6}`, 400, "CBC.0100"},
		{"POST", q, `{"Limit":5}`, 400, "CBC.0100"},
		{"POST", q, `{"STATUS_LIST":[2]}`, 400, "CBC.0100"},
		{"POST", q, `null`, 400, "CBC.0100"},
		{"POST", q, " null ", 400, "CBC.0100"},
		{"POST", q, "{\"order_id\":\"\xff\"}", 400, "CBC.0100"},
		{"GET", "/v3.0/OS-CREDENTIAL/credentials/x?y=1", "", 400, "IAM.0007"},
		{"GET", "/v5/caller-identity?y=1", "", 400, "IAM.0001"},
		{"GET", "/v3/nowhere", "", 501, "MOCK.0501"},
		{"DELETE", "/v3/auth/domains", "", 501, "MOCK.0501"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path+" "+tc.body[:min(len(tc.body), 30)], func(t *testing.T) {
			r := a.raw(t, tc.method, tc.path, tc.body, nil)
			assertHuaweiError(t, r, tc.status, tc.code)
		})
	}
}

// TestHuaweiStrictBodiesAcceptDocumentedNulls: a field given as null is
// absent, as BSS documents, while the body itself must be an object.
func TestHuaweiStrictBodiesAcceptDocumentedNulls(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	a.buy(t, mockserver.Purchase{InstanceID: "null-1"})
	r := a.raw(t, http.MethodPost, "/v2/orders/suscriptions/resources/query",
		`{"resource_ids":null,"status_list":null,"order_id":null,"limit":null,"offset":null}`, nil)
	require.Equal(t, 200, r.status, "%v", r.body)
	assert.EqualValues(t, 1, r.body["total_count"])
}

// TestHuaweiKeystoneErrors: IAM's Keystone APIs (/v3/...) answer their own
// refusals in Keystone's shape, which the SDK decodes with an empty
// ErrorCode and the raw body as ErrorMessage, as it does from IAM; the
// gateway's own refusals (the signature) keep the gateway's shape.
func TestHuaweiKeystoneErrors(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	assertKeystoneError(t, a.raw(t, http.MethodGet, "/v3/auth/domains?x=1", "", nil), 400)
	assertKeystoneError(t, a.raw(t, http.MethodGet, "/v3/users/nobody", "", nil), 404)
	assertKeystoneError(t, a.raw(t, http.MethodGet, "/v3/auth/domains", "", func(r *http.Request, _ *[]byte) {
		r.Header.Set("X-Domain-Id", "ffffffffffffffffffffffffffffffff")
		r.Header.Del("Authorization")
		hwsign.Sign(r, nil, a.ak, a.sk, time.Now())
	}), 403)
	assertHuaweiError(t, a.raw(t, http.MethodGet, "/v3/auth/domains", "", func(r *http.Request, _ *[]byte) {
		r.Header.Del("Authorization")
	}), 401, "APIGW.0301")
	assertHuaweiError(t, a.raw(t, http.MethodGet, "/v3.0/OS-CREDENTIAL/credentials/NOPE", "", nil), 404, "IAM.0004")

	_, err := a.iam(t).KeystoneShowUser(&iammodel.KeystoneShowUserRequest{UserId: "nobody"})
	sre := sdkErr(t, err)
	assert.Equal(t, 404, sre.StatusCode)
	assert.Empty(t, sre.ErrorCode, "the SDK finds no string code in a Keystone error")
	assert.JSONEq(t, `{"error":{"code":404,"message":"Could not find user: nobody","title":"Not Found"}}`, sre.ErrorMessage)
}

// TestHuaweiQueryErrorsAreDeterministic: with several bad parameters, the
// error names the same one every time.
func TestHuaweiQueryErrorsAreDeterministic(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	for path, want := range map[string]string{
		"/v2/orders/customer-orders?zz=1&yy=1&aa=1&mm=1":    `unknown query parameter "aa"`,
		"/v2/orders/customer-orders?zz=1&zz=2&bb=1&bb=2":    `query parameter "bb" given more than once`,
		"/v2/products/service-types?zeta=1&alpha=1&omega=1": `unknown query parameter "alpha"`,
		"/v3/auth/domains?q=1&p=1&r=1":                      `unknown query parameter "p"`,
	} {
		for range 20 {
			r := a.raw(t, http.MethodGet, path, "", nil)
			require.Equal(t, 400, r.status)
			require.Equal(t, want, r.msg(), path)
		}
	}
}

// TestHuaweiBSSIgnoresPartnerParameters: BSS documents customer_id of the
// resource query, indirect_partner_id, and method without customer_id as
// ignored for a customer querying its own account.
func TestHuaweiBSSIgnoresPartnerParameters(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	p := a.buy(t, mockserver.Purchase{InstanceID: "pp-1"})
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/v2/orders/suscriptions/resources/query", `{"customer_id":"someone-else"}`},
		{"POST", "/v2/orders/suscriptions/resources/query", `{"customer_id":""}`},
		{"GET", "/v2/orders/customer-orders?method=sub_customer", ""},
		{"GET", "/v2/orders/customer-orders?method=", ""},
		{"GET", "/v2/orders/customer-orders?indirect_partner_id=x", ""},
		{"GET", "/v2/orders/customer-orders/details/" + p.OrderID + "?indirect_partner_id=x", ""},
	} {
		r := a.raw(t, tc.method, tc.path, tc.body, nil)
		require.Equal(t, 200, r.status, "%s %s %s: %v", tc.method, tc.path, tc.body, r.body)
		assert.EqualValues(t, 1, r.body["total_count"], "%s %s: the caller's own purchase, order or line", tc.method, tc.path)
	}
}

func TestHuaweiBSSPagingAndFilters(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	other := newHWAcct(t, srv, "other", false)
	other.buy(t, mockserver.Purchase{InstanceID: "not-mine"})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 7 {
		a.buy(t, mockserver.Purchase{InstanceID: "inst-" + string(rune('a'+i)), EffectiveTime: base,
			ExpireTime: base.AddDate(0, i+1, 0), Status: mockserver.PurchaseStatus(2 + i%4)})
	}
	a.buy(t, mockserver.Purchase{InstanceID: "other-svc", ServiceTypeCode: "hws.service.type.mkp.saas", ProductID: "OFFI1"})
	c := a.bss(t)
	query := func(q intl.QueryResourcesReq) ([]string, int) {
		t.Helper()
		resp, err := c.ListPayPerUseCustomerResources(&intl.ListPayPerUseCustomerResourcesRequest{Body: &q})
		require.NoError(t, err)
		var ids []string
		for _, d := range *resp.Data {
			ids = append(ids, *d.ResourceId)
		}
		return ids, int(*resp.TotalCount)
	}

	var all []string
	for off := int32(0); ; off += 3 {
		ids, total := query(intl.QueryResourcesReq{Offset: ptr(off), Limit: ptr(int32(3))})
		assert.Equal(t, 8, total)
		if len(ids) == 0 {
			break
		}
		all = append(all, ids...)
	}
	assert.Equal(t, []string{"inst-a", "inst-b", "inst-c", "inst-d", "inst-e", "inst-f", "inst-g", "other-svc"}, all)

	ids, _ := query(intl.QueryResourcesReq{})
	assert.Len(t, ids, 8, "default limit is 10")
	ids, total := query(intl.QueryResourcesReq{ResourceIds: &[]string{"inst-b", "not-mine", "nope"}})
	assert.Equal(t, []string{"inst-b"}, ids)
	assert.Equal(t, 1, total)
	ids, _ = query(intl.QueryResourcesReq{StatusList: &[]int32{3, 5}})
	assert.Equal(t, []string{"inst-b", "inst-d", "inst-f"}, ids)
	ids, _ = query(intl.QueryResourcesReq{ServiceTypeCode: ptr("hws.service.type.mkp.saas")})
	assert.Equal(t, []string{"other-svc"}, ids)
	ids, _ = query(intl.QueryResourcesReq{ExpireTimeBegin: ptr("2026-03-01T00:00:00Z"), ExpireTimeEnd: ptr("2026-05-01T00:00:00Z")})
	assert.Equal(t, []string{"inst-b", "inst-c", "inst-d"}, ids)
	ids, _ = query(intl.QueryResourcesReq{OnlyMainResource: ptr(int32(1)), Limit: ptr(int32(2))})
	assert.Len(t, ids, 2)
	order := srv.Purchases()[3].OrderID
	ids, _ = query(intl.QueryResourcesReq{OrderId: &order})
	assert.Equal(t, []string{"inst-c"}, ids)

	resp, err := c.ListPayPerUseCustomerResources(&intl.ListPayPerUseCustomerResourcesRequest{Body: &intl.QueryResourcesReq{ResourceIds: &[]string{"inst-a"}}})
	require.NoError(t, err)
	d := (*resp.Data)[0]
	assert.Equal(t, mockserver.TrueWatchProductID, *d.ProductId)
	assert.Equal(t, "hws.service.type.marketplace", *d.ServiceTypeCode)
	assert.EqualValues(t, 2, *d.Status)
	assert.Equal(t, "2026-01-01T00:00:00Z", *d.EffectiveTime)
	assert.Equal(t, "2026-02-01T00:00:00Z", *d.ExpireTime)
	assert.EqualValues(t, 1, *d.IsMainResource)
	assert.Len(t, *d.Id, 32)
}

func TestHuaweiReleaseIsVisibleInBSS(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	a.buy(t, mockserver.Purchase{InstanceID: "rel-1"})
	status := func() int32 {
		resp, err := a.bss(t).ListPayPerUseCustomerResources(&intl.ListPayPerUseCustomerResourcesRequest{Body: &intl.QueryResourcesReq{}})
		require.NoError(t, err)
		require.Len(t, *resp.Data, 1)
		return *(*resp.Data)[0].Status
	}
	assert.EqualValues(t, 2, status())
	require.NoError(t, srv.SetPurchaseStatus("rel-1", mockserver.PurchaseFrozen))
	assert.EqualValues(t, 4, status())
	release(t, srv, "rel-1")
	assert.EqualValues(t, 3, status())
}

func TestHuaweiBSSOrders(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	other := newHWAcct(t, srv, "other", false)
	theirs := other.buy(t, mockserver.Purchase{InstanceID: "theirs"})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p1 := a.buy(t, mockserver.Purchase{InstanceID: "o-1", EffectiveTime: base, ExpireTime: base.AddDate(1, 0, 0)})
	p2 := a.buy(t, mockserver.Purchase{InstanceID: "o-2", EffectiveTime: base.AddDate(0, 1, 0), ExpireTime: base.AddDate(0, 4, 0)})
	c := a.bss(t)

	list, err := c.ListCustomerOrders(&intl.ListCustomerOrdersRequest{})
	require.NoError(t, err)
	require.EqualValues(t, 2, *list.TotalCount)
	assert.Equal(t, p2.OrderID, *(*list.OrderInfos)[0].OrderId, "newest first by default")
	list, err = c.ListCustomerOrders(&intl.ListCustomerOrdersRequest{OrderBy: ptr("createTime"), Limit: ptr(int32(1)), Offset: ptr(int32(1))})
	require.NoError(t, err)
	assert.Equal(t, p2.OrderID, *(*list.OrderInfos)[0].OrderId)
	list, err = c.ListCustomerOrders(&intl.ListCustomerOrdersRequest{CreateTimeBegin: ptr("2026-01-15T00:00:00Z"), Status: ptr(int32(5)), OrderType: ptr("1")})
	require.NoError(t, err)
	require.EqualValues(t, 1, *list.TotalCount)
	list, err = c.ListCustomerOrders(&intl.ListCustomerOrdersRequest{OrderId: &p1.OrderID, ServiceTypeCode: ptr(mockserver.MarketplaceServiceType)})
	require.NoError(t, err)
	require.EqualValues(t, 1, *list.TotalCount)

	det, err := c.ShowCustomerOrderDetails(&intl.ShowCustomerOrderDetailsRequest{OrderId: p2.OrderID})
	require.NoError(t, err)
	assert.Equal(t, a.id, *det.OrderInfo.CustomerId)
	require.Len(t, *det.OrderLineItems, 1)
	line := (*det.OrderLineItems)[0]
	assert.Equal(t, mockserver.TrueWatchProductID, *line.ProductId)
	assert.EqualValues(t, 2, *line.PeriodType, "months")
	assert.EqualValues(t, 3, *line.PeriodNum)
	det, err = c.ShowCustomerOrderDetails(&intl.ShowCustomerOrderDetailsRequest{OrderId: p1.OrderID})
	require.NoError(t, err)
	assert.EqualValues(t, 3, *(*det.OrderLineItems)[0].PeriodType, "years")

	_, err = c.ShowCustomerOrderDetails(&intl.ShowCustomerOrderDetailsRequest{OrderId: theirs.OrderID})
	sre := sdkErr(t, err)
	assert.Equal(t, 404, sre.StatusCode, "another account's order does not exist for the caller")
	assert.Equal(t, "CBC.0101", sre.ErrorCode)
}

func TestHuaweiBSSChineseMainlandClient(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	id := hexOf("acct|" + t.Name())
	ak := "AKCN" + strings.ToUpper(id)[:16]
	require.NoError(t, srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: id, Site: mockserver.HuaweiSiteChineseMainland,
		Balance: "8888.80", Keys: []mockserver.AccessKey{{AK: ak, SK: "cn-sk"}}}))
	p, err := srv.AddPurchase(mockserver.Purchase{AccountID: id, InstanceID: "cn-1", RegionCode: "cn-north-4"})
	require.NoError(t, err)
	a := hwAcct{srv: srv, id: id, ak: ak, sk: "cn-sk"}
	c := bss.NewBssClient(a.build(t, bss.BssClientBuilder(), a.global(t, a.id)))

	resp, err := c.ListPayPerUseCustomerResources(&bssmodel.ListPayPerUseCustomerResourcesRequest{Body: &bssmodel.QueryResourcesReq{StatusList: &[]int32{2}}})
	require.NoError(t, err)
	require.Len(t, *resp.Data, 1)
	assert.Equal(t, "cn-1", *(*resp.Data)[0].ResourceId)
	assert.Equal(t, "cn-north-4", *(*resp.Data)[0].RegionCode)

	// The default language is zh_CN, as BSS documents.
	types, err := c.ListServiceTypes(&bssmodel.ListServiceTypesRequest{})
	require.NoError(t, err)
	require.NotEmpty(t, *types.ServiceTypes)
	assert.Equal(t, "弹性云服务器", *(*types.ServiceTypes)[0].ServiceTypeName)

	// Amounts are in CNY on the Chinese mainland site.
	orders, err := c.ListCustomerOrders(&bssmodel.ListCustomerOrdersRequest{})
	require.NoError(t, err)
	require.Len(t, *orders.OrderInfos, 1)
	assert.Equal(t, "CNY", *(*orders.OrderInfos)[0].Currency)
	assert.Equal(t, "云商店", *(*orders.OrderInfos)[0].ServiceTypeName)
	det, err := c.ShowCustomerOrderDetails(&bssmodel.ShowCustomerOrderDetailsRequest{OrderId: p.OrderID, XLanguage: ptr("en_US")})
	require.NoError(t, err)
	assert.Equal(t, "CNY", *det.OrderInfo.Currency)
	assert.Equal(t, "CNY", *(*det.OrderLineItems)[0].Currency)
	assert.Equal(t, "KooGallery", *(*det.OrderLineItems)[0].ServiceTypeName, "X-Language en_US")
	bal, err := c.ShowCustomerAccountBalances(&bssmodel.ShowCustomerAccountBalancesRequest{})
	require.NoError(t, err)
	assert.Equal(t, "CNY", *bal.Currency)
	require.Len(t, *bal.AccountBalances, 1)
	assert.Equal(t, "8888.8", (*bal.AccountBalances)[0].Amount.String())
	assert.Equal(t, "CNY", (*bal.AccountBalances)[0].Currency)
}

// TestHuaweiBSSInternationalAmountsInUSD: the international site answers
// in USD; the balance is the seeded one (0.00 by default).
func TestHuaweiBSSInternationalAmountsInUSD(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	p := a.buy(t, mockserver.Purchase{InstanceID: "usd-1"})
	c := a.bss(t)
	bal, err := c.ShowCustomerAccountBalances(&intl.ShowCustomerAccountBalancesRequest{})
	require.NoError(t, err)
	assert.Equal(t, "USD", *bal.Currency)
	assert.EqualValues(t, 1, *bal.MeasureId)
	require.Len(t, *bal.AccountBalances, 1)
	b := (*bal.AccountBalances)[0]
	assert.EqualValues(t, 1, b.AccountType, "cash")
	assert.True(t, b.Amount.IsZero())
	assert.Equal(t, "USD", b.Currency)
	det, err := c.ShowCustomerOrderDetails(&intl.ShowCustomerOrderDetailsRequest{OrderId: p.OrderID})
	require.NoError(t, err)
	assert.Equal(t, "USD", *det.OrderInfo.Currency)
	assert.Equal(t, "云商店", *det.OrderInfo.ServiceTypeName, "X-Language defaults to zh_CN")

	assert.Error(t, srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: hexOf("bad-site"), Site: "mars"}))
	assert.Error(t, srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: hexOf("bad-balance"), Balance: "1.005"}))
}

// TestHuaweiBSSOwnCustomerID: ListCustomerOrders treats the caller's own
// customer_id as a filter on its own orders (method oneself, the default)
// or on the orders it paid for enterprise sub-accounts (sub_customer: none
// in the mock); an empty one as no filter; another account's ID is for
// partners only.
func TestHuaweiBSSOwnCustomerID(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	a.buy(t, mockserver.Purchase{InstanceID: "own-1"})
	c := a.bss(t)
	methods := intl.GetListCustomerOrdersRequestMethodEnum()
	for _, tc := range []struct {
		req  intl.ListCustomerOrdersRequest
		want int32
	}{
		{intl.ListCustomerOrdersRequest{CustomerId: &a.id}, 1},
		{intl.ListCustomerOrdersRequest{CustomerId: &a.id, Method: &methods.ONESELF}, 1},
		{intl.ListCustomerOrdersRequest{CustomerId: &a.id, Method: &methods.SUB_CUSTOMER}, 0},
		{intl.ListCustomerOrdersRequest{CustomerId: ptr("")}, 1},
	} {
		resp, err := c.ListCustomerOrders(&tc.req)
		require.NoError(t, err)
		assert.Equal(t, tc.want, *resp.TotalCount)
	}
	_, err := c.ListCustomerOrders(&intl.ListCustomerOrdersRequest{CustomerId: ptr("ffffffffffffffffffffffffffffffff")})
	sre := sdkErr(t, err)
	assert.Equal(t, 403, sre.StatusCode)
	assert.Equal(t, "CBC.0150", sre.ErrorCode)
}

func TestHuaweiBSSProductCatalogue(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	c := a.bss(t)
	st, err := c.ListServiceTypes(&intl.ListServiceTypesRequest{Limit: ptr(int32(2)), XLanguage: ptr("en_US")})
	require.NoError(t, err)
	assert.EqualValues(t, 3, *st.TotalCount)
	assert.Len(t, *st.ServiceTypes, 2)
	assert.Equal(t, "Elastic Cloud Server", *(*st.ServiceTypes)[0].ServiceTypeName)
	// ListServiceTypes is documented not to list KooGallery services.
	for _, lang := range []string{"en_US", "zh_CN"} {
		all, err := c.ListServiceTypes(&intl.ListServiceTypesRequest{Limit: ptr(int32(1000)), XLanguage: ptr(lang)})
		require.NoError(t, err)
		for _, st := range *all.ServiceTypes {
			assert.NotEqual(t, mockserver.MarketplaceServiceType, *st.ServiceTypeCode)
		}
	}
	none, err := c.ListServiceTypes(&intl.ListServiceTypesRequest{ServiceTypeName: ptr("kooGallery"), XLanguage: ptr("en_US")})
	require.NoError(t, err)
	assert.Empty(t, *none.ServiceTypes)
	zh, err := c.ListServiceTypes(&intl.ListServiceTypesRequest{ServiceTypeName: ptr("云硬盘")})
	require.NoError(t, err)
	require.Len(t, *zh.ServiceTypes, 1, "zh_CN by default")

	rt, err := c.ListResourceTypes(&intl.ListResourceTypesRequest{Offset: ptr(int32(3))})
	require.NoError(t, err)
	assert.EqualValues(t, 4, *rt.TotalCount)
	assert.Len(t, *rt.ResourceTypes, 1)
	rt, err = c.ListResourceTypes(&intl.ListResourceTypesRequest{XLanguage: ptr("en_US")})
	require.NoError(t, err)
	assert.Equal(t, "SaaS", *(*rt.ResourceTypes)[0].ResourceTypeName)
	assert.Equal(t, "KooGallery SaaS product", *(*rt.ResourceTypes)[0].ResourceTypeDesc)

	_, err = c.ListServiceTypes(&intl.ListServiceTypesRequest{Limit: ptr(int32(1001))})
	assert.Equal(t, 400, sdkErr(t, err).StatusCode)
	_, err = c.ListServiceTypes(&intl.ListServiceTypesRequest{XLanguage: ptr("fr_FR")})
	assert.Equal(t, 400, sdkErr(t, err).StatusCode)
}

func TestHuaweiTemporaryKeyNeedsToken(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	id := hexOf("acct|" + t.Name())
	ak := "AKTEMP" + strings.ToUpper(id)[:12]
	require.NoError(t, srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: id,
		Keys: []mockserver.AccessKey{{AK: ak, SK: "temp-sk", SecurityToken: "temp-token"}}}))
	call := func(token string) error {
		b := global.NewCredentialsBuilder().WithAk(ak).WithSk("temp-sk")
		if token != "" {
			b = b.WithSecurityToken(token)
		}
		cred, err := b.SafeBuild()
		require.NoError(t, err)
		hc, err := iam.IamClientBuilder().WithEndpoints([]string{srv.HuaweiEndpoint()}).WithCredential(cred).SafeBuild()
		require.NoError(t, err)
		_, err = iam.NewIamClient(hc).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
		return err
	}
	require.NoError(t, call("temp-token"))
	assert.Equal(t, 401, sdkErr(t, call("")).StatusCode)
	assert.Equal(t, 401, sdkErr(t, call("wrong")).StatusCode)
}

func TestHuaweiBSSOrderWithSeveralPurchases(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	p1 := a.buy(t, mockserver.Purchase{InstanceID: "g-1", OrderID: "CSGROUP01", EffectiveTime: base})
	p2 := a.buy(t, mockserver.Purchase{InstanceID: "g-2", OrderID: "CSGROUP01", EffectiveTime: base.Add(time.Hour),
		ExpireTime: base.Add(time.Hour).AddDate(0, 6, 0)})
	c := a.bss(t)

	list, err := c.ListCustomerOrders(&intl.ListCustomerOrdersRequest{})
	require.NoError(t, err)
	require.EqualValues(t, 1, *list.TotalCount, "one order bought both")
	o := (*list.OrderInfos)[0]
	assert.Equal(t, "2026-05-01T11:55:00Z", *o.CreateTime, "created before the first purchase took effect")
	assert.Equal(t, "2026-05-01T11:59:00Z", *o.PaymentTime)

	det, err := c.ShowCustomerOrderDetails(&intl.ShowCustomerOrderDetailsRequest{OrderId: "CSGROUP01"})
	require.NoError(t, err)
	require.EqualValues(t, 2, *det.TotalCount)
	lines := *det.OrderLineItems
	require.Len(t, lines, 2)
	for i, p := range []mockserver.Purchase{p1, p2} {
		assert.Equal(t, p.ProductID, *lines[i].ProductId)
		assert.Equal(t, p.EffectiveTime.Format(time.RFC3339), *lines[i].EffectiveTime)
		assert.Equal(t, p.ExpireTime.Format(time.RFC3339), *lines[i].ExpireTime)
	}
	assert.Equal(t, "CSGROUP01-000002", *lines[1].OrderLineItemId)

	_, err = srv.AddPurchase(mockserver.Purchase{AccountID: a.id, InstanceID: "g-3", OrderID: "bad id"})
	require.Error(t, err, "order IDs follow the instance ID rule")
}

// TestHuaweiOneSourceOfTruth: a purchase made through the control plane is
// what BSS lists and what the Billing Center's subscription lookup shows,
// and freezing or releasing it changes both at once.
func TestHuaweiOneSourceOfTruth(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	hc := srv.HTTPClient()
	post := func(path, body string) {
		t.Helper()
		resp, err := hc.Post(srv.URL()+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		require.Less(t, resp.StatusCode, 300, "%s: %s", path, data)
	}
	bssStatus := func() int32 {
		t.Helper()
		ids := []string{"one-1"}
		resp, err := a.bss(t).ListPayPerUseCustomerResources(&intl.ListPayPerUseCustomerResourcesRequest{
			Body: &intl.QueryResourcesReq{ResourceIds: &ids}})
		require.NoError(t, err)
		require.Len(t, *resp.Data, 1)
		return *(*resp.Data)[0].Status
	}
	subscription := func() (status string, active bool) {
		t.Helper()
		resp, err := hc.Get(srv.BillingURL() + "/api/v1/subscription/get?huaweiAccountId=" + a.id + "&instanceId=one-1")
		require.NoError(t, err)
		defer resp.Body.Close()
		var env struct {
			Content struct {
				Status string `json:"status"`
				Active bool   `json:"active"`
			} `json:"content"`
		}
		require.Equal(t, 200, resp.StatusCode)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
		return env.Content.Status, env.Content.Active
	}

	post("/_mock/purchases", `{"accountId":"`+a.id+`","instanceId":"one-1"}`)
	assert.EqualValues(t, 2, bssStatus())
	st, active := subscription()
	assert.Equal(t, "in_use", st)
	assert.True(t, active)

	require.NoError(t, srv.SetPurchaseStatus("one-1", mockserver.PurchaseFrozen))
	assert.EqualValues(t, 4, bssStatus())
	st, active = subscription()
	assert.Equal(t, "frozen", st)
	assert.False(t, active)

	post("/_mock/purchases/one-1/release", "")
	assert.EqualValues(t, 3, bssStatus())
	st, active = subscription()
	assert.Equal(t, "closed", st)
	assert.False(t, active)
}

// TestOwnershipProofsIgnoreTheMockClock: proofs of ownership are Huawei
// signatures, so their window follows the signature clock too: the buyer's
// Huawei client and the mock's own prover both prove ownership after the
// mock's clock has moved on by a year.
func TestOwnershipProofsIgnoreTheMockClock(t *testing.T) {
	clock := mockserver.NewManualClock(time.Now())
	srv := mockserver.Start(t, mockserver.WithClock(clock))
	clock.Advance(400 * 24 * time.Hour)
	hw, err := srv.HuaweiClient()
	require.NoError(t, err)
	for name, prover := range map[string]billing.OwnershipProver{"huawei client": hw,
		"mock prover": srv.OwnershipProver(mockserver.DemoHuaweiAccountID)} {
		bc, err := srv.BillingClient(billing.WithOwnershipProver(prover))
		require.NoError(t, err)
		sub, err := bc.GetSubscription(context.Background(), mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
		require.NoError(t, err, name)
		assert.True(t, sub.OwnershipProven, name)
	}
}

// release closes a purchase through the marketplace.
func release(t testing.TB, srv *mockserver.Server, instanceID string) {
	t.Helper()
	_, err := srv.ReleasePurchase(context.Background(), instanceID)
	require.NoError(t, err)
}
