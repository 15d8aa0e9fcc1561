package mockserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// FuzzMarketplaceControl posts arbitrary bodies to the marketplace's
// control routes (orders, lifecycle actions, the clock, order views) and
// requires a 2xx or 4xx answer in the control plane's shape (never a 5xx,
// never a crash) and a consistent state after it. Plain `go test` runs
// the seed corpus.
func FuzzMarketplaceControl(f *testing.F) {
	srv, err := New(WithoutListener(), WithMaxBodyBytes(4096), WithClock(NewManualClock(testStart)),
		WithDeliveryPolicy(DeliveryPolicy{Attempts: 3}))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)
	routes := []string{"/_mock/marketplace/orders", "/_mock/clock", "/_mock/purchases/" + DemoInstanceID + "/renew",
		"/_mock/purchases/" + DemoInstanceID + "/upgrade", "/_mock/purchases/" + DemoInstanceID + "/freeze",
		"/_mock/purchases/" + DemoInstanceID + "/unfreeze", "/_mock/purchases/" + DemoInstanceID + "/expire",
		"/_mock/marketplace/orders/CS0000000000ABCDE/view"}
	for i, body := range []string{
		`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","periodMonths":1}`, `{"advance":"3m"}`, `{"periodMonths":12}`,
		`{"skuCode":"pro"}`, ``, `{}`, `{"set":"2099-01-01T00:00:00Z"}`, `null`, `[]`, `{"periodMonths":1e9}`,
		`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","skuCode":"\u0000"}`, `{"advance":"9223372036854775807ns"}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	hc := srv.HTTPClient()
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := routes[int(route)%len(routes)]
		req, err := http.NewRequest(http.MethodPost, srv.URL()+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("POST %s %q: HTTP %d %s", path, body, resp.StatusCode, raw)
		}
		if resp.StatusCode >= 400 {
			var e controlErr
			if err := json.Unmarshal(raw, &e); err != nil || e.Error == "" {
				t.Fatalf("POST %s: HTTP %d without an error body: %s", path, resp.StatusCode, raw)
			}
		}
		srv.requireConsistent(t)
	})
}
