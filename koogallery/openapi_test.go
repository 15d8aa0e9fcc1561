package koogallery

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/hwsign"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
)

const (
	testAK                = "DEMOSELLERAK0001"
	testSK  secret.String = "demo-seller-secret-key-0001"
	orderOK               = `{"resultCode":"MKT.0000","resultMsg":"success","orderInfo":{"orderId":"MOCKPERIODYEARNEW","orderType":"NEW","createTime":"20221024194509","customerId":"c-1","orderAmount":"12.78","orderLine":[{"orderLineId":"MOCKPERIODYEARNEW-000001","chargingMode":"PERIOD","periodType":"year","periodNumber":1,"expireTime":"20231024194509","productInfo":[{"productId":"OFFI1","skuCode":"sku-1","linearValue":20}]}]}}`
)

// openAPIServer answers like KooGallery's Open API behind Huawei's gateway:
// it verifies SDK-HMAC-SHA256 with the internal verifier (the one the mock
// uses), then replies from reply.
type openAPIServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	reply    func(n int, r *http.Request) (int, string)
}

func newOpenAPIServer(t *testing.T, reply func(n int, r *http.Request) (int, string)) *openAPIServer {
	s := &openAPIServer{reply: reply}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, err := hwsign.Verify(r, body, func(ak string) (hwsign.Key, bool) {
			return hwsign.Key{SK: testSK.Reveal()}, ak == testAK
		}, time.Now())
		s.mu.Lock()
		s.requests = append(s.requests, r)
		n := len(s.requests)
		s.mu.Unlock()
		w.Header().Set("X-Request-Id", "req-1")
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error_code":"APIGW.0301","error_msg":"`+err.Error()+`"}`)
			return
		}
		status, out := reply(n, r)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, out)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *openAPIServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func noWait() retry.Policy {
	return retry.Policy{MaxRetries: 3, Sleep: func(context.Context, time.Duration) error { return nil }}
}

func TestQueryOrder(t *testing.T) {
	srv := newOpenAPIServer(t, func(_ int, r *http.Request) (int, string) {
		if r.URL.Path != QueryOrderPath || r.URL.Query().Get("orderId") != "MOCKPERIODYEARNEW" ||
			r.URL.Query().Get("orderLineId") != "MOCKPERIODYEARNEW-000001" || r.Method != http.MethodGet {
			return 400, `{"resultCode":"CBC.0100","resultMsg":"bad request"}`
		}
		return 200, orderOK
	})
	c, err := NewOpenAPIClient(testAK, testSK, WithOpenAPIEndpoint(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.QueryOrder(context.Background(), "MOCKPERIODYEARNEW", "MOCKPERIODYEARNEW-000001")
	if err != nil {
		t.Fatal(err)
	}
	if o.OrderID != "MOCKPERIODYEARNEW" || o.OrderType != "NEW" || o.OrderAmount != "12.78" || len(o.Lines) != 1 ||
		o.Lines[0].PeriodNumber != "1" || o.Lines[0].Products[0].SKUCode != "sku-1" || !strings.Contains(string(o.Raw), `"customerId":"c-1"`) {
		t.Errorf("%+v", o)
	}
	authz := srv.requests[0].Header.Get("Authorization")
	if !strings.HasPrefix(authz, "SDK-HMAC-SHA256 Access="+testAK+", SignedHeaders=host;x-sdk-date, Signature=") {
		t.Errorf("Authorization %q", authz)
	}
}

func TestQueryOrderErrors(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		code    string
		is      []error
		retries bool
	}{
		{"illegal operation", 401, `{"resultCode":"CBC.0150","resultMsg":"Illegal operation"}`, "CBC.0150",
			[]error{apierror.ErrUnauthorized, apierror.ErrForbidden}, false},
		{"no authority", 401, `{"resultCode":"CBC.0151","resultMsg":"no authority"}`, "CBC.0151", []error{apierror.ErrForbidden}, false},
		{"not found", 500, `{"resultCode":"MKT.9001","resultMsg":"instance not found"}`, "MKT.9001",
			[]error{apierror.ErrNotFound, apierror.ErrServer}, false},
		{"CBC not found", 500, `{"error_code":"CBC.9001","error_msg":"not found","extra_info":{}}`, "CBC.9001", []error{apierror.ErrNotFound}, false},
		{"rate limited", 406, `{"resultCode":"CBC.0250","resultMsg":"flow control"}`, "CBC.0250", []error{apierror.ErrRateLimited}, true},
		{"unavailable", 503, `<html>`, "", []error{apierror.ErrServer}, true},
		{"200 with a failure code", 200, `{"resultCode":"CBC.0154","resultMsg":"illegal token"}`, "CBC.0154", nil, false},
		{"200 without orderInfo", 200, `{"resultCode":"MKT.0000","resultMsg":"success"}`, "MKT.0000", nil, false},
		{"200 not JSON", 200, `nope`, "", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newOpenAPIServer(t, func(int, *http.Request) (int, string) { return c.status, c.body })
			cl, _ := NewOpenAPIClient(testAK, testSK, WithOpenAPIEndpoint(srv.URL), WithOpenAPIRetry(noWait()))
			_, err := cl.QueryOrder(context.Background(), "CS1", "")
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Service != OpenAPIService || ae.Operation != "QueryOrder" || ae.ErrorCode != c.code ||
				ae.HTTPStatus != c.status || ae.RequestID != "req-1" {
				t.Fatalf("%#v", err)
			}
			for _, s := range c.is {
				if !errors.Is(err, s) {
					t.Errorf("not %v: %v", s, err)
				}
			}
			want := 1
			if c.retries {
				want = 4
			}
			if srv.count() != want || ae.Attempts != want {
				t.Errorf("%d requests, %d attempts, want %d", srv.count(), ae.Attempts, want)
			}
		})
	}
}

