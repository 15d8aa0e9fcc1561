// Benchmarks of a whole activation against the in-process mock (no
// sockets): every HTTP call, Huawei signature and checkpoint included.
//
//	go test -run '^$' -bench . -benchmem ./truewatch/
package truewatch_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

func benchActivation(b *testing.B, check bool) {
	srv, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithoutDemoFixture())
	if err != nil {
		b.Fatal(err)
	}
	codes := truewatch.CodesFromOutbox(srv)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		b.StopTimer()
		acct, ak := fmt.Sprintf("%032x", 0xbe0000+i), fmt.Sprintf("BENCHACT%06d", i)
		if err := srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: acct, Keys: []mockserver.AccessKey{{AK: ak, SK: "bench-sk"}}}); err != nil {
			b.Fatal(err)
		}
		if _, err := srv.AddPurchase(mockserver.Purchase{AccountID: acct, InstanceID: fmt.Sprintf("bench-act-%06d", i)}); err != nil {
			b.Fatal(err)
		}
		act := truewatchtest.Activation(srv).WithHuaweiCredentials(ak, secret.String("bench-sk")).
			WithSite(truewatch.SiteAP1).WithCodes(codes).
			Register(truewatch.RegisterInfo{Username: fmt.Sprintf("bench%06d", i), Password: "Bench-Pass-1", PasswordConfirm: "Bench-Pass-1",
				Email: fmt.Sprintf("bench%06d@example.com", i), Company: billing.Company{Name: "Bench Ltd"},
				WorkspaceName: "prod", WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true})
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

// BenchmarkActivationRegister is a first activation: account and instance
// looked up through IAM and BSS, the subscription read, a code sent and
// read, the registration made.
func BenchmarkActivationRegister(b *testing.B) { benchActivation(b, false) }

// BenchmarkActivationAlreadyActivated is a second run of the same
// activation: read-only discovery that finds nothing to do.
func BenchmarkActivationAlreadyActivated(b *testing.B) { benchActivation(b, true) }
