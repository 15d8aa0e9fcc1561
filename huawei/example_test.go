package huawei_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// demoClient returns a client on the mock server's demo account.
func demoClient(srv *mockserver.Server) *huawei.Client {
	c, err := huawei.NewClient(
		huawei.WithCredentials(mockserver.DemoAccessKey, mockserver.DemoSecretKey),
		huawei.WithEndpoint(srv.HuaweiEndpoint()),
	)
	if err != nil {
		panic(err)
	}
	return c
}

// Look up the account the credentials belong to.
func ExampleClient_AccountID() {
	srv, err := mockserver.New()
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	acc, err := demoClient(srv).AccountID(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(acc.ID, acc.Name, acc.Source)
	// Output: 0a1b2c3d4e5f40718293a4b5c6d7e8f9 demo-huawei-account iam
}

// Find the one TrueWatch purchase in use, the usual first step of an
// activation.
func ExampleClient_ActiveTrueWatchPurchase() {
	srv, err := mockserver.New()
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	p, err := demoClient(srv).ActiveTrueWatchPurchase(context.Background())
	var sel *huawei.PurchaseSelectionError
	switch {
	case errors.As(err, &sel) && errors.Is(err, apierror.ErrNotFound):
		fmt.Println("nothing to activate; candidates:", len(sel.Candidates))
	case errors.Is(err, huawei.ErrAmbiguous):
		fmt.Println("several purchases; ask which one")
	case err != nil:
		panic(err)
	default:
		fmt.Println(p.InstanceID, p.ProductID, p.Status)
	}
	// Output: tw-inst-7d7b0a7e1c2d4e5f OFFI845592654693900288 in use
}

// Iterate over every TrueWatch purchase, page by page.
func ExampleClient_Purchases() {
	srv, err := mockserver.New()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	if _, err := srv.AddPurchase(mockserver.Purchase{AccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: "tw-inst-second", Status: mockserver.PurchaseExpired}); err != nil {
		panic(err)
	}

	for p, err := range demoClient(srv).Purchases(context.Background(), &huawei.PurchaseQuery{Limit: 1}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(p.InstanceID, p.Status)
	}
	// Output:
	// tw-inst-7d7b0a7e1c2d4e5f in use
	// tw-inst-second expired
}

// Find the order that bought a purchase, e.g. to show what was paid for.
func ExampleClient_OrderFor() {
	srv, err := mockserver.New()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c := demoClient(srv)

	p, err := c.Purchase(ctx, mockserver.DemoInstanceID)
	if err != nil {
		panic(err)
	}
	o, err := c.OrderFor(ctx, *p)
	switch {
	case errors.Is(err, apierror.ErrNotFound):
		fmt.Println("no order matches; renewed since?")
	case errors.Is(err, huawei.ErrAmbiguous):
		fmt.Println("several orders match")
	case err != nil:
		panic(err)
	default:
		line := o.Lines[0]
		fmt.Println(o.Status, len(o.Lines), line.ProductID, line.PeriodNum, line.PeriodType == huawei.PeriodYear)
	}
	// Output: completed 1 OFFI845592654693900288 1 true
}

// BenchmarkListPurchases measures one page of purchases from the
// in-process mock, signature verification included.
//
//	go test -run '^$' -bench ListPurchases -benchmem ./huawei/
func BenchmarkListPurchases(b *testing.B) {
	srv := mockserver.Start(b)
	c, err := huawei.NewClient(huawei.WithCredentials(mockserver.DemoAccessKey, mockserver.DemoSecretKey),
		huawei.WithEndpoint(srv.HuaweiEndpoint()), huawei.WithDomainID(mockserver.DemoHuaweiAccountID))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ListPurchases(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
}