func TestQueryOrderWrongSecretIsUnauthorized(t *testing.T) {
	srv := newOpenAPIServer(t, func(int, *http.Request) (int, string) { return 200, orderOK })
	cl, _ := NewOpenAPIClient(testAK, "wrong-secret", WithOpenAPIEndpoint(srv.URL))
	_, err := cl.QueryOrder(context.Background(), "CS1", "")
	if !errors.Is(err, apierror.ErrUnauthorized) || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("%v", err)
	}
}

// The primary host fails; the next attempt goes to the fallback.
func TestQueryOrderFallbackHost(t *testing.T) {
	down := newOpenAPIServer(t, func(int, *http.Request) (int, string) { return 502, `bad gateway` })
	up := newOpenAPIServer(t, func(int, *http.Request) (int, string) { return 200, orderOK })
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	for name, primary := range map[string]string{"502": down.URL, "connection refused": closedURL} {
		cl, _ := NewOpenAPIClient(testAK, testSK, WithOpenAPIEndpoint(primary, up.URL), WithOpenAPIRetry(noWait()))
		if o, err := cl.QueryOrder(context.Background(), "CS1", ""); err != nil || o.OrderID != "MOCKPERIODYEARNEW" {
			t.Errorf("%s: %v", name, err)
		}
	}
	var ae *apierror.Error
	cl, _ := NewOpenAPIClient(testAK, testSK, WithOpenAPIEndpoint(closedURL), WithOpenAPIRetry(noWait()))
	if _, err := cl.QueryOrder(context.Background(), "CS1", ""); !errors.Is(err, apierror.ErrTransport) || !errors.As(err, &ae) || ae.Attempts != 4 {
		t.Errorf("all hosts down: %v", err)
	}
}

func TestQueryOrderValidation(t *testing.T) {
	cl, _ := NewOpenAPIClient(testAK, testSK, WithOpenAPIEndpoint("http://127.0.0.1:1"))
	for _, c := range []struct{ order, line string }{{"", ""}, {" ", ""}, {strings.Repeat("o", 65), ""}, {"o", strings.Repeat("l", 65)}, {"o\n", ""}} {
		if _, err := cl.QueryOrder(context.Background(), c.order, c.line); !errors.Is(err, apierror.ErrValidation) {
			t.Errorf("%q %q: %v", c.order, c.line, err)
		}
	}
	//lint:ignore SA1012 a nil context is refused, not dereferenced
	if _, err := cl.QueryOrder(nil, "o", ""); !errors.Is(err, apierror.ErrValidation) { //nolint:staticcheck
		t.Errorf("nil ctx: %v", err)
	}
}

func TestQueryOrderCancelled(t *testing.T) {
	srv := newOpenAPIServer(t, func(int, *http.Request) (int, string) { return 503, `` })
	ctx, cancel := context.WithCancel(context.Background())
	p := retry.Policy{MaxRetries: 3, Sleep: func(context.Context, time.Duration) error { cancel(); return context.Canceled }}
	cl, _ := NewOpenAPIClient(testAK, testSK, WithOpenAPIEndpoint(srv.URL), WithOpenAPIRetry(p))
	_, err := cl.QueryOrder(ctx, "CS1", "")
	if !errors.Is(err, context.Canceled) || errors.Is(err, apierror.ErrTransport) {
		t.Errorf("%v", err)
	}
}

func TestOpenAPIOptions(t *testing.T) {
	for _, o := range []OpenAPIOption{WithSite(Site(9)), WithOpenAPIEndpoint("ftp://x"), WithOpenAPIEndpoint("https://x/path"),
		WithOpenAPIEndpoint("https://u:p@x"), WithOpenAPIHTTPClient(nil), WithOpenAPILogger(nil), WithOpenAPIClock(nil), nil} {
		if _, err := NewOpenAPIClient(testAK, testSK, o); err == nil {
			t.Error("option accepted")
		}
	}
	for _, ak := range []string{"", "a b", strings.Repeat("a", 129)} {
		if _, err := NewOpenAPIClient(ak, testSK); err == nil {
			t.Errorf("AK %q accepted", ak)
		}
	}
	if _, err := NewOpenAPIClient(testAK, ""); err == nil {
		t.Error("empty SK accepted")
	}
	c, err := NewOpenAPIClient(testAK, testSK, WithSite(SiteChina))
	if err != nil || len(c.cfg.endpoints) != 2 || c.cfg.endpoints[1] != EndpointChinaFallback {
		t.Errorf("%v %v", c.cfg.endpoints, err)
	}
	c, _ = NewOpenAPIClient(testAK, testSK)
	if c.cfg.endpoints[0] != EndpointInternational {
		t.Errorf("default %v", c.cfg.endpoints)
	}
	if strings.Contains(strings.Join([]string{c.sk.String()}, ""), testSK.Reveal()) {
		t.Error("SK printable")
	}
}
