package huawei_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	marketplace "github.com/truewatch-labs/marketplace-go"
	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/retry"
)

const (
	fakeEP   = "https://hw.test"
	fakeAcct = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
)

// mockClient is a Client on an httpmock transport with a recording,
// non-sleeping retry policy.
func mockClient(t *testing.T, opts ...huawei.Option) (*huawei.Client, *httpmock.MockTransport, *[]retry.Event) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	var events []retry.Event
	pol := retry.Policy{MaxRetries: 3, WaitMin: time.Second, WaitMax: 4 * time.Second, NoJitter: true,
		Sleep:   func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		OnRetry: func(e retry.Event) { events = append(events, e) }}
	c, err := huawei.NewClient(append([]huawei.Option{huawei.WithCredentials("AKHTTPMOCK"+strings.ToUpper(uniqueHex(t.Name()))[:12], "sk"),
		huawei.WithEndpoint(fakeEP), huawei.WithHTTPRoundTripper(mt), huawei.WithRetryPolicy(pol)}, opts...)...)
	require.NoError(t, err)
	return c, mt, &events
}

func hwErr(status int, code, msg string) httpmock.Responder {
	r := httpmock.NewStringResponder(status, `{"error_code":"`+code+`","error_msg":"`+msg+`"}`)
	return r.HeaderSet(http.Header{"X-Request-Id": {"req-abc"}, "Content-Type": {"application/json"}})
}

func jsonOK(body string) httpmock.Responder {
	return httpmock.NewStringResponder(200, body).HeaderSet(http.Header{"Content-Type": {"application/json"}})
}

const domainsOK = `{"domains":[{"id":"` + fakeAcct + `","name":"acme","enabled":true}]}`

func TestHuaweiNewClientValidatesOptions(t *testing.T) {
	ok := huawei.WithCredentials("AK", "SK")
	cases := map[string][]huawei.Option{
		"no credentials":     nil,
		"empty AK":           {huawei.WithCredentials("", "SK")},
		"empty SK":           {huawei.WithCredentials("AK", "")},
		"AK with space":      {huawei.WithCredentials("A K", "SK")},
		"bad region":         {ok, huawei.WithRegion("Hong Kong")},
		"unknown region":     {ok, huawei.WithRegion("xx-nowhere-9")},
		"bad domain":         {ok, huawei.WithDomainID("ABC")},
		"endpoint path":      {ok, huawei.WithEndpoint("http://127.0.0.1:1/prefix")},
		"endpoint scheme":    {ok, huawei.WithIAMEndpoint("ftp://x")},
		"endpoint query":     {ok, huawei.WithBSSEndpoint("https://x/?a=1")},
		"no product IDs":     {ok, huawei.WithProductIDs()},
		"bad product ID":     {ok, huawei.WithProductIDs("has space")},
		"nil transport":      {ok, huawei.WithHTTPTransport(nil)},
		"nil round tripper":  {ok, huawei.WithHTTPRoundTripper(nil)},
		"zero timeout":       {ok, huawei.WithTimeout(0)},
		"empty token":        {ok, huawei.WithSecurityToken("")},
		"nil instance ID fn": {ok, huawei.WithInstanceIDFunc(nil)},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := huawei.NewClient(opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.NotContains(t, err.Error(), "SK")
		})
	}
	c, err := huawei.NewClient(ok, huawei.WithRegion("eu-west-101"), huawei.WithSecurityToken("t"), huawei.WithTimeout(time.Second),
		huawei.WithHTTPTransport(&http.Transport{}), huawei.WithLogger(nil), huawei.WithChineseMainland())
	require.NoError(t, err)
	assert.NotNil(t, c)
}

