package mockserver_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truewatch-labs/marketplace-go/internal/hwsign"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// loadCallers and loadEach shape one iteration of BenchmarkMockVsBare: a
// batch of loadCallers*loadEach requests from loadCallers concurrent
// callers.
const loadCallers, loadEach = 16, 16

// loadReq builds the i-th request of a workload for base (the mock's URL
// or the bare server's); a request must be built anew for each send (a
// fresh address, a fresh signature).
type loadReq func(base string, i int64) (*http.Request, error)

// loadGen is the load generator both servers get: the same client, the
// same requests, the same number of concurrent callers.
type loadGen struct {
	hc   *http.Client
	n    atomic.Int64
	reqs []loadReq // the mix: request i is reqs[i%len(reqs)]
}

// batch sends one batch to base and checks every answer is a 200.
func (g *loadGen) batch(base string) error {
	var wg sync.WaitGroup
	errs := make(chan error, loadCallers)
	for range loadCallers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range loadEach {
				i := g.n.Add(1)
				req, err := g.reqs[i%int64(len(g.reqs))](base, i)
				if err == nil {
					err = g.send(req)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (g *loadGen) send(req *http.Request) error {
	resp, err := g.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return nil
}

// readReq is a subscription lookup without a proof, the read every
// activation starts with.
func readReq(base string, _ int64) (*http.Request, error) {
	return http.NewRequest(http.MethodGet, base+routes.MockBillingPrefix+routes.GetSubscription+
		"?huaweiAccountId="+mockserver.DemoHuaweiAccountID+"&instanceId="+mockserver.DemoInstanceID, nil)
}

// writeReq is a code request to a new address, with an Idempotency-Key,
// as the billing client sends it.
func writeReq(base string, i int64) (*http.Request, error) {
	body := fmt.Sprintf(`{"email":"load%d@example.com","purpose":"register"}`, i)
	req, err := http.NewRequest(http.MethodPost, base+routes.MockBillingPrefix+routes.SendCode, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(mockserver.IdempotencyKeyHeader, fmt.Sprintf("load-%d", i))
	return req, nil
}

// bssReq is a signed BSS query (ListPayPerUseCustomerResources) of the
// demo account, signed as the SDK signs it.
func bssReq(base string, _ int64) (*http.Request, error) {
	body := []byte(`{"limit":10,"offset":0}`)
	req, err := http.NewRequest(http.MethodPost, base+"/v2/orders/suscriptions/resources/query", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	hwsign.Sign(req, body, mockserver.DemoAccessKey, mockserver.DemoSecretKey, time.Now())
	return req, nil
}

// BenchmarkMockVsBare is the mock's throughput under concurrent load
// beside a bare net/http JSON handler's (testkit.BareHandler: it decodes
// the request body and writes the bytes the mock answered), under the
// same load generator in the same run (testkit.Paired): one iteration is
// a batch of 256 requests from 16 concurrent callers over loopback, to
// each server. The mock's throughput over the floor's is 1/median-ratio
// (the target, at least 0.8 of the floor's, is a median-ratio of at most
// 1.25).
//
//	go test -run '^$' -bench MockVsBare -benchmem -benchtime 300x -count 3 ./mockserver/
func BenchmarkMockVsBare(b *testing.B) {
	workloads := []struct {
		name string
		reqs []loadReq
	}{
		{"read", []loadReq{readReq}},
		{"write", []loadReq{writeReq}},
		{"bss", []loadReq{bssReq}},
		{"mixed", []loadReq{readReq, writeReq, readReq, bssReq}},
	}
	for _, w := range workloads {
		b.Run("workload="+w.name, func(b *testing.B) {
			srv, err := mockserver.New(mockserver.WithOutboxLimits(mockserver.OutboxLimits{PerAddress: 10, Total: 10000}))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(srv.Close)
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.MaxIdleConnsPerHost = loadCallers
			b.Cleanup(t.CloseIdleConnections)
			g := &loadGen{hc: &http.Client{Transport: t}, reqs: w.reqs}

			// The mock's answers, one per request kind, for the floor.
			rec := &testkit.Recording{Next: t}
			recorder := &loadGen{hc: &http.Client{Transport: rec}}
			for _, r := range w.reqs {
				req, err := r(srv.URL(), -1-recorder.n.Add(1))
				if err == nil {
					err = recorder.send(req)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			bare := httptest.NewServer(testkit.BareHandler(rec.Take()))
			b.Cleanup(bare.Close)

			testkit.Paired(b, func() error { return g.batch(bare.URL) }, func() error { return g.batch(srv.URL()) })
			b.ReportMetric(loadCallers*loadEach, "requests/op")
		})
	}
}
