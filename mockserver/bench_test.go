// Benchmarks of the mock's hot paths, in-process (no sockets):
//
//	go test -run '^$' -bench . -benchmem ./mockserver/
package mockserver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

func serve(b *testing.B, h http.Handler, method, path string, body any, header ...string) *httptest.ResponseRecorder {
	b.Helper()
	var rd *bytes.Reader
	if body != nil {
		raw, err := testkit.WireJSON(body)
		if err != nil {
			b.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: HTTP %d %s", method, path, rec.Code, rec.Body.String())
	}
	return rec
}

// proofFor signs a fresh ownership proof of account for the mock.
func proofFor(b *testing.B, srv *mockserver.Server, account string) string {
	b.Helper()
	p, err := srv.OwnershipProver(account).OwnershipProof(context.Background(), srv.Audience())
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkGetSubscription measures the read every activation starts with:
// without a proof (the status only) and with one (the complete answer; the
// mock checks the proof against its Huawei half, signature included; the
// proof is signed outside the timer).
func BenchmarkGetSubscription(b *testing.B) {
	srv, err := mockserver.New(mockserver.WithoutListener())
	if err != nil {
		b.Fatal(err)
	}
	path := routes.MockBillingPrefix + routes.GetSubscription + "?huaweiAccountId=" + mockserver.DemoHuaweiAccountID +
		"&instanceId=" + mockserver.DemoInstanceID
	h := srv.Handler()
	b.Run("public", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(b, h, http.MethodGet, path, nil)
		}
	})
	b.Run("proven", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			p := proofFor(b, srv, mockserver.DemoHuaweiAccountID)
			b.StartTimer()
			serve(b, h, http.MethodGet, path, nil, billing.ProofHeader, p)
		}
	})
}

// BenchmarkRegister measures a complete registration (code sent, account,
// Billing Center account, workspace and binding created) per iteration.
func BenchmarkRegister(b *testing.B) {
	srv, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithoutDemoFixture())
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		b.StopTimer()
		acct := fmt.Sprintf("%032x", i)
		inst := fmt.Sprintf("bench-%d", i)
		if err := srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: acct, Keys: []mockserver.AccessKey{{AK: "BENCHAK" + inst, SK: "sk"}}}); err != nil {
			b.Fatal(err)
		}
		if _, err := srv.AddPurchase(mockserver.Purchase{AccountID: acct, InstanceID: inst}); err != nil {
			b.Fatal(err)
		}
		email := fmt.Sprintf("user%d@example.com", i)
		p := proofFor(b, srv, acct)
		b.StartTimer()
		serve(b, h, http.MethodPost, routes.MockBillingPrefix+routes.SendCode,
			billing.SendCodeRequest{Email: email, Purpose: billing.PurposeRegister})
		code, _ := srv.LatestCode(email, billing.PurposeRegister)
		serve(b, h, http.MethodPost, routes.MockBillingPrefix+routes.Register, map[string]any{
			"site": "ap1", "username": fmt.Sprintf("user%d", i), "password": "Bench-Pass-1", "email": email,
			"emailCode": code, "company": map[string]string{"name": "Bench Ltd"}, "workspaceName": "prod",
			"workspaceLanguage": twapi.LanguageEN, "huaweiAccountId": acct, "instanceId": inst, "termsAccepted": true,
		}, billing.ProofHeader, p)
	}
}

// BenchmarkSendCode measures a code request, each to a new address, with
// the outbox below its limit (the floor: nothing is dropped) and full (the
// oldest email is dropped on every send). The two should cost the same:
// dropping is O(1).
//
//	go test -run '^$' -bench SendCode -benchmem ./mockserver/
func BenchmarkSendCode(b *testing.B) {
	limits := mockserver.OutboxLimits{PerAddress: 100, Total: 10000}
	for _, full := range []bool{false, true} {
		name := "outbox-below-limit"
		if full {
			name = "outbox-full"
		}
		b.Run(name, func(b *testing.B) {
			l := limits
			if !full {
				l.Total = 1 << 30
			}
			srv, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithoutDemoFixture(), mockserver.WithOutboxLimits(l))
			if err != nil {
				b.Fatal(err)
			}
			h := srv.Handler()
			path := routes.MockBillingPrefix + routes.SendCode
			i := 0
			send := func() {
				i++
				serve(b, h, http.MethodPost, path, billing.SendCodeRequest{Email: fmt.Sprintf("u%d@example.com", i), Purpose: billing.PurposeRegister})
			}
			for range limits.Total {
				send()
			}
			b.ReportAllocs()
			for b.Loop() {
				send()
			}
			if n := len(srv.Outbox()); full && n != limits.Total {
				b.Fatalf("outbox holds %d emails, want %d", n, limits.Total)
			}
		})
	}
}

// floorVendor answers newInstance with its businessId and nothing else.
type floorVendor struct{ koogallery.UnimplementedVendor }

func (floorVendor) NewInstance(_ context.Context, r *koogallery.NewInstanceRequest) (*koogallery.NewInstanceResult, error) {
	return &koogallery.NewInstanceResult{InstanceID: r.BusinessID, AppInfo: koogallery.AppInfo{FrontEndURL: "https://v.example/"}}, nil
}

// BenchmarkPlaceOrderVsBare measures a purchase through the mock's
// KooGallery, in-process: the order, a signed newInstance delivered to
// TrueWatch's own production interface (signature verified, the
// subscription and its activation link made), the purchase recorded in
// BSS. The floor, in the same run (testkit.Paired), is what any KooGallery
// call costs: the same kind of newInstance signed by koogallery.Caller and
// verified by koogallery.Handler in-process, with a vendor that does
// nothing.
//
//	go test -run '^$' -bench PlaceOrderVsBare -benchmem -benchtime 3000x -count 3 ./mockserver/
func BenchmarkPlaceOrderVsBare(b *testing.B) {
	ctx := context.Background()
	h, err := koogallery.NewHandler(mockserver.DemoKooGalleryKey, floorVendor{}, koogallery.WithoutIdempotency())
	if err != nil {
		b.Fatal(err)
	}
	signer, err := koogallery.NewSigner(mockserver.DemoKooGalleryKey)
	if err != nil {
		b.Fatal(err)
	}
	c, err := koogallery.NewCaller("http://vendor.invalid/produce", signer, koogallery.WithCallerHandler(h))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := mockserver.New(mockserver.WithoutListener())
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	n := 0
	testkit.Paired(b, func() error {
		n++
		req := &koogallery.NewInstanceRequest{Buyer: &koogallery.BuyerInfo{CustomerID: mockserver.DemoHuaweiAccountID},
			Orders: []koogallery.OrderInfo{{BusinessID: fmt.Sprintf("b-%d", n), OrderID: fmt.Sprintf("CS%d", n),
				OrderLineID: fmt.Sprintf("CS%d-000001", n), ExpireTime: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
				Products: []koogallery.ProductInfo{{SKUCode: "s", ProductID: mockserver.TrueWatchProductID}}}}}
		res, err := c.Send(ctx, req)
		if err == nil && res.ResultCode != koogallery.ResultSuccess {
			err = res.Err()
		}
		return err
	}, func() error {
		o, err := srv.PlaceOrder(ctx, mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID})
		if err == nil && o.Status != mockserver.OrderDelivered {
			err = fmt.Errorf("not delivered: %s", o.LastError)
		}
		return err
	})
}
