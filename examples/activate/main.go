// Command activate runs a whole TrueWatch activation for a purchase on
// Huawei Cloud Marketplace.
//
// With no flags it is a demo of the whole flow, from the purchase: it
// starts the mock server in-process with the demo Huawei account (real-name
// verified, nothing bought yet), buys TrueWatch on the mock's KooGallery
// (which calls TrueWatch's production interface with a signed newInstance;
// the instance ID TrueWatch answers is what Purchased Services shows), then
// looks up the account ID and the instance ID through the Huawei APIs with
// the demo AK/SK, registers a TrueWatch and Billing Center account with its
// first workspace (reading verification codes from the mock's outbox),
// prints each step and the result, and runs again to show that a second
// run changes nothing:
//
//	go run ./examples/activate
//	go run ./examples/activate -link    # activate with the purchase's activation link instead
//
// The other branches run the same way; the demo first seeds what a
// customer on that branch already has (an existing Billing Center account,
// and a workspace billed to it or a TrueWatch account to create one for):
//
//	go run ./examples/activate -mode bind-workspace
//	go run ./examples/activate -mode create-workspace
//	go run ./examples/activate -mode register-workspace
//
// Given -billing-url (or TRUEWATCH_BILLING_URL) it targets real endpoints: the
// Huawei credentials come from the SDK's standard environment variables
// (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN),
// passwords from TRUEWATCH_PASSWORD, and verification codes are prompted for
// on the terminal. The Huawei credentials are required: besides looking the
// IDs up, they sign the proofs that you own the Huawei account, without
// which the Billing Center changes nothing (the secret key never leaves
// this process; -audience names the Billing Center in the proofs when it
// is not the -billing-url):
//
//	export TRUEWATCH_BILLING_URL=https://billing.example.com
//	export HUAWEICLOUD_SDK_AK=... HUAWEICLOUD_SDK_SK=... TRUEWATCH_PASSWORD=...
//	go run ./examples/activate -site ap1 -mode register -username ada \
//	    -email ada@example.com -company "Analytical Engines" -workspace production
//
// The same works against the standalone mock (go run ./cmd/truewatch-mock):
//
//	TRUEWATCH_PASSWORD=Correct-Horse-9 HUAWEICLOUD_SDK_AK=DEMOAKTRUEWATCHMOCK0001 \
//	HUAWEICLOUD_SDK_SK=demo-secret-key-0001-do-not-use-in-production \
//	go run ./examples/activate -billing-url http://127.0.0.1:8080/billing-center \
//	    -huawei-endpoint http://127.0.0.1:8080 -sites-base http://127.0.0.1:8080
//
// (codes are then read from http://127.0.0.1:8080/_mock/outbox and typed in).
//
// A buyer without Huawei credentials activates with the activation link
// Huawei Cloud's Purchased Services shows ("Start using"), which names the
// account and the instance and proves ownership of them:
//
//	TRUEWATCH_PASSWORD=... go run ./examples/activate -billing-url https://billing.example.com \
//	    -activation-link 'https://billing.example.com/activate?huaweiAccountId=...&instanceId=...&token=...'
//
// To see the activation in a tracing system (TrueWatch itself, through a
// DataKit), run the same command from the examples/otel module, which
// exports its traces and metrics over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT (or -otlp-endpoint) is set:
//
//	OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:9529/otel go run -C examples/otel .
//
// This build exports nothing (the exporter is kept out of this module's
// dependencies) and says so when that variable is set.
//
// Modes: register (no Billing Center account yet), bind-workspace,
// create-workspace and register-workspace (all three bind the existing
// Billing Center account named by -bc-username and -bc-email first). Add
// -plan to print the plan without changing anything, and -state DIR to
// checkpoint progress to files so that an interrupted run can be resumed.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/truewatch-labs/marketplace-go/examples/internal/activatecmd"
	"github.com/truewatch-labs/marketplace-go/examples/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(cli.ExitStatus("activate", err, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" {
		// The OTLP exporter would add gRPC and protobuf to every user's
		// module graph; the exporting build lives in its own module.
		fmt.Fprintln(stderr, "activate: OTEL_EXPORTER_OTLP_ENDPOINT is set, but this build exports nothing; "+
			"run the same command with OpenTelemetry export from the examples/otel module: go run -C examples/otel . [flags]")
	}
	return activatecmd.Run(ctx, "activate", "go run ./examples/activate", args,
		activatecmd.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv})
}
