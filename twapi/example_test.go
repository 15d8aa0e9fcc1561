package twapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// One option set configures both TrueWatch clients; each adds its own
// options, and a CallInfo tells how any call went.
func Example() {
	srv, err := mockserver.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	shared := []twapi.Option{
		twapi.WithHTTPClient(srv.HTTPClient()),
		twapi.WithLogger(slog.New(slog.DiscardHandler)),
		twapi.WithRetryPolicy(retry.Default()),
		twapi.WithUserAgent("provisioner/1.0"),
	}
	bc, err := billing.NewClient(append(shared, billing.WithBaseURL(srv.BillingURL()))...)
	if err != nil {
		fmt.Println(err)
		return
	}
	wc, err := workspace.NewClient(append(shared, workspace.WithEndpoints(srv.SiteEndpoints()))...)
	if err != nil {
		fmt.Println(err)
		return
	}

	var info twapi.CallInfo
	_, err = bc.SendVerificationCode(context.Background(),
		&billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister}, twapi.WithCallInfo(&info))
	fmt.Println(err, info.HTTPStatus, info.Attempts, info.IdempotencyKey != "")

	u, _ := wc.BaseURL(site.EU1)
	fmt.Println(strings.TrimPrefix(u, srv.URL()))

	// A client's own option is refused by the other client.
	_, err = workspace.NewClient(billing.WithBaseURL(srv.BillingURL()))
	fmt.Println(err)
	// Output:
	// <nil> 200 1 true
	// /sites/eu1/console-api
	// workspace.NewClient: invalid options: WithBaseURL: is an option of billing.NewClient, not of workspace.NewClient
}
