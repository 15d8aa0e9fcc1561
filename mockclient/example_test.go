package mockclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/truewatch-labs/marketplace-go/mockclient"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// A test suite drives a standalone mock (here one started in-process, on
// a port of 127.0.0.1): seed, script a fault, move the clock, read back.
func Example() {
	srv, err := mockserver.New() // stands for cmd/truewatch-mock at its URL
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	mc, err := mockclient.New(srv.URL())
	if err != nil {
		log.Fatal(err)
	}
	ba, err := mc.SeedBillingAccount(ctx, mockserver.BillingAccountSeed{Username: "acme", Email: "ops@acme.example"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ba.Username, ba.ID[:5])

	id, err := mc.InjectFault(ctx, mockserver.Fault{Operation: "billing.Register", Status: 503, Times: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id)

	before, _ := mc.Clock(ctx)
	after, err := mc.AdvanceClock(ctx, 48*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(after.Now.Sub(before.Now).Round(time.Hour))

	_, err = mc.Order(ctx, "no-such-order")
	var me *mockclient.Error
	if errors.As(err, &me) {
		fmt.Println(me.StatusCode)
	}
	// Output:
	// acme bcac_
	// fault-1
	// 48h0m0s
	// 404
}
