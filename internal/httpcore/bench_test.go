// Benchmarks of the HTTP core's hot path: one call through the retry layer
// with envelope decoding. Run them with:
//
//	go test -run '^$' -bench . -benchmem ./internal/httpcore/ ./site/
package httpcore_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"

	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
)

func BenchmarkDo(b *testing.B) {
	list := make([]item, 20)
	for i := range list {
		list[i] = item{ID: "wksp_0123456789abcdef0123456789abcdef", Name: "production"}
	}
	body := testkit.Envelope(200, map[string]any{"data": list}, &httpcore.PageInfo{Count: 20, PageIndex: 1, PageSize: 20, TotalCount: 100}, "", "")
	for _, bc := range []struct {
		name   string
		method string
	}{{"GET list", http.MethodGet}, {"POST", http.MethodPost}} {
		b.Run(bc.name, func(b *testing.B) {
			mt := httpmock.NewMockTransport()
			mt.RegisterNoResponder(testkit.Raw(200, body))
			c, err := httpcore.New(httpcore.Config{Service: "billing", BaseURL: "https://api.test", HTTPClient: &http.Client{Transport: mt}})
			if err != nil {
				b.Fatal(err)
			}
			req := httpcore.Request{Operation: "List", Method: bc.method, Path: "/api/v1/list", Token: "tok"}
			if bc.method == http.MethodPost {
				req.Body = map[string]string{"workspaceUUID": "wksp_0123456789abcdef0123456789abcdef"}
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				var out []item
				if _, _, err := c.Do(ctx, req, &out); err != nil || len(out) != 20 {
					b.Fatal(err, len(out))
				}
			}
		})
	}
}