func TestHuaweiNewClientFromEnv(t *testing.T) {
	t.Setenv(huawei.EnvAccessKey, "")
	t.Setenv(huawei.EnvSecretKey, "")
	_, err := huawei.NewClient(huawei.WithCredentialsFromEnv())
	require.Error(t, err, "empty AK and SK never fall back to the metadata service")

	t.Setenv(huawei.EnvAccessKey, "AKENV")
	t.Setenv(huawei.EnvSecretKey, "SKENV")
	t.Setenv(huawei.EnvDomainID, "nothex")
	_, err = huawei.NewClient(huawei.WithCredentialsFromEnv())
	require.Error(t, err)

	t.Setenv(huawei.EnvDomainID, fakeAcct)
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("POST", fakeEP+"/v2/orders/suscriptions/resources/query", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, fakeAcct, r.Header.Get("X-Domain-Id"))
		assert.Contains(t, r.Header.Get("Authorization"), "Access=AKENV,")
		return httpmock.NewStringResponse(200, `{"total_count":0,"data":[]}`), nil
	})
	c, err := huawei.NewClient(huawei.WithCredentialsFromEnv(), huawei.WithEndpoint(fakeEP), huawei.WithHTTPRoundTripper(mt))
	require.NoError(t, err)
	assert.Zero(t, mt.GetTotalCallCount(), "no network call in the constructor")
	_, err = c.ListPurchases(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "the domain ID from the environment spares the IAM lookup")
}

func TestHuaweiRetriesServerErrorsAndThrottling(t *testing.T) {
	c, mt, events := mockClient(t)
	mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains",
		hwErr(503, "APIGW.0201", "busy").Then(hwErr(429, "APIGW.0308", "throttled")).Then(jsonOK(domainsOK)))
	acc, err := c.AccountID(context.Background())
	require.NoError(t, err)
	assert.Equal(t, huawei.Account{ID: fakeAcct, Name: "acme", Source: huawei.SourceIAM}, acc)
	require.Len(t, *events, 2)
	assert.Equal(t, retry.Event{Service: huawei.ServiceIAM, Operation: "KeystoneListAuthDomains", Attempt: 1, Reason: "HTTP 503", Wait: time.Second}, (*events)[0])
	assert.Equal(t, "rate limited (APIGW.0308)", (*events)[1].Reason)
	assert.Equal(t, 2*time.Second, (*events)[1].Wait)
}

func TestHuaweiRetryHonoursRetryAfter(t *testing.T) {
	c, mt, events := mockClient(t)
	mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains",
		hwErr(429, "APIGW.0308", "slow down").HeaderAdd(http.Header{"Retry-After": {"3"}}).Then(jsonOK(domainsOK)))
	_, err := c.AccountID(context.Background())
	require.NoError(t, err)
	require.Len(t, *events, 1)
	assert.Equal(t, 3*time.Second, (*events)[0].Wait)
}

func TestHuaweiGivesUpAfterMaxRetries(t *testing.T) {
	c, mt, events := mockClient(t)
	mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains", hwErr(500, "CBC.0999", "boom"))
	_, err := c.AccountID(context.Background())
	var ae *apierror.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 4, ae.Attempts)
	assert.Equal(t, 500, ae.HTTPStatus)
	assert.Equal(t, "req-abc", ae.RequestID)
	assert.ErrorIs(t, err, apierror.ErrServer)
	assert.Len(t, *events, 3)
}

func TestHuaweiDoesNotRetryClientErrors(t *testing.T) {
	for _, tc := range []struct {
		status   int
		code     string
		sentinel error
	}{
		{401, "APIGW.0301", apierror.ErrUnauthorized},
		{403, "IAM.0002", apierror.ErrForbidden},
		{404, "IAM.0004", apierror.ErrNotFound},
		{400, "IAM.0001", apierror.ErrValidation},
		{501, "X.1", apierror.ErrServer},
	} {
		t.Run(tc.code, func(t *testing.T) {
			c, mt, events := mockClient(t)
			mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains", hwErr(tc.status, tc.code, "no"))
			_, err := c.AccountID(context.Background())
			require.ErrorIs(t, err, tc.sentinel)
			var ae *apierror.Error
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, huawei.ServiceIAM, ae.Service)
			assert.Equal(t, "KeystoneListAuthDomains", ae.Operation)
			assert.Equal(t, tc.code, ae.ErrorCode)
			assert.Equal(t, "no", ae.Message)
			var sre *sdkerr.ServiceResponseError
			require.ErrorAs(t, err, &sre, "the SDK's error stays reachable")
			assert.Equal(t, tc.status, sre.StatusCode)
			assert.Empty(t, *events)
			assert.Equal(t, 1, mt.GetTotalCallCount())
		})
	}
}

