// Benchmarks of a whole activation against the mock, every HTTP call,
// Huawei signature, proof of ownership and checkpoint included, beside the
// floor of the same round trips in the same run (docs/benchmarks.md):
//
//	go test -run '^$' -bench . -benchmem ./truewatch/
package truewatch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

// benchTenants seeds tenants into a mock: a Huawei account with a key and
// a TrueWatch purchase each, and the register activation of each.
type benchTenants struct {
	srv   *mockserver.Server
	codes truewatch.CodeProvider
	hc    *http.Client          // nil: the server's
	base  *truewatch.Activation // what every tenant's activation derives from, as a service's would
	n     int
}

// use sends the tenants' activations through hc (nil: the server's client).
func (t *benchTenants) use(hc *http.Client) { t.hc, t.base = hc, nil }

// next seeds a tenant and returns its activation.
func (t *benchTenants) next() (*truewatch.Activation, error) {
	t.n++
	i := t.n
	acct, ak := fmt.Sprintf("%032x", 0xbe0000+i), fmt.Sprintf("BENCHACT%06d", i)
	if err := t.srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: acct, Keys: []mockserver.AccessKey{{AK: ak, SK: "bench-sk"}}}); err != nil {
		return nil, err
	}
	if _, err := t.srv.AddPurchase(mockserver.Purchase{AccountID: acct, InstanceID: fmt.Sprintf("bench-act-%06d", i)}); err != nil {
		return nil, err
	}
	if t.base == nil {
		t.base = truewatchtest.Activation(t.srv).WithSite(truewatch.SiteAP1).WithCodes(t.codes)
		if t.hc != nil {
			t.base = t.base.WithHTTPClient(t.hc)
		}
	}
	a := t.base.WithHuaweiCredentials(ak, secret.String("bench-sk")).
		Register(truewatch.RegisterInfo{Username: fmt.Sprintf("bench%06d", i), Password: "Bench-Pass-1", PasswordConfirm: "Bench-Pass-1",
			Email: fmt.Sprintf("bench%06d@example.com", i), Company: billing.Company{Name: "Bench Ltd"},
			WorkspaceName: "prod", WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true})
	return a, nil
}

func newBenchTenants(b *testing.B, opts ...mockserver.Option) *benchTenants {
	srv, err := mockserver.New(append([]mockserver.Option{mockserver.WithoutDemoFixture()}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	return &benchTenants{srv: srv, codes: truewatch.CodesFromOutbox(srv)}
}

// stsExchange is the round trip each proof of ownership costs the
// Billing Center: the signed STS GetCallerIdentity it sends to Huawei
// (the mock sends it to its own STS handler, in memory).
var stsExchange = testkit.Exchange{Method: http.MethodGet, Path: "/v5/caller-identity", Status: http.StatusOK,
	Answer: []byte(`{"account_id":"0123456789abcdef0123456789abcdef","principal_id":"0123456789abcdef0123456789abcdef",` +
		`"principal_urn":"iam::0123456789abcdef0123456789abcdef:user:bench"}`)}

// BenchmarkActivationVsFloor is a whole activation of a fresh tenant
// (op=register: account and instance looked up through IAM and BSS, the
// subscription read, a code sent and read, the registration made) or a
// run that finds it done (op=activated: the look-ups and the
// subscription), beside its floor in the same run (testkit.Paired): the
// same round trips, their recorded requests and answers, between
// net/http and encoding/json alone (testkit.BareHandler), over the same
// network; and one more in memory for each proof of ownership, which the
// Billing Center checks with Huawei STS (register: 5 round trips and 2
// proofs; activated: 3 and 1).
func BenchmarkActivationVsFloor(b *testing.B) {
	for _, network := range []string{"loopback", "memory"} {
		for _, op := range []string{"register", "activated"} {
			b.Run("net="+network+"/op="+op, func(b *testing.B) {
				var opts []mockserver.Option
				if network == "memory" {
					opts = append(opts, mockserver.WithoutListener())
				}
				t := newBenchTenants(b, opts...)
				ctx := context.Background()

				// The exchanges of one activation, recorded.
				rec := &testkit.Recording{Next: t.srv.HTTPClient().Transport}
				t.use(&http.Client{Transport: rec})
				a, err := t.next()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := a.Run(ctx); err != nil {
					b.Fatal(err)
				}
				exchanges, proofs := rec.Take(), 2
				if op == "activated" {
					if _, err := a.Run(ctx); err != nil {
						b.Fatal(err)
					}
					exchanges, proofs = rec.Take(), 1
				}
				t.use(nil)

				bare := testkit.BareHandler(append([]testkit.Exchange{stsExchange}, exchanges...))
				memHC, base := &http.Client{Transport: testkit.HandlerTransport{H: bare}}, "http://bare.invalid"
				hc := memHC
				if network == "loopback" {
					s := httptest.NewServer(bare)
					b.Cleanup(s.Close)
					hc, base = &http.Client{Transport: benchTransport()}, s.URL
				}
				floor := func() error {
					for _, e := range exchanges {
						if err := testkit.BareRoundTrip(ctx, hc, base, e); err != nil {
							return err
						}
					}
					for range proofs {
						if err := testkit.BareRoundTrip(ctx, memHC, "http://bare.invalid", stsExchange); err != nil {
							return err
						}
					}
					return nil
				}
				prepare := func() error {
					if a, err = t.next(); err != nil {
						return err
					}
					if op == "activated" {
						_, err = a.Run(ctx)
					}
					return err
				}
				testkit.PairedPrepared(b, prepare, floor, func() error {
					_, err := a.Run(ctx)
					return err
				})
				b.ReportMetric(float64(len(exchanges)+proofs), "round-trips")
			})
		}
	}
}

// benchTransport is the floor's client transport over loopback: what the
// mock's HTTPClient uses, net/http's default.
func benchTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

// BenchmarkActivationRegister is a first activation: account and instance
// looked up through IAM and BSS, the subscription read, a code sent and
// read, the registration made.
func BenchmarkActivationRegister(b *testing.B) { benchActivation(b, false) }

// BenchmarkActivationAlreadyActivated is a second run of the same
// activation: read-only discovery that finds nothing to do.
func BenchmarkActivationAlreadyActivated(b *testing.B) { benchActivation(b, true) }

func benchActivation(b *testing.B, check bool) {
	t := newBenchTenants(b, mockserver.WithoutListener())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		act, err := t.next()
		if err != nil {
			b.Fatal(err)
		}
		if check {
			if _, err := act.Run(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if _, err := act.Run(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
