// Benchmarks of the HTTP core's hot path: one call through the retry layer
// with envelope decoding, alone and beside a bare net/http + encoding/json
// round trip in the same run. Run them with:
//
//	go test -run '^$' -bench . -benchmem ./internal/httpcore/ ./site/
//	go test -run '^$' -bench DoVsBare -benchmem -benchtime 5000x -count 5 ./internal/httpcore/
package httpcore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jarcoal/httpmock"

	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/oteltest"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
)

// benchList is a page of 20 workspaces in a TrueWatch envelope.
func benchList() string {
	list := make([]item, 20)
	for i := range list {
		list[i] = item{ID: "wksp_0123456789abcdef0123456789abcdef", Name: "production"}
	}
	return testkit.Envelope(200, map[string]any{"data": list}, &httpcore.PageInfo{Count: 20, PageIndex: 1, PageSize: 20, TotalCount: 100}, "", "")
}

func benchRequest(method string) httpcore.Request {
	req := httpcore.Request{Operation: "List", Method: method, Path: "/api/v1/list", Token: "tok"}
	if method == http.MethodPost {
		req.Body = map[string]string{"workspaceUUID": "wksp_0123456789abcdef0123456789abcdef"}
	}
	return req
}

func BenchmarkDo(b *testing.B) {
	body := benchList()
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
			req := benchRequest(bc.method)
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

// bareCall is the floor: the same request and decoding with net/http and
// encoding/json alone (no retries, no idempotency key, no logging).
func bareCall(ctx context.Context, hc *http.Client, base string, r httpcore.Request, out *[]item) error {
	var body io.Reader
	if r.Body != nil {
		b, err := json.Marshal(r.Body)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, base+r.Path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	req.Header.Set("Authorization", "Bearer "+r.Token)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env httpcore.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return err
	}
	var content struct {
		Data *[]item `json:"data"`
	}
	content.Data = out
	if err := json.Unmarshal(env.Content, &content); err != nil {
		return err
	}
	if !env.Success || len(*out) != 20 {
		return errors.New("unexpected answer")
	}
	return nil
}

// BenchmarkDoVsBare puts a call through the core beside the bare round trip
// in the same run (testkit.Paired), in memory (an httpmock transport) and
// over loopback (an httptest server).
func BenchmarkDoVsBare(b *testing.B) {
	body := benchList()
	for _, env := range []string{"memory", "loopback"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			b.Run("net="+env+"/method="+method, func(b *testing.B) {
				var hc *http.Client
				base := "https://api.test"
				if env == "memory" {
					mt := httpmock.NewMockTransport()
					mt.RegisterNoResponder(testkit.Raw(200, body))
					hc = &http.Client{Transport: mt}
				} else {
					srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						_, _ = io.Copy(io.Discard, r.Body)
						w.Header().Set("Content-Type", "application/json")
						_, _ = io.WriteString(w, body)
					}))
					b.Cleanup(srv.Close)
					hc, base = srv.Client(), srv.URL
				}
				c, err := httpcore.New(httpcore.Config{Service: "billing", BaseURL: base, HTTPClient: hc})
				if err != nil {
					b.Fatal(err)
				}
				req := benchRequest(method)
				ctx := context.Background()
				testkit.Paired(b, func() error {
					var out []item
					return bareCall(ctx, hc, base, req, &out)
				}, func() error {
					var out []item
					_, _, err := c.Do(ctx, req, &out)
					if err == nil && len(out) != 20 {
						err = errors.New("unexpected answer")
					}
					return err
				})
			})
		}
	}
}

// BenchmarkDoTraced is the cost of tracing and measuring an attempt: a
// call with an SDK tracer (every span sampled, kept in memory) and meter
// beside the same call with the global no-op providers, in the same run.
//
//	go test -run '^$' -bench DoTraced -benchmem -benchtime 3000x -count 3 ./internal/httpcore/
func BenchmarkDoTraced(b *testing.B) {
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(testkit.Raw(200, benchList()))
	h := oteltest.New(b)
	client := func(tel telemetry.Providers) *httpcore.Client {
		c, err := httpcore.New(httpcore.Config{Service: "billing", BaseURL: "https://api.test", HTTPClient: &http.Client{Transport: mt},
			Telemetry: tel})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	plain, traced := client(telemetry.Providers{}), client(telemetry.Providers{Tracer: h.Tracer, Meter: h.Meter})
	req := benchRequest(http.MethodPost)
	call := func(c *httpcore.Client) func() error {
		return func() error {
			var out []item
			_, _, err := c.Do(context.Background(), req, &out)
			return err
		}
	}
	testkit.Paired(b, call(plain), call(traced))
}