func TestHuaweiKeystoneStyleErrorMessage(t *testing.T) {
	c, mt, _ := mockClient(t)
	mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains", httpmock.NewStringResponder(401,
		`{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`))
	_, err := c.AccountID(context.Background())
	var ae *apierror.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "The request you have made requires authentication.", ae.Message)
	assert.ErrorIs(t, err, apierror.ErrUnauthorized)
}

func TestHuaweiTransportErrorsAreRetriedAndWrapped(t *testing.T) {
	c, mt, events := mockClient(t)
	mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains", httpmock.ConnectionFailure)
	_, err := c.AccountID(context.Background())
	require.ErrorIs(t, err, apierror.ErrTransport)
	assert.Len(t, *events, 3)
	assert.Contains(t, (*events)[0].Reason, "connection error")
}

func TestHuaweiMalformedBodiesAreTypedErrors(t *testing.T) {
	for name, body := range map[string]string{
		"truncated":    `{"domains":[{"id":"` + fakeAcct,
		"no domains":   `{}`,
		"null":         `null`,
		"not json":     `<html>`,
		"bad id":       `{"domains":[{"id":"NOT-HEX","name":"x"}]}`,
		"wrong shape":  `{"domains":{"id":1}}`,
		"empty domain": `{"domains":[{}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, mt, events := mockClient(t)
			mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains", jsonOK(body))
			var err error
			require.NotPanics(t, func() { _, err = c.AccountID(context.Background()) })
			require.ErrorIs(t, err, huawei.ErrMalformedResponse)
			var ae *apierror.Error
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 200, ae.HTTPStatus)
			assert.Empty(t, *events, "a malformed 200 is not retried")
		})
	}
}

func TestHuaweiMalformedPurchasesAreTypedErrors(t *testing.T) {
	for name, body := range map[string]string{
		"truncated":      `{"total_count":1,"data":[{"resource_id":"x"`,
		"empty":          `{}`,
		"bad time":       `{"total_count":1,"data":[{"resource_id":"x","status":2,"product_id":"OFFI845592654693900288","expire_time":"soon"}]}`,
		"no resource_id": `{"total_count":1,"data":[{"status":2}]}`,
		"no status":      `{"total_count":1,"data":[{"resource_id":"x"}]}`,
		// A truncated page must not read as "no (more) purchases".
		"no total_count":       `{"data":[{"resource_id":"x","status":2,"product_id":"OFFI845592654693900288"}]}`,
		"null data":            `{"total_count":3,"data":null}`,
		"no data":              `{"total_count":3}`,
		"negative total_count": `{"total_count":-1,"data":[]}`,
		"null entry":           `{"total_count":1,"data":[null]}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
			mt.RegisterResponder("POST", fakeEP+"/v2/orders/suscriptions/resources/query", jsonOK(body))
			_, err := c.ListPurchases(context.Background(), nil)
			require.ErrorIs(t, err, huawei.ErrMalformedResponse)
		})
	}
}

func TestHuaweiEmptyPurchaseListIsNotMalformed(t *testing.T) {
	for _, body := range []string{`{"total_count":0}`, `{"total_count":0,"data":null}`, `{"total_count":2,"data":[]}`} {
		c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
		mt.RegisterResponder("POST", fakeEP+"/v2/orders/suscriptions/resources/query", jsonOK(body))
		pg, err := c.ListPurchases(context.Background(), &huawei.PurchaseQuery{Offset: 2})
		require.NoError(t, err, body)
		assert.Empty(t, pg.Purchases)
		assert.False(t, pg.HasMore())
	}
}

func TestHuaweiMalformedOrdersAreTypedErrors(t *testing.T) {
	const info = `"order_info":{"order_id":"CS1","status":5}`
	for name, body := range map[string]string{
		"empty":            `{}`,
		"no total_count":   `{` + info + `,"order_line_items":[{"product_id":"p"}]}`,
		"no lines":         `{` + info + `,"total_count":2}`,
		"bad line time":    `{` + info + `,"total_count":1,"order_line_items":[{"expire_time":"soon"}]}`,
		"no order_id":      `{"order_info":{},"total_count":0}`,
		"bad payment time": `{"order_info":{"order_id":"CS1","payment_time":"yesterday"},"total_count":0}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, mt, events := mockClient(t, huawei.WithDomainID(fakeAcct))
			mt.RegisterResponder("GET", fakeEP+"/v2/orders/customer-orders/details/CS1", jsonOK(body))
			var err error
			require.NotPanics(t, func() { _, err = c.Order(context.Background(), "CS1") })
			require.ErrorIs(t, err, huawei.ErrMalformedResponse)
			assert.Empty(t, *events)
		})
	}
	for name, body := range map[string]string{
		"empty":          `{}`,
		"no total_count": `{"order_infos":[{"order_id":"CS1"}]}`,
		"no orders":      `{"total_count":4}`,
	} {
		t.Run("list "+name, func(t *testing.T) {
			c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
			mt.RegisterResponder("GET", fakeEP+"/v2/orders/customer-orders", jsonOK(body))
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			_, err := c.OrderFor(context.Background(), huawei.Purchase{ResourceID: "r", ProductID: huawei.TrueWatchProductID,
				EffectiveTime: at, ExpireTime: at.AddDate(1, 0, 0)})
			require.ErrorIs(t, err, huawei.ErrMalformedResponse)
			assert.Equal(t, 1, mt.GetTotalCallCount(), "no order is fetched")
		})
	}
}

func TestHuaweiParsesBSSTimeFormats(t *testing.T) {
	c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
	mt.RegisterResponder("POST", fakeEP+"/v2/orders/suscriptions/resources/query", jsonOK(`{"total_count":1,"data":[{
		"resource_id":"x","status":2,"product_id":"OFFI845592654693900288",
		"effective_time":"2026-01-02T03:04:05.678Z","expire_time":"2027-01-02T11:04:05+08:00","update_time":""}]}`))
	pg, err := c.ListPurchases(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, pg.Purchases, 1)
	p := pg.Purchases[0]
	assert.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC), p.EffectiveTime, "milliseconds")
	assert.Equal(t, time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC), p.ExpireTime, "an offset is converted to UTC")
	assert.Equal(t, time.UTC, p.ExpireTime.Location())
	assert.True(t, p.UpdateTime.IsZero(), "empty is the zero time")
}

func TestHuaweiContextCancelStopsRetries(t *testing.T) {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains", hwErr(503, "X", "busy"))
	ctx, cancel := context.WithCancel(context.Background())
	pol := retry.Policy{MaxRetries: 5, Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}}
	c, err := huawei.NewClient(huawei.WithCredentials("AKCANCEL", "sk"), huawei.WithEndpoint(fakeEP),
		huawei.WithHTTPRoundTripper(mt), huawei.WithRetryPolicy(pol))
	require.NoError(t, err)
	_, err = c.AccountID(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, mt.GetTotalCallCount())

	_, err = c.AccountID(ctx)
	require.ErrorIs(t, err, context.Canceled, "a cancelled context makes no call")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestHuaweiContextReachesTheTransport(t *testing.T) {
	type key struct{}
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "v", r.Context().Value(key{}), "the caller's context is on the SDK's request")
		return httpmock.NewStringResponse(200, domainsOK), nil
	})
	c, err := huawei.NewClient(huawei.WithCredentials("AKCTX", "sk"), huawei.WithEndpoint(fakeEP), huawei.WithHTTPRoundTripper(mt))
	require.NoError(t, err)
	_, err = c.AccountID(context.WithValue(context.Background(), key{}, "v"))
	require.NoError(t, err)
}

func TestHuaweiBadInputMakesNoCall(t *testing.T) {
	c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
	ctx := context.Background()
	_, err := c.Purchase(ctx, "")
	require.ErrorIs(t, err, apierror.ErrValidation)
	_, err = c.Purchase(ctx, "has space")
	require.ErrorIs(t, err, apierror.ErrValidation)
	_, err = c.Purchase(ctx, strings.Repeat("x", 65))
	require.ErrorIs(t, err, apierror.ErrValidation)
	_, err = c.Order(ctx, "bad id")
	require.ErrorIs(t, err, apierror.ErrValidation)
	for _, q := range []huawei.PurchaseQuery{
		{Statuses: []huawei.PurchaseStatus{7}},
		{Limit: 501},
		{Limit: -1},
		{Offset: -1},
		{ResourceIDs: make([]string, 51)},
		{ResourceIDs: []string{"a b"}},
		{OrderID: "a b"},
		{ServiceTypeCode: " "},
		{ProductIDs: []string{""}},
		{ExpiresAfter: time.Now(), ExpiresBefore: time.Now().Add(-time.Hour)},
	} {
		_, err := c.ListPurchases(ctx, &q)
		var ve *apierror.ValidationError
		require.ErrorAs(t, err, &ve, "%+v", q)
		assert.NotEmpty(t, ve.Problems)
	}
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestHuaweiSDKErrorIsUnwrappable(t *testing.T) {
	c, mt, _ := mockClient(t, huawei.WithDomainID(fakeAcct))
	mt.RegisterResponder("GET", `=~^`+fakeEP+`/v2/orders/customer-orders/details/`, hwErr(404, "CBC.0101", "no such order"))
	_, err := c.Order(context.Background(), "CS123")
	require.ErrorIs(t, err, apierror.ErrNotFound)
	var sre *sdkerr.ServiceResponseError
	require.True(t, errors.As(err, &sre))
	assert.Equal(t, "CBC.0101", sre.ErrorCode)
	assert.Contains(t, err.Error(), "huawei-bss: ShowCustomerOrderDetails: HTTP 404 CBC.0101: no such order (requestId req-abc)")
}

func TestHuaweiRetryAfterHTTPDateAndOnTheError(t *testing.T) {
	c, mt, events := mockClient(t)
	at := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains",
		hwErr(429, "APIGW.0308", "slow down").HeaderAdd(http.Header{"Retry-After": {at}}).
			Then(hwErr(429, "APIGW.0308", "slow down").HeaderAdd(http.Header{"Retry-After": {"4"}})))
	_, err := c.AccountID(context.Background())
	var ae *apierror.Error
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, apierror.ErrRateLimited)
	assert.Equal(t, 4*time.Second, ae.RetryAfter, "the last answer's Retry-After")
	require.NotEmpty(t, *events)
	first := (*events)[0].Wait
	assert.Greater(t, first, time.Second, "an HTTP date is honoured")
	assert.LessOrEqual(t, first, 3*time.Second)
}

func TestHuaweiBSSQueryPOSTIsRetriedAsSigned(t *testing.T) {
	// The resources query is a POST but changes nothing: it is retried on
	// 5xx and connection errors, each attempt the request the SDK signed.
	c, mt, events := mockClient(t, huawei.WithDomainID(fakeAcct))
	var auths, dates []string
	n := 0
	mt.RegisterResponder("POST", fakeEP+"/v2/orders/suscriptions/resources/query", func(r *http.Request) (*http.Response, error) {
		auths = append(auths, r.Header.Get("Authorization"))
		dates = append(dates, r.Header.Get("X-Sdk-Date"))
		n++
		switch n {
		case 1:
			return hwErr(500, "CBC.0999", "busy")(r)
		case 2:
			return nil, errors.New("connection reset by peer")
		}
		return jsonOK(`{"total_count":0,"data":[]}`)(r)
	})
	_, err := c.ListPurchases(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Len(t, *events, 2)
	assert.Equal(t, []string{auths[0], auths[0], auths[0]}, auths)
	assert.Equal(t, []string{dates[0], dates[0], dates[0]}, dates)
}

func TestHuaweiNoRetryOutlivesTheSignature(t *testing.T) {
	// A wait that would end after RetrySignatureWindow is not waited: the
	// signed request would be refused by then. The last failure is returned.
	mt := httpmock.NewMockTransport()
	var events []retry.Event
	pol := retry.Policy{MaxRetries: 3, RetryAfterMax: time.Hour, NoJitter: true,
		Sleep:   func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		OnRetry: func(e retry.Event) { events = append(events, e) }}
	c, err := huawei.NewClient(huawei.WithCredentials("AKSIGWINDOW", "sk"), huawei.WithEndpoint(fakeEP),
		huawei.WithHTTPRoundTripper(mt), huawei.WithRetryPolicy(pol))
	require.NoError(t, err)
	long := int((huawei.RetrySignatureWindow + time.Minute) / time.Second)
	mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains",
		hwErr(503, "APIGW.0201", "busy").HeaderAdd(http.Header{"Retry-After": {strconv.Itoa(long)}}).Then(jsonOK(domainsOK)))
	_, err = c.AccountID(context.Background())
	var ae *apierror.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 503, ae.HTTPStatus)
	assert.Equal(t, 1, ae.Attempts)
	assert.Empty(t, events)

	mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains",
		hwErr(503, "APIGW.0201", "busy").HeaderAdd(http.Header{"Retry-After": {"60"}}).Then(jsonOK(domainsOK)))
	_, err = c.AccountID(context.Background())
	require.NoError(t, err, "a wait well inside the window is waited")
	require.Len(t, events, 1)
	assert.Equal(t, time.Minute, events[0].Wait)
}

func TestHuaweiNilContextIsRefused(t *testing.T) {
	c, mt, _ := mockClient(t)
	//lint:ignore SA1012 the test checks that a nil context is refused
	_, err := c.AccountID(nil) //nolint:staticcheck // the test checks that a nil context is refused
	require.ErrorIs(t, err, apierror.ErrValidation)
	assert.NotErrorIs(t, err, apierror.ErrTransport)
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestHuaweiNewClientListsEveryBadOption(t *testing.T) {
	_, err := huawei.NewClient(huawei.WithCredentials("", "SK"), huawei.WithRegion("Hong Kong"),
		huawei.WithEndpoint("http://user:pw-secret@127.0.0.1:1/prefix"), huawei.WithTimeout(0))
	var oe *apierror.OptionError
	require.ErrorAs(t, err, &oe)
	assert.ErrorIs(t, err, apierror.ErrValidation)
	assert.Equal(t, "huawei.NewClient", oe.Constructor)
	var fields []string
	for _, p := range oe.Problems {
		fields = append(fields, p.Field)
	}
	assert.Equal(t, []string{"WithCredentials", "WithRegion", "WithEndpoint", "WithTimeout"}, fields,
		"one problem per bad option; no second one for the credentials it refused")
	assert.NotContains(t, err.Error(), "pw-secret")

	_, err = huawei.NewClient()
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, []apierror.Problem{{Message: "credentials are required: use WithCredentials or WithCredentialsFromEnv"}}, oe.Problems)
}

func TestHuaweiUserAgentNamesTheModuleVersion(t *testing.T) {
	c, mt, _ := mockClient(t)
	var ua string
	mt.RegisterResponder("GET", fakeEP+"/v3/auth/domains", func(r *http.Request) (*http.Response, error) {
		ua = r.Header.Get("User-Agent")
		return jsonOK(domainsOK)(r)
	})
	_, err := c.AccountID(context.Background())
	require.NoError(t, err)
	assert.Contains(t, ua, "huaweicloud-usdk-go/3.0", "the SDK's own token stays")
	assert.Contains(t, ua, marketplace.UserAgent)
}
